"""archspec render: formats from extensions, stdout, folders, missing Graphviz, usage errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from test_render_cnn import BROKEN_Q6
from test_render_dot import needs_dot, parse_dot

SEED = Path(__file__).resolve().parent.parent / "specs" / "seed"
Q6 = SEED / "q6-design.yaml"


def test_dot_to_stdout(cli):
    r = cli("render", Q6, "-o", "-")
    assert r.code == 0, r.err
    assert r.out.startswith("digraph cnn {") and "q6-design" in r.out
    nodes, _ = parse_dot(r.out)
    assert "n_conv4" in nodes


def test_dot_file_without_the_dot_binary(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    r = cli("render", Q6, "-o", tmp_path / "q6.dot")
    assert r.code == 0, r.err
    assert (tmp_path / "q6.dot").read_text().startswith("digraph cnn {")
    assert r.out == "" and r.err.strip() == f"wrote {tmp_path / 'q6.dot'}"  # status on stderr, as every command


@pytest.mark.parametrize("target", ["q6.svg", "q6.png", "q6.pdf", "diagrams/"])
def test_missing_dot_binary_one_clear_message(cli, tmp_path, monkeypatch, target):
    monkeypatch.setenv("PATH", "")
    r = cli("render", Q6, "-o", tmp_path / target)
    assert r.code == 1
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert "Traceback" not in r.err and "needs Graphviz's 'dot' program" in lines[0]
    for how in ("apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge graphviz", ".dot"):
        assert how in lines[0]
    assert not list(tmp_path.rglob("q6*.*"))


def test_format_override_and_unknown_extension(cli, tmp_path):
    r = cli("render", Q6, "-o", tmp_path / "q6.txt", "--format", "dot")
    assert r.code == 0 and (tmp_path / "q6.txt").read_text().startswith("digraph")
    r = cli("render", Q6, "-o", tmp_path / "q6.txt")
    assert r.code == 2 and "cannot tell the format" in r.err


def test_several_specs_into_a_folder(cli, tmp_path):
    specs = sorted(SEED.glob("q[56]*.yaml"))
    r = cli("render", *specs, "-o", tmp_path / "out", "--format", "dot")
    assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.stem + ".dot" for p in specs]
    r = cli("render", *specs, "-o", "-")
    assert r.code == 2 and "one spec" in r.err
    r = cli("render", *specs, "-o", tmp_path / "both.svg")  # a file name, not a folder
    assert r.code == 2 and "-o DIR" in r.err and not (tmp_path / "both.svg").exists()
    (tmp_path / "v1.svg").mkdir()  # an existing folder is a folder, whatever its name
    assert cli("render", *specs, "-o", tmp_path / "v1.svg", "--format", "dot").code == 0


def test_a_folder_of_specs(cli, tmp_path):
    src = tmp_path / "specs"
    src.mkdir()
    (src / "a.yaml").write_text(Q6.read_text())
    (src / "b.yaml").write_text(BROKEN_Q6)
    r = cli("render", src, "-o", tmp_path / "out", "--format", "dot", "--layout", "LR")
    assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.dot", "b.dot"]
    assert "rankdir=LR" in (tmp_path / "out" / "b.dot").read_text()
    assert "wrote" in r.err and "(problems marked in red)" in r.err
    assert "b.yaml:5:" in r.err  # the broken rules, located, on stderr


def test_broken_spec_that_cannot_be_drawn(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {type: conv2d, kernel_size: 3}\n")
    r = cli("render", bad, "-o", "-")
    assert r.code == 1 and "bad.yaml:4:" in r.err and "out_channels" in r.err and r.out == ""
    r = cli("render", tmp_path / "nope.yaml")
    assert r.code == 2 and "no such file" in r.err


def test_options_that_do_not_apply_warn(cli):
    r = cli("render", Q6, "-o", "-", "--values", "--cell", "1,1")
    assert r.code == 0 and "--values, --cell do not apply to kind 'cnn'" in r.err
    r = cli("render", Q6, "-o", "-", "--grads")  # --grads implies --values, but only --grads was given
    assert r.code == 0 and "--grads does not apply to kind 'cnn'" in r.err and "--values" not in r.err
    r = cli("render", Q6, "-o", "-", "--cell", "x")
    assert r.code == 2 and "ROW,COL" in r.err


def test_group_option(cli):
    r = cli("render", SEED / "q5-architecture.yaml", "-o", "-", "--group")
    nodes, _ = parse_dot(r.out)
    assert "n_relu1" not in nodes and "conv1 + relu1" in r.out


def test_default_output_is_an_svg_named_after_the_spec(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "")
    r = cli("render", Q6, "--format", "dot")
    assert r.code == 0 and (tmp_path / "q6-design.dot").exists()


@needs_dot
def test_svg_to_stdout(cli):
    r = cli("render", Q6, "-o", "-", "--format", "svg")
    assert r.code == 0 and "<svg" in r.out and r.out.count('class="node layer') == 12


def test_folder_skips_kinds_without_a_diagram(cli, tmp_path):
    src = tmp_path / "specs"
    src.mkdir()
    (src / "a.yaml").write_text(Q6.read_text())
    (src / "rules.yaml").write_text("kind: rules\nconstraints:\n  conv2d: {count: 4}\n")
    r = cli("render", src, "-o", tmp_path / "out", "--format", "dot")
    assert r.code == 0, r.err
    assert "rules.yaml: skipped (kind 'rules' has no diagram)" in r.err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.dot"]
    r = cli("render", src / "rules.yaml", "-o", "-")  # asked for by name: an error
    assert r.code == 1 and "no diagram for kind 'rules'" in r.err
