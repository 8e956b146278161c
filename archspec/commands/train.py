"""archspec train SPEC: train the spec's network; a run folder with curves, reports, weights, checkpoints."""
from __future__ import annotations

import sys


def register(sub):
    p = sub.add_parser("train", help="train a cnn spec: run folder with curves, confusion matrix, report, weights")
    p.add_argument("spec", metavar="SPEC", nargs="?", help="spec file (optional with --resume: the run's own spec)")
    p.add_argument("--data", metavar="PATH", help="folder of class sub-folders (or train/ and test/ inside); "
                   "overrides train.dataset")
    p.add_argument("--epochs", type=int, metavar="N", help="overrides train.epochs")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<spec name>/<timestamp>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                   help="override a spec value, e.g. --set train.optimizer.lr=0.01 (short: lr=0.01, "
                   "batch_size=32); repeatable")
    p.add_argument("--resume", metavar="RUNDIR", help="continue an interrupted run from its last complete epoch")
    p.add_argument("--force", action="store_true", help="resume although the spec or data changed; "
                   "overwrite an existing --out run")
    p.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..cli import need

    if args.spec is None and args.resume is None:
        print("archspec train: give a SPEC file (or --resume RUNDIR)", file=sys.stderr)
        return 2
    if args.epochs is not None and args.epochs < 1:
        print(f"archspec train: --epochs must be a positive integer. Received: {args.epochs}", file=sys.stderr)
        return 2
    need("torch")
    from ..training.loop import Console
    from ..training.resolve import OverrideError
    from ..training.session import RunError, train

    try:
        run_ = train(args.spec, data_dir=args.data, epochs=args.epochs, out=args.out, sets=args.sets,
                     resume=args.resume, force=args.force, console=Console(quiet=args.quiet))
    except (OverrideError, RunError) as exc:
        print(f"archspec train: {exc}", file=sys.stderr)
        return 130 if str(exc).startswith("interrupted") else 1
    return 0 if run_.metrics is not None else 1
