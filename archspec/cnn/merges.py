"""Merge layers: ``add``, ``concat`` and ``multiply`` take ``from: [NAME, NAME, ...]`` (two or more)
and join those outputs, as ResNet's shortcuts, U-Net's and Inception's concatenations and
squeeze-and-excitation's channel gates do."""
from __future__ import annotations

from typing import ClassVar, Literal

from .base import Layer, Shape, ShapeError, dims


def _listed(inputs) -> str:
    return ", ".join(f"{name} gives {dims(shape)}" for name, shape in inputs)


class _Merge(Layer):
    merge: ClassVar[bool] = True

    def take(self, inputs):
        return self.join(inputs)

    def join(self, inputs: list[tuple[str, Shape]]) -> tuple[Shape, list[str]]:
        raise NotImplementedError


class Add(_Merge):
    """Element-wise sum (ResNet's shortcut): every input has the same shape."""

    type: Literal["add"]
    prefix: ClassVar[str] = "add"

    def join(self, inputs):
        first = inputs[0][1]
        if any(shape != first for _, shape in inputs):
            raise ShapeError("merge-shape", f"add sums element by element, so its inputs need one shape, but "
                             f"{_listed(inputs)}", "from",
                             hint="match them first, e.g. a 1x1 conv2d with the stride and out_channels of the "
                                  "other branch on the shortcut")
        return first, [f"{' + '.join(dims(s) for _, s in inputs)}: one shape, summed element by element"]


class Concat(_Merge):
    """Joined along the channels (H and W must match); flat inputs join their features."""

    type: Literal["concat"]
    prefix: ClassVar[str] = "cat"

    def join(self, inputs):
        ranks = {len(shape) for _, shape in inputs}
        if ranks == {1}:
            n = sum(shape[0] for _, shape in inputs)
            return (n,), [f"N: {' + '.join(str(s[0]) for _, s in inputs)} = {n}"]
        if ranks != {3}:
            raise ShapeError("merge-shape", f"concat cannot join feature maps with flat vectors: {_listed(inputs)}",
                             "from", hint="flatten every input, or concat before flatten")
        h, w = inputs[0][1][:2]
        if any(shape[:2] != (h, w) for _, shape in inputs):
            raise ShapeError("concat-size", f"concat joins along the channels, so H and W must match, but "
                             f"{_listed(inputs)}", "from",
                             hint="resize one branch first (a strided conv or pool, upsample, or padding that "
                                  "keeps the size)")
        c = sum(shape[2] for _, shape in inputs)
        return (h, w, c), [f"C: {' + '.join(str(s[2]) for _, s in inputs)} = {c}  (H x W match: {h} x {w})"]


class Multiply(_Merge):
    """Element-wise product; a 1 x 1 x C (or [C]) input scales each channel of an H x W x C one
    (squeeze-and-excitation)."""

    type: Literal["multiply"]
    prefix: ClassVar[str] = "mul"

    def join(self, inputs):
        shapes = [shape for _, shape in inputs]
        maps = [s for s in shapes if len(s) == 3 and s[:2] != (1, 1)]
        full = maps[0] if maps else max(shapes, key=len)  # the map the gates scale (or the largest input)
        gates = [s for s in shapes if s != full]
        bad = [s for s in gates if not (len(full) == 3 and s in ((1, 1, full[2]), (full[2],)))]
        if bad:
            raise ShapeError("merge-shape", f"multiply needs inputs of one shape, or a 1 x 1 x C (or [C]) gate "
                             f"beside an H x W x C input, but {_listed(inputs)}", "from",
                             hint="a gate has one value per channel of the map it scales")
        how = "element-wise product, shape unchanged" if not gates else (
            f"{' and '.join(dims(s) for s in dict.fromkeys(gates))} broadcast over H x W: one factor per channel")
        return full, [f"{' * '.join(dims(s) for s in shapes)}: {how}"]
