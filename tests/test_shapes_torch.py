"""Shape inference agrees with torch: on every cnn spec and on random stacks."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.cnn.spec import CnnSpec
from archspec.loader import load_file
from archspec.validation import check_file
from torch_oracle import compare, run_layers

ROOT = Path(__file__).resolve().parent.parent
CNN_SPECS = [p for p in sorted(ROOT.glob("specs/**/*.yaml"))
             if "invalid" not in p.parts and load_file(p).data.get("kind") == "cnn"]


@pytest.mark.parametrize("path", CNN_SPECS, ids=lambda p: p.name)
def test_every_cnn_spec_matches_torch(path):
    report = check_file(path)
    assert report.valid, report.text()
    shapes = report.spec.shapes()
    torch_shapes, torch_params, _ = run_layers(report.spec.input,
                                               [layer.model_dump(exclude_defaults=True, by_alias=True)
                                                | {"type": layer.type} for layer in report.spec.layers])
    assert [x.output for x in shapes.layers] == torch_shapes
    assert shapes.params == torch_params


def test_q5_table_values():
    spec = check_file(ROOT / "specs/seed/q5-architecture.yaml").spec
    outs = [x.output for x in spec.shapes().layers if x.type in ("conv2d", "maxpool2d")]
    assert outs == [(222, 222, 64), (220, 220, 64), (110, 110, 64), (108, 108, 128), (106, 106, 128),
                    (53, 53, 128), (53, 53, 256), (51, 51, 256), (49, 49, 256), (24, 24, 256)]


def pairs(lo, hi):
    return st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=2, max_size=2))


@st.composite
def spatial_layer(draw):
    kind = draw(st.sampled_from(["conv2d", "maxpool2d", "avgpool2d"]))
    layer = {"type": kind, "kernel_size": draw(pairs(1, 5))}
    if draw(st.booleans()):
        layer["stride"] = draw(pairs(1, 3))
    if kind == "conv2d":
        layer["out_channels"] = draw(st.sampled_from([2, 4, 6]))
        layer["padding"] = draw(st.one_of(pairs(0, 3), st.sampled_from(["same", "valid"])))
        if draw(st.booleans()):
            layer["dilation"] = draw(pairs(1, 3))
        if draw(st.booleans()):
            layer["groups"] = draw(st.sampled_from([1, 2]))
    else:
        layer["padding"] = draw(pairs(0, 3))
        layer["ceil_mode"] = draw(st.booleans())
        if kind == "maxpool2d" and draw(st.booleans()):
            layer["dilation"] = draw(pairs(1, 2))
    return layer


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(1, 24), w=st.integers(1, 24), c=st.sampled_from([1, 2, 3, 4]),
       layers=st.lists(spatial_layer(), min_size=1, max_size=4), tail=st.booleans())
def test_random_stacks_agree_with_torch(h, w, c, layers, tail):
    layers = layers + ([{"type": "flatten"}, {"type": "linear", "out_features": 3}] if tail else [])
    spec = CnnSpec.model_validate({"kind": "cnn", "input": [h, w, c], "layers": layers})
    compare(spec, layers, spec.check())


GROUPED = """kind: cnn
input: [9, 11, 4]
layers:
  - {type: conv2d, out_channels: 8, kernel_size: [3, 2], dilation: [1, 2], groups: 2, bias: false}
  - {type: batchnorm2d}
  - {type: avgpool2d, kernel_size: 2, ceil_mode: true}
  - {type: conv2d, out_channels: 6, kernel_size: 2, padding: same}
  - {type: flatten}
  - {type: linear, out_features: 3}
"""


@pytest.mark.parametrize("path", CNN_SPECS + ["grouped"], ids=lambda p: getattr(p, "name", p))
def test_macs_are_the_multiply_accumulates_torch_counts(path, tmp_path):
    """The README's convention: conv2d and linear weights only (torch's FlopCounterMode counts 2 flops per MAC and
    no bias additions, batch norm or pooling); torchinfo's Mult-Adds add bias and batch-norm terms."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from archspec.torchbuild import build
    from archspec.torchbuild.cnn_table import torch_dims

    if path == "grouped":
        path = tmp_path / "grouped.yaml"
        path.write_text(GROUPED)
    spec = check_file(path).spec
    report, model = spec.shapes(), build(spec).eval()
    inputs = {}  # each layer's inputs in one real forward pass (layers may branch and merge)
    layers = [(x.name, model.get_submodule(x.name)) for x in report.layers]  # 'use.layer': a nested module
    hooks = [m.register_forward_pre_hook(lambda mod, args, name=name: inputs.setdefault(name, args))
             for name, m in layers]
    with torch.no_grad():
        model(torch.zeros(1, *torch_dims(spec.input_shape)))
    for h in hooks:
        h.remove()
    for info, (name, module) in zip(report.layers, layers):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(*inputs[name])
        assert counter.get_total_flops() == 2 * info.macs, name
