"""Writing expression trees as a student would: ascii (parseable), unicode, or LaTeX."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .activations import latex_symbol, text_symbol
from .expr import Add, Call, Div, Expr, Mul, Neg, Num, Pow, Sub, Sym

GREEK = {"delta": ("δ", r"\delta"), "eta": ("η", r"\eta"), "sigma": ("σ", r"\sigma")}


DIGITS = 6  # significant digits of every number a worked solution shows


def number(v: float, digits: int = DIGITS) -> str:
    """Six significant digits, no exponent for ordinary sizes, no '-0'."""
    if v == 0:
        return "0"
    text = f"{v:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}e{int(exp)}"
    return text


@dataclass(frozen=True)
class Style:
    name: str
    times: str  # between factors
    minus: str
    juxtapose: bool  # write σ(z)(1 - σ(z)) without a sign between the factors

    def fn(self, name: str) -> str:
        if self.name == "ascii":
            return name
        return latex_symbol(name) if self.name == "latex" else text_symbol(name)

    def sym(self, name: str) -> str:
        if self.name == "ascii":
            return name
        return latex_name(name) if self.name == "latex" else unicode_name(name)

    def num(self, v: float) -> str:
        """ascii as ``number``; unicode with a true minus everywhere (−2e−05 → −2e−5); LaTeX with the
        exponent as a power of ten (``e-5`` in math mode reads as e minus 5)."""
        text = number(v)
        if self.name == "latex" and "e" in text:
            mant, exp = text.split("e")
            return rf"{mant} \times 10^{{{exp}}}"
        return text.replace("-", self.minus) if self.name != "ascii" else text


ASCII = Style("ascii", " * ", "-", False)
UNICODE = Style("unicode", " · ", "−", True)
LATEX = Style("latex", r" \cdot ", "-", True)
STYLES = {s.name: s for s in (ASCII, UNICODE, LATEX)}


def unicode_name(name: str) -> str:
    head, sep, tail = name.partition("_")
    head = GREEK.get(head, (head,))[0]
    return head + sep + tail


def latex_name(name: str) -> str:
    """'w11' -> 'w_{11}', 'z_h1' -> 'z_{h1}', 'delta_y' -> '\\delta_{y}'; a non-ASCII part in \\text ('z_{\\text{ý}}':
    an accented letter in math mode is a LaTeX error); a subscript holding an underscore too ('z_{\\text{h\\_1}}':
    an escaped underscore is text)."""
    head, sep, tail = name.partition("_")
    head = _ascii_or_text(GREEK.get(head, (None, head))[1])
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", head)
    if m and not sep:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    head = head if len(head) <= 1 or head.startswith("\\") else rf"\mathrm{{{head}}}"  # 'hidden': not h·i·d·d·e·n
    if not sep:
        return head
    if not tail.isascii() or "_" in tail:
        tail = r"\text{" + tail.replace("_", r"\_") + "}"
    return f"{head}_{{{tail}}}"


def _ascii_or_text(part: str) -> str:
    return part if part.isascii() else rf"\text{{{part}}}"


def _parens(text: str, style: Style) -> str:
    """(text); in LaTeX \\left( \\right) only around a fraction, which plain parentheses would not cover
    (\\left after a function name also adds a thin space: σ (z))."""
    return rf"\left({text}\right)" if style.name == "latex" and r"\frac" in text else f"({text})"


_PREC = {Add: 1, Sub: 1, Mul: 2, Div: 2, Neg: 3, Pow: 4}  # atoms (numbers, names, calls): 5


def _prec(e: Expr) -> int:
    if isinstance(e, Num) and e.value < 0:
        return 3  # written like a negation
    return _PREC.get(type(e), 5)


def write(e: Expr, style: Style = UNICODE, lead: bool = True) -> str:
    """The expression as text in ``style``, with only the parentheses it needs.

    ``lead``: ``e`` starts the line (or a parenthesis), so a leading minus sign needs no parentheses.
    """

    def wrap(child: Expr, need: int, first: bool = False) -> str:
        # parenthesise a looser-binding child, and a signed one anywhere but first: 0.9 · (−1.5)
        if not (_prec(child) < need or (_prec(child) == 3 and not first)):
            return write(child, style, lead=first)
        return _parens(write(child, style), style)

    if isinstance(e, Num):
        return style.num(e.value)
    if isinstance(e, Sym):
        return style.sym(e.name)
    if isinstance(e, Neg):
        return style.minus + wrap(e.arg, 3)
    if isinstance(e, Add):
        out = wrap(e.terms[0], 1, first=lead)
        for t in e.terms[1:]:
            out += f" {style.minus} " + wrap(t.arg, 2) if isinstance(t, Neg) else " + " + wrap(t, 1)
        return out
    if isinstance(e, Sub):
        return wrap(e.left, 1, first=lead) + f" {style.minus} " + wrap(e.right, 2)
    if isinstance(e, Mul):
        parts = [wrap(f, 2, first=i == 0 and lead) for i, f in enumerate(e.factors)]
        # a two-factor product times a sum is written by hand without a sign: σ(z)(1 − σ(z)), y(1 − y)(y − t)
        glue = "" if style.juxtapose and len(parts) == 2 and isinstance(e.factors[1], (Add, Sub)) else style.times
        return glue.join(parts)
    if isinstance(e, Div):
        if style.name == "latex":
            return rf"\frac{{{write(e.left, style)}}}{{{write(e.right, style)}}}"
        return wrap(e.left, 2, first=lead) + " / " + wrap(e.right, 3)
    if isinstance(e, Pow):
        base = wrap(e.base, 5)
        if style.name == "unicode" and e.exponent == 2:
            return base + "²"
        return f"{base}^{{{e.exponent}}}" if style.name == "latex" else f"{base}**{e.exponent}"
    if isinstance(e, Call):
        return style.fn(e.fn) + _parens(", ".join(write(a, style) for a in e.args), style)
    raise TypeError(f"not an expression node: {e!r}")
