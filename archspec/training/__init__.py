"""Training, evaluation and prediction (needs the [train] extra: torch and friends).

>>> from archspec.training import train, evaluate, predict
>>> run = train("specs/examples/digits-cnn.yaml", epochs=3, out="runs/demo")   # doctest: +SKIP
>>> run.metrics["test_accuracy"], run.folder.path                               # doctest: +SKIP
>>> run = train("specs/examples/digits-cnn.yaml", nproc=2, max_restarts=1)      # doctest: +SKIP

Importing this package is cheap; torch is imported when a function is called.
"""
from __future__ import annotations


def train(spec, data_dir=None, epochs=None, out=None, sets=(), resume=None, force=False, quiet=False,
          device=None, precision=None, nproc=None, max_restarts=0, timeout=None):
    """Train a cnn spec file; returns a Run (``folder``, ``metrics``, ``state``). See ``session.train``.

    ``device`` (auto|cpu|cuda|mps) and ``precision`` (fp32|bf16|fp16) override the spec's train block;
    ``nproc``/``max_restarts`` train with worker processes through torchrun (as ``archspec train --nproc``):
    the Run then holds the folder and its metrics (``state`` is None), and RunError says why it failed."""
    from ..cli import need

    need("torch")
    from .distributed import DEFAULT_TIMEOUT
    from .loop import Console
    from .session import train as _train

    if nproc is not None or max_restarts:
        from .launch import train_processes

        return train_processes(spec, data_dir=data_dir, epochs=epochs, out=out, sets=sets, resume=resume,
                               force=force, quiet=quiet, device=device, precision=precision, nproc=nproc,
                               max_restarts=max_restarts, timeout=timeout)
    return _train(spec, data_dir=data_dir, epochs=epochs, out=out, sets=sets, resume=resume, force=force,
                  console=Console(quiet=quiet), runtime={"device": device, "precision": precision},
                  timeout=timeout or DEFAULT_TIMEOUT)


def evaluate(spec, weights=None, data_dir=None, split="test", out=None):
    """Accuracy, loss, per-class report and confusion matrix of trained weights (dict). ``spec`` may be a run
    folder, which brings its own weights: ``evaluate("runs/digits")``."""
    from ..cli import need

    need("torch")
    from .inference import evaluate as _evaluate

    return _evaluate(spec, weights, data_dir=data_dir, split=split, out=out)


def predict(spec, weights, images, top=3):
    """Per image file: predicted class and top-k probabilities (list of dicts). ``spec`` may be a run folder
    and ``weights`` None: ``predict("runs/digits", None, ["img.png"])``."""
    from ..cli import need

    need("torch")
    from .inference import predict as _predict

    return _predict(spec, weights, images, top=top)
