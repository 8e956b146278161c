"""Pieces of the training machinery: fit verdicts, atomic writes, progress output, spec diffs, kill -9."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from archspec.training.loop import Console, epoch_line
from archspec.training.report import verdict
from archspec.training.resolve import differences
from archspec.training.runfolder import atomic_write, load_tensors

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "specs" / "examples" / "digits-cnn.yaml"


def history(*rows):
    return [{"epoch": i, "train_loss": tl, "train_accuracy": ta, "val_loss": vl, "val_accuracy": va}
            for i, (tl, ta, vl, va) in enumerate(rows, 1)]


@pytest.mark.parametrize("rows, label", [
    ([(1.0, 0.6, 0.5, 0.8), (0.3, 0.9, 0.3, 0.9), (0.1, 0.97, 0.4, 0.9), (0.05, 0.99, 0.6, 0.88)], "overfitting"),
    ([(2.0, 0.30, 2.0, 0.31), (1.9, 0.35, 1.9, 0.36)], "underfitting"),
    ([(0.5, 0.91, 0.5, 0.92), (0.3, 0.95, 0.35, 0.94)], "still improving"),
    ([(0.2, 0.96, 0.2, 0.95), (0.19, 0.965, 0.19, 0.955)], "good fit"),
    ([(0.2, 0.99, None, None), (0.19, 0.995, None, None)], "good fit"),
])
def test_verdict_reads_the_curves(rows, label):
    got, text = verdict(history(*rows))
    assert got == label and text.startswith(label)


def test_dropout_lowered_training_accuracy_is_no_underfitting():
    """The epoch's training accuracy is measured with dropout on while the weights change: below validation
    in a network that fits well (digits: 88% train, 97% validation) it said 'underfitting'."""
    got, text = verdict(history((0.5, 0.80, 0.2, 0.95), (0.45, 0.88, 0.12, 0.97)))
    assert got == "good fit" and "dropout on" in text and "97.0%" in text
    got, text = verdict(history((0.5, 0.60, 1.9, 0.62), (0.48, 0.61, 1.85, 0.63)))  # both low: underfitting
    assert got == "underfitting" and "63.0% on validation" in text and "61.0%" in text
    # falling fast and still at its best: 'still improving' wins over a low accuracy
    got, _ = verdict(history((2.0, 0.30, 2.0, 0.31), (1.0, 0.50, 1.0, 0.55)))
    assert got == "still improving"


def test_an_overfitting_verdict_knows_early_stopping_kept_earlier_weights():
    rows = history((1.0, 0.6, 0.5, 0.8), (0.3, 0.9, 0.3, 0.9), (0.1, 0.97, 0.4, 0.9), (0.05, 0.99, 0.6, 0.88))
    assert "try more weight decay" in verdict(rows)[1]
    label, text = verdict(rows, kept_epoch=2)
    assert label == "overfitting" and text.endswith("early stopping kept the weights of epoch 2, from before it")
    assert "try more weight decay" in verdict(rows, kept_epoch=4)[1]  # the last epoch's weights: no help there


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.safetensors"
    atomic_write(target, b"old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        atomic_write(target, b"new, half written")
    assert target.read_bytes() == b"old"


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    row = {"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.75,
           "images_per_second": 1234.0, "seconds": 1.5}
    out, err = io.StringIO(), Tty()
    tty = Console(out, err)
    tty.bar(1, 3, 10, 10, 0.5, 0.8, 1234.0)
    tty.line(epoch_line(row, 3))
    assert "\repoch 1/3 [########################] 10/10 loss 0.5000 acc 80.0% 1,234 img/s" in err.getvalue()
    assert out.getvalue() == "epoch 1/3  train loss 0.5000 acc 80.0%  val loss 0.6000 acc 75.0%  1,234 img/s  1.5s\n"
    out, err = io.StringIO(), io.StringIO()
    plain = Console(out, err)
    plain.bar(1, 3, 10, 10, 0.5, 0.8, 1234.0)
    plain.line("epoch 1/3 ...")
    assert err.getvalue() == "" and out.getvalue() == "epoch 1/3 ...\n"


def test_differences_name_each_changed_value():
    old = {"train": {"optimizer": {"lr": 0.001}, "epochs": 3}, "layers": [{"out_channels": 8}]}
    new = {"train": {"optimizer": {"lr": 0.01}, "epochs": 3}, "layers": [{"out_channels": 16}]}
    assert differences(old, new) == ["layers[0].out_channels: 8 -> 16", "train.optimizer.lr: 0.001 -> 0.01"]
    assert differences(old, old) == []


def test_only_cnn_specs_train(cli):
    from archspec.validation import check_file

    other = next((p for p in sorted((ROOT / "specs").rglob("*.yaml"))
                  if (r := check_file(p)).valid and r.spec.kind != "cnn"), None)
    if other is None:
        pytest.skip("no valid non-cnn spec in specs/")
    r = cli("train", other)
    assert r.code == 1 and "not-trainable" in r.err and "kind: cnn" in r.err


def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path, cli):
    """A real SIGKILL mid-run: the atomic checkpoint of the last complete epoch resumes to the same weights."""
    full, cut = tmp_path / "full", tmp_path / "cut"
    args = ["train", DIGITS, "--epochs", "4", "--set", "threads=1", "-q"]
    assert cli(*args, "--out", full).code == 0
    exe = Path(sys.executable).with_name("archspec")
    proc = subprocess.Popen([str(exe), *map(str, args), "--out", str(cut)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (cut / "checkpoint.safetensors").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.kill()  # SIGKILL: no handler runs
    proc.wait()
    finished = (cut / "model.safetensors").exists()
    r = cli("train", "--resume", cut, "-q")
    assert r.code == 0, r.err
    a, b = load_tensors(full / "model.safetensors")[0], load_tensors(cut / "model.safetensors")[0]
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ"
    if finished:  # the machine was fast enough to finish before the kill: still a valid resume of a done run
        pytest.skip("the run finished before it could be killed")


@pytest.mark.parametrize("train, column, message", [
    ("  optimizer: {type: adam, momentum: 0.9}", 37, "momentum applies to sgd only"),
    ("  optimizer: {type: sgd, nesterov: true}", 36, "nesterov needs momentum > 0"),
    ("  dataset: {type: digits, val_fraction: 0.5, test_fraction: 0.5}", 61, "must leave images to train on"),
])
def test_train_block_checks_point_at_the_value(train, column, message):
    from archspec.validation import check_text

    report = check_text(f"kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {{type: flatten}}\n"
                        f"  - {{type: linear, out_features: 10}}\ntrain:\n{train}\n")
    (d,) = report.diagnostics
    assert (d.line, d.column, d.code) == (7, column, "bad-value") and message in d.message


@pytest.mark.parametrize("value", ["oops", "kill:1", "kill:x:1:1", "explode:0:1:1", ""])
def test_the_test_fault_hook_ignores_values_it_does_not_understand(value):
    from archspec.training.distributed import World, fault

    fault(World(), 1, 1, env={"ARCHSPEC_TEST_FAULT": value})  # no exception, no kill, no hang


def test_predict_refuses_a_top_below_one(cli, tmp_path):
    r = cli("predict", ROOT / "specs" / "examples" / "digits-cnn.yaml", tmp_path / "x.png",
            "--weights", tmp_path / "w.safetensors", "--top", "0")
    assert r.code == 2 and "argument --top: must be a positive integer. Received: 0" in r.err


def test_closed_form_learning_rates_match_torchs_schedulers():
    """A forced resume sets the lr a changed schedule gives after N epochs: the same as torch stepping N times."""
    from archspec.train_config import Schedule
    from archspec.training.loop import LR_AFTER, SCHEDULES

    for rule in (Schedule(type="step", step_size=2, gamma=0.5), Schedule(type="cosine", min_lr=0.001)):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = SCHEDULES[rule.type](opt, rule, 5)
        for done in range(6):
            assert opt.param_groups[0]["lr"] == pytest.approx(LR_AFTER[rule.type](rule, 0.1, done, 5)), (rule, done)
            opt.step()
            sched.step()


def test_report_averages_only_classes_that_occur_or_are_predicted():
    """Scoring new images of two of four classes: a perfect result has macro f1 1.0, not 0.5 from two rows of
    zeros; a class only predicted still counts (its precision is 0)."""
    from archspec.training.report import classification

    names = ["cat", "dog", "emu", "fox"]
    rep = classification([0, 0, 1], [0, 0, 1], names)
    assert rep["accuracy"] == 1.0 and rep["macro_avg"]["f1"] == 1.0
    assert "emu" not in rep["text"] and rep["per_class"]["emu"]["support"] == 0 and rep["confusion"].shape == (4, 4)
    rep = classification([0, 0, 1], [0, 2, 1], names)
    assert rep["per_class"]["emu"]["precision"] == 0.0 and "emu" in rep["text"]
    assert rep["macro_avg"]["recall"] == pytest.approx((0.5 + 1 + 0) / 3)


def test_plots_of_class_names_the_font_lacks_print_no_warnings(tmp_path):
    """A class folder named in Chinese: matplotlib warned once per missing glyph, with source lines, on stderr."""
    import warnings

    import numpy as np

    from archspec.training.report import plot_confusion

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        plot_confusion(np.array([[2, 0], [1, 3]]), ["猫", "類"], tmp_path / "cm.png", "類")
    assert (tmp_path / "cm.png").stat().st_size > 0
    assert not [w for w in seen if "Glyph" in str(w.message)]


def test_an_unfused_checkpoint_resumed_by_a_fused_optimizer_takes_fp16_loss_scaling(tmp_path):
    """A CPU run's checkpoint (torch's default, unfused step) resumed on a GPU, where the optimizer is built fused
    and fp16's GradScaler hands it the scale: torch took the checkpoint's unfused flag and every step failed."""
    from archspec.training import checkpoint
    from archspec.training.devices import Precision
    from archspec.training.loop import State

    def model_and_optimizer(fused):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        return model, torch.optim.Adam(model.parameters(), lr=0.1, fused=fused)

    x = torch.ones(4, 3)
    model, opt = model_and_optimizer(None)
    model(x).sum().backward()
    opt.step()
    checkpoint.save(tmp_path / "c.safetensors", model, opt, None, State(epoch=1), torch.Generator(), {}, {})
    tensors, meta = checkpoint.load(tmp_path / "c.safetensors")
    after = []
    for scaler in (None, torch.amp.GradScaler("cpu", init_scale=2.0 ** 10)):  # the scale must cancel out
        model, opt = model_and_optimizer(True)
        checkpoint.restore(tensors, meta, model, opt, None, torch.Generator(), {}, scaler=scaler)
        Precision("fp16" if scaler else "fp32", torch.device("cpu"), scaler).backward_step(model(x).sum(), opt)
        after.append(model.weight.detach().clone())
    assert opt.param_groups[0]["fused"] and torch.allclose(*after)


def test_a_checkpoint_from_a_machine_with_more_gpus_restores_the_gpus_this_one_has(monkeypatch):
    """The checkpoint holds a CUDA generator state for each GPU of the machine that saved it; torch has no
    generator for a GPU this machine lacks (IndexError)."""
    from archspec.training import checkpoint

    gen = torch.Generator()
    tensors, meta = checkpoint.rng_states(gen)
    tensors.update({f"rng.cuda.{i}": torch.full((16,), i, dtype=torch.uint8) for i in range(4)})
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.extend)
    checkpoint.set_rng_states(tensors, meta, gen)
    assert [int(s[0]) for s in restored] == [0, 1]


def test_bf16_on_a_gpu_needs_ampere_and_never_gets_a_loss_scaler(monkeypatch):
    """torch.cuda.is_bf16_supported() says yes on a V100 (it can store bfloat16 by emulation); compute
    capability 8.0 is what brings bfloat16 arithmetic. bf16 keeps fp32's range: no GradScaler."""
    from archspec.training.devices import precision
    from archspec.training.resolve import OverrideError, resolve

    r, gpu = resolve(DIGITS, runtime={"device": "cuda", "precision": "bf16"}), torch.device("cuda", 0)
    monkeypatch.setattr(torch.version, "hip", None)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla V100-SXM2-16GB")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 0))
    with pytest.raises(OverrideError, match=r"--precision bf16: error\[no-bf16\]: this GPU \(Tesla V100"):
        precision(r, gpu)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))  # an H100
    amp = precision(r, gpu)
    assert (amp.name, amp.scaler) == ("bf16", None)


def test_more_gpu_workers_than_gpus_are_refused_before_launching(cli, monkeypatch, tmp_path):
    """The launcher only checks (it must not claim a GPU its workers need): one worker per GPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    r = cli("train", DIGITS, "--nproc", "3", "--device", "cuda", "--set", "batch_size=12", "--out", tmp_path / "r")
    assert r.code == 1 and "error[too-few-gpus]: worker with local rank 2 needs GPU 2, but this machine has 2" in r.err
    assert not (tmp_path / "r").exists()
