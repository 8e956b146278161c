"""feature_map arithmetic against torch (conv2d / max_pool2d / avg_pool2d), and every worked expression re-evaluated."""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import archspec
from archspec.featuremap.compute import run
from archspec.featuremap.explain import explain, explain_json
from archspec.featuremap.maps import fmt, number
from archspec.featuremap.spec import FeatureMapSpec

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ["q4a-conv", "q4b-conv-stride2", "q4c-maxpool"]
EXAMPLES = ["conv-then-pool", "avgpool-answers"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


# --- a tiny safe evaluator for the worked expressions (no eval) ----------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(max)|([-+x*/(),]))")


def _tokens(text: str) -> list[str]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m and m.end() > pos, f"unexpected text at {text[pos:]!r}"
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return out


def evaluate(text: str) -> Fraction:
    """+ - x * / parentheses, unary minus and max(...), exactly, over Fractions."""
    toks, i = _tokens(text), 0

    def peek():
        return toks[i] if i < len(toks) else None

    def take(expected=None):
        nonlocal i
        tok = toks[i]
        assert expected is None or tok == expected, f"expected {expected!r}, got {tok!r}"
        i += 1
        return tok

    def expr():
        value = term()
        while peek() in ("+", "-"):
            value = value + term() if take() == "+" else value - term()
        return value

    def term():
        value = factor()
        while peek() in ("x", "*", "/"):
            value = value / factor() if take() == "/" else value * factor()
        return value

    def factor():
        tok = take()
        if tok == "-":
            return -factor()
        if tok == "(":
            value = expr()
            take(")")
            return value
        if tok == "max":
            take("(")
            args = [expr()]
            while peek() == ",":
                take(",")
                args.append(expr())
            take(")")
            return max(args)
        return Fraction(tok)

    value = expr()
    assert i == len(toks), f"trailing tokens {toks[i:]}"
    return value


def test_evaluator_itself():
    assert evaluate("1x1 + 0x3 + 1x4") == 5
    assert evaluate("max(4, -2, 3/2)") == 4
    assert evaluate("(4 + 2 + 4 + 3) / 4") == Fraction(13, 4)
    assert evaluate("(1/3)x(-3) + (-1)") == -2
    with pytest.raises(AssertionError):
        evaluate("__import__('os')")


def check_expressions(spec):
    """Every line `Y11 = rhs = value` of the JSON explanation: rhs evaluates to the cell's exact value."""
    steps = run(spec)
    data = explain_json(spec)
    for step_json, step in zip(data.get("steps", [data]), steps):
        assert len(step_json["cells"]) == len(step.cells)
        for cell_json, cell in zip(step_json["cells"], step.cells):
            name, rest = cell_json["expression"].split(" = ", 1)
            rhs, shown = rest.rsplit(" = ", 1)
            assert evaluate(rhs) == cell.value, cell_json["expression"]
            assert evaluate(shown) == cell.value and shown == fmt(cell.value) == cell_json["exact"]
            r, c = cell.row + 1, cell.col + 1
            wide = max(len(step.output[0]), len(step.output[0][0])) >= 10  # a whole map is Y1,1 ... Y1,10, or Y11 ...
            assert name.endswith(f"{r},{c}" if wide else f"{r}{c}")  # Y1,10 is not Y11,0
            assert cell_json["value"] == pytest.approx(float(cell.value), rel=1e-12)


# --- torch oracle -----------------------------------------------------------------------------------------------
def _tensor(value) -> torch.Tensor:
    m = value if isinstance(value[0][0], list) else [value]
    return torch.tensor([[[float(number(v)) for v in row] for row in grid] for grid in m], dtype=torch.float64)


def torch_forward(data: dict) -> torch.Tensor:
    """The same computation in torch, from the spec's plain data: (C, H, W)."""
    x = _tensor(data["input"]).unsqueeze(0)
    top = {k: v for k, v in data.items() if k not in ("kind", "name", "input", "operation", "answers")}
    ops = data.get("operations") or [{"type": data["operation"], **top}]
    for op in ops:
        stride = op.get("stride")
        if op["type"] == "conv2d":
            w = _tensor(op["kernel"]).unsqueeze(0)
            if op.get("flip_kernel"):
                w = w.flip(-1, -2)
            padding, dilation = op.get("padding", 0), op.get("dilation", 1)
            bias = torch.tensor([float(number(op["bias"]))], dtype=torch.float64) if "bias" in op else None
            if number(op.get("padding_value", 0)) != 0:
                ph, pw = (padding, padding) if isinstance(padding, int) else padding
                x = F.pad(x, (pw, pw, ph, ph), value=float(number(op["padding_value"])))
                padding = 0
            x = F.conv2d(x, w, bias, stride or 1, padding, dilation)
        elif op["type"] == "maxpool2d":
            x = F.max_pool2d(x, op["kernel_size"], stride, op.get("padding", 0), op.get("dilation", 1),
                             op.get("ceil_mode", False))
        else:
            x = F.avg_pool2d(x, op["kernel_size"], stride, op.get("padding", 0), op.get("ceil_mode", False),
                             op.get("count_include_pad", True))
    return x[0]


def assert_matches_torch(data: dict):
    spec = FeatureMapSpec.model_validate(data)
    assert spec.check() == []
    mine = torch.tensor([[[float(v) for v in row] for row in grid] for grid in run(spec)[-1].output],
                        dtype=torch.float64)
    want = torch_forward(data)
    assert mine.shape == want.shape
    torch.testing.assert_close(mine, want, rtol=1e-12, atol=1e-12)
    check_expressions(spec)


@pytest.mark.parametrize("name", SEEDS + EXAMPLES)
def test_seed_and_example_specs_match_torch(name):
    path = ROOT / "specs" / ("seed" if name in SEEDS else "examples") / f"{name}.yaml"
    from archspec.loader import load_file

    assert_matches_torch(load_file(path).data)


def test_seed_values_by_hand():
    out = {n: explain_json(archspec.load(str(ROOT / "specs/seed" / f"{n}.yaml")))["output"] for n in SEEDS}
    assert out["q4a-conv"] == [[5, 7, 9], [6, 10, 12], [7, 7, 12]]
    assert out["q4b-conv-stride2"] == [[2, 3], [1.5, 2]]
    assert out["q4c-maxpool"] == [[4, 5, 6], [6, 4, 4], [7, 5, 6]]


# --- hypothesis-generated cases ---------------------------------------------------------------------------------------
VALUES = st.one_of(st.integers(-5, 5), st.sampled_from([0.5, -0.25, 1.5, 0.1]), st.sampled_from(["1/3", "-2/3", "5/7"]))
small = st.integers


def _grid(draw, h, w):
    return [[draw(VALUES) for _ in range(w)] for _ in range(h)]


def _pair(draw, values):
    a, b = draw(values), draw(values)
    return a if a == b and draw(st.booleans()) else [a, b]


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@st.composite
def conv_op(draw, channels: int):
    kh, kw = draw(small(1, 3)), draw(small(1, 3))
    k = [_grid(draw, kh, kw) for _ in range(channels)]
    op = {"type": "conv2d", "kernel": k if channels > 1 or draw(st.booleans()) else k[0],
          "stride": _pair(draw, small(1, 3)), "dilation": _pair(draw, small(1, 2))}
    choice = draw(st.sampled_from(["int", "int", "same", "valid"]))
    if choice == "same":
        op["stride"] = 1
    op["padding"] = _pair(draw, small(0, 2)) if choice == "int" else choice
    if choice == "int" and draw(st.booleans()):
        op["padding_value"] = draw(st.sampled_from([1, -2, "1/2"]))
    if draw(st.booleans()):
        op["bias"] = draw(VALUES)
    if draw(st.booleans()):
        op["flip_kernel"] = True
    return op


@st.composite
def pool_op(draw):
    kind = draw(st.sampled_from(["maxpool2d", "avgpool2d"]))
    kh, kw = draw(small(1, 3)), draw(small(1, 3))
    op = {"type": kind, "kernel_size": [kh, kw] if kh != kw else kh,
          "padding": [draw(small(0, kh // 2)), draw(small(0, kw // 2))], "ceil_mode": draw(st.booleans())}
    if draw(st.booleans()):
        op["stride"] = _pair(draw, small(1, 3))
    if kind == "maxpool2d":
        op["dilation"] = _pair(draw, small(1, 2))
    else:
        op["count_include_pad"] = draw(st.booleans())
    return op


@st.composite
def feature_map(draw, pools_only=False):
    channels = draw(small(1, 3))
    h, w = draw(small(1, 6)), draw(small(1, 6))
    grids = [_grid(draw, h, w) for _ in range(channels)]
    first = draw(pool_op()) if pools_only else draw(st.one_of(conv_op(channels), pool_op()))
    ops = [first]
    if draw(st.booleans()):  # a second step, e.g. pool after convolution
        c2 = 1 if first["type"] == "conv2d" else channels
        ops.append(draw(st.one_of(conv_op(c2), pool_op())))
    data = {"kind": "feature_map", "input": grids if channels > 1 or draw(st.booleans()) else grids[0]}
    if len(ops) == 1 and draw(st.booleans()):
        data.update({"operation": ops[0]["type"], **{k: v for k, v in ops[0].items() if k != "type"}})
    else:
        data["operations"] = ops
    spec = FeatureMapSpec.model_validate(data)
    assume(spec.check() == [])  # e.g. kernel larger than the padded input: covered by the validation tests
    return data


@FAST
@given(feature_map())
def test_random_maps_match_torch(data):
    assert_matches_torch(data)


@FAST
@given(feature_map(pools_only=True))
def test_random_pools_match_torch(data):
    assert_matches_torch(data)


def test_window_of_padding_only_is_refused_where_torch_gives_inf():
    data = {"kind": "feature_map", "operation": "maxpool2d", "input": [[1, 2]], "kernel_size": 2, "padding": 1,
            "dilation": 2}
    assert torch.isinf(torch_forward(data)).any()
    [diag] = FeatureMapSpec.model_validate(data).check()
    assert diag.code == "window-in-padding" and diag.path == ("padding",)


def test_exact_fraction_and_decimal_display():
    data = {"kind": "feature_map", "operation": "conv2d", "input": [[1, 2], [3, 4]], "kernel": [["1/3", 0.1]]}
    spec = FeatureMapSpec.model_validate(data)
    cells = explain_json(spec)["cells"]
    assert cells[0]["expression"] == "Y11 = 1x(1/3) + 2x0.1 = 8/15"
    assert cells[0]["exact"] == "8/15"
    assert [fmt(Fraction(n, d)) for n, d in [(13, 4), (-3, 2), (1, 1024), (2, 1), (-1, 3)]] == \
        ["3.25", "-1.5", "0.0009765625", "2", "-1/3"]
    check_expressions(spec)


def test_latex_expressions_evaluate_too():
    spec = archspec.load(str(ROOT / "specs/examples/conv-then-pool.yaml"))
    text = explain(spec, format="latex")
    assert "\\quad" in text  # conv cells of nine products continue on a second row: joined back here
    lines = [ln for ln in text.replace(" \\\\\n  &\\quad ", " ").splitlines() if "&=" in ln]
    assert len(lines) == 36 + 9
    for line in lines:
        plain = (line.rstrip("\\ ").replace(r" \times ", "x").replace(r"\max", "max").replace(" &= ", " = "))
        plain = re.sub(r"\\tfrac\{(\d+)\}\{(\d+)\}", r"(\1/\2)", plain)
        _, rest = plain.split(" = ", 1)
        rhs, shown = rest.rsplit(" = ", 1)
        assert evaluate(rhs) == evaluate(shown), line


EDGE_CASES = {  # corners of PyTorch's rules, each against torch
    "ceil-last-window-in-padding": {"operation": "maxpool2d", "input": [[1, 2, 3, 4, 5]] * 5, "kernel_size": 2,
                                    "stride": 2, "padding": 1, "ceil_mode": True},
    "ceil-overhang-avg": {"operation": "avgpool2d", "input": [[1, 2, 3, 4, 5]] * 3, "kernel_size": 2,
                          "stride": 2, "ceil_mode": True},
    "avg-exclude-pad": {"operation": "avgpool2d", "input": [[1, 2, 3], [4, 5, 6]], "kernel_size": 3, "stride": 1,
                        "padding": 1, "count_include_pad": False},
    "same-even-kernel-dilated": {"operation": "conv2d", "input": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 1, 2, 3]],
                                 "kernel": [[1, 2], [3, 4]], "padding": "same", "dilation": [1, 3]},
    "dilated-max-with-padding": {"operation": "maxpool2d", "input": [[-1, -2, -3, -4, -5]] * 5, "kernel_size": 3,
                                 "padding": 1, "dilation": 2, "stride": 1},
    "padding-value": {"operation": "conv2d", "input": [[1, 2], [3, 4]], "kernel": [[1, 1], [1, "1/2"]],
                      "padding": [1, 0], "padding_value": -1, "bias": 0.5},
}


@pytest.mark.parametrize("name", EDGE_CASES)
def test_edge_cases_match_torch(name):
    assert_matches_torch({"kind": "feature_map", **EDGE_CASES[name]})


def test_schema_describes_feature_maps(cli):
    import json

    r = cli("schema")
    defs = json.loads(r.out)["$defs"]
    assert {"FeatureMapSpec", "ConvOp", "MaxPoolOp", "AvgPoolOp"} <= set(defs)
    assert "operations" in defs["FeatureMapSpec"]["properties"]


def test_lowers_to_the_ir():
    graph = archspec.load(str(ROOT / "specs/examples/conv-then-pool.yaml")).lower()
    assert [(n.id, n.op) for n in graph.nodes] == [("input", "input"), ("step1", "conv2d"), ("step2", "maxpool2d")]
    assert graph.outputs == ["step2"] and graph.node("step2").path == ("operations", 1)
