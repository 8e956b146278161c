"""feature_map diagrams: golden DOT, SVG through graphviz, receptive fields checked against torch autograd."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import archspec
from archspec.featuremap.compute import run
from archspec.featuremap.render import CHOSEN, FIELD, FIELD_PAD, receptive_fields, render
from archspec.featuremap.spec import FeatureMapSpec
from archspec.kinds import capability
from archspec.diagrams import RenderError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "specs" / "examples" / "conv-then-pool.yaml"


def test_render_is_registered():
    assert capability("feature_map", "render") is render


def test_dot_golden_with_cell(golden):
    g = render(archspec.load(str(EXAMPLE)), cell=(1, 2))
    golden("featuremap_conv_then_pool.dot", g.source)
    assert g.source == render(archspec.load(str(EXAMPLE)), cell=(1, 2)).source  # deterministic


def test_dot_golden_seed_without_cell(golden):
    g = render(archspec.load(str(ROOT / "specs/seed/q4c-maxpool.yaml")))
    golden("featuremap_q4c_maxpool.dot", g.source)
    assert CHOSEN not in g.source and FIELD not in g.source


def _colored(label: str, color: str) -> int:
    return label.count(f'bgcolor="{color}"')


def test_highlighted_cells_in_the_dot():
    spec = archspec.load(str(EXAMPLE))
    src = render(spec, cell=(1, 2)).source
    maps = dict(re.findall(r"\t(map\d) \[label=(<.*>)\]", src))
    # Y12 = max over A rows 1-2, cols 3-4; those read the padded X rows 0-3, cols 2-5 (1-based in X)
    assert _colored(maps["map2"], CHOSEN) == 1
    assert _colored(maps["map1"], FIELD) == 4
    assert _colored(maps["map0"], FIELD) == 3 * 4 and _colored(maps["map0"], FIELD_PAD) == 4
    assert "Y12 = max(3, -8, 9, 4) = 9" in src


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' binary not installed")
def test_svg_renders():
    svg = render(archspec.load(str(EXAMPLE)), cell=(3, 3)).pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Y33" in svg


def test_everything_is_escaped():
    spec = FeatureMapSpec.model_validate({"kind": "feature_map", "name": 'a<b>&"c"', "operation": "avgpool2d",
                                          "input": [["1/3", 2], [3, 4]], "kernel_size": 2})
    src = render(spec, cell=(1, 1)).source
    assert "a&lt;b&gt;&amp;&quot;c&quot;" in src and "<b>&" not in src
    if shutil.which("dot"):
        render(spec).pipe(format="svg")  # graphviz accepts the labels


def test_bad_cell_is_a_clear_error():
    spec = archspec.load(str(EXAMPLE))
    with pytest.raises(RenderError, match="outside the 3 x 3 output"):
        render(spec, cell=(4, 1))


def test_render_command_draws_the_cell(cli, tmp_path):
    r = cli("render", EXAMPLE, "--cell", "1,2", "--format", "dot", "-o", tmp_path / "a.dot")
    assert r.code == 0, r.err
    assert "Y12 = max(3, -8, 9, 4) = 9" in (tmp_path / "a.dot").read_text()
    r = cli("render", EXAMPLE, "--cell", "9,9", "--format", "dot", "-o", tmp_path / "b.dot")
    assert r.code == 1 and "outside the 3 x 3 output" in r.err and "Traceback" not in r.err


# Receptive field == the input cells whose gradient is non-zero, for conv (positive weights) then average pooling.
@st.composite
def chain(draw):
    h, w = draw(st.integers(2, 7)), draw(st.integers(2, 7))
    k = draw(st.integers(1, 3))
    ops = [{"type": "conv2d", "kernel": [[draw(st.integers(1, 3)) for _ in range(k)] for _ in range(k)],
            "stride": draw(st.integers(1, 2)), "padding": draw(st.integers(0, 1)), "dilation": draw(st.integers(1, 2))},
           {"type": "avgpool2d", "kernel_size": 2, "stride": draw(st.integers(1, 2)), "ceil_mode": draw(st.booleans())}]
    data = {"kind": "feature_map", "input": [[draw(st.integers(-3, 3)) for _ in range(w)] for _ in range(h)],
            "operations": ops}
    spec = FeatureMapSpec.model_validate(data)
    assume(spec.check() == [])
    return spec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(chain(), st.data())
def test_receptive_field_matches_autograd(spec, data):
    steps = run(spec)
    out = steps[-1].output[0]
    r, c = data.draw(st.integers(1, len(out))), data.draw(st.integers(1, len(out[0])))
    conv, pool = spec.operations
    x = torch.tensor([[[float(v) for v in row] for row in spec.input]], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[conv.kernel]], dtype=torch.float64)
    y = F.avg_pool2d(F.conv2d(x.unsqueeze(0), w, None, conv.stride, conv.padding, conv.dilation), 2, pool.stride,
                     0, pool.ceil_mode)
    y[0, 0, r - 1, c - 1].backward()
    want = {(0, i, j) for i, j in zip(*torch.nonzero(x.grad[0], as_tuple=True)) for i, j in [(int(i), int(j))]}
    field = receptive_fields(steps, (r, c))[0]
    h, w_ = len(spec.input), len(spec.input[0])
    assert {(ch, i, j) for ch, i, j in field if 0 <= i < h and 0 <= j < w_} == want


def test_edge_labels_name_every_setting_as_explain_does():
    """'same' padding (0 before, 1 after) was labelled 'padding 0'; dilation, ceil_mode, bias and
    count_include_pad were left out, so the arrow did not say what the step computed."""
    spec = archspec.load("kind: feature_map\nname: s\ninput: [[1, 2, 0, 1], [0, 1, 3, 1], [2, 2, 1, 0], [1, 0, 2, 3]]\n"
                         "operations:\n  - {type: conv2d, kernel: [[1, 0], [0, -1]], padding: same, dilation: [1, 2], "
                         "bias: 2}\n  - {type: avgpool2d, kernel_size: 2, padding: 1, ceil_mode: true, "
                         "count_include_pad: false}\n")
    labels = re.findall(r"label=<([a-z0-9]+2d [^<>]*)>", render(spec).source)
    assert labels == ["conv2d 2 x 2, stride 1, padding same, dilation 1 x 2, bias 2",
                      "avgpool2d 2 x 2, stride 2, padding 1, ceil_mode, count_include_pad false"]
