"""The fuzzer in `make test`: mutated specs of specs/ (every file found there, so new specs join by being added)
and generated equation texts through the public API, asserting that only ArchspecError leaves the library,
that no call hangs and that none grows peak memory by 1 GB (tests/fuzzing.py). Deterministic: hypothesis is
derandomized, with a fixed number of examples. benchmarks/fuzz.py runs the same for minutes; every
reproducer it or issue 16 found is kept in tests/fuzz_cases/ and replayed here.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from fuzzing import SPECS, exercise, make_case, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CASES = sorted((Path(__file__).parent / "fuzz_cases").glob("*.yaml"))
# A hang guard, not a timing: generous for a loaded 2-core machine (benchmarks/fuzz.py holds calls to 5 s).
GUARD_S = 30.0
FUZZ = settings(max_examples=250, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def _pick(data):
    return lambda n: data.draw(st.integers(0, max(0, n - 1)))


def _check(text: str, file: Path) -> None:
    found = exercise(text, file, GUARD_S)
    assert found is None, f"{found.kind} in {found.call}:\n{found.detail}\ninput:\n{text[:3000]}"


@FUZZ
@given(data=st.data())
def test_mutated_specs_and_generated_equations_give_documented_errors_only(data):
    text, file = make_case(_pick(data))
    _check(text, file)


@pytest.mark.parametrize("spec", SPECS[::3], ids=lambda p: p.name)
@settings(max_examples=12, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_kind_of_spec_survives_its_own_mutations(spec, data):
    _check(mutate(spec.read_text(), _pick(data)), spec)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_kept_reproducer_gives_a_documented_outcome(case):
    """A reproducer's first comment line names the spec it came from: relative rules paths resolve there."""
    origin = case.read_text().split("(from ", 1)[-1].split(")", 1)[0]
    file = next((p for p in SPECS if p.name == origin), case)
    _check(case.read_text(), file)


def test_the_fuzzer_finds_what_it_is_meant_to_find(monkeypatch):
    """The harness itself can fail: an exception that is not an ArchspecError is reported as a finding."""
    monkeypatch.setattr("archspec.cnn.spec.infer", lambda *a: 1 / 0)
    spec = next(p for p in SPECS if "kind: cnn" in p.read_text())
    found = exercise(spec.read_text(), spec, GUARD_S)
    assert found is not None and "ZeroDivisionError" in found.detail


@settings(max_examples=40, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_cli_last_resort_is_not_reached_by_hostile_specs(data, tmp_path_factory):
    """The CLI's handler for bugs ('internal error', a saved report) must never be what a hostile spec meets."""
    import contextlib
    import io

    import archspec.terminal
    from archspec.cli import main

    reached = []
    text, _ = make_case(_pick(data))
    folder = tmp_path_factory.mktemp("cli")
    (folder / "spec.yaml").write_text(text, errors="surrogateescape")
    real = archspec.terminal.last_resort
    archspec.terminal.last_resort = lambda command, exc: reached.append((command, repr(exc))) or 70
    try:
        for argv in (["validate", "--suggest"], ["shapes"], ["explain"], ["render", "-o", str(folder / "x.dot")]):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                with contextlib.suppress(SystemExit):
                    main([argv[0], str(folder / "spec.yaml"), *argv[1:]])
    finally:
        archspec.terminal.last_resort = real
    assert not reached, f"{reached}\ninput:\n{text[:3000]}"
