"""Trained weights at work: ``evaluate`` recomputes the report on a data set, ``predict`` labels images."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..diagnostics import ArchspecError
from ..kinds import fact
from ..torchbuild import build
from .data import DataError, files_under, image_shape, load as load_data
from .images import BadImage, decode
from .loop import LOSSES, Batches, predict as outputs
from .report import classification, plot_confusion
from .resolve import Resolved, resolve
from .runfolder import FolderError, RunFolder, WeightsError, load_tensors

SPLIT_CHOICES = ("test", "val", "train", "all")


class InferenceError(ArchspecError):
    pass


@dataclass
class Loaded:
    r: Resolved
    model: torch.nn.Module
    meta: dict  # classes, mean, std, image shape... from model.safetensors
    batches: Batches


def load_weights(model, weights, spec) -> dict:
    """Trained weights (safetensors only) into ``model``, the spec's network; returns the file's metadata.
    Refuses weights of another shape, naming every tensor that does not fit."""
    try:
        tensors, meta = load_tensors(weights)
    except WeightsError as exc:
        raise InferenceError(str(exc)) from None
    own = model.state_dict()
    problems = [f"missing {k}" for k in own if k not in tensors]
    problems += [f"unexpected {k}" for k in tensors if k not in own]
    problems += [f"{k}: file {tuple(tensors[k].shape)}, spec {tuple(v.shape)}" for k, v in own.items()
                 if k in tensors and tensors[k].shape != v.shape]
    if problems:
        raise InferenceError(f"the weights in {weights} do not fit {spec.title} ({spec.file}):\n  "
                             + "\n  ".join(problems[:10]))
    model.load_state_dict(tensors)
    return meta


def meta_problems(meta: dict, outputs: int, channels: int) -> list[str]:
    """What in the metadata of trained weights does not describe a network of ``outputs`` classes on images of
    ``channels`` channels: one class name per output, a finite mean and a positive std per channel."""
    def numbers(value, least=-math.inf):
        return isinstance(value, list) and len(value) == channels and all(
            type(v) in (int, float) and math.isfinite(v) and v > least for v in value)

    classes, out = meta["classes"], []
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        out.append("classes is not a list of names")
    elif len(classes) != outputs:
        out.append(f"{len(classes)} class names for the network's {outputs} outputs")
    out += [f"{key} is not a list of {channels} finite number(s){above}"
            for key, least, above in (("mean", -math.inf, ""), ("std", 0, " above 0"))
            if not numbers(meta.get(key), least)]
    return out


def spec_and_weights(spec, weights=None) -> tuple[Path, Path]:
    """(spec file, weights file) from a spec and its weights, or a run folder alone (its resolved spec.yaml
    and model.safetensors); ``weights`` may also be a run folder."""
    spec, weights = Path(spec), None if weights is None else Path(weights)
    if spec.is_dir():
        if weights is not None and not weights.is_dir() and weights != RunFolder(spec)["weights"]:
            raise InferenceError(f"{spec} is a run folder, which brings its own weights: drop --weights, or give "
                                 "the spec file instead of the folder")
        spec, weights = RunFolder(spec)["spec"], RunFolder(spec)["weights"]
        if not spec.is_file():
            raise InferenceError(f"{spec.parent} is not an archspec run folder (it has no {spec.name})")
    elif weights is None:
        raise InferenceError(f"which weights? give --weights FILE (the model.safetensors of a run folder), or "
                             f"the run folder instead of {spec}")
    if weights.is_dir():
        weights = RunFolder(weights)["weights"]
    if not weights.is_file():
        folder = weights.parent
        done = RunFolder(folder)["checkpoint"].is_file()
        raise InferenceError(f"no trained weights at {weights}" + (
            f": the run has not finished; continue it with archspec train --resume {folder}" if done else ""))
    return spec, weights


def load_model(spec, weights, data_dir=None, sets=()) -> Loaded:
    """The spec's network with trained weights (safetensors only); refuses weights of another shape.
    ``spec`` may be a run folder and then ``weights`` None (see ``spec_and_weights``)."""
    spec, weights = spec_and_weights(spec, weights)
    r = resolve(spec, data_dir=data_dir, sets=sets)
    if fact(r.spec.kind, "trains") != "images":
        raise InferenceError(f"evaluate and predict work on image classifiers (kind: cnn); {r.spec.title} is an "
                             "equation network: its run folder's metrics.json holds the test loss, the learned "
                             "weights and the predictions of the report rows")
    model = build(r.spec)
    meta = load_weights(model, weights, r.spec)
    if "classes" not in meta:
        raise InferenceError(f"{weights} has no archspec metadata (classes, normalisation): use the "
                             "model.safetensors of an archspec run folder")
    try:
        channels = image_shape(r.spec.input_shape, r.train.dataset)[2]
    except DataError as exc:
        raise InferenceError(exc.message) from None
    problems = meta_problems(meta, math.prod(r.spec.shapes().output), channels)
    if problems:
        raise InferenceError(f"the archspec metadata of {weights} is damaged: " + "; ".join(problems))
    model.eval()
    batches = Batches(meta["mean"], meta["std"], torch.device("cpu"), len(r.spec.input_shape) == 1, False)
    return Loaded(r, model, meta, batches)


def evaluate(spec, weights=None, data_dir=None, split="test", out=None, sets=()) -> dict:
    """Accuracy, loss and the per-class report of trained weights on a data set of the training layout."""
    if split not in SPLIT_CHOICES:
        raise InferenceError(f"split must be one of {', '.join(SPLIT_CHOICES)}. Received: {split!r}")
    if out is not None and RunFolder(out)["checkpoint"].exists():
        raise InferenceError(f"{out} holds a training run, whose metrics.json and report this would overwrite: "
                             "give --out another folder")
    m = load_model(spec, weights, data_dir, sets)
    cfg = m.r.train
    ds = cfg.dataset  # 'all' scores every image: nothing held out, so no class is too small to split
    if split == "all":
        ds = ds.model_copy(update={"val_fraction": 0.0, "test_fraction": 0.0})
    try:
        data = load_data(ds, m.r.spec.input_shape, cfg.seed, m.r.base, min_classes=1)
    except DataError as exc:
        raise m.r.error("bad-data", exc.message, exc.path, exc.hint) from None
    classes = m.meta["classes"]
    unknown = sorted(set(data.classes) - set(classes))
    if unknown:
        raise InferenceError(f"the data has class(es) {', '.join(unknown)} that the weights were not trained on "
                             f"(they know {', '.join(classes)})")
    names = list(data.splits) if split == "all" else [split]
    if any(s not in data.splits for s in names):
        raise InferenceError(f"the data has no {split} split (it has {', '.join(data.splits)})")
    remap = torch.tensor([classes.index(c) for c in data.classes])  # data label -> weights' label
    x = torch.cat([data.splits[s].x for s in names])
    y = remap[torch.cat([data.splits[s].y for s in names])]
    out_t = outputs(m.model, x, m.batches)
    loss = float(LOSSES[m.meta.get("loss", "cross_entropy")](out_t, y))
    rep = classification(y.numpy(), out_t.argmax(1).numpy(), classes)
    title = f"{m.r.spec.title}: {split} accuracy {rep['accuracy']:.1%} on {len(y)} images"
    result = {"accuracy": rep["accuracy"], "loss": loss, "split": split, "images": len(y), "classes": classes,
              "per_class": rep["per_class"], "macro_avg": rep["macro_avg"], "weighted_avg": rep["weighted_avg"],
              "confusion_matrix": rep["confusion"].tolist(), "data": data.source, "skipped": data.skipped_summary(),
              "weights": str(weights), "report": f"{title} (loss {loss:.4f})\n\n{rep['text']}",
              "data_report": "\n".join(filter(None, (data.report(), data.warnings())))}
    if out is not None:
        try:
            folder = RunFolder.create(m.r.spec.title, out)
        except FolderError as exc:
            raise InferenceError(str(exc)) from None
        folder.write("report", f"{title}\n\n{rep['text']}")
        plot_confusion(rep["confusion"], classes, folder["confusion"], title)
        folder.write_json("metrics", {k: v for k, v in result.items() if k not in ("report", "data_report")})
    return result


def image_files(images) -> list:
    """The images to predict: one path or several; a folder stands for the files below it (sorted, hidden
    ones left out), or for itself when it has none."""
    out = []
    for path in [images] if isinstance(images, (str, Path)) else images:
        out += (files_under(Path(path)) or [path]) if Path(path).is_dir() else [path]
    return out


def predict(spec, weights, images, top: int = 3, sets=()) -> list[dict]:
    """Per image (a file, or the files of a folder): the predicted class and the top-k probabilities (softmax
    of the outputs), or the error."""
    m = load_model(spec, weights, sets=sets)
    ds = m.r.train.dataset
    try:
        shape = image_shape(m.r.spec.input_shape, ds)
    except DataError as exc:
        raise InferenceError(exc.message) from None
    interpolation = getattr(ds, "interpolation", "bilinear")
    results, arrays = [], []
    for path in image_files(images):
        if Path(path).is_dir():
            results.append({"image": str(path), "error": "the folder holds no files"})
            continue
        try:
            arrays.append(decode(Path(path), shape, interpolation))
            results.append({"image": str(path)})
        except BadImage as exc:
            results.append({"image": str(path), "error": str(exc)})
    if arrays:
        x = torch.from_numpy(np.ascontiguousarray(np.stack(arrays).transpose(0, 3, 1, 2)))
        probs = torch.softmax(outputs(m.model, x, m.batches), dim=1)
        ok = [r for r in results if "error" not in r]
        for r, p in zip(ok, probs):
            order = torch.argsort(p, descending=True)[:max(1, top)]
            r["class"] = m.meta["classes"][int(order[0])]
            r["probability"] = float(p[order[0]])
            r["top"] = [{"class": m.meta["classes"][int(i)], "probability": float(p[i])} for i in order]
    return results
