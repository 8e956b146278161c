"""Convolutions: ``conv2d`` and ``convtranspose2d`` (PyTorch's parameters and output sizes)."""
from __future__ import annotations

from typing import ClassVar, Literal, Union

from ..specbase import NonNegPair, Pair, PositiveInt, pair
from .base import Layer, ShapeError, below_one, window


def _checked(layer, shape) -> tuple:
    """The settings checks a (transposed) convolution makes on its input; its (kernel, stride, dilation) pairs."""
    layer.check_settings()
    if shape[2] % layer.groups:
        raise ShapeError("bad-groups", f"groups={layer.groups} must divide in_channels={shape[2]}", "groups")
    return pair(layer.kernel_size), pair(layer.stride), pair(layer.dilation)


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
        h, w, _ = shape
        (k_h, k_w), (s_h, s_w), (d_h, d_w) = _checked(self, shape)
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

    def depthwise(self, in_channels: int) -> bool:
        """One filter group per input channel (MobileNet's depthwise convolution)."""
        return self.groups > 1 and self.groups == in_channels

    def resolved(self):
        r = super().resolved()
        (pt, pb), (pl, pr) = self.pads()
        r["padding"] = (max(pt, pb), max(pl, pr))
        return r


def transposed(size: int, k: int, s: int, p: int, d: int, extra: int, axis: str) -> tuple[int, str]:
    """Output length of a transposed convolution, PyTorch's rule, with the formula shown:
    out = (in - 1)*s - 2p + d*(k - 1) + output_padding + 1."""
    out = (size - 1) * s - 2 * p + d * (k - 1) + extra + 1
    tail = f" + {k}" if d == 1 else f" + {d}*({k} - 1) + 1"
    expr = f"({size} - 1)*{s} - 2*{p}{tail}" + (f" + {extra}" if extra else "")
    if out < 1:
        below_one(axis, expr, out)
    return out, f"{expr} = {out}"


class ConvTranspose2d(Layer):
    """The learned upsampling of U-Nets and decoders: each input pixel scatters a k x k filter."""

    type: Literal["convtranspose2d"]
    out_channels: PositiveInt
    kernel_size: Pair
    stride: Pair = 1
    padding: NonNegPair = 0
    output_padding: NonNegPair = 0
    dilation: Pair = 1
    groups: PositiveInt = 1
    bias: bool = True
    prefix: ClassVar[str] = "upconv"
    spatial: ClassVar[bool] = True

    def check_settings(self):
        if self.out_channels % self.groups:
            raise ShapeError("bad-groups", f"groups={self.groups} must divide out_channels={self.out_channels}",
                             "groups")
        for op, s, d in zip(pair(self.output_padding), pair(self.stride), pair(self.dilation)):
            if op >= max(s, d):
                raise ShapeError("bad-output-padding", f"output_padding {op} must be smaller than the stride {s} "
                                 f"or the dilation {d} (PyTorch refuses it)", "output_padding",
                                 hint="output_padding picks one of the sizes a strided convolution maps to the "
                                      "same input size: 0 .. stride - 1")

    def output_shape(self, shape):
        h, w, _ = shape
        (k_h, k_w), (s_h, s_w), (d_h, d_w) = _checked(self, shape)
        (p_h, p_w), (o_h, o_w) = pair(self.padding), pair(self.output_padding)
        oh, fh = transposed(h, k_h, s_h, p_h, d_h, o_h, "H")
        ow, fw = transposed(w, k_w, s_w, p_w, d_w, o_w, "W")
        return (oh, ow, self.out_channels), [f"H: {fh}", f"W: {fw}"]

    def params(self, shape):
        k_h, k_w = pair(self.kernel_size)
        return shape[2] * (self.out_channels // self.groups) * k_h * k_w + (self.out_channels if self.bias else 0)

    def macs(self, shape, out):
        k_h, k_w = pair(self.kernel_size)
        return shape[0] * shape[1] * shape[2] * (self.out_channels // self.groups) * k_h * k_w
