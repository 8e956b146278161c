"""The end of a run: restore the best weights, score the report split, write weights, reports and plots.

Every rank scores its share of the split (the outputs are gathered, each sample once); rank 0 alone writes.
"""
from __future__ import annotations

import sys

from .loop import LOSSES, Console, State, score
from .report import (
    classification,
    generalization_gap,
    kept_row,
    plot_confusion,
    plot_curves,
    verdict,
)
from .runfolder import RunFolder, save_tensors


def peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024


def restarts_line(state: State, restarts: int) -> str:
    """'restarts: 1 (resumed from the checkpoint of epoch 1)' for the console; '' when nothing restarted."""
    auto = [x for x in state.resumes if x.get("restart")]
    if not restarts and not state.resumes:
        return ""
    where = ", ".join(f"epoch {x['epoch']}" for x in (auto or state.resumes))
    return (f"restarts: {restarts} (torchrun restarted the workers; resumed from the checkpoint of {where})"
            if restarts else f"resumed: from the checkpoint of {where}")


def finish(r, folder: RunFolder, model, data, splits, batches, state: State, best: dict, info: dict,
           console: Console, world, write: bool = True) -> dict:
    """Restore the best weights (early stopping), evaluate, and (``write``) save weights, reports and plots."""
    cfg = r.train
    restored = bool(best) and cfg.early_stopping is not None and cfg.early_stopping.restore_best
    if restored:
        model.load_state_dict(best)
    split = next(s for s in ("test", "val", "train") if s in data.splits)
    if split != "test":
        console.warn(f"warning: no test split (test_fraction is 0): the report below is on the {split} split")
    loss, _, out = score(model, splits[split], batches, LOSSES[cfg.loss], world, len(data.classes))
    rep = classification(data.splits[split].y.numpy(), out.argmax(1).numpy(), data.classes)
    kept = kept_row(state.history, state.best_epoch if restored else None)
    fit_label, fit_text = verdict(state.history, kept.get("epoch") if restored else None)
    acc = rep["accuracy"]
    title = f"{r.spec.title}: {split} accuracy {acc:.1%} on {len(data.splits[split])} images"
    if write:
        save_tensors(folder["weights"], model.state_dict(), {
            "format": 1, "spec": r.spec.title, "spec_sha256": info["spec_sha256"], "input": list(r.spec.input_shape),
            "image": list(data.shape), "classes": data.classes, "mean": info["mean"], "std": info["std"],
            "loss": cfg.loss, "epoch": kept.get("epoch")})
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
        "device": str(batches.device), "precision": cfg.precision, "world_size": world.size,
        "backend": world.backend, "restarts": world.restarts, "resumes": state.resumes,
        "threads": info["threads"], "torch": info["torch"], "peak_rss_mb": peak_rss_mb(),
    }
    again = restarts_line(state, world.restarts)
    console.line(f"\n{title} (loss {loss:.4f})\n\n{rep['text']}\n{fit_text}\n"
                 + (f"stopped early after epoch {state.epoch}; kept the weights of epoch {kept.get('epoch')}\n"
                    if state.stopped_early else "")
                 + (f"{again}\n" if again else "")
                 + f"\nrun folder: {folder.path}\n  curves.png  confusion_matrix.png  classification_report.txt  "
                 "metrics.json  history.csv  model.safetensors")
    return metrics
