"""A worked solution as blocks (headings, paragraphs, equation chains, tables) and its
three presentations: Markdown, LaTeX and plain text. Computing lives elsewhere."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..tables import LATEX_SPECIAL, table
from .expr import Expr, Num
from .printer import LATEX, UNICODE, write


@dataclass(frozen=True)
class Label:
    """A quantity's name that is not an expression, e.g. ∂l/∂w1."""

    text: str
    latex: str


def partial(of: str, wrt: str) -> Label:
    from .printer import latex_name, unicode_name

    return Label(f"∂{unicode_name(of)}/∂{unicode_name(wrt)}", rf"\frac{{\partial {latex_name(of)}}}{{\partial {latex_name(wrt)}}}")


Piece = str | Expr | Label | float  # str: prose; the rest: mathematics


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    pieces: list  # of Piece


@dataclass
class Chain:
    """lhs rel items[0] = items[1] = ...: one worked line."""

    lhs: Piece
    items: list
    rel: str = "="  # '=' or '←'


@dataclass
class Table:
    headers: list[str]
    rows: list[list]  # cells: str, float or Expr
    right: set = field(default_factory=set)


def _math(p, style) -> str:
    if isinstance(p, Chain):  # inline 'x1 = 0.2'
        rel = (r" \leftarrow " if style is LATEX else " ← ") if p.rel == "←" else " = "
        return _math(p.lhs, style) + rel + " = ".join(_math(i, style) for i in p.items)
    if isinstance(p, Label):
        return p.latex if style is LATEX else p.text
    if isinstance(p, (int, float)):
        return write(Num(float(p)), style)
    return write(p, style)


def _cell(c, style) -> str:
    return c if isinstance(c, str) else _math(c, style)


def markdown(blocks: list, plain: bool = False) -> str:
    """Markdown (``plain``: the same without Markdown syntax, for terminals).

    Consecutive chains form one list; every other block is followed by a blank line.
    """
    out: list[str] = []
    for i, b in enumerate(blocks):
        if isinstance(b, Chain):
            rel = " ← " if b.rel == "←" else " = "
            line = _math(b.lhs, UNICODE) + rel + " = ".join(_math(x, UNICODE) for x in b.items)
            out.append(("  " if plain else "- ") + line)
            if i + 1 == len(blocks) or not isinstance(blocks[i + 1], Chain):
                out.append("")
        elif isinstance(b, Heading):
            if plain:
                out += [b.text, ("=" if b.level == 1 else "-") * len(b.text), ""]
            else:
                out += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Para):
            out += ["".join(p if isinstance(p, str) else _math(p, UNICODE) for p in b.pieces), ""]
        elif isinstance(b, Table):
            rows = [[_cell(c, UNICODE) for c in r] for r in b.rows]
            out += [table(b.headers, rows, "text" if plain else "markdown", b.right), ""]
    return "\n".join(out).strip()


_TEX_TEXT = {"σ": r"$\sigma$", "η": r"$\eta$", "δ": r"$\delta$", "←": r"$\leftarrow$", "→": r"$\to$",
             "·": r"$\cdot$", "−": "-", "Σ": r"$\Sigma$", "½": r"$\tfrac12$", "∂": r"$\partial$", "²": r"$^2$",
             "≤": r"$\le$", "≥": r"$\ge$", "×": r"$\times$", ">": "$>$", "<": "$<$"}  # < > in text: ¡ ¿ in OT1


def tex_text(s: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch) or _TEX_TEXT.get(ch) or ch for ch in s)


def latex(blocks: list, title: str) -> str:
    """A LaTeX fragment (amsmath) for a write-up: sections, align* blocks, tabulars."""
    out = [r"% archspec explain --format latex: needs \usepackage{amsmath,amssymb}"]
    in_align = False
    for b in blocks:
        if not isinstance(b, Chain) and in_align:
            out[-1] = out[-1].removesuffix(r" \\")
            out.append(r"\end{align*}")
            in_align = False
        if isinstance(b, Heading):
            out.append((r"\section*{" if b.level == 1 else r"\subsection*{") + tex_text(b.text) + "}")
        elif isinstance(b, Para):
            out.append("".join(tex_text(p) if isinstance(p, str) else f"${_math(p, LATEX)}$" for p in b.pieces) + "\n")
        elif isinstance(b, Chain):
            if not in_align:
                out.append(r"\begin{align*}")
                in_align = True
            rel = r"&\leftarrow " if b.rel == "←" else "&= "
            out.append(_math(b.lhs, LATEX) + " " + rel + " \\\\\n  &= ".join(_math(i, LATEX) for i in b.items) + r" \\")
        elif isinstance(b, Table):
            cols = "".join("r" if i in b.right else "l" for i in range(len(b.headers)))
            out.append(r"\begin{tabular}{" + cols + r"}\hline")
            out.append(" & ".join(tex_text(h) for h in b.headers) + r" \\\hline")
            for r in b.rows:
                out.append(" & ".join(tex_text(c) if isinstance(c, str) else f"${_math(c, LATEX)}$" for c in r) + r" \\")
            out.append(r"\hline\end{tabular}" + "\n")
    if in_align:
        out[-1] = out[-1].removesuffix(r" \\")
        out.append(r"\end{align*}")
    return "\n".join(out)

