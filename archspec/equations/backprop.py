"""Backpropagation in float64: error terms, dl/dw, updates, several steps.

delta_j = dl/dz_j = g'(z_j) * (dl/da_j), where dl/da_j is dl/dy_j for an output
and sum_k w_jk delta_k over the units j feeds (both, if an output also feeds
other units). dl/dw_ij = delta_j * a_i summed over every edge that carries w;
dl/db_j = delta_j. Update: w <- w - eta * dl/dw.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .activations import ACTIVATIONS, FUNCTIONS
from .expr import Sym, evaluate
from .forward_pass import Pass, run, target_list
from .lower import Network
from .losses import LOSSES

_Z = Sym("z")


def derivative(activation: str, z: float) -> float:
    """g'(z), from the same expression the worked solution prints."""
    return evaluate(ACTIVATIONS[activation].derivative(_Z), {"z": z}, FUNCTIONS)


@dataclass
class Backward:
    dl_dy: dict[str, float]  # output id -> dl/dy
    delta: dict[str, float]  # neuron id -> dl/dz
    grad: dict[str, float]  # weight or bias -> dl/dw


def dl_dy(net: Network, p: Pass, targets: dict, loss: str) -> dict[str, float] | None:
    ts = target_list(net, targets)
    if ts is None:
        return None
    ys = [Sym(o) for o in net.scored]
    tsyms = [Sym(net.target[o]) for o in net.scored]
    env = {**p.outputs, **{net.target[o]: t for o, t in zip(net.scored, ts)}}
    rule = LOSSES[loss].derivative
    return {o: evaluate(rule(ys, tsyms, k), env, FUNCTIONS) for k, o in enumerate(net.scored)}


def deltas(net: Network, p: Pass, seed: dict[str, float]) -> dict[str, float]:
    """dl/dz of every neuron, given dl/da of the outputs (``seed``), in reverse topological order."""
    grad_a = {n.id: 0.0 for n in net.neurons}
    for o, g in seed.items():
        grad_a[o] += g
    out: dict[str, float] = {}
    for node in reversed(net.neurons):
        out[node.id] = derivative(node.attrs["activation"], p.z[node.id]) * grad_a[node.id]
        for e in node.inputs:
            if e.src in grad_a:
                grad_a[e.src] += p.params[e.weight] * out[node.id]
    return out


def param_grads(net: Network, p: Pass, delta: dict[str, float]) -> dict[str, float]:
    """dl/dw = sum over the edges carrying w of delta_j * a_i; dl/db = sum of delta_j."""
    grad = {name: 0.0 for name in net.weights + net.biases}
    for node in net.neurons:
        for e in node.inputs:
            grad[e.weight] += delta[node.id] * p.a[e.src]
        if node.attrs.get("bias"):
            grad[node.attrs["bias"]] += delta[node.id]
    return grad


def backward(net: Network, p: Pass, targets: dict | None, loss: str) -> Backward | None:
    """Deltas and gradients of the loss; None without targets."""
    seed = dl_dy(net, p, targets, loss)
    if seed is None:
        return None
    delta = deltas(net, p, seed)
    return Backward(seed, delta, param_grads(net, p, delta))


def jacobian(net: Network, p: Pass) -> dict[str, dict[str, float]]:
    """dy_k/dw for every output k and parameter w (what dl/dw is made of when no target is given)."""
    return {o: param_grads(net, p, deltas(net, p, {o: 1.0})) for o in net.outputs}


def update(net: Network, params: dict[str, float], grad: dict[str, float], lr: float) -> dict[str, float]:
    """w <- w - eta * dl/dw for every weight and bias; inputs unchanged."""
    return {k: (v - lr * grad[k] if k in grad else v) for k, v in params.items()}


@dataclass
class Step:
    params: dict[str, float]  # before the step
    forward: Pass
    backward: Backward


def train(net: Network, params: dict[str, float], targets: dict, loss: str, lr: float,
          steps: int) -> tuple[list[Step], Pass]:
    """``steps`` steps of gradient descent; the steps and the forward pass after the last one."""
    history = []
    for _ in range(steps):
        p = run(net, params, targets, loss)
        b = backward(net, p, targets, loss)
        history.append(Step(params, p, b))
        params = update(net, params, b.grad, lr)
    return history, run(net, params, targets, loss)


def numeric_problem(net: Network, params: dict[str, float], targets: dict | None, loss: str) -> str | None:
    """Why one forward and backward pass has no finite float64 answer (overflow, log(0), 0/0), or None."""
    stage = "the forward pass and loss"
    try:
        p = run(net, params, targets, loss)
        stage = "the gradients"
        b = backward(net, p, targets, loss)
    except (ArithmeticError, ValueError) as exc:  # math.exp overflow, log(0) domain error, division by zero
        return f"{stage} cannot be computed in float64 ({exc.args[-1]})"
    named = {**{net.pre[n]: v for n, v in p.z.items()}, **p.a, "l": p.loss or 0.0,
             **{f"dl/d{w}": g for w, g in (b.grad.items() if b else ())}}
    bad = [f"{k} = {v}" for k, v in named.items() if not math.isfinite(v)]
    return f"{stage if b is None else 'the worked values'} are not finite: {', '.join(bad[:3])}" if bad else None
