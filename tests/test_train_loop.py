"""The training loop's bookkeeping: epoch figures read back in bulk, exact divergence steps, mixed precision."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from archspec.training import loop
from archspec.training.data import Split
from archspec.training.devices import Precision

N, CLASSES = 203, 3  # 203 = 12 full batches of 16 and one of 11: the last batch is short


def data(n: int = N) -> Split:
    g = torch.Generator().manual_seed(0)
    return Split(torch.randint(0, 256, (n, 1, 4, 4), dtype=torch.uint8, generator=g),
                 torch.randint(0, CLASSES, (n,), generator=g), [f"{i}.png" for i in range(n)])


def cfg(batch_size: int = 16):
    return SimpleNamespace(batch_size=batch_size, seed=1, epochs=1,
                           dataset=SimpleNamespace(augment=SimpleNamespace(hflip=False, vflip=False)))


def epoch(model, split, lr=0.0, batch_size=16, amp=None):
    batches = loop.Batches([0.5], [0.25], torch.device("cpu"), flat=False, channels_last=False)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return loop.run_epoch(model, opt, loop.LOSSES["cross_entropy"], split, batches, cfg(batch_size),
                          torch.Generator().manual_seed(0), 1, loop.Console(quiet=True), amp=amp)


def net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, CLASSES))


@pytest.mark.parametrize("batch_size", [1, 16, 64, 500])
def test_epoch_loss_and_accuracy_cover_every_sample_once(batch_size):
    """With lr 0 the weights stay put, so the epoch's figures are the whole split's mean loss and accuracy,
    whatever the batch size and however many steps pass between read-backs."""
    split, model = data(), net()
    loss, acc, _ = epoch(model, split, batch_size=batch_size)
    with torch.no_grad():
        out = model(((split.x.float() / 255 - 0.5) / 0.25))
    assert loss == pytest.approx(float(F.cross_entropy(out, split.y)), rel=1e-5)
    assert acc == pytest.approx(float((out.argmax(1) == split.y).float().mean()))


class NanFrom(torch.nn.Module):
    """A linear layer whose output turns NaN from its ``k``-th call on."""

    def __init__(self, k: int):
        super().__init__()
        self.k, self.calls, self.fc = k, 0, torch.nn.Linear(16, CLASSES)

    def forward(self, x):
        self.calls += 1
        out = self.fc(x.flatten(1))
        return out * float("nan") if self.calls >= self.k else out


@pytest.mark.parametrize("k", [1, loop.SETTLE_EVERY - 1, loop.SETTLE_EVERY + 5, 13])
def test_a_non_finite_loss_names_its_exact_step(k):
    with pytest.raises(loop.Diverged) as caught:
        epoch(NanFrom(k), data(), lr=0.1, batch_size=4)
    assert (caught.value.epoch, caught.value.step) == (1, k)
    assert f"at epoch 1, step {k} of 51" in str(caught.value)


def test_fp16_loss_scaling_skips_steps_whose_gradients_overflow():
    """Precision.backward_step with a gradient scaler (on the CPU here; CUDA in a real fp16 run): a step
    with infinite gradients leaves the weights alone and lowers the scale; a finite one updates them."""
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=0.1)
    amp = Precision("fp16", torch.device("cpu"), torch.amp.GradScaler("cpu", init_scale=2.0 ** 16))
    amp.backward_step((w * float("inf")).sum(), opt)
    assert torch.equal(w.detach(), torch.ones(3)) and amp.scaler.get_scale() < 2.0 ** 16
    opt.zero_grad()
    amp.backward_step((w * 2).sum(), opt)
    assert torch.allclose(w.detach(), torch.full((3,), 0.8))
