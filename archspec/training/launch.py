"""``archspec train SPEC --nproc N``: N workers on this machine through torch's elastic launcher (torchrun).

Before launching, the spec, the batch split, the device and the run folder are checked here once, so a
mistake is reported once instead of by every worker and every restart. The run folder is chosen here and
passed to the workers: after a worker dies, torchrun restarts the group and rank 0 continues that folder
from its last complete checkpoint. Rendezvous is torchrun's c10d backend on a free local port (what
``torchrun --standalone`` does); the workers add the restart count to their store keys, without which a
restarted group can read the dead group's addresses and fail to connect.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import sys
import uuid
from argparse import Namespace

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

from ..kinds import fact
from .devices import pick_device, precision
from .distributed import DEFAULT_TIMEOUT, World
from .folders import RunError, finished, finished_line, new_folder, read_checkpoint
from .imagejob import check_batch
from .resolve import OverrideError, resolve
from .runfolder import RunFolder, parse_tensors
from .session import Run
from .tabular import EQUATIONS_ONE_PROCESS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_args(args, folder: RunFolder, resume: bool) -> list[str]:
    """The command line of each worker: this command's own flags, with the chosen run folder."""
    out = ["-u", "-m", "archspec", "train"] + ([args.spec] if args.spec else [])
    out += ["--resume", str(folder.path)] if resume else ["--out", str(folder.path)]
    for flag, value in (("--data", args.data), ("--epochs", args.epochs), ("--device", args.device),
                        ("--precision", args.precision), ("--timeout", args.timeout)):
        if value is not None:
            out += [flag, str(value)]
    for item in args.sets:
        out += ["--set", item]
    return out + (["--force"] if args.force else []) + (["--quiet"] if args.quiet else [])


def preflight(args):
    """(resolved spec, run folder, resuming?) or an error: what every worker would otherwise report."""
    if args.resume is not None and not RunFolder(args.resume)["checkpoint"].is_file():
        raise RunError(f"{RunFolder(args.resume).path} holds no checkpoint to resume "
                       f"({RunFolder(args.resume)['checkpoint'].name} is missing)")
    r = resolve(args.spec if args.spec is not None else RunFolder(args.resume)["spec"], args.data, args.epochs,
                args.sets, {"device": args.device, "precision": args.precision})
    if fact(r.spec.kind, "trains") == "rows":
        raise RunError(EQUATIONS_ONE_PROCESS)
    check_batch(r, World(size=args.nproc or 1))
    device = pick_device(r, (args.nproc or 1) - 1, claim=False)
    precision(r, device)
    if device.type == "mps" and (args.nproc or 1) > 1:
        raise RunError("device mps trains in one process: torch has no collective backend for Apple GPUs "
                       "(use --nproc 1, or --device cpu)")
    if args.resume is not None:
        folder = RunFolder(args.resume)
        read_checkpoint(folder, r, args.force)
        return r, folder, True
    return r, new_folder(r, args.out, args.force), False


def checkpoint_epoch(folder: RunFolder) -> int | None:
    try:
        return parse_tensors(folder["checkpoint"].read_bytes())[1]["state"]["epoch"]
    except Exception:  # noqa: BLE001 - an unreadable or missing checkpoint: no epoch to name
        return None


def left(folder: RunFolder, nproc: int) -> str:
    """What failed workers leave: the last checkpoint to resume, or before the first one nothing (a run folder
    this launch made is removed)."""
    epoch = checkpoint_epoch(folder)
    if epoch is not None:
        return (f"{folder.path} keeps the checkpoint of epoch {epoch}; continue with: archspec train --resume "
                f"{folder.path} --nproc {nproc}")
    return "no epoch completed" + (", so the run folder is removed" if folder.discard() else f" in {folder.path}")


def describe(failures: dict) -> str:
    """'rank 1 killed by SIGKILL; rank 0 exit code 1' from torchrun's ProcessFailure records."""
    parts = []
    for rank, f in sorted(failures.items()):
        how = f"killed by {f.signal_name()}" if f.exitcode < 0 else f"exit code {f.exitcode}"
        parts.append(f"rank {rank} {how}")
    return "; ".join(parts)


def launch(args) -> int:
    """``archspec train --nproc``: the exit status; a mistake found before launching is printed here."""
    try:
        return start(args)[1]
    except (RunError, OverrideError) as exc:  # a SpecError propagates: the command prints it located
        print(f"archspec train: {exc}", file=sys.stderr)
        return 1


def start(args) -> tuple[RunFolder, int]:
    """Check (raising RunError, OverrideError, SpecError), choose the run folder, launch the workers and
    wait for them: (run folder, exit status)."""
    nproc = args.nproc or 1
    r, folder, resume = preflight(args)
    if resume and (done := finished(folder, r, args.force)):
        if not args.quiet:
            print(finished_line(done, r))
        return folder, 0
    threads = os.environ.get("OMP_NUM_THREADS")
    if threads is None and not r.train.threads:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))  # cores shared by the workers
    try:
        return folder, _launch(args, folder, resume, nproc)
    finally:
        if threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)


def _launch(args, folder: RunFolder, resume: bool, nproc: int) -> int:
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"archspec-{uuid.uuid4().hex[:12]}",
                          rdzv_backend="c10d", rdzv_endpoint=f"127.0.0.1:{free_port()}", local_addr="127.0.0.1",
                          rdzv_configs={"timeout": int(args.timeout or DEFAULT_TIMEOUT)},
                          max_restarts=args.max_restarts, monitor_interval=0.1, start_method="spawn")
    if not args.quiet:
        print(f"launching {nproc} worker process(es) (torchrun, up to {args.max_restarts} restart(s)); "
              f"run folder {folder.path}", flush=True)
    # torchrun logs each failed worker as 'E... failed (exitcode: 1) local_rank: 0 ...'; the summary below says it
    logging.getLogger("torch.distributed.elastic.multiprocessing.api").setLevel(logging.CRITICAL)
    try:
        elastic_launch(config, sys.executable)(*worker_args(args, folder, resume))
    except ChildFailedError as exc:
        print(f"archspec train: the workers failed ({describe(exc.failures)}) after {args.max_restarts} "
              f"restart(s) allowed. {left(folder, nproc).capitalize()}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SignalException):
        print(f"archspec train: interrupted; {left(folder, nproc)}", file=sys.stderr)
        return 130
    try:
        metrics = json.loads(folder["metrics"].read_text())
    except (OSError, ValueError):
        print(f"archspec train: the workers ended without writing {folder['metrics']}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"launcher: {nproc} process(es), {metrics.get('restarts', 0)} restart(s) (up to "
              f"{args.max_restarts} allowed); run folder {folder.path}")
    return 0


def train_processes(spec, data_dir=None, epochs=None, out=None, sets=(), resume=None, force=False, quiet=False,
                    device=None, precision=None, nproc=None, max_restarts=0, timeout=None):
    """``archspec.train(..., nproc=N)``: launch as the command does; a Run of the finished folder."""
    args = Namespace(spec=None if spec is None else str(spec), data=data_dir, epochs=epochs, out=out, sets=list(sets),
                     resume=resume, force=force, quiet=quiet, device=device, precision=precision, nproc=nproc,
                     max_restarts=max_restarts, timeout=timeout)
    folder, code = start(args)
    if code:
        raise RunError(f"training with {nproc or 1} process(es) failed (exit status {code}; the workers' messages "
                       f"are above); run folder {folder.path}")
    return Run(folder, json.loads(folder["metrics"].read_text()), None)
