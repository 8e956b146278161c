"""archspec predict RUN IMAGE... (or SPEC --weights FILE IMAGE...): the class and probabilities of each image."""
from __future__ import annotations

import json
import sys

from ..diagnostics import printable
from ..extras import need
from . import add_format, int_in


def register(sub):
    p = sub.add_parser("predict", help="classify image files (or folders of them) with trained weights")
    p.add_argument("spec", metavar="SPEC_OR_RUN", help="a spec file with --weights, or a run folder (its spec "
                   "and model.safetensors)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files, or folders (every file below them)")
    p.add_argument("--weights", metavar="FILE", help="model.safetensors of a run folder (or the folder)")
    p.add_argument("--top", type=int_in(1), default=3, metavar="K", help="show the K most likely classes (default 3)")
    add_format(p, ["text", "json"], "text")
    p.set_defaults(func=run)


def run(args) -> int:
    need("torch")
    # training.inference pulls in torch; after need() so that a missing torch is a MissingExtra
    from ..training.inference import InferenceError, predict

    try:
        results = predict(args.spec, args.weights, args.images, top=args.top)
    except InferenceError as exc:
        print(f"archspec predict: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "error" in r:
                print(f"{printable(r['image'])}: error: {r['error']}", file=sys.stderr)
                continue
            rest = ", ".join(f"{t['class']} {t['probability']:.3f}" for t in r["top"][1:])
            print(f"{printable(r['image'])}: {r['class']} {r['probability']:.3f}" + (f"  ({rest})" if rest else ""))
    return 1 if any("error" in r for r in results) else 0
