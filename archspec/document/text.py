"""The plain-text writer (terminals): Markdown's layout without its marks; headings underlined."""
from __future__ import annotations

from .markdown import Markdown


class Text(Markdown):
    fmt = "text"

    def user(self, text: str) -> str:
        return text

    def code(self, text: str) -> str:
        return text

    def strong(self, text: str) -> str:
        return text

    def heading(self, b) -> str:
        text = self.run(b.pieces)
        return text + "\n" + ("=" if b.level == 1 else "-") * len(text)

    def note(self, b) -> str:
        return "Note: " + self.run(b.pieces)

    def chain(self, b) -> str:
        return "  " + self.piece(b)

    def lines(self, b) -> str:
        return "\n".join("  " + r.text for r in b.rows)


write = Text().write
