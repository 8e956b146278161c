"""A training run end to end: resolve the spec, load data, build, fit with checkpoints, write reports.

One process, or one rank of a torchrun job (``distributed``): every rank trains its share of each batch;
rank 0 alone chooses the run folder, reads the checkpoint (its bytes reach the other ranks) and writes
every file. After torchrun restarts the group, rank 0 continues the folder this job started.
"""
from __future__ import annotations

import random
import time
import warnings

import numpy as np
import torch

from ..diagnostics import SpecError
from ..kinds import fact
from . import checkpoint, distributed
from .data import DataError
from .data import load as load_data
from .devices import pick_device, place, precision
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
from .loop import Batches, Console, Diverged, State, fit, optimizer_and_schedule, unwatched
from .resolve import Resolved, resolve
from .runfolder import RunFolder, parse_tensors


EQUATIONS_ONE_PROCESS = ("equation networks train in one process (a handful of float64 parameters): "
                         "--nproc and --max-restarts are for cnn specs")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def check_batch(r: Resolved, world: World) -> None:
    """The spec's batch size is the global one: it must split evenly between the processes."""
    bs, n = r.train.batch_size, world.size
    if bs % n:
        near = sorted({max(n, bs // n * n), (bs // n + 1) * n})
        raise r.error("batch-split", f"batch_size {bs} does not divide between {n} processes (each process "
                      f"takes batch_size / {n} images per step)", ("train", "batch_size"),
                      hint=f"use a multiple of {n}, e.g. {' or '.join(map(str, near))}")


def load_checked(r: Resolved, console: Console):
    """The data set, with the network's output size checked against its classes."""
    try:
        data = load_data(r.train.dataset, r.spec.input_shape, r.train.seed, r.base)
    except DataError as exc:
        raise r.error("bad-data", exc.message, exc.path, exc.hint) from None
    console.line(data.report())
    console.warn(data.warnings())
    if r.spec.train is None and r.train.dataset.type == "digits":  # nothing said what to train on
        console.warn("note: the spec has no train: block, so it trains on the built-in digits (8 x 8 images"
                     f"{' resized to ' + ' x '.join(map(str, data.shape)) if data.shape != (8, 8, 1) else ''}); "
                     "pass --data DIR for your own images (one sub-folder per class)")
    out, layers = r.spec.shapes().output, r.spec.layers
    if out != (len(data.classes),):
        last = ("layers", len(layers) - 1) + (("out_features",) if layers[-1].type == "linear" else ())
        raise r.error("classes-mismatch", f"the network ends in {' x '.join(map(str, out))} outputs but the data "
                      f"has {len(data.classes)} classes ({', '.join(data.classes[:8])}"
                      f"{', ...' if len(data.classes) > 8 else ''})", last,
                      hint=f"end with {{type: linear, out_features: {len(data.classes)}}}")
    if layers[-1].type == "softmax" and r.train.loss == "cross_entropy":
        console.warn("warning: the last layer is softmax, but cross_entropy expects raw scores (logits); "
                     "remove the softmax layer (predict applies softmax itself)")
    return data


def _model_and_optim(r: Resolved, device):
    from ..torchbuild import build

    cfg = r.train
    model = build(r.spec).to(device)
    if cfg.channels_last and len(r.spec.input_shape) == 3:
        model = model.to(memory_format=torch.channels_last)
    return (model, *optimizer_and_schedule(model, cfg, device.type))


def _plan(r: Resolved, world: World, out, resume, force) -> tuple[dict, bytes]:
    """Rank 0: the run folder, and the checkpoint bytes when continuing one. After torchrun restarted the
    group, the folder an earlier attempt chose (kept in torchrun's store) is continued."""
    prior = distributed.recall(world, FOLDER_KEY) if world.restarts else None
    if prior is not None:
        resume, out = (prior, None) if RunFolder(prior)["checkpoint"].is_file() else (None, prior)
    if resume is not None:
        folder = RunFolder(resume)
        if not folder["checkpoint"].is_file():
            raise RunError(f"{folder.path} holds no checkpoint to resume ({folder['checkpoint'].name} is missing)")
        blob, _ = read_checkpoint(folder, r, force)
    else:
        folder, blob = new_folder(r, out, force or prior is not None), b""
    distributed.remember(world, FOLDER_KEY, str(folder.path))
    return {"folder": str(folder.path), "resume": resume is not None, "made": [str(p) for p in folder.made]}, blob


def _kept(folder: RunFolder, epoch: int) -> str:
    """What a run that stops now leaves: its last checkpoint, or before the first one nothing (``_run`` removes a
    run folder it made)."""
    if epoch:
        return f"the checkpoint holds epoch {epoch}"
    return "no epoch completed" + (", so the run folder is removed" if folder.made else f" in {folder.path}")


def train(spec, data_dir=None, epochs=None, out=None, sets=(), resume=None, force=False,
          console: Console | None = None, stop_after: int | None = None, runtime: dict | None = None,
          world: World | None = None, timeout: float = distributed.DEFAULT_TIMEOUT) -> Run:
    """Train a cnn spec (path); ``resume`` continues the run folder's last complete epoch. ``runtime``:
    {"device": ..., "precision": ...} from the command line; ``world``: this process's rank in a torchrun
    job (``World.from_env()``), one process by default."""
    threads = torch.get_num_threads()
    world = world or World()
    console = console or Console()
    try:
        return _train(spec, data_dir, epochs, out, sets, resume, force, console if world.leader else
                      Console(silent=True), stop_after, runtime, world, timeout)
    finally:
        torch.set_num_threads(threads)  # train.threads applies to this run only


def _train(spec, data_dir, epochs, out, sets, resume, force, console, stop_after, runtime, world, timeout) -> Run:
    start = time.perf_counter()
    if resume is not None and world.leader and not RunFolder(resume)["checkpoint"].is_file():
        raise RunError(f"{RunFolder(resume).path} holds no checkpoint to resume "
                       f"({RunFolder(resume)['checkpoint'].name} is missing)")
    r = resolve(spec if spec is not None else RunFolder(resume)["spec"], data_dir, epochs, sets, runtime)
    if resume is not None and (done := finished(RunFolder(resume), r, force)):
        console.line(finished_line(done, r))
        return done
    if fact(r.spec.kind, "trains") == "rows":  # equation networks: one process, float64 rows
        if world.distributed:
            raise RunError(EQUATIONS_ONE_PROCESS)
        from .tabular import train as train_rows

        return train_rows(r, out, resume, force, console, stop_after, start)
    if r.train.threads:
        torch.set_num_threads(r.train.threads)
    check_batch(r, world)
    device = pick_device(r, world.local_rank)
    amp = precision(r, device)
    world = distributed.init(world, device, timeout)
    try:
        return _run(r, world, device, amp, out, resume, force, console, stop_after, start)
    except RuntimeError as exc:
        if world.distributed and distributed.is_comm_error(exc):
            raise RunError(distributed.comm_failure(world, exc, "while setting up or finishing the run")) from None
        raise
    finally:
        distributed.close(world)


def _run(r: Resolved, world: World, device, amp, out, resume, force, console: Console, stop_after, start) -> Run:
    plan, blob = distributed.leader_decides(world, lambda: _plan(r, world, out, resume, force))
    folder = RunFolder(plan["folder"], plan["made"] if world.leader else ())
    try:
        return _train_in(folder, plan, blob, r, world, device, amp, force, console, stop_after, start)
    except BaseException:
        if world.leader:
            folder.discard()  # stopped before its first checkpoint (bad data, Ctrl-C...): no empty run folder left
        raise


def _train_in(folder: RunFolder, plan, blob, r: Resolved, world: World, device, amp, force, console: Console,
              stop_after, start) -> Run:
    from torch.nn.parallel import DistributedDataParallel

    cfg = r.train
    tensors, meta = parse_tensors(blob) if plan["resume"] else ({}, {})
    seed_everything(cfg.seed)
    data, (model, opt, sched) = distributed.together(  # each rank reads the data; a problem is said once
        world, lambda: (load_checked(r, console), _model_and_optim(r, device)), (SpecError, RunError), RunError)
    console.warn(unwatched(cfg, "val" in data.splits))
    if world.rank:
        torch.manual_seed(cfg.seed + world.rank)  # same weights on every rank, its own dropout masks
    channels = data.shape[2]
    mean, std = data.stats() if cfg.dataset.normalize == "standard" else ([0.0] * channels, [1.0] * channels)
    batches = Batches(mean, std, device, len(r.spec.input_shape) == 1, cfg.channels_last)
    info = {"spec": r.resolved(), "spec_sha256": r.sha256(), "data": data.fingerprint(), "classes": data.classes,
            "mean": mean, "std": std, "threads": torch.get_num_threads(), "world_size": world.size,
            "torch": torch.__version__}
    distributed.agree(world, info["data"], "data (images, labels or split)")
    gen = torch.Generator().manual_seed(cfg.seed)
    best: dict = {}
    state = State()
    if plan["resume"]:
        distributed.leader_decides(world, lambda: (check_data(folder, meta, info, bool(force)), b""))
        state = restore(folder, tensors, meta, model, opt, sched, gen, best, world.rank, amp.scaler, cfg)
        state.resumes.append({"epoch": state.epoch, "restart": world.restarts, "world_size": world.size})
        console.line(f"resuming {folder.path} after epoch {state.epoch} of {cfg.epochs}"
                     + (f" (torchrun restart {world.restarts})" if world.restarts else ""))
        console.warn(checkpoint.retuned_note(meta, cfg, state.epoch))
    splits, where = place(data.splits, device)
    if where:
        console.line(where)
    net = model
    if world.distributed:
        # a conv weight with one input channel has a size-1 dim whose stride torch may choose either way:
        # DDP then warns that grad and bucket strides differ, though the memory layout is the same
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    procs = (f" x {world.size} processes ({world.backend}, batch {cfg.batch_size // world.size} each)"
             if world.distributed else "")
    console.line(f"training {r.spec.title}: {sum(p.numel() for p in model.parameters()):,} parameters on {device}"
                 f"{procs}{'' if cfg.precision == 'fp32' else ' in ' + cfg.precision}, {cfg.optimizer.type} lr "
                 f"{cfg.optimizer.lr:g}, batch {cfg.batch_size}, {cfg.epochs} epochs; run folder {folder.path}")

    def on_epoch(st: State) -> None:
        ranks = checkpoint.rank_rng_states(world)  # collective: every rank's dropout stream
        if world.leader:
            checkpoint.save(folder["checkpoint"], model, opt, sched, st, gen, best, info, ranks, amp.scaler)
            folder.write_history(st.history)

    try:
        fit(model, opt, sched, splits, batches, cfg, state, gen, best, console, on_epoch, stop_after,
            world=world, amp=amp, net=net, width=len(data.classes))
    except Diverged as exc:
        if not world.leader:
            raise Quiet(str(exc)) from None
        folder.write_history(state.history)
        raise RunError(f"{exc}\n    {_kept(folder, state.epoch)}" + (f" (run folder {folder.path})" if state.epoch
                                                                      else "")) from None
    except KeyboardInterrupt:
        if not world.leader:
            raise Quiet("interrupted") from None
        raise RunError(f"interrupted during epoch {state.epoch + 1}; {_kept(folder, state.epoch)}"
                       + (f". Continue with: archspec train --resume {folder.path}" if state.epoch else "")) from None
    except RuntimeError as exc:
        if not (world.distributed and distributed.is_comm_error(exc)):
            raise
        then = distributed.next_step(world, folder.path, state.epoch)
        raise RunError(distributed.comm_failure(world, exc, f"during epoch {state.epoch + 1}")
                       + f"; {_kept(folder, state.epoch)}; {then}") from None
    if state.epoch < cfg.epochs and not state.stopped_early:
        return Run(folder, None, state)
    metrics = finish(r, folder, model, data, splits, batches, state, best, info, console, world, world.leader)
    metrics["seconds_total"] = time.perf_counter() - start
    if world.leader:
        folder.write_json("metrics", metrics)
    return Run(folder, metrics, state)
