"""A worked solution as blocks (headings, paragraphs, equation chains, tables) and its
three presentations: Markdown, LaTeX and plain text. Computing lives elsewhere."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..latex import Math, display_rows, inline
from ..tables import LATEX_SPECIAL, latex_escape, table
from .activations import ACTIVATIONS, HELPERS
from .expr import Expr, Num
from .printer import LATEX, UNICODE, write

Label = Math  # a quantity's name that is not an expression, e.g. ∂l/∂w1


def partial(of: str, wrt: str) -> Label:
    from .printer import latex_name, unicode_name

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
    from .printer import latex_name

    return Label(n, latex_name(n))


def local_derivative(z: str) -> Label:
    """g'(z_h1): a unit's local derivative, named by its input."""
    from .printer import latex_name, unicode_name

    return Label(f"g'({unicode_name(z)})", f"g'({latex_name(z)})")


@dataclass(frozen=True)
class Code:
    """Something typed as is (an option, a spec key): plain in text, \\texttt in LaTeX."""

    text: str


Piece = str | Code | Expr | Label | float  # str: prose; Code: typed text; the rest: mathematics


@dataclass
class Heading:
    text: str | list  # prose, or pieces as in a Para
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
    headers: list  # each as a table cell
    rows: list[list]  # cells: str (prose), a Piece, or a list of pieces
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


def _run(pieces, style) -> str:
    """Prose and mathematics as one line: as text, or as LaTeX with each run of mathematics in one $...$."""
    pieces = pieces if isinstance(pieces, list) else [pieces]
    if style is not LATEX:
        return "".join(p if isinstance(p, str) else p.text if isinstance(p, Code) else _math(p, style) for p in pieces)
    return inline([(False, tex_text(p)) if isinstance(p, str) else (False, _texttt(p.text)) if isinstance(p, Code)
                   else (True, _math(p, LATEX)) for p in pieces])


def _texttt(text: str) -> str:
    """\\texttt, every hyphen followed by {} so that -- stays two hyphens in any font."""
    return r"\texttt{" + latex_escape(text).replace("-", "-{}") + "}"


def markdown(blocks: list, plain: bool = False) -> str:
    """Markdown (``plain``: the same without Markdown syntax, for terminals).

    Consecutive chains form one list; every other block is followed by a blank line.
    """
    out: list[str] = []
    for i, b in enumerate(blocks):
        if isinstance(b, Chain):
            out.append(("  " if plain else "- ") + _math(b, UNICODE))
            if i + 1 == len(blocks) or not isinstance(blocks[i + 1], Chain):
                out.append("")
        elif isinstance(b, Heading):
            text = _run(b.text, UNICODE)
            if plain:
                out += [text, ("=" if b.level == 1 else "-") * len(text), ""]
            else:
                out += ["#" * b.level + " " + text, ""]
        elif isinstance(b, Para):
            out += [_run(b.pieces, UNICODE), ""]
        elif isinstance(b, Table):
            rows = [[_run(c, UNICODE) for c in r] for r in b.rows]
            headers = [_run(h, UNICODE) for h in b.headers]
            out += [table(headers, rows, "text" if plain else "markdown", b.right), ""]
    return "\n".join(out).strip()


# text-mode stand-ins for what a spec's own text (its title) may hold; archspec's prose uses formula()
_TEX_TEXT = {"σ": r"$\sigma$", "η": r"$\eta$", "δ": r"$\delta$", "←": r"$\leftarrow$", "→": r"$\to$",
             "·": r"$\cdot$", "−": "-", "Σ": r"$\Sigma$", "½": r"$\tfrac12$", "∂": r"$\partial$", "²": r"$^2$",
             "≤": r"$\le$", "≥": r"$\ge$", "×": r"$\times$", ">": "$>$", "<": "$<$"}  # < > in text: ¡ ¿ in OT1


def tex_text(s: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch) or _TEX_TEXT.get(ch) or ch for ch in s)


def _align(chains: list) -> list[str]:
    """An align* block of worked lines; a line too wide for the page continues on \\quad rows."""
    rows = [row for c in chains for row in display_rows(_math(c.lhs, LATEX), [_math(i, LATEX) for i in c.items],
                                                         r"&\leftarrow " if c.rel == "←" else "&= ")]
    return [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]


def _tabular(t: Table) -> list[str]:
    cols = "".join("r" if i in t.right else "l" for i in range(len(t.headers)))
    return ([r"\begin{tabular}{" + cols + r"}\hline", " & ".join(_run(h, LATEX) for h in t.headers) + r" \\\hline"]
            + [" & ".join(_run(c, LATEX) for c in r) + r" \\" for r in t.rows] + [r"\hline\end{tabular}" + "\n"])


def latex(blocks: list, title: str) -> str:
    """A LaTeX fragment (amsmath) for a write-up: sections, align* blocks, tabulars."""
    out = [r"% archspec explain --format latex: needs \usepackage{amsmath,amssymb}"]
    chains: list = []
    for b in blocks + [None]:
        if isinstance(b, Chain):
            chains.append(b)
            continue
        if chains:
            out += _align(chains)
            chains = []
        if isinstance(b, Heading):
            out.append((r"\section*{" if b.level == 1 else r"\subsection*{") + _run(b.text, LATEX) + "}")
        elif isinstance(b, Para):
            out.append(_run(b.pieces, LATEX) + "\n")
        elif isinstance(b, Table):
            out += _tabular(b)
    return "\n".join(out)
