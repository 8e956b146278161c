"""Several processes, one run: torchrun's environment, the process group, and the collectives a run needs.

A worker started by torchrun (``archspec train --nproc N`` or ``torchrun ... -m archspec train``) finds
RANK, WORLD_SIZE, LOCAL_RANK and TORCHELASTIC_RESTART_COUNT in its environment. Each global batch of the
epoch's order is dealt between the ranks (rank r takes positions r, r + W, ...: what DistributedSampler
gives per batch, without its padding duplicates); DDP averages the gradients; scores gather every rank's
contiguous share of a split, so a report covers each sample exactly once. Everything here is a no-op for a
world of one process.
"""
from __future__ import annotations

import json
import os
import re
import signal
import time
from dataclasses import dataclass, replace
from datetime import timedelta

import torch
import torch.distributed as dist  # loaded with torch itself

DEFAULT_TIMEOUT = 600  # seconds a collective may wait for the other ranks before the run fails
FOLDER_KEY = "archspec/run_folder"  # in torchrun's store (kept across restarts): the folder this job trains in
COMM_WORDS = ("gloo", "nccl", "connection", "timed out", "timeout", "peer", "socket")


class Quiet(Exception):
    """This rank stops because rank 0 reported an error (rank 0 prints it; the others stay silent)."""


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    restarts: int = 0  # TORCHELASTIC_RESTART_COUNT: how often torchrun has restarted the worker group
    max_restarts: int = 0  # TORCHELASTIC_MAX_RESTARTS
    backend: str | None = None  # gloo or nccl once the process group is up
    device: torch.device = torch.device("cpu")  # where collectives exchange tensors
    store: object = None  # torchrun's key-value store, unprefixed: survives restarts of the group
    timeout: float = DEFAULT_TIMEOUT

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def leader(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, env=None) -> "World":
        env = os.environ if env is None else env
        if "RANK" not in env or "WORLD_SIZE" not in env:
            return cls()
        return cls(rank=int(env["RANK"]), size=int(env["WORLD_SIZE"]), local_rank=int(env.get("LOCAL_RANK", 0)),
                   restarts=int(env.get("TORCHELASTIC_RESTART_COUNT", 0)),
                   max_restarts=int(env.get("TORCHELASTIC_MAX_RESTARTS", 0)))


def init(world: World, device: torch.device, timeout: float = DEFAULT_TIMEOUT) -> World:
    """Join the process group (NCCL on CUDA, gloo otherwise); collectives then time out after ``timeout`` s.

    The group's keys live under a prefix per restart: torchrun keeps one store across restarts, and a
    restarted rank reading the previous attempt's gloo addresses would wait for a dead peer."""
    world = replace(world, timeout=timeout)
    if not world.distributed:
        return world
    limit = timedelta(seconds=timeout)
    store, _, _ = next(dist.rendezvous("env://", rank=world.rank, world_size=world.size, timeout=limit))
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, store=dist.PrefixStore(f"archspec/attempt-{world.restarts}", store),
                            rank=world.rank, world_size=world.size, timeout=limit,
                            device_id=device if device.type == "cuda" else None)
    return replace(world, backend=backend, device=device if backend == "nccl" else torch.device("cpu"),
                   store=store)


def close(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def is_comm_error(exc: BaseException) -> bool:
    """A failed or timed-out collective (a peer died or hung), as opposed to a bug in this process."""
    return isinstance(exc, dist.DistError) or (
        isinstance(exc, RuntimeError) and any(w in str(exc).lower() for w in COMM_WORDS))


def comm_failure(world: World, exc: BaseException, where: str) -> str:
    """One line: which rank, what went wrong (timeout or lost peer), where, and torch's own first sentence."""
    text = re.sub(r"^\[[^\]]*\]\s*", "", str(exc).strip())  # gloo's '[.../pair.cc:537] ' source location
    first = re.split(r"(?<=[.!])\s", text.splitlines()[0] if text else type(exc).__name__)[0]
    timed = "timed out" in first.lower() or "timeout" in first.lower()
    why = (f"a collective operation timed out after {world.timeout:g}s {where}: another worker hung or is far "
           "behind" if timed else f"lost contact with another worker {where}: it died or was killed")
    return f"rank {world.rank}: {why} ({first[:200]})"


def next_step(world: World, folder, epoch: int = 1) -> str:
    """What happens after a failure: torchrun restarts the group, or the user resumes (or, before the first
    checkpoint, starts again)."""
    if world.restarts < world.max_restarts:
        return f"torchrun restarts the workers (restart {world.restarts + 1} of {world.max_restarts})"
    if not epoch:
        return "run the command again"
    return f"continue with: archspec train --resume {folder}" + (f" --nproc {world.size}" if world.distributed else "")


# --- decisions taken on rank 0 and shared --------------------------------------------------------------
def remember(world: World, key: str, value: str) -> None:
    if world.store is not None:
        world.store.set(key, value)


def recall(world: World, key: str) -> str | None:
    """A value an earlier attempt of this torchrun job stored, or None."""
    if world.store is None or not world.store.check([key]):
        return None
    return world.store.get(key).decode()


def broadcast_bytes(world: World, data: bytes | None) -> bytes:
    """Rank 0's ``data`` on every rank."""
    if not world.distributed:
        return data
    size = torch.tensor([len(data) if world.leader else 0], dtype=torch.int64, device=world.device)
    dist.broadcast(size, 0)
    buf = (torch.frombuffer(bytearray(data), dtype=torch.uint8).to(world.device) if world.leader and size.item()
           else torch.empty(int(size.item()), dtype=torch.uint8, device=world.device))
    if size.item():
        dist.broadcast(buf, 0)
    return bytes(buf.cpu().numpy().tobytes())


def leader_decides(world: World, decide):
    """``decide()`` on rank 0 only -> (JSON-able value, bytes) on every rank. An error there is raised on
    rank 0 as itself and on the others as Quiet, so the message is printed once."""
    error = None
    if world.leader:
        try:
            value, blob = decide()
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the others know
            error, value, blob = exc, None, b""
        head = json.dumps({"error": None if error is None else str(error), "value": value}).encode()
    head = broadcast_bytes(world, head if world.leader else None)
    blob = broadcast_bytes(world, blob if world.leader else None)
    if error is not None:
        raise error
    msg = json.loads(head)
    if msg["error"] is not None:
        raise Quiet(msg["error"])
    return msg["value"], blob


def all_gather_bytes(world: World, data: bytes) -> list[bytes]:
    """Every rank's ``data`` (any lengths), in rank order."""
    if not world.distributed:
        return [data]
    size = torch.tensor([len(data)], dtype=torch.int64, device=world.device)
    sizes = [torch.zeros_like(size) for _ in range(world.size)]
    dist.all_gather(sizes, size)
    longest = max(int(s.item()) for s in sizes)
    mine = torch.zeros(longest, dtype=torch.uint8, device=world.device)
    mine[:len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else mine[:0]
    parts = [torch.empty_like(mine) for _ in range(world.size)]
    dist.all_gather(parts, mine)
    return [bytes(p[:int(s.item())].cpu().numpy().tobytes()) for p, s in zip(parts, sizes)]


def agree(world: World, mine: str, what: str) -> None:
    """Raise (on every rank) when the ranks hold different ``mine`` (e.g. data fingerprints)."""
    values = [b.decode() for b in all_gather_bytes(world, mine.encode())]
    odd = [r for r, v in enumerate(values) if v != values[0]]
    if odd:
        message = (f"rank {odd[0]} has different {what} from rank 0: every worker must see the same spec and "
                   "data (the same folder on every machine)")
        raise RuntimeError(message) if world.leader else Quiet(message)


def together(world: World, work, errors: tuple, listing=RuntimeError):
    """``work()`` on every rank (e.g. reading the data, which each machine does for itself). When it raises
    one of ``errors`` on any rank, each distinct problem is said once, by rank 0: its own exception as itself
    when every failing rank found the same, else a ``listing`` error saying which rank found what; the others
    raise Quiet. Every rank must call this (it gathers)."""
    if not world.distributed:
        return work()
    result, error = None, None
    try:
        result = work()
    except errors as exc:
        error = exc
    said = [b.decode() for b in all_gather_bytes(world, b"" if error is None else str(error).encode())]
    found = {text: [r for r, t in enumerate(said) if t == text] for text in said if text}
    if not found:
        return result
    if not world.leader:
        raise Quiet(said[world.rank] or "another rank failed")
    if error is not None and len(found) == 1:
        raise error
    raise listing("the workers found different problems:\n" + "\n".join(
        f"[rank{'s' * (len(ranks) > 1)} {', '.join(map(str, ranks))}] {text}" for text, ranks in found.items()))


# --- sharing the work ----------------------------------------------------------------------------------
def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The epoch's permutation: DistributedSampler's own (randperm seeded with seed + epoch)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))


def share(batch: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's part of a global batch (positions rank, rank + W, ...); sizes differ by at most one."""
    return batch[world.rank::world.size]


def chunk(n: int, world: World) -> slice:
    """This rank's contiguous part of n samples, for scoring (no padding, no sample twice)."""
    per = -(-n // world.size)
    return slice(min(n, world.rank * per), min(n, (world.rank + 1) * per))


def sum_rows(world: World, rows: torch.Tensor) -> list[list[float]]:
    """A (steps x k) tensor summed element-wise over the ranks, as Python floats (one host sync)."""
    if world.distributed:
        rows = rows.to(world.device)
        dist.all_reduce(rows)
    return rows.tolist()


def gather_rows(world: World, rows: torch.Tensor, n: int) -> torch.Tensor:
    """Every rank's ``chunk`` of rows (K columns, on the CPU), concatenated back into all n rows in order."""
    if not world.distributed:
        return rows
    per = -(-n // world.size)
    padded = torch.zeros((per, *rows.shape[1:]), dtype=rows.dtype, device=world.device)
    padded[:len(rows)] = rows.to(world.device)
    parts = [torch.empty_like(padded) for _ in range(world.size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:len(range(n)[chunk(n, replace(world, rank=r))])].cpu() for r, p in enumerate(parts)])


def sync_buffers(world: World, model) -> None:
    """Rank 0's buffers (batch-norm running statistics) on every rank, as DDP does before each forward."""
    if world.distributed:
        for b in model.buffers():
            dist.broadcast(b.data, 0)


# --- a test hook: make one rank die or hang at a given step --------------------------------------------
FAULT = re.compile(r"(kill|hang):(\d+):(\d+):(\d+)")


def fault(world: World, epoch: int, step: int, env=None) -> None:
    """For archspec's own fault-tolerance tests only: ARCHSPEC_TEST_FAULT="kill:1:2:3" SIGKILLs rank 1 at
    epoch 2, step 3 ("hang:..." sleeps instead); first attempt only, so that the restarted group can finish.
    Any other value is ignored."""
    match = FAULT.fullmatch((os.environ if env is None else env).get("ARCHSPEC_TEST_FAULT", ""))
    if not match or world.restarts:
        return
    action, rank, at_epoch, at_step = match.group(1), *map(int, match.groups()[1:])
    if (world.rank, epoch, step) == (rank, at_epoch, at_step):
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        while action == "hang":
            time.sleep(3600)
