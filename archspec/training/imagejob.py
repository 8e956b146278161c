"""Image classifiers' part of a run (``context.Job``): device and processes, the images, the network, an
epoch of batches (``loop.run_epoch``), scoring, and the classification report with its confusion matrix."""
from __future__ import annotations

import warnings

import torch

from ..diagnostics import SpecError
from ..torchbuild import build
from . import distributed, loop
from .context import Job, Report
from .data import DataError
from .data import load as load_data
from .devices import pick_device, place, precision
from .distributed import World
from .finish import peak_rss_mb, restarts_line
from .folders import RunError
from .loop import LOSSES, Batches, Console, epoch_line, optimizer_and_schedule, score
from .report import classification, generalization_gap, kept_row, plot_confusion, verdict
from .resolve import Resolved


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
    cfg = r.train
    model = build(r.spec).to(device)
    if cfg.channels_last and len(r.spec.input_shape) == 3:
        model = model.to(memory_format=torch.channels_last)
    return (model, *optimizer_and_schedule(model, cfg, device.type))


class ImageJob(Job):
    """A cnn spec trained on images: one process, or one rank of a torchrun job."""

    noun = "images"
    extra_files = ("confusion_matrix.png", "classification_report.txt")

    def setup(self, timeout: float) -> None:
        ctx, r = self.ctx, self.ctx.r
        if r.train.threads:
            torch.set_num_threads(r.train.threads)
        check_batch(r, ctx.world)
        ctx.device = pick_device(r, ctx.world.local_rank)
        ctx.amp = precision(r, ctx.device)
        ctx.world = distributed.init(ctx.world, ctx.device, timeout)

    def prepare(self) -> None:
        ctx, r, cfg, world = self.ctx, self.ctx.r, self.cfg, self.ctx.world
        self.data, (self.model, self.opt, self.sched) = distributed.together(  # each rank reads the data; a
            world, lambda: (load_checked(r, ctx.console), _model_and_optim(r, ctx.device)),  # problem is said once
            (SpecError, RunError), RunError)
        if world.rank:
            torch.manual_seed(cfg.seed + world.rank)  # same weights on every rank, its own dropout masks
        data, channels = self.data, self.data.shape[2]
        mean, std = data.stats() if cfg.dataset.normalize == "standard" else ([0.0] * channels, [1.0] * channels)
        self.batches = Batches(mean, std, ctx.device, len(r.spec.input_shape) == 1, cfg.channels_last)
        self.info = {"spec": r.resolved(), "spec_sha256": r.sha256(), "data": data.fingerprint(),
                     "classes": data.classes, "mean": mean, "std": std, "threads": torch.get_num_threads(),
                     "world_size": world.size, "torch": torch.__version__}
        distributed.agree(world, self.info["data"], "data (images, labels or split)")
        self.splits, self.net = data.splits, self.model  # net: what trains (the DDP wrapper with several ranks)

    def place(self) -> None:
        ctx, world = self.ctx, self.ctx.world
        self.splits, where = place(self.data.splits, ctx.device)
        if where:
            ctx.console.line(where)
        if world.distributed:
            from torch.nn.parallel import DistributedDataParallel  # only for multi-rank runs

            # a conv weight with one input channel has a size-1 dim whose stride torch may choose either way:
            # DDP then warns that grad and bucket strides differ, though the memory layout is the same
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
            self.net = DistributedDataParallel(self.model, device_ids=[ctx.device.index]
                                               if ctx.device.type == "cuda" else None)

    def start_line(self) -> str:
        r, cfg, world = self.ctx.r, self.cfg, self.ctx.world
        procs = (f" x {world.size} processes ({world.backend}, batch {cfg.batch_size // world.size} each)"
                 if world.distributed else "")
        return (f"training {r.spec.title}: {sum(p.numel() for p in self.model.parameters()):,} parameters on "
                f"{self.ctx.device}{procs}{'' if cfg.precision == 'fp32' else ' in ' + cfg.precision}, "
                f"{cfg.optimizer.type} lr {cfg.optimizer.lr:g}, batch {cfg.batch_size}, {cfg.epochs} epochs; "
                f"run folder {self.ctx.folder.path}")

    def epoch(self, n: int):
        ctx, train = self.ctx, self.splits["train"]
        loss, acc, seconds = loop.run_epoch(self.net, self.opt, LOSSES[self.cfg.loss], train, self.batches,
                                            self.cfg, self.gen, n, ctx.console, world=ctx.world, amp=ctx.amp)
        distributed.sync_buffers(ctx.world, self.model)
        return loss, acc, seconds, len(train)

    def score(self, split: str):
        return score(self.model, self.splits[split], self.batches, LOSSES[self.cfg.loss], self.ctx.world,
                     len(self.data.classes))

    def line(self, h: dict, epochs: int) -> str:
        return epoch_line(h, epochs)

    def report(self, split, loss, acc, out, state, restored) -> Report:
        ctx, r, cfg, data, world = self.ctx, self.ctx.r, self.cfg, self.data, self.ctx.world
        if split != "test":
            ctx.console.warn(f"warning: no test split (test_fraction is 0): the report below is on the {split} split")
        rep = classification(data.splits[split].y.numpy(), out.argmax(1).numpy(), data.classes)
        kept = kept_row(state.history, state.best_epoch if restored else None)
        fit_label, fit_text = verdict(state.history, kept.get("epoch") if restored else None)
        title = f"{r.spec.title}: {split} accuracy {rep['accuracy']:.1%} on {len(data.splits[split])} images"
        if world.leader:
            ctx.folder.write("report", f"{title}\n\n{rep['text']}")
            plot_confusion(rep["confusion"], data.classes, ctx.folder["confusion"], title)
        metrics = {
            "test_accuracy": rep["accuracy"], "classes": data.classes, "per_class": rep["per_class"],
            "macro_avg": rep["macro_avg"], "weighted_avg": rep["weighted_avg"], "kept_epoch": kept.get("epoch"),
            "generalization_gap": generalization_gap(kept, rep["accuracy"]), "fit": fit_label, "verdict": fit_text,
            "confusion_matrix": rep["confusion"].tolist(),
            "data": {"source": data.source, "counts": data.counts(), "skipped": data.skipped_summary(),
                     "skipped_files": [{"file": f, "reason": why, "detail": d} for f, why, d in data.skipped],
                     "notes": data.notes, "fingerprint": self.info["data"]},
            "device": str(ctx.device), "precision": cfg.precision, "world_size": world.size,
            "backend": world.backend, "restarts": world.restarts, "threads": self.info["threads"],
            "peak_rss_mb": peak_rss_mb(),
        }
        again = restarts_line(state, world.restarts)
        text = (f"\n{title} (loss {loss:.4f})\n\n{rep['text']}\n{fit_text}"
                + (f"\nstopped early after epoch {state.epoch}; kept the weights of epoch {kept.get('epoch')}"
                   if state.stopped_early else "")
                + (f"\n{again}" if again else ""))
        weights = {"input": list(r.spec.input_shape), "image": list(data.shape), "classes": data.classes,
                   "mean": self.info["mean"], "std": self.info["std"], "epoch": kept.get("epoch")}
        return Report(metrics, text, weights, f"{r.spec.title} ({data.source})")
