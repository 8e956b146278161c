"""The Markdown writer: headings, paragraphs, bullet chains, code blocks for cell sums, pipe tables.

Blocks are separated by a blank line; consecutive chains form one bullet list. ``text.py`` is the same
layout without Markdown's marks.
"""
from __future__ import annotations

from ..markup import markdown_cell, markdown_text
from ..tables import table
from .blocks import Chain, Code, Document, Math, Strong, User, pieces


class Markdown:
    fmt = "markdown"  # archspec.tables.table's format

    def piece(self, p) -> str:
        if isinstance(p, str):
            return p
        if isinstance(p, Chain):
            rel = " ← " if p.rel == "←" else " = "
            return p.lhs.text + rel + " = ".join(i.text for i in p.items)
        return {User: lambda: self.user(p.text), Code: lambda: self.code(p.text), Strong: lambda: self.strong(p.text),
                Math: lambda: p.text}[type(p)]()

    def user(self, text: str) -> str:
        return markdown_text(text)

    def code(self, text: str) -> str:
        return f"`{text}`"

    def strong(self, text: str) -> str:
        return f"**{self.user(text)}**"  # a spec's name

    def run(self, cell) -> str:
        return "".join(self.piece(p) for p in pieces(cell))

    # --- blocks ---------------------------------------------------------------------------------

    def heading(self, b) -> str:
        return "#" * b.level + " " + self.run(b.pieces)

    def para(self, b) -> str:
        return self.run(b.pieces)

    def note(self, b) -> str:
        return "> " + self.run(b.pieces)

    def chain(self, b) -> str:
        return "- " + self.piece(b)

    def lines(self, b) -> str:
        return "```\n" + "\n".join(r.text for r in b.rows) + "\n```"

    def grid(self, b) -> str:
        width = len(b.rows[0])
        headers = [b.name.text] + [str(j + 1) for j in range(width)]
        body = [[str(i + 1)] + [c.text for c in row] for i, row in enumerate(b.rows)]
        return table(headers, body, self.fmt, right=set(range(width + 1)))

    def cell(self, c) -> str:
        """A table cell (archspec.tables.table escapes its '|'; a spec's text goes in as markdown_cell)."""
        if self.fmt != "markdown":
            return self.run(c)
        return "".join(markdown_cell(p.text) if isinstance(p, User) else self.piece(p) for p in pieces(c))

    def table(self, b) -> str:
        return table([self.cell(h) for h in b.headers], [[self.cell(c) for c in r] for r in b.rows], self.fmt, b.right)

    def steps(self, b) -> str:
        return "\n".join(f"{i}. " + self.run(s.head) + "".join("\n   - " + self.run(d) for d in s.details)
                         for i, s in enumerate(b.items, 1))

    def write(self, doc: Document) -> str:
        units: list[str] = []
        for i, b in enumerate(doc.blocks):
            text = getattr(self, type(b).__name__.lower())(b)
            if isinstance(b, Chain) and i and isinstance(doc.blocks[i - 1], Chain):
                units[-1] += "\n" + text  # one list
            else:
                units.append(text)
        return "\n\n".join(units)


write = Markdown().write
