"""torch is the oracle for `archspec.build`: per-layer output shapes and parameter counts of the built
module equal archspec's shape inference, for every cnn spec in specs/ and for random layer stacks;
the generated PyTorch source builds the same module."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from hypothesis import HealthCheck, given, settings, strategies as st

from archspec.torchbuild import build
from archspec.torchbuild.cnn_table import TORCH, torch_dims
from archspec.torchbuild.codegen import class_name, generate
from archspec.cnn.layers import BY_TYPE
from archspec.cnn.spec import CnnSpec
from archspec.cnn.torch_names import taken_by_torch
from archspec.diagnostics import SpecError
from archspec.kinds import KINDS
from archspec.validation import check_file, load

ROOT = Path(__file__).resolve().parent.parent


def valid_specs(kind=None):
    """Every valid spec under specs/ (new files are picked up automatically)."""
    out = []
    for path in sorted((ROOT / "specs").rglob("*.yaml")):
        report = check_file(path)
        if report.valid and (kind is None or report.spec.kind == kind):
            out.append(path)
    return out


CNN_SPECS = valid_specs("cnn")


def hwc(t: torch.Tensor) -> tuple:
    """A torch output (batch first, channel first) in the spec's H x W x C convention."""
    s = tuple(t.shape[1:])
    return (s[1], s[2], s[0]) if len(s) == 3 else s


def layer_modules(model) -> list[tuple[str, torch.nn.Module]]:
    """(name, module) of each layer: the leaves, named as the spec's layers ('use.layer' for blocks; a use is a
    container of its layers)."""
    return [(n, m) for n, m in model.named_modules() if n and not m._modules]


def layer_outputs(model, x) -> dict:
    shapes, hooks = {}, []
    for name, module in layer_modules(model):
        hooks.append(module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, hwc(o))))
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return shapes


def test_specs_found():
    names = {p.name for p in CNN_SPECS}
    assert {"medical-cnn.yaml", "digits-cnn.yaml", "q5-architecture.yaml", "q6-design.yaml"} <= names


def test_every_layer_type_has_a_torch_constructor():
    from archspec.torchbuild import merge_ops

    assert set(TORCH) == set(BY_TYPE)
    for ctor in TORCH.values():
        assert hasattr(merge_ops if ctor.merge else torch.nn, ctor.cls)


@pytest.mark.parametrize("path", CNN_SPECS, ids=lambda p: p.name)
def test_module_matches_shape_inference(path):
    spec = load(path)
    report = spec.shapes()
    model = build(spec)
    assert [n for n, _ in layer_modules(model)] == [x.name for x in report.layers]
    shapes = layer_outputs(model, torch.zeros(1, *torch_dims(spec.input_shape)))
    for info in report.layers:
        module = model.get_submodule(info.name)
        assert shapes[info.name] == info.output, f"{info.name}: torch {shapes[info.name]}, archspec {info.output}"
        assert sum(p.numel() for p in module.parameters()) == info.params, info.name
    assert sum(p.numel() for p in model.parameters()) == report.params


@pytest.mark.parametrize("path", CNN_SPECS, ids=lambda p: p.name)
def test_generated_source_builds_the_same_module(path):
    spec = load(path)
    model = build(spec)
    namespace = {"__name__": "generated"}
    exec(compile(generate(spec), f"<generated from {path.name}>", "exec"), namespace)  # our own generated code
    generated = namespace[class_name(spec)]()
    ours, theirs = model.state_dict(), generated.state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in ours)
    if spec.shapes().macs < 50_000_000:  # same function, not only the same shapes (skip the 224x224 stacks)
        generated.load_state_dict(ours)
        x = torch.randn(2, *torch_dims(spec.input_shape))
        with torch.no_grad():
            torch.testing.assert_close(generated.eval()(x), model.eval()(x))


def test_every_buildable_kind_dispatches_through_kinds():
    for path in valid_specs():
        spec = load(path)
        if KINDS.get(spec.kind, {}).get("build"):
            assert isinstance(build(spec), torch.nn.Module), path
        else:
            with pytest.raises(SpecError, match="not-buildable"):
                build(spec)


def spec_from(layers, input_shape=(8, 8, 1), **extra) -> CnnSpec:
    return CnnSpec.model_validate({"kind": "cnn", "input": list(input_shape), "layers": layers, **extra})


def test_every_layer_type_builds_with_only_its_required_parameters():
    """Constructors get the non-default settings only, yet torch requires some defaults: {type: adaptive_avgpool2d}
    (output_size 1) was nn.AdaptiveAvgPool2d(), a TypeError in build and in the generated source."""
    def minimal(t):
        needs = {"upsample": {"scale_factor": 1}}.get(t, {})  # size or scale_factor: neither is required alone
        return {"type": t, **needs,
                **{f: 1 for f, info in BY_TYPE[t].model_fields.items() if info.is_required() and f != "type"}}

    single = [t for t in BY_TYPE if not BY_TYPE[t].merge and t not in ("flatten", "linear")]
    layers = [minimal(t) for t in single] + [minimal("flatten"), minimal("linear")]
    spec = spec_from(layers, (6, 6, 2))
    model = build(spec).eval()
    namespace = {}
    exec(generate(spec), namespace)  # our own generated code
    generated = namespace[class_name(spec)]().eval()
    generated.load_state_dict(model.state_dict())
    x = torch.randn(2, *torch_dims(spec.input_shape))
    with torch.no_grad():
        torch.testing.assert_close(generated(x), model(x))


def test_names_become_module_names_and_odd_names_still_generate():
    spec = spec_from([{"type": "conv2d", "name": "features", "out_channels": 2, "kernel_size": 3},
                      {"type": "relu", "name": "class"}, {"type": "flatten", "name": "to-vector"},
                      {"type": "linear", "name": "head", "out_features": 3}])
    model = build(spec)
    assert [n for n, _ in model.named_children()] == ["features", "class", "to-vector", "head"]
    namespace = {}
    exec(generate(spec), namespace)
    assert list(namespace[class_name(spec)]().state_dict()) == list(model.state_dict())


def test_quotes_and_backslashes_in_the_description_keep_the_source_valid():
    text = 'says """hi""" in C:\\Users\\N{x} and ends in \\'
    spec = spec_from([{"type": "flatten"}, {"type": "linear", "out_features": 2}], description=text, name="q")
    namespace = {}
    exec(generate(spec), namespace)  # our own generated code
    assert text in namespace["__doc__"]


@pytest.mark.parametrize("name", [
    "fc.out",  # '.' is a sub-module path to torch
    '"fc\\nout"',  # a line break would also break every table row
    "forward", "eval", "training", "__init__",  # attributes nn.Module already has (eval would be shadowed)
    '""', "' '",  # blank: it used to fall back to the default name silently
])
def test_a_name_torch_refuses_is_a_located_error_in_validate_and_build(tmp_path, name):
    path = tmp_path / "named.yaml"
    path.write_text("kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {type: flatten}\n"
                    f"  - {{type: linear, name: {name}, out_features: 2}}\n")
    with pytest.raises(SpecError) as exc:
        build(path)
    assert "named.yaml:5:" in str(exc.value) and "[bad-name]" in str(exc.value)
    assert not check_file(path).valid


def test_every_attribute_of_torchs_module_classes_is_a_name_validate_refuses():
    """The list validate keeps (it must not import torch) covers the installed torch's attributes."""
    class Generated(nn.Module):  # what `compile --code` writes subclasses nn.Module
        def forward(self, x):
            return x

    from archspec.torchbuild.torch_cnn import GraphNet

    graph = GraphNet([("a", ("input",))], "a")
    missing = {n for n in dir(nn.Sequential()) + dir(Generated()) + dir(graph) if not taken_by_torch(n)}
    assert not missing, f"add to archspec/cnn/torch_names.py: {sorted(missing)}"


def test_a_name_torch_refuses_that_validate_does_not_know_is_still_located_at_build(tmp_path, monkeypatch):
    monkeypatch.setattr("archspec.cnn.spec.NAME_RULES", ())  # as if a newer torch added the attribute
    path = tmp_path / "named.yaml"
    path.write_text("kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {type: flatten}\n"
                    "  - {type: linear, name: forward, out_features: 2}\n")
    with pytest.raises(SpecError) as exc:
        build(path)
    assert "named.yaml:5:" in str(exc.value) and "[bad-module-name]" in str(exc.value)


# --- random stacks: torch decides -------------------------------------------------------------
conv = st.builds(lambda c, k, s, p, d, g, b: {"type": "conv2d", "out_channels": c * g, "kernel_size": k, "stride": s,
                                              "padding": p, "dilation": d, "groups": g, "bias": b},
                 st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
                 st.sampled_from([1, 1, 2]), st.booleans())
pool = st.builds(lambda t, k, s, p, c, d: {"type": t, "kernel_size": k, "stride": s, "padding": p, "ceil_mode": c,
                                           **({"dilation": d} if t == "maxpool2d" else {})},
                 st.sampled_from(["maxpool2d", "avgpool2d"]), st.integers(1, 3), st.sampled_from([None, 1, 2, 3]),
                 st.integers(0, 1), st.booleans(), st.integers(1, 2))
simple = st.sampled_from([{"type": "relu"}, {"type": "tanh"}, {"type": "sigmoid"}, {"type": "batchnorm2d"},
                          {"type": "leaky_relu", "negative_slope": 0.2}, {"type": "dropout", "p": 0.3},
                          {"type": "adaptive_avgpool2d", "output_size": [2, 3]}])
stacks = st.tuples(st.lists(st.one_of(conv, pool, simple), min_size=1, max_size=5),
                   st.integers(1, 4), st.tuples(st.integers(1, 20), st.integers(1, 20), st.integers(1, 4)))


def _torch_forward(layers, input_shape):
    """The same stack straight from torch.nn, each layer sized by the real tensor: output shape or an exception."""
    from archspec.torchbuild.cnn_table import layer_arguments

    x = torch.zeros(2, *torch_dims(input_shape))
    with torch.no_grad():
        for layer in layers:
            args = layer_arguments(layer.type, layer.arguments(), hwc(x))
            x = getattr(torch.nn, TORCH[layer.type].cls)(**args).eval()(x)
    return hwc(x)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks)
def test_random_stacks_agree_with_torch(case):
    layers, classes, input_shape = case
    spec = spec_from(layers + [{"type": "flatten"}, {"type": "linear", "out_features": classes}], input_shape)
    report = spec.shapes()
    try:
        torch_out = _torch_forward(spec.layers[:-2], input_shape)
        torch_error = None
    except (RuntimeError, ValueError) as exc:
        torch_out, torch_error = None, exc
    if not report.complete:
        assert torch_error is not None, \
            f"archspec refuses ({report.diagnostics[0].message}) but torch gives {torch_out}"
        return
    assert torch_error is None, f"torch refuses ({torch_error}) but archspec infers {report.output}"
    model = build(spec)
    shapes = layer_outputs(model, torch.zeros(2, *torch_dims(input_shape)))
    assert [shapes[x.name] for x in report.layers] == [x.output for x in report.layers]
    assert sum(p.numel() for p in model.parameters()) == report.params
