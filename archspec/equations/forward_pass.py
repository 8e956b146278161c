"""The forward pass in float64: every pre-activation z, activation a, output and the loss."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..ir import Graph
from .activations import ACTIVATIONS
from .lower import Network
from .losses import LOSSES


@dataclass
class Pass:
    z: dict[str, float]  # neuron id -> pre-activation (weighted sum + bias)
    a: dict[str, float]  # node id -> output (inputs included)
    outputs: dict[str, float]  # output id -> value
    loss: float | None  # None without targets
    params: dict[str, float]  # the input, weight and bias values this pass used

    def values(self) -> dict[str, dict]:
        """node id -> {'z': ..., 'a': ...} (z is None for inputs): what a diagram shows."""
        return {n: {"z": self.z.get(n), "a": a} for n, a in self.a.items()}


def run(net: Network, params: dict[str, float], targets: dict[str, float] | None = None,
        loss: str = "squared_error") -> Pass:
    """One forward pass. ``params`` holds every input, weight and bias value."""
    z: dict[str, float] = {}
    a: dict[str, float] = {x: float(params[x]) for x in net.inputs}
    for node in net.neurons:
        terms = [params[e.weight] * a[e.src] for e in node.inputs]
        bias = node.attrs.get("bias")
        z[node.id] = math.fsum(terms + ([params[bias]] if bias else []))
        a[node.id] = ACTIVATIONS[node.attrs["activation"]].value(z[node.id])
    outputs = {o: a[o] for o in net.outputs}
    return Pass(z, a, outputs, loss_value(net, outputs, targets, loss), dict(params))


def loss_value(net: Network, outputs: dict[str, float], targets: dict | None, loss: str) -> float | None:
    ts = target_list(net, targets)
    if ts is None:
        return None
    return LOSSES[loss].value([outputs[o] for o in net.scored], ts)


def target_list(net: Network, targets: dict | None) -> list[float] | None:
    """Targets of the outputs the loss covers (``net.scored``), in their order (keys may be output ids or names
    aliasing them); None without targets."""
    if not targets:
        return None
    by_id = {net.names.get(k, k): v for k, v in targets.items()}
    if any(o not in by_id for o in net.scored):
        return None
    return [float(by_id[o]) for o in net.scored]


def with_activation(net: Network, activation: str | None) -> Network:
    """The network with every hidden unit's activation replaced (outputs keep theirs)."""
    if not activation:
        return net
    nodes = [replace(n, attrs={**n.attrs, "activation": activation})
             if n.op == "neuron" and n.id not in net.outputs else n for n in net.graph.nodes]
    graph = Graph(net.graph.name, net.graph.kind, nodes, list(net.graph.outputs))
    return replace(net, graph=graph)


def symbol_values(net: Network, params: dict[str, float], p: Pass, targets: dict | None) -> dict[str, float]:
    """Every symbol a chain-rule expression may use -> its value (inputs, weights, z, a, targets)."""
    env = {k: float(v) for k, v in params.items() if v is not None}
    env.update({net.pre[n]: v for n, v in p.z.items()})
    env.update(p.a)
    ts = target_list(net, targets)
    if ts is not None:
        env.update({net.target[o]: t for o, t in zip(net.scored, ts)})
    return env
