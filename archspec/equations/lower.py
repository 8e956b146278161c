"""Equations -> the IR: each activation of a weighted sum is one neuron.

Conventions (shared with the diagram and torch back ends): input nodes have
``op="input"`` and the input's name as id; neurons have ``op="neuron"`` and the
id of the equation that holds their output (``a1``, ``y``) or ``h1, h2, ...``
for anonymous units in order of first appearance; an edge carries its weight
name. Structurally equal units (same activation, same weighted inputs, same
bias) are one neuron however often they are written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..ir import Edge, Graph, Node
from .expr import Add, Call, Div, Mul, Neg, Num, Pow, Sub, Sym
from .names import Located, Names, uses

_NOT_SUM = {  # node type -> why it cannot stand inside a weighted sum
    Sub: ("subtraction", "give the weight a negative value instead of subtracting"),
    Div: ("division", "a neuron computes activation(w1*in1 + w2*in2 + ... + b)"),
    Neg: ("negation", "give the weight a negative value instead"),
    Num: ("a bare number", "name the constant as a weight or bias and give its value under weights:/biases:"),
    Pow: ("a power", "a neuron computes activation(w1*in1 + w2*in2 + ... + b)"),
}


class NotSum(Exception):
    def __init__(self, message: str, offset: int, hint: str | None = None):
        super().__init__(message)
        self.message, self.offset, self.hint = message, offset, hint


@dataclass
class Lin:
    """A weighted sum: terms (weight, source node id) and at most one bias."""

    terms: list = field(default_factory=list)  # [(weight, src_id)]
    bias: str | None = None
    name: str | None = None  # the equation name, when the sum is assigned (z1 = ...)


@dataclass
class Unit:
    key: tuple
    activation: str
    lin: Lin
    expression: str
    path: tuple
    names: list = field(default_factory=list)  # equation names that hold this unit's output


@dataclass
class Network:
    """A lowered spec: the IR graph plus what the computations need to know about names."""

    graph: Graph
    inputs: list[str]
    weights: list[str]
    biases: list[str]
    outputs: list[str]
    pre: dict[str, str]  # neuron id -> symbol of its pre-activation (named z1, or z_y)
    target: dict[str, str]  # output id -> symbol of its target (t, t1, t_out)
    names: dict[str, str] = field(default_factory=dict)  # assigned name -> node id it stands for
    scored: list[str] = field(default_factory=list)  # the outputs the loss covers: those with targets (all without)

    @property
    def neurons(self) -> list[Node]:
        return [n for n in self.graph.nodes if n.op == "neuron"]

    def consumers(self, node_id: str) -> list[Node]:
        return self.graph.consumers(node_id)

    def hidden(self) -> list[Node]:
        return [n for n in self.neurons if n.id not in self.outputs]


class _Lowerer:
    def __init__(self, names: Names):
        self.names = names
        self.units: list[Unit] = []
        self.by_key: dict[tuple, Unit] = {}
        self.value: dict[str, Lin | Unit] = {}  # assigned name -> its weighted sum or its unit
        self.inputs_used: set = set()

    def unit(self, fn: str, lin: Lin, loc: Located, span) -> Unit:
        if not lin.terms:
            raise NotSum(f"{fn}() needs at least one weighted input", span[0] if span else 0,
                         "write e.g. sigmoid(w1*x1 + b1)")
        key = (fn, tuple(sorted(lin.terms)), lin.bias or "")  # '' not None: keys must sort
        if key not in self.by_key:
            text = loc.eq.text[span[0]:span[1]] if span else loc.eq.text.split("=", 1)[1].strip()
            self.by_key[key] = Unit(key, fn, lin, text, loc.path)
            self.units.append(self.by_key[key])
        return self.by_key[key]

    def source(self, e, loc: Located) -> str | Unit:
        """What feeds a weighted term: an input (its name) or a unit."""
        if isinstance(e, Sym):
            role = self.names.role.get(e.name)
            if role == "inputs":
                self.inputs_used.add(e.name)
                return e.name
            if role == "assigned":
                v = self.value[e.name]
                if isinstance(v, Lin):  # a named sum used as an input: it is a linear unit
                    return _named(self.unit("identity", v, loc, None), e.name)
                return v
        if isinstance(e, Call):
            return self.call(e, loc)
        raise NotSum(f"'{loc.eq.text[e.span[0]:e.span[1]]}' is not an input or a unit's output", e.span[0])

    def call(self, e: Call, loc: Located) -> Unit:
        arg = e.args[0]
        if (isinstance(arg, Sym) and self.names.role.get(arg.name) == "assigned"
                and isinstance(self.value[arg.name], Lin)):
            return self.unit(e.fn, self.value[arg.name], loc, e.span)
        lin = self.lin(arg, loc)
        if isinstance(arg, Sym) and not lin.terms:
            raise NotSum(f"the argument of {e.fn}() must be a weighted sum", arg.span[0],
                         f"write e.g. {e.fn}(w1*{arg.name} + b1)")
        return self.unit(e.fn, Lin(lin.terms, lin.bias), loc, e.span)

    def lin(self, e, loc: Located) -> Lin:
        """A weighted sum from ``e``, or NotSum saying where it stops being one."""
        if isinstance(e, Add):
            out = Lin()
            for t in e.terms:
                part = self.lin(t, loc)
                out.terms += part.terms
                if part.bias and out.bias:
                    raise NotSum(f"a weighted sum has one bias, found '{out.bias}' and '{part.bias}'", t.span[0])
                out.bias = out.bias or part.bias
            return out
        if isinstance(e, Mul):
            return Lin([self.term(e, loc)])
        if isinstance(e, Sym):
            role = self.names.role.get(e.name)
            if role == "biases":
                return Lin(bias=e.name)
            if role == "assigned" and isinstance(self.value[e.name], Lin):
                v = self.value[e.name]
                return Lin(list(v.terms), v.bias, v.name)
            if role == "weights":
                raise NotSum(f"weight '{e.name}' is not multiplied by an input", e.span[0],
                             f"a term added on its own is a bias: declare it under biases: instead of weights: "
                             f"(biases: {{{e.name}: ...}}); a weight multiplies its input, e.g. {e.name}*x1")
            raise NotSum(f"'{e.name}' enters the sum without a weight", e.span[0], f"write e.g. w*{e.name}")
        if isinstance(e, Call):
            raise NotSum(f"{e.fn}(...) enters the sum without a weight", e.span[0], f"write e.g. w*{e.fn}(...)")
        what, hint = _NOT_SUM[type(e)]
        raise NotSum(f"{what} is not part of a weighted sum", getattr(e, "op", None) or e.span[0], hint)

    def term(self, e: Mul, loc: Located) -> tuple:
        """weight*input or input*weight -> (weight, source key)."""
        is_weight = [isinstance(f, Sym) and self.names.role.get(f.name) == "weights" for f in e.factors]
        if len(e.factors) != 2 or sum(is_weight) != 1:
            raise NotSum(f"'{loc.eq.text[e.span[0]:e.span[1]]}' is not one weight times one input", e.span[0],
                         "each term of a weighted sum is weight*input, e.g. w1*x1 or w5*relu(...)")
        weight, other = e.factors if is_weight[0] else reversed(e.factors)
        src = self.source(other, loc)
        return (weight.name, src.key if isinstance(src, Unit) else ("input", src))

    def equation(self, loc: Located):
        e = loc.eq.expr
        if isinstance(e, Call):
            self.value[loc.eq.name] = _named(self.call(e, loc), loc.eq.name)
            return
        lin = self.lin(e, loc)
        if not lin.terms:
            raise NotSum(f"'{loc.eq.name}' has no weighted inputs", e.span[0], "write e.g. w1*x1 + b1")
        if isinstance(e, Sym):  # z2 = z1
            raise NotSum(f"'{loc.eq.name} = {lin.name}' only renames '{lin.name}'", e.span[0], f"use '{lin.name}'")
        self.value[loc.eq.name] = Lin(lin.terms, lin.bias, loc.eq.name)


def lower(names: Names, declared: dict, title: str, targets: list[str]) -> tuple[Network | None, list[Diagnostic]]:
    lw, out, broken = _Lowerer(names), [], set()
    for loc in names.order:
        deps = {s.name for s in uses(loc.eq.expr)}
        if deps & broken:
            broken.add(loc.eq.name)  # already reported upstream
            continue
        try:
            lw.equation(loc)
        except NotSum as exc:
            out.append(loc.diag("not-weighted-sum", exc.message, exc.offset, exc.hint))
            broken.add(loc.eq.name)
    if out:
        return None, out
    outputs = [n for n in names.by_name if n not in names.used or n in targets]
    for name in outputs:  # an output that is a named sum is a linear unit
        v = lw.value[name]
        if isinstance(v, Lin):
            lw.value[name] = _named(lw.unit("identity", v, names.by_name[name], None), name)
    # units in the order their equations are written (those linear outputs were made last), so the worked
    # solution and the diagram follow the text; still topological, since an equation only uses earlier ones
    rank = {loc.path: k for k, loc in enumerate(names.order)}
    lw.units.sort(key=lambda u: rank[u.path])
    return _graph(lw, names, declared, title, outputs, targets), []


def _named(u: Unit, name: str) -> Unit:
    if name not in u.names:
        u.names.append(name)
    return u


def _graph(lw: _Lowerer, names: Names, declared: dict, title: str, outputs: list[str], targets: list[str]) -> Network:
    inputs = [n for n in names.of_role("inputs", declared.get("inputs") or []) if n in lw.inputs_used]
    taken = set(names.role)
    ids: dict[tuple, str] = {}
    anon = 0
    for u in lw.units:
        if u.names:
            ids[u.key] = u.names[0]
            continue
        anon += 1
        while f"h{anon}" in taken:
            anon += 1
        ids[u.key] = f"h{anon}"
    nodes = [Node(x, "input", attrs={"value": declared.get("values", {}).get(x)}, path=("inputs", x)) for x in inputs]
    pre = {}
    for u in lw.units:
        node_id = ids[u.key]
        # edges in the order the terms are written: the diagram and the worked solution follow the text
        edges = tuple(Edge(src[1] if src[0] == "input" else ids[src], w) for w, src in u.lin.terms)
        named = u.lin.name if u.lin.name and u.lin.name not in u.names else None  # y = w*a: y is no pre
        pre[node_id] = named or _pre_symbol(node_id, taken)
        nodes.append(Node(node_id, "neuron", edges, {"activation": u.activation, "bias": u.lin.bias,
                                                     "pre": named, "expression": u.expression}, u.path))
    out_ids = [lw.value[n] for n in outputs]
    out_ids = list(dict.fromkeys(ids[u.key] for u in out_ids))
    graph = Graph(title, "equations", nodes, out_ids)
    edge_w = list(dict.fromkeys(e.weight for n in nodes for e in n.inputs))  # in graph order
    node_b = list(dict.fromkeys(n.attrs["bias"] for n in nodes if n.attrs.get("bias")))
    weights, biases = _declared_first(declared.get("weights"), edge_w), _declared_first(declared.get("biases"), node_b)
    target = {o: _target_symbol(o, taken) for o in out_ids}
    alias = {n: ids[v.key] for n, v in lw.value.items() if isinstance(v, Unit)}
    given = {alias.get(t, t) for t in targets}
    scored = [o for o in out_ids if o in given] or list(out_ids)
    return Network(graph, inputs, weights, biases, out_ids, pre, target, alias, scored)


def _declared_first(declared: list | None, found: list) -> list:
    """Names in declaration order, then the undeclared ones in the order their names count (w1 .. w7, as an
    exercise numbers them, whatever order the equation uses them in)."""
    declared = [n for n in declared or [] if n in found]
    natural = sorted((n for n in found if n not in declared),
                     key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)])
    return declared + natural


def _pre_symbol(node_id: str, taken: set) -> str:
    m = re.fullmatch(r"a(\d+)", node_id)
    for cand in ([f"z{m.group(1)}"] if m else []) + [f"z_{node_id}", f"net_{node_id}"]:
        if cand not in taken:
            taken.add(cand)
            return cand
    raise ValueError(f"no free name for the pre-activation of {node_id}")  # pragma: no cover


def _target_symbol(out_id: str, taken: set) -> str:
    for cand in ([("t" + out_id[1:])] if out_id.startswith("y") else []) + [f"t_{out_id}", f"target_{out_id}"]:
        if cand not in taken:
            taken.add(cand)
            return cand
    raise ValueError(f"no free name for the target of {out_id}")  # pragma: no cover
