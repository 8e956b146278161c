"""Random equation networks and an independent torch oracle for them (tests only).

A ``RandomNet`` is drawn as a plain structure (units with activation, weighted
sources, bias), written out as equation text in a random style (named
equations, named pre-activations, or sub-expressions inlined and repeated),
and evaluated by torch straight from the structure: archspec's parser and
lowering never touch the oracle's side.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

TORCH_ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "identity": lambda z: z,
             "leaky_relu": F.leaky_relu, "softplus": F.softplus}
# how a student may spell each activation in the text
SPELLING = {"sigmoid": ["sigmoid", "σ"], "relu": ["relu", "ReLU"], "tanh": ["tanh"], "identity": ["identity"],
            "leaky_relu": ["leaky_relu"], "softplus": ["softplus"]}


@dataclass
class Unit:
    name: str
    act: str
    terms: list  # [(weight name, source name)]
    bias: str | None
    style: str = "named"  # 'named': a = act(...); 'pre': z = ...; a = act(z); 'inline': written where used
    spelling: str = ""


@dataclass
class RandomNet:
    inputs: dict[str, float]
    units: list[Unit]  # topological order
    outputs: list[str]
    weights: dict[str, float] = field(default_factory=dict)
    biases: dict[str, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    loss: str = "squared_error"
    lr: float = 0.1

    def unit(self, name: str) -> Unit:
        return next(u for u in self.units if u.name == name)

    def text_of(self, src: str) -> str:
        """How a source is referred to: its name, or its whole expression when inlined."""
        if src in self.inputs:
            return src
        u = self.unit(src)
        return self.call_text(u) if u.style == "inline" else u.name

    def sum_text(self, u: Unit) -> str:
        parts = [f"{w}*{self.text_of(s)}" if i % 2 == 0 else f"{self.text_of(s)}*{w}"
                 for i, (w, s) in enumerate(u.terms)]
        return " + ".join(parts + ([u.bias] if u.bias else []))

    def call_text(self, u: Unit) -> str:
        return f"{u.spelling}({self.sum_text(u)})"

    def equations(self) -> list[str]:
        out = []
        for u in self.units:
            if u.style == "inline":
                continue
            if u.act == "identity" and u.name in self.outputs:
                out.append(f"{u.name} = {self.sum_text(u)}")  # a linear output unit
            elif u.style == "pre":
                out += [f"z_{u.name} = {self.sum_text(u)}", f"{u.name} = {u.spelling}(z_{u.name})"]
            else:
                out.append(f"{u.name} = {self.call_text(u)}")
        return out

    def spec_text(self) -> str:
        import json

        lines = ["kind: equations", "name: random", "equations:"] + [f"  - {json.dumps(e)}" for e in self.equations()]
        lines += [f"inputs: {json.dumps(self.inputs)}", f"weights: {json.dumps(self.weights)}"]
        if self.biases:
            lines.append(f"biases: {json.dumps(self.biases)}")
        lines += [f"targets: {json.dumps(self.targets)}", f"loss: {self.loss}", f"learning_rate: {self.lr}"]
        return "\n".join(lines) + "\n"


def torch_run(net: RandomNet, weights: dict | None = None):
    """Forward and backward in float64 autograd: z, a, outputs, loss, dl/dz, dl/dparam."""
    dt = torch.float64
    params = {k: torch.tensor(v, dtype=dt, requires_grad=True) for k, v in {**net.weights, **net.biases,
                                                                            **(weights or {})}.items()}
    a = {k: torch.tensor(v, dtype=dt) for k, v in net.inputs.items()}
    z = {}
    for u in net.units:
        s = sum(params[w] * a[src] for w, src in u.terms)
        if u.bias:
            s = s + params[u.bias]
        s.retain_grad()
        z[u.name] = s
        a[u.name] = TORCH_ACT[u.act](s)
    y = torch.stack([a[o] for o in net.outputs])
    t = torch.tensor([net.targets[o] for o in net.outputs], dtype=dt)
    loss = {"squared_error": lambda: 0.5 * ((y - t) ** 2).sum(),
            "binary_cross_entropy": lambda: -(t * torch.log(y) + (1 - t) * torch.log(1 - y)).sum(),
            "cross_entropy": lambda: -(t * torch.log_softmax(y, 0)).sum()}[net.loss]()
    loss.backward()
    return {"z": {k: v.item() for k, v in z.items()}, "a": {k: v.item() for k, v in a.items()},
            "outputs": {o: a[o].item() for o in net.outputs}, "loss": loss.item(),
            "dz": {k: v.grad.item() for k, v in z.items()}, "grad": {k: v.grad.item() for k, v in params.items()}}


@st.composite
def random_nets(draw, max_depth: int = 3, max_fan_in: int = 3) -> RandomNet:
    value = st.floats(-1.0, 1.0, allow_nan=False).map(lambda v: round(v, 6))
    n_in = draw(st.integers(1, 3))
    inputs = {f"x{i + 1}": draw(value) for i in range(n_in)}
    acts = sorted(TORCH_ACT)
    layers: list[list[str]] = [list(inputs)]
    units: list[Unit] = []
    weights, biases = {}, {}
    depth = draw(st.integers(1, max_depth))
    for d in range(depth + 1):  # the last layer holds the outputs
        width = draw(st.integers(1, 2 if d == depth else 3))
        layer = []
        for _ in range(width):
            k = len(units) + 1
            earlier = [s for lay in layers for s in lay]
            # the previous layer first, so depth is real; skip connections from earlier layers too
            srcs = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=max_fan_in, unique=True))
            if not set(srcs) & set(layers[-1]):
                srcs[0] = draw(st.sampled_from(layers[-1]))
                srcs = list(dict.fromkeys(srcs))
            terms = []
            for j, s in enumerate(srcs):
                w = f"w{k}_{j + 1}"
                weights[w] = draw(value)
                terms.append((w, s))
            bias = None
            if draw(st.booleans()):
                bias = f"b{k}"
                biases[bias] = draw(value)
            act = draw(st.sampled_from(acts))
            name = f"y{k}" if d == depth else f"a{k}"
            style = "named" if d == depth else draw(st.sampled_from(["named", "pre", "inline"]))
            units.append(Unit(name, act, terms, bias, style, draw(st.sampled_from(SPELLING[act]))))
            layer.append(name)
        layers.append(layer)
    # every hidden unit must feed something, or it would be an output of its own
    used = {s for u in units for _, s in u.terms}
    outputs = layers[-1]
    for u in units:
        if u.name not in used and u.name not in outputs:
            out = next(o for o in units if o.name == outputs[0])
            w = f"w{len(weights) + 1}_skip"
            weights[w] = draw(value)
            out.terms.append((w, u.name))
            used.add(u.name)
    net = RandomNet(inputs, units, outputs, weights, biases)
    losses = ["squared_error"]
    if all(net.unit(o).act == "sigmoid" for o in outputs):
        losses.append("binary_cross_entropy")
    if len(outputs) > 1:
        losses.append("cross_entropy")
    net.loss = draw(st.sampled_from(losses))
    if net.loss == "cross_entropy":
        raw = [draw(st.floats(0.05, 1.0)) for _ in outputs]
        net.targets = {o: r / sum(raw) for o, r in zip(outputs, raw)}
    else:
        net.targets = {o: draw(st.floats(0.05, 0.95) if net.loss != "squared_error" else value) for o in outputs}
    net.lr = draw(st.sampled_from([0.1, 0.5, 1.0]))
    return net
