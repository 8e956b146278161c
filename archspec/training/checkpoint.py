"""Checkpoints for bit-identical resume: one safetensors file, tensors plus a JSON metadata entry.

Tensors: ``model.*`` (weights and buffers), ``optim.<i>.<name>`` (optimizer
state), ``best.*`` (early stopping's best weights), ``rng.torch``,
``rng.data`` (the generator that flips batches; the order comes from seed + epoch), ``rng.cuda.<i>``, and for
the other ranks of a multi-process run ``rng.torch.rank<r>`` (``rng.cuda.rank<r>``).
JSON: the loop State, optimizer and scheduler scalars, numpy and Python RNG
states, and what the run was made from (resolved spec, data fingerprint).
"""
from __future__ import annotations

import random
from dataclasses import asdict

import numpy as np
import torch

from .distributed import all_gather_bytes
from .loop import State, retune
from .runfolder import load_tensors, save_tensors

FORMAT = 1


def _split_optimizer(sd: dict) -> tuple[dict, dict]:
    """torch optimizer state_dict -> (tensors, JSON-able rest)."""
    tensors, state = {}, {}
    for idx, entries in sd["state"].items():
        state[str(idx)] = {}
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{name}"] = value
            else:
                state[str(idx)][name] = value
    return tensors, {"state": state, "param_groups": sd["param_groups"]}


def _join_optimizer(tensors: dict, meta: dict) -> dict:
    state = {int(i): dict(v) for i, v in meta["state"].items()}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _keep_fused(sd: dict, opt) -> dict:
    """``sd`` with the fused step kept where ``opt`` was built fused (on CUDA). torch takes the checkpoint's
    ``fused`` flag, but whether fp16's GradScaler hands the step its scale was fixed when ``opt`` was built:
    an unfused (CPU) checkpoint resumed there in fp16 failed every step. A fused checkpoint stays fused."""
    if opt.defaults.get("fused"):
        for group in sd["param_groups"]:
            group["fused"] = True
    return sd


def rng_states(gen: torch.Generator) -> tuple[dict, dict]:
    tensors = {"rng.torch": torch.get_rng_state(), "rng.data": gen.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors.update({f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    name, keys, pos, has_gauss, cached = np.random.get_state()
    py = random.getstate()
    return tensors, {"numpy": [name, keys.tolist(), pos, has_gauss, cached], "python": [py[0], list(py[1]), py[2]]}


def set_rng_states(tensors: dict, meta: dict, gen: torch.Generator) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    gen.set_state(tensors["rng.data"])
    cuda = [tensors[f"rng.cuda.{i}"] for i in range(len(tensors)) if f"rng.cuda.{i}" in tensors]
    if cuda and torch.cuda.is_available():  # saved for every GPU of the machine; this one may have fewer
        torch.cuda.set_rng_state_all(cuda[:torch.cuda.device_count()])
    name, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))


def rank_rng_states(world) -> dict:
    """Every rank's torch (and CUDA) RNG state, for rank 0 to save: ``rng.torch.rank<r>`` (r >= 1).
    Collective: all ranks call it."""
    if not world.distributed:
        return {}
    out = {}
    mine = {"torch": torch.get_rng_state()}
    if world.device.type == "cuda":
        mine["cuda"] = torch.cuda.get_rng_state(world.device)
    for name, state in mine.items():
        for r, raw in enumerate(all_gather_bytes(world, state.numpy().tobytes())):
            if r:
                out[f"rng.{name}.rank{r}"] = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
    return out


def save(path, model, opt, sched, state: State, gen, best: dict, info: dict, ranks: dict | None = None,
         scaler=None) -> None:
    """Everything needed to continue exactly where this epoch ended; written atomically."""
    opt_tensors, opt_meta = _split_optimizer(opt.state_dict())
    rng_tensors, rng_meta = rng_states(gen)
    tensors = {**{f"model.{k}": v for k, v in model.state_dict().items()}, **opt_tensors, **rng_tensors,
               **{f"best.{k}": v for k, v in best.items()}, **(ranks or {})}
    meta = {"format": FORMAT, "state": asdict(state), "optimizer": opt_meta,
            "scheduler": sched.state_dict() if sched is not None else None, "rng": rng_meta,
            "scaler": scaler.state_dict() if scaler is not None else None, **info}
    save_tensors(path, tensors, meta)


def load(path) -> tuple[dict, dict]:
    """(tensors, metadata) of a checkpoint; raises runfolder.WeightsError when unreadable."""
    return load_tensors(path)


def retuned(meta: dict, cfg) -> list[str]:
    """What a forced resume changed in how the run learns ('optimizer', 'schedule'): the spec's new values
    apply instead of the checkpoint's. A cosine schedule also changes with the number of epochs."""
    old, new = (meta.get("spec") or {}).get("train") or {}, cfg.model_dump(mode="json")
    out = [k for k in ("optimizer", "schedule") if k in old and old[k] != new[k]]
    if not out and (new["schedule"] or {}).get("type") == "cosine" and old.get("epochs") != new["epochs"]:
        out.append("schedule")
    return out


def retuned_note(meta: dict, cfg, epoch: int) -> str:
    """The console's note on a forced resume that changed the optimizer or schedule ('' when none changed)."""
    changed = retuned(meta, cfg)
    if not changed:
        return ""
    old = meta["spec"]["train"]["optimizer"]["type"]
    fresh = f" ({old} -> {cfg.optimizer.type}: the optimizer state starts afresh)" if old != cfg.optimizer.type else ""
    verb = "apply" if len(changed) > 1 else "applies"
    return f"note: the spec's {' and '.join(changed)} {verb} from epoch {epoch + 1} on{fresh}"


def restore(tensors: dict, meta: dict, model, opt, sched, gen, best: dict, rank: int = 0, scaler=None,
            cfg=None) -> State:
    """Put model, optimizer, scheduler, RNGs (this rank's) and early-stopping memory back; returns the
    loop State. ``cfg``: the train block resumed with; where it changed the optimizer or schedule (a forced
    resume) its values apply, and another type of optimizer starts with fresh state."""
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    changed = retuned(meta, cfg) if cfg is not None else []
    if "optimizer" not in changed or meta["spec"]["train"]["optimizer"]["type"] == cfg.optimizer.type:
        opt.load_state_dict(_keep_fused(_join_optimizer(tensors, meta["optimizer"]), opt))
    if sched is not None and meta["scheduler"] is not None and not changed:
        sched.load_state_dict(meta["scheduler"])
    best.clear()
    best.update({k[5:]: v for k, v in tensors.items() if k.startswith("best.")})
    set_rng_states(tensors, meta["rng"], gen)
    if rank and f"rng.torch.rank{rank}" in tensors:  # a rank of the same world size: its own dropout stream
        torch.set_rng_state(tensors[f"rng.torch.rank{rank}"])
        if f"rng.cuda.rank{rank}" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors[f"rng.cuda.rank{rank}"])
    if scaler is not None and meta.get("scaler"):
        scaler.load_state_dict(meta["scaler"])
    state = State(**meta["state"])
    if changed:
        retune(opt, sched, cfg, state.epoch)
    return state
