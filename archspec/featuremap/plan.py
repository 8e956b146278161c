"""The size planning of a feature_map spec: each operation's window geometry per axis, its output size
(``archspec.cnn.layers.window``: the formula the CNN shape tables show) and the cell budget, checked
before any cell is computed."""
from __future__ import annotations

from dataclasses import dataclass

from ..cnn.layers import ShapeError, window
from ..diagnostics import Diagnostic
from ..limits import MAP_CELLS, MAP_TERMS
from .maps import size
from .ops import ConvOp


@dataclass(frozen=True)
class Axis:
    """One axis (H or W) of a sliding window."""

    size: int  # input length
    k: int
    s: int
    lo: int  # padding before / after
    hi: int
    d: int  # dilation
    out: int
    formula: str  # 'floor((5 - 3 + 2*0) / 1) + 1 = 3'

    def taps(self, o: int) -> list[int]:
        """Input positions read by output o (may lie in the padding)."""
        return [o * self.s - self.lo + i * self.d for i in range(self.k)]

    def padded(self, p: int) -> bool:
        """Inside the padded input (ceil_mode windows may run past it)."""
        return -self.lo <= p < self.size + self.hi

    def real(self, p: int) -> bool:
        return 0 <= p < self.size


@dataclass(frozen=True)
class Plan:
    """Geometry of one step: its input size (C, H, W), axes and output size."""

    in_size: tuple
    axes: tuple  # (Axis H, Axis W)
    out_size: tuple


def _axes(op, c: int, h: int, w: int, spent: list) -> tuple[Axis, Axis]:
    """PyTorch's checks and output sizes; raises ShapeError naming the field to point at."""
    (kh, kw), (sh, sw), (dh, dw) = op.kernel_hw(), op.strides(), op.dilations()
    (pt, pb), (pl, pr) = op.pads()
    if isinstance(op, ConvOp) and op.padding == "same" and (sh, sw) != (1, 1):
        raise ShapeError("same-padding-stride", "padding 'same' needs stride 1 (PyTorch refuses strided 'same')",
                         "padding", hint="give the padding as a number")
    if not isinstance(op, ConvOp) and (pt > kh // 2 or pl > kw // 2):
        raise ShapeError("pool-padding", f"padding {op.padding} is more than half the kernel {op.kernel_size} "
                         "(PyTorch requires padding <= kernel_size // 2)", "padding")
    ceil = getattr(op, "ceil_mode", False)
    axes = []
    for n, k, s, lo, hi, d, name in ((h, kh, sh, pt, pb, dh, "H"), (w, kw, sw, pl, pr, dw, "W")):
        if n + lo + hi < d * (k - 1) + 1:
            dil = f" (dilation {d}, spanning {d * (k - 1) + 1})" if d > 1 else ""
            raise ShapeError("kernel-too-large", f"{name}: kernel {k}{dil} is larger than the padded input "
                             f"{n} + {lo + hi} = {n + lo + hi}", op.size_field,
                             hint="use a smaller kernel, or more padding")
        out, formula = window(n, k, s, lo, hi, d, ceil, name)
        axes.append(Axis(n, k, s, lo, hi, d, out, formula))
    spent[0] = _within_budget(op, c, *axes, spent[0])
    if not isinstance(op, ConvOp):  # PyTorch gives -inf / nan for a window of padding only
        for ax, name in zip(axes, "HW"):
            empty = [o for o in range(ax.out) if not any(ax.real(p) for p in ax.taps(o))]
            if empty:
                raise ShapeError("window-in-padding", f"{name}: the window of output {empty[0] + 1} covers only "
                                 "padding", "padding", hint="use less padding or a smaller dilation")
    return axes[0], axes[1]


def _within_budget(op, c: int, ah: "Axis", aw: "Axis", spent: int) -> int:
    """Every cell is computed and written out: refuse maps and windows beyond archspec.limits' budget. Returns
    the numbers read so far (``spent`` by the steps before, and this step's windows)."""
    padded = c * (ah.size + ah.lo + ah.hi) * (aw.size + aw.lo + aw.hi)
    cells = (1 if isinstance(op, ConvOp) else c) * ah.out * aw.out
    terms = spent + cells * ah.k * aw.k * (c if isinstance(op, ConvOp) else 1)
    for what, n, limit, field in (("the padded input", padded, MAP_CELLS, "padding"),
                                  ("the output", cells, MAP_CELLS, "padding" if ah.lo + aw.lo else "stride"),
                                  ("the windows", terms, MAP_TERMS, op.size_field)):
        if n > limit:
            unit = "numbers read" + " (this step and those before)" * bool(spent) if what == "the windows" \
                else "cells"
            raise ShapeError("map-too-large", f"{what} would have {n:,} {unit}, more than the {limit:,} a worked "
                             "solution writes out", field, hint="use a smaller map, padding or kernel")
    return terms


def plan(in_size: tuple, steps) -> list[Plan]:
    """Sizes through the whole sequence; raises ShapeError (with ``.step``) at the first bad step."""
    out, spent = [], [0]  # numbers read by the windows so far
    for i, (op, _) in enumerate(steps):
        c = in_size[0]
        if isinstance(op, ConvOp):
            kc = size(op.kernel_map())[0]
            if kc != c:
                raise _at(ShapeError("kernel-channels", f"the input has {c} channel{'s' * (c > 1)} but the kernel "
                                     f"has {kc} map{'s' * (kc > 1)}", "kernel",
                                     hint="give one kernel map per input channel"), i)
        try:
            ah, aw = _axes(op, *in_size, spent)
        except ShapeError as exc:
            raise _at(exc, i) from None
        out_size = (1 if isinstance(op, ConvOp) else c, ah.out, aw.out)
        out.append(Plan(in_size, (ah, aw), out_size))
        in_size = out_size
    return out


def _at(exc: ShapeError, step: int) -> ShapeError:
    exc.step = step
    return exc


def plan_diagnostics(in_size: tuple, steps, sequence: bool) -> list[Diagnostic]:
    try:
        plan(in_size, steps)
    except ShapeError as exc:
        op, base = steps[exc.step]
        where = f"step {exc.step + 1} ({op.type}): " if sequence else ""
        return [Diagnostic(exc.code, where + exc.message, base + (exc.field,), hint=exc.hint)]
    return []
