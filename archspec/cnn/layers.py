"""CNN layer kinds: one pydantic model each, with pure shape/param/MAC functions, and the registry
of every kind (``LAYER_TYPES``, ``BY_TYPE``, ``AnyLayer``).

Convolutions live in ``conv``, pools and resizing in ``pools``, merges in ``merges``; the shared
arithmetic (``window``) and the ``Layer`` base in ``base``. The arithmetic follows PyTorch exactly.
"""
from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field

from ..specbase import PositiveInt
from .base import NOT_PARAMETERS, Layer, Shape, ShapeError, dims, grouped, window  # noqa: F401 (the layer API)
from .conv import Conv2d, ConvTranspose2d
from .merges import Add, Concat, Multiply
from .pools import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, Upsample


class BatchNorm2d(Layer):
    type: Literal["batchnorm2d"]
    eps: Annotated[float, Field(gt=0)] = 1e-5
    momentum: Annotated[float, Field(ge=0, le=1)] = 0.1
    affine: bool = True
    prefix: ClassVar[str] = "bn"
    spatial: ClassVar[bool] = True

    def params(self, shape):
        return 2 * shape[2] if self.affine else 0


class Dropout(Layer):
    type: Literal["dropout"]
    p: Annotated[float, Field(ge=0, le=1)] = 0.5
    prefix: ClassVar[str] = "dropout"


class Identity(Layer):
    """Passes its input on unchanged (a named tap point, or an empty shortcut)."""

    type: Literal["identity"]
    prefix: ClassVar[str] = "id"


class ReLU(Layer):
    type: Literal["relu"]
    prefix: ClassVar[str] = "relu"


class LeakyReLU(Layer):
    type: Literal["leaky_relu"]
    negative_slope: float = 0.01
    prefix: ClassVar[str] = "lrelu"


class GELU(Layer):
    type: Literal["gelu"]
    approximate: Literal["none", "tanh"] = "none"
    prefix: ClassVar[str] = "gelu"


class SiLU(Layer):
    type: Literal["silu"]
    prefix: ClassVar[str] = "silu"


class Sigmoid(Layer):
    type: Literal["sigmoid"]
    prefix: ClassVar[str] = "sigmoid"


class Tanh(Layer):
    type: Literal["tanh"]
    prefix: ClassVar[str] = "tanh"


class Softmax(Layer):
    type: Literal["softmax"]
    prefix: ClassVar[str] = "softmax"


class Flatten(Layer):
    type: Literal["flatten"]
    prefix: ClassVar[str] = "flatten"

    def output_shape(self, shape):
        n = math.prod(shape)
        return (n,), ([f"N: {' * '.join(map(str, shape))} = {n}"] if len(shape) > 1 else [])


class Linear(Layer):
    type: Literal["linear"]
    out_features: PositiveInt
    bias: bool = True
    prefix: ClassVar[str] = "fc"

    def output_shape(self, shape):
        if len(shape) != 1:
            raise ShapeError("linear-needs-flat", f"linear needs a flat input but receives {dims(shape)}",
                             hint="add {type: flatten} before it")
        return (self.out_features,), []

    def params(self, shape):
        return shape[0] * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, shape, out):
        return shape[0] * self.out_features


LAYER_TYPES = (Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d, Dropout, ReLU, LeakyReLU,
               Sigmoid, Tanh, Softmax, Flatten, Linear,
               ConvTranspose2d, Upsample, AdaptiveMaxPool2d, GELU, SiLU, Identity, Add, Concat, Multiply)
BY_TYPE: dict[str, type[Layer]] = {cls.model_fields["type"].annotation.__args__[0]: cls for cls in LAYER_TYPES}
AnyLayer = Annotated[Union[LAYER_TYPES], Field(discriminator="type")]
