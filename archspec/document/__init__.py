"""A worked solution as one document model, written out by one writer per format.

Every kind's ``explain`` builds a ``Document`` (a list of blocks) once and hands it to ``write``:
Markdown and plain text (``markdown.py``, ``text.py``), LaTeX (``latex.py``) and JSON (``data.py``).
Blocks hold prose as pieces, never as marked-up strings:

- ``str``: archspec's own wording, typed as is;
- ``User``: a spec's own text (a title): escaped for each format, never parsed;
- ``Code``: something typed (an option, a key): backticks, plain, ``\\texttt``;
- ``Strong``: a spec's name in bold (escaped as ``User``);
- ``Math``: a formula written twice, as text and as LaTeX (``archspec.latex.Math``);
- ``Chain``: an inline worked line, ``x1 = 0.2``.
"""
from __future__ import annotations

import json

from . import data, latex, markdown, text
from .blocks import (Block, Chain, Code, Document, Grid, Heading, Lines, Math, Note, Para, Piece, Step, Steps, Strong,
                     Table, User, pieces)

WRITERS = {"markdown": markdown.write, "text": text.write, "latex": latex.write, "json": data.write}


def write(doc: Document, fmt: str) -> str:
    """``doc`` as ``fmt``: markdown, text, latex or json."""
    return WRITERS[fmt](doc)


def explained(doc: Document, fmt: str, values) -> str:
    """``explain``'s output: in JSON the kind's computed values (``values()``, a dict) with the document under
    ``document``; in any other format the document written."""
    if fmt == "json":
        return json.dumps({**values(), "document": data.to_json(doc)}, indent=2)
    return write(doc, fmt)


__all__ = ["Block", "Chain", "Code", "Document", "Grid", "Heading", "Lines", "Math", "Note", "Para", "Piece", "Step",
           "Steps", "Strong", "Table", "User", "WRITERS", "explained", "pieces", "write"]
