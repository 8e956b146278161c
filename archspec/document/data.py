"""The JSON writer: the document's blocks as data, for a page or a program to lay out itself.

``{"packages": [...], "blocks": [{"type": "heading", "level": 1, "pieces": [...]}, ...]}``; a piece is a
string (archspec's prose) or one of ``{"user"}``, ``{"code"}``, ``{"strong"}``, ``{"math", "latex"}`` (text and
LaTeX of a formula) and ``{"chain": {"lhs", "rel", "items"}}``.
"""
from __future__ import annotations

import json
from dataclasses import fields, is_dataclass

from .blocks import Chain, Code, Document, Math, Strong, User

PIECES = {User: lambda p: {"user": p.text}, Code: lambda p: {"code": p.text}, Strong: lambda p: {"strong": p.text},
          Math: lambda p: {"math": p.text, "latex": p.latex},
          Chain: lambda p: {"chain": {"lhs": value(p.lhs), "rel": p.rel, "items": value(p.items)}}}


def block(b) -> dict:
    """A block (or a list's step) as {"type", its fields}."""
    return {"type": type(b).__name__.lower(), **{f.name: value(getattr(b, f.name)) for f in fields(b)}}


def value(x):
    """Pieces, steps and their lists and sets as JSON values."""
    if type(x) in PIECES:
        return PIECES[type(x)](x)
    if is_dataclass(x):
        return block(x)
    if isinstance(x, (list, tuple)):
        return [value(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted(x)
    return x


def to_json(doc: Document) -> dict:
    return {"packages": list(doc.packages), "blocks": [block(b) for b in doc.blocks]}


def write(doc: Document) -> str:
    return json.dumps(to_json(doc), indent=2, ensure_ascii=False)
