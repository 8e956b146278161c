"""User text (a spec's name, a file's path) inside archspec's own markup.

Markdown passes HTML through, so a spec named ``</text><script>...`` would put a script into a written
``.md`` file: in Markdown, HTML's ``& < >`` become entities and Markdown's own marks (``* _ ` [ ] | \\``)
are escaped with a backslash. Titles are one line already (``SpecBase.title``), so a name cannot break a
heading in any format; LaTeX escapes its specials where the text is typeset.
"""
from __future__ import annotations

MARKDOWN = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[",
            "]": "\\]", "|": "\\|"}


def markdown_text(text: str) -> str:
    """``text`` as literal characters in Markdown."""
    return "".join(MARKDOWN.get(ch, ch) for ch in text)


def markdown_cell(text: str) -> str:
    """``text`` as literal characters in a Markdown table cell: as ``markdown_text``, but its '|' is left to the
    table (``archspec.tables.table`` escapes every '|' of a cell), so that it is escaped once."""
    return markdown_text(text).replace("\\|", "|")


def user_text(text: str, fmt: str) -> str:
    """User text as it goes into output of format ``fmt`` (escaped for Markdown; other formats escape later)."""
    return markdown_text(text) if fmt == "markdown" else text
