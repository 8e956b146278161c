"""A training run end to end, for every kind: resolve the spec, prepare the kind's job (``context.Job``), fit
with checkpoints, write reports.

One process, or one rank of a torchrun job (``distributed``): every rank trains its share of each batch;
rank 0 alone chooses the run folder, reads the checkpoint (its bytes reach the other ranks) and writes
every file. After torchrun restarts the group, rank 0 continues the folder this job started.
"""
from __future__ import annotations

import random
import time

import numpy as np
import torch

from ..kinds import fact
from . import checkpoint, distributed
from .context import Job, RunContext
from .distributed import FOLDER_KEY, Quiet, World
from .finish import finish
from .folders import (
    Run,
    RunError,
    check_data,
    finished,
    finished_line,
    new_folder,
    read_checkpoint,
    restore,
)
from .imagejob import ImageJob
from .loop import Console, Diverged, State, fit, unwatched
from .resolve import resolve
from .runfolder import RunFolder, parse_tensors
from .tabular import RowsJob

JOBS: dict[str, type[Job]] = {"images": ImageJob, "rows": RowsJob}  # by KINDS' "trains" fact


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _plan(ctx: RunContext) -> tuple[dict, bytes]:
    """Rank 0: the run folder, and the checkpoint bytes when continuing one. After torchrun restarted the
    group, the folder an earlier attempt chose (kept in torchrun's store) is continued."""
    world, resume, out = ctx.world, ctx.resume, ctx.out
    prior = distributed.recall(world, FOLDER_KEY) if world.restarts else None
    if prior is not None:
        resume, out = (prior, None) if RunFolder(prior)["checkpoint"].is_file() else (None, prior)
    if resume is not None:
        folder = RunFolder(resume)
        if not folder["checkpoint"].is_file():
            raise RunError(f"{folder.path} holds no checkpoint to resume ({folder['checkpoint'].name} is missing)")
        blob, _ = read_checkpoint(folder, ctx.r, ctx.force)
    else:
        folder, blob = new_folder(ctx.r, out, ctx.force or prior is not None), b""
    distributed.remember(world, FOLDER_KEY, str(folder.path))
    return {"folder": str(folder.path), "resume": resume is not None, "made": [str(p) for p in folder.made]}, blob


def _kept(ctx: RunContext, state: State) -> str:
    """What a run that stops now leaves: its last checkpoint, or before the first one nothing (``_run`` removes a
    run folder it made)."""
    if ctx.saved:
        return f"the checkpoint holds epoch {ctx.saved}"
    return (("no epoch checkpointed yet" if state.epoch else "no epoch completed")
            + (", so the run folder is removed" if ctx.folder.made else f" in {ctx.folder.path}"))


def train(spec, data_dir=None, epochs=None, out=None, sets=(), resume=None, force=False,
          console: Console | None = None, stop_after: int | None = None, runtime: dict | None = None,
          world: World | None = None, timeout: float = distributed.DEFAULT_TIMEOUT) -> Run:
    """Train a spec (path) of a kind that trains (cnn, equations); ``resume`` continues the run folder's last
    complete epoch. ``runtime``: {"device": ..., "precision": ...} from the command line; ``world``: this
    process's rank in a torchrun job (``World.from_env()``), one process by default."""
    threads = torch.get_num_threads()
    world = world or World()
    console = console or Console()
    ctx = RunContext(world, console if world.leader else Console(silent=True), out, resume, force, stop_after,
                     time.perf_counter())
    try:
        return _train(ctx, spec, data_dir, epochs, sets, runtime, timeout)
    finally:
        torch.set_num_threads(threads)  # train.threads applies to this run only


def _train(ctx: RunContext, spec, data_dir, epochs, sets, runtime, timeout) -> Run:
    resume = ctx.resume
    if resume is not None and ctx.world.leader and not RunFolder(resume)["checkpoint"].is_file():
        raise RunError(f"{RunFolder(resume).path} holds no checkpoint to resume "
                       f"({RunFolder(resume)['checkpoint'].name} is missing)")
    ctx.r = resolve(spec if spec is not None else RunFolder(resume)["spec"], data_dir, epochs, sets, runtime)
    if resume is not None and (done := finished(RunFolder(resume), ctx.r, ctx.force)):
        ctx.console.line(finished_line(done, ctx.r))
        return done
    job = JOBS[fact(ctx.r.spec.kind, "trains")](ctx)
    job.setup(timeout)
    try:
        return _run(ctx, job)
    except RuntimeError as exc:
        if ctx.world.distributed and distributed.is_comm_error(exc):
            raise RunError(distributed.comm_failure(ctx.world, exc, "while setting up or finishing the run")) from None
        raise
    finally:
        distributed.close(ctx.world)


def _run(ctx: RunContext, job: Job) -> Run:
    ctx.plan, ctx.blob = distributed.leader_decides(ctx.world, lambda: _plan(ctx))
    ctx.folder = RunFolder(ctx.plan["folder"], ctx.plan["made"] if ctx.world.leader else ())
    try:
        return _train_in(ctx, job)
    except BaseException:
        if ctx.world.leader:
            ctx.folder.discard()  # stopped before its first checkpoint (bad data, Ctrl-C...): no empty run folder left
        raise


def _train_in(ctx: RunContext, job: Job) -> Run:
    state = _start(ctx, job)
    _fit(ctx, job, state)
    if state.epoch < ctx.r.train.epochs and not state.stopped_early:
        return Run(ctx.folder, None, state)
    return Run(ctx.folder, finish(ctx, job, state), state)


def _start(ctx: RunContext, job: Job) -> State:
    """The job's data and network, restored from the checkpoint when resuming: the State to continue from."""
    world, console, folder, cfg = ctx.world, ctx.console, ctx.folder, ctx.r.train
    tensors, meta = parse_tensors(ctx.blob) if ctx.plan["resume"] else ({}, {})
    seed_everything(cfg.seed)
    job.prepare()
    console.warn(unwatched(cfg, "val" in job.splits))
    state = State()
    if ctx.plan["resume"]:
        distributed.leader_decides(world, lambda: (check_data(folder, meta, job.info, bool(ctx.force)), b""))
        state = restore(folder, tensors, meta, job.model, job.opt, job.sched, job.gen, job.best, world.rank,
                        ctx.amp.scaler, cfg)
        state.resumes.append({"epoch": state.epoch, "restart": world.restarts, "world_size": world.size})
        console.line(f"resuming {folder.path} after epoch {state.epoch} of {cfg.epochs}"
                     + (f" (torchrun restart {world.restarts})" if world.restarts else ""))
        console.warn(checkpoint.retuned_note(meta, cfg, state.epoch))
    ctx.saved = state.epoch
    job.place()
    console.line(job.start_line())
    return state


def _fit(ctx: RunContext, job: Job, state: State) -> None:
    """``loop.fit`` with a checkpoint after each epoch (at most every ``job.checkpoint_every`` seconds, and after
    the last); a divergence, Ctrl-C or lost worker becomes a RunError saying what the run folder holds."""
    world, folder = ctx.world, ctx.folder
    last_save = time.monotonic()

    def on_epoch(st: State, last: bool) -> None:
        nonlocal last_save
        if not last and time.monotonic() - last_save < job.checkpoint_every:
            return  # the same on every rank: only rows (one process) wait between checkpoints
        ranks = checkpoint.rank_rng_states(world)  # collective: every rank's dropout stream
        if world.leader:
            checkpoint.save(folder["checkpoint"], job.model, job.opt, job.sched, st, job.gen, job.best, job.info,
                            ranks, ctx.amp.scaler)
            folder.write_history(st.history)
        ctx.saved, last_save = st.epoch, time.monotonic()

    try:
        fit(job, state, ctx.console, on_epoch, ctx.stop_after)
    except Diverged as exc:
        if not world.leader:
            raise Quiet(str(exc)) from None
        folder.write_history(state.history)
        raise RunError(f"{exc}\n    {_kept(ctx, state)}" + (f" (run folder {folder.path})" if ctx.saved else "")) \
            from None
    except KeyboardInterrupt:
        if not world.leader:
            raise Quiet("interrupted") from None
        raise RunError(f"interrupted during epoch {state.epoch + 1}; {_kept(ctx, state)}"
                       + (f". Continue with: archspec train --resume {folder.path}" if ctx.saved else "")) from None
    except RuntimeError as exc:
        if not (world.distributed and distributed.is_comm_error(exc)):
            raise
        then = distributed.next_step(world, folder.path, ctx.saved)
        raise RunError(distributed.comm_failure(world, exc, f"during epoch {state.epoch + 1}")
                       + f"; {_kept(ctx, state)}; {then}") from None
