"""Equation networks train like any other spec: inline samples or CSV rows, torch's own module and loop."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from archspec.training.runfolder import load_tensors

ROOT = Path(__file__).resolve().parent.parent
XOR = ROOT / "specs" / "examples" / "xor-equations.yaml"

LINEAR = """\
kind: equations
name: linear-fit
equations: y = w1*x1 + w2*x2 + b1
train:
  dataset: {{type: csv, path: {csv}, test_fraction: 0.25, val_fraction: 0.1}}
  epochs: 150
  batch_size: 8
  optimizer: {{type: adam, lr: 0.05}}
  seed: 2
"""


def write_csv(path: Path, n: int = 40) -> Path:
    """y = 0.5 x1 - 0.3 x2 + 0.1 exactly, columns in another order than the network's inputs."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 2, generator=g, dtype=torch.float64) * 4 - 2
    lines = ["y,x2,x1"] + [f"{0.5 * a - 0.3 * b + 0.1!r},{b!r},{a!r}" for a, b in x.tolist()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_xor_trains_the_loss_falls_and_torch_agrees(cli, tmp_path):
    out = tmp_path / "xor"
    r = cli("train", XOR, "--out", out)
    assert r.code == 0, r.err
    for name in ("spec.yaml", "history.csv", "metrics.json", "curves.png", "model.safetensors"):
        assert (out / name).is_file(), name
    m = json.loads((out / "metrics.json").read_text())
    losses = [h["train_loss"] for h in m["history"]]
    assert len(losses) == 500 and losses[-1] < 0.01 * losses[0]
    assert m["test_accuracy"] == 1.0 and m["report_split"] == "train" and m["loss"] == "mse"
    assert [p["targets"] for p in m["predictions"]] == [[0.0], [1.0], [1.0], [0.0]]
    assert "accuracy 100.0% on 4 samples" in r.out and "learned: w1 = " in r.out
    r = cli("evaluate", XOR, "--weights", out / "model.safetensors")
    assert r.code == 1 and "is an equation network" in r.err

    # the oracle: the equations' torch module and a hand-written full-batch loop from the same start
    from archspec import build, load

    spec = load(str(XOR))
    net = build(spec)
    opt = torch.optim.SGD(net.parameters(), lr=2.0, momentum=0.9)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
    for _ in range(500):
        loss = F.mse_loss(net(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    saved = load_tensors(out / "model.safetensors")[0]
    assert set(saved) == {"w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"}
    for name, p in net.named_parameters():  # the run permutes the 4 rows per epoch: summation order only
        assert float(saved[name]) == pytest.approx(float(p.detach()), rel=1e-7, abs=1e-9), name
    assert [p["outputs"][0] for p in m["predictions"]] == pytest.approx(net(x)[:, 0].tolist(), abs=1e-7)


def test_csv_regression_recovers_the_line_and_reports_loss_only(cli, tmp_path):
    spec = tmp_path / "linear.yaml"
    spec.write_text(LINEAR.format(csv=write_csv(tmp_path / "rows.csv").name))
    out = tmp_path / "run"
    r = cli("train", spec, "--out", out, "-q")
    assert r.code == 0, r.err
    m = json.loads((out / "metrics.json").read_text())
    assert m["report_split"] == "test" and m["data"]["rows"] == {"test": 10, "val": 4, "train": 26}
    assert m["test_accuracy"] is None and m["test_loss"] < 1e-4
    assert m["weights"] == pytest.approx({"w1": 0.5, "w2": -0.3, "b1": 0.1}, abs=1e-2)
    assert m["data"]["inputs"] == ["x1", "x2"] and m["data"]["targets"] == ["y"]
    assert all(h["train_accuracy"] is None and h["val_loss"] is not None for h in m["history"])
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_of_an_equation_run_is_bit_identical(tmp_path):
    from archspec.training.loop import Console
    from archspec.training.session import train

    spec = tmp_path / "linear.yaml"
    spec.write_text(LINEAR.format(csv=write_csv(tmp_path / "rows.csv").name))
    quiet = Console(quiet=True)
    full = train(spec, out=tmp_path / "full", console=quiet)
    cut = train(spec, out=tmp_path / "cut", console=quiet, stop_after=60)
    assert cut.metrics is None and not (tmp_path / "cut" / "model.safetensors").exists()
    done = train(None, resume=tmp_path / "cut", console=quiet)
    a, b = load_tensors(tmp_path / "full" / "model.safetensors")[0], load_tensors(tmp_path / "cut" /
                                                                                 "model.safetensors")[0]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["train_loss"] for h in full.metrics["history"]] == [h["train_loss"] for h in done.metrics["history"]]
    assert done.metrics["resumes"] == [{"epoch": 60, "restart": 0, "world_size": 1}]
    files = {f.name: f.read_bytes() for f in (tmp_path / "cut").iterdir()}
    again = train(None, resume=tmp_path / "cut", console=quiet)  # nothing left: the same Run, files untouched
    assert again.metrics == done.metrics and again.state.epoch == done.state.epoch
    assert {f.name: f.read_bytes() for f in (tmp_path / "cut").iterdir()} == files


@pytest.mark.parametrize("dataset, where, message", [  # (line, column) of the offending row or key
    ("{type: samples, inputs: [[0, 0], [0, 1, 1]], targets: [[0], [1]]}", (4, 45),
     "inputs row 1 has 3 value(s); the network has 2 input(s) (x1, x2)"),
    ("{type: samples, inputs: [[0, 0], [0, 1]], targets: [[0], [1, 0]]}", (4, 69),
     "targets row 1 has 2 value(s); the network has 1 output(s) (y)"),
    ("{type: samples, inputs: [[0, 0]], targets: [[0], [1]]}", (4, 55), "1 input rows but 2 target rows"),
    ("{type: csv, path: rows.csv, inputs: [x1]}", (4, 48), "1 inputs column(s) for the network's 2 inputs"),
    ("{type: samples, inputs: [[0, 0]], targets: [[.nan]]}", (4, 57), "finite"),
])
def test_bad_rows_are_located(dataset, where, message):
    from archspec.validation import check_text

    report = check_text(f"kind: equations\nequations: y = sigmoid(w1*x1 + w2*x2 + b1)\ntrain:\n  dataset: {dataset}\n")
    (d,) = [d for d in report.diagnostics if d.severity == "error"]
    assert (d.line, d.column) == where and message in d.message, (d.line, d.column, d.message)


def test_csv_problems_name_the_file_line_and_column(cli, tmp_path):
    rows = write_csv(tmp_path / "rows.csv")
    spec = tmp_path / "s.yaml"
    spec.write_text(LINEAR.format(csv="rows.csv").replace("val_fraction: 0.1}", "inputs: [x1, x9]}"))
    r = cli("train", spec, "--out", tmp_path / "r")
    assert r.code == 1 and "has no column 'x9' (columns: y, x2, x1)" in r.err and "s.yaml:5:" in r.err
    rows.write_text(rows.read_text().replace("\n", "\n0.1,zero,3\n", 3))
    spec.write_text(LINEAR.format(csv="rows.csv"))
    r = cli("train", spec, "--out", tmp_path / "r")
    assert r.code == 1 and "rows.csv:2: 'zero' is not a number" in r.err
    assert not (tmp_path / "r").exists()


def test_equation_specs_refuse_devices_and_processes_and_need_a_train_block(cli, tmp_path):
    r = cli("train", XOR, "--device", "cuda")
    assert r.code == 1 and "--device cuda: equation networks train in one process on the CPU" in r.err
    r = cli("train", XOR, "--nproc", "2", "--out", tmp_path / "r")
    assert r.code == 1 and "equation networks train in one process" in r.err
    bare = tmp_path / "bare.yaml"
    bare.write_text("kind: equations\nequations: y = sigmoid(w1*x1 + b1)\n")
    r = cli("train", bare)
    assert r.code == 1 and "not-trainable" in r.err and "without one" in r.err and "type: samples" in r.err


def test_equation_runs_stop_and_resume_as_image_runs_do(cli, tmp_path, monkeypatch):
    """One place words an interruption and a divergence for every kind: the checkpoint it leaves, or (before
    the first one) no run folder; the throttled checkpoint (CHECKPOINT_EVERY) is the one named."""
    from archspec.training import tabular

    spec = tmp_path / "linear.yaml"
    spec.write_text(LINEAR.format(csv=write_csv(tmp_path / "rows.csv").name))
    real = tabular.run_epoch

    def ctrl_c_in_epoch(n):
        def run_epoch(*args, **kwargs):
            if args[5] == n:  # the epoch argument
                raise KeyboardInterrupt
            return real(*args, **kwargs)
        return run_epoch

    monkeypatch.setattr(tabular, "run_epoch", ctrl_c_in_epoch(5))  # long before a second has passed: no checkpoint
    r = cli("train", spec, "--out", tmp_path / "early")
    assert r.code == 130
    assert "interrupted during epoch 5; no epoch checkpointed yet, so the run folder is removed" in r.err
    assert "--resume" not in r.err and not (tmp_path / "early").exists()

    monkeypatch.setattr(tabular.RowsJob, "checkpoint_every", 0.0)  # a checkpoint each epoch
    monkeypatch.setattr(tabular, "run_epoch", ctrl_c_in_epoch(40))
    cut = tmp_path / "cut"
    r = cli("train", spec, "--out", cut)
    assert r.code == 130, r.err
    assert f"interrupted during epoch 40; the checkpoint holds epoch 39. Continue with: archspec train --resume {cut}" \
        in r.err
    monkeypatch.setattr(tabular, "run_epoch", real)
    r = cli("train", "--resume", cut, "-q")
    assert r.code == 0, r.err
    full = tmp_path / "full"
    assert cli("train", spec, "--out", full, "-q").code == 0
    a, b = load_tensors(full / "model.safetensors")[0], load_tensors(cut / "model.safetensors")[0]
    assert all(torch.equal(a[k], b[k]) for k in a)

    r = cli("train", spec, "--out", tmp_path / "nan", "--set", "train.optimizer.type=sgd", "--set",
            "train.optimizer.lr=1e200")
    assert r.code == 1 and ("the loss became inf at epoch 1, step 2 of 4 (learning rate 1e+200); training stopped. "
                            "Lower the learning rate, e.g. --set train.optimizer.lr=1e+199\n    no epoch completed, "
                            "so the run folder is removed") in r.err
    assert not (tmp_path / "nan").exists()
