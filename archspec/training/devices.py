"""Where a run computes: the device, mixed precision, and where the uint8 image cache lives.

On CUDA the whole cache moves to the GPU when it takes at most ``FIT_SHARE`` of
the free memory (batches are then gathered on the GPU, no copies per step);
otherwise each batch is gathered into pinned host memory and copied with
``non_blocking=True`` (torch's caching host allocator reuses a pinned block only
after its copy has finished).
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch

from .data import Split

FIT_SHARE = 0.3  # of the GPU's free memory, for the image cache; the rest is for activations
RUNTIME_KEYS = ("device", "precision", "threads")  # train keys that change where a run computes, not what it learns
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}
MIXED = {"cuda": ("bf16", "fp16"), "cpu": ("bf16",)}  # device type -> mixed precisions it trains in


def pick_device(r, local_rank: int = 0, claim: bool = True) -> torch.device:
    """The spec's train.device (or --device) made concrete; cuda:<local rank> for a worker of a multi-GPU run.
    ``claim=False`` only checks (the launcher must not hold a GPU context its workers need)."""
    want, cuda = r.train.device, torch.cuda.is_available()
    where = ("train", "device")
    if want == "cuda" and not cuda:
        raise r.error("no-cuda", "device cuda was asked for but torch sees no CUDA GPU", where,
                      hint="use device auto or cpu (torch " + torch.__version__ + ")")
    if want == "mps" and not torch.backends.mps.is_available():
        raise r.error("no-mps", "device mps was asked for but this torch has no Apple GPU (MPS) available", where,
                      hint="use device auto or cpu")
    if want == "cuda" or (want == "auto" and cuda):
        if local_rank >= torch.cuda.device_count():
            raise r.error("too-few-gpus", f"worker with local rank {local_rank} needs GPU {local_rank}, but this "
                          f"machine has {torch.cuda.device_count()}", where,
                          hint="start at most one process per GPU (--nproc), or train on cpu")
        if not claim:
            return torch.device("cuda", local_rank)
        torch.cuda.set_device(local_rank)
        torch.backends.cudnn.benchmark = False  # cuDNN's convolutions pick the same deterministic algorithm
        torch.backends.cudnn.deterministic = True  # every time, so a resumed run matches (other kernels with
        # atomic adds, e.g. the backward of adaptive average pooling to more than 1 x 1, can still differ)
        return torch.device("cuda", local_rank)
    return torch.device("mps") if want == "mps" else torch.device("cpu")


@dataclass
class Precision:
    """fp32, or autocast to bf16/fp16 for the forward pass and loss (fp16 also scales the loss)."""

    name: str
    device: torch.device
    scaler: object = None  # torch.amp.GradScaler for fp16

    def autocast(self):
        if self.name == "fp32":
            return nullcontext()
        return torch.autocast(self.device.type, dtype=AUTOCAST[self.name])

    def backward_step(self, loss, opt) -> None:
        """loss.backward() and opt.step(), through the gradient scaler for fp16 (which skips steps with inf
        gradients and lowers its scale)."""
        if self.scaler is None:
            loss.backward()
            opt.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)
        self.scaler.update()


def precision(r, device: torch.device) -> Precision:
    """The spec's train.precision for ``device``: mixed precision where torch's autocast serves it well."""
    name = r.train.precision
    if name != "fp32" and name not in MIXED.get(device.type, ()):
        why = ("on the CPU, mixed precision is bf16 only (fp16 needs loss scaling and runs slowly there)"
               if device.type == "cpu" else "mixed precision runs on a CUDA GPU, or as bf16 on the CPU")
        raise r.error("no-mixed-precision", f"precision {name} cannot run on {device.type}: {why}",
                      ("train", "precision"), hint="use precision bf16 or fp32, or train on a GPU (--device cuda)")
    # compute capability 8.0 (Ampere) brought bfloat16 arithmetic; torch.cuda.is_bf16_supported() also says yes
    # where it can merely store a bfloat16 tensor (emulation, e.g. a V100)
    if device.type == "cuda" and name == "bf16" and not torch.version.hip and torch.cuda.get_device_capability(
            device) < (8, 0):
        raise r.error("no-bf16", f"this GPU ({torch.cuda.get_device_name(device)}) has no bfloat16 support",
                      ("train", "precision"), hint="use precision fp16 (with loss scaling) or fp32")
    return Precision(name, device, torch.amp.GradScaler("cuda") if name == "fp16" else None)


def place(splits: dict[str, Split], device: torch.device) -> tuple[dict[str, Split], str]:
    """The splits as the loop will read them (on the GPU when they fit), and a line saying where they are."""
    if device.type == "cpu":
        return splits, ""
    nbytes = sum(s.x.numel() * s.x.element_size() + s.y.numel() * 8 for s in splits.values())
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None
    if free is not None and nbytes > FIT_SHARE * free:
        return splits, (f"data: {nbytes / 2**20:,.0f} MiB of images stay in host memory (over {FIT_SHARE:.0%} of "
                        f"the GPU's {free / 2**20:,.0f} MiB free); batches are copied through pinned memory")
    moved = {name: Split(s.x.to(device), s.y.to(device), s.files) for name, s in splits.items()}
    return moved, f"data: {nbytes / 2**20:,.1f} MiB of images kept on {device}"
