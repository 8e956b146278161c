"""Training on a CUDA GPU: devices, mixed precision, data kept on the GPU or fed through pinned memory,
NCCL (bit-identical resume on the GPU is one case of tests/test_train.py's resume test). Skipped on machines
without CUDA (CI has none); `benchmarks/gpu_check.sh` runs this file where a GPU is lent."""
from __future__ import annotations

import json

import pytest
import torch

from archspec.training import devices
from archspec.training.runfolder import FILES, load_tensors

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU (benchmarks/gpu_check.sh runs it where one is lent)")

SPEC = """\
kind: cnn
name: gpu-digits
input: [8, 8, 1]
layers:
  - {type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
  - {type: batchnorm2d}
  - {type: relu}
  - {type: maxpool2d, kernel_size: 2}
  - {type: flatten}
  - {type: dropout, p: 0.1}
  - {type: linear, out_features: 10}
train:
  dataset: {type: digits, augment: {hflip: true}}
  epochs: 3
  batch_size: 32
  optimizer: {type: adam, lr: 0.003}
  seed: 0
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "gpu.yaml"
    path.write_text(SPEC)
    return path


def metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text())


def weights(run) -> dict:
    return load_tensors(run / "model.safetensors")[0]


@pytest.mark.parametrize("flags", [[], ["--precision", "bf16"], ["--device", "cuda", "--precision", "fp16"]])
def test_trains_on_the_gpu_and_the_weights_read_back_on_the_cpu(cli, spec, tmp_path, flags):
    run = tmp_path / "run"
    r = cli("train", spec, *flags, "--out", run)  # no --device: auto takes the GPU
    assert r.code == 0, r.err
    assert "kept on cuda:0" in r.out and all((run / name).is_file() for name in FILES.values())
    m = metrics(run)
    assert m["device"] == "cuda:0" and m["precision"] == (flags[-1] if flags else "fp32")
    assert m["test_accuracy"] > 0.85
    assert all(t.device.type == "cpu" for t in weights(run).values())
    r = cli("evaluate", run / "spec.yaml", "--weights", run / "model.safetensors", "--format", "json")  # CPU
    assert r.code == 0, r.err
    assert json.loads(r.out)["accuracy"] == pytest.approx(m["test_accuracy"], abs=0.01)


def test_batches_through_pinned_memory_match_batches_kept_on_the_gpu(cli, spec, tmp_path, monkeypatch):
    assert cli("train", spec, "--out", tmp_path / "on-gpu").code == 0
    monkeypatch.setattr(devices, "FIT_SHARE", 0.0)  # nothing fits: the host-memory path
    r = cli("train", spec, "--out", tmp_path / "pinned")
    assert r.code == 0, r.err
    assert "stay in host memory" in r.out and "pinned memory" in r.out
    a, b = weights(tmp_path / "on-gpu"), weights(tmp_path / "pinned")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_gpu_learns_what_the_cpu_learns(cli, spec, tmp_path):
    """Same seed and data on both devices: kernels round differently, so the weights drift apart a little,
    but the test accuracy agrees closely."""
    assert cli("train", spec, "--device", "cpu", "--out", tmp_path / "cpu").code == 0
    assert cli("train", spec, "--device", "cuda", "--out", tmp_path / "gpu").code == 0
    a, b = metrics(tmp_path / "cpu"), metrics(tmp_path / "gpu")
    assert abs(a["test_accuracy"] - b["test_accuracy"]) < 0.03


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL needs one GPU per process")
def test_two_gpus_train_with_nccl(cli, spec, tmp_path):
    import subprocess
    import sys

    run = tmp_path / "ddp"
    r = subprocess.run([sys.executable, "-m", "archspec", "train", str(spec), "--nproc", "2", "--device", "cuda",
                        "--out", str(run)], capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    m = metrics(run)
    assert (m["backend"], m["world_size"]) == ("nccl", 2) and m["test_accuracy"] > 0.85
    test_images = sum(c["test"] for c in m["data"]["counts"].values())
    assert sum(c["support"] for c in m["per_class"].values()) == test_images


def test_a_gpu_rank_needs_its_own_gpu(cli, spec):
    n = torch.cuda.device_count() + 1  # a batch that divides: with 2+ GPUs, 32 would fail the batch split first
    r = cli("train", spec, "--nproc", str(n), "--device", "cuda", "--set", f"batch_size={4 * n}")
    assert r.code == 1 and "error[too-few-gpus]" in r.err


@pytest.mark.parametrize("precision, fit_share", [("fp32", devices.FIT_SHARE), ("fp16", devices.FIT_SHARE),
                                                  ("bf16", 0.0)])  # 0.0: batches come through pinned memory
def test_training_steps_do_not_wait_for_the_gpu_between_loss_readings(cli, spec, tmp_path, monkeypatch,
                                                                      precision, fit_share):
    """A blocking copy to the GPU, boolean-mask indexing or ``.item()`` drains the GPU's queue, so the host
    stops running ahead. torch's sync debug mode turns each into an error for the steps of an epoch; only the
    running-loss reading (every 16 steps) and the epoch's set-up and scoring may wait. The mode does not see
    every wait: a "non-blocking" copy from pageable (unpinned) memory, or a collective, passes unnoticed."""
    from archspec.training import loop

    real_settle, real_epoch = loop.Tally.settle, loop.run_epoch

    def settle(self, step, lr):
        torch.cuda.set_sync_debug_mode(0)
        try:
            real_settle(self, step, lr)
        finally:
            torch.cuda.set_sync_debug_mode("error")

    def run_epoch(*args, **kwargs):
        try:
            return real_epoch(*args, **kwargs)
        finally:
            torch.cuda.set_sync_debug_mode(0)

    monkeypatch.setattr(loop.Tally, "settle", settle)
    monkeypatch.setattr(loop, "run_epoch", run_epoch)
    monkeypatch.setattr(loop.distributed, "fault",  # called at the start of each step
                        lambda world, epoch, step, env=None: torch.cuda.set_sync_debug_mode("error"))
    monkeypatch.setattr(devices, "FIT_SHARE", fit_share)
    try:
        r = cli("train", spec, "--device", "cuda", "--precision", precision, "--epochs", "1",
                "--out", tmp_path / "run")
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert r.code == 0, r.err
