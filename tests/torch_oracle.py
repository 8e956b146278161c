"""An independent torch translation of cnn layer dicts, used only as the tests' oracle.

Deliberately written from the spec dicts (not archspec's builder), so a bug in
archspec's shape inference or builder cannot hide behind itself. Layers may say
``from:`` (a name or a list of names) and merge with add/concat/multiply.
"""
from __future__ import annotations

import torch
from torch import nn

SPATIAL = ("conv2d", "convtranspose2d", "maxpool2d", "avgpool2d", "batchnorm2d", "adaptive_avgpool2d",
           "adaptive_maxpool2d", "upsample")
MERGES = ("add", "concat", "multiply")
# the default names the README documents: prefix and running number
PREFIX = {"conv2d": "conv", "convtranspose2d": "upconv", "maxpool2d": "pool", "avgpool2d": "avgpool",
          "batchnorm2d": "bn", "dropout": "dropout", "relu": "relu", "leaky_relu": "lrelu", "sigmoid": "sigmoid",
          "tanh": "tanh", "softmax": "softmax", "flatten": "flatten", "linear": "fc", "upsample": "up",
          "gelu": "gelu", "silu": "silu", "identity": "id", "add": "add", "concat": "cat", "multiply": "mul"}


def _prefix(layer: dict) -> str:
    t = layer["type"]
    if t in ("adaptive_avgpool2d", "adaptive_maxpool2d"):
        size = layer.get("output_size", 1)
        is_global = size in (1, [1, 1])
        return {"adaptive_avgpool2d": ("gap", "apool"), "adaptive_maxpool2d": ("gmp", "amaxpool")}[t][not is_global]
    return PREFIX[t]


def names(layers: list[dict]) -> list[str]:
    counts, out = {}, []
    for layer in layers:
        p = _prefix(layer)
        counts[p] = counts.get(p, 0) + 1
        out.append(layer.get("name") or f"{p}{counts[p]}")
    return out


def _module(layer: dict, channels: int, features: int):
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in layer.items() if k not in ("type", "name", "from")}
    t = layer["type"]
    if t.startswith("adaptive_"):
        kw.setdefault("output_size", 1)  # the spec's default (global pooling)
    if t == "conv2d":
        return nn.Conv2d(channels, **kw)
    if t == "convtranspose2d":
        return nn.ConvTranspose2d(channels, **kw)
    if t == "linear":
        return nn.Linear(features, **kw)
    if t == "batchnorm2d":
        return nn.BatchNorm2d(channels, **kw)
    simple = {"maxpool2d": nn.MaxPool2d, "avgpool2d": nn.AvgPool2d, "adaptive_avgpool2d": nn.AdaptiveAvgPool2d,
              "adaptive_maxpool2d": nn.AdaptiveMaxPool2d, "upsample": nn.Upsample,
              "dropout": nn.Dropout, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid,
              "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=1), "flatten": nn.Flatten, "gelu": nn.GELU,
              "silu": nn.SiLU, "identity": nn.Identity}
    return simple[t](**kw)


def _merge(t: str, xs: list):
    if t == "concat":
        return torch.cat(xs, dim=1)
    if t == "add":
        if any(x.shape != xs[0].shape for x in xs):
            raise ValueError("add of different shapes")
        return sum(xs[1:], xs[0])
    rank = max(x.dim() for x in xs)
    xs = [x.view(*x.shape, 1, 1) if rank == 4 and x.dim() == 2 else x for x in xs]
    out = xs[0]
    for x in xs[1:]:  # one shape, or an N x C x 1 x 1 gate of the map's own channel count
        gate = (x.shape[2:] == (1, 1) or out.shape[2:] == (1, 1)) and x.shape[:2] == out.shape[:2]
        if x.shape != out.shape and not gate:
            raise ValueError("multiply of different shapes")
        out = out * x
    if any(x.dim() != out.dim() for x in xs):
        raise ValueError("multiply across ranks")
    return out


def _hwc(x) -> tuple:
    return (x.shape[2], x.shape[3], x.shape[1]) if x.dim() == 4 else (x.shape[1],)


def run_layers(input_shape, layers: list[dict], modules: dict | None = None, x=None):
    """Per-layer output shapes in H x W x C convention, and the parameter count. ``modules`` (if given)
    collects the torch module of each layer by name; ``x`` is an input batch (default zeros).

    Raises whatever torch raises when the network is impossible.
    """
    if x is None:
        x = (torch.zeros(1, input_shape[-1], *input_shape[:2]) if len(input_shape) == 3
             else torch.zeros(1, input_shape[0]))
    values, shapes, params = {"input": x}, [], 0
    layer_names = names(layers)
    with torch.no_grad():
        for i, layer in enumerate(layers):
            src = layer.get("from", layer_names[i - 1] if i else "input")
            srcs = [src] if isinstance(src, str) else list(src)
            xs = [values[s] for s in srcs]
            if layer["type"] in MERGES:
                if len(xs) < 2 or len({x.dim() for x in xs}) > 1 and layer["type"] != "multiply":
                    raise ValueError("a merge needs two inputs of one rank")
                out = _merge(layer["type"], xs)
            else:
                (x,) = xs
                m = _module(layer, x.shape[1], x.shape[-1]).eval()
                if layer["type"] == "linear" and x.dim() != 2:
                    raise ValueError("linear on a feature map")
                if layer["type"] in SPATIAL and x.dim() != 4:
                    raise ValueError("spatial layer on a flat tensor")
                out = m(x)
                params += sum(p.numel() for p in m.parameters())
                if modules is not None:
                    modules[layer_names[i]] = m
            values[layer_names[i]] = out
            shapes.append(_hwc(out))
    return shapes, params, values[layer_names[-1]]


def compare(spec, layers: list[dict], refused: list, modules: dict | None = None, x=None):
    """archspec's answer for ``layers`` against the oracle's: both refuse (None), or archspec's per-layer shapes
    and parameter count equal torch's ((ShapeReport, torch's output)). ``refused``: archspec's diagnostics."""
    try:
        torch_shapes, torch_params, out = run_layers(spec.input, layers, modules, x)
    except (RuntimeError, ValueError) as exc:
        assert refused, f"torch refused ({exc}) but archspec accepted {layers}"
        return None
    assert not refused, f"archspec refused {[d.message for d in refused]} but torch gives {torch_shapes}"
    report = spec.shapes()
    shapes = [x.output for x in report.layers]
    assert shapes == torch_shapes, f"archspec {shapes} != torch {torch_shapes} for {layers}"
    assert report.params == torch_params, f"archspec {report.params:,} != torch {torch_params:,} parameters"
    return report, out
