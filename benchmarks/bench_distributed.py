"""Multi-process training: images/s for 1 and 2 processes, and how reliably a killed worker is restarted.

1. Throughput. The seed's medical network (64x64x1, conv-pool-conv-pool-fc, Adam, global batch 64) on
   /work/shared/data/medical-mnist-sample when present, else 1,800 synthetic 64x64 images. Each side is
   ``archspec train`` as a user runs it, in its own process(es): one process with every core as threads,
   and ``--nproc 2`` (torchrun, gloo, DDP; the cores split between the workers). Rounds alternate the
   order (1 2, 2 1) to cancel the machine's drift. Images/s counts training steps only (median of the
   epochs after the first); wall is the whole command (start-up, data, validation, reports). With a CUDA
   GPU the same spec also runs on it (fp32 and bf16), named by the device.
2. Restarts. ``--tries`` runs of a small digits spec with ``--nproc 2 --max-restarts 1`` in which rank 1
   SIGKILLs itself in epoch 2: how many end with a complete run folder resumed from epoch 1.
3. ``--study``: the rendezvous finding behind 2, with a bare torchrun worker (no archspec): a killed rank,
   restart, re-rendezvous; per rendezvous setting, with and without a per-restart store prefix.

    .venv/bin/python benchmarks/bench_distributed.py [--data DIR] [--epochs 4] [--rounds 2] [--tries 5] [--study]
        [--cpu-threads N] [--per-class 300]

On a GPU machine (benchmarks/gpu_check.sh): ``--cpu-threads 2`` makes the CPU sides the 2-core baseline
the issue compares against, and ``--tries 0`` skips the CPU-only restart check.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "seed" / "medical-cnn.yaml"
SHARED = Path("/work/shared/data/medical-mnist-sample")
DIGITS = """\
kind: cnn
name: restart-digits
input: [8, 8, 1]
layers:
  - {type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: relu}
  - {type: maxpool2d, kernel_size: 2}
  - {type: flatten}
  - {type: linear, out_features: 10}
train: {dataset: {type: digits}, epochs: 2, batch_size: 32, seed: 0}
"""
BARE_WORKER = """\
import datetime, os, signal, time
import torch, torch.distributed as dist
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
attempt = int(os.environ["TORCHELASTIC_RESTART_COUNT"])
limit = datetime.timedelta(seconds=20)
store = next(dist.rendezvous("env://", rank=rank, world_size=world, timeout=limit))[0]
if os.environ["PREFIX"] == "1":
    store = dist.PrefixStore(f"attempt-{attempt}", store)
dist.init_process_group("gloo", store=store, rank=rank, world_size=world, timeout=limit)
x = torch.ones(1000)
for step in range(40):
    if rank == 1 and attempt == 0 and step == 10:
        os.kill(os.getpid(), signal.SIGKILL)
    dist.all_reduce(x)
    time.sleep(0.02)
dist.destroy_process_group()
"""


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "OMP_NUM_THREADS")}
    return env | extra


def archspec_train(*args, cwd, env=None) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "archspec", "train", *map(str, args)], cwd=cwd, env=env or clean_env(),
                       capture_output=True, text=True)
    return r.returncode, time.perf_counter() - t0, r.stderr


def throughput(data: str, epochs: int, rounds: int, tmp: Path, cpu_threads: int | None = None) -> None:
    """``cpu_threads``: CPU threads in all for the CPU sides (e.g. 2 on a GPU machine with many cores, to
    compare with a 2-core machine); default torch's choice."""
    import torch

    one = ["--set", f"threads={cpu_threads}"] if cpu_threads else []
    two = ["--set", f"threads={max(1, cpu_threads // 2)}"] if cpu_threads else []
    sides = {"1 process": ["--device", "cpu", *one], "2 processes": ["--device", "cpu", "--nproc", "2", *two]}
    if torch.cuda.is_available():
        sides |= {"1 process, cuda fp32": ["--device", "cuda"],
                  "1 process, cuda bf16": ["--device", "cuda", "--precision", "bf16"]}
    got: dict[str, list] = {name: [] for name in sides}
    for i in range(rounds):
        for name in (list(sides) if i % 2 == 0 else list(sides)[::-1]):
            out = tmp / f"{name.replace(' ', '-').replace(',', '')}-{i}"
            code, wall, err = archspec_train(SPEC, "--data", data, "--epochs", epochs, "--out", out, "-q",
                                             "--set", "early_stopping=null", *sides[name], cwd=tmp)
            if code:
                raise SystemExit(f"{name} failed:\n{err[-2000:]}")
            m = json.loads((out / "metrics.json").read_text())
            got[name].append((statistics.median(h["images_per_second"] for h in m["history"][1:]), wall,
                              m["test_accuracy"], m["device"]))
    base = statistics.median(x[0] for x in got["1 process"])
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    print(f"\n1. throughput ({epochs} epochs per run, {rounds} round(s), images/s = training steps only, "
          "median of epochs 2..):")
    for name, runs in got.items():
        ips = statistics.median(x[0] for x in runs)
        where = f" on {gpu}" if "cuda" in name else ""
        print(f"   {name + where:40s} {ips:9.1f} images/s ({ips / base:.2f}x)"
              f"  wall {statistics.median(x[1] for x in runs):5.1f}s"
              f"  test accuracy {runs[-1][2]:.1%}")


def restarts(tries: int, tmp: Path) -> None:
    spec = tmp / "restart-digits.yaml"
    spec.write_text(DIGITS)
    ok, walls = 0, []
    for i in range(tries):
        out = tmp / f"restart-{i}"
        code, wall, err = archspec_train(spec, "--nproc", "2", "--max-restarts", "1", "--out", out, "-q", cwd=tmp,
                                         env=clean_env(ARCHSPEC_TEST_FAULT="kill:1:2:5"))
        walls.append(wall)
        m = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").is_file() else {}
        good = code == 0 and m.get("restarts") == 1 and m.get("resumes", [{}])[0].get("epoch") == 1
        ok += good
        if not good:
            print(f"   try {i + 1} failed (exit {code}): {err.strip().splitlines()[-1] if err.strip() else ''}")
    print(f"\n2. restarts: rank 1 SIGKILLed in epoch 2, --nproc 2 --max-restarts 1: {ok}/{tries} runs completed, "
          f"resumed from epoch 1 (median wall {statistics.median(walls):.1f}s)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def study(tries: int, tmp: Path) -> None:
    worker = tmp / "bare_worker.py"
    worker.write_text(BARE_WORKER)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--max-restarts", "1"]
    settings = {"static (torchrun's default)": [], "--standalone": ["--standalone"],
                "c10d on a fixed local port": None}
    print(f"\n3. re-rendezvous after a killed rank, bare torchrun worker ({tries} tries each):")
    for prefix in ("0", "1"):
        for name, flags in settings.items():
            ok = 0
            for i in range(tries):
                flags_i = flags if flags is not None else ["--rdzv-backend", "c10d", "--rdzv-endpoint",
                                                           f"127.0.0.1:{free_port()}", "--rdzv-id", f"s{i}"]
                r = subprocess.run([*torchrun, *flags_i, str(worker)], cwd=tmp, capture_output=True,
                                   env=clean_env(PREFIX=prefix), timeout=180)
                ok += r.returncode == 0
            print(f"   {name:30s} {'with' if prefix == '1' else 'without'} per-restart store prefix: {ok}/{tries}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help=f"class-folder data set (default: {SHARED} if present, else synthetic)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--tries", type=int, default=5)
    p.add_argument("--study", action="store_true", help="also the bare-torchrun rendezvous study")
    p.add_argument("--cpu-threads", type=int, help="threads in all for the CPU sides (default: every core)")
    p.add_argument("--per-class", type=int, default=300, help="synthetic images per class (when there is no --data)")
    args = p.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data
        if data is None and SHARED.is_dir():
            data = str(SHARED)
        elif data is None:
            from archspec.training.synthetic import write_image_folder

            data = str(write_image_folder(tmp / "synthetic", per_class=args.per_class, size=64, classes=6))
        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
        print(f"data: {data}; torch {torch.__version__}, {os.cpu_count()} CPUs, GPU: {gpu}")
        throughput(data, args.epochs, args.rounds, tmp, args.cpu_threads)
        if args.tries:
            restarts(args.tries, tmp)
        if args.study:
            study(args.tries, tmp)


if __name__ == "__main__":
    main()
