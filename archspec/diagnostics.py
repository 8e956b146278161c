"""Located diagnostics: the one error type every front and back end reports.

A diagnostic is created with a *spec path* (keys and list indices, e.g.
``("layers", 3, "stride")``) and, for text values such as equations, an optional
character offset inside that value. ``SourceMap.place`` turns the path into the
file's line and column, so checkers never deal with YAML positions themselves.
"""
from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

Path = tuple  # tuple[str | int, ...]


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    path: Path = ()
    offset: int | None = None  # character offset inside a string value
    line: int = 0  # 1-based; 0 until placed
    column: int = 0
    severity: str = "error"
    hint: str | None = None

    def at(self, line: int, column: int) -> "Diagnostic":
        return replace(self, line=line, column=column)

    def format(self, file: str = "<spec>") -> str:
        where = f"{file}:{self.line}:{self.column}" if self.line else file  # line 0: not at a place in the file
        text = f"{where}: {self.severity}[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def github(self, file: str = "<spec>") -> str:
        """A GitHub Actions workflow command: '::error file=F,line=L,col=C,title=archspec CODE::message'."""
        def esc(text: str, prop: bool = False) -> str:
            text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            return text.replace(":", "%3A").replace(",", "%2C") if prop else text

        where = f"file={esc(file, True)}" + (f",line={self.line},col={self.column}" if self.line else "")
        body = self.message + (f"\nhint: {self.hint}" if self.hint else "")
        return (f"::{'error' if self.severity == 'error' else 'warning'} {where},"
                f"title={esc('archspec ' + self.code, True)}::{esc(body)}")

    def to_json(self) -> dict:
        out = {"line": self.line, "column": self.column, "code": self.code,
               "severity": self.severity, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


class ArchspecError(Exception):
    """Base of every error archspec raises on purpose (SpecError, RunError, InferenceError, OverrideError,
    RenderError, GraphvizMissing, MissingExtra): its message says what is wrong and what to do, so
    ``except archspec.ArchspecError`` catches a user's problem and lets a bug through."""


class SpecError(ArchspecError):
    """Raised with every diagnostic of one file; never a bare traceback."""

    def __init__(self, diagnostics: Sequence[Diagnostic], file: str = "<spec>"):
        self.diagnostics = list(diagnostics)
        self.file = file
        super().__init__(format_all(self.diagnostics, file))


def format_all(diagnostics: Iterable[Diagnostic], file: str = "<spec>") -> str:
    return "\n".join(d.format(file) for d in diagnostics)


def errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a typo, or None when nothing is close."""
    match = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def shown(value) -> str:
    """A value as the user wrote it, in a message: null/true/false, long lists and mappings by size, long text cut
    (a whole file read as one string must not fill the terminal)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text = repr(value)
    if isinstance(value, (dict, list)) and len(text) > 40:
        return f"a {'mapping' if isinstance(value, dict) else 'list'} of {len(value)} entries"
    if isinstance(value, str) and len(text) > 80:
        return f"{text[:60]}...' ({len(value):,} characters)"
    return text


def printable(name) -> str:
    """A file name safe to print on one line: bytes that are not UTF-8 as \\xff, control characters (a newline, a
    terminal escape) as Python writes them (\\n, \\x1b); other names unchanged."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def path_text(path: Path) -> str:
    """('layers', 3, 'stride') -> 'layers[3].stride' for messages."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<document>"


@dataclass
class Report:
    """Outcome of checking one file: the parsed spec (if any) and diagnostics."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    spec: object | None = None

    @property
    def valid(self) -> bool:
        return not errors(self.diagnostics)

    def to_json(self) -> dict:
        return {"path": self.file, "valid": self.valid,
                "diagnostics": [d.to_json() for d in self.diagnostics]}

    def text(self) -> str:
        return format_all(self.diagnostics, self.file)


def reports_json(reports: Sequence[Report]) -> str:
    return json.dumps({"files": [r.to_json() for r in reports]}, indent=2)
