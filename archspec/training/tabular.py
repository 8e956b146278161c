"""Training an equation network on rows of numbers (inline ``samples`` or a ``csv`` file).

The network is the equations' own torch module (``KINDS["equations"]["build"]``: float64 parameters named
like the spec's weights and biases). ``RowsJob`` is this kind's part of a run; the loop, checkpoints (for a
bit-identical ``--resume``) and run folder (spec.yaml, history.csv, metrics.json, curves.png,
model.safetensors) are every kind's. An epoch takes the rows in the order seed + epoch gives.
Accuracy is reported only for 0/1 targets (an output counts as right on the same side of 0.5).
"""
from __future__ import annotations

import csv
import hashlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..tables import table as text_table
from ..torchbuild import build
from .context import Job, Report
from .data import DataError
from .devices import Precision
from .distributed import epoch_order
from .folders import RunError
from .loop import Diverged, optimizer_and_schedule

LOSSES = {  # (outputs N x K, targets N x K) -> mean loss over the samples
    "mse": lambda out, t: F.mse_loss(out, t),
    "squared_error": lambda out, t: 0.5 * (out - t).pow(2).sum(1).mean(),  # the spec's l, per sample
    "binary_cross_entropy": lambda out, t: F.binary_cross_entropy(out, t),
}
SHOWN_ROWS = 16  # predictions printed (and kept in metrics.json up to 10x this)
CHECKPOINT_EVERY = 1.0  # seconds: thousands of tiny epochs are checkpointed at most this often (and the last)
EQUATIONS_ONE_PROCESS = ("equation networks train in one process (a handful of float64 parameters): "
                         "--nproc and --max-restarts are for cnn specs")


@dataclass
class Rows:
    x: torch.Tensor  # N x inputs, float64
    t: torch.Tensor  # N x outputs

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class Table:
    splits: dict[str, Rows]  # 'train' always; 'val' and 'test' when they hold rows
    inputs: list[str]  # column (or input) names, in the network's input order
    targets: list[str]
    source: str
    binary: bool  # every target is 0 or 1: accuracy means something

    def fingerprint(self) -> str:
        h = hashlib.sha256(repr((self.inputs, self.targets)).encode())
        for name, rows in self.splits.items():
            h.update(name.encode() + rows.x.numpy().tobytes() + rows.t.numpy().tobytes())
        return h.hexdigest()

    def report(self) -> str:
        sizes = ", ".join(f"{name} {len(rows)}" for name, rows in self.splits.items())
        return (f"data: {self.source}: {sum(map(len, self.splits.values()))} samples ({sizes}); "
                f"{', '.join(self.inputs)} -> {', '.join(self.targets)}")


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a number", ("train", "dataset", "path")) from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text} is not a finite number", ("train", "dataset", "path"))
    return value


def read_csv(cfg, net, base: Path | None) -> tuple[np.ndarray, np.ndarray, list[str], list[str], str]:
    """(inputs, targets, input columns, target columns, file) from a CSV file with a header row."""
    path = Path(cfg.path) if base is None or Path(cfg.path).is_absolute() else base / cfg.path
    ins, outs = cfg.inputs or list(net.inputs), cfg.targets or list(net.outputs)
    try:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}",
                        ("train", "dataset", "path")) from None
    if not rows:
        raise DataError(f"{path} is empty (expected a header row naming the columns)", ("train", "dataset", "path"))
    header = [h.strip() for h in rows[0]]
    for key, names in (("inputs", ins), ("targets", outs)):
        for i, name in enumerate(names):
            if name not in header:
                given = getattr(cfg, key) is not None
                raise DataError(f"{path} has no column {name!r} (columns: {', '.join(header)})",
                                ("train", "dataset", key, i) if given else ("train", "dataset", "path"),
                                hint=None if given else f"name the columns: {key}: [...]")
    cols = [header.index(n) for n in ins + outs]
    values = []
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) < len(header):
            raise DataError(f"{path}:{line}: {len(row)} value(s) for {len(header)} columns",
                            ("train", "dataset", "path"))
        values.append([_number(row[c].strip(), f"{path}:{line}") for c in cols])
    if not values:
        raise DataError(f"{path} has a header but no rows", ("train", "dataset", "path"))
    arr = np.array(values, dtype=np.float64)
    return arr[:, :len(ins)], arr[:, len(ins):], ins, outs, str(path)


def load_rows(cfg, net, seed: int, base: Path | None = None) -> Table:
    """The rows, split (seeded, at random) into train and the held-out val and test rows."""
    if cfg.type == "samples":
        x, t = np.array(cfg.inputs, dtype=np.float64), np.array(cfg.targets, dtype=np.float64)
        ins, outs, source = list(net.inputs), list(net.outputs), "samples in the spec"
    else:
        x, t, ins, outs, source = read_csv(cfg, net, base)
    n = len(x)
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = int(n * cfg.test_fraction + 0.5), int(n * cfg.val_fraction + 0.5)
    if n - n_test - n_val < 1:
        raise DataError(f"{n} sample(s) are too few to hold out {n_val} for validation and {n_test} for test "
                        "and still train on one", ("train", "dataset"), hint="lower val_fraction / test_fraction")
    parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    splits = {s: Rows(torch.from_numpy(x[np.sort(i)]), torch.from_numpy(t[np.sort(i)]))
              for s, i in parts.items() if len(i) or s == "train"}
    return Table(splits, ins, outs, source, bool(np.isin(t, (0.0, 1.0)).all()))


def hits(out: torch.Tensor, t: torch.Tensor) -> int:
    """Samples whose every output is on the target's side of 0.5."""
    return int(((out >= 0.5) == (t >= 0.5)).all(1).sum())


def run_epoch(model, opt, loss_fn, rows: Rows, cfg, epoch: int) -> tuple[float, float, float]:
    """One pass in the epoch's seeded order: (mean loss, accuracy, seconds)."""
    model.train()
    n, bs, start = len(rows), cfg.batch_size, time.perf_counter()
    order = epoch_order(n, cfg.seed, epoch)
    total = right = 0.0
    for step, i in enumerate(range(0, n, bs), 1):
        idx = order[i:i + bs]
        out = model(rows.x[idx])
        loss = loss_fn(out, rows.t[idx])
        value = loss.item()
        if not math.isfinite(value):
            raise Diverged(epoch, step, math.ceil(n / bs), value, opt.param_groups[0]["lr"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += value * len(idx)
        right += hits(out.detach(), rows.t[idx])
    return total / n, right / n, time.perf_counter() - start


@torch.no_grad()
def score(model, rows: Rows, loss_fn) -> tuple[float, float, torch.Tensor]:
    model.eval()
    out = model(rows.x)
    return float(loss_fn(out, rows.t)), hits(out, rows.t) / len(rows), out


class RowsJob(Job):
    """An equation network trained on rows of float64 numbers, in one process on the CPU."""

    checkpoint_every = CHECKPOINT_EVERY

    def setup(self, timeout: float) -> None:
        if self.ctx.world.distributed:
            raise RunError(EQUATIONS_ONE_PROCESS)
        self.ctx.amp = Precision("fp32", self.ctx.device)

    def prepare(self) -> None:
        r, cfg = self.ctx.r, self.cfg
        try:
            self.table = load_rows(cfg.dataset, r.spec.network(), cfg.seed, r.base)
        except DataError as exc:
            raise r.error("bad-data", exc.message, exc.path, exc.hint) from None
        self.ctx.console.line(self.table.report())
        self.model = build(r.spec)
        self.opt, self.sched = optimizer_and_schedule(self.model, cfg)
        self.splits, self.loss_fn = self.table.splits, LOSSES[cfg.loss]
        self.info = {"spec": r.resolved(), "spec_sha256": r.sha256(), "data": self.table.fingerprint(),
                     "threads": None, "world_size": 1, "torch": torch.__version__}

    def start_line(self) -> str:
        cfg, names = self.cfg, [n for n, _ in self.model.named_parameters()]
        return (f"training {self.ctx.r.spec.title}: {len(names)} parameters ({', '.join(names[:12])}"
                f"{', ...' if len(names) > 12 else ''}), {cfg.optimizer.type} lr {cfg.optimizer.lr:g}, batch "
                f"{cfg.batch_size}, {cfg.loss} loss, {cfg.epochs} epochs; run folder {self.ctx.folder.path}")

    def epoch(self, n: int):
        train = self.splits["train"]
        loss, acc, seconds = run_epoch(self.model, self.opt, self.loss_fn, train, self.cfg, n)
        return loss, acc if self.table.binary else None, seconds, len(train)

    def score(self, split: str):
        loss, acc, out = score(self.model, self.splits[split], self.loss_fn)
        return loss, acc if self.table.binary else None, out

    def shown(self, epoch: int, epochs: int) -> bool:
        """Every epoch of a short run; about 20 lines of a long one."""
        return epochs <= 20 or epoch in (1, epochs) or epoch % max(1, epochs // 20) == 0

    def line(self, h: dict, epochs: int) -> str:
        def acc(a):
            return f" acc {a:.1%}" if a is not None else ""
        val = f"  val loss {h['val_loss']:.6f}{acc(h['val_accuracy'])}" if h["val_loss"] is not None else ""
        return f"epoch {h['epoch']}/{epochs}  train loss {h['train_loss']:.6f}{acc(h['train_accuracy'])}{val}"

    def report(self, split, loss, acc, out, state, restored) -> Report:
        """The predictions on the split and the learned values."""
        r, cfg, table, rows = self.ctx.r, self.cfg, self.table, self.splits[split]
        learned = {n: float(p.detach()) for n, p in self.model.named_parameters()}
        predictions = [{"inputs": x.tolist(), "targets": t.tolist(), "outputs": o.tolist()}
                       for x, t, o in zip(rows.x[:10 * SHOWN_ROWS], rows.t, out)]
        first = state.history[0]["train_loss"] if state.history else None
        metrics = {
            "kind": r.spec.kind, "test_accuracy": acc, "loss": cfg.loss, "first_train_loss": first,
            "weights": learned, "predictions": predictions,
            "data": {"source": table.source, "inputs": table.inputs, "targets": table.targets,
                     "rows": {s: len(v) for s, v in table.splits.items()}, "fingerprint": self.info["data"]},
        }
        shown = [[*(f"{v:g}" for v in p["inputs"]), *(f"{v:g}" for v in p["targets"]),
                  *(f"{v:.4f}" for v in p["outputs"])] for p in predictions[:SHOWN_ROWS]]
        heads = [*table.inputs, *(f"target {n}" for n in table.targets), *table.targets]
        score_text = f"{cfg.loss} {loss:.6f}" + (f", accuracy {acc:.1%}" if acc is not None else "")
        text = (f"\n{r.spec.title}: {split} {score_text} on {len(rows)} samples"
                + (" (the training rows: no test split)" if split == "train" else "")
                + (f"; train loss fell from {first:.6f} to {state.history[-1]['train_loss']:.6f}" if first else "")
                + f"\n\n{text_table(heads, shown, right=set(range(len(heads))))}"
                + (f"\n... {len(rows) - SHOWN_ROWS} more rows in metrics.json" if len(rows) > SHOWN_ROWS else "")
                + "\n\nlearned: " + ", ".join(f"{n} = {v:.4f}" for n, v in learned.items()))
        weights = {"kind": r.spec.kind, "inputs": table.inputs, "outputs": table.targets, "epoch": state.epoch}
        return Report(metrics, text, weights, f"{r.spec.title} ({cfg.loss})")
