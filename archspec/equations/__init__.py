"""Equation networks (``kind: equations``): parse, lower to the IR, forward/backward, explain.

For back ends (diagrams) that show values beside the graph::

    spec.lower()            -> archspec.ir.Graph
    forward(spec)           -> {node id: {"z": float | None, "a": float}} or None (values missing)
    gradients(spec)         -> {weight or bias: dl/dw} or None (values or targets missing)
    loss(spec)              -> float or None
"""
from __future__ import annotations

from .backprop import backward
from .forward_pass import run, with_activation


def _first(spec, activation=None):
    if not spec.numeric():
        return None, None
    net = with_activation(spec.network(), activation)
    return net, run(net, spec.values(), spec.targets, spec.loss)


def forward(spec, activation: str | None = None) -> dict | None:
    """node id -> {"z", "a"} of one forward pass with the spec's values (z is None for inputs)."""
    _, p = _first(spec, activation)
    return p.values() if p else None


def gradients(spec, activation: str | None = None) -> dict | None:
    """weight or bias name -> dl/dw at the spec's values (None without values or targets)."""
    net, p = _first(spec, activation)
    b = backward(net, p, spec.targets, spec.loss) if p else None
    return dict(b.grad) if b else None


def loss(spec, activation: str | None = None) -> float | None:
    _, p = _first(spec, activation)
    return p.loss if p else None
