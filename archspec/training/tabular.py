"""Training an equation network on rows of numbers (inline ``samples`` or a ``csv`` file).

The network is the equations' own torch module (``KINDS["equations"]["build"]``: float64 parameters named
like the spec's weights and biases). The loop is the image loop's small sibling: the epoch's order from
seed + epoch, optimizers and schedules from the same tables, atomic checkpoints for a bit-identical
``--resume``, and the same run folder (spec.yaml, history.csv, metrics.json, curves.png, model.safetensors).
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

from . import checkpoint
from .data import DataError
from .distributed import epoch_order
from .loop import Console, Diverged, State, early_stop, optimizer_and_schedule, unwatched
from .report import plot_curves
from .runfolder import RunFolder, parse_tensors, save_tensors

LOSSES = {  # (outputs N x K, targets N x K) -> mean loss over the samples
    "mse": lambda out, t: F.mse_loss(out, t),
    "squared_error": lambda out, t: 0.5 * (out - t).pow(2).sum(1).mean(),  # the spec's l, per sample
    "binary_cross_entropy": lambda out, t: F.binary_cross_entropy(out, t),
}
SHOWN_ROWS = 16  # predictions printed (and kept in metrics.json up to 10x this)
CHECKPOINT_EVERY = 1.0  # seconds: thousands of tiny epochs are checkpointed at most this often (and the last)


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


def _line(h: dict, epochs: int, binary: bool) -> str:
    def acc(a):
        return f" acc {a:.1%}" if binary and a is not None else ""
    val = f"  val loss {h['val_loss']:.6f}{acc(h['val_accuracy'])}" if h["val_loss"] is not None else ""
    return f"epoch {h['epoch']}/{epochs}  train loss {h['train_loss']:.6f}{acc(h['train_accuracy'])}{val}"


def _shown(epoch: int, epochs: int) -> bool:
    """Print every epoch of a short run; about 20 lines of a long one."""
    return epochs <= 20 or epoch in (1, epochs) or epoch % max(1, epochs // 20) == 0


def train(r, out, resume, force, console: Console, stop_after: int | None, start: float):
    """Train ``r`` (a resolved equations spec) into a run folder; returns session.Run."""
    from ..kinds import capability
    from .folders import Run, RunError, check_data, new_folder, read_checkpoint, restore

    cfg, net = r.train, r.spec.network()
    folder, meta = (RunFolder(resume), None) if resume else (None, {})
    if folder is not None:
        blob, meta = read_checkpoint(folder, r, force)
        tensors = parse_tensors(blob)[0]
    torch.manual_seed(cfg.seed)
    try:
        table = load_rows(cfg.dataset, net, cfg.seed, r.base)
    except DataError as exc:
        raise r.error("bad-data", exc.message, exc.path, exc.hint) from None
    console.line(table.report())
    console.warn(unwatched(cfg, "val" in table.splits))
    model = capability("equations", "build")(r.spec)
    opt, sched = optimizer_and_schedule(model, cfg)
    loss_fn, binary = LOSSES[cfg.loss], table.binary
    info = {"spec": r.resolved(), "spec_sha256": r.sha256(), "data": table.fingerprint(), "threads": None,
            "world_size": 1, "torch": torch.__version__}
    gen, best, state = torch.Generator().manual_seed(cfg.seed), {}, State()
    if folder is not None:
        check_data(folder, meta, info, force)
        state = restore(folder, tensors, meta, model, opt, sched, gen, best, cfg=cfg)
        state.resumes.append({"epoch": state.epoch, "restart": 0, "world_size": 1})
        console.line(f"resuming {folder.path} after epoch {state.epoch} of {cfg.epochs}")
        console.warn(checkpoint.retuned_note(meta, cfg, state.epoch))
    else:
        folder = new_folder(r, out, force)
    names = [n for n, _ in model.named_parameters()]
    console.line(f"training {r.spec.title}: {len(names)} parameters ({', '.join(names[:12])}"
                 f"{', ...' if len(names) > 12 else ''}), {cfg.optimizer.type} lr {cfg.optimizer.lr:g}, batch "
                 f"{cfg.batch_size}, {cfg.loss} loss, {cfg.epochs} epochs; run folder {folder.path}")
    train_rows, val = table.splits["train"], table.splits.get("val")
    saved = time.monotonic()
    try:
        while state.epoch < cfg.epochs and not state.stopped_early:
            epoch, t0, lr = state.epoch + 1, time.perf_counter(), opt.param_groups[0]["lr"]
            loss, acc, secs = run_epoch(model, opt, loss_fn, train_rows, cfg, epoch)
            val_loss, val_acc = score(model, val, loss_fn)[:2] if val is not None else (None, None)
            if sched is not None:
                sched.step()
            state.epoch, state.train_seconds, state.train_images = epoch, state.train_seconds + secs, \
                state.train_images + len(train_rows)
            state.history.append({"epoch": epoch, "train_loss": loss, "train_accuracy": acc if binary else None,
                                  "val_loss": val_loss, "val_accuracy": val_acc if binary and val else None,
                                  "lr": lr, "seconds": time.perf_counter() - t0,
                                  "images_per_second": len(train_rows) / secs if secs else 0.0})
            if cfg.early_stopping and val_loss is not None:
                state.stopped_early = early_stop(state, val_loss, cfg.early_stopping, model, best)
            last = epoch == cfg.epochs or state.stopped_early or epoch == stop_after
            if _shown(epoch, cfg.epochs) or last:
                console.line(_line(state.history[-1], cfg.epochs, binary))
            if last or time.monotonic() - saved >= CHECKPOINT_EVERY:
                checkpoint.save(folder["checkpoint"], model, opt, sched, state, gen, best, info)
                folder.write_history(state.history)
                saved = time.monotonic()
            if stop_after is not None and epoch >= stop_after:
                return Run(folder, None, state)
    except Diverged as exc:
        folder.write_history(state.history)
        raise RunError(f"{exc}\n    run folder: {folder.path}") from None
    except KeyboardInterrupt:
        done = checkpoint.load(folder["checkpoint"])[1]["state"]["epoch"] if folder["checkpoint"].is_file() else 0
        raise RunError(f"interrupted during epoch {state.epoch + 1}; the checkpoint holds epoch {done}. "
                       f"Continue with: archspec train --resume {folder.path}") from None
    metrics = finish(r, folder, model, table, state, best, info, console)
    metrics["seconds_total"] = time.perf_counter() - start
    folder.write_json("metrics", metrics)
    return Run(folder, metrics, state)


def finish(r, folder: RunFolder, model, table: Table, state: State, best: dict, info: dict,
           console: Console) -> dict:
    """Score the report split, write weights, curves and metrics; print predictions and learned values."""
    from ..tables import table as text_table

    cfg = r.train
    if best and cfg.early_stopping is not None and cfg.early_stopping.restore_best:
        model.load_state_dict(best)
    split = next(s for s in ("test", "val", "train") if s in table.splits)
    rows = table.splits[split]
    loss, acc, out = score(model, rows, LOSSES[cfg.loss])
    learned = {n: float(p.detach()) for n, p in model.named_parameters()}
    save_tensors(folder["weights"], model.state_dict(), {
        "format": 1, "kind": "equations", "spec": r.spec.title, "spec_sha256": info["spec_sha256"],
        "inputs": table.inputs, "outputs": table.targets, "loss": cfg.loss, "epoch": state.epoch})
    plot_curves(state.history, folder["curves"], f"{r.spec.title} ({cfg.loss})",
                state.best_epoch if cfg.early_stopping else None)
    predictions = [{"inputs": x.tolist(), "targets": t.tolist(), "outputs": o.tolist()}
                   for x, t, o in zip(rows.x[:10 * SHOWN_ROWS], rows.t, out)]
    first = state.history[0]["train_loss"] if state.history else None
    metrics = {
        "kind": "equations", "test_loss": loss, "test_accuracy": acc if table.binary else None,
        "report_split": split, "loss": cfg.loss, "history": state.history, "epochs_run": state.epoch,
        "best_epoch": state.best_epoch, "stopped_early": state.stopped_early, "first_train_loss": first,
        "weights": learned, "predictions": predictions,
        "train_samples_per_second": state.train_images / state.train_seconds if state.train_seconds else 0.0,
        "data": {"source": table.source, "inputs": table.inputs, "targets": table.targets,
                 "rows": {s: len(v) for s, v in table.splits.items()}, "fingerprint": info["data"]},
        "spec": r.spec.title, "spec_sha256": info["spec_sha256"], "params": len(learned), "resumes": state.resumes,
        "torch": info["torch"],
    }
    shown = [[*(f"{v:g}" for v in p["inputs"]), *(f"{v:g}" for v in p["targets"]), *(f"{v:.4f}" for v in p["outputs"])]
             for p in predictions[:SHOWN_ROWS]]
    heads = [*table.inputs, *(f"target {n}" for n in table.targets), *table.targets]
    score_text = f"{cfg.loss} {loss:.6f}" + (f", accuracy {acc:.1%}" if table.binary else "")
    console.line(f"\n{r.spec.title}: {split} {score_text} on {len(rows)} samples"
                 + (" (the training rows: no test split)" if split == "train" else "")
                 + (f"; train loss fell from {first:.6f} to {state.history[-1]['train_loss']:.6f}" if first else "")
                 + f"\n\n{text_table(heads, shown, right=set(range(len(heads))))}"
                 + (f"\n... {len(rows) - SHOWN_ROWS} more rows in metrics.json" if len(rows) > SHOWN_ROWS else "")
                 + "\n\nlearned: " + ", ".join(f"{n} = {v:.4f}" for n, v in learned.items())
                 + f"\n\nrun folder: {folder.path}\n  curves.png  metrics.json  history.csv  model.safetensors")
    return metrics
