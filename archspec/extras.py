"""Optional dependencies: the [train] extra's packages, imported on use with a one-line install hint."""
from __future__ import annotations

import importlib

from .diagnostics import ArchspecError

# import names of the [train] extra's packages: a command that imports one that is missing says what to install
TRAIN_EXTRA = ("torch", "torchinfo", "numpy", "PIL", "sklearn", "matplotlib", "safetensors", "onnx")


class MissingExtra(ArchspecError):
    """A feature's optional dependency is not installed."""


def missing(module: str, extra: str = "train") -> MissingExtra:
    return MissingExtra(f"this command needs '{module}': pip install 'archspec-nn[{extra}]'")


def need(module: str, extra: str = "train"):
    """Import an optional dependency or say in one line how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing(module, extra) from None
