"""What ``archspec compile`` makes of a built module, for Python users too: its torchinfo summary, and an
ONNX export (checked by onnx.checker) with the trained run's classes and normalisation in its metadata."""
from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import sys
import warnings

from ..extras import need
from ..tables import human
from .cnn_table import torch_dims


def example_input(spec, batch: int = 1):
    """A zero batch in PyTorch's layout: N x C x H x W for image specs, N x features for flat ones."""
    import torch  # function-level: the [train] extra

    return torch.zeros(batch, *torch_dims(spec.input_shape))


def summary(model, spec) -> str:
    """torchinfo's table (a real forward pass of one zero image), or a line saying why there is none."""
    from .torch_cnn import physical_memory  # torch_cnn imports torch (and tests patch physical_memory there)

    torchinfo = need("torchinfo")
    report, memory = spec.shapes(), physical_memory()
    step = max((math.prod(x.input) + math.prod(x.output) for x in report.layers), default=0)
    peak = (report.params + step) * 4  # float32 weights plus the largest layer's input and output
    skip = ("(no torchinfo summary: its forward pass needs about {}B, more than {}; `archspec shapes` gives the "
            "same counts without one)").format
    if memory is not None and peak > memory:
        return skip(human(peak), f"this machine's {human(memory)}B of memory")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's performance notes ('same' with even kernels)
            stats = torchinfo.summary(model, input_data=example_input(spec), verbose=0, device="cpu",
                                      col_names=("output_size", "num_params", "mult_adds"),
                                      row_settings=("var_names",))
    except RuntimeError as exc:
        if "alloc" not in str(exc.__cause__ or exc).lower():
            raise
        return skip(human(peak), "torch could allocate")
    return str(stats)


class ExportError(Exception):
    """torch's ONNX exporter refused the model (an operator or setting ONNX cannot express)."""


@contextlib.contextmanager
def _quiet_stdout():
    """Silence file descriptor 1: torch's legacy exporter prints its whole IR graph there when it fails."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _exporter_message(exc: Exception) -> str:
    """The exporter's reason in one line, without its request for a pull request and its graph dump."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for tail in (" Please feel free", " [Caused by"):
        text = text.split(tail)[0]
    return text


def export_onnx(model, spec, path: str, trained: dict | None = None) -> None:
    """ONNX with input 'image' and output 'logits', batch axis dynamic; checked by onnx.checker. ``trained``
    (the weights file's metadata) adds what a consumer needs beside the graph: classes and normalisation."""
    import torch  # function-level: the [train] extra

    onnx = need("onnx")
    model.eval()
    dynamo = importlib.util.find_spec("onnxscript") is not None  # the new exporter needs onnxscript
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        kwargs = (dict(dynamic_shapes=({0: torch.export.Dim("batch")},)) if dynamo else
                  dict(dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}))
        try:
            with _quiet_stdout():
                torch.onnx.export(model, (example_input(spec, 2),), path, input_names=["image"],
                                  output_names=["logits"], dynamo=dynamo, **kwargs)
        except OSError:
            raise  # an unwritable path: write_output says so
        except Exception as exc:  # the exporter's own errors have no common base class
            raise ExportError(_exporter_message(exc)) from None
    graph = onnx.load(path)
    if trained and "mean" in trained:
        onnx.helper.set_model_props(graph, onnx_props(spec, trained))
        onnx.save(graph, path)
    onnx.checker.check_model(graph)


def onnx_props(spec, trained: dict) -> dict[str, str]:
    """ONNX metadata of a trained network: the model sees normalised pixels, not raw ones."""
    return {"archspec.spec": spec.title, "archspec.classes": json.dumps(trained["classes"]),
            "archspec.mean": json.dumps(trained["mean"]), "archspec.std": json.dumps(trained["std"]),
            "archspec.preprocess": "image N x C x H x W, float: (pixel / 255 - mean[c]) / std[c]; "
                                   "logits index archspec.classes"}
