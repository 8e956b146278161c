"""Exact convolution and pooling with PyTorch's semantics, one Fraction at a time.

Computing only (worked text lives in ``explain``). Window geometry per axis:
output o reads input rows ``o*s - pad_lo + i*d`` for i < k (negative or past the
end: padding). Output sizes come from ``archspec.cnn.layers.window``, so the
formula text is the one the CNN shape tables show.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .maps import Map, number, size
from .ops import AvgPoolOp, ConvOp, MaxPoolOp
from .plan import Axis, Plan, plan, plan_diagnostics  # noqa: F401 (the planning API)


@dataclass(frozen=True)
class Cell:
    """One output value and what it is made of (0-based indices)."""

    channel: int
    row: int
    col: int
    value: Fraction
    terms: tuple  # per input channel used: conv ((x, w), ...); pools (x, ...)
    window: tuple  # (channel, row, col) input positions drawn (padding included, unpadded frame)
    bias: Fraction | None = None
    divisor: int | None = None  # average pooling


@dataclass
class Step:
    index: int  # 0-based
    op: object
    path: tuple
    input: Map
    kernel: Map | None  # as applied (flipped when flip_kernel)
    axes: tuple  # (Axis H, Axis W)
    output: Map
    cells: list  # Cell, in channel, row, col order


def _conv(op, x, kernel, ah, aw, c, i, j):
    pad, bias = number(op.padding_value), number(op.bias) if op.bias is not None else None
    rows, cols = ah.taps(i), aw.taps(j)
    terms = tuple(tuple((x[ch][r][q] if ah.real(r) and aw.real(q) else pad, kernel[ch][a][b])
                        for a, r in enumerate(rows) for b, q in enumerate(cols)) for ch in range(len(x)))
    value = sum((v * w for group in terms for v, w in group), Fraction(0)) + (bias or 0)
    window = tuple((ch, r, q) for ch in range(len(x)) for r in rows for q in cols)
    return Cell(c, i, j, value, terms, window, bias)


def _max(op, x, kernel, ah, aw, c, i, j):
    cells = [(r, q) for r in ah.taps(i) for q in aw.taps(j) if ah.padded(r) and aw.padded(q)]
    values = tuple(x[c][r][q] for r, q in cells if ah.real(r) and aw.real(q))  # padding is -inf: left out
    return Cell(c, i, j, max(values), (values,), tuple((c, r, q) for r, q in cells))


def _avg(op, x, kernel, ah, aw, c, i, j):
    cells = [(r, q) for r in ah.taps(i) for q in aw.taps(j) if ah.padded(r) and aw.padded(q)]
    if not op.count_include_pad:
        cells = [(r, q) for r, q in cells if ah.real(r) and aw.real(q)]
    values = tuple(x[c][r][q] if ah.real(r) and aw.real(q) else Fraction(0) for r, q in cells)
    return Cell(c, i, j, sum(values, Fraction(0)) / len(values), (values,), tuple((c, r, q) for r, q in cells),
                divisor=len(values))


CELL = {ConvOp: _conv, MaxPoolOp: _max, AvgPoolOp: _avg}


def run(spec) -> list[Step]:
    """Every step of a (valid) spec, computed exactly."""
    x = spec.input_map()
    steps = spec.steps()
    out = []
    for index, ((op, path), geo) in enumerate(zip(steps, plan(size(x), steps))):
        kernel = op.kernel_map() if isinstance(op, ConvOp) else None
        ah, aw = geo.axes
        cells = [CELL[type(op)](op, x, kernel, ah, aw, c, i, j)
                 for c in range(geo.out_size[0]) for i in range(ah.out) for j in range(aw.out)]
        y = [[[cells[(c * ah.out + i) * aw.out + j].value for j in range(aw.out)] for i in range(ah.out)]
             for c in range(geo.out_size[0])]
        out.append(Step(index, op, path, x, kernel, geo.axes, y, cells))
        x = y
    return out


def output(spec) -> Map:
    """The final map, [C][H][W] of Fractions."""
    return run(spec)[-1].output
