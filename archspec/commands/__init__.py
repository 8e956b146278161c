"""One module per CLI subcommand; see ``archspec.cli.COMMANDS``."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..kinds import capability
from ..validation import check_file


def load_or_report(path: str, warnings: bool = False):
    """A valid spec, or print its diagnostics and return None (the caller exits 1); ``warnings``: print
    those of a valid spec too."""
    report = check_file(path)
    if not report.valid or (warnings and report.diagnostics):
        print(report.text(), file=sys.stderr)
    return report.spec if report.valid else None


def add_format(p, choices, default):
    p.add_argument("--format", choices=choices, default=default, help=f"output format (default: {default})")


def spec_with(path: str, what: str, command: str, warnings: bool = False):
    """(spec, the kind's ``what`` function) or (None, exit code) after saying why on stderr."""
    spec = load_or_report(path, warnings)
    if spec is None:
        return None, 1
    fn = capability(spec.kind, what)
    if fn is None:
        print(f"archspec {command}: kind '{spec.kind}' has no {what}", file=sys.stderr)
        return None, 2
    return spec, fn


def write_output(command: str, path, write, note: str | None = "") -> bool:
    """``write(path)`` after creating its folder, then 'wrote PATH{note}' on stderr (``note=None``: silent, for
    commands that list their files themselves); False, with one line on stderr, when the OS refuses."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write(path)
    except OSError as exc:
        blocker = next((p for p in Path(path).parents if p.is_file()), None)  # a folder on the way is a file
        reason = f"{blocker} is a file, not a folder" if blocker else exc.strerror or exc
        print(f"archspec {command}: cannot write {path}: {reason}", file=sys.stderr)
        return False
    if note is not None:
        print(f"wrote {path}{note}", file=sys.stderr)
    return True


def int_in(least: int, most: int | None = None):
    """argparse type: an integer from ``least`` to ``most``; anything else is a usage error (exit 2)."""
    def parse(text: str) -> int:
        value = int(text) if text.strip().lstrip("+-").isdigit() else None
        if value is None or value < least or (most is not None and value > most):
            want = (f"an integer between {least:,} and {most:,}" if most is not None else
                    "a positive integer" if least == 1 else f"an integer >= {least}")
            raise argparse.ArgumentTypeError(f"must be {want}. Received: {text}")
        return value
    return parse


def tolerance(text: str) -> float:
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0 such as 1e-3. Received: {text}")
    return value
