"""Training throughput: archspec's loop vs a hand-written PyTorch loop, same network, data, batch, optimizer, threads.

The seed's medical network (64x64x1: conv 3x3/32, ReLU, max-pool 2, conv 3x3/64, ReLU, max-pool 2, flatten,
fc 6; Adam lr 1e-3, weight decay 1e-4, batch 64) trains on /work/shared/data/medical-mnist-sample when it
exists, else on 1,800 synthetic 64x64 images.

1. Throughput, one process, epochs alternating: archspec's own training epoch (``loop.run_epoch``: uint8
   cache, normalisation per batch, the built module, the optimizer table) and a hand-written loop (float
   tensor in memory, nn.Sequential written out, Adam), on the same training images. Alternating in one
   process cancels the machine's load drift and process warm-up; the first epoch of each is warm-up.
2. End to end, one process per side: ``archspec train`` as a user runs it (decoding, validation, checkpoint
   each epoch, reports) and the hand-written script (PIL decoding + loop): images/s and peak RSS.
Compare only numbers from one run: the machine's load changes.

    .venv/bin/python benchmarks/bench_train.py [--data DIR] [--epochs 8] [--threads N] [--channels-last]
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
WARMUP = 2  # untimed epochs per side before the alternating timed ones
E2E_EPOCHS = 4  # part 2: epochs per process (the first one is warm-up)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hand_model(classes: int):
    """The seed network written by hand, as a student would."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 16 * 16, classes))


def hand_epoch(model, opt, loss_fn, x, y) -> float:
    """One epoch of the hand-written loop; returns images per second."""
    import torch

    model.train()
    order = torch.randperm(len(x))
    total = correct = 0.0  # the running loss and accuracy a student prints
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
    return len(x) / (time.perf_counter() - start)


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
    model = hand_model(len(classes))
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.CrossEntropyLoss()
    ips = [hand_epoch(model, opt, loss_fn, x, y) for _ in range(epochs)]
    return {"images_per_second": ips, "train_images": len(x), "peak_rss_mb": peak_rss_mb()}


def alternate(data: str, epochs: int, threads: int, channels_last: bool) -> dict:
    """Part 1: archspec's run_epoch and the hand-written epoch, alternating in this process."""
    import torch
    from torch import nn

    from archspec.torchbuild import build
    from archspec.training.data import load
    from archspec.training.loop import LOSSES, Batches, Console, optimizer_and_schedule, run_epoch
    from archspec.training.resolve import resolve

    torch.set_num_threads(threads)
    r = resolve(SPEC, data_dir=data, sets=[f"channels_last={str(channels_last).lower()}"])
    cfg = r.train
    split = load(cfg.dataset, r.spec.input_shape, cfg.seed).splits["train"]
    mean, std = (split.x.float() / 255).mean().item(), (split.x.float() / 255).std().item()
    batches = Batches([mean], [std], torch.device("cpu"), False, channels_last)
    torch.manual_seed(0)
    model = build(r.spec)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt, _ = optimizer_and_schedule(model, cfg)  # the spec says Adam
    gen, quiet = torch.Generator().manual_seed(0), Console(quiet=True)

    x, y = ((split.x.float() / 255 - mean) / std).contiguous(), split.y  # the hand-written side's float tensor
    torch.manual_seed(0)
    hand = hand_model(6)
    assert sum(p.numel() for p in hand.parameters()) == sum(p.numel() for p in model.parameters()), \
        "the hand-written network is not the spec's"
    hand_opt = torch.optim.Adam(hand.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.CrossEntropyLoss()

    def hand_side() -> float:
        return hand_epoch(hand, hand_opt, loss_fn, x, y)

    def archspec_epoch() -> float:
        return len(split) / run_epoch(model, opt, LOSSES["cross_entropy"], split, batches, cfg, gen, 1, quiet)[2]

    sides = {"archspec": archspec_epoch, "handwritten": hand_side}
    out = {k: [] for k in sides}
    for i in range(epochs + WARMUP):  # order A B, B A, A B ...: neither side always runs first
        for name in (list(sides) if i % 2 == 0 else list(sides)[::-1]):
            out[name].append(sides[name]())
    return {k: v[WARMUP:] for k, v in out.items()} | {"train_images": len(split)}


def child(args) -> None:
    sides = {"archspec": lambda: run_archspec(args.data, args.epochs, args.threads, False),
             "handwritten": lambda: run_handwritten(args.data, args.epochs, args.threads)}
    print(json.dumps(sides[args.side]()))


def synthetic_data(root: Path) -> str:
    from archspec.training.synthetic import write_image_folder

    return str(write_image_folder(root, per_class=300, size=64, classes=6))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help=f"class-folder data set (default: {SHARED} if present, else synthetic)")
    p.add_argument("--epochs", type=int, default=8, help="timed epochs per side (after two warm-up epochs)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--channels-last", action="store_true", help="also time archspec with channels_last: true")
    p.add_argument("--side", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        return child(args)
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or (str(SHARED) if SHARED.is_dir() else synthetic_data(Path(tmp) / "synthetic"))
        print(f"data: {data}; batch {BATCH}, Adam lr {LR:g} wd {WEIGHT_DECAY:g}, {args.threads} threads, "
              f"torch {torch.__version__}, {os.cpu_count()} CPUs")
        variants = [False] + ([True] if args.channels_last else [])
        for cl in variants:
            res = alternate(data, args.epochs, args.threads, cl)
            a, h = statistics.median(res["archspec"]), statistics.median(res["handwritten"])
            name = "archspec" + (" (channels_last)" if cl else "")
            if not cl:
                print(f"\n1. one process, alternating epochs ({args.epochs} timed each, {res['train_images']} images):")
            print(f"   {name:28s} {a:8.1f} images/s (range {min(res['archspec']):.0f}-{max(res['archspec']):.0f})")
            print(f"   {'hand-written loop':28s} {h:8.1f} images/s (range {min(res['handwritten']):.0f}-"
                  f"{max(res['handwritten']):.0f})")
            print(f"   ratio {a / h:.3f}x (target >= 0.95x)")
        print("\n2. end to end, one process each (all epochs but the first):")
        for side in ("archspec", "handwritten"):
            cmd = [sys.executable, __file__, "--side", side, "--data", data, "--epochs", str(E2E_EPOCHS),
                   "--threads", str(args.threads)]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                          cwd=ROOT).stdout.strip().splitlines()[-1])
            ips = r["images_per_second"][1:]
            label = "archspec train" if side == "archspec" else "hand-written script"
            extra = f", test accuracy {r['test_accuracy']:.1%}" if "test_accuracy" in r else ""
            print(f"   {label:28s} {statistics.median(ips):8.1f} images/s, peak RSS {r['peak_rss_mb']:.0f} MB{extra}")


if __name__ == "__main__":
    main()
