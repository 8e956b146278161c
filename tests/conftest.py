"""Shared fixtures: golden files (regenerate with --update-golden) and the CLI runner."""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


@pytest.fixture
def golden(request):
    """golden('name.dot', text): compare text with tests/golden/name.dot (or rewrite it)."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str):
        path = GOLDEN / name
        if update or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if not update:
                pytest.fail(f"golden file {name} did not exist; written now, rerun to compare")
        assert text == path.read_text(), f"output differs from {path}; rerun with --update-golden if intended"

    return check


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli():
    """cli('validate', 'x.yaml') -> CliResult(code, out, err), run in-process."""
    from archspec.cli import main

    def run(*argv) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exc:  # argparse usage errors
                code = exc.code
        return CliResult(code, out.getvalue(), err.getvalue())

    return run
