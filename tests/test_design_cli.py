"""archspec design and validate --suggest, end to end through the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from archspec.validation import check_file

ROOT = Path(__file__).resolve().parent.parent
Q6 = ROOT / "specs" / "seed" / "q6-design.yaml"
WRONG = ROOT / "specs" / "invalid" / "q6-wrong-stride.yaml"


def test_count(cli):
    r = cli("design", Q6, "--count")
    assert r.code == 0, r.err
    assert "352,898 designs meet the rules" in r.out
    assert "4 conv2d (kernel_size 1, 3, 5 or 7; stride 1 or 2; padding 0, 1 or 2)" in r.out
    assert "Top" not in r.out


def test_top_writes_valid_drawable_specs(cli, tmp_path):
    r = cli("design", Q6, "--top", 5, "--by", "params", "--out", tmp_path)
    assert r.code == 0, r.err
    files = sorted(tmp_path.glob("*.yaml"))
    assert [f.name for f in files] == [f"q6-design-params-{i:02d}.yaml" for i in range(1, 6)]
    for f in files:
        assert check_file(f).valid, check_file(f).text()
        assert str(f) in r.out
    assert cli("validate", *files).code == 0
    assert "Top 5 by params" in r.out
    assert "12,544" in r.out and "106,309" in r.out  # shapes after every layer, params in the tables
    render = pytest.importorskip("archspec.diagrams")
    dot = render.render(check_file(files[0]).spec).source
    assert "digraph" in dot and "conv4" in dot


def test_written_design_is_deterministic(cli, tmp_path):
    cli("design", Q6, "--top", 2, "--by", "memory", "--out", tmp_path / "a")
    cli("design", Q6, "--top", 2, "--by", "memory", "--out", tmp_path / "b")
    for name in ("q6-design-memory-01.yaml", "q6-design-memory-02.yaml"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    text = (tmp_path / "a" / "q6-design-memory-01.yaml").read_text()
    assert text.startswith("# Design 1 by memory for the rules of q6-design")
    assert "constraints:\n  conv2d:\n    count: 4\n    kernel_size: {odd: true, max: 7}" in text


def test_json(cli):
    r = cli("design", Q6, "--top", 3, "--by", "depth", "--format", "json")
    assert r.code == 0
    doc = json.loads(r.out)
    assert doc["count"] == 352_898 and len(doc["designs"]) == 3
    depths = [d["depth"] for d in doc["designs"]]
    assert depths == sorted(depths)
    assert doc["designs"][0]["shapes"][-1] == [5]
    assert json.loads(cli("design", Q6, "--count", "--format", "json").out)["designs"] == []


def test_json_of_a_broken_spec_says_why_on_stdout_too(cli):
    broken = ROOT / "specs" / "invalid" / "unknown-key.yaml"
    r = cli("design", broken, "--format", "json")
    assert r.code == 1 and "error[unknown-key]" in r.err
    doc = json.loads(r.out)
    assert doc["count"] is None and [d["code"] for d in doc["diagnostics"]] == ["unknown-key"]
    assert doc["diagnostics"][0]["line"] == 5


def test_rules_file_and_count_zero(cli, tmp_path):
    r = cli("design", ROOT / "specs" / "rules" / "q6-rules.yaml", "--count")
    assert r.code == 0 and "352,898" in r.out
    bad = tmp_path / "impossible.yaml"
    bad.write_text("kind: rules\ninput: [32, 32, 3]\nconstraints:\n  conv2d: {count: 2, kernel_size: 3, stride: 1,"
                   " padding: 1}\n  before_flatten: [8, 8, 64]\n")
    r = cli("design", bad, "--top", 3)
    assert r.code == 1
    assert "0 designs meet the rules" in r.out
    assert f"{bad}:5:19: error[design-impossible]: with 2 conv2d" in r.err
    assert "smallest reachable size is 32 x 32, larger than the 8 x 8 the rule before_flatten asks for" in r.err


def test_bad_input_is_reported_not_raised(cli, tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("kind: equations\nequations: [y = x]\n")
    r = cli("design", f)
    assert r.code == 1 and "design-kind" in r.err and "Traceback" not in r.err
    f.write_text("kind: rules\nconstraints: {conv2d: {count: 1}}\n")
    r = cli("design", f)
    assert r.code == 1 and "needs the input shape" in r.err
    assert cli("design", Q6, "--top", 0).code == 2


def test_validate_suggest(cli):
    r = cli("validate", "--suggest", WRONG)
    assert r.code == 1
    assert "error[rule-shape]" in r.out
    assert "    suggest: conv3: stride 1 -> 2 gives 7 x 7 x 256 before flatten" in r.out
    doc = json.loads(cli("validate", "--suggest", "--format", "json", WRONG).out)
    assert doc["files"][0]["suggestions"][0] == "conv3: stride 1 -> 2 gives 7 x 7 x 256 before flatten"
    r = cli("validate", "--suggest", Q6)
    assert r.code == 0 and "suggest" not in r.out


@pytest.mark.parametrize("flags", [("--count",), ("--top", "3")])
def test_a_space_too_large_to_search_is_a_located_error(cli, monkeypatch, flags):
    """Wide rules (30 convs, 11 kernels, a 1024 x 1024 input) grew memory until the OOM killer struck."""
    monkeypatch.setattr("archspec.design.moves.MAX_MOVES", 1_000)  # small-design needs about 3,400
    path = ROOT / "specs" / "examples" / "small-design-rules.yaml"
    r = cli("design", path, *flags)
    assert r.code == 1 and f"{path}:10:3: error[design-too-large]: the rules allow more than 1,000 layer" in r.err
    assert "hint: narrow them" in r.err and "Traceback" not in r.err


def test_out_stays_in_its_folder_whatever_the_name(cli, tmp_path):
    """The file name comes from the spec's free-text name: '../x' wrote beside --out, 'cnn/v2' into a sub-folder."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(Q6.read_text().replace("name: q6-design", "name: '../up/cnn v2: 層'"))
    r = cli("design", rules, "--top", 1, "--out", tmp_path / "out")
    assert r.code == 0, r.err
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml") if p != rules] == \
        ["out/up-cnn-v2-層-params-01.yaml"]
    assert check_file(tmp_path / "out" / "up-cnn-v2-層-params-01.yaml").valid


def test_the_only_design_says_so(cli, tmp_path):
    rules = tmp_path / "one.yaml"
    rules.write_text("kind: rules\nname: one\ninput: [8, 8, 1]\nconstraints:\n  conv2d: {count: 1, kernel_size: 3, "
                     "stride: 1, padding: 1}\n  linear: {count: 1, out_features: 2}\n")
    r = cli("design", rules, "--out", tmp_path)
    assert r.code == 0 and "one (" in r.out and "1 design meets the rules" in r.out
    head = (tmp_path / "one-params-01.yaml").read_text().splitlines()[0]
    assert head.endswith(", the only design that meets them.")  # not 'one of 1 designs'


def test_out_never_overwrites_an_edited_design_unless_forced(cli, tmp_path):
    """A written design is a starting point people edit; running design again must not lose the edit."""
    assert cli("design", Q6, "--top", 2, "--out", tmp_path).code == 0
    assert cli("design", Q6, "--top", 2, "--out", tmp_path).code == 0  # unchanged files: rewritten, same bytes
    edited = tmp_path / "q6-design-params-02.yaml"
    edited.write_text(edited.read_text() + "# my notes\n")
    r = cli("design", Q6, "--top", 3, "--out", tmp_path)
    assert r.code == 1 and f"{edited} already exists and differs" in r.err and "--force" in r.err
    assert edited.read_text().endswith("# my notes\n") and not (tmp_path / "q6-design-params-03.yaml").exists()
    r = cli("design", Q6, "--top", 3, "--out", tmp_path, "--force")
    assert r.code == 0, r.err
    assert "# my notes" not in edited.read_text() and (tmp_path / "q6-design-params-03.yaml").is_file()
