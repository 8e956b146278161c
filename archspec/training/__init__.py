"""Training, evaluation and prediction (needs the [train] extra: torch and friends).

>>> from archspec.training import train, evaluate, predict
>>> run = train("specs/examples/digits-cnn.yaml", epochs=3, out="runs/demo")   # doctest: +SKIP
>>> run.metrics["test_accuracy"], run.folder.path                               # doctest: +SKIP

Importing this package is cheap; torch is imported when a function is called.
"""
from __future__ import annotations


def train(spec, data_dir=None, epochs=None, out=None, sets=(), resume=None, force=False, quiet=False):
    """Train a cnn spec file; returns a Run (``folder``, ``metrics``, ``state``). See ``session.train``."""
    from ..cli import need

    need("torch")
    from .loop import Console
    from .session import train as _train

    return _train(spec, data_dir=data_dir, epochs=epochs, out=out, sets=sets, resume=resume, force=force,
                  console=Console(quiet=quiet))


def evaluate(spec, weights, data_dir=None, split="test", out=None):
    """Accuracy, loss, per-class report and confusion matrix of trained weights (dict)."""
    from ..cli import need

    need("torch")
    from .inference import evaluate as _evaluate

    return _evaluate(spec, weights, data_dir=data_dir, split=split, out=out)


def predict(spec, weights, images, top=3):
    """Per image file: predicted class and top-k probabilities (list of dicts)."""
    from ..cli import need

    need("torch")
    from .inference import predict as _predict

    return _predict(spec, weights, images, top=top)
