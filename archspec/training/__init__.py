"""Training, evaluation and prediction (needs the [train] extra: torch and friends).

>>> from archspec.training import train, evaluate, predict
>>> run = train("specs/examples/digits-cnn.yaml", epochs=3, out="runs/demo")   # doctest: +SKIP
>>> run.metrics["test_accuracy"], run.folder.path                               # doctest: +SKIP
>>> evaluate(run)["accuracy"], predict(run, images=["img.png"])                 # doctest: +SKIP
>>> run = train("specs/examples/digits-cnn.yaml", nproc=2, max_restarts=1)      # doctest: +SKIP

Importing this package is cheap; torch is imported when a function is called. Training seeds Python's,
numpy's and torch's global random generators for a reproducible run and puts them back as they were when it
returns; calls from several threads train one after another (those generators are one per process).
"""
from __future__ import annotations

import json
import os
import random
import threading
from contextlib import contextmanager

from ..extras import need
from ..specbase import SpecBase
from ..validation import load

# Every import of torch (and of the modules below that import it) waits inside a function, after need("torch")
# names the missing extra: importing this package stays cheap and works without the [train] extra.

_ONE_AT_A_TIME = threading.Lock()


def train(spec=None, data_dir=None, epochs=None, out=None, sets=(), resume=None, force=False, quiet=False,
          device=None, precision=None, nproc=None, max_restarts=0, timeout=None):
    """Train a spec with a train: block (kind cnn, or equations); returns a Run: ``folder`` (its ``path``),
    ``metrics`` (what metrics.json holds) and ``state``.

    ``spec``: a spec file (str or os.PathLike) or a spec that ``archspec.load`` read from a file; None with
    ``resume``. ``out``: the run folder (default runs/NAME/TIMESTAMP); one that holds a run is refused unless
    ``force``. ``resume``: a run folder (or Run) to continue; ``epochs`` may extend it. ``sets``: overrides,
    {"lr": 0.01} or ["train.optimizer.lr=0.01"] as ``--set``. ``device`` (auto|cpu|cuda|mps) and
    ``precision`` (fp32|bf16|fp16) override the spec's train block; ``nproc``/``max_restarts`` train with
    worker processes through torchrun (as ``archspec train --nproc``): the Run then holds the folder and its
    metrics (``state`` is None). Raises SpecError (located problems of the spec), OverrideError (a bad
    argument value), RunError (the run cannot start or continue, or a worker failed), MissingExtra."""
    need("torch")
    # torch (see the top)
    from .distributed import DEFAULT_TIMEOUT
    from .loop import Console
    from .session import train as _train

    resume = None if resume is None else _folder(resume, "resume")
    if spec is None and resume is None:
        raise TypeError("train() needs a spec file, or resume=RUN_FOLDER to continue a run")
    spec = None if spec is None else _spec_file(spec, "train")
    sets = _sets(sets)
    with _ONE_AT_A_TIME, _kept_global_state():
        if nproc is not None or max_restarts:
            from .launch import train_processes  # torchrun's launcher

            return train_processes(spec, data_dir=data_dir, epochs=epochs, out=out, sets=sets, resume=resume,
                                   force=force, quiet=quiet, device=device, precision=precision, nproc=nproc,
                                   max_restarts=max_restarts, timeout=timeout)
        return _train(spec, data_dir=data_dir, epochs=epochs, out=out, sets=sets, resume=resume, force=force,
                      console=Console(quiet=quiet), runtime={"device": device, "precision": precision},
                      timeout=timeout or DEFAULT_TIMEOUT)


def evaluate(spec, weights=None, data_dir=None, split="test", out=None, sets=()):
    """Accuracy, loss, per-class report and confusion matrix of trained weights (a JSON-ready dict).

    ``spec``: a run folder (or the Run that ``train`` returned), which brings its own spec and weights:
    ``evaluate("runs/digits")``; or a spec file with ``weights`` (a model.safetensors). ``data_dir``: another
    image folder of the training layout; ``split``: test, val, train or all; ``out``: a folder for the report
    files; ``sets``: overrides as in ``train``. Raises InferenceError, SpecError, OverrideError."""
    need("torch")
    from .inference import evaluate as _evaluate  # torch

    return _evaluate(_spec_file(spec, "evaluate"), _weights(weights), data_dir=data_dir, split=split,
                     out=out, sets=_sets(sets))


def predict(spec, weights=None, images=None, top=3):
    """Per image file: its predicted class and top-k probabilities, or why it could not be read (a list of
    dicts: image, class, probability, top; or image, error).

    ``spec`` as in ``evaluate``: ``predict("runs/digits", images=["img.png"])``. ``images``: one path or a
    list of paths; a folder stands for the files below it. Raises InferenceError, SpecError."""
    need("torch")
    from .inference import predict as _predict  # torch

    return _predict(_spec_file(spec, "predict"), _weights(weights), _images(images), top=top)


def _folder(where, what: str):
    """A path from a path, a RunFolder or the Run that ``train`` returned (its folder); ``what`` begins the
    TypeError for anything else."""
    # torch: folders reads devices
    from .folders import Run
    from .runfolder import RunFolder

    where = where.folder if isinstance(where, Run) else where
    where = where.path if isinstance(where, RunFolder) else where
    if not isinstance(where, (str, os.PathLike)):
        raise TypeError(f"{what}, not {type(where).__name__}")
    return where


TAKES = {"train": "train() takes a spec file (str or os.PathLike) or a loaded spec",
         "evaluate": "evaluate() takes a run folder (or the Run that train() returned), or a spec file with weights",
         "predict": "predict() takes a run folder (or the Run that train() returned), or a spec file with weights"}


def _spec_file(spec, what: str):
    """A path as it is (a Run as its folder), or the file a loaded spec was read from, unedited since."""
    if not isinstance(spec, SpecBase):
        return _folder(spec, TAKES[what])
    if not os.path.isfile(spec.file):
        raise TypeError(f"{what}() reads a spec file, and this spec was not loaded from one: write the YAML to a "
                        "file and pass its path")
    if load(spec.file).model_dump() != spec.model_dump():
        raise ValueError(f"the spec was changed after it was loaded from {spec.file}; {what}() reads the file: "
                         "save the change there, or pass it as sets={'key': value}")
    return spec.file


def _weights(weights):
    return None if weights is None else _folder(weights, "weights is a model.safetensors file or a run folder")


def _images(images) -> list:
    """One path or several, as a list of paths; anything else (an array, a PIL image) is a TypeError."""
    one = isinstance(images, (str, os.PathLike))
    items = [images] if one else list(images) if hasattr(images, "__iter__") else None
    wrong = next((i for i in items if not isinstance(i, (str, os.PathLike))), None) if items is not None else images
    if items is None or wrong is not None:
        raise TypeError(f"predict() takes image files or folders (a path or a list of paths), not "
                        f"{type(wrong).__name__}")
    return items


def _sets(sets) -> list[str]:
    """Overrides as ``--set`` takes them: one "KEY=VALUE" string, a list of them, or a mapping {key: value}."""
    if isinstance(sets, str):
        return [sets]
    if isinstance(sets, dict):
        return [f"{key}={json.dumps(value)}" for key, value in sets.items()]  # JSON is YAML: 0.01, "adam", [3, 3]
    return list(sets)


@contextmanager
def _kept_global_state():
    """Python's, numpy's and torch's random generators and cuDNN's flags as they were before training."""
    # torch and numpy: only when a run starts
    import numpy as np
    import torch

    saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    cudnn = torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.set_rng_state(saved[2])
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = cudnn
