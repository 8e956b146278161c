"""Graph CNNs agree with torch: hypothesis-generated residual blocks (identity and 1x1 projection
shortcuts), 2-3 branch concats, channel gates and pools, against an oracle that builds the same
network straight from the spec dicts (tests/torch_oracle.py): every layer's output shape, the
parameter count, and the built module's output for the same weights."""
from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.cnn.spec import CnnSpec
from archspec.torchbuild import build
from archspec.torchbuild.cnn_table import torch_dims
from torch_oracle import compare


@st.composite
def graphs(draw):
    """(input shape, layer dicts): blocks appended to a running (name, channels) until 1-4 blocks."""
    c = draw(st.sampled_from([1, 2, 3, 4]))
    shape = (draw(st.integers(2, 12)), draw(st.integers(2, 12)), c)
    layers, cur, n = [], "input", 0

    def add(**layer):
        nonlocal n
        n += 1
        layers.append({"name": f"n{n}", **layer})
        return f"n{n}"

    for _ in range(draw(st.integers(1, 4))):
        block = draw(st.sampled_from(["residual", "branches", "pool", "gate"]))
        if block == "residual":
            stride, width = draw(st.sampled_from([1, 2])), draw(st.sampled_from([2, 4]))
            a = add(type="conv2d", **{"from": cur}, out_channels=width, kernel_size=3, stride=stride, padding=1)
            a = add(type="batchnorm2d", **{"from": a})
            a = add(type="relu", **{"from": a})
            a = add(type="conv2d", **{"from": a}, out_channels=width, kernel_size=3, padding=1, bias=False)
            project = draw(st.booleans())  # identity shortcuts that do not fit are refused by both sides
            short = (add(type="conv2d", **{"from": cur}, out_channels=width, kernel_size=1, stride=stride)
                     if project else cur)
            cur = add(type=draw(st.sampled_from(["add", "add", "multiply"])), **{"from": [a, short]})
            cur = add(type=draw(st.sampled_from(["relu", "gelu", "silu"])), **{"from": cur})
        elif block == "branches":
            outs = []
            for _ in range(draw(st.integers(2, 3))):
                k = draw(st.sampled_from([1, 3, 5]))
                pad = draw(st.sampled_from([k // 2, k // 2, 0]))  # 0 on a k > 1: H and W differ, refused by both
                outs.append(add(type="conv2d", **{"from": cur}, out_channels=draw(st.integers(1, 3)), kernel_size=k,
                                padding=pad))
            cur = add(type="concat", **{"from": outs})
        elif block == "pool":
            kind = draw(st.sampled_from(["maxpool2d", "avgpool2d", "upsample", "convtranspose2d"]))
            if kind == "upsample":
                cur = add(type=kind, **{"from": cur}, scale_factor=2,
                          mode=draw(st.sampled_from(["nearest", "bilinear"])))
            elif kind == "convtranspose2d":
                cur = add(type=kind, **{"from": cur}, out_channels=2, kernel_size=2, stride=2)
            else:
                cur = add(type=kind, **{"from": cur}, kernel_size=2, ceil_mode=draw(st.booleans()))
        else:
            g = add(type=draw(st.sampled_from(["adaptive_avgpool2d", "adaptive_maxpool2d"])), **{"from": cur})
            if draw(st.booleans()):
                g = add(type="flatten", **{"from": g})
            g = add(type="sigmoid", **{"from": g})
            cur = add(type="multiply", **{"from": [cur, g]})
    if draw(st.booleans()):
        flat = add(type="flatten", **{"from": cur})
        side = add(type="flatten", **{"from": add(type="adaptive_avgpool2d", **{"from": cur})})
        cur = add(type="linear", **{"from": add(type="concat", **{"from": [flat, side]})}, out_features=3)
    return shape, layers


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.integers(0, 2**31 - 1))
def test_random_graphs_agree_with_torch(case, seed):
    shape, layers = case
    spec = CnnSpec.model_validate({"kind": "cnn", "input": list(shape), "layers": layers})
    errors = [d for d in spec.check() if d.severity == "error"]
    torch.manual_seed(seed)
    x = torch.randn(2, *torch_dims(shape))
    modules = {}
    found = compare(spec, layers, errors, modules, x)
    if found is None:
        return
    report, torch_out = found
    model = build(spec).eval()
    assert sum(p.numel() for p in model.parameters()) == report.params
    for name, module in modules.items():  # the oracle's weights into archspec's module, layer by layer
        model.get_submodule(name).load_state_dict(module.state_dict())
    with torch.no_grad():
        out = model(x)
    assert tuple(out.shape[1:]) == torch_dims(report.output)
    torch.testing.assert_close(out, torch_out)
