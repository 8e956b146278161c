"""Pooling and resizing: max/avg pools, adaptive pools and ``upsample`` (PyTorch's output sizes)."""
from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal, Optional, Union

from pydantic import Field

from ..specbase import NonNegPair, Pair, pair
from .base import Layer, ShapeError, window

Scale = Annotated[float, Field(gt=0, le=1024)]


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


class _Adaptive(Layer):
    output_size: Pair = 1
    spatial: ClassVar[bool] = True
    names: ClassVar[tuple[str, str]] = ("gap", "apool")  # default-name prefix: global (1 x 1), otherwise

    @classmethod
    def prefix_for(cls, values):
        size = values.get("output_size", 1)
        return cls.names[size not in (1, [1, 1], (1, 1))]

    def output_shape(self, shape):
        oh, ow = pair(self.output_size)
        return (oh, ow, shape[2]), [f"H: output_size = {oh}", f"W: output_size = {ow}"]


class AdaptiveAvgPool2d(_Adaptive):
    type: Literal["adaptive_avgpool2d"]
    prefix: ClassVar[str] = "gap"


class AdaptiveMaxPool2d(_Adaptive):
    type: Literal["adaptive_maxpool2d"]
    prefix: ClassVar[str] = "gmp"
    names: ClassVar[tuple[str, str]] = ("gmp", "amaxpool")


class Upsample(Layer):
    """Fixed (not learned) resizing: ``size`` or ``scale_factor``, as ``nn.Upsample``."""

    type: Literal["upsample"]
    size: Optional[Pair] = Field(None, description="output [H, W] (or one number for both); or give scale_factor")
    scale_factor: Union[Scale, Annotated[list[Scale], Field(min_length=2, max_length=2)], None] = Field(
        None, description="output = floor(input * scale_factor) on each axis")
    mode: Literal["nearest", "bilinear"] = "nearest"
    align_corners: Optional[bool] = Field(None, description="bilinear only")
    prefix: ClassVar[str] = "up"
    spatial: ClassVar[bool] = True

    def check_settings(self):
        if (self.size is None) == (self.scale_factor is None):
            raise ShapeError("upsample-size", "upsample takes either size or scale_factor" +
                             (", not both" if self.size is not None else ", and neither is given"),
                             "size" if self.size is not None else None,
                             hint="remove one of them" if self.size is not None else "e.g. scale_factor: 2")
        if self.align_corners is not None and self.mode == "nearest":
            raise ShapeError("upsample-align", "align_corners only applies to mode: bilinear (PyTorch refuses it "
                             "with nearest)", "align_corners", hint="remove align_corners, or use mode: bilinear")

    def output_shape(self, shape):
        h, w, c = shape
        self.check_settings()
        if self.size is not None:
            oh, ow = pair(self.size)
            return (oh, ow, c), [f"H: size = {oh}", f"W: size = {ow}"]
        sf = self.scale_factor
        s_h, s_w = (sf, sf) if not isinstance(sf, list) else sf
        out, formulas = [], []
        for size, s, axis in ((h, s_h, "H"), (w, s_w, "W")):
            n = math.floor(float(size) * s)
            if n < 1:
                raise ShapeError("size-below-one", f"{axis}: floor({size} * {s:g}) = {n}: output size must be at "
                                 "least 1", "scale_factor", hint="use a larger scale_factor")
            out.append(n)
            formulas.append(f"{axis}: floor({size} * {s:g}) = {n}")
        return (out[0], out[1], c), formulas
