"""The training loop: optimizers, schedules and losses from tables; batches from the uint8 cache.

``fit`` trains epoch by epoch from a ``State`` (fresh or restored from a
checkpoint), calls ``on_epoch`` after each complete epoch (the run folder
writes its checkpoint there) and stops on a non-finite loss with ``Diverged``.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

OPTIMIZERS = {
    "sgd": lambda p, o: torch.optim.SGD(p, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay,
                                        nesterov=o.nesterov),
    "adam": lambda p, o: torch.optim.Adam(p, lr=o.lr, weight_decay=o.weight_decay),
    "adamw": lambda p, o: torch.optim.AdamW(p, lr=o.lr, weight_decay=o.weight_decay),
}
SCHEDULES = {  # stepped once per epoch
    "step": lambda opt, s, epochs: torch.optim.lr_scheduler.StepLR(opt, s.step_size, s.gamma),
    "cosine": lambda opt, s, epochs: torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs, s.min_lr),
}
LOSSES = {  # (network output N x K, labels N) -> mean loss
    "cross_entropy": lambda out, y: F.cross_entropy(out, y),
    "mse": lambda out, y: F.mse_loss(out, F.one_hot(y, out.shape[1]).to(out.dtype)),
}


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


class Batches:
    """Index -> normalised float batch on the device, with optional flips (uint8 cache stays put)."""

    def __init__(self, mean, std, device, flat: bool, channels_last: bool):
        c = len(mean)
        std_t = torch.tensor(std).view(1, c, 1, 1)
        self.scale = (1 / (255 * std_t)).to(device)  # (x/255 - mean) / std == x * scale - shift
        self.shift = (torch.tensor(mean).view(1, c, 1, 1) / std_t).to(device)
        self.device, self.flat, self.channels_last = device, flat, channels_last

    def __call__(self, x_u8, augment=None, gen=None):
        if augment is not None:
            x_u8 = flip(x_u8, augment, gen)
        x = x_u8.to(self.device, non_blocking=True).float().mul_(self.scale).sub_(self.shift)
        if self.flat:
            return x.flatten(1)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def flip(x, augment, gen):
    """Flip a random half of the batch left-right (hflip) and/or upside down (vflip), in place.

    ``x`` is a fresh gathered batch (``split.x[idx]``), never the cache itself."""
    for on, dim in ((augment.hflip, 3), (augment.vflip, 2)):
        if on:
            mask = torch.rand(x.shape[0], generator=gen) < 0.5
            x[mask] = x[mask].flip(dim)
    return x


class Console:
    """Progress bar on a terminal; on pipes and files, one plain line per epoch."""

    def __init__(self, out=None, err=None, quiet: bool = False):
        self.out, self.err, self.quiet = out or sys.stdout, err or sys.stderr, quiet
        self.tty = hasattr(self.err, "isatty") and self.err.isatty()
        self._last = 0.0

    def bar(self, epoch, epochs, step, steps, loss, acc, ips):
        now = time.monotonic()
        if self.quiet or not self.tty or (now - self._last < 0.1 and step < steps):
            return
        self._last = now
        done = int(24 * step / steps)
        self.err.write(f"\repoch {epoch}/{epochs} [{'#' * done}{'.' * (24 - done)}] {step}/{steps} "
                       f"loss {loss:.4f} acc {acc:.1%} {ips:,.0f} img/s ")
        self.err.flush()

    def warn(self, text: str):
        """Warnings go to stderr even when quiet."""
        if text:
            if self.tty:
                self.err.write("\r\033[K")
            print(text, file=self.err, flush=True)

    def line(self, text: str):
        if self.tty and not self.quiet:
            self.err.write("\r\033[K")
        if not self.quiet:
            print(text, file=self.out, flush=True)


def run_epoch(model, opt, loss_fn, split, batches, cfg, gen, epoch, console) -> tuple[float, float, float]:
    """One pass over the training split in a seeded order; returns (loss, accuracy, seconds)."""
    model.train()
    n, bs = len(split), cfg.batch_size
    steps = math.ceil(n / bs)
    order = torch.randperm(n, generator=gen)
    augment = cfg.dataset.augment if (cfg.dataset.augment.hflip or cfg.dataset.augment.vflip) else None
    y_all = split.y.to(batches.device)
    total, correct, seen, start = 0.0, 0, 0, time.perf_counter()
    for step in range(1, steps + 1):
        idx = order[(step - 1) * bs:step * bs]
        x = batches(split.x[idx], augment, gen)
        y = y_all[idx.to(batches.device)]
        out = model(x)
        loss = loss_fn(out, y)
        value = loss.item()
        if not math.isfinite(value):
            raise Diverged(epoch, step, steps, value, opt.param_groups[0]["lr"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += value * len(idx)
        correct += int((out.argmax(1) == y).sum())
        seen += len(idx)
        console.bar(epoch, cfg.epochs, step, steps, total / seen, correct / seen,
                    seen / (time.perf_counter() - start))
    return total / n, correct / n, time.perf_counter() - start


@torch.no_grad()
def predict(model, x_u8, batches, batch_size: int = 512):
    """Network outputs (N x K, float32 on the CPU) for a uint8 image tensor, in eval mode."""
    model.eval()
    outs = [model(batches(x_u8[i:i + batch_size])).float().cpu() for i in range(0, len(x_u8), batch_size)]
    return torch.cat(outs) if outs else torch.zeros(0, 0)


def score(model, split, batches, loss_fn) -> tuple[float, float, "torch.Tensor"]:
    """(mean loss, accuracy, outputs) of a split."""
    out = predict(model, split.x, batches)
    y = split.y
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


def fit(model, opt, sched, data, batches, cfg, state: State, gen, best: dict, console: Console,
        on_epoch=None, stop_after: int | None = None) -> State:
    """Train from ``state.epoch`` to ``cfg.epochs`` (or early stop); ``stop_after`` ends after that epoch
    as an interruption would (for tests of resuming)."""
    loss_fn = LOSSES[cfg.loss]
    train, val = data.splits["train"], data.splits.get("val")
    while state.epoch < cfg.epochs and not state.stopped_early:
        epoch = state.epoch + 1
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        loss, acc, train_s = run_epoch(model, opt, loss_fn, train, batches, cfg, gen, epoch, console)
        val_loss, val_acc = score(model, val, batches, loss_fn)[:2] if val is not None else (None, None)
        if sched is not None:
            sched.step()
        state.epoch = epoch
        state.train_seconds += train_s
        state.train_images += len(train)
        state.history.append({"epoch": epoch, "train_loss": loss, "train_accuracy": acc, "val_loss": val_loss,
                              "val_accuracy": val_acc, "lr": lr, "seconds": time.perf_counter() - t0,
                              "images_per_second": len(train) / train_s})
        if cfg.early_stopping and val_loss is not None:
            state.stopped_early = early_stop(state, val_loss, cfg.early_stopping, model, best)
        console.line(epoch_line(state.history[-1], cfg.epochs))
        if on_epoch is not None:
            on_epoch(state)
        if stop_after is not None and epoch >= stop_after:
            break
    return state


def epoch_line(h: dict, epochs: int) -> str:
    val = (f"  val loss {h['val_loss']:.4f} acc {h['val_accuracy']:.1%}" if h["val_loss"] is not None else "")
    return (f"epoch {h['epoch']}/{epochs}  train loss {h['train_loss']:.4f} acc {h['train_accuracy']:.1%}{val}"
            f"  {h['images_per_second']:,.0f} img/s  {h['seconds']:.1f}s")
