"""The LaTeX writer: a fragment for a hand-in (amsmath): sections, align* blocks, arrays, tabulars.

Prose escapes LaTeX's specials; formulas in it share one ``$...$`` per run (``archspec.latex.inline``). A
paragraph, note, table or list is followed by a blank line; a heading or a display is not, so the text after a
display continues its paragraph.
"""
from __future__ import annotations

import re

from ..latex import display_rows, inline
from ..tables import LATEX_SPECIAL, latex_escape
from .blocks import Chain, Code, Document, Lines, Math, Note, Para, Steps, Strong, Table, User, pieces
from .text import Text

TEXT = Text()
PAGE_CHARACTERS = 80

# text-mode stand-ins for what a spec's own text (its title) may hold; archspec's formulas are Math pieces
TEX_TEXT = {"σ": r"$\sigma$", "η": r"$\eta$", "δ": r"$\delta$", "←": r"$\leftarrow$", "→": r"$\to$",
            "·": r"$\cdot$", "−": "-", "Σ": r"$\Sigma$", "½": r"$\tfrac12$", "∂": r"$\partial$", "²": r"$^2$",
            "≤": r"$\le$", "≥": r"$\ge$", "×": r"$\times$", ">": "$>$", "<": "$<$"}  # < > in text: ¡ ¿ in OT1
_QUOTED = re.compile(r'"([^"]*)"')


def tex_text(s: str) -> str:
    """Text for text mode: specials escaped, "quoted" as ``quoted'' (TeX's opening and closing quotes)."""
    return _QUOTED.sub(r"``\1''", "".join(LATEX_SPECIAL.get(ch) or TEX_TEXT.get(ch) or ch for ch in s))


def texttt(text: str) -> str:
    """\\texttt, a hyphen before another followed by {} so that -- stays two hyphens in any font."""
    return r"\texttt{" + re.sub(r"-(?=-)", "-{}", latex_escape(text)) + "}"


def _math(p) -> str:
    if isinstance(p, Chain):
        return p.lhs.latex + (r" \leftarrow " if p.rel == "←" else " = ") + " = ".join(i.latex for i in p.items)
    return p.latex


def _part(p) -> tuple[bool, str]:
    """(is mathematics, LaTeX) of one piece."""
    if isinstance(p, (Math, Chain)):
        return True, _math(p)
    if isinstance(p, Code):
        return False, texttt(p.text)
    if isinstance(p, Strong):
        return False, r"\textbf{" + tex_text(p.text) + "}"
    return False, tex_text(p.text if isinstance(p, User) else p)


def run(cell) -> str:
    return inline([_part(p) for p in pieces(cell)])


def _align(rows: list[str]) -> str:
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def _chains(chains: list[Chain]) -> str:
    """Worked lines: one row per item; a line too wide for the page continues on \\quad rows."""
    return _align([row for c in chains for row in display_rows(c.lhs.latex, [i.latex for i in c.items],
                                                                r"&\leftarrow " if c.rel == "←" else "&= ")])


def _lines(b: Lines) -> str:
    rows = []
    for r in b.rows:
        lhs, rel, rhs = r.latex.partition(" &= ")
        rows += display_rows(lhs, [rhs]) if rel else [r.latex]
    return _align(rows)


def _grid(b) -> str:
    """An array, not a bmatrix (which stops at 10 columns)."""
    body = r" \\ ".join(" & ".join(c.latex for c in row) for row in b.rows)
    return (r"\[ " + (b.name.latex + " = " if b.name.latex else "") + r"\left[\begin{array}{" + "c" * len(b.rows[0])
            + "} " + body + r" \end{array}\right] \]")


def wide(t: Table) -> bool:
    """Whether a table's columns, as text, are wider than a page's line (about 80 characters at 10pt)."""
    cells = [t.headers, *t.rows]
    return sum(max(len(TEXT.run(r[i])) for r in cells) + 2 for i in range(len(t.headers))) > PAGE_CHARACTERS


def _table(t: Table) -> str:
    """A tabular; one wider than the page is scaled down to its width (graphicx's \\resizebox)."""
    cols = "".join("r" if i in t.right else "l" for i in range(len(t.headers)))
    tex = "\n".join([r"\begin{tabular}{" + cols + r"}\hline", " & ".join(run(h) for h in t.headers) + r" \\\hline"]
                    + [" & ".join(run(c) for c in r) + r" \\" for r in t.rows] + [r"\hline\end{tabular}"])
    return "\\noindent\\resizebox{\\linewidth}{!}{%\n" + tex + "}" if wide(t) else tex


def _steps(b: Steps) -> str:
    return "\n".join([r"\begin{enumerate}"] + [r"\item " + run(s.head) + "".join(r" \\ " + run(d) for d in s.details)
                                                for s in b.items] + [r"\end{enumerate}"])


BLOCKS = {  # block type -> LaTeX
    "Heading": lambda b: (r"\section*{" if b.level == 1 else r"\subsection*{") + run(b.pieces) + "}",
    "Para": lambda b: run(b.pieces),
    "Note": lambda b: r"\emph{Note:} " + run(b.pieces),
    "Lines": _lines, "Grid": _grid, "Table": _table, "Steps": _steps,
}
PARAGRAPHS = (Para, Note, Table, Steps)  # followed by a blank line


def write(doc: Document) -> str:
    packages = doc.packages + (("graphicx",) if any(isinstance(b, Table) and wide(b) for b in doc.blocks) else ())
    out = [r"% archspec explain --format latex: needs \usepackage{" + ",".join(packages) + "}"]
    blocks = doc.blocks
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if isinstance(b, Chain):  # consecutive chains: one align*
            j = i
            while j < len(blocks) and isinstance(blocks[j], Chain):
                j += 1
            out.append(_chains(blocks[i:j]))
            i = j
            continue
        out.append(BLOCKS[type(b).__name__](b) + ("\n" if isinstance(b, PARAGRAPHS) else ""))
        i += 1
    return "\n".join(out)
