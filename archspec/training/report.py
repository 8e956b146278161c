"""Evaluation results: per-class report (scikit-learn), confusion matrix, fit verdict, plots.

Computing (``classification``, ``verdict``) is separate from presenting
(``plot_curves``, ``plot_confusion``); plots are drawn without pyplot, so the caller's backend stays as it was.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

OVERFIT_GAP = 0.05  # train accuracy this far above validation accuracy counts as overfitting
UNDERFIT_ACCURACY = 0.9  # training and validation accuracy both below this count as underfitting
TRAIN_MEASURE = "training accuracy (mean over the epoch's batches, dropout on)"


def classification(y_true, y_pred, classes: list[str]) -> dict:
    """Accuracy, per-class precision/recall/f1/support, the report text and the confusion matrix. A class
    that neither occurs nor is predicted (new images of some classes) stays out of the text and the macro
    average, as in scikit-learn's default, instead of averaging in zeros; per_class lists it with support 0."""
    from sklearn.metrics import classification_report, confusion_matrix  # about a second: predict needs none

    labels = list(range(len(classes)))
    present = sorted({int(v) for v in (*np.asarray(y_true).tolist(), *np.asarray(y_pred).tolist())}) or labels
    kw = dict(labels=present, target_names=[classes[i] for i in present], zero_division=0)
    d = classification_report(y_true, y_pred, output_dict=True, **kw)
    none = {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    per_class = {c: {"precision": e["precision"], "recall": e["recall"], "f1": e["f1-score"],
                     "support": int(e["support"])} for c in classes for e in [d.get(c, none)]}
    avg = {k.replace(" ", "_"): {"precision": d[k]["precision"], "recall": d[k]["recall"], "f1": d[k]["f1-score"],
                                 "support": int(d[k]["support"])} for k in ("macro avg", "weighted avg")}
    return {"accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else 0.0,
            "per_class": per_class, **avg,
            "text": classification_report(y_true, y_pred, digits=4, **kw),
            "confusion": confusion_matrix(y_true, y_pred, labels=labels)}


def kept_row(history: list[dict], best_epoch: int | None) -> dict:
    """The history row whose weights the run kept (the best epoch when early stopping restored it)."""
    return next((h for h in history if h["epoch"] == best_epoch), history[-1]) if history else {}


def generalization_gap(row: dict, fallback_accuracy: float) -> float:
    """Train accuracy minus validation accuracy (minus the report split's accuracy without validation)."""
    other = row.get("val_accuracy")
    return row.get("train_accuracy", 0.0) - (other if other is not None else fallback_accuracy)


def verdict(history: list[dict], kept_epoch: int | None = None) -> tuple[str, str]:
    """('overfitting' | 'underfitting' | 'still improving' | 'good fit', one-line explanation) from the curves.
    ``kept_epoch``: the epoch whose weights early stopping restored, when not the last."""
    if not history:
        return "no epochs", "no epoch finished"
    last = history[-1]
    has_val = last["val_loss"] is not None
    if has_val:
        best = min(history, key=lambda h: h["val_loss"])
        gap = last["train_accuracy"] - last["val_accuracy"]
        rising = best["epoch"] < last["epoch"] - 1 and last["val_loss"] > best["val_loss"] * 1.1 \
            and last["train_loss"] < best["train_loss"]
        if rising or gap > OVERFIT_GAP:
            why = (f"validation loss rose from {best['val_loss']:.4f} (epoch {best['epoch']}) to "
                   f"{last['val_loss']:.4f} (epoch {last['epoch']}) while training loss kept falling" if rising else
                   f"training accuracy {last['train_accuracy']:.1%} is {gap * 100:.1f} points above validation "
                   f"accuracy {last['val_accuracy']:.1%}")
            kept = kept_epoch is not None and kept_epoch < last["epoch"]
            advice = (f"early stopping kept the weights of epoch {kept_epoch}, from before it" if kept else
                      "try more weight decay, dropout, augmentation, more data or early stopping")
            return "overfitting", f"overfitting: {why}; {advice}"
    if len(history) > 1 and last["train_loss"] < 0.9 * history[-2]["train_loss"] \
            and (not has_val or last["val_loss"] <= min(h["val_loss"] for h in history)):
        return "still improving", (f"still improving: training loss fell "
                                   f"{1 - last['train_loss'] / history[-2]['train_loss']:.0%} in the last epoch"
                                   + (" and validation loss is at its lowest" if has_val else "")
                                   + "; more epochs may help")
    # the training accuracy is the running mean over the epoch's batches, with dropout on and the weights still
    # changing: it may read below validation in a network that fits well, so it is never the only witness
    best = max(last["train_accuracy"], last["val_accuracy"]) if has_val else last["train_accuracy"]
    if best < UNDERFIT_ACCURACY:
        return "underfitting", (f"underfitting: accuracy is only {best:.1%} on "
                                + ("validation" if has_val and best == last["val_accuracy"] else "the training batches")
                                + (f" ({TRAIN_MEASURE} {last['train_accuracy']:.1%})" if has_val else "")
                                + "; train longer, raise the learning rate, or use a larger network")
    val = f" vs validation {last['val_accuracy']:.1%}" if has_val else ""
    return "good fit", (f"good fit: {TRAIN_MEASURE} {last['train_accuracy']:.1%}{val}, no sign of overfitting")


def _quiet_glyphs(plot):
    """Class names in a script the font lacks (Chinese, ...) draw as boxes; matplotlib's warning for every
    missing glyph, with a source line that reads like a traceback, is noise on the console."""
    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            return plot(*args, **kwargs)
    return wrapper


def _figure(**options):
    """A matplotlib Figure drawn without pyplot (it saves through Agg): the backend of the process that trains
    (a notebook's inline one) stays as it was, and no global figure list is touched."""
    from matplotlib.figure import Figure  # matplotlib only to draw (evaluate and predict may not)

    return Figure(**options)


@_quiet_glyphs
def plot_curves(history: list[dict], path, title: str, best_epoch: int | None = None) -> None:
    """Loss and accuracy per epoch, train and validation, side by side (loss alone when no epoch has an
    accuracy, as for equation networks fitting real-valued targets)."""
    from matplotlib.ticker import FuncFormatter  # matplotlib only to draw

    epochs = [h["epoch"] for h in history]
    panels = [("loss", "loss")] + ([("accuracy", "accuracy")] if any(h.get("train_accuracy") is not None
                                                                       for h in history) else [])
    fig = _figure(figsize=(5.5 * len(panels), 4.2))
    axes = fig.subplots(1, len(panels), squeeze=False)
    marks = ("o-", "s-") if len(epochs) <= 50 else ("-", "-")
    for ax, (key, label) in zip(axes[0], panels):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], marks[0], label=f"train {label}")
        if any(h[f"val_{key}"] is not None for h in history):
            ax.plot(epochs, [h[f"val_{key}"] for h in history], marks[1], label=f"validation {label}")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(f"{label} per epoch")
        ax.grid(alpha=0.3)
        ax.legend()
        if len(epochs) < 20:
            ax.set_xticks(epochs)
        if key == "accuracy":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


@_quiet_glyphs
def plot_confusion(cm, classes: list[str], path, title: str) -> None:
    """Counts per (true, predicted) class, rows = true class."""
    k = len(classes)
    size = max(4.5, 0.55 * k + 2.5)
    fig = _figure(figsize=(size + 1, size))
    ax = fig.subplots()
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), classes, rotation=45, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    threshold = cm.max() / 2 if cm.size else 0
    if k <= 30:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=9,
                        color="white" if cm[i, j] > threshold else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
