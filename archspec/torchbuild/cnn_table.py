"""Spec layer type -> torch.nn constructor and its arguments (torch-free; shared by build and codegen).

Layer parameters already carry PyTorch's names and defaults, so a layer's
arguments are its non-default settings plus what shape inference supplies
(in_channels, num_features, in_features) and a few fixed values (softmax dim).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..cnn.layers import Layer, Shape


def _none(shape: Shape) -> dict:
    return {}


@dataclass(frozen=True)
class Ctor:
    cls: str  # class name in torch.nn
    from_shape: Callable[[Shape], dict] = _none  # arguments inferred from the input shape (H, W, C) or (N,)
    fixed: dict = field(default_factory=dict)
    always: tuple = ()  # settings passed even at archspec's default (torch has no default for them)


TORCH: dict[str, Ctor] = {
    "conv2d": Ctor("Conv2d", lambda s: {"in_channels": s[2]}),
    "maxpool2d": Ctor("MaxPool2d"),
    "avgpool2d": Ctor("AvgPool2d"),
    "adaptive_avgpool2d": Ctor("AdaptiveAvgPool2d", always=("output_size",)),
    "batchnorm2d": Ctor("BatchNorm2d", lambda s: {"num_features": s[2]}),
    "dropout": Ctor("Dropout"),
    "relu": Ctor("ReLU"),
    "leaky_relu": Ctor("LeakyReLU"),
    "sigmoid": Ctor("Sigmoid"),
    "tanh": Ctor("Tanh"),
    "softmax": Ctor("Softmax", fixed={"dim": 1}),  # over the class axis of N x classes
    "flatten": Ctor("Flatten"),  # N x C x H x W -> N x (C*H*W): same count as the spec's H x W x C
    "linear": Ctor("Linear", lambda s: {"in_features": s[0]}),
}


def arguments(layer: Layer, in_shape: Shape) -> dict:
    """Keyword arguments for the torch constructor, in its usual order; pairs as tuples."""
    ctor = TORCH[layer.type]
    own = layer.model_dump(exclude={"type", "name"})
    own = {k: v for k, v in own.items() if k in ctor.always or v != type(layer).model_fields[k].default}
    own = {k: tuple(v) if isinstance(v, list) else v for k, v in own.items()}
    return {**ctor.from_shape(in_shape), **own, **ctor.fixed}


def torch_dims(shape: Shape) -> tuple:
    """(H, W, C) -> (C, H, W); flat shapes unchanged (PyTorch is channels-first)."""
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 else tuple(shape)
