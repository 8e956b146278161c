"""The equation network's pieces of a worked solution: formulas in prose, names, partials, and
``to_document``, which turns blocks holding expressions and numbers into ``archspec.document``'s model
(every formula written once as text and once as LaTeX)."""
from __future__ import annotations

import re
from dataclasses import replace

from ..document import Chain, Document, Heading, Math, Note, Para, Table
from .activations import ACTIVATIONS, HELPERS
from .expr import Expr, Num
from .printer import LATEX, UNICODE, latex_name, unicode_name, write

Label = Math  # a quantity's name that is not an expression, e.g. ∂l/∂w1


def partial(of: str, wrt: str) -> Label:
    return Label(f"∂{unicode_name(of)}/∂{unicode_name(wrt)}",
                 rf"\frac{{\partial {latex_name(of)}}}{{\partial {latex_name(wrt)}}}")


# --- formulas in prose, written once as a student types them: 'δ_k = g'(z_k) · ∂l/∂y_k' -----------

_FORMULA_SIGNS = {"δ": r"\delta", "η": r"\eta", "σ": r"\sigma", "Σ": r"\sum", "∂": r"\partial", "·": r"\cdot",
                  "−": "-", "←": r"\leftarrow", "→": r"\to", "≤": r"\le", "≥": r"\ge", "×": r"\times", "²": "^2",
                  "½": r"\tfrac12", **{c: c for c in "0123456789.,;:()[]=+-/'<>|"}}
_FORMULA_WORDS = {**{a.symbol: a.latex for a in ACTIVATIONS.values()}, **{t: tex for t, tex in
                                                                          ((v[1], v[2]) for v in HELPERS.values())},
                  "if": r"\text{ if }", "else": r"\text{ else }"}
_FORMULA_TOKEN = re.compile(r"(?P<word>[A-Za-z]+(?:_[A-Za-z0-9]+)*)|(?P<sub>_[A-Za-z0-9]+)|(?P<space>\s+)|(?P<sign>.)")
_VARIABLE = re.compile(r"([A-Za-z])(\d*)(?:_([A-Za-z0-9]+))?")


def formula_latex(text: str) -> str:
    """The LaTeX of a formula archspec writes in its prose: one-letter variables with subscripts (O_k, w_hk),
    σ η δ Σ ∂ · − ← ≤ ², the activation and helper names, 'if'/'else'. Anything else is a ValueError: names
    from a spec never go through here (they are Sym pieces, written by latex_name)."""
    out: list[str] = []
    for m in _FORMULA_TOKEN.finditer(text):
        kind, tok = m.lastgroup, m.group()
        if kind == "word" and tok in _FORMULA_WORDS:
            tex = _FORMULA_WORDS[tok]
        elif kind == "word" and (v := _VARIABLE.fullmatch(tok)):
            sub = v.group(2) or v.group(3)
            tex = v.group(1) + (f"_{{{sub}}}" if sub else "")
        elif kind == "sub":
            tex = f"_{{{tok[1:]}}}"
        elif kind == "space":
            tex = " "
        elif kind == "sign" and tok in _FORMULA_SIGNS:
            tex = _FORMULA_SIGNS[tok]
        else:
            raise ValueError(f"not a prose formula: {tok!r} in {text!r}")
        if out and re.search(r"\\[A-Za-z]+$", out[-1]) and tex[:1].isalpha():
            out.append(" ")  # \partial l, not \partiall
        out.append(tex)
    return "".join(out)


def formula(text: str) -> Label:
    """A formula in prose: ``text`` as written in Markdown, typeset as mathematics in LaTeX."""
    return Label(text, formula_latex(text))


def name(n: str) -> Label:
    """A spec's name in prose and tables: as written in text ('eta'), by latex_name in LaTeX ('\\eta')."""
    return Label(n, latex_name(n))


def local_derivative(z: str) -> Label:
    """g'(z_h1): a unit's local derivative, named by its input."""
    return Label(f"g'({unicode_name(z)})", f"g'({latex_name(z)})")


def math(p) -> Math:
    """An expression or number as Math (a Label already is)."""
    if isinstance(p, Math):
        return p
    e = Num(float(p)) if isinstance(p, (int, float)) else p
    return Math(write(e, UNICODE), write(e, LATEX))


def _piece(p):
    if isinstance(p, Chain):
        return Chain(math(p.lhs), [math(i) for i in p.items], p.rel)
    return math(p) if isinstance(p, (Expr, int, float)) else p


def _pieces(cell):
    return [_piece(p) for p in cell] if isinstance(cell, list) else _piece(cell)


CONVERT = {  # block type -> the block with its expressions and numbers as Math
    Heading: lambda b: replace(b, pieces=_pieces(b.pieces)),
    Para: lambda b: replace(b, pieces=_pieces(b.pieces)),
    Note: lambda b: replace(b, pieces=_pieces(b.pieces)),
    Chain: _piece,
    Table: lambda b: replace(b, headers=[_pieces(h) for h in b.headers],
                             rows=[[_pieces(c) for c in r] for r in b.rows]),
}


def to_document(blocks: list) -> Document:
    """Blocks whose pieces hold Expr and numbers -> the shared document."""
    return Document([CONVERT[type(b)](b) for b in blocks], ("amsmath", "amssymb"))
