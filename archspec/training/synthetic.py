"""Synthetic image classes (stripes, checks, rings...) for smoke tests, demos and benchmarks.

``write_image_folder`` lays them out like a real data set (one PNG sub-folder
per class), so ``archspec train SPEC --data DIR`` can be tried without data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def _grid(size: int):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    return yy, xx


PATTERNS = {  # (y, x in [0, 1), frequency, phase) -> values in [-1, 1]
    "hstripes": lambda y, x, f, p: np.sin(2 * np.pi * (f * y + p)),
    "vstripes": lambda y, x, f, p: np.sin(2 * np.pi * (f * x + p)),
    "diagonal": lambda y, x, f, p: np.sin(2 * np.pi * (f * (x + y) / 1.5 + p)),
    "checks": lambda y, x, f, p: np.sign(np.sin(2 * np.pi * f * x + p) * np.sin(2 * np.pi * f * y + p)),
    "ring": lambda y, x, f, p: np.cos(2 * np.pi * (f * np.hypot(x - 0.5, y - 0.5) + p)),
    "blob": lambda y, x, f, p: 2 * np.exp(-((x - 0.3 - 0.4 * p) ** 2 + (y - 0.5) ** 2) * 10 * f) - 1,
}


def patterns(per_class: int, size: int = 16, classes: int = 3, seed: int = 0):
    """(N x size x size uint8 images, N labels, class names); random frequency, phase and noise per image."""
    if not 2 <= classes <= len(PATTERNS):
        raise ValueError(f"classes must be 2..{len(PATTERNS)}")
    rng = np.random.default_rng(seed)
    names = list(PATTERNS)[:classes]
    y, x = _grid(size)
    images, labels = [], []
    for label, name in enumerate(names):
        for _ in range(per_class):
            v = PATTERNS[name](y, x, rng.uniform(2, 4), rng.uniform(0, 1))
            v = v + rng.normal(0, 0.35, v.shape)
            images.append(np.clip(127.5 + 100 * v, 0, 255).astype(np.uint8))
            labels.append(label)
    return np.stack(images), np.array(labels), names


def write_image_folder(root, per_class: int = 20, size: int = 16, classes: int = 3, seed: int = 0) -> Path:
    """root/<class>/<i>.png for each synthetic class; returns ``root``."""
    root = Path(root)
    images, labels, names = patterns(per_class, size, classes, seed)
    counters = dict.fromkeys(names, 0)
    for img, label in zip(images, labels):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{counters[names[label]]:04d}.png")
        counters[names[label]] += 1
    return root
