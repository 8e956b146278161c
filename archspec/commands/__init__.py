"""One module per CLI subcommand; see ``archspec.cli.COMMANDS``."""
from __future__ import annotations

import sys


def load_or_report(path: str):
    """A valid spec, or print its diagnostics and return None (the caller exits 1)."""
    from ..validation import check_file

    report = check_file(path)
    if not report.valid:
        print(report.text(), file=sys.stderr)
        return None
    return report.spec


def add_format(p, choices, default):
    p.add_argument("--format", choices=choices, default=default, help=f"output format (default: {default})")


def spec_with(path: str, what: str, command: str):
    """(spec, the kind's ``what`` function) or (None, exit code) after saying why on stderr."""
    from ..kinds import capability

    spec = load_or_report(path)
    if spec is None:
        return None, 1
    fn = capability(spec.kind, what)
    if fn is None:
        print(f"archspec {command}: kind '{spec.kind}' has no {what}", file=sys.stderr)
        return None, 2
    return spec, fn
