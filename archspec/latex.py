"""LaTeX for the worked solutions: mathematics inside prose, and display lines that fit the page.

``Math`` is a formula written twice (as text for Markdown and terminals, as LaTeX);
``inline`` joins prose and formulas so that neighbouring formulas share one ``$...$``;
``break_line`` splits a long right-hand side of an ``align*`` row before its top-level
``+``/``-`` (then ``\\cdot``/``\\times``) so that it fits a standard article page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Math:
    """A quantity or formula: ``text`` in Markdown and plain text, ``latex`` in LaTeX math mode."""

    text: str
    latex: str


def inline(parts: list[tuple[bool, str]]) -> str:
    """(is_math, LaTeX) parts as one line of prose: a run of math parts becomes a single $...$."""
    out, run = [], []
    for is_math, tex in parts + [(False, "")]:
        if is_math:
            run.append(tex)
            continue
        if run:
            out.append("$" + "".join(run).strip() + "$")
            run = []
        out.append(tex)
    return "".join(out)


# --- how wide a formula prints, in units of about one math letter (5pt at 10pt) ---------------------

LINE = 64  # units an align* row may take: a 10pt article's text is about 345pt wide (68 units)
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}_^]|\s+|.")
_BINARY = set("+-=<>")  # a binary operator or relation: the sign and the space around it
_WIDE_WORDS = {"cdot": 2, "times": 2.5, "leftarrow": 3.5, "to": 3, "le": 3, "ge": 3, "quad": 2, "infty": 1.5}
_SILENT = {"left", "right", "displaystyle", "textstyle"}
_GROUPS = {"frac": "fraction", "tfrac": "fraction", "text": "raw", "mathrm": "raw", "texttt": "raw",
           "operatorname": "raw"}


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The tokens of the group or single token at i, and the index after it."""
    if i >= len(tokens):
        return [], i
    if tokens[i] != "{":
        return [tokens[i]], i + 1
    depth, j = 0, i
    while j < len(tokens):
        depth += {"{": 1, "}": -1}.get(tokens[j], 0)
        if depth == 0:
            return tokens[i + 1:j], j + 1
        j += 1
    return tokens[i + 1:], j


def _width(tokens: list[str]) -> float:
    total, i = 0.0, 0
    while i < len(tokens):
        t, i = tokens[i], i + 1
        word = t[1:] if t.startswith("\\") and t[1:].isalpha() else None
        if t.isspace() or t in "{}&":
            continue
        if t in "_^":
            sub, i = _group(tokens, i)
            total += 0.7 * _width(sub)
        elif word in _SILENT:
            continue
        elif _GROUPS.get(word) == "fraction":
            top, i = _group(tokens, i)
            bottom, i = _group(tokens, i)
            total += max(_width(top), _width(bottom)) + 0.4 * (word == "frac")
        elif _GROUPS.get(word) == "raw":
            body, i = _group(tokens, i)
            total += 0.9 * sum(1 for b in body if not b.isspace() and b not in "{}")
        elif word is not None:
            total += _WIDE_WORDS.get(word, 1 if len(word) <= 5 else 0.6 * len(word))
        else:
            total += 2.2 if t in _BINARY else 1
    return total


def width(tex: str) -> float:
    """Roughly how wide ``tex`` (math mode) prints, in units of one math letter."""
    return _width(_TOKEN.findall(tex))


# --- breaking a display line ----------------------------------------------------------------------

ADDITIVE = (" + ", " - ")
MULTIPLICATIVE = (r" \cdot ", r" \times ")


def split_top(tex: str, ops: tuple[str, ...]) -> list[str]:
    """``tex`` cut before every ``op`` outside brackets and braces; the pieces join back to ``tex``."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\" and i + 1 < len(tex) and not tex[i + 1].isalpha():
            i += 2  # \{ \} \_ \, are not brackets
            continue
        depth += 1 if ch in "({[" else -1 if ch in ")}]" else 0
        op = next((o for o in ops if tex.startswith(o, i)), None) if depth == 0 else None
        if op and i > start:
            pieces.append(tex[start:i])
            start = i
            i += len(op)
            continue
        i += 1
    return pieces + [tex[start:]]


def _pack(pieces: list[str], room: float, widths: list[float] | None = None) -> list[str]:
    """Pieces joined greedily into lines no wider than ``room``. Pieces are cut at top-level operators, so a
    line's width is the sum of its pieces' widths (measured once: long sums stay linear)."""
    widths = widths or [width(p) for p in pieces]
    lines: list[str] = []
    used = 0.0
    for p, w in zip(pieces, widths):
        if lines and used + w <= room:
            lines[-1] += p
            used += w
        else:
            lines.append(p)
            used = w
    return lines


def _balanced(pieces: list[str], room: float) -> list[str]:
    """As few lines as packing into ``room`` takes, of about equal width (no lone '\\cdot x' line)."""
    widths = [width(p) for p in pieces]
    lines = _pack(pieces, room, widths)
    fair = sum(widths) / len(lines)
    while fair < room and len(_pack(pieces, fair, widths)) > len(lines):
        fair += 1
    return _pack(pieces, min(fair, room), widths)


def break_line(tex: str, room: float) -> list[str]:
    """``tex`` as one or more lines no wider than ``room`` where a top-level operator allows: sums break
    before + or -, and a term still too wide breaks before its \\cdot or \\times into lines of about equal
    width. Each line after the first starts with the operator it was cut before."""
    if width(tex) <= room:
        return [tex]
    lines: list[str] = []
    for chunk in _pack(split_top(tex, ADDITIVE), room):
        lines += [chunk] if width(chunk) <= room else _balanced(split_top(chunk, MULTIPLICATIVE), room)
    return [line.strip() for line in lines]


def display_rows(lhs: str, items: list[str], rel: str = "&= ", line: float = LINE) -> list[str]:
    """align* rows for lhs rel items[0] = items[1] = ...: one row per item, a long item continued on
    ``&\\quad`` rows (rows are joined with \\\\ by the caller)."""
    room = line - width(lhs) - 3
    rows = []
    for k, item in enumerate(items):
        first, *rest = break_line(item, room)
        rows.append((lhs + " " if k == 0 else "  ") + (rel if k == 0 else "&= ") + first)
        rows += [r"  &\quad " + r for r in rest]
    return rows
