"""torch modules for the merge layers (``add``, ``concat``, ``multiply``): no parameters, several inputs."""
from __future__ import annotations

import torch
from torch import nn


class Add(nn.Module):
    """Element-wise sum of inputs of one shape (a residual shortcut)."""

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Inputs joined along dim 1: the channels of N x C x H x W maps, or the features of N x F vectors."""

    def forward(self, *xs):
        return torch.cat(xs, dim=1)


class Multiply(nn.Module):
    """Element-wise product; an N x C gate beside N x C x H x W maps is viewed as N x C x 1 x 1."""

    def forward(self, *xs):
        rank = max(x.dim() for x in xs)
        out = None
        for x in xs:
            x = x[:, :, None, None] if rank == 4 and x.dim() == 2 else x
            out = x if out is None else out * x
        return out
