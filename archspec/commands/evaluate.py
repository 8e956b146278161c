"""archspec evaluate RUN (or SPEC --weights FILE): the per-class report of trained weights on a data set."""
from __future__ import annotations

import json
import sys

from ..extras import need
from . import add_format


def register(sub):
    p = sub.add_parser("evaluate", help="accuracy, per-class report and confusion matrix of trained weights")
    p.add_argument("spec", metavar="SPEC_OR_RUN", help="a spec file with --weights, or a run folder (its spec "
                   "and model.safetensors)")
    p.add_argument("--weights", metavar="FILE", help="model.safetensors of a run folder (or the folder)")
    p.add_argument("--data", metavar="PATH", help="folder of the training layout (default: the spec's dataset)")
    p.add_argument("--split", choices=("test", "val", "train", "all"), default="test",
                   help="which split to score (default: test, the images the run held out; 'all' for a new folder)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                   help="override a spec value (e.g. the dataset's test_fraction)")
    p.add_argument("--out", metavar="DIR", help="also write metrics.json, classification_report.txt and "
                   "confusion_matrix.png there")
    add_format(p, ["text", "json"], "text")
    p.set_defaults(func=run)


def run(args) -> int:
    need("torch")
    # training.inference pulls in torch; after need() so that a missing torch is a MissingExtra
    from ..training.inference import InferenceError, evaluate
    from ..training.resolve import OverrideError  # start-up: the command's work loads on use

    try:
        result = evaluate(args.spec, args.weights, data_dir=args.data, split=args.split, out=args.out,
                          sets=args.sets)
    except (InferenceError, OverrideError) as exc:
        print(f"archspec evaluate: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps({k: v for k, v in result.items() if k not in ("report", "data_report")}, indent=2))
    else:
        print(result["data_report"], file=sys.stderr)
        print(result["report"])
    return 0
