"""DOT building blocks: escaped HTML-like labels, safe deterministic node ids.

Every piece of user text (spec names, layer names, equation text) reaches DOT
only through ``text()``, inside an HTML-like label ``<...>``: quotes, braces,
``<``, ``>``, ``&``, newlines and backslashes cannot end the label or start a
new statement. Node ids never contain user text verbatim: ``Ids`` maps names to
``n_<letters, digits, _>`` identifiers, numbered on collision, in call order;
ids the drawing adds itself (``g_input``, ``g_rules``) cannot clash with them.
"""
from __future__ import annotations

import re
import textwrap

FONT = "Helvetica,Arial,sans-serif"  # fontconfig maps it to Liberation/DejaVu Sans headlessly
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # not allowed in the XML of an HTML label
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
             # graphviz expands \N, \G, \L... inside HTML labels too; '\\' is its literal backslash
             "\\": "\\\\", "\n": "<BR/>", "\r": "", "\t": " ",
             "]": "&#93;"}  # graphviz 2.43 rejects a cell whose whole text is ']' (found by hypothesis)
_SPECIAL = re.compile("|".join(map(re.escape, _ENTITIES)))


def text(value) -> str:
    """Any value as safe text inside an HTML-like label (newlines become line breaks)."""
    s = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(value))
    return _SPECIAL.sub(lambda m: _ENTITIES[m.group()], s)


def wrapped(value, width: int = 44) -> str:
    """Long text wrapped at spaces into label lines, each line escaped."""
    lines = textwrap.wrap(str(value), width, break_long_words=True, break_on_hyphens=False) or [""]
    return "<BR/>".join(text(line) for line in lines)


def html(markup: str) -> str:
    """Mark built markup as an HTML-like label (graphviz passes ``<...>`` through unquoted)."""
    return f"<{markup}>"


def b(markup: str) -> str:
    return f"<B>{markup}</B>"


def font(markup: str, color: str | None = None, size: float | None = None) -> str:
    attrs = (f' COLOR="{color}"' if color else "") + (f' POINT-SIZE="{size:g}"' if size else "")
    return f"<FONT{attrs}>{markup}</FONT>" if attrs else markup


def rows(lines: list[str], align: str = "CENTER") -> str:
    """Markup lines stacked in a borderless table (one cell per line)."""
    cells = "".join(f'<TR><TD ALIGN="{align}" BALIGN="{align}">{line}</TD></TR>' for line in lines)
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>'


def number(v: float) -> str:
    """Short, deterministic number text for diagrams: 4 significant digits, no '-0'."""
    s = f"{v:.4g}"
    return "0" if s in ("-0", "0") else s


class Ids:
    """Spec names -> unique DOT identifiers, stable for a given order of calls."""

    def __init__(self):
        self._by_name: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, name: str) -> str:
        """The id of ``name`` (the same id each time it is asked)."""
        if name not in self._by_name:
            self._by_name[name] = self.new(name)
        return self._by_name[name]

    def new(self, name: str) -> str:
        """A fresh id for ``name`` even if the name was seen (duplicate layer names)."""
        base = "n_" + _NOT_ID.sub("_", str(name))[:40]
        ident, k = base, 1
        while ident in self._taken:
            k += 1
            ident = f"{base}_{k}"
        self._taken.add(ident)
        return ident


def digraph(title: str, rankdir: str, kind: str, subtitle=None, align: str = "CENTER"):
    """An empty graphviz.Digraph with the house style and an escaped title on top; ``subtitle``
    (a line or a list of lines, plain text) goes under it in grey, aligned by ``align``."""
    import graphviz  # graphviz only to draw: the text helpers above need nothing

    g = graphviz.Digraph(name=_NOT_ID.sub("_", kind) or "archspec")
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle or [])
    label = b(text(title))
    if lines:
        label = ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
                 f"<TR><TD>{label}</TD></TR>"
                 + "".join(f'<TR><TD ALIGN="{align}">{font(text(line), "#555555", 11)}</TD></TR>' for line in lines)
                 + "</TABLE>")
    g.attr(rankdir=rankdir, label=html(label), labelloc="t", fontname=FONT, fontsize="16", newrank="true")
    g.attr("node", fontname=FONT, fontsize="12")
    g.attr("edge", fontname=FONT, fontsize="11")
    return g
