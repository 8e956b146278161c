"""Issue 16's reproducers through the CLI: each is a located one-line error or a correct result, never a
traceback; and the general rules behind them (bounds in one table, terminal escaping in one place, digests on
weights, nothing left behind on a full disk, linked folders that do not relabel images)."""
from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path

import pytest
from test_hostile_inputs import run, trained  # noqa: F401  (fixtures: a finished tiny run and its images)

from archspec.limits import TABLE
from archspec.terminal import escape

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "fuzz_cases"


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def clean(r) -> None:
    text = r.out + r.err
    assert "Traceback" not in text and "internal error" not in text, text


@pytest.mark.parametrize("case, needle, code", [
    ("nul-path", "constraints:", "bad-value"),
    ("rule-inf", "stride: {max", "bad-value"),
    ("rule-1e308", "stride: {max", "bad-value"),
    ("count-20-digits", "count: 9999", "bad-value"),
])
def test_values_no_work_can_afford_are_located_errors_in_validate_and_every_command(cli, tmp_path, case, needle,
                                                                                    code):
    path = CASES / f"issue16-{case}.yaml"
    where = f"{path}:{line_of(path, needle)}:"
    for argv in (("validate", path), ("shapes", path), ("explain", path), ("render", path, "-o", tmp_path / "x.dot"),
                 ("design", path, "--count")):
        r = cli(*argv)
        clean(r)
        assert r.code == 1 and where in r.out + r.err and f"error[{code}]" in r.out + r.err, (argv, r.out, r.err)


@pytest.mark.parametrize("case, needle", [("issue16-padding-65536", "padding: {max"),
                                          ("issue16-stride-1e8", "stride: {max"),
                                          ("wide-kernel-padding-stride", "padding: {max")])
def test_design_rules_too_wide_to_search_are_refused_at_the_rule(cli, case, needle):
    path = CASES / f"{case}.yaml"
    r = cli("design", path, "--count")
    clean(r)
    assert r.code == 1 and f"{path}:{line_of(path, needle)}:" in r.err and "error[design-too-large]" in r.err, r.err


def test_ranges_are_clipped_to_what_the_input_allows_with_a_note(cli, tmp_path):
    """Strides past the largest side a layer can see (28 + 2 * 3 convs * padding 2 = 40 here) all give a 1-cell
    output: searching them up to 10**6 counts what searching up to 40 counts."""
    base = (ROOT / "specs" / "examples" / "small-design-rules.yaml").read_text()
    counts = []
    for top in (40, 10 ** 6):
        path = tmp_path / f"s{top}.yaml"
        path.write_text(base.replace("stride: {max: 2}", f"stride: {{max: {top}}}"))
        r = cli("design", path, "--count")
        assert r.code == 0, r.err
        counts.append(re.search(r"([\d,]+) designs meet", r.out).group(1))
    assert counts[0] == counts[1] and "conv2d stride above 40" in r.out, r.out


@pytest.mark.parametrize("case, code", [("map-padding", "map-too-large"), ("map-padding-20-digits", "bad-value")])
def test_a_feature_map_beyond_the_cell_budget_is_located(cli, tmp_path, case, code):
    path = CASES / f"issue16-{case}.yaml"
    for argv in (("explain", path), ("render", path, "-o", tmp_path / "x.dot"), ("validate", path)):
        r = cli(*argv)
        clean(r)
        assert r.code == 1 and f"{path}:{line_of(path, 'padding:')}:" in r.out + r.err, r.out + r.err
        assert f"error[{code}]" in r.out + r.err


def test_no_terminal_escape_reaches_the_terminal(cli):
    path = CASES / "issue16-escape-name.yaml"
    for argv in (("shapes", path), ("explain", path, "--format", "text"), ("validate", path)):
        r = cli(*argv)
        assert r.code == 0 and not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", r.out + r.err), repr(r.out[:200])


def test_escaping_keeps_newlines_and_tabs_and_writes_other_controls_as_escapes():
    assert escape("a\tb\nc\x1b[31m\x07\x9b\u202e\x00") == "a\tb\nc\\x1b[31m\\x07\\x9b\\u202e\\x00"


def test_markdown_escapes_html_and_latex_headings_stay_on_one_line(cli, tmp_path):
    r = cli("explain", CASES / "issue16-html-name.yaml", "-o", tmp_path / "x.md")
    text = (tmp_path / "x.md").read_text()
    assert r.code == 0 and "<script>" not in text and "&lt;script&gt;" in text.splitlines()[0], text[:200]
    r = cli("explain", CASES / "issue16-newline-name.yaml", "--format", "latex")
    heading = next(line for line in r.out.splitlines() if line.startswith(r"\section*"))
    assert r.code == 0 and heading.endswith("}") and "two  lines" in heading, heading


def test_a_bug_is_one_line_and_a_saved_report(cli, monkeypatch):
    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("archspec.commands.schema.run", broken)
    r = cli("schema")
    report = re.search(r"the details are in (\S+);", r.err)
    assert r.code == 70 and r.err.count("\n") == 1 and "internal error (RuntimeError: a bug)" in r.err, r.err
    assert "RuntimeError: a bug" in Path(report.group(1)).read_text()
    Path(report.group(1)).unlink()


def test_the_readme_lists_every_bound():
    readme = (ROOT / "README.md").read_text()
    for what, bound, outcome in TABLE:
        assert f"| {what} | {bound} | {outcome} |" in readme, what


# --- files: full disks, damaged weights, linked folders ------------------------------------------

def test_a_full_disk_leaves_nothing_behind(cli, trained, tmp_path, monkeypatch):  # noqa: F811
    """The checkpoint's write fails with ENOSPC: one line, and neither spec.yaml nor a temporary file stays."""
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    (tmp_path / "tiny.yaml").write_text((trained[0] / "spec.yaml").read_text())
    monkeypatch.setattr("archspec.training.runfolder.os.fsync", full)
    r = cli("train", tmp_path / "tiny.yaml", "--data", trained[1], "--epochs", "1", "--out", tmp_path / "out", "-q")
    assert r.code == 1 and "No space left on device" in r.err and r.err.count("\n") == 1, r.err
    assert not (tmp_path / "out").exists()


def test_a_resume_cleans_stale_temporary_files(cli, run, trained):  # noqa: F811
    stale = run / ".checkpoint.safetensors.tmp-99999"
    stale.write_bytes(b"\0" * 4096)
    r = cli("train", "--resume", run, "--data", trained[1], "--epochs", "2", "--force", "-q")
    assert r.code == 0 and not stale.exists(), r.err


def test_damaged_tensor_bytes_are_refused_naming_the_file(cli, run, trained):  # noqa: F811
    weights = run / "model.safetensors"
    blob = bytearray(weights.read_bytes())
    start = 8 + int.from_bytes(blob[:8], "little")
    blob[start + 10:start + 1010] = bytes(1000)
    weights.write_bytes(bytes(blob))
    r = cli("evaluate", run, "--data", trained[1])
    assert r.code == 1 and r.err == f"archspec evaluate: {weights} is damaged: its tensor data does not match " \
        "the sha256 digest stored when it was written (restore it from a copy, or train again)\n", r.err
    shutil.copy(run / "checkpoint.safetensors", run / "saved.safetensors")
    ckpt = run / "checkpoint.safetensors"
    blob = bytearray(ckpt.read_bytes())
    blob[-5] ^= 0xFF
    ckpt.write_bytes(bytes(blob))
    r = cli("train", "--resume", run, "--data", trained[1], "--epochs", "2", "--force", "-q")
    assert r.code == 1 and f"{ckpt} is damaged" in r.err, r.err


def test_weights_written_before_digests_load_with_a_note(cli, run, trained):  # noqa: F811
    from safetensors.torch import load_file, save_file

    weights = run / "model.safetensors"
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as fh:
        meta = {"archspec": fh.metadata()["archspec"]}
    save_file(load_file(str(weights)), str(weights), metadata=meta)  # as archspec wrote it before
    r = cli("evaluate", run, "--data", trained[1])
    assert r.code == 0 and f"archspec: note: {weights} carries no sha256 digest" in r.err, r.err


def test_a_linked_folder_does_not_count_another_class_again(tmp_path):
    from PIL import Image

    from archspec.train_config import ImageFolder
    from archspec.training.data import load

    data = tmp_path / "data"
    for c, shade in (("cat", 40), ("dog", 200)):
        (data / c).mkdir(parents=True)
        for i in range(8):
            Image.new("L", (16, 16), shade + i).save(data / c / f"{i}.png")
    (data / "dog" / "up").symlink_to(data)  # leads back to the data folder: cat's images as dog
    (data / "mouse").symlink_to(data / "cat")  # a class that is another class
    got = load(ImageFolder(type="image_folder", path=str(data), val_fraction=0, test_fraction=0.25), (16, 16, 1),
               seed=0)
    assert got.classes == ["cat", "dog"] and sum(got.counts()["dog"].values()) == 8, got.counts()
    assert any("2 linked folder(s) skipped" in n and "mouse" in n for n in got.notes), got.notes


def test_thousands_of_layers_are_refused_and_thousands_of_bad_values_each_reported(cli, tmp_path):
    """Fuzz findings: 10,367 repeated layers ran validate --suggest for minutes; 4,253 bad values were diagnosed
    pair by pair (quadratic)."""
    from archspec.limits import LAYERS

    many = tmp_path / "many.yaml"
    many.write_text("kind: cnn\ninput: [8, 8, 1]\nlayers:\n" + "  - {type: relu}\n" * (LAYERS + 1))
    r = cli("validate", "--suggest", many)
    assert r.code == 1 and f"{many}:4:3: error[bad-value]" in r.out and f"at most {LAYERS} items" in r.out, r.out
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: cnn\ninput: [8, 8, 1]\nlayers:\n" + '  - {type: conv2d, out_channels: "8"}\n' * 3000)
    r = cli("validate", bad)
    assert r.code == 1 and r.out.count("error[bad-value]: out_channels should be an integer") == 3000


def test_an_equations_network_too_deep_to_write_out_is_refused(cli, tmp_path):
    from archspec.limits import NEURONS

    n = NEURONS + 1
    eqs = "".join(f"  - a{i} = sigmoid(w{i}*{'x1' if i == 0 else f'a{i - 1}'})\n" for i in range(n))
    path = tmp_path / "deep.yaml"
    path.write_text(f"kind: equations\nname: deep\nequations:\n{eqs}inputs: {{x1: 0.5}}\n")
    r = cli("validate", path)
    assert r.code == 1 and f"{path}:4:3: error[too-many-neurons]: the equations make {n} neurons" in r.out, r.out


def test_layer_names_are_literal_text_in_markdown(cli, tmp_path):
    """A layer may be named <script>: explain and shapes write it as text in Markdown, and a '|' in it is
    escaped once (the table escapes it; the name's own escaping leaves it to the table)."""
    spec = tmp_path / "names.yaml"
    spec.write_text("kind: cnn\ninput: [4]\nlayers:\n  - {type: linear, out_features: 2, name: '<script>a|b'}\n"
                    "  - {type: relu, from: '<script>a|b'}\n")
    for argv in (("explain", spec), ("shapes", spec, "--format", "markdown")):
        r = cli(*argv)
        assert r.code == 0 and "<script>" not in r.out and "&lt;script&gt;a\\|b" in r.out, r.out
        assert "a\\\\|b" not in r.out
