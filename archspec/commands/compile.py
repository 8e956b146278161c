"""archspec compile SPEC: the torch module, its torchinfo summary, PyTorch source and ONNX."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from . import load_or_report, write_output


def register(sub):
    p = sub.add_parser("compile", help="build the torch module: print it with a torchinfo summary, "
                       "write PyTorch source (--code) or ONNX (--onnx)")
    p.add_argument("spec", metavar="SPEC_OR_RUN", help="a spec file, or a run folder (its spec and trained "
                   "model.safetensors)")
    p.add_argument("--code", metavar="FILE", help="write readable, standalone PyTorch source ('-' for stdout)")
    p.add_argument("--onnx", metavar="FILE", help="export the model to ONNX (dynamic batch size)")
    p.add_argument("--weights", metavar="FILE", help="trained model.safetensors to export (default: the "
                   "initial weights of seed 0)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print the module and summary")
    p.set_defaults(func=run)


def example_input(spec, batch: int = 1):
    """A zero batch in PyTorch's layout: N x C x H x W for image specs, N x features for flat ones."""
    import torch

    from ..torchbuild.cnn_table import torch_dims

    return torch.zeros(batch, *torch_dims(spec.input_shape))


def summary(model, spec) -> str:
    """torchinfo's table (a real forward pass of one zero image), or a line saying why there is none."""
    import math
    import warnings

    from ..cli import need
    from ..tables import human
    from ..torchbuild.torch_cnn import physical_memory

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
    import importlib.util
    import warnings

    import torch

    from ..cli import need

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
    import json

    return {"archspec.spec": spec.title, "archspec.classes": json.dumps(trained["classes"]),
            "archspec.mean": json.dumps(trained["mean"]), "archspec.std": json.dumps(trained["std"]),
            "archspec.preprocess": "image N x C x H x W, float: (pixel / 255 - mean[c]) / std[c]; "
                                   "logits index archspec.classes"}


def run(args) -> int:
    from ..torchbuild import build

    if Path(args.spec).is_dir():  # a run folder: export what it trained
        from ..training.inference import InferenceError, spec_and_weights

        try:
            args.spec, args.weights = spec_and_weights(args.spec, args.weights)
        except InferenceError as exc:
            print(f"archspec compile: {exc}", file=sys.stderr)
            return 1
    spec = load_or_report(args.spec)
    if spec is None:
        return 1
    if args.code and spec.kind != "cnn":
        print(f"archspec compile: --code writes source for kind cnn; '{spec.kind}' has no generator", file=sys.stderr)
        return 2
    import torch

    torch.manual_seed(0)  # the same initial weights on every run
    model, trained = build(spec), None
    if args.weights:
        from ..training.inference import InferenceError, load_weights

        try:
            trained = load_weights(model, args.weights, spec)
        except InferenceError as exc:
            print(f"archspec compile: {exc}", file=sys.stderr)
            return 1
    if not args.quiet:
        print(model)
        print()
        print(summary(model, spec) if hasattr(spec, "input_shape") else "(no torchinfo summary: the spec has "
              "no fixed input shape)")
    if args.code:
        from ..torchbuild.codegen import generate

        text = generate(spec)
        if args.code == "-":
            print(text, end="")
        elif not write_output("compile", args.code, lambda path: Path(path).write_text(text)):
            return 1
    try:
        if args.onnx and not write_output("compile", args.onnx, lambda path: export_onnx(model, spec, path, trained)):
            return 1
    except ExportError as exc:
        print(f"archspec compile: --onnx: torch cannot export this model to ONNX: {exc}", file=sys.stderr)
        return 1
    return 0
