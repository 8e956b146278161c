"""The training loop: optimizers, schedules and losses from tables; batches from the uint8 cache.

``fit`` trains any kind's job (``context.Job``: image batches from ``run_epoch`` here, rows in ``tabular``)
epoch by epoch from a ``State`` (fresh or restored from a checkpoint), calls ``on_epoch`` after each complete
epoch (the run folder writes its checkpoint there); a non-finite loss stops it with ``Diverged``.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from . import distributed
from .devices import Precision

WORLD1 = distributed.World()  # one process

OPTIMIZERS = {  # (parameters, optimizer config, fused) -> optimizer
    "sgd": lambda p, o, fused: torch.optim.SGD(p, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay,
                                               nesterov=o.nesterov, fused=fused),
    "adam": lambda p, o, fused: torch.optim.Adam(p, lr=o.lr, weight_decay=o.weight_decay, fused=fused),
    "adamw": lambda p, o, fused: torch.optim.AdamW(p, lr=o.lr, weight_decay=o.weight_decay, fused=fused),
}
FUSED_ON = ("cuda",)  # one kernel per optimizer step (PyTorch's fastest); elsewhere torch's default
SCHEDULES = {  # stepped once per epoch
    "step": lambda opt, s, epochs: torch.optim.lr_scheduler.StepLR(opt, s.step_size, s.gamma),
    "cosine": lambda opt, s, epochs: torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs, s.min_lr),
}
LR_AFTER = {  # (schedule, base lr, complete epochs, planned epochs) -> the lr the schedule gives next (closed form)
    "step": lambda s, lr, done, epochs: lr * s.gamma ** (done // s.step_size),
    "cosine": lambda s, lr, done, epochs: s.min_lr + (lr - s.min_lr) * (1 + math.cos(math.pi * done / epochs)) / 2,
}
LOSSES = {  # (network output N x K, labels N) -> mean loss
    "cross_entropy": lambda out, y: F.cross_entropy(out, y),
    "mse": lambda out, y: F.mse_loss(out, F.one_hot(y, out.shape[1]).to(out.dtype)),
}


def optimizer_and_schedule(model, cfg, device_type: str = "cpu"):
    """The spec's optimizer over ``model``'s parameters, and its per-epoch schedule (or None).

    A checkpoint's optimizer state carries its own ``fused`` setting, which torch keeps on resume (an optimizer
    built fused stays fused: ``checkpoint.restore``)."""
    opt = OPTIMIZERS[cfg.optimizer.type](model.parameters(), cfg.optimizer, True if device_type in FUSED_ON else None)
    return opt, SCHEDULES[cfg.schedule.type](opt, cfg.schedule, cfg.epochs) if cfg.schedule else None


def retune(opt, sched, cfg, done: int) -> None:
    """After a forced resume whose spec changed the optimizer or schedule: the spec's values apply from epoch
    ``done`` + 1 on (the schedule continues as if it had been the spec's from the start), not the checkpoint's."""
    o = cfg.optimizer
    lr = LR_AFTER[cfg.schedule.type](cfg.schedule, o.lr, done, cfg.epochs) if cfg.schedule else o.lr
    for g in opt.param_groups:
        g.update({k: v for k, v in (("weight_decay", o.weight_decay), ("momentum", o.momentum),
                                    ("nesterov", o.nesterov)) if k in g}, lr=lr, initial_lr=o.lr)
    if sched is not None:
        sched.base_lrs, sched.last_epoch = [o.lr] * len(opt.param_groups), done


class Diverged(Exception):
    """The loss became NaN or infinite; names where, and what to try."""

    def __init__(self, epoch: int, step: int, steps: int, value: float, lr: float):
        self.epoch, self.step, self.value, self.lr = epoch, step, value, lr
        super().__init__(f"the loss became {value} at epoch {epoch}, step {step} of {steps} (learning rate {lr:g}); "
                         f"training stopped. Lower the learning rate, e.g. --set train.optimizer.lr={lr / 10:g}")


@dataclass
class State:
    """Everything besides tensors that a resumed run needs (saved as JSON in the checkpoint)."""

    epoch: int = 0  # complete epochs
    history: list[dict] = field(default_factory=list)
    best_loss: float | None = None  # early stopping: best validation loss and its epoch
    best_epoch: int | None = None
    bad_epochs: int = 0
    stopped_early: bool = False
    train_seconds: float = 0.0  # time in training steps only (for images/s)
    train_images: int = 0
    resumes: list[dict] = field(default_factory=list)  # {"epoch", "restart", "world_size"} per continuation


class Batches:
    """Index -> normalised float batch on the device, with optional flips (the uint8 cache stays put).

    On CUDA nothing here waits for the GPU: a blocking host-to-device copy (``tensor.to(device)``) and boolean
    mask indexing both synchronise the stream, so indices arrive once per epoch, masks through pinned memory,
    and flips are ``torch.where`` selections."""

    def __init__(self, mean, std, device, flat: bool, channels_last: bool):
        c = len(mean)
        std_t = torch.tensor(std).view(1, c, 1, 1)
        self.scale = (1 / (255 * std_t)).to(device)  # (x/255 - mean) / std == x * scale - shift
        self.shift = (torch.tensor(mean).view(1, c, 1, 1) / std_t).to(device)
        self.device, self.flat, self.channels_last = device, flat, channels_last

    def upload(self, t):
        """A small host tensor on the device, without waiting for the GPU's queue (pinned, non-blocking)."""
        if self.device.type != "cuda":
            return t.to(self.device)
        # contiguous first: torch copies a strided host tensor (a rank's share of a flip mask) through a
        # pageable temporary, and a copy from pageable memory waits for the GPU's queue
        return t.contiguous().pin_memory().to(self.device, non_blocking=True)

    def gather(self, x_u8, idx, idx_on_device):
        """Rows ``idx`` of a uint8 cache (``idx_on_device``: the same rows, for a cache on the GPU); from a host
        cache for a GPU, into pinned memory (copied asynchronously)."""
        if x_u8.device.type != "cpu":
            return x_u8[idx_on_device]
        if self.device.type != "cuda":
            return x_u8[idx]
        buf = torch.empty((len(idx), *x_u8.shape[1:]), dtype=x_u8.dtype, pin_memory=True)
        return torch.index_select(x_u8, 0, idx, out=buf)

    def __call__(self, x_u8, flips=()):
        """``flips``: (dim, mask) pairs from ``flip_masks``, applied to this (gathered, never cached) batch."""
        x = x_u8.to(self.device, non_blocking=True)
        for dim, mask in flips:
            x = torch.where(self.upload(mask).view(-1, 1, 1, 1), x.flip(dim), x)
        x = x.float().mul_(self.scale).sub_(self.shift)
        if self.flat:
            return x.flatten(1)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def flip_masks(n: int, augment, gen) -> list:
    """(dim, which of the n images to flip) for hflip (dim 3) and vflip (dim 2): a random half each, drawn
    for the whole global batch so that every rank draws the same and takes its share."""
    if augment is None:
        return []
    return [(dim, torch.rand(n, generator=gen) < 0.5) for on, dim in ((augment.hflip, 3), (augment.vflip, 2)) if on]


class Console:
    """Progress bar on a terminal; on pipes and files, one plain line per epoch."""

    def __init__(self, out=None, err=None, quiet: bool = False, silent: bool = False):
        self.out, self.err, self.quiet, self.silent = out or sys.stdout, err or sys.stderr, quiet or silent, silent
        self.tty = hasattr(self.err, "isatty") and self.err.isatty()
        self.raw = getattr(self.err, "raw", self.err)  # the bar's own carriage returns pass archspec.terminal
        self._last = 0.0

    def due(self) -> bool:
        """Whether the progress bar wants fresh figures (a terminal, at most 10 times a second)."""
        return not self.quiet and self.tty and time.monotonic() - self._last >= 0.1

    def bar(self, epoch, epochs, step, steps, loss, acc, ips):
        if self.quiet or not self.tty or (not self.due() and step < steps):
            return
        self._last = time.monotonic()
        done = int(24 * step / steps)
        self.raw.write(f"\repoch {epoch}/{epochs} [{'#' * done}{'.' * (24 - done)}] {step}/{steps} "
                       f"loss {loss:.4f} acc {acc:.1%} {ips:,.0f} img/s ")
        self.raw.flush()

    def warn(self, text: str):
        """Warnings go to stderr even when quiet (not when silent: the other ranks of a multi-process run)."""
        if text and not self.silent:
            if self.tty:
                self.raw.write("\r\033[K")
            print(text, file=self.err, flush=True)

    def line(self, text: str):
        if self.tty and not self.quiet:
            self.raw.write("\r\033[K")
        if not self.quiet:
            print(text, file=self.out, flush=True)


SETTLE_EVERY = 16  # steps between host syncs of the running loss (each sync stalls a GPU's queue)


def run_epoch(model, opt, loss_fn, split, batches, cfg, gen, epoch, console, world=WORLD1,
              amp: Precision | None = None) -> tuple[float, float, float]:
    """One pass over the training split in the epoch's seeded order; returns (loss, accuracy, seconds).

    With several ranks each global batch is dealt between them and each rank's mean loss is weighted by its
    share (n_rank * W / n_batch), so DDP's average of the gradients is the gradient of the global batch's
    mean loss even when the last batch does not divide evenly.

    Per-step losses and hits stay on the device and are read back every ``SETTLE_EVERY`` steps (summed over
    the ranks: every rank reads the same figures there and takes the same decision), so a GPU is not
    stalled each step; a non-finite loss still names its exact step."""
    model.train()
    n, bs = len(split), cfg.batch_size
    steps = math.ceil(n / bs)
    order = distributed.epoch_order(n, cfg.seed, epoch)
    order_on_device = order.to(batches.device)  # one copy per epoch, not a stalling copy per step
    augment = cfg.dataset.augment if (cfg.dataset.augment.hflip or cfg.dataset.augment.vflip) else None
    y_all = split.y.to(batches.device)
    amp = amp or Precision("fp32", batches.device)
    tally = Tally(world, epoch, steps, bs, n)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        distributed.fault(world, epoch, step)
        rows = slice((step - 1) * bs, step * bs)
        batch = order[rows]
        flips = flip_masks(len(batch), augment, gen)
        idx, idx_on_device = distributed.share(batch, world), distributed.share(order_on_device[rows], world)
        x = batches(batches.gather(split.x, idx, idx_on_device), [(d, distributed.share(m, world)) for d, m in flips])
        y = y_all[idx_on_device]
        with amp.autocast():
            out = model(x)
            loss = loss_fn(out, y) if len(idx) else out.sum() * 0.0
        tally.add(loss.detach().float() * len(idx), (out.argmax(1) == y).sum())
        if world.distributed:
            loss = loss * (len(idx) * world.size / len(batch))
        opt.zero_grad(set_to_none=True)
        amp.backward_step(loss, opt)
        if step % SETTLE_EVERY == 0 or step == steps or (not world.distributed and console.due()):
            tally.settle(step, opt.param_groups[0]["lr"])
            console.bar(epoch, cfg.epochs, step, steps, tally.loss, tally.accuracy,
                        tally.seen / (time.perf_counter() - start))
    return tally.loss, tally.accuracy, time.perf_counter() - start


class Tally:
    """An epoch's running loss and hits: per-step sums kept on the device until ``settle`` reads them back."""

    def __init__(self, world, epoch: int, steps: int, batch_size: int, n: int):
        self.world, self.epoch, self.steps, self.bs, self.n = world, epoch, steps, batch_size, n
        self.pending: list = []  # per unsettled step: [this rank's loss sum, its hits], a 2-vector on the device
        self.settled = 0  # steps read back
        self.total, self.correct, self.seen = 0.0, 0, 0

    def add(self, loss_sum, hits) -> None:
        self.pending.append(torch.stack([loss_sum, hits.to(loss_sum.dtype)]))

    def settle(self, step: int, lr: float) -> None:
        """Read back (and sum over ranks) the unsettled steps up to ``step``; Diverged at the first
        non-finite one."""
        rows = distributed.sum_rows(self.world, torch.stack(self.pending))  # float32: MPS has no float64
        self.pending.clear()
        for s, (loss_sum, hits) in enumerate(rows, self.settled + 1):
            size = min(self.bs, self.n - (s - 1) * self.bs)
            if not math.isfinite(loss_sum):
                raise Diverged(self.epoch, s, self.steps, loss_sum / size, lr)
            self.total += loss_sum
            self.correct += int(hits)
            self.seen += size
        self.settled = step

    @property
    def loss(self) -> float:
        return self.total / max(self.seen, 1)

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.seen, 1)


@torch.no_grad()
def predict(model, x_u8, batches, batch_size: int = 512, width: int = 0):
    """Network outputs (N x K, float32 on the CPU) for a uint8 image tensor, in eval mode."""
    model.eval()
    outs = [model(batches(x_u8[i:i + batch_size])).float().cpu() for i in range(0, len(x_u8), batch_size)]
    return torch.cat(outs) if outs else torch.zeros(0, width)


def score(model, split, batches, loss_fn, world=WORLD1, width: int = 0) -> tuple[float, float, "torch.Tensor"]:
    """(mean loss, accuracy, outputs) of a split; with several ranks each scores a contiguous part and the
    outputs are gathered, so every sample counts exactly once."""
    part = distributed.chunk(len(split), world)
    out = distributed.gather_rows(world, predict(model, split.x[part], batches, width=width), len(split))
    y = split.y.cpu()
    return float(loss_fn(out, y)), float((out.argmax(1) == y).float().mean()), out


def early_stop(state: State, val_loss: float, rule, model, best: dict) -> bool:
    """Track the best validation loss; True when patience has run out. ``best`` holds its weights."""
    if state.best_loss is None or val_loss < state.best_loss - rule.min_delta:
        state.best_loss, state.best_epoch, state.bad_epochs = val_loss, state.epoch, 0
        if rule.restore_best:
            best.clear()
            best.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        return False
    state.bad_epochs += 1
    return state.bad_epochs >= rule.patience


def unwatched(cfg, has_val: bool) -> str:
    """A warning when early stopping has no validation loss to watch (it would silently never stop)."""
    if cfg.early_stopping is None or has_val:
        return ""
    return (f"warning: early_stopping watches the validation loss, but there is no validation split "
            f"(val_fraction is 0): all {cfg.epochs} epochs train")


def fit(job, state: State, console: Console, on_epoch=None, stop_after: int | None = None) -> State:
    """Train ``job`` (a ``context.Job``) from ``state.epoch`` to its epochs (or early stop); ``on_epoch(state,
    last)`` after each complete epoch writes the checkpoint. ``stop_after`` ends after that epoch as an
    interruption would (for tests of resuming)."""
    cfg, opt, sched = job.cfg, job.opt, job.sched
    while state.epoch < cfg.epochs and not state.stopped_early:
        epoch = state.epoch + 1
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        loss, acc, train_s, n = job.epoch(epoch)
        val_loss, val_acc = job.score("val")[:2] if "val" in job.splits else (None, None)
        if sched is not None:
            sched.step()
        state.epoch = epoch
        state.train_seconds += train_s
        state.train_images += n
        state.history.append({"epoch": epoch, "train_loss": loss, "train_accuracy": acc, "val_loss": val_loss,
                              "val_accuracy": val_acc, "lr": lr, "seconds": time.perf_counter() - t0,
                              "images_per_second": n / train_s if train_s else 0.0})
        if cfg.early_stopping and val_loss is not None:
            state.stopped_early = early_stop(state, val_loss, cfg.early_stopping, job.model, job.best)
        stop = stop_after is not None and epoch >= stop_after
        last = epoch == cfg.epochs or state.stopped_early or stop
        if last or job.shown(epoch, cfg.epochs):
            console.line(job.line(state.history[-1], cfg.epochs))
        if on_epoch is not None:
            on_epoch(state, last)
        if stop:
            break
    return state


def epoch_line(h: dict, epochs: int) -> str:
    val = (f"  val loss {h['val_loss']:.4f} acc {h['val_accuracy']:.1%}" if h["val_loss"] is not None else "")
    return (f"epoch {h['epoch']}/{epochs}  train loss {h['train_loss']:.4f} acc {h['train_accuracy']:.1%}{val}"
            f"  {h['images_per_second']:,.0f} img/s  {h['seconds']:.1f}s")
