"""Neuron-level diagrams of equation networks (the IR of ``kind: equations``).

Inputs on the left, one circle per unit (activation symbol, name, bias), outputs
on the right, every edge labelled with its weight (and value when known). Units
sit in columns by depth (``Graph.depths``), so a skip connection is one long
edge past a column instead of a tangle. Run values (z, a, loss, dl/dw) are
plain dicts beside the graph, as everywhere in archspec.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .dot import Ids, b, digraph, font, html, number, rows, text

SYMBOL_OVERRIDES = {"identity": "linear"}  # 'id' reads oddly on a diagram
GRAD_INK = "#a33a00"
FILL = {"input": "#dcefd6", "hidden": "#d6e6f7", "output": "#e4ddf2"}


def symbol(activation: str) -> str:
    """'sigmoid' -> 'σ', 'relu' -> 'ReLU' (the equations front end's table), else the name."""
    if activation in SYMBOL_OVERRIDES:
        return SYMBOL_OVERRIDES[activation]
    try:
        from ..equations.activations import ACTIVATIONS
    except ImportError:  # pragma: no cover - the front end ships with archspec
        return activation
    return ACTIVATIONS[activation].symbol if activation in ACTIVATIONS else activation


@dataclass
class RunValues:
    """What a diagram may show beyond names: all optional, keyed by spec names.

    ``params``: weight and bias values; ``inputs``: input values; ``z`` / ``a``:
    each unit's pre-activation and output (by node id); ``grads``: dl/d(name) for
    weights and biases; ``targets`` and ``loss_terms`` by output id; ``loss``: total.
    """

    params: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    z: dict = field(default_factory=dict)
    a: dict = field(default_factory=dict)
    grads: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    loss_terms: dict = field(default_factory=dict)
    loss: float | None = None


def _named(name: str, value) -> str:
    return text(name if value is None else f"{name} = {number(value)}")


def _grad_line(name: str, run: RunValues) -> list[str]:
    if name in run.grads:
        return [font(text(f"\u2202l/\u2202{name} = {number(run.grads[name])}"), GRAD_INK, 10)]
    return []


def _input_label(node, run: RunValues) -> str:
    value = run.inputs.get(node.id, node.attrs.get("value"))
    return rows([b(_named(node.id, value))])


def _unit_label(node, run: RunValues, is_output: bool) -> str:
    attrs = node.attrs
    lines = [font(b(text(symbol(attrs.get("activation", "identity")))), size=14)]
    if node.id in run.a:
        pre = attrs.get("pre") or "z"
        lines += [font(text(f"{pre} = {number(run.z[node.id])}"), size=10)] if node.id in run.z else []
        lines.append(font(b(text(f"{node.id} = {number(run.a[node.id])}")), size=11))
    else:
        lines.append(font(b(text(node.id)), size=11))
    bias = attrs.get("bias")
    if bias:
        lines.append(font("+ " + _named(bias, run.params.get(bias)), size=10))
        lines += _grad_line(bias, run)
    if is_output and node.id in run.targets:
        lines.append(font(text(f"t = {number(run.targets[node.id])}"), size=10))
        if node.id in run.loss_terms:
            lines.append(font(text(f"\u00bd(y\u2212t)\u00b2 = {number(run.loss_terms[node.id])}"), size=10))
    return rows(lines)


def _edge_label(weight: str | None, run: RunValues) -> str | None:
    if weight is None:
        return None
    return rows([_named(weight, run.params.get(weight))] + _grad_line(weight, run))


def _columns(graph) -> dict[int, list]:
    """depth -> nodes; outputs that feed nothing share the last column (outputs right)."""
    depth = graph.depths()
    last = max(depth.values(), default=0)
    cols: dict[int, list] = {}
    for node in graph.nodes:
        final = node.id in graph.outputs and not graph.consumers(node.id)
        cols.setdefault(last if final else depth[node.id], []).append(node)
    return dict(sorted(cols.items()))


def draw(graph, run: RunValues | None = None, layout: str = "LR", title: str | None = None):
    """graphviz.Digraph of an equations IR graph, with whatever ``run`` knows."""
    run = run or RunValues()
    heading = title or graph.name
    if run.loss is not None:
        heading += f"   (loss l = {number(run.loss)})"
    g = digraph(heading, layout, "network")
    g.attr(nodesep="0.5", ranksep="1.3", splines="spline")
    g.attr("node", shape="circle", style="filled", margin="0.02", fixedsize="false")
    ids = Ids()
    for node in graph.nodes:  # ids in graph order: deterministic
        ids(node.id)
    for depth, nodes in _columns(graph).items():
        with g.subgraph(name=f"depth_{depth}") as col:
            col.attr(rank="same")
            for node in nodes:
                if node.op == "input":
                    role, label = "input", _input_label(node, run)
                else:
                    role = "output" if node.id in graph.outputs else "hidden"
                    label = _unit_label(node, run, role == "output")
                extra = {"peripheries": "2"} if role == "output" else {}
                css = role if role == "input" else f"neuron {role}"
                col.node(ids(node.id), html(label), fillcolor=FILL[role], **extra, **{"class": css})
    depth = graph.depths()
    for node, edge in graph.edges():
        label = _edge_label(edge.weight, run)
        attrs = {"label": html(label)} if label else {}
        skip = depth[node.id] - depth[edge.src] > 1  # jumps over a column: a skip connection
        g.edge(ids(edge.src), ids(node.id), **attrs, **{"class": "weight skip" if skip else "weight"})
    return g
