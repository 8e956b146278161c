"""Spec layer type -> torch.nn constructor and its arguments (torch-free; shared by build and codegen).

Layer parameters already carry PyTorch's names and defaults, so a layer's
arguments are its non-default settings plus what shape inference supplies
(in_channels, num_features, in_features) and a few fixed values (softmax dim).
Merge layers have no torch.nn class: ``merge_ops`` holds their modules for
``build``, and ``MERGE_SOURCE`` the expression codegen writes for them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..cnn.base import Shape
from ..cnn.layers import BY_TYPE


def _none(shape: Shape) -> dict:
    return {}


@dataclass(frozen=True)
class Ctor:
    cls: str  # class name in torch.nn (merges: in archspec.torchbuild.merge_ops)
    from_shape: Callable[[Shape], dict] = _none  # arguments inferred from the input shape (H, W, C) or (N,)
    fixed: dict = field(default_factory=dict)
    always: tuple = ()  # settings passed even at archspec's default (torch has no default for them)
    merge: bool = False


def _channels(key: str) -> Callable[[Shape], dict]:
    return lambda s: {key: s[2]}


TORCH: dict[str, Ctor] = {
    "conv2d": Ctor("Conv2d", _channels("in_channels")),
    "convtranspose2d": Ctor("ConvTranspose2d", _channels("in_channels")),
    "maxpool2d": Ctor("MaxPool2d"),
    "avgpool2d": Ctor("AvgPool2d"),
    "adaptive_avgpool2d": Ctor("AdaptiveAvgPool2d", always=("output_size",)),
    "adaptive_maxpool2d": Ctor("AdaptiveMaxPool2d", always=("output_size",)),
    "upsample": Ctor("Upsample"),
    "batchnorm2d": Ctor("BatchNorm2d", _channels("num_features")),
    "dropout": Ctor("Dropout"),
    "identity": Ctor("Identity"),
    "relu": Ctor("ReLU"),
    "leaky_relu": Ctor("LeakyReLU"),
    "gelu": Ctor("GELU"),
    "silu": Ctor("SiLU"),
    "sigmoid": Ctor("Sigmoid"),
    "tanh": Ctor("Tanh"),
    "softmax": Ctor("Softmax", fixed={"dim": 1}),  # over the class axis of N x classes
    "flatten": Ctor("Flatten"),  # N x C x H x W -> N x (C*H*W): same count as the spec's H x W x C
    "linear": Ctor("Linear", lambda s: {"in_features": s[0]}),
    "add": Ctor("Add", merge=True),
    "concat": Ctor("Concat", merge=True),  # along dim 1: channels of N x C x H x W, features of N x F
    "multiply": Ctor("Multiply", merge=True),  # an N x C (or N x C x 1 x 1) gate broadcast over H x W
}


def merge_source(op: str, names: list[str], shapes: list[Shape]) -> str:
    """The Python expression of a merge over variables ``names`` (codegen's forward line)."""
    if op == "concat":
        return f"torch.cat([{', '.join(names)}], dim=1)"
    if op == "add":
        return " + ".join(names)
    rank = max(len(s) for s in shapes)  # multiply: a flat [C] gate beside a feature map gets H = W = 1
    parts = [f"{n}[:, :, None, None]" if rank == 3 and len(s) == 1 else n for n, s in zip(names, shapes)]
    return " * ".join(parts)


def layer_arguments(op: str, args: dict, in_shape: Shape) -> dict:
    """Keyword arguments for the torch constructor of a layer of type ``op`` with parameter values ``args``
    (defaults filled in) on an input of ``in_shape``, in the constructor's usual order; pairs as tuples."""
    ctor, fields = TORCH[op], BY_TYPE[op].model_fields
    own = {k: v for k, v in args.items() if k in ctor.always or v != fields[k].default}
    own = {k: tuple(v) if isinstance(v, list) else v for k, v in own.items()}
    return {**ctor.from_shape(in_shape), **own, **ctor.fixed}


def arguments(node) -> dict:
    """``layer_arguments`` of an IR layer node."""
    return layer_arguments(node.op, node.attrs["args"], node.attrs["inputs"][0])


def torch_dims(shape: Shape) -> tuple:
    """(H, W, C) -> (C, H, W); flat shapes unchanged (PyTorch is channels-first)."""
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 else tuple(shape)
