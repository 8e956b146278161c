"""A training run end to end: resolve the spec, load data, build, fit with checkpoints, write reports."""
from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from . import checkpoint
from .data import DataError, load as load_data
from .loop import LOSSES, OPTIMIZERS, SCHEDULES, Batches, Console, Diverged, State, fit, score
from .report import classification, generalization_gap, kept_row, plot_confusion, plot_curves, verdict
from .resolve import Resolved, differences, resolve
from .runfolder import RunFolder, WeightsError, save_tensors


class RunError(Exception):
    """A run cannot start or continue (message says why and what to do)."""


@dataclass
class Run:
    folder: RunFolder
    metrics: dict | None  # None when the run stopped before finishing (stop_after)
    state: State


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pick_device(r: Resolved) -> torch.device:
    want = r.train.device
    if want == "cuda" and not torch.cuda.is_available():
        raise r.error("no-cuda", "device cuda was asked for but torch sees no CUDA GPU", ("train", "device"),
                      hint="use device: auto (or cpu)")
    if want == "cuda" or (want == "auto" and torch.cuda.is_available()):
        torch.backends.cudnn.benchmark = False  # deterministic kernels: a resumed run must match
        torch.backends.cudnn.deterministic = True
        return torch.device("cuda")
    return torch.device("cpu")


def load_checked(r: Resolved, console: Console):
    """The data set, with the network's output size checked against its classes."""
    try:
        data = load_data(r.train.dataset, r.spec.input_shape, r.train.seed, r.base)
    except DataError as exc:
        raise r.error("bad-data", exc.message, exc.path, exc.hint) from None
    console.line(data.report())
    console.warn(data.warnings())
    out, layers = r.spec.shapes().output, r.spec.layers
    if out != (len(data.classes),):
        last = ("layers", len(layers) - 1) + (("out_features",) if layers[-1].type == "linear" else ())
        raise r.error("classes-mismatch", f"the network ends in {' x '.join(map(str, out))} outputs but the data "
                      f"has {len(data.classes)} classes ({', '.join(data.classes[:8])}"
                      f"{', ...' if len(data.classes) > 8 else ''})", last,
                      hint=f"end with {{type: linear, out_features: {len(data.classes)}}}")
    if layers[-1].type == "softmax" and r.train.loss == "cross_entropy":
        console.warn("warning: the last layer is softmax, but cross_entropy expects raw scores (logits); "
                     "remove the softmax layer (predict applies softmax itself)")
    return data


def _model_and_optim(r: Resolved, device):
    from ..torchbuild import build

    cfg = r.train
    model = build(r.spec).to(device)
    if cfg.channels_last and len(r.spec.input_shape) == 3:
        model = model.to(memory_format=torch.channels_last)
    opt = OPTIMIZERS[cfg.optimizer.type](model.parameters(), cfg.optimizer)
    sched = SCHEDULES[cfg.schedule.type](opt, cfg.schedule, cfg.epochs) if cfg.schedule else None
    return model, opt, sched


def _refuse(folder: RunFolder, problems: list[str], force: bool) -> None:
    if problems and not force:
        raise RunError(f"refusing to resume {folder.path}: it was started from a different spec or data\n"
                       + "\n".join(problems[:20]) + "\n    hint: pass --force to continue anyway")


def _read_checkpoint(folder: RunFolder, r: Resolved, force: bool) -> tuple[dict, dict]:
    """The checkpoint's tensors and metadata; refuses (before any data is loaded) when the spec changed."""
    try:
        tensors, meta = checkpoint.load(folder["checkpoint"])
    except WeightsError as exc:
        raise RunError(f"cannot resume: {exc}") from None
    _refuse(folder, [f"  spec changed: {d}" for d in differences(meta.get("spec"), r.resolved())], force)
    return tensors, meta


def _check_data(folder: RunFolder, meta: dict, info: dict, force: bool) -> None:
    if meta.get("data") != info["data"]:
        _refuse(folder, ["  data changed: the images, labels or split differ from the ones the run started with"],
                force)
    if meta.get("threads") != info["threads"]:
        print(f"warning: the run used {meta.get('threads')} CPU threads, now {info['threads']}: results may "
              "differ in the last bits from an uninterrupted run", file=sys.stderr)


def train(spec, data_dir=None, epochs=None, out=None, sets=(), resume=None, force=False,
          console: Console | None = None, stop_after: int | None = None) -> Run:
    """Train a cnn spec (path); ``resume`` continues the run folder's last complete epoch."""
    threads = torch.get_num_threads()
    try:
        return _train(spec, data_dir, epochs, out, sets, resume, force, console or Console(), stop_after)
    finally:
        torch.set_num_threads(threads)  # train.threads applies to this run only


def _train(spec, data_dir, epochs, out, sets, resume, force, console: Console, stop_after) -> Run:
    start = time.perf_counter()
    folder = RunFolder(resume) if resume else None
    if folder is not None and not folder["checkpoint"].is_file():
        raise RunError(f"{folder.path} holds no checkpoint to resume ({folder['checkpoint'].name} is missing)")
    r = resolve(spec if spec is not None else folder["spec"], data_dir, epochs, sets)
    tensors, meta = _read_checkpoint(folder, r, force) if folder is not None else ({}, {})
    cfg = r.train
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(r)
    seed_everything(cfg.seed)
    data = load_checked(r, console)
    model, opt, sched = _model_and_optim(r, device)
    channels = data.shape[2]
    mean, std = data.stats() if cfg.dataset.normalize == "standard" else ([0.0] * channels, [1.0] * channels)
    batches = Batches(mean, std, device, len(r.spec.input_shape) == 1, cfg.channels_last)
    info = {"spec": r.resolved(), "spec_sha256": r.sha256(), "data": data.fingerprint(), "classes": data.classes,
            "mean": mean, "std": std, "threads": torch.get_num_threads(), "torch": torch.__version__}
    gen = torch.Generator().manual_seed(cfg.seed)
    best: dict = {}
    if folder is not None:
        _check_data(folder, meta, info, force)
        try:
            state = checkpoint.restore(tensors, meta, model, opt, sched, gen, best)
        except (RuntimeError, KeyError, ValueError) as exc:
            raise RunError(f"cannot resume {folder.path}: the checkpoint does not fit this spec ({exc})") from None
        console.line(f"resuming {folder.path} after epoch {state.epoch} of {cfg.epochs}")
    else:
        folder = _new_folder(r, out, force)
        state = State()
    console.line(f"training {r.spec.title}: {sum(p.numel() for p in model.parameters()):,} parameters on {device}, "
                 f"{cfg.optimizer.type} lr {cfg.optimizer.lr:g}, batch {cfg.batch_size}, {cfg.epochs} epochs; "
                 f"run folder {folder.path}")

    def on_epoch(st: State) -> None:
        checkpoint.save(folder["checkpoint"], model, opt, sched, st, gen, best, info)
        folder.write_history(st.history)

    try:
        fit(model, opt, sched, data, batches, cfg, state, gen, best, console, on_epoch, stop_after)
    except Diverged as exc:
        folder.write_history(state.history)
        kept = f"checkpoint of epoch {state.epoch} kept" if state.epoch else "no epoch completed"
        raise RunError(f"{exc}\n    run folder: {folder.path} ({kept})") from None
    except KeyboardInterrupt:
        raise RunError(f"interrupted during epoch {state.epoch + 1}; the checkpoint holds epoch {state.epoch}. "
                       f"Continue with: archspec train --resume {folder.path}") from None
    if state.epoch < cfg.epochs and not state.stopped_early:
        return Run(folder, None, state)
    metrics = finish(r, folder, model, data, batches, state, best, info, console)
    metrics["seconds_total"] = time.perf_counter() - start
    folder.write_json("metrics", metrics)
    return Run(folder, metrics, state)


def _new_folder(r: Resolved, out, force: bool) -> RunFolder:
    import yaml

    if out is not None and RunFolder(out)["checkpoint"].exists() and not force:
        raise RunError(f"{out} already holds a run; continue it with --resume {out}, choose another --out, "
                       "or pass --force to overwrite it")
    folder = RunFolder.create(r.spec.title, out)
    folder.write("spec", f"# resolved spec of this run (overrides applied, defaults filled in)\n"
                 + yaml.safe_dump(r.resolved(), sort_keys=False))
    return folder


def peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024


def finish(r: Resolved, folder: RunFolder, model, data, batches, state: State, best: dict, info: dict,
           console: Console) -> dict:
    """Restore the best weights (early stopping), evaluate, and write weights, reports and plots."""
    cfg = r.train
    restored = bool(best) and cfg.early_stopping is not None and cfg.early_stopping.restore_best
    if restored:
        model.load_state_dict(best)
    split = next(s for s in ("test", "val", "train") if s in data.splits)
    if split != "test":
        console.warn(f"warning: no test split (test_fraction is 0): the report below is on the {split} split")
    loss, _, out = score(model, data.splits[split], batches, LOSSES[cfg.loss])
    rep = classification(data.splits[split].y.numpy(), out.argmax(1).numpy(), data.classes)
    fit_label, fit_text = verdict(state.history)
    kept = kept_row(state.history, state.best_epoch if restored else None)
    save_tensors(folder["weights"], model.state_dict(), {
        "format": 1, "spec": r.spec.title, "spec_sha256": info["spec_sha256"], "input": list(r.spec.input_shape),
        "image": list(data.shape), "classes": data.classes, "mean": info["mean"], "std": info["std"],
        "loss": cfg.loss, "epoch": kept.get("epoch")})
    acc = rep["accuracy"]
    title = f"{r.spec.title}: {split} accuracy {acc:.1%} on {len(data.splits[split])} images"
    folder.write("report", f"{title}\n\n{rep['text']}")
    plot_curves(state.history, folder["curves"], f"{r.spec.title} ({data.source})",
                state.best_epoch if cfg.early_stopping else None)
    plot_confusion(rep["confusion"], data.classes, folder["confusion"], title)
    metrics = {
        "test_accuracy": rep["accuracy"], "test_loss": loss, "report_split": split, "classes": data.classes,
        "per_class": rep["per_class"], "macro_avg": rep["macro_avg"], "weighted_avg": rep["weighted_avg"],
        "history": state.history, "epochs_run": state.epoch, "best_epoch": state.best_epoch,
        "kept_epoch": kept.get("epoch"), "stopped_early": state.stopped_early,
        "train_images_per_second": state.train_images / state.train_seconds if state.train_seconds else 0.0,
        "generalization_gap": generalization_gap(kept, acc), "fit": fit_label, "verdict": fit_text,
        "confusion_matrix": rep["confusion"].tolist(),
        "data": {"source": data.source, "counts": data.counts(), "skipped": data.skipped_summary(),
                 "skipped_files": [{"file": f, "reason": why, "detail": d} for f, why, d in data.skipped],
                 "notes": data.notes, "fingerprint": info["data"]},
        "spec": r.spec.title, "spec_sha256": info["spec_sha256"], "params": sum(p.numel() for p in model.parameters()),
        "device": str(batches.device), "threads": info["threads"], "torch": info["torch"], "peak_rss_mb": peak_rss_mb(),
    }
    console.line(f"\n{title} (loss {loss:.4f})\n\n{rep['text']}\n{fit_text}\n"
                 + (f"stopped early after epoch {state.epoch}; kept the weights of epoch {kept.get('epoch')}\n"
                    if state.stopped_early else "")
                 + f"\nrun folder: {folder.path}\n  curves.png  confusion_matrix.png  classification_report.txt  "
                 "metrics.json  history.csv  model.safetensors")
    return metrics
