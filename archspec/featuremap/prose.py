"""The feature-map explanation's wording as document pieces.

Its prose is written with marks, as a student types it: backticks for code and ``$...$`` for mathematics
('$Yij$', '$3 x 3$', '$(i - 1)*2 + 1$'). ``prose`` turns one such string (archspec's own wording, never a
spec's) into pieces: Code, Math (its LaTeX by the rules below) and plain strings.
"""
from __future__ import annotations

import re

from ..document import Code, Math

# archspec's mathematics in prose -> LaTeX: Yij -> Y_{ij}, 3 x 3 -> 3 \times 3, (i - 1)*2 -> (i - 1) \cdot 2, -inf
_MATH = [(re.compile(r"\b([A-Z]'?)ij\b"), r"\1_{ij}"), (re.compile(r" x "), r" \\times "),
         (re.compile(r"\*"), r" \\cdot "), (re.compile(r"-inf\b"), r"-\\infty")]
_MATH_TEXT = re.compile(r"[A-Za-z0-9 ()+\-*/'.]*")


def math_latex(text: str) -> str:
    if not _MATH_TEXT.fullmatch(text):  # only archspec's own wording is marked as mathematics
        raise ValueError(f"not a worked-solution formula: {text!r}")
    for pattern, tex in _MATH:
        text = pattern.sub(tex, text)
    return text


def prose(text: str) -> list:
    """'Convolution (`conv2d`) of $X$' -> ['Convolution (', Code('conv2d'), ') of ', Math('X', 'X')]."""
    out: list = []
    for i, part in enumerate(text.split("$")):
        if i % 2:
            out.append(Math(part, math_latex(part)))
            continue
        for j, bit in enumerate(re.split(r"`([^`]*)`", part)):
            if j % 2:
                out.append(Code(bit))
            elif bit:
                out.append(bit)
    return out
