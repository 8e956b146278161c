"""What a training run carries from ``session.train`` to its epochs: the run context, and the per-kind job.

A job (``imagejob.ImageJob`` for image classifiers, ``tabular.RowsJob`` for equation networks) holds the parts
that differ by kind: where it runs, the data, the network, one epoch, scoring and the report. ``session`` runs
the steps every kind shares (run folder, resume, checkpoints, interruptions) and ``loop.fit`` the epochs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .devices import Precision
from .distributed import World
from .loop import Console, State
from .resolve import Resolved
from .runfolder import RunFolder


@dataclass
class RunContext:
    """One run's settings and, once it starts, its resolved spec, device and run folder."""

    world: World
    console: Console
    out: object = None  # a new run folder's path (None: one under runs/)
    resume: object = None  # the run folder to continue
    force: bool = False
    stop_after: int | None = None  # end after this epoch as an interruption would (tests of resuming)
    start: float = 0.0  # time.perf_counter() when the run began
    r: Resolved | None = None
    device: torch.device = torch.device("cpu")
    amp: Precision | None = None
    folder: RunFolder | None = None
    plan: dict = field(default_factory=dict)  # rank 0's decision: {"folder", "resume", "made"}
    blob: bytes = b""  # the checkpoint's bytes when resuming
    saved: int = 0  # the epoch the run folder's checkpoint holds


@dataclass
class Report:
    """A kind's part of the end of a run (``finish.finish`` adds what every kind reports)."""

    metrics: dict  # metrics.json entries of this kind
    text: str  # the console's summary, before the run folder's listing
    weights: dict  # model.safetensors metadata of this kind
    curves_title: str


class Job:
    """The per-kind part of a run. ``setup`` and ``prepare`` fill the attributes; ``loop.fit`` and
    ``finish.finish`` call the rest."""

    noun = "samples"  # what a training step takes: history's images_per_second counts these
    checkpoint_every = 0.0  # seconds between checkpoints (0: every epoch); the last epoch always has one
    extra_files: tuple[str, ...] = ()  # the kind's report files, listed after curves.png

    def __init__(self, ctx: RunContext):
        self.ctx, self.cfg = ctx, ctx.r.train
        self.gen = torch.Generator().manual_seed(self.cfg.seed)  # the batch flips' stream, saved in checkpoints
        self.best: dict = {}  # early stopping's best weights
        self.model = self.opt = self.sched = None
        self.splits: dict = {}  # 'train', and 'val' and 'test' when they hold samples
        self.info: dict = {}  # what the run was made from (saved in checkpoints; checked on resume)

    def setup(self, timeout: float) -> None:
        """Where it runs: ``ctx.device`` and ``ctx.amp`` (and the process group)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """The data (its report line printed), network, optimizer, schedule and ``info``."""
        raise NotImplementedError

    def place(self) -> None:
        """After a resume restored the weights and before the first epoch (e.g. the data onto a GPU)."""

    def start_line(self) -> str:
        raise NotImplementedError

    def epoch(self, n: int) -> tuple[float, float | None, float, int]:
        """Train epoch ``n``: (mean loss, accuracy or None, seconds, samples)."""
        raise NotImplementedError

    def score(self, split: str) -> tuple[float, float | None, torch.Tensor]:
        """(mean loss, accuracy or None, outputs) of a split, in eval mode."""
        raise NotImplementedError

    def shown(self, epoch: int, epochs: int) -> bool:
        """Whether epoch's line is printed (the last epoch's always is)."""
        return True

    def line(self, h: dict, epochs: int) -> str:
        """The console's line for a history row."""
        raise NotImplementedError

    def report(self, split: str, loss: float, acc: float | None, out, state: State, restored: bool) -> Report:
        """The kind's report on the scored split; writes its own files (``extra_files``) on rank 0."""
        raise NotImplementedError
