"""Run folders that a run starts or continues: a new folder, the checks before resuming, a run already complete."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import yaml

from ..diagnostics import ArchspecError
from . import checkpoint
from .devices import RUNTIME_KEYS
from .loop import State
from .resolve import Resolved, differences
from .runfolder import FolderError, RunFolder, WeightsError, load_tensors, parse_tensors


CHECKPOINT_KEYS = ("spec", "state", "optimizer", "rng")  # metadata objects a resume reads
COSINE_EPOCHS = " (a cosine schedule spans the planned epochs: --force replans it over the new number)"


class RunError(ArchspecError):
    """A run cannot start or continue (message says why and what to do)."""


@dataclass
class Run:
    folder: RunFolder
    metrics: dict | None  # None when the run stopped before finishing (stop_after)
    state: State

    def __repr__(self) -> str:  # a notebook shows this: the folder and the result, not every metric
        m = self.metrics
        if m is None:
            return f"Run({str(self.folder.path)!r}, unfinished)"
        split = m.get("report_split") or "test"  # the split the report scored (test, else val or train)
        score = (f"{split} accuracy {m['test_accuracy']:.1%}" if m.get("test_accuracy") is not None
                 else f"{split} loss {m['test_loss']:.4g}" if m.get("test_loss") is not None else "not scored")
        return f"Run({str(self.folder.path)!r}, {len(m.get('history', []))} epochs, {score})"


def refuse(folder: RunFolder, problems: list[str], force: bool) -> None:
    if problems and not force:
        raise RunError(f"refusing to resume {folder.path}: it was started from a different spec or data\n"
                       + "\n".join(problems[:20]) + "\n    hint: pass --force to continue anyway")


def spec_changes(old, new) -> list[str]:
    """What changed in the spec, leaving out where it runs (device, precision, threads may change on resume)
    and the number of epochs (train longer), unless a cosine schedule planned its curve over them."""
    free = [f"train.{k}:" for k in RUNTIME_KEYS]
    cosine = ((new or {}).get("train", {}).get("schedule") or {}).get("type") == "cosine"
    if not cosine:
        free.append("train.epochs:")
    return [f"  spec changed: {d}" + (COSINE_EPOCHS if d.startswith("train.epochs:") else "")
            for d in differences(old, new) if not d.startswith(tuple(free))]


def saved_state(meta: dict) -> State:
    """The loop State a checkpoint's metadata holds; TypeError or ValueError when it holds none."""
    state = State(**meta["state"])
    if type(state.epoch) is not int or state.epoch < 0 or not isinstance(state.history, list):
        raise ValueError(f"its state is not one of a run: epoch {state.epoch!r}")
    return state


def finished(folder: RunFolder, r: Resolved, force: bool) -> Run | None:
    """The run being resumed when it has nothing left to train (its epochs done or stopped early, and its
    report written), read back without touching its files; else None (or RunError if the spec changed)."""
    try:
        meta = load_tensors(folder["checkpoint"], tensors=False)[1]
        state = saved_state(meta)
        if state.epoch < r.train.epochs and not state.stopped_early:
            return None
    except (WeightsError, KeyError, TypeError, ValueError):
        return None  # resuming reports what is wrong with the checkpoint
    try:  # not a FIFO (reading it would wait for a writer) and a JSON object
        metrics = json.loads(folder["metrics"].read_text()) if folder["metrics"].is_file() else None
    except (OSError, ValueError):
        metrics = None
    if not isinstance(metrics, dict):
        return None  # the run stopped while finishing: resuming scores it and writes its reports
    refuse(folder, spec_changes(meta.get("spec"), r.resolved()), force)
    return Run(folder, metrics, state)


def finished_line(run: Run, r: Resolved) -> str:
    st = run.state
    how = (f"stopped early after epoch {st.epoch} (no validation improvement)" if st.stopped_early
           else f"trained all {st.epoch} epochs")
    force = " --force" + COSINE_EPOCHS if r.train.schedule and r.train.schedule.type == "cosine" else ""
    more = "" if st.stopped_early else f"; to train longer: archspec train --resume {run.folder.path} --epochs N{force}"
    return f"{run.folder.path} is complete ({how}); nothing left to train{more}"


def read_checkpoint(folder: RunFolder, r: Resolved, force: bool) -> tuple[bytes, dict]:
    """The checkpoint's bytes, after refusing (before any data is loaded) when the spec changed. When the
    run is to train longer (or shorter), its spec.yaml is rewritten to say how long."""
    try:
        folder.clean_temp()
        blob = folder["checkpoint"].read_bytes()
        _, meta = parse_tensors(blob, str(folder["checkpoint"]))
    except (OSError, WeightsError) as exc:
        raise RunError(f"cannot resume: {exc}") from None
    refuse(folder, spec_changes(meta.get("spec"), r.resolved()), force)
    for key in CHECKPOINT_KEYS:  # a forced resume reads them before restoring
        if not isinstance(meta.get(key), dict):
            raise RunError(f"cannot resume: {folder['checkpoint']} is damaged (its {key} is missing or not a JSON "
                           "object)")
    try:
        saved_state(meta)
    except (TypeError, ValueError) as exc:
        raise RunError(f"cannot resume: {folder['checkpoint']} is damaged ({exc})") from None
    if meta["spec"].get("train", {}).get("epochs") != r.train.epochs:
        write_spec(folder, r)
    return blob, meta


def restore(folder: RunFolder, *args, **kwargs) -> State:
    """``checkpoint.restore``; a checkpoint that does not fit the spec, or was damaged, is a RunError."""
    try:
        return checkpoint.restore(*args, **kwargs)
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise RunError(f"cannot resume {folder.path}: the checkpoint does not fit this spec or is damaged "
                       f"({exc})") from None


def check_data(folder: RunFolder, meta: dict, info: dict, force: bool) -> None:
    if meta.get("data") != info["data"]:
        refuse(folder, ["  data changed: the images, labels or split differ from the ones the run started with"],
                force)
    for key, what in (("threads", "CPU threads"), ("world_size", "processes")):
        if meta.get(key, 1 if key == "world_size" else None) != info[key]:
            print(f"warning: the run used {meta.get(key, 1)} {what}, now {info[key]}: results may differ in the "
                  "last bits from an uninterrupted run", file=sys.stderr)


def new_folder(r: Resolved, out, force: bool) -> RunFolder:
    if out is not None and RunFolder(out)["checkpoint"].exists():
        if not force:
            raise RunError(f"{out} already holds a run; continue it with --resume {out}, choose another --out, "
                           "or pass --force to overwrite it")
        RunFolder(out)["checkpoint"].unlink()  # overwriting starts now: a restart must not resume the old run
    try:
        folder = RunFolder.create(r.spec.title, out)
    except FolderError as exc:
        raise RunError(str(exc)) from None
    try:
        write_spec(folder, r)
    except BaseException:  # e.g. a full disk: a failed start leaves nothing
        folder.discard()
        raise
    return folder


def write_spec(folder: RunFolder, r: Resolved) -> None:
    folder.write("spec", "# resolved spec of this run (overrides applied, defaults filled in)\n"
                 + yaml.safe_dump(r.resolved(), sort_keys=False))
