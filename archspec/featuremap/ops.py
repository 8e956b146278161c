"""The operations of a feature_map spec: one pydantic model each (conv2d, maxpool2d, avgpool2d) with its
window geometry; below both the spec model (``spec``) and the size planning (``plan``)."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Optional, Union

from pydantic import Field, StrictFloat, StrictInt, WithJsonSchema

from ..cnn.layers import Conv2d
from ..specbase import NonNegPair, Pair, Strict, pair
from .maps import Map, number, parse_map, size

_FRACTION = r"^\s*[-+]?[0-9.]+(\s*/\s*[0-9.]+)?\s*$"
_NUMBER_SCHEMA = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": _FRACTION}]}
# Exact numbers: YAML ints and decimals, or text such as '1/4' (checked in ``check``)
Number = Annotated[Union[StrictInt, StrictFloat, str], WithJsonSchema(_NUMBER_SCHEMA)]
# Shape and contents are checked in ``check`` so every bad row or value gets its own located message
Matrix = Annotated[list, WithJsonSchema({
    "type": "array", "minItems": 1, "description": "rows of numbers (H x W), or channels of them (C x H x W)",
    "items": {"type": "array", "items": {"anyOf": [_NUMBER_SCHEMA, {"type": "array", "items": _NUMBER_SCHEMA}]}}})]
ConvPadding = Union[NonNegPair, Literal["same", "valid"]]


class ConvOp(Strict):
    """Cross-correlation as in torch.nn.functional.conv2d (one output channel)."""

    type: Literal["conv2d"]
    kernel: Matrix = Field(description="kh x kw weights, or one kh x kw map per input channel")
    stride: Pair = 1
    padding: ConvPadding = 0
    padding_value: Number = Field(0, description="value of the padded cells (default 0, zero padding)")
    dilation: Pair = 1
    bias: Optional[Number] = Field(None, description="added to every output cell")
    flip_kernel: bool = Field(False, description="rotate the kernel 180 degrees first (signal-processing convolution)")
    size_field: ClassVar[str] = "kernel"

    def kernel_map(self) -> Map:
        k = parse_map(self.kernel, (), "kernel")[0]
        return [[row[::-1] for row in grid[::-1]] for grid in k] if self.flip_kernel else k

    def kernel_hw(self) -> tuple[int, int]:
        return size(self.kernel_map())[1:]

    def strides(self):
        return pair(self.stride)

    def dilations(self):
        return pair(self.dilation)

    def pads(self):
        """((top, bottom), (left, right)); 'same' as PyTorch (the odd extra cell on the far side)."""
        kh, kw = self.kernel_hw()
        return Conv2d(type="conv2d", out_channels=1, kernel_size=[kh, kw], padding=self.padding,
                      dilation=self.dilation).pads()

    def numbers(self) -> dict:
        return {"padding_value": number(self.padding_value),
                "bias": None if self.bias is None else number(self.bias)}


class _Pool(Strict):
    kernel_size: Pair
    stride: Optional[Pair] = Field(None, description="default: kernel_size")
    padding: NonNegPair = 0
    ceil_mode: bool = False
    size_field: ClassVar[str] = "kernel_size"

    def kernel_hw(self) -> tuple[int, int]:
        return pair(self.kernel_size)

    def strides(self):
        return pair(self.stride if self.stride is not None else self.kernel_size)

    def dilations(self):
        return pair(getattr(self, "dilation", 1))

    def pads(self):
        ph, pw = pair(self.padding)
        return (ph, ph), (pw, pw)


class MaxPoolOp(_Pool):
    """torch.nn.functional.max_pool2d: padded cells are -inf, so they never win."""

    type: Literal["maxpool2d"]
    dilation: Pair = 1


class AvgPoolOp(_Pool):
    """torch.nn.functional.avg_pool2d: padded zeros count in the divisor unless count_include_pad is false."""

    type: Literal["avgpool2d"]
    count_include_pad: bool = True


OP_MODELS = {"conv2d": ConvOp, "maxpool2d": MaxPoolOp, "avgpool2d": AvgPoolOp}
Op = Union[ConvOp, MaxPoolOp, AvgPoolOp]
AnyOp = Annotated[Op, Field(discriminator="type")]
