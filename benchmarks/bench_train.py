"""Training throughput: archspec's loop vs a hand-written PyTorch loop, same network, data, batch, optimizer, threads.

The seed's medical network (64x64x1: conv 3x3/16, ReLU, max-pool 2, conv 3x3/32, ReLU, max-pool 2, flatten,
fc 6; Adam lr 1e-3, weight decay 1e-4, batch 64) trains on /work/shared/data/medical-mnist-sample when it
exists, else on 1,800 synthetic 64x64 images. Each side runs in its own process (so peak RSS is its own),
alternating sides for --rounds rounds; images/s counts training steps only (no evaluation), and the first
epoch of each process is warm-up. Compare only numbers from one run: the machine's load changes.

    .venv/bin/python benchmarks/bench_train.py [--data DIR] [--epochs 4] [--rounds 2] [--threads N] [--channels-last]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "seed" / "medical-cnn.yaml"
SHARED = Path("/work/shared/data/medical-mnist-sample")
BATCH, LR, WEIGHT_DECAY, TRAIN_FRACTION = 64, 1e-3, 1e-4, 0.7  # as in the spec (0.1 val + 0.2 test held out)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_archspec(data: str, epochs: int, threads: int, channels_last: bool) -> dict:
    from archspec.training.loop import Console
    from archspec.training.session import train

    sets = [f"threads={threads}", "early_stopping=null", f"channels_last={str(channels_last).lower()}"]
    with tempfile.TemporaryDirectory() as out:
        run = train(str(SPEC), data_dir=data, epochs=epochs, out=out, sets=sets, force=True,
                    console=Console(quiet=True))
    ips = [h["images_per_second"] for h in run.metrics["history"]]
    return {"images_per_second": ips, "train_images": sum(run.metrics["data"]["counts"][c]["train"]
                                                           for c in run.metrics["classes"]),
            "test_accuracy": run.metrics["test_accuracy"], "peak_rss_mb": peak_rss_mb()}


def run_handwritten(data: str, epochs: int, threads: int) -> dict:
    """What a student writes: images into one float tensor, a Sequential, Adam, a loop over shuffled batches."""
    import numpy as np
    import torch
    from PIL import Image
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    classes = sorted(d.name for d in Path(data).iterdir() if d.is_dir() and not d.name.startswith("."))
    xs, ys = [], []
    for label, c in enumerate(classes):
        for f in sorted((Path(data) / c).iterdir()):
            xs.append(np.asarray(Image.open(f).convert("L").resize((64, 64)), dtype=np.float32) / 255)
            ys.append(label)
    x, y = torch.from_numpy(np.stack(xs))[:, None], torch.tensor(ys)
    x = (x - x.mean()) / x.std()
    keep = torch.randperm(len(x))[: int(len(x) * TRAIN_FRACTION)]  # same number of training images as archspec
    x, y = x[keep].contiguous(), y[keep]
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 16 * 16, len(classes)))
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.CrossEntropyLoss()
    ips = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x))
        total = correct = 0.0
        start = time.perf_counter()
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            xb, yb = x[idx], y[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        ips.append(len(x) / (time.perf_counter() - start))
    return {"images_per_second": ips, "train_images": len(x), "peak_rss_mb": peak_rss_mb()}


def child(args) -> None:
    sides = {"archspec": lambda: run_archspec(args.data, args.epochs, args.threads, False),
             "archspec-channels-last": lambda: run_archspec(args.data, args.epochs, args.threads, True),
             "handwritten": lambda: run_handwritten(args.data, args.epochs, args.threads)}
    print(json.dumps(sides[args.side]()))


def synthetic_data(root: Path) -> str:
    from archspec.training.synthetic import write_image_folder

    return str(write_image_folder(root, per_class=300, size=64, classes=6))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help=f"class-folder data set (default: {SHARED} if present, else synthetic)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--channels-last", action="store_true", help="also time archspec with channels_last: true")
    p.add_argument("--side", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        return child(args)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or (str(SHARED) if SHARED.is_dir() else synthetic_data(Path(tmp) / "synthetic"))
        sides = ["archspec", "handwritten"] + (["archspec-channels-last"] if args.channels_last else [])
        results: dict[str, list] = {s: [] for s in sides}
        for _ in range(args.rounds):
            for side in sides:
                cmd = [sys.executable, __file__, "--side", side, "--data", data, "--epochs", str(args.epochs),
                       "--threads", str(args.threads)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
                results[side].append(json.loads(out.strip().splitlines()[-1]))
    import torch

    print(f"data: {data}; batch {BATCH}, Adam lr {LR:g} wd {WEIGHT_DECAY:g}, {args.threads} threads, "
          f"{args.epochs} epochs x {args.rounds} rounds, torch {torch.__version__}, {os.cpu_count()} CPUs")
    summary = {}
    for side, runs in results.items():
        ips = [v for r in runs for v in r["images_per_second"][1:]]  # first epoch of each process is warm-up
        summary[side] = statistics.median(ips)
        extra = f", test accuracy {runs[-1]['test_accuracy']:.1%}" if "test_accuracy" in runs[-1] else ""
        print(f"{side:24s} {summary[side]:8.1f} images/s (median of {len(ips)} epochs, range "
              f"{min(ips):.0f}-{max(ips):.0f}), {runs[0]['train_images']} train images, peak RSS "
              f"{max(r['peak_rss_mb'] for r in runs):.0f} MB{extra}")
    for side in sides:
        if side != "handwritten":
            print(f"ratio {side} / handwritten: {summary[side] / summary['handwritten']:.3f}x (target >= 0.95x)")


if __name__ == "__main__":
    main()
