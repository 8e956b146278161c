"""Every command, given a broken spec, exits non-zero with located diagnostics and no traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INVALID = sorted((ROOT / "specs" / "invalid").glob("*.yaml"))
COMMANDS = [("validate",), ("shapes",), ("explain",), ("check",), ("render", "-o", "-"), ("design", "--count"),
            ("compile",), ("train", "--epochs", "1")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_broken_specs_are_refused_cleanly(command, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing a command might write lands in the repository
    for path in INVALID:
        r = cli(command[0], path, *command[1:])
        # render draws a parseable but broken design on purpose (red boxes), saying why on stderr
        drawn = command[0] == "render" and r.code == 0 and "digraph" in r.out and f"{path}:" in r.err
        # design reads only the input and the rules, which may be fine although the layers break them
        counted = command[0] == "design" and r.code == 0 and "meet the rules" in r.out
        assert r.code in (1, 2) or drawn or counted, f"{command[0]} {path.name}: exit {r.code}\n{r.out}{r.err}"
        assert "Traceback" not in r.out + r.err
        if r.code == 1 and command[0] not in ("design",):
            assert f"{path}:" in r.out + r.err, f"{command[0]} {path.name}: no located message\n{r.out}{r.err}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_missing_and_binary_files(command, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(bytes(range(256)))
    for path in (tmp_path / "missing.yaml", junk):
        r = cli(command[0], path, *command[1:])
        assert r.code in (1, 2) and "Traceback" not in r.out + r.err, f"{command[0]} {path.name}: {r.out}{r.err}"


SEED = ROOT / "specs" / "seed"
WRITERS = [("explain", SEED / "q2-backprop.yaml", "--format", "markdown", "-o"), ("render", SEED / "q3a.yaml", "-o"),
           ("design", SEED / "q6-design.yaml", "--top", "1", "--out"), ("schema", "-o"),
           ("compile", SEED / "q5-architecture.yaml", "-q", "--code")]


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c[0])
def test_unwritable_output_is_one_line_not_a_traceback(command, cli, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    r = cli(*command, blocker / "sub" / "out.svg")
    assert r.code == 1, f"exit {r.code}\n{r.out}{r.err}"
    assert f"archspec {command[0]}: cannot write" in r.err and "blocker is a file, not a folder" in r.err, r.err


@pytest.mark.parametrize("command", [("explain", SEED / "q2-backprop.yaml", "-o"), ("schema", "-o")],
                         ids=lambda c: c[0])
def test_output_file_that_is_a_folder(command, cli, tmp_path):
    r = cli(*command, tmp_path)
    assert r.code == 1 and f"archspec {command[0]}: cannot write {tmp_path}: Is a directory" in r.err, r.err
