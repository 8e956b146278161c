"""Every design --top returns is a valid spec whose shapes and parameter counts match torch."""
from __future__ import annotations

from pathlib import Path

import pytest

from archspec.design import load_problem, top
from archspec.design.write import design_yaml
from archspec.validation import check_text

torch = pytest.importorskip("torch")
nn = torch.nn

ROOT = Path(__file__).resolve().parent.parent
CASES = [(ROOT / "specs/seed/q6-design.yaml", 4), (ROOT / "specs/examples/small-design-rules.yaml", 3)]


def run_torch(layers, shape):
    """Build the torch modules a design means, by hand (not through archspec), running a zero tensor
    through them as they are built; returns (output shape after each layer as H, W, C or N, params)."""
    h, w, c = shape
    x, modules, shapes = torch.zeros(1, c, h, w), [], []
    for layer in layers:
        make = {"conv2d": lambda: nn.Conv2d(x.shape[1], layer.out_channels, layer.kernel_size, layer.stride,
                                            layer.padding),
                "maxpool2d": lambda: nn.MaxPool2d(layer.kernel_size, layer.stride),
                "relu": nn.ReLU, "flatten": nn.Flatten,
                "linear": lambda: nn.Linear(x.shape[1], layer.out_features)}[layer.type]
        modules.append(make())
        x = modules[-1](x)
        shapes.append(tuple(x.shape[1:]) if x.dim() == 2 else (x.shape[2], x.shape[3], x.shape[1]))
    return shapes, sum(p.numel() for p in nn.Sequential(*modules).parameters())


@pytest.mark.parametrize("path,k", CASES, ids=lambda v: getattr(v, "stem", str(v)))
@pytest.mark.parametrize("by", ["params", "macs", "memory", "depth"])
def test_top_designs_validate_and_match_torch(path, k, by):
    problem = load_problem(path)
    designs = top(problem.space, k, by)
    assert len(designs) == k
    for d in designs:
        report = check_text(design_yaml(problem, d, by), str(path))  # archspec's own validator
        assert report.valid, report.text()
        assert report.spec.shapes().params == d.params and report.spec.shapes().macs == d.macs
        shapes, params = run_torch(d.layers, problem.input)
        assert shapes == [info.output for info in d.report.layers]
        assert params == d.params
