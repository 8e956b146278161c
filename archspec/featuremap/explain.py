"""Worked solution of a feature-map spec: every output cell's sum, max or mean, as a student writes it.

``Y11 = 1x1 + 0x3 + ... = 5`` for a convolution, ``Y11 = max(4, 2, 4, 3) = 4``
for max pooling, ``Y11 = (4 + 2 + 4 + 3) / 4 = 3.25`` for average pooling;
indices are 1-based; numbers are exact (see ``maps.fmt``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..document import Document, Grid, Heading, Lines, Math, Note, Para, User, explained
from ..tables import formula_text, latex_escape
from .compute import Cell, Step, run
from .maps import fmt, json_number, nested, size
from .prose import prose
from .spec import ConvOp

OP_NAMES = {"conv2d": "convolution", "maxpool2d": "max pooling", "avgpool2d": "average pooling"}
MAP_NAMES = "ABCDEFGHIJ"  # results of intermediate steps; the input is X, the last result Y


@dataclass(frozen=True)
class Style:
    times: str
    max: str
    number: Callable  # Fraction -> text
    name: Callable  # (map name, channel or None, row, col, wide) -> 'Y11'; wide: 'Y1,1' (a map of 10+ rows or cols)
    minus_infinity: str  # a max-pooling pad cell
    formula: Callable = lambda text: text  # an output-size line such as 'H: floor((5 - 3) / 1) + 1 = 3'


def _index(r: int | None, c: int | None, wide: bool = False) -> str:
    """'12' for row 1, column 2; '1,12' in a map with 10 or more rows or columns, for every cell alike."""
    if r is None:
        return ""
    return f"{r},{c}" if wide else f"{r}{c}"


def _latex_name(m: str, ch: int | None, r: int | None, c: int | None, wide: bool = False) -> str:
    sub = _index(r, c, wide)
    return m + (f"^{{({ch})}}" if ch else "") + ("_{" + sub + "}" if sub else "")


def _latex_number(x) -> str:
    s = fmt(x)
    if "/" in s:
        num, den = s.lstrip("-").split("/")
        return ("-" if x < 0 else "") + r"\tfrac{" + num + "}{" + den + "}"
    return s


STYLES = {
    "text": Style("x", "max", fmt, lambda m, ch, r, c, wide=False: m + (f"[{ch}]" if ch else "") + _index(r, c, wide),
                  "-inf"),
    "latex": Style(r" \times ", r"\max", _latex_number, _latex_name, r"-\infty",
                   lambda text: r"&\texttt{" + latex_escape(text) + "}"),  # in align*: not italic f*l*o*o*r
}
TEXT, LATEX = STYLES["text"], STYLES["latex"]


def _n(style: Style, x, wrap: bool = True) -> str:
    """A number inside an expression: negatives and a/b fractions in parentheses (a typeset fraction needs none)."""
    s = style.number(x)
    return f"({s})" if wrap and (x < 0 or "/" in s) else s


def _conv_rhs(cell: Cell, style: Style) -> str:
    groups = [" + ".join(f"{_n(style, v)}{style.times}{_n(style, w)}" for v, w in group) for group in cell.terms]
    text = " + ".join(f"({g})" for g in groups) if len(groups) > 1 else groups[0]
    return text + (f" + {_n(style, cell.bias)}" if cell.bias is not None else "")


def _max_rhs(cell: Cell, style: Style) -> str:
    return f"{style.max}({', '.join(_n(style, v, False) for v in cell.terms[0])})"


def _avg_rhs(cell: Cell, style: Style) -> str:
    return f"({' + '.join(_n(style, v) for v in cell.terms[0])}) / {cell.divisor}"


RHS = {"conv2d": _conv_rhs, "maxpool2d": _max_rhs, "avgpool2d": _avg_rhs}


def expression(step: Step, cell: Cell, style: Style, name: str = "Y", sep: str = " = ") -> str:
    channel = cell.channel + 1 if len(step.output) > 1 else None
    wide = max(size(step.output)[1:]) >= 10
    return (style.name(name, channel, cell.row + 1, cell.col + 1, wide) + sep + RHS[step.op.type](cell, style)
            + " = " + style.number(cell.value))


def _hw(pair_: tuple) -> str:
    return str(pair_[0]) if pair_[0] == pair_[1] else f"{pair_[0]} x {pair_[1]}"


def _dims(m) -> str:
    c, h, w = size(m)
    return f"{h} x {w}" if c == 1 else f"{c} x {h} x {w}"


def setting_parts(step: Step) -> list[str]:
    """'stride 2', 'padding same', ...: every setting of the step, as the explanation and the diagram write it."""
    op, (ah, aw) = step.op, step.axes
    symmetric = (ah.lo, aw.lo) == (ah.hi, aw.hi)
    parts = [f"stride {_hw(op.strides())}", f"padding {_hw((ah.lo, aw.lo)) if symmetric else op.padding}"]
    if op.dilations() != (1, 1):
        parts.append(f"dilation {_hw(op.dilations())}")
    if getattr(op, "ceil_mode", False):
        parts.append("ceil_mode")
    if not getattr(op, "count_include_pad", True) and (ah.lo, ah.hi, aw.lo, aw.hi) != (0, 0, 0, 0):
        parts.append("count_include_pad false")
    if isinstance(op, ConvOp) and op.bias is not None:
        parts.append(f"bias {fmt(op.numbers()['bias'])}")
    return parts


def _settings(step: Step) -> str:
    return ", ".join(setting_parts(step))


def _nth(n: int) -> str:
    """'' for 1, '2nd ', '3rd ', '11th ', '21st ': how often a dilated window takes a row or column."""
    if n == 1:
        return ""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} "


def _start(index: str, stride: int) -> str:
    return index if stride == 1 else f"({index} - 1)*{stride} + 1"


def _window_text(step: Step, src: str, dst: str, padded: bool) -> str:
    op, (ah, aw) = step.op, step.axes
    where = (f"the ${ah.k} x {aw.k}$ window of {'the padded ' if padded else ''}${src}$ that starts at row "
             f"${_start('i', ah.s)}$ and column ${_start('j', aw.s)}$")
    text = {"conv2d": f"${dst}ij$ is the sum, over {where}, of each value times the kernel weight at the same place"
                      + (" (every channel)" if len(step.input) > 1 else "")
                      + (", plus the bias" if isinstance(op, ConvOp) and op.bias is not None else ""),
            "maxpool2d": f"${dst}ij$ is the largest value in {where}",
            "avgpool2d": f"${dst}ij$ is the mean of {where}"}[op.type] + "."
    if op.dilations() != (1, 1):
        (dh, dw), span = op.dilations(), f"${ah.d * (ah.k - 1) + 1} x {aw.d * (aw.k - 1) + 1}$"
        every = (f"every {_nth(dh)}row and column" if dh == dw else f"every {_nth(dh)}row and every {_nth(dw)}column")
        text += f" With dilation {_hw(op.dilations())} the window spans {span} cells and takes {every}."
    if padded and op.type == "maxpool2d":
        text += " Padded cells hold $-inf$ (as in PyTorch), so they never win and are left out below."
    if padded and op.type == "avgpool2d":
        text += (" Padded zeros count in the divisor (`count_include_pad`, PyTorch's default)." if op.count_include_pad
                 else " Padded cells are left out and not counted (`count_include_pad: false`).")
    if getattr(op, "ceil_mode", False):
        text += " With ceil_mode, a window that runs past the edge uses only the cells that exist."
    return text


def _flip_note(flipped: bool) -> str:
    if flipped:
        return ("`flip_kernel: true`: this is the signal-processing convolution, so the kernel is first rotated by "
                "180 degrees ($K'$ below). Deep-learning \"convolution\" (PyTorch's `conv2d`) is cross-correlation "
                "and skips the flip.")
    return ("In deep learning, \"convolution\" (PyTorch's `conv2d`) is cross-correlation: the kernel is laid on the "
            "input as written, without flipping it. The signal-processing convolution first rotates the kernel by "
            "180 degrees; write `flip_kernel: true` for that.")


def _padded_grid(step: Step, style: Style, channel: int) -> list[list[str]]:
    ah, aw = step.axes
    pad = {"conv2d": lambda: style.number(step.op.numbers()["padding_value"]),
           "maxpool2d": lambda: style.minus_infinity, "avgpool2d": lambda: "0"}[step.op.type]()
    grid = step.input[channel]
    return [[style.number(grid[r][q]) if ah.real(r) and aw.real(q) else pad
             for q in range(-aw.lo, aw.size + aw.hi)] for r in range(-ah.lo, ah.size + ah.hi)]


def _both(write_with) -> Math:
    """One piece of the solution in both styles: ``write_with(style)`` as text and as LaTeX."""
    return Math(write_with(TEXT), write_with(LATEX))


def _grids(blocks, title: str, name: str, m):
    for c, grid in enumerate(m):
        label = f"{title}, channel {c + 1}" if len(m) > 1 else title
        blocks.append(Heading(prose(f"{label} (${len(grid)} x {len(grid[0])}$)")))
        ch = c + 1 if len(m) > 1 else None
        blocks.append(Grid(_both(lambda s: s.name(name, ch, None, None) if name else ""),
                           [[_both(lambda s: s.number(v)) for v in row] for row in grid]))


def _formula(step: Step) -> str:
    rnd = "ceil" if getattr(step.op, "ceil_mode", False) else "floor"
    if step.op.dilations() == (1, 1):
        return f"`out = {rnd}((in - k + 2p) / s) + 1`"
    return f"`out = {rnd}((in + 2p - d*(k - 1) - 1) / s) + 1`"


def _step_blocks(step: Step, count: int, noted: list) -> list:
    blocks, op, (ah, aw) = [], step.op, step.axes
    src = "X" if step.index == 0 else MAP_NAMES[step.index - 1]
    dst = "Y" if step.index == count - 1 else MAP_NAMES[step.index]
    prefix = f"Step {step.index + 1}: " if count > 1 else ""
    if count > 1:
        blocks.append(Heading(prose(f"{prefix}{op.type} of ${src}$")))
    what = f"the ${ah.k} x {aw.k}$ kernel $K$" if isinstance(op, ConvOp) else f"a ${ah.k} x {aw.k}$ window"
    blocks.append(Para(prose(f"{OP_NAMES[op.type].capitalize()} (`{op.type}`) of ${src}$ (${_dims(step.input)}$) "
                             f"with {what}, {_settings(step)}.")))
    if isinstance(op, ConvOp) and not noted:
        noted.append(True)
        blocks.append(Note(prose(_flip_note(op.flip_kernel))))
    if step.index == 0:
        _grids(blocks, f"{prefix}Input $X$", "X", step.input)
    if isinstance(op, ConvOp):
        kname = "K'" if op.flip_kernel else "K"
        _grids(blocks, prefix + ("Kernel $K'$ ($K$ rotated by 180 degrees)" if op.flip_kernel else "Kernel $K$"), kname,
               step.kernel)
    padded = (ah.lo, ah.hi, aw.lo, aw.hi) != (0, 0, 0, 0)
    if padded:
        for c in range(len(step.input)):
            grid = [[Math(t, tex) for t, tex in zip(*row)]
                    for row in zip(_padded_grid(step, TEXT, c), _padded_grid(step, LATEX, c))]
            ch = f", channel {c + 1}" if len(step.input) > 1 else ""
            blocks.append(Heading(prose(f"{prefix}Padded ${src}${ch} (${len(grid)} x {len(grid[0])}$)")))
            blocks.append(Grid(Math("", ""), grid))
    blocks.append(Heading(prose(f"{prefix}Output size")))
    rounding = (" (ceil_mode: rounded up, but no window may start in the far padding)"
                if getattr(op, "ceil_mode", False) else ", rounded down as PyTorch does")
    blocks.append(Para(prose(_formula(step) + rounding + ":")))
    merged = formula_text([f"H: {ah.formula}", f"W: {aw.formula}"])
    lines = [merged] if merged.startswith("H, W") else [f"H: {ah.formula}", f"W: {aw.formula}"]
    blocks.append(Lines([Math(TEXT.formula(line), LATEX.formula(line)) for line in lines]))
    blocks.append(Para(prose(f"So ${dst}$ is ${_dims(step.output)}$.")))
    blocks.append(Heading(prose(f"{prefix}Every output cell")))
    blocks.append(Para(prose(_window_text(step, src, dst, padded))))
    for c in range(len(step.output)):
        if len(step.output) > 1:
            blocks.append(Para([f"Channel {c + 1}:"]))
        blocks.append(Lines([Math(expression(step, cell, TEXT, dst), expression(step, cell, LATEX, dst, " &= "))
                             for cell in step.cells if cell.channel == c]))
    _grids(blocks, f"{prefix}Output ${dst}$" if dst == "Y" else f"{prefix}Result ${dst}$", dst, step.output)
    return blocks


def _cells_json(step: Step) -> list[dict]:
    multi = len(step.output) > 1
    style = STYLES["text"]
    return [{**({"channel": cell.channel + 1} if multi else {}), "row": cell.row + 1, "col": cell.col + 1,
             "expression": expression(step, cell, style), "value": json_number(cell.value), "exact": fmt(cell.value)}
            for cell in step.cells]


def explain_json(spec, steps: list[Step] | None = None) -> dict:
    """The output and every cell's expression and value (``steps``: ``run(spec)`` when already computed)."""
    steps = steps or run(spec)
    out = {"output": nested(steps[-1].output), "cells": _cells_json(steps[-1])}
    if len(steps) > 1:
        out["steps"] = [{"operation": s.op.type, "output": nested(s.output), "cells": _cells_json(s)} for s in steps]
    return out


def document(spec, steps: list[Step]) -> Document:
    """The worked solution: every step's grids, output size and cells."""
    ops = " then ".join(OP_NAMES[s.op.type] for s in steps)
    blocks, noted = [Heading([User(spec.title), f": {ops}, worked solution"], 1)], []
    for step in steps:
        blocks += _step_blocks(step, len(steps), noted)
    return Document(blocks)


def explain(spec, format: str = "markdown", **_options) -> str:
    steps = run(spec)
    return explained(document(spec, steps), format, lambda: explain_json(spec, steps))
