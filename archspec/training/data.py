"""Data sets for training: scikit-learn's 8x8 digits or a folder of class sub-folders.

Every image is decoded once, converted to the spec's H x W x C and kept in
memory as uint8 (N x C x H x W), so later epochs do no decoding. Bad files are
skipped with counted warnings; a layout that cannot be trained on is refused
with a DataError naming the spec key to fix.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..diagnostics import printable
from ..tables import table
from .images import MODES, BadImage, decode

SPLITS = ("train", "val", "test")
SPLIT_DIRS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
DATASET = ("train", "dataset")  # spec path of the dataset block, for located errors


class DataError(Exception):
    """The data cannot be used as configured; ``path`` is the spec key to point at."""

    def __init__(self, message: str, path: tuple = DATASET, hint: str | None = None):
        super().__init__(message)
        self.message, self.path, self.hint = message, path, hint


@dataclass
class Split:
    x: "object"  # torch uint8 tensor, N x C x H x W
    y: "object"  # torch int64 tensor, N
    files: list[str]  # where each image came from (relative to the data folder)

    def __len__(self) -> int:
        return len(self.files)


@dataclass
class DataSet:
    classes: list[str]
    splits: dict[str, Split]  # 'train' always; 'val' and 'test' when they hold images
    shape: tuple  # H, W, C of the decoded images
    source: str  # 'digits' or the folder
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (file, reason, detail)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """class -> split -> number of images used."""
        out = {c: {s: 0 for s in self.splits} for c in self.classes}
        for name, split in self.splits.items():
            for label, n in zip(*np.unique(split.y.numpy(), return_counts=True)):
                out[self.classes[label]][name] = int(n)
        return out

    def stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training images, on the 0..1 scale."""
        x = self.splits["train"].x.float().div_(255)
        std = x.std(dim=(0, 2, 3))
        return x.mean(dim=(0, 2, 3)).tolist(), [s if s > 0 else 1.0 for s in std.tolist()]

    def fingerprint(self) -> str:
        """sha256 of the classes and every split's pixels and labels: changes when the data does."""
        h = hashlib.sha256(json.dumps([self.classes, list(self.shape)]).encode())
        for name, split in self.splits.items():
            h.update(name.encode())
            h.update(split.x.numpy().tobytes())
            h.update(split.y.numpy().tobytes())
        return h.hexdigest()

    def skipped_summary(self) -> dict[str, int]:
        return reasons(self.skipped)

    def report(self) -> str:
        """Per-class counts per split, for the console."""
        counts, names = self.counts(), list(self.splits)
        rows = [[c, *(counts[c][s] for s in names), sum(counts[c].values())] for c in self.classes]
        rows.append(["total", *(len(self.splits[s]) for s in names), sum(len(s) for s in self.splits.values())])
        return "\n".join([f"data: {self.source} ({len(self.classes)} classes, images "
                          f"{' x '.join(map(str, self.shape))})",
                          table(["class", *names, "total"], rows, right=set(range(1, len(names) + 2)))])

    def warnings(self) -> str:
        """Skipped files (counted by reason, the first few named) and notes; empty when all went well."""
        lines = []
        if self.skipped:
            kinds = ", ".join(f"{n} {reason}" for reason, n in self.skipped_summary().items())
            lines.append(f"warning: skipped {len(self.skipped)} file(s): {kinds}")
            lines += [f"  {printable(f)}: {reason}: {detail}" for f, reason, detail in self.skipped[:5]]
            if len(self.skipped) > 5:
                lines.append(f"  ... and {len(self.skipped) - 5} more (all listed in metrics.json)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def image_shape(input_shape: tuple, dataset) -> tuple:
    """H x W x C to decode to: the spec's input, or the digits' 8 x 8 x 1 for a flat [64] input."""
    if len(input_shape) == 3:
        if input_shape[2] not in MODES:
            raise DataError(f"images have 1 to 4 channels; the input asks for {input_shape[2]}", ("input",))
        return tuple(input_shape)
    if dataset.type == "digits" and input_shape[0] == 64:
        return (8, 8, 1)
    raise DataError(f"a flat input [{input_shape[0]}] gives no image size to decode to", ("input",),
                    hint="write the input as [H, W, C] and add {type: flatten} as the first layer")


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"  # .ipynb_checkpoints, .DS_Store, zip leftovers


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def files_under(folder: Path, data: Path | None = None, relabelled: list | None = None) -> list[Path]:
    """Every file below ``folder``, sorted, hidden files and folders left out. Linked folders are followed,
    each real folder once (a link back up the tree is not a loop, and a folder linked twice is not read twice).
    With ``data`` (the data folder ``folder`` is a class of), a linked folder that leads out of ``folder`` into
    ``data`` (another class, another split) or above it is not followed: its images would be counted under a
    second label. Such links are added to ``relabelled``."""
    files, seen = [], set()
    own = os.path.realpath(folder)
    top = os.path.realpath(data) if data is not None else None
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        if top is not None and not _inside(real, own) and (_inside(real, top) or _inside(top, real)):
            relabelled.append(Path(root))
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(x for x in dirs if not _hidden(x))
        files += [Path(root) / n for n in sorted(names) if not _hidden(n)]
    return files


def _borrows(d: Path, dirs: list[Path], folder: Path, root: Path) -> bool:
    """A class folder that is a link to another class's folder (or into one), to another split, or to the data
    folder or above it: its images are another label's."""
    real, top = os.path.realpath(d), os.path.realpath(root)
    if not (_inside(real, top) or _inside(top, real)):
        return False  # a folder outside the data folder (a shared scan folder)
    if not _inside(real, os.path.realpath(folder)) or real == os.path.realpath(folder):
        return True
    return any(e != d and _inside(real, os.path.realpath(e)) and (real != os.path.realpath(e) or
               (d.is_symlink() and (not e.is_symlink() or e.name < d.name))) for e in dirs)


def _class_files(folder: Path, root: Path, notes: list) -> tuple[dict[str, list[Path]], int]:
    """class name -> image files (recursive, hidden entries ignored); and the count of loose top-level files.
    A linked folder that would give a class another class's images (or another split's) is skipped, noted."""
    dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not _hidden(p.name))
    relabelled = [d for d in dirs if _borrows(d, dirs, folder, root)]
    out = {d.name: files_under(d, root, relabelled) for d in dirs if d not in relabelled}
    if relabelled:
        notes.append(f"{len(relabelled)} linked folder(s) skipped: each leads to another class, another split or "
                     f"the data folder itself, whose images would count under a second label (first: "
                     f"{relabelled[0].relative_to(root)} -> {os.path.realpath(relabelled[0])})")
    loose = sum(1 for p in folder.iterdir() if p.is_file() and not _hidden(p.name))
    return out, loose


def _decode_folder(folder: Path, root: Path, shape, interpolation, skipped, notes) -> dict[str, list]:
    """class -> list of (relative file, H x W x C array); empty classes dropped with a note."""
    by_class, loose = _class_files(folder, root, notes)
    if loose:
        notes.append(f"{loose} file(s) directly in {folder} ignored (images belong in class sub-folders)")
    jobs = [(c, f) for c, files in by_class.items() for f in files]

    def one(job):
        try:
            return decode(job[1], shape, interpolation)
        except BadImage as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        decoded = list(pool.map(one, jobs))
    out: dict[str, list] = {c: [] for c in by_class}
    bad = Counter()
    for (c, f), arr in zip(jobs, decoded):
        rel = str(f.relative_to(root))
        if isinstance(arr, BadImage):
            skipped.append((rel, arr.reason, arr.detail))
            bad[c] += 1
        else:
            out[c].append((rel, arr))
    for c in [c for c, items in out.items() if not items]:
        notes.append(f"class folder {c!r} in {folder} has no usable images ({bad[c]} skipped): ignored")
        del out[c]
    return out


def _layout(root: Path) -> dict[str, Path] | None:
    """{'train': ..., 'test': ..., ['val': ...]} when the folder is pre-split, else None."""
    sub = {p.name.lower(): p for p in root.iterdir() if p.is_dir() and not _hidden(p.name)}
    found = {s: next((sub[n] for n in names if n in sub), None) for s, names in SPLIT_DIRS.items()}
    if found["train"] and found["test"]:
        return {s: p for s, p in found.items() if p}
    if found["train"] or found["test"]:
        have = "train" if found["train"] else "test"
        raise DataError(f"{root} has a {have}/ folder but no {'test' if have == 'train' else 'train'}/ folder",
                        DATASET + ("path",), hint="give both train/ and test/ (and optionally val/), or put the "
                        "class folders directly in the folder and let archspec split them")
    return None


def split_indices(labels: np.ndarray, val_fraction: float, test_fraction: float, seed: int,
                  classes: list[str]) -> dict[str, np.ndarray]:
    """Stratified split: each class contributes its share to val and test (seeded, deterministic)."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {s: [] for s in SPLITS}
    for label in range(len(classes)):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        n_test, n_val = int(len(idx) * test_fraction + 0.5), int(len(idx) * val_fraction + 0.5)
        if len(idx) - n_test - n_val < 1:
            raise DataError(f"class {classes[label]!r} has {len(idx)} image(s): too few to hold out "
                            f"{n_val} for validation and {n_test} for test and still train on one",
                            hint="add images, or lower val_fraction / test_fraction")
        parts["test"] += idx[:n_test].tolist()
        parts["val"] += idx[n_test:n_test + n_val].tolist()
        parts["train"] += idx[n_test + n_val:].tolist()
    return {s: np.array(sorted(v), dtype=np.int64) for s, v in parts.items()}


def _tensors(items: list[tuple[str, np.ndarray, int]]) -> Split:
    x = np.stack([a for _, a, _ in items]) if items else np.zeros((0, 1, 1, 1), np.uint8)
    x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # N x H x W x C -> N x C x H x W
    return Split(x, torch.tensor([y for _, _, y in items], dtype=torch.int64), [f for f, _, _ in items])


def _split_items(items, cfg, seed, classes) -> dict[str, list]:
    labels = np.array([y for _, _, y in items])
    idx = split_indices(labels, cfg.val_fraction, cfg.test_fraction, seed, classes)
    return {s: [items[i] for i in idx[s]] for s in SPLITS}


def load_digits(cfg, shape: tuple, seed: int) -> DataSet:
    """scikit-learn's 1,797 digits (0..16 per pixel) as uint8 0..255, resized/repeated to ``shape``."""
    from sklearn.datasets import load_digits as sk_digits  # scikit-learn takes about a second to import

    d = sk_digits()
    imgs = np.round(d.images * (255 / 16)).astype(np.uint8)  # N x 8 x 8
    h, w, c = shape
    if (h, w) != (8, 8):
        imgs = np.stack([np.asarray(Image.fromarray(a).resize((w, h), Image.Resampling.BILINEAR)) for a in imgs])
    items = [(f"digits[{i}]", np.repeat(a[:, :, None], c, axis=2), int(t))
             for i, (a, t) in enumerate(zip(imgs, d.target))]
    classes = [str(i) for i in range(10)]
    parts = _split_items(items, cfg, seed, classes)
    return DataSet(classes, {s: _tensors(v) for s, v in parts.items() if v or s == "train"}, shape,
                   "scikit-learn digits")


def reasons(skipped: list) -> dict[str, int]:
    """(file, reason, detail) triples -> reason: count, by reason."""
    return dict(sorted(Counter(reason for _, reason, _ in skipped).items()))


def _refused(skipped: list) -> str:
    """Why classes may be missing: the files refused, counted by reason, with the first one named."""
    if not skipped:
        return ""
    kinds = ", ".join(f"{n} {reason}" for reason, n in reasons(skipped).items())
    f, reason, detail = skipped[0]
    return f"{len(skipped)} file(s) were refused ({kinds}), e.g. {f}: {detail}"


def load_image_folder(cfg, shape: tuple, seed: int, base: Path | None = None, min_classes: int = 2) -> DataSet:
    """``min_classes``: 2 to train (a classifier needs two), 1 to evaluate trained weights on a folder."""
    if not cfg.path:
        raise DataError("the image_folder dataset has no path", DATASET,
                        hint="pass --data DIR, or set train.dataset.path in the spec")
    root = Path(cfg.path) if base is None or Path(cfg.path).is_absolute() else base / cfg.path
    if not root.is_dir():
        raise DataError(f"no such folder: {root}", DATASET + ("path",),
                        hint="a folder with one sub-folder of images per class")
    skipped, notes = [], []
    layout = _layout(root)
    folders = layout or {"all": root}
    decoded = {s: _decode_folder(p, root, shape, cfg.interpolation, skipped, notes) for s, p in folders.items()}
    base_split = decoded["train" if layout else "all"]
    classes = sorted(base_split)
    if not classes:
        raise DataError(f"{folders.get('train', root)} holds no class sub-folders with images", DATASET + ("path",),
                        hint=_refused(skipped) or "put each class's images in its own sub-folder, e.g. "
                        "DIR/cat/1.png, DIR/dog/2.png")
    if len(classes) < min_classes:
        raise DataError(f"{folders.get('train', root)} holds one class ({classes[0]!r}): classification needs at "
                        "least two class sub-folders", DATASET + ("path",), hint=_refused(skipped) or None)
    for s, by_class in decoded.items():
        extra = sorted(set(by_class) - set(classes))
        if extra:
            raise DataError(f"{folders[s]} has class folder(s) {', '.join(extra)} that train/ does not have",
                            DATASET + ("path",), hint="every class needs training images")
    label = {c: i for i, c in enumerate(classes)}
    items = {s: [(f, a, label[c]) for c in sorted(by_class) for f, a in by_class[c]] for s, by_class in decoded.items()}
    if layout is None:
        items = _split_items(items["all"], cfg, seed, classes)
    elif "val" not in items and cfg.val_fraction > 0:  # carve validation out of train/, stratified
        parts = _split_items(items["train"], cfg.model_copy(update={"test_fraction": 0.0}), seed, classes)
        items.update(train=parts["train"], val=parts["val"])
        notes.append(f"no val/ folder: {cfg.val_fraction:g} of train/ held out for validation")
    splits = {s: _tensors(items[s]) for s in SPLITS if s in items and (items[s] or s == "train")}
    return DataSet(classes, splits, shape, str(root), skipped, notes)


LOADERS = {"digits": lambda cfg, shape, seed, base, min_classes: load_digits(cfg, shape, seed),
           "image_folder": load_image_folder}


def load(cfg, input_shape: tuple, seed: int, base: Path | None = None, min_classes: int = 2) -> DataSet:
    """The configured data set, decoded and split; ``base`` resolves relative folder paths (the spec's folder);
    fewer than ``min_classes`` classes is refused."""
    return LOADERS[cfg.type](cfg, image_shape(input_shape, cfg), seed, base, min_classes)
