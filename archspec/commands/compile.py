"""archspec compile SPEC: the torch module, its torchinfo summary, PyTorch source and ONNX."""
from __future__ import annotations

import sys
from pathlib import Path

from ..kinds import capability
from ..torchbuild import build
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


def run(args) -> int:
    from ..torchbuild.export import ExportError, export_onnx, summary  # start-up: the command's work loads on use

    if Path(args.spec).is_dir():  # a run folder: export what it trained
        from ..training.inference import InferenceError, spec_and_weights  # pulls in torch: only for a run folder

        try:
            args.spec, args.weights = spec_and_weights(args.spec, args.weights)
        except InferenceError as exc:
            print(f"archspec compile: {exc}", file=sys.stderr)
            return 1
    spec = load_or_report(args.spec)
    if spec is None:
        return 1
    generate = capability(spec.kind, "codegen")
    if args.code and generate is None:
        print(f"archspec compile: --code writes source for kind cnn; '{spec.kind}' has no generator", file=sys.stderr)
        return 2
    import torch  # torch only when a model is built: the CLI must start without it

    torch.manual_seed(0)  # the same initial weights on every run
    model, trained = build(spec), None
    if args.weights:
        from ..training.inference import InferenceError, load_weights  # pulls in torch (numpy, safetensors)

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
