"""Neuron-level diagrams of equation networks (the IR of ``kind: equations``).

Inputs on the left, one circle per unit (activation symbol, name, bias), outputs
on the right, every edge labelled with its weight (and value when known). Units
sit in columns by depth (``Graph.depths``), so a skip connection is one long
edge past a column instead of a tangle. Run values (z, a, loss, dl/dw) are
plain dicts beside the graph, as everywhere in archspec.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..equations.activations import ACTIVATIONS
from ..equations.backprop import backward, jacobian
from ..equations.forward_pass import run, target_list
from . import RenderError
from .dot import Ids, b, digraph, font, html, number, rows, text

SYMBOL_OVERRIDES = {"identity": "linear"}  # 'id' reads oddly on a diagram
GRAD_INK = "#a33a00"
# edges take the colour of the unit they leave, their labels too: where edges cross, the colour tells
# which weight belongs to which line (dark, distinct hues; they repeat after ten sources)
PALETTE = ("#1f5fa8", "#b8322a", "#2a7d3a", "#7a3fa0", "#8a5a12", "#c2417f", "#167f8a", "#5a5a5a",
           "#a06800", "#3b4fc4")
FILL = {"input": "#dcefd6", "hidden": "#d6e6f7", "output": "#e4ddf2"}


def symbol(activation: str) -> str:
    """'sigmoid' -> 'σ', 'relu' -> 'ReLU' (the equations front end's table), else the name."""
    if activation in SYMBOL_OVERRIDES:
        return SYMBOL_OVERRIDES[activation]
    return ACTIVATIONS[activation].symbol if activation in ACTIVATIONS else activation


@dataclass
class RunValues:
    """What a diagram may show beyond names: all optional, keyed by spec names.

    ``params``: weight and bias values; ``inputs``: input values; ``z`` / ``a``:
    each unit's pre-activation and output (by node id), ``pre``: the symbol of a
    unit's pre-activation (z1); ``grads``: {of: {name: d of / d name}} with ``of``
    "l" for the loss (or an output id: dy/dw when there are no targets);
    ``targets`` by output id, ``target_names`` their symbols (t, t1); ``loss_terms``
    each output's share of a squared-error loss; ``loss``: the total.
    """

    params: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    z: dict = field(default_factory=dict)
    a: dict = field(default_factory=dict)
    pre: dict = field(default_factory=dict)
    grads: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    target_names: dict = field(default_factory=dict)
    loss_terms: dict = field(default_factory=dict)
    loss: float | None = None
    note: str | None = None  # a line under the title, e.g. what the edges show without targets


def _named(name: str, value) -> str:
    return text(name if value is None else f"{name} = {number(value)}")


def _grad_line(name: str, run: RunValues, ink: str = GRAD_INK) -> list[str]:
    return [font(text(f"\u2202{of}/\u2202{name} = {number(g[name])}"), ink, 10)
            for of, g in run.grads.items() if name in g]


def _input_label(node, run: RunValues) -> str:
    value = run.inputs.get(node.id, node.attrs.get("value"))
    return rows([b(_named(node.id, value))])


def _unit_label(node, run: RunValues, is_output: bool) -> str:
    attrs = node.attrs
    lines = [font(b(text(symbol(attrs.get("activation", "identity")))), size=14)]
    if node.id in run.a:
        pre = run.pre.get(node.id) or attrs.get("pre") or "z"
        if node.id in run.z and attrs.get("activation") != "identity":  # a linear unit: z is a
            lines.append(font(text(f"{pre} = {number(run.z[node.id])}"), size=10))
        lines.append(font(b(text(f"{node.id} = {number(run.a[node.id])}")), size=11))
    else:
        lines.append(font(b(text(node.id)), size=11))
    bias = attrs.get("bias")
    if bias:
        lines.append(font("+ " + _named(bias, run.params.get(bias)), size=10))
        lines += _grad_line(bias, run)
    if is_output and node.id in run.targets:
        t = run.target_names.get(node.id, "t")
        lines.append(font(text(f"{t} = {number(run.targets[node.id])}"), size=10))
        if node.id in run.loss_terms:
            share = f"\u00bd({node.id}\u2212{t})\u00b2 = {number(run.loss_terms[node.id])}"
            lines.append(font(text(share), size=10))
    return rows(lines)


def _edge_label(weight: str | None, run: RunValues, ink: str) -> str | None:
    if weight is None:
        return None
    return rows([font(_named(weight, run.params.get(weight)), ink)] + _grad_line(weight, run, ink))


def _columns(graph) -> dict[int, list]:
    """depth -> nodes; outputs that feed nothing share the last column (outputs right)."""
    depth, fed = graph.depths(), {e.src for _, e in graph.edges()}
    last = max(depth.values(), default=0)
    cols: dict[int, list] = {}
    for node in graph.nodes:
        final = node.id in graph.outputs and node.id not in fed
        cols.setdefault(last if final else depth[node.id], []).append(node)
    return dict(sorted(cols.items()))


def equation(node) -> str:
    """A unit as the diagram names things: 'h2 = ReLU(w2·h1 + b2)'; a linear unit without the function;
    a named pre-activation kept, as the spec writes it."""
    terms = [f"{e.weight}\u00b7{e.src}" if e.weight else e.src for e in node.inputs]
    total = " + ".join(terms + ([node.attrs["bias"]] if node.attrs.get("bias") else []))
    act, pre = node.attrs.get("activation", "identity"), node.attrs.get("pre")
    if act == "identity":
        return f"{node.id} = {total}"
    if pre:  # the spec names the sum: a1 = σ(z1), z1 = w1·x1 + w3·x2
        return f"{node.id} = {symbol(act)}({pre}),  {pre} = {total}"
    return f"{node.id} = {symbol(act)}({total})"


LEGEND_MAX = 12  # units; beyond that the legend would bury the drawing


def draw(graph, run: RunValues | None = None, layout: str = "LR", title: str | None = None):
    """graphviz.Digraph of an equations IR graph, with whatever ``run`` knows. Without run values
    a legend under the title writes each unit as an equation of the names on the drawing."""
    run = run or RunValues()
    heading = title or graph.name
    if run.loss is not None:
        heading += f"   (loss l = {number(run.loss)})"
    units = [n for n in graph.nodes if n.op != "input"]
    legend = [equation(n) for n in units] if not run.a and len(units) <= LEGEND_MAX else []
    legend += [run.note] if run.note else []
    g = digraph(heading, layout, "network", legend, align="LEFT")
    # units in spec order; left to right the weight labels need room between the columns
    g.attr(nodesep="0.5", ranksep="1.3" if layout == "LR" else "0.7", splines="spline", ordering="out")
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
    senders = list(dict.fromkeys(e.src for _, e in graph.edges()))
    ink = {src: PALETTE[i % len(PALETTE)] for i, src in enumerate(senders)}
    for node, edge in graph.edges():
        label = _edge_label(edge.weight, run, ink[edge.src])
        attrs = {"label": html(label), "color": ink[edge.src]} if label else {"color": ink[edge.src]}
        skip = depth[node.id] - depth[edge.src] > 1  # jumps over a column: a skip connection
        g.edge(ids(edge.src), ids(node.id), **attrs, **{"class": "weight skip" if skip else "weight"})
    return g


def run_values(spec, values: bool, grads: bool) -> RunValues:
    """The values an equations spec gives, plus its forward pass (``values``) and gradients (``grads``)."""
    net, given = spec.network(), spec.values()
    out = RunValues(params={k: v for k, v in given.items() if v is not None and k not in net.inputs},
                    inputs={k: given[k] for k in net.inputs if given.get(k) is not None}, pre=dict(net.pre))
    if not (values or grads):
        return out
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise RenderError(f"--values needs a value for every input, weight and bias; missing: {', '.join(missing)}")
    p = run(net, given, spec.targets, spec.loss)
    out.z, out.a, out.loss = p.z, {n.id: p.a[n.id] for n in net.neurons}, p.loss
    ts = target_list(net, spec.targets)
    if ts is not None:
        out.targets = dict(zip(net.scored, ts))
        out.target_names = {o: net.target[o] for o in net.scored}
        if spec.loss == "squared_error":  # l = sum_i 1/2 (y_i - t_i)^2: each output's share
            out.loss_terms = {o: 0.5 * (p.a[o] - t) ** 2 for o, t in out.targets.items()}
    if grads:  # dl/dw with targets; without them dy/dw per output (what dl/dw is made of)
        b = backward(net, p, spec.targets, spec.loss)
        out.grads = {"l": b.grad} if b is not None else jacobian(net, p)
        if b is None:
            out.note = "no targets in the spec: edges show \u2202y/\u2202w (add targets: for \u2202l/\u2202w)"
    return out


def render(spec, values: bool = False, grads: bool = False, layout: str = "LR", **_options):
    """graphviz.Digraph of an equations spec: the network, with values and gradients on request."""
    return draw(spec.lower(), run_values(spec, values or grads, grads), layout, spec.title)
