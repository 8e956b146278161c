"""An independent torch translation of cnn layer dicts, used only as the tests' oracle.

Deliberately written from the spec dicts (not archspec's builder), so a bug in
archspec's shape inference or builder cannot hide behind itself.
"""
from __future__ import annotations

import torch
from torch import nn


def _module(layer: dict, channels: int, features: int):
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in layer.items() if k not in ("type", "name")}
    t = layer["type"]
    if t == "conv2d":
        return nn.Conv2d(channels, **kw)
    if t == "linear":
        return nn.Linear(features, **kw)
    if t == "batchnorm2d":
        return nn.BatchNorm2d(channels, **kw)
    simple = {"maxpool2d": nn.MaxPool2d, "avgpool2d": nn.AvgPool2d, "adaptive_avgpool2d": nn.AdaptiveAvgPool2d,
              "dropout": nn.Dropout, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid,
              "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=1), "flatten": nn.Flatten}
    return simple[t](**kw)


def run_layers(input_shape, layers: list[dict]):
    """Per-layer output shapes in H x W x C convention, and the parameter count.

    Raises whatever torch raises when the network is impossible.
    """
    x = torch.zeros(1, input_shape[-1], *input_shape[:2]) if len(input_shape) == 3 else torch.zeros(1, input_shape[0])
    shapes, params = [], 0
    with torch.no_grad():
        for layer in layers:
            c = x.shape[1]
            f = x.shape[-1]
            m = _module(layer, c, f).eval()
            if layer["type"] == "linear" and x.dim() != 2:
                raise ValueError("linear on a feature map")
            if layer["type"] in ("conv2d", "maxpool2d", "avgpool2d", "batchnorm2d", "adaptive_avgpool2d") and x.dim() != 4:
                raise ValueError("spatial layer on a flat tensor")
            x = m(x)
            params += sum(p.numel() for p in m.parameters())
            shapes.append((x.shape[2], x.shape[3], x.shape[1]) if x.dim() == 4 else (x.shape[1],))
    return shapes, params
