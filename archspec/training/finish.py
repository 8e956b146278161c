"""The end of a run, for every kind: restore the best weights, score the report split, write weights, the
kind's reports, plots and metrics.json.

Every rank scores its share of the split (the outputs are gathered, each sample once); rank 0 alone writes.
"""
from __future__ import annotations

import sys
import time

from .loop import State
from .report import plot_curves
from .runfolder import save_tensors


def peak_rss_mb() -> float | None:
    try:
        import resource  # Unix only
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


def finish(ctx, job, state: State) -> dict:
    """Restore the best weights (early stopping), score the report split (test, else val, else train) and print
    the summary; rank 0 writes the weights, curves, the kind's report files and metrics.json."""
    r, cfg, folder, write = ctx.r, ctx.r.train, ctx.folder, ctx.world.leader
    restored = bool(job.best) and cfg.early_stopping is not None and cfg.early_stopping.restore_best
    if restored:
        job.model.load_state_dict(job.best)
    split = next(s for s in ("test", "val", "train") if s in job.splits)
    loss, acc, out = job.score(split)
    rep = job.report(split, loss, acc, out, state, restored)
    if write:
        save_tensors(folder["weights"], job.model.state_dict(), {
            "format": 1, "spec": r.spec.title, "spec_sha256": job.info["spec_sha256"], "loss": cfg.loss,
            **rep.weights})
        plot_curves(state.history, folder["curves"], rep.curves_title, state.best_epoch if cfg.early_stopping else None)
    metrics = {
        "test_loss": loss, "report_split": split, **rep.metrics, "history": state.history, "epochs_run": state.epoch,
        "best_epoch": state.best_epoch, "stopped_early": state.stopped_early,
        f"train_{job.noun}_per_second": state.train_images / state.train_seconds if state.train_seconds else 0.0,
        "spec": r.spec.title, "spec_sha256": job.info["spec_sha256"],
        "params": sum(p.numel() for p in job.model.parameters()), "resumes": state.resumes, "torch": job.info["torch"],
        "seconds_total": time.perf_counter() - ctx.start,
    }
    files = ("curves.png", *job.extra_files, "metrics.json", "history.csv", "model.safetensors")
    ctx.console.line(f"{rep.text}\n\nrun folder: {folder.path}\n  " + "  ".join(files))
    if write:
        folder.write_json("metrics", metrics)
    return metrics
