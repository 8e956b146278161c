"""Hostile and damaged inputs besides spec YAML: run folder files, weights metadata, FIFOs, huge numbers, file
names, full output devices. Each gives a clear message and a non-zero exit, never a traceback or a hang."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_train import TINY
from test_train_data import messy_folder

from archspec.diagnostics import printable
from archspec.training.runfolder import load_tensors, save_tensors

ROOT = Path(__file__).resolve().parent.parent
fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


def archspec(*argv, **kwargs) -> subprocess.CompletedProcess:
    """The CLI in its own process, stopped after 120 s: a probe that hangs fails instead of hanging the suite."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run([sys.executable, "-m", "archspec", *map(str, argv)], text=True, timeout=120, cwd=ROOT,
                          **streams)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished one-epoch run of the tiny spec; tests damage copies of it."""
    from archspec.cli import main

    base = tmp_path_factory.mktemp("hostile")
    (base / "tiny.yaml").write_text(TINY)
    data = messy_folder(base / "images", per_class=12)
    assert main(["train", str(base / "tiny.yaml"), "--data", str(data), "--epochs", "1", "--out",
                 str(base / "run"), "-q"]) == 0
    return base / "run", data


@pytest.fixture
def run(trained, tmp_path):
    return Path(shutil.copytree(trained[0], tmp_path / "run"))


def rewrite_meta(path: Path, change) -> None:
    """Save ``path`` again with ``change(metadata)`` as its archspec metadata."""
    tensors, meta = load_tensors(path)
    save_tensors(path, tensors, change(meta))


@fifo
def test_a_fifo_spec_reads_as_empty_instead_of_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "spec.yaml")
    r = archspec("validate", tmp_path / "spec.yaml")
    assert r.returncode == 1 and "error[empty]: file is empty" in r.stdout + r.stderr, r.stderr


def test_an_integer_of_thousands_of_digits_is_a_located_bad_value(cli, tmp_path):
    """Python refuses to convert more than 4,300 digits: the loader raised ValueError (a traceback)."""
    spec = tmp_path / "huge.yaml"
    spec.write_text("kind: cnn\nname: x\ninput: [8, 8, 1]\nlayers:\n  - {type: linear, out_features: "
                    + "9" * 5000 + "}\n")
    r = cli("validate", spec)
    assert r.code == 1 and f"{spec}:5:34: error[bad-value]: this number has 5,000 digits" in r.out + r.err


def test_seeds_outside_torchs_range_are_located_errors(cli, tmp_path):
    """seed -1 failed in numpy and 10**23 in torch.manual_seed, with tracebacks, after validate said ok."""
    for seed in ("-1", "99999999999999999999999"):
        spec = tmp_path / "seed.yaml"
        spec.write_text(TINY.replace("seed: 3", f"seed: {seed}"))
        r = cli("validate", spec)
        assert r.code == 1 and f"{spec}:18:9: error[bad-value]: seed should be" in r.out, r.out


@fifo
def test_a_fifo_named_like_an_image_is_not_an_image(tmp_path):
    os.mkfifo(tmp_path / "img.png")
    code = ("from archspec.training.images import BadImage, decode\n"
            f"try:\n    decode({str(tmp_path / 'img.png')!r}, (8, 8, 1))\nexcept BadImage as exc:\n    print(exc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.stdout.startswith("not an image"), r.stderr


@pytest.mark.parametrize("change, message", [
    (lambda m: {**m, "classes": m["classes"][:2]}, "2 class names for the network's 3 outputs"),
    (lambda m: {k: v for k, v in m.items() if k != "mean"}, "mean is not a list of 1 finite number(s)"),
    (lambda m: {**m, "std": [0.0], "classes": 7}, "classes is not a list of names; std is not a list of 1 finite "
                                                  "number(s) above 0"),
    (lambda m: [m], "holds archspec metadata that is not a JSON object (a list)"),
])
def test_damaged_weights_metadata_is_refused_saying_what(cli, run, trained, change, message):
    """These ended in KeyError, IndexError or torch's RuntimeError tracebacks."""
    rewrite_meta(run / "model.safetensors", change)
    for argv in (("evaluate", run, "--data", trained[1]), ("predict", run, trained[1] / "hstripes" / "0000.png")):
        r = cli(*argv)
        assert r.code == 1 and message in r.err, r.err


@pytest.mark.parametrize("change, message", [
    (lambda m: [m], "metadata that is not a JSON object"),
    (lambda m: {**m, "state": {**m["state"], "epoch": "x"}}, "is damaged (its state is not one of a run"),
    (lambda m: {**m, "spec": "hello"}, "is damaged (its spec is missing or not a JSON object)"),
    (lambda m: {**m, "rng": {"numpy": 5, "python": [1]}}, "the checkpoint does not fit this spec or is damaged"),
])
def test_a_damaged_checkpoint_is_refused_on_resume(cli, run, trained, change, message):
    """A forced resume read these with .get on a list or str, or unpacked an int: tracebacks."""
    rewrite_meta(run / "checkpoint.safetensors", change)
    r = cli("train", "--resume", run, "--data", trained[1], "--epochs", "2", "--force", "-q")
    assert r.code == 1 and "cannot resume" in r.err and message in r.err, r.err


def test_a_folder_where_a_run_file_goes_is_a_message(cli, run, trained):
    """atomic_write's rename over a folder raised IsADirectoryError through the CLI."""
    (run / "metrics.json").unlink()
    (run / "metrics.json").mkdir()
    r = cli("train", "--resume", run, "--data", trained[1], "-q")
    assert r.code == 1 and f"archspec train: cannot write {run / 'metrics.json'}: Is a directory" in r.err, r.err


@fifo
def test_a_fifo_metrics_file_does_not_stop_a_resume(run, trained):
    """Resuming a complete run read metrics.json, and waited forever on a FIFO; now the run is scored again."""
    (run / "metrics.json").unlink()
    os.mkfifo(run / "metrics.json")
    r = archspec("train", "--resume", run, "--data", trained[1], "-q")
    assert r.returncode == 0 and json.loads((run / "metrics.json").read_text())["history"], r.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_output_to_a_full_device_is_one_line():
    with open("/dev/full", "w") as full:
        r = archspec("shapes", ROOT / "specs" / "seed" / "q5-architecture.yaml", stdout=full)
    assert r.returncode == 1 and r.stderr == "archspec shapes: cannot write the output: No space left on device\n"


def test_file_names_print_on_one_line_without_terminal_escapes(cli, run, trained, tmp_path):
    image = trained[1] / "hstripes" / "0000.png"
    names = ["a\nb.png", "esc\x1b[31m.png", os.fsdecode(b"bad\xff.png")]
    for name in names:
        shutil.copy(image, tmp_path / name)
    r = cli("predict", run, *(tmp_path / n for n in names))
    lines = r.out.splitlines()
    assert r.code == 0 and len(lines) == 3, r.out
    assert [line.split(": ")[0] for line in lines] == [f"{tmp_path}/{n}" for n in
                                                      ("a\\nb.png", "esc\\x1b[31m.png", "bad\\xff.png")]
    assert printable("plain name.png") == "plain name.png"


def test_a_non_utf8_locale_prints_unicode_escaped():
    """explain prints sigma and other symbols; under an ASCII locale that was a UnicodeEncodeError traceback."""
    r = archspec("explain", ROOT / "specs" / "seed" / "q2-backprop.yaml",
                 env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0 and "\\u03c3" in r.stdout, r.stderr


def test_an_unreadable_run_folder_is_a_message(cli, run, monkeypatch):
    """What a chmod 000 folder does to a user other than root: Path.is_file raises PermissionError."""
    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", denied)
    r = cli("evaluate", run)
    assert r.code == 1 and r.err == f"archspec evaluate: {run / 'spec.yaml'}: Permission denied\n", r.err


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """'archspec design ... | head -12' in the demo: the pipe's reader is gone before archspec writes."""
    read, write = os.pipe()
    os.close(read)  # the reader has already gone: the first write fails with EPIPE
    try:
        r = subprocess.run([sys.executable, "-m", "archspec", "design",
                            str(Path(__file__).resolve().parent.parent / "specs" / "seed" / "q6-design.yaml"),
                            "--top", "3"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write)
    assert r.returncode == 0 and "Traceback" not in r.stderr and "Broken pipe" not in r.stderr, r.stderr
