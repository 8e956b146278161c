"""A worked solution as a list of blocks, written out as Markdown, plain text or LaTeX.

Blocks are tuples: ("title", text), ("h", text), ("p", text), ("note", text),
("grid", name, rows of cell strings), ("lines", [equation lines]). Heading and paragraph
text (archspec's own wording, never a spec's) marks code with backticks and mathematics
with $...$ ('$Yij$', '$3 x 3$'); each writer turns that into its own markup. A title is a
spec's text: escaped, never parsed.
"""
from __future__ import annotations

import re

from ..latex import display_rows, inline
from ..tables import latex_escape, table


def _grid_table(name: str, rows: list[list[str]], fmt: str) -> str:
    width = len(rows[0])
    headers = [name] + [str(j + 1) for j in range(width)]
    body = [[str(i + 1)] + row for i, row in enumerate(rows)]
    return table(headers, body, fmt, right=set(range(width + 1)))


def _plain_math(block) -> tuple:
    """The block with its $...$ marks dropped (Markdown and text write mathematics as typed)."""
    kind, *rest = block
    return (kind, rest[0].replace("$", ""), *rest[1:]) if kind in ("h", "p", "note") else block


def _markdown(block) -> str:
    kind, *rest = _plain_math(block)
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
    kind, *rest = _plain_math(block)
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


# archspec's mathematics in prose -> LaTeX: Yij -> Y_{ij}, 3 x 3 -> 3 \times 3, (i - 1)*2 -> (i - 1) \cdot 2, -inf
_MATH = [(re.compile(r"\b([A-Z]'?)ij\b"), r"\1_{ij}"), (re.compile(r" x "), r" \\times "),
         (re.compile(r"\*"), r" \\cdot "), (re.compile(r"-inf\b"), r"-\\infty")]
_MATH_TEXT = re.compile(r"[A-Za-z0-9 ()+\-*/'.]*")


def _math_latex(text: str) -> str:
    if not _MATH_TEXT.fullmatch(text):  # only archspec's own wording is marked as mathematics
        raise ValueError(f"not a worked-solution formula: {text!r}")
    for pattern, tex in _MATH:
        text = pattern.sub(tex, text)
    return text


def _latex_prose(text: str) -> str:
    """Heading or paragraph text: $...$ typeset as mathematics, the rest as _latex_inline."""
    parts = text.split("$")
    return inline([(i % 2 == 1, _math_latex(p) if i % 2 else _latex_inline(p)) for i, p in enumerate(parts)])


def _latex_lines(lines: list[str]) -> str:
    """align* rows; a cell's long sum continues on \\quad rows (an output-size line has no '&=')."""
    rows = []
    for line in lines:
        lhs, rel, rhs = line.partition(" &= ")
        rows += display_rows(lhs, [rhs]) if rel else [line]
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def _latex(block) -> str:
    kind, *rest = block
    if kind == "title":
        return ("% archspec explain --format latex: needs \\usepackage{amsmath}\n\\section*{"
                + _latex_inline(rest[0]) + "}")
    if kind == "h":
        return r"\subsection*{" + _latex_prose(rest[0]) + "}"
    if kind == "p":
        return _latex_prose(rest[0])
    if kind == "note":
        return r"\emph{Note:} " + _latex_prose(rest[0])
    if kind == "grid":  # cells are already LaTeX; array, not bmatrix, which stops at 10 columns
        body = r" \\ ".join(" & ".join(row) for row in rest[1])
        cols = "c" * len(rest[1][0])
        return (r"\[ " + (rest[0] + " = " if rest[0] else "") + r"\left[\begin{array}{" + cols + "} " + body
                + r" \end{array}\right] \]")
    return _latex_lines(rest[0])


WRITERS = {"markdown": _markdown, "text": _text, "latex": _latex}


def write(blocks: list[tuple], fmt: str) -> str:
    return "\n\n".join(WRITERS[fmt](b) for b in blocks)
