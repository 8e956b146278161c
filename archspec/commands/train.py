"""archspec train SPEC: train the spec's network; a run folder with curves, reports, weights, checkpoints.

``--nproc N`` starts N worker processes through torch's elastic launcher (torchrun); a process that
torchrun started (RANK and WORLD_SIZE set) trains as one rank of the job.
"""
from __future__ import annotations

import sys

from ..diagnostics import SpecError
from ..extras import need
from . import int_in


def register(sub):
    p = sub.add_parser("train", help="train a cnn spec (or an equation network with a train: block): run folder with "
                       "curves, report, weights")
    p.add_argument("spec", metavar="SPEC", nargs="?", help="spec file (optional with --resume: the run's own spec)")
    p.add_argument("--data", metavar="PATH", help="folder of class sub-folders (or train/ and test/ inside); "
                   "overrides train.dataset")
    p.add_argument("--epochs", type=int_in(1), metavar="N", help="overrides train.epochs")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<spec name>/<timestamp>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                   help="override a spec value, e.g. --set train.optimizer.lr=0.01 (short: lr=0.01, "
                   "batch_size=32, val_fraction=0.2: keys of train, its optimizer and its dataset); repeatable")
    p.add_argument("--resume", metavar="RUNDIR", help="continue an interrupted run from its last complete epoch "
                   "(with --epochs: train a finished run longer)")
    p.add_argument("--force", action="store_true", help="resume although the spec or data changed; "
                   "overwrite an existing --out run")
    p.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")
    g = p.add_argument_group("devices and processes")
    g.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"),
                   help="overrides train.device (auto: cuda when torch sees a GPU, else cpu)")
    g.add_argument("--precision", choices=("fp32", "bf16", "fp16"),
                   help="overrides train.precision; mixed precision: bf16 or fp16 on CUDA, bf16 on the CPU")
    g.add_argument("--nproc", type=int_in(1), metavar="N", help="train with N worker processes on this machine "
                   "(torchrun's launcher, DistributedDataParallel; gloo on CPU, NCCL on GPUs: one per GPU); "
                   "train.batch_size stays the global batch")
    g.add_argument("--max-restarts", type=int_in(0), default=0, metavar="K", help="with --nproc: restart the workers "
                   "up to K times when one dies; training continues from the last complete epoch")
    g.add_argument("--timeout", type=float, metavar="SECONDS", help="how long a worker waits for the others in a "
                   "collective operation before the run fails (default 600)")
    p.set_defaults(func=run)


def usage(args) -> str | None:
    """A usage problem with the flags, or None."""
    from ..training.distributed import World  # training.distributed imports torch

    if args.spec is None and args.resume is None:
        return "give a SPEC file (or --resume RUNDIR)"
    if args.timeout is not None and not args.timeout > 0:
        return f"--timeout must be a positive number of seconds. Received: {args.timeout:g}"
    if (args.nproc is not None or args.max_restarts) and World.from_env().size > 1:
        return "--nproc and --max-restarts launch workers; this process already is one (started by torchrun)"
    return None


def run(args) -> int:
    problem = usage(args)
    if problem:
        print(f"archspec train: {problem}", file=sys.stderr)
        return 2
    need("torch")
    # the trainer imports torch: after need() so that a missing torch is a MissingExtra
    from ..training.distributed import DEFAULT_TIMEOUT, Quiet, World
    from ..training.loop import Console
    from ..training.resolve import OverrideError
    from ..training.session import RunError, train

    if args.nproc is not None or args.max_restarts:
        from ..training.launch import launch  # the launcher only for --nproc/--max-restarts

        return launch(args)
    world = World.from_env()
    try:
        run_ = train(args.spec, data_dir=args.data, epochs=args.epochs, out=args.out, sets=args.sets,
                     resume=args.resume, force=args.force, console=Console(quiet=args.quiet),
                     runtime={"device": args.device, "precision": args.precision}, world=world,
                     timeout=args.timeout or DEFAULT_TIMEOUT)
    except Quiet:
        return 1  # rank 0 printed the reason
    except (OverrideError, RunError, SpecError) as exc:
        # found before the ranks could compare notes (data problems are said once, by rank 0): say whose it is
        prefix = f"[rank {world.rank}] " if world.rank else ""
        print(f"{prefix}{exc}" if isinstance(exc, SpecError) else f"archspec train: {prefix}{exc}", file=sys.stderr)
        return 130 if str(exc).startswith("interrupted") else 1
    return 0 if run_.metrics is not None else 1
