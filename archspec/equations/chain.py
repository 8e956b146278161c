"""The chain rule written out as a student writes it, as expression trees.

dl/dw for the weight on edge i -> j is a sum over every path j -> ... -> k to an
output k of  dl/dy_k * g'_k(z_k) * w * ... * w * g'_j(z_j) * a_i  (a bias has
no a_i). The trees print in any style and evaluate with the safe evaluator,
so the test suite checks that the formula a student would write has the
value that backpropagation computes.
"""
from __future__ import annotations

from .activations import ACTIVATIONS
from .expr import Expr, Mul, Num, Sub, Sym, add, mul
from .lower import Network
from .losses import LOSSES

MAX_PATHS = 64  # beyond this many paths a formula is written with error terms: delta_j * a_i


def delta_symbol(node_id: str) -> str:
    return f"delta_{node_id}"


def local(net: Network, node_id: str) -> Expr:
    """g'(z) of a unit, written in its pre-activation: σ(z1)(1 − σ(z1)), step(z_h1), 1."""
    return ACTIVATIONS[net.graph.node(node_id).attrs["activation"]].derivative(Sym(net.pre[node_id]))


def dl_dy(net: Network, loss: str, out_id: str) -> Expr:
    ys = [Sym(o) for o in net.scored]
    ts = [Sym(net.target[o]) for o in net.scored]
    return LOSSES[loss].derivative(ys, ts, net.scored.index(out_id))


def _out_edges(net: Network) -> dict[str, list]:
    out: dict[str, list] = {n.id: [] for n in net.graph.nodes}
    for node in net.neurons:
        for e in node.inputs:
            out[e.src].append((node.id, e))
    return out


def paths(net: Network, start: str, limit: int = MAX_PATHS) -> list[list] | None:
    """Every path from unit ``start`` to an output the loss covers, as [(node, weight on the edge into it)];
    None when there are more than ``limit``."""
    out_edges, found = _out_edges(net), []
    stack = [[(start, None)]]
    while stack:
        path = stack.pop()
        node = path[-1][0]
        if node in net.scored:
            found.append(path)
            if len(found) > limit:
                return None
        for nxt, e in reversed(out_edges[node]):
            stack.append(path + [(nxt, e.weight)])
    return found


def path_factors(net: Network, loss: str, path: list) -> list[Expr]:
    """dl/dy_k, g'_k, w, ..., g'_j for one path j -> ... -> k (from the output back, as written by hand)."""
    factors = [dl_dy(net, loss, path[-1][0])]
    for node, w_in in reversed(path):  # w_in: the weight on the edge into ``node`` along the path
        factors.append(local(net, node))
        if w_in is not None:
            factors.append(Sym(w_in))
    return factors


def gradient_terms(net: Network, loss: str, param: str) -> list[list[Expr]]:
    """One factor list per (edge carrying ``param``, path to an output); their products sum to dl/dparam."""
    terms = []
    for node in net.neurons:
        sources = [Sym(e.src) for e in node.inputs if e.weight == param]
        if node.attrs.get("bias") == param:
            sources.append(None)
        if not sources:
            continue
        found = paths(net, node.id)
        for src in sources:
            tail = [src] if src is not None else []
            if found is None:  # too many paths to write out: use the error term
                terms.append([Sym(delta_symbol(node.id))] + tail)
            else:
                terms += [path_factors(net, loss, path) + tail for path in found]
    return terms


def gradient_expr(net: Network, loss: str, param: str) -> Expr:
    """dl/dparam as one expression: a sum over paths of chain-rule products."""
    terms = [mul(*factors) for factors in gradient_terms(net, loss, param)]
    return add(*terms) if terms else Num(0.0)


def delta_expr(net: Network, loss: str, node_id: str) -> Expr:
    """delta_k = g'(O_k) (dl/dy_k) for an output; delta_h = g'(O_h) sum_k w_hk delta_k for a hidden unit."""
    act = ACTIVATIONS[net.graph.node(node_id).attrs["activation"]]
    g = act.local(Sym(node_id), Sym(net.pre[node_id]))
    back = [Mul((Sym(e.weight), Sym(delta_symbol(k)))) for k, e in _out_edges(net)[node_id] if k not in unscored(net)]
    if node_id in net.scored:
        back.insert(0, dl_dy(net, loss, node_id))
    return mul(g, add(*back)) if back else Num(0.0)  # an output the loss leaves out, feeding nothing


def unscored(net: Network) -> list[str]:
    """Outputs the loss leaves out (targets are given for others only): their delta is 0."""
    return [o for o in net.outputs if o not in net.scored]


def gradient_via_deltas(net: Network, param: str) -> Expr:
    """dl/dw = sum over edges of delta_j * a_i (the form the update rule uses)."""
    terms = []
    for node in net.neurons:
        terms += [mul(Sym(delta_symbol(node.id)), Sym(e.src)) for e in node.inputs if e.weight == param]
        if node.attrs.get("bias") == param:
            terms.append(Sym(delta_symbol(node.id)))
    return add(*terms) if terms else Num(0.0)


def update_expr(param: str, grad: Expr) -> Expr:
    """w − η · (dl/dw)."""
    return Sub(Sym(param), mul(Sym("eta"), grad))
