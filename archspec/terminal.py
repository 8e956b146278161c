"""What the CLI writes to the terminal, in one place.

``archspec.cli.main`` wraps stdout and stderr in ``EscapingStream`` for the whole command, so no user text
(a spec's name or description, a class folder's or a file's name) can drive the terminal: control
characters other than newline and tab (C0, DEL, C1: ESC starts colour codes and window-title sequences) and
the bidirectional overrides are written as ``\\x1b`` / ``\\u202e``. Files the commands write (``-o``) are not
affected. Archspec's own progress bar writes its carriage returns to ``stream.raw``.

``last_resort`` is the CLI's handler for a bug: one line and the path of a saved report, never a traceback.
"""
from __future__ import annotations

import os
import sys
import tempfile
import traceback
import warnings

_CONTROLS = [c for c in range(0x20) if chr(c) not in "\n\t"] + list(range(0x7F, 0xA0))
_BIDI = list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))
TABLE = {c: f"\\x{c:02x}" for c in _CONTROLS} | {c: f"\\u{c:04x}" for c in _BIDI}


def escape(text: str) -> str:
    """``text`` with every control character but newline and tab written as an escape."""
    return text.translate(TABLE)


class EscapingStream:
    """A text stream that escapes what is written to it; everything else is the wrapped stream's."""

    def __init__(self, raw):
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(escape(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self.raw, name)


def escaping(stream):
    return stream if isinstance(stream, EscapingStream) else EscapingStream(stream)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning for the CLI: archspec's own notes on one line, other warnings as Python shows them."""
    if category.__module__.startswith("archspec."):
        print(f"archspec: note: {message}", file=file or sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), end="", file=file or sys.stderr)


def last_resort(command: str | None, exc: BaseException) -> int:
    """A bug reached the CLI: save the traceback to a file and say so in one line (exit 70, EX_SOFTWARE)."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        fd, path = tempfile.mkstemp(prefix="archspec-error-", suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            fh.write(f"archspec {command}: {' '.join(sys.argv)}\n\n{text}")
        where = f"; the details are in {path}"
    except OSError:
        where = ""
    what = str(exc).splitlines()[0][:200] if str(exc) else ""
    print(f"archspec {command or ''}: internal error ({type(exc).__name__}{': ' + what if what else ''}){where}; "
          "please report it", file=sys.stderr)
    return 70
