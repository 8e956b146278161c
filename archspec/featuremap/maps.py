"""Exact numbers and maps: parse YAML values into Fractions, show them back.

A map is held as channels of rows: ``Map = [C][H][W]`` lists of ``Fraction``; a
2-D spec value is one channel. Numbers may be YAML integers, decimals, or text
such as ``1/4`` or ``-0.5`` (YAML reads an unquoted ``1/4`` as text); decimals
are taken as written (0.1 is exactly 1/10, not the nearest binary float).
"""
from __future__ import annotations

import math
from fractions import Fraction

from ..diagnostics import Diagnostic

Map = list  # list[list[list[Fraction]]]: [C][H][W]
NUMBER_HINT = "write integers, decimals or fractions such as 1/4"


class WrittenFraction(Fraction):
    """A number the spec wrote as a fraction ('1/4'): shown as one again, as the exercise writes it (results of
    arithmetic on it are plain Fractions, shown as decimals where they are finite: 1.5)."""


def number(value) -> Fraction | None:
    """Fraction of a YAML scalar, or None when it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and value.count("/") <= 1:
        try:
            parts = [Fraction(p.strip()) for p in value.split("/")]
        except (ValueError, ZeroDivisionError):
            return None
        if len(parts) == 2 and parts[1] == 0:
            return None
        return WrittenFraction(parts[0] / parts[1]) if len(parts) == 2 else parts[0]
    return None


def shown(value) -> str:
    """A YAML value as the user wrote it, for messages."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return repr(value)


def number_diagnostic(value, path: tuple, name: str) -> list[Diagnostic]:
    if value is None or number(value) is not None:
        return []
    return [Diagnostic("not-a-number", f"{name} is {shown(value)}, not a number", path, hint=NUMBER_HINT)]


def _depth(value) -> int:
    depth = 0
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    return depth


def _grid(value, path: tuple, name: str) -> tuple[list | None, list[Diagnostic]]:
    """One 2-D grid: every row a non-empty list of numbers, all rows equally long."""
    if not isinstance(value, list) or not value:
        return None, [Diagnostic("empty-map", f"{name} is empty", path, hint="give at least one row of numbers")]
    out, diags = [], []
    width = len(value[0]) if isinstance(value[0], list) else None
    for i, row in enumerate(value):
        where = path + (i,)
        if not isinstance(row, list):
            diags.append(Diagnostic("not-a-row", f"row {i + 1} of {name} is {shown(row)}, not a list of numbers", where,
                                    hint="a map is a list of rows, e.g. [[1, 2], [3, 4]]"))
            continue
        if not row:
            diags.append(Diagnostic("empty-map", f"row {i + 1} of {name} is empty", where))
            continue
        if width is not None and len(row) != width:
            diags.append(Diagnostic("ragged-row", f"row {i + 1} of {name} has {len(row)} values but row 1 has {width}",
                                    where, hint="every row of a map needs the same number of values"))
        cells = []
        for j, v in enumerate(row):
            x = number(v)
            if x is None:
                diags.append(Diagnostic("not-a-number", f"row {i + 1}, column {j + 1} of {name} is {shown(v)}, "
                                        "not a number", where + (j,), hint=NUMBER_HINT))
            cells.append(x)
        out.append(cells)
    return (None if diags else out), diags


def parse_map(value, path: tuple, name: str) -> tuple[Map | None, list[Diagnostic]]:
    """A 2-D list (one channel) or a 3-D list (channels of equal size) -> Map, or diagnostics."""
    depth = _depth(value)
    if depth > 3:
        return None, [Diagnostic("bad-map", f"{name} is nested {depth} lists deep; a map is 2-D (rows) "
                                 "or 3-D (channels of rows)", path)]
    if depth < 3:
        grid, diags = _grid(value, path, name)
        return ([grid] if grid else None), diags
    channels, diags = [], []
    for c, channel in enumerate(value):
        grid, d = _grid(channel, path + (c,), f"channel {c + 1} of {name}")
        diags += d
        channels.append(grid)
    if diags:
        return None, diags
    h, w = len(channels[0]), len(channels[0][0])
    for c, grid in enumerate(channels[1:], start=1):
        if (len(grid), len(grid[0])) != (h, w):
            diags.append(Diagnostic("channel-shape", f"channel {c + 1} of {name} is {len(grid)} x {len(grid[0])} "
                                    f"but channel 1 is {h} x {w}", path + (c,),
                                    hint="every channel of a map has the same height and width"))
    return (None if diags else channels), diags


def size(m: Map) -> tuple[int, int, int]:
    """(C, H, W)."""
    return len(m), len(m[0]), len(m[0][0])


def fmt(x: Fraction) -> str:
    """Exact text: integers as such, a number written as a fraction as one (1/4), finite decimals as decimals
    (3.25), otherwise a/b (4/3)."""
    if x.denominator == 1:
        return str(x.numerator)
    if isinstance(x, WrittenFraction):
        return f"{x.numerator}/{x.denominator}"
    d, twos, fives = x.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return f"{x.numerator}/{x.denominator}"
    places = max(twos, fives)
    digits = str(abs(x.numerator) * 10 ** places // x.denominator).rjust(places + 1, "0")
    return ("-" if x < 0 else "") + digits[:-places] + "." + digits[-places:]


def as_float(x: Fraction) -> float:
    """The nearest float; beyond float's range (a value of hundreds of digits), infinity of its sign."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def json_number(x: Fraction):
    """An integer, a float, or (beyond float's range) the exact fraction as text, e.g. '10**400 / 3' written out."""
    if x.denominator == 1:
        return x.numerator
    value = as_float(x)
    return value if math.isfinite(value) else str(x)


def nested(m: Map, convert=json_number) -> list:
    """Map -> plain lists; one channel comes back 2-D, several 3-D."""
    out = [[[convert(v) for v in row] for row in grid] for grid in m]
    return out[0] if len(out) == 1 else out
