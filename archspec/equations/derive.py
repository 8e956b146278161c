"""The derivations the questions ask for, step by step, for the network's own activations and loss.

- Q2(b)/(c) "derive an expression for delta_k / delta_h": from delta = g'(z) Err through the activation's
  derivative to the form in the unit's output (for a sigmoid: sigma(z)(1 - sigma(z)) -> O(1 - O)).
- Q1(b) style chain rule: every factor of dl/dw named and written out (dl/dy = y - t, dy/da = w2, ...)
  before the product.

Computing only: each step is a ``Step`` holding its text in the three notations; explain.py presents them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .activations import ACTIVATIONS
from .chain import MAX_PATHS, dl_dy, local, paths, unscored
from .expr import Add, Expr, Num, Sub, Sym
from .losses import LOSSES
from .printer import ASCII, LATEX, UNICODE, latex_name, unicode_name, write


@dataclass(frozen=True)
class Step:
    """One expression of a derivation, written for Markdown/text, LaTeX and JSON."""

    text: str
    latex: str
    ascii: str

    @classmethod
    def of(cls, e: Expr, grouped: bool = False) -> "Step":
        """``e`` written out; ``grouped``: a sum in parentheses, for a factor of a product."""
        step = cls(write(e, UNICODE), write(e, LATEX), write(e, ASCII))
        if grouped and isinstance(e, (Add, Sub)):
            return Step(f"({step.text})", rf"\left({step.latex}\right)", f"({step.ascii})")
        return step

    def times(self, other: "Step") -> "Step":
        return Step(f"{self.text} · {other.text}", rf"{self.latex} \cdot {other.latex}",
                    f"{self.ascii} * {other.ascii}")


def partial_step(of: str, wrt: str) -> Step:
    return Step(f"∂{unicode_name(of)}/∂{unicode_name(wrt)}",
                rf"\frac{{\partial {latex_name(of)}}}{{\partial {latex_name(wrt)}}}", f"d{of}/d{wrt}")


G_K = Step("g'(z_k)", "g'(z_k)", "g'(z_k)")
G_H = Step("g'(z_h)", "g'(z_h)", "g'(z_h)")
ERR_K = Step("Err_k", r"\mathrm{Err}_k", "Err_k")
ERR_H = Step("Err_h", r"\mathrm{Err}_h", "Err_h")
BACK = Step("Σ_k w_hk δ_k", r"\sum_k w_{hk} \delta_k", "sum_k w_hk delta_k")
DL_DO = Step("∂l/∂O_k", r"\frac{\partial l}{\partial O_k}", "dl/dO_k")


def _steps(first: Step, g: Step, err: Step, middle: Step, what: Step, act: str, out: str, pre: str) -> list[Step]:
    """δ = g'(z) · Err = g'(z) · middle = g'(z) written out · what = g' in terms of the output · what."""
    a = ACTIVATIONS[act]
    by_z, by_o = a.derivative(Sym(pre)), a.local(Sym(out), Sym(pre))
    rows = [first, g.times(err), g.times(middle)]
    if by_z == Num(1.0):
        return rows + [what]
    return rows + [Step.of(by_z, True).times(what)] + ([Step.of(by_o, True).times(what)] if by_o != by_z else [])


def output_derivations(net, loss: str) -> list[tuple[str, list[Step]]]:
    """Per activation of the outputs the loss covers: (act, [δ_k, g'(z_k) · Err_k, g'(z_k) · ∂l/∂O_k, ...,
    O_k(1 − O_k) · (O_k − T_k)])."""
    generic = loss != "cross_entropy"  # a softmax couples the outputs: write it with their own names
    out = []
    for act in dict.fromkeys(net.graph.node(o).attrs["activation"] for o in net.scored):
        o = next(o for o in net.scored if net.graph.node(o).attrs["activation"] == act)
        ys, ts = ([Sym("O_k")], [Sym("T_k")]) if generic else ([Sym(y) for y in net.scored],
                                                              [Sym(net.target[y]) for y in net.scored])
        err = Step.of(LOSSES[loss].derivative(ys, ts, 0 if generic else net.scored.index(o)), True)
        out.append((act, _steps(Step("δ_k", r"\delta_k", "delta_k"), G_K, ERR_K, DL_DO, err, act,
                                "O_k" if generic else o, "z_k")))
    return out


def hidden_derivations(net) -> list[tuple[str, list[Step]]]:
    """For each hidden activation: ('sigmoid', [δ_h, g'(z_h) Err_h, g'(z_h) Σ_k w_hk δ_k, ..., O_h(1 − O_h) Σ ...])."""
    acts = dict.fromkeys(h.attrs["activation"] for h in net.hidden())
    return [(act, _steps(Step("δ_h", r"\delta_h", "delta_h"), G_H, ERR_H, BACK, BACK, act, "O_h", "z_h"))
            for act in acts]


def chain_factors(net, loss: str, param: str) -> tuple[Step, list[tuple[Step, Step]]] | None:
    """dl/dparam as a sum over paths of products of named partials (∂l/∂y · ∂y/∂a · ...), and each factor
    with its expression, once; None when there are too many paths to write out (or none)."""
    products, factors = [], {}
    for node in net.neurons:
        sources = [e.src for e in node.inputs if e.weight == param] + ([None] if node.attrs.get("bias") == param
                                                                       else [])
        found = paths(net, node.id) if sources else []
        if found is None:
            return None
        for src in sources:
            for path in found:
                names = _path_factors(net, loss, path, param, src)
                factors.update({f.text: (f, e) for f, e in names if f.text not in factors})
                product = names[0][0]
                for f, _ in names[1:]:
                    product = product.times(f)
                products.append(product)
    if not products or len(products) > MAX_PATHS:
        return None
    total = Step(" + ".join(p.text for p in products), " + ".join(p.latex for p in products),
                 " + ".join(p.ascii for p in products))
    return total, list(factors.values())


def _path_factors(net, loss: str, path: list, param: str, src: str | None) -> list[tuple[Step, Step]]:
    """(∂a/∂b, its expression) from the loss down to the parameter along one path j -> ... -> k."""
    top = path[-1][0]
    out = [(partial_step("l", top), Step.of(dl_dy(net, loss, top)))]
    for idx in range(len(path) - 1, -1, -1):
        node, w_in = path[idx]
        below = node
        if net.graph.node(node).attrs["activation"] != "identity":
            below = net.pre[node]
            out.append((partial_step(node, below), Step.of(local(net, node))))
        if idx > 0:
            out.append((partial_step(below, path[idx - 1][0]), Step.of(Sym(w_in))))
        else:
            out.append((partial_step(below, param), Step.of(Sym(src) if src is not None else Num(1.0))))
    return out


def to_json(net, loss: str) -> dict:
    """The derivations as ASCII steps: {"delta_output": {act: [...]}, "delta_hidden": {...}, "chain": {w: ...}}."""
    chains = {}
    for w in net.weights + net.biases:
        found = chain_factors(net, loss, w)
        if found is not None:
            chains[w] = {"product": found[0].ascii, "factors": {f.ascii: e.ascii for f, e in found[1]}}
    return {"delta_output": {a: [s.ascii for s in rows] for a, rows in output_derivations(net, loss)},
            "delta_hidden": {a: [s.ascii for s in rows] for a, rows in hidden_derivations(net)},
            "chain": chains, "left_out": unscored(net)}
