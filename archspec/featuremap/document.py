"""A worked solution as a list of blocks, written out as Markdown, plain text or LaTeX.

Blocks are tuples: ("title", text), ("h", text), ("p", text), ("note", text),
("grid", name, rows of cell strings), ("lines", [equation lines]). Paragraph
text marks code with backticks; each writer turns that into its own markup.
"""
from __future__ import annotations

import re

from ..tables import latex_escape, table


def _grid_table(name: str, rows: list[list[str]], fmt: str) -> str:
    width = len(rows[0])
    headers = [name] + [str(j + 1) for j in range(width)]
    body = [[str(i + 1)] + row for i, row in enumerate(rows)]
    return table(headers, body, fmt, right=set(range(width + 1)))


def _markdown(block) -> str:
    kind, *rest = block
    if kind == "title":
        return f"# {rest[0]}"
    if kind == "h":
        return f"## {rest[0]}"
    if kind == "p":
        return rest[0]
    if kind == "note":
        return f"> {rest[0]}"
    if kind == "grid":
        return _grid_table(rest[0], rest[1], "markdown")
    return "```\n" + "\n".join(rest[0]) + "\n```"


def _text(block) -> str:
    kind, *rest = block
    plain = rest[0].replace("`", "") if isinstance(rest[0], str) else rest[0]
    if kind in ("title", "h"):
        return plain + "\n" + ("=" if kind == "title" else "-") * len(plain)
    if kind == "p":
        return plain
    if kind == "note":
        return "Note: " + plain
    if kind == "grid":
        return _grid_table(rest[0], rest[1], "text")
    return "\n".join("  " + line for line in rest[0])


def _latex_inline(text: str) -> str:
    """Escape text; `code` becomes \\texttt{code}, "quoted" becomes ``quoted'' (TeX's opening and closing quotes)."""
    parts = re.split(r"`([^`]*)`", text)
    return "".join(r"\texttt{" + latex_escape(p) + "}" if i % 2 else re.sub(r'"([^"]*)"', r"``\1''", latex_escape(p))
                   for i, p in enumerate(parts))


def _latex(block) -> str:
    kind, *rest = block
    if kind == "title":
        return "% archspec explain --format latex: needs \\usepackage{amsmath}\n\\section*{" + _latex_inline(rest[0]) + "}"
    if kind == "h":
        return r"\subsection*{" + _latex_inline(rest[0]) + "}"
    if kind == "p":
        return _latex_inline(rest[0])
    if kind == "note":
        return r"\emph{Note:} " + _latex_inline(rest[0])
    if kind == "grid":  # cells are already LaTeX; array, not bmatrix, which stops at 10 columns
        body = r" \\ ".join(" & ".join(row) for row in rest[1])
        cols = "c" * len(rest[1][0])
        return (r"\[ " + (rest[0] + " = " if rest[0] else "") + r"\left[\begin{array}{" + cols + "} " + body
                + r" \end{array}\right] \]")
    return "\\begin{align*}\n" + " \\\\\n".join(rest[0]) + "\n\\end{align*}"


WRITERS = {"markdown": _markdown, "text": _text, "latex": _latex}


def write(blocks: list[tuple], fmt: str) -> str:
    return "\n\n".join(WRITERS[fmt](b) for b in blocks)
