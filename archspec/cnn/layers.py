"""CNN layer kinds: one pydantic model each, with pure shape/param/MAC functions.

Shapes are tuples in the course's convention: (H, W, C) for feature maps and
(N,) after flatten. The arithmetic follows PyTorch exactly (see ``window``).
"""
from __future__ import annotations

import math
import re
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field

from ..specbase import NonNegPair, Pair, PositiveInt, Strict, pair

Shape = tuple
_BIG = re.compile(r"(?<![\d.])\d{4,}(?![\d.])")  # an integer over 999 (not part of a decimal)


def dims(shape: Shape, sep: str = " x ") -> str:
    """(7, 7, 256) -> '7 x 7 x 256'; (12544,) -> '12,544': shapes as people read them."""
    return sep.join(f"{n:,}" for n in shape)


def grouped(text: str) -> str:
    """Shape arithmetic as people read it: 'N: 7 * 7 * 256 = 12544' -> 'N: 7 * 7 * 256 = 12,544'.
    Formulas are stored without separators (JSON, generated code); presenters pass them through this."""
    return _BIG.sub(lambda m: f"{int(m.group()):,}", text)


class ShapeError(Exception):
    """A layer cannot take its input; ``field`` names the parameter to point at."""

    def __init__(self, code: str, message: str, field: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field, self.hint = code, message, field, hint


def window(size: int, k: int, s: int, p_lo: int, p_hi: int, d: int, ceil: bool, axis: str) -> tuple[int, str]:
    """Output length of a sliding window, PyTorch's rule, with the formula shown.

    out = floor((size + p_lo + p_hi - d*(k-1) - 1) / s) + 1   (ceil with ceil_mode,
    minus one when the last window would start past the input plus left padding).
    """
    eff = d * (k - 1) + 1
    num = size + p_lo + p_hi - eff
    rnd = "ceil" if ceil else "floor"
    pad = f"2*{p_lo}" if p_lo == p_hi else f"{p_lo} + {p_hi}"
    if d == 1:
        expr = f"({size} - {k} + {pad}) / {s}"
    else:
        expr = f"({size} + {pad} - {d}*({k} - 1) - 1) / {s}"
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p_lo:
        out -= 1
        formula = f"{rnd}({expr}) + 1 - 1 = {out}  (last window would start in the padding)"
    else:
        formula = f"{rnd}({expr}) + 1 = {out}"
    if out < 1:
        raise ShapeError("size-below-one", f"{axis}: {formula.split(' = ')[0]} = {out}: output size must be at least 1",
                         hint="use a smaller kernel or stride, more padding, or fewer downsampling layers before it")
    return out, formula


class Layer(Strict):
    """Common fields; subclasses override what differs from an identity layer."""

    name: str | None = Field(None, description="module name; default: type prefix and number, e.g. conv2")
    prefix: ClassVar[str] = "layer"
    spatial: ClassVar[bool] = False  # needs an H x W x C input

    def check_settings(self) -> None:
        """Raise ShapeError for a problem no input shape can fix (PyTorch would refuse the module)."""

    def output_shape(self, shape: Shape) -> tuple[Shape, list[str]]:
        return shape, []

    def params(self, shape: Shape) -> int:
        return 0

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0

    def resolved(self) -> dict:
        """Parameter values after defaults (pairs as (h, w)), for design rules."""
        return {k: (pair(v) if k in ("kernel_size", "stride", "padding", "dilation") and isinstance(v, (int, list)) else v)
                for k, v in self.model_dump().items() if k not in ("type", "name")}

    def settings(self) -> str:
        """Non-default parameters as 'k=v' text for tables and diagrams."""
        items = self.model_dump(exclude_defaults=True, exclude={"type", "name"})
        return ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in items.items())


class Conv2d(Layer):
    type: Literal["conv2d"]
    out_channels: PositiveInt
    kernel_size: Pair
    stride: Pair = 1
    padding: Union[NonNegPair, Literal["same", "valid"]] = 0
    dilation: Pair = 1
    groups: PositiveInt = 1
    bias: bool = True
    prefix: ClassVar[str] = "conv"
    spatial: ClassVar[bool] = True

    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)); 'same' pads like PyTorch (extra on the far side)."""
        if self.padding == "valid":
            return (0, 0), (0, 0)
        if self.padding == "same":
            out = []
            for k, d in zip(pair(self.kernel_size), pair(self.dilation)):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return out[0], out[1]
        ph, pw = pair(self.padding)
        return (ph, ph), (pw, pw)

    def check_settings(self):
        if self.out_channels % self.groups:
            raise ShapeError("bad-groups", f"groups={self.groups} must divide out_channels={self.out_channels}",
                             "groups")
        if self.padding == "same" and pair(self.stride) != (1, 1):
            raise ShapeError("same-padding-stride", "padding='same' needs stride 1 (PyTorch refuses strided 'same')",
                             "padding", hint="give the padding as a number")

    def output_shape(self, shape):
        h, w, c = shape
        self.check_settings()
        if c % self.groups:
            raise ShapeError("bad-groups", f"groups={self.groups} must divide in_channels={c}", "groups")
        (k_h, k_w), (s_h, s_w), (d_h, d_w) = pair(self.kernel_size), pair(self.stride), pair(self.dilation)
        (pt, pb), (pl, pr) = self.pads()
        for size, k, d, lo, hi, axis in ((h, k_h, d_h, pt, pb, "H"), (w, k_w, d_w, pl, pr, "W")):
            if size + lo + hi < d * (k - 1) + 1:
                raise ShapeError("kernel-too-large", f"{axis}: kernel {k} (dilation {d}) is larger than the padded "
                                 f"input {size} + {lo + hi} = {size + lo + hi}", "kernel_size",
                                 hint="use a smaller kernel, more padding, or fewer downsampling layers before it")
        oh, fh = window(h, k_h, s_h, pt, pb, d_h, False, "H")
        ow, fw = window(w, k_w, s_w, pl, pr, d_w, False, "W")
        return (oh, ow, self.out_channels), [f"H: {fh}", f"W: {fw}"]

    def params(self, shape):
        k_h, k_w = pair(self.kernel_size)
        return (shape[2] // self.groups) * k_h * k_w * self.out_channels + (self.out_channels if self.bias else 0)

    def macs(self, shape, out):
        k_h, k_w = pair(self.kernel_size)
        return out[0] * out[1] * out[2] * (shape[2] // self.groups) * k_h * k_w

    def resolved(self):
        r = super().resolved()
        (pt, pb), (pl, pr) = self.pads()
        r["padding"] = (max(pt, pb), max(pl, pr))
        return r


class _Pool(Layer):
    kernel_size: Pair
    stride: Pair | None = Field(None, description="default: kernel_size")
    padding: NonNegPair = 0
    ceil_mode: bool = False
    spatial: ClassVar[bool] = True
    _dilation = (1, 1)

    def strides(self):
        return pair(self.stride if self.stride is not None else self.kernel_size)

    def dilations(self):
        return pair(getattr(self, "dilation", 1))

    def check_settings(self):
        (k_h, k_w), (p_h, p_w) = pair(self.kernel_size), pair(self.padding)
        if p_h > k_h // 2 or p_w > k_w // 2:
            raise ShapeError("pool-padding", f"padding {self.padding} is more than half the kernel {self.kernel_size} "
                             "(PyTorch requires padding <= kernel_size // 2)", "padding")

    def output_shape(self, shape):
        h, w, c = shape
        self.check_settings()
        (k_h, k_w), (p_h, p_w) = pair(self.kernel_size), pair(self.padding)
        (s_h, s_w), (d_h, d_w) = self.strides(), self.dilations()
        oh, fh = window(h, k_h, s_h, p_h, p_h, d_h, self.ceil_mode, "H")
        ow, fw = window(w, k_w, s_w, p_w, p_w, d_w, self.ceil_mode, "W")
        return (oh, ow, c), [f"H: {fh}", f"W: {fw}"]

    def resolved(self):
        r = super().resolved()
        r["stride"] = self.strides()
        return r


class MaxPool2d(_Pool):
    type: Literal["maxpool2d"]
    dilation: Pair = 1
    prefix: ClassVar[str] = "pool"


class AvgPool2d(_Pool):
    type: Literal["avgpool2d"]
    count_include_pad: bool = True
    prefix: ClassVar[str] = "avgpool"


class AdaptiveAvgPool2d(Layer):
    type: Literal["adaptive_avgpool2d"]
    output_size: Pair = 1
    prefix: ClassVar[str] = "gap"
    spatial: ClassVar[bool] = True

    def output_shape(self, shape):
        oh, ow = pair(self.output_size)
        return (oh, ow, shape[2]), [f"H: output_size = {oh}", f"W: output_size = {ow}"]


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


class ReLU(Layer):
    type: Literal["relu"]
    prefix: ClassVar[str] = "relu"


class LeakyReLU(Layer):
    type: Literal["leaky_relu"]
    negative_slope: float = 0.01
    prefix: ClassVar[str] = "lrelu"


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
               Sigmoid, Tanh, Softmax, Flatten, Linear)
BY_TYPE: dict[str, type[Layer]] = {cls.model_fields["type"].annotation.__args__[0]: cls for cls in LAYER_TYPES}
AnyLayer = Annotated[Union[LAYER_TYPES], Field(discriminator="type")]
