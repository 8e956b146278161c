"""The blocks and pieces of a worked solution (see ``archspec.document``)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..latex import Math


@dataclass(frozen=True)
class Code:
    """Something typed as is (an option, a key)."""

    text: str


@dataclass(frozen=True)
class User:
    """A spec's own text: escaped for each format, never parsed."""

    text: str


@dataclass(frozen=True)
class Strong:
    """A spec's name in bold (escaped as User text is)."""

    text: str


@dataclass
class Chain:
    """lhs rel items[0] = items[1] = ...: one worked line (a block, or a piece inside prose)."""

    lhs: Math
    items: list  # of Math
    rel: str = "="  # '=' or '←'


Piece = str | User | Code | Strong | Math | Chain


@dataclass
class Heading:
    pieces: list
    level: int = 2  # 1: the title


@dataclass
class Para:
    pieces: list


@dataclass
class Note:
    pieces: list


@dataclass
class Lines:
    """Display lines typed as a whole (a cell's sum): a code block, indented text, align* rows (a row's
    LaTeX aligns at its first ' &= ')."""

    rows: list  # of Math


@dataclass
class Grid:
    """A matrix: numbered rows and columns on screen, a bracketed array in LaTeX."""

    name: Math
    rows: list  # of lists of Math


@dataclass
class Table:
    headers: list  # cells: a piece or a list of pieces
    rows: list
    right: set = field(default_factory=set)  # right-aligned (numeric) columns


@dataclass
class Step:
    head: list  # pieces
    details: list = field(default_factory=list)  # each a list of pieces


@dataclass
class Steps:
    """A numbered list of steps, each with its details below it."""

    items: list  # of Step


Block = Heading | Para | Note | Chain | Lines | Grid | Table | Steps


@dataclass
class Document:
    blocks: list
    packages: tuple = ("amsmath",)  # what the LaTeX fragment needs (\usepackage)


def pieces(cell) -> list:
    """A table cell or heading as a list of pieces."""
    return cell if isinstance(cell, list) else [cell]
