"""Every file in specs/invalid/ gives its expected code at the expected line and column."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from archspec.validation import check_file

ROOT = Path(__file__).resolve().parent.parent
INVALID = sorted((ROOT / "specs" / "invalid").glob("*.yaml"))
EXPECT = re.compile(r"#\s*expect:\s*([\w-]+)\s+(\d+):(\d+)")


def test_there_is_one_broken_spec_per_code():
    assert len(INVALID) >= 25


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_spec_reports_expected_diagnostic(path, cli):
    want = EXPECT.search(path.read_text().splitlines()[0])
    assert want, f"{path.name}: first line must be '# expect: CODE LINE:COL'"
    code, line, col = want.group(1), int(want.group(2)), int(want.group(3))
    report = check_file(path)
    assert not report.valid
    assert any((d.code, d.line, d.column) == (code, line, col) for d in report.diagnostics), report.text()
    r = cli("validate", path)
    assert r.code == 1
    assert f"{path}:{line}:{col}: error[{code}]" in r.out
    assert "Traceback" not in r.out + r.err


def test_valid_specs_are_valid(cli):
    r = cli("validate", ROOT / "specs" / "seed")
    assert r.code == 0, r.out + r.err


def test_an_unknown_top_level_key_says_so_instead_of_document(tmp_path):
    path = tmp_path / "top.yaml"
    path.write_text("kind: cnn\ninput: [8, 8, 1]\nlayrs: []\nlayers:\n  - {type: flatten}\n")
    text = check_file(path).text()
    assert "top.yaml:3:1: error[unknown-key]: unknown key 'layrs' at the top level of the spec" in text
    assert "did you mean 'layers'?" in text and "<document>" not in text
