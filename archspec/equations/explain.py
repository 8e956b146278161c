"""``archspec explain`` for equation networks: the worked solution a student hands in.

Forward pass with numbers substituted, chain-rule products for every dl/dw,
error terms, updates, a second forward pass and the loss before and after;
``--activation`` adds what changes with another hidden activation.
"""
from __future__ import annotations


from ..document import Chain, Code, Heading, Para, Table, User, explained
from .activations import ACTIVATIONS, DEFINITIONS
from .chain import delta_expr, delta_symbol, dl_dy, gradient_terms, gradient_via_deltas, unscored, update_expr
from .document import Label, formula, local_derivative, name, partial, to_document
from .expr import Call, Expr, Mul, Num, Sym, add, children, evaluate, substitute
from .activations import FUNCTIONS
from .backprop import derivative
from .derivation_blocks import delta_blocks, delta_intro, factor_blocks
from .derive import to_json as derivations_json
from .forward_pass import Pass
from .losses import LOSSES
from .printer import DIGITS
from .solve import Solution, solve, to_json


def explain(spec, format: str = "markdown", steps: int = 1, activation: str | None = None, **_options) -> str:
    sol = solve(spec, steps, activation)
    doc = to_document(worked(spec, sol) + (compare(spec, sol, steps) if sol.activation else []))
    return explained(doc, format, lambda: {**to_json(sol), "derivations": derivations_json(sol.net, sol.loss)})


# --- the sections ----------------------------------------------------------------------------------

def worked(spec, sol: Solution) -> list:
    net = sol.net
    title = [User(spec.title), ": worked solution"] + ([" with ", _fn(sol.activation), " hidden units"]
                                                  if sol.activation else [])
    blocks: list = [Heading(title, 1), Para(overview(spec, sol))]
    if sol.activation:
        blocks.append(Para(["Every hidden activation is replaced by ", _fn(sol.activation),
                            " (", Code(f"--activation {sol.activation}"), "); output units keep their own."]))
    if sol.params is None:
        blocks.append(Para(["No values are given (or some are missing), so everything below stays symbolic."]))
    else:
        blocks.append(Para(["Given: "] + _joined([Chain(Sym(k), [v]) for k, v in sol.params.items()]
                                               + _target_chains(sol))))
        blocks.append(Para([f"Numbers are rounded to {DIGITS} significant digits for display; every step is computed "
                            "from the unrounded values, so redoing a step with the rounded numbers may differ in "
                            "the last digit."]))
    if unscored(net):
        blocks.append(Para(left_out(net)))
    n = iter(range(1, 10))
    blocks += [Heading(f"{next(n)}. Forward pass" if sol.first else f"{next(n)}. The network, unit by unit")]
    blocks += forward_lines(sol, sol.first)
    if sol.first and not sol.back:
        blocks.append(Para(["No targets are given, so the loss and the gradients stay in terms of the targets."]))
    blocks += [Heading(f"{next(n)}. Gradients by the chain rule"), Para(chain_intro(sol))]
    for w in sol.grad_exprs:
        factors, product = factor_blocks(net, sol.loss, w)
        blocks += factors + [Chain(partial("l", w), product + gradient_items(sol, w))]
    if sol.back is None:
        return blocks
    blocks += [Heading(f"{next(n)}. Error terms (deltas)"), Para(delta_intro())] + delta_blocks(net, sol.loss)
    blocks.append(Para(["For this network's units:"]))
    order = net.scored + [h.id for h in reversed(net.hidden())]
    blocks += [Chain(Sym(delta_symbol(u)), _worked(delta_expr(net, sol.loss, u), sol.env(), sol.back.delta[u]))
               for u in order]
    blocks += [Chain(Sym(delta_symbol(o)), [0.0]) for o in unscored(net)]
    if not sol.history:
        blocks.append(Para(["No ", Code("learning_rate"), " is given, so no update is made."]))
        return blocks
    blocks += [Heading([f"{next(n)}. Updates, ", Chain(Sym("eta"), [sol.lr])]),
               Para(["Every weight and bias moves against its gradient: ", formula("w_ij ← w_ij − η · δ_j · O_i"),
                     " (a bias has ", formula("O_i = 1"), ")."])]
    after = sol.history[1].params if len(sol.history) > 1 else sol.final.params
    blocks += [Chain(Sym(w), _worked(update_expr(w, gradient_via_deltas(net, w)), sol.env(), after[w]), rel="←")
               for w in sol.grad_exprs]
    second = sol.second
    blocks += [Heading(f"{next(n)}. Second forward pass (updated weights)")] + forward_lines(sol, second)
    blocks += [Heading(f"{next(n)}. Loss before and after")] + loss_table(sol)
    if len(sol.history) > 1:
        blocks += [Heading(f"{next(n)}. {len(sol.history)} steps of gradient descent")] + steps_tables(sol)
    return blocks


def overview(spec, sol: Solution) -> list:
    """Inputs x1, x2; hidden units a1 = σ(z1), ...; output y = σ(z_y). Loss: l = ... (as pieces)."""
    net = sol.net

    def unit(node) -> list:
        act = node.attrs["activation"]
        if act == "identity":
            return [Sym(node.id), " (linear)"]
        return [Chain(Sym(node.id), [Call(act, (Sym(net.pre[node.id]),))])]

    def listing(items: list) -> list:
        return [p for i, item in enumerate(items) for p in ([", "] if i else []) + item] or ["none"]

    loss = LOSSES[sol.loss]
    return (["Inputs "] + listing([[Sym(x)] for x in net.inputs]) + ["; hidden units "]
            + listing([unit(h) for h in net.hidden()]) + [f"; output{'s' if len(net.outputs) > 1 else ''} "]
            + listing([unit(net.graph.node(o)) for o in net.outputs]) + [". Loss: ", Label(loss.text, loss.latex), "."])


def left_out(net) -> list:
    """Why some outputs are not in the loss (Para pieces)."""
    out = unscored(net)
    return (["Targets are given for ", *_syms(net.scored, ", "), " only, so the loss covers ",
             "it" if len(net.scored) == 1 else "them", "; ", *_syms(out, ", "),
             f" {'has' if len(out) == 1 else 'have'} no target and {'is' if len(out) == 1 else 'are'} left out "
             "(its error term is 0, and a weight that reaches only it gets no gradient)."])


def _target_chains(sol: Solution) -> list:
    if not sol.targets:
        return []
    return [Chain(Sym(sol.net.target[sol.net.names.get(o, o)]), [t]) for o, t in sol.targets.items()] + (
        [Chain(Sym("eta"), [sol.lr])] if sol.lr is not None else [])


def _joined(items: list, sep: str = ", ") -> list:
    """items, sep between them, and a full stop: as pieces of a Para."""
    out: list = []
    for i, c in enumerate(items):
        out += ([sep] if i else []) + [c]
    return out + ["."]


def _fn(activation: str) -> Label:
    """An activation's name in prose: σ, ReLU, tanh."""
    a = ACTIVATIONS[activation]
    return Label(a.symbol, a.latex)


def weighted_sum(net, node) -> Expr:
    terms = [Mul((Sym(e.weight), Sym(e.src))) for e in node.inputs]
    if node.attrs.get("bias"):
        terms.append(Sym(node.attrs["bias"]))
    return add(*terms)


def _worked(expr: Expr, env: dict, value: float | None) -> list:
    """[formula, formula with numbers, value] (formula only when nothing is known)."""
    if value is None:
        return [expr]
    subst = substitute(expr, env)
    return [expr, subst, value] if subst != expr and not isinstance(subst, Num) else [expr, value]


def forward_lines(sol: Solution, p: Pass | None) -> list:
    net, out = sol.net, []
    env = sol.env(p, sol.back) if p else {}
    for node in net.neurons:
        s = weighted_sum(net, node)
        act = node.attrs["activation"]
        if act == "identity":
            out.append(Chain(Sym(node.id), _worked(s, env, p.a[node.id] if p else None)))
            continue
        z = Sym(net.pre[node.id])
        out.append(Chain(z, _worked(s, env, p.z[node.id] if p else None)))
        g = Call(act, (z,))
        out.append(Chain(Sym(node.id), [g, Call(act, (Num(p.z[node.id]),)), p.a[node.id]] if p else [g]))
    ys, ts = [Sym(o) for o in net.scored], [Sym(net.target[o]) for o in net.scored]
    loss = LOSSES[sol.loss].expr(ys, ts)
    if p is not None and p.loss is not None:
        out.append(Chain(Sym("l"), _worked(loss, env, p.loss)))
    elif p is None:
        out.append(Chain(Sym("l"), [loss]))
    return out


def chain_intro(sol: Solution) -> list:
    used = sorted({n.attrs["activation"] for n in sol.net.neurons} - {"identity"})
    derivatives = [ACTIVATIONS[a].derivative(Sym("z")) for a in used]
    rules = [Chain(Label(f"{ACTIVATIONS[a].symbol}'(z)", f"{ACTIVATIONS[a].latex}'(z)"), [d])
             for a, d in zip(used, derivatives)]
    rules += [formula(DEFINITIONS[fn]) for fn in dict.fromkeys(fn for d in derivatives for fn in _calls(d))
              if fn in DEFINITIONS]
    return ([formula("∂l/∂w"), " sums, over every path from the weight to an output, the product of ", formula("∂l/∂y"),
             ", each unit's local derivative and each weight along the path, times the input the weight multiplies. "]
            + (["Local derivatives: "] + _joined(rules, "; ") if used else []))


def _calls(e: Expr) -> list[str]:
    """Names of the functions called in ``e``, outermost first."""
    return ([e.fn] if isinstance(e, Call) else []) + [fn for c in children(e) for fn in _calls(c)]


def gradient_items(sol: Solution, w: str) -> list:
    expr = sol.grad_exprs[w]
    if sol.first is None:
        return [expr]
    env = sol.env()
    terms = gradient_terms(sol.net, sol.loss, w)
    if sol.back is not None:
        # every factor of the formula, evaluated (a local derivative that happens to be 1 stays visible)
        numeric = add(*[_product([Num(evaluate(f, env, FUNCTIONS)) for f in factors if f != Num(1.0)])
                        for factors in terms])
        return ([expr] if not terms else [expr, sol.back.grad[w]] if isinstance(numeric, Num)
                else [expr, numeric, sol.back.grad[w]])
    # no targets: dl/dw = sum_k dl/dy_k * dy_k/dw, with y_k known and t_k unknown
    known = {k: v for k, v in env.items() if k not in sol.net.target.values()}
    # the first factor of every path is dl/dy_k (it holds t_k); the others are numbers
    by_path = add(*[_product([substitute(factors[0], known)] + [Num(evaluate(f, env, FUNCTIONS)) for f in factors[1:]
                                                                 if f != Num(1.0)]) for factors in terms])
    parts = [Mul((Num(sol.jac[o][w]), substitute(dl_dy(sol.net, sol.loss, o), known))) for o in sol.net.outputs
             if sol.jac[o][w] != 0 or len(sol.net.outputs) == 1]
    return [expr, by_path, add(*parts)] if parts else [expr, by_path, 0.0]


def _product(factors: list) -> Expr:
    return factors[0] if len(factors) == 1 else Mul(tuple(factors)) if factors else Num(1.0)


def loss_table(sol: Solution) -> list:
    before, after = sol.first, sol.second
    rows = [["before", before.loss, *[before.outputs[o] for o in sol.net.outputs]],
            ["after one step", after.loss, *[after.outputs[o] for o in sol.net.outputs]]]
    change = after.loss - before.loss
    pct = f"{100 * change / before.loss:+.2f}" if before.loss else None
    rel = [" (", Label(pct.replace("-", "−") + " %", pct + r"\,\%"), ")"] if pct else []
    verdict = (["the step lowered the loss."] if change < 0
               else ["the step did not lower the loss (", formula("η"), " too large?)."])
    return [Table(["", ["loss ", Sym("l")], *_syms(sol.net.outputs)], rows, _numeric_columns(sol)),
            Para(["Change: ", change, *rel, ": ", *verdict])]


def _syms(names: list[str], sep: str | None = None) -> list:
    """Names as pieces (table headers), or as one list of pieces with ``sep`` between them (prose)."""
    if sep is None:
        return [name(n) for n in names]
    return [p for i, n in enumerate(names) for p in ([sep] if i else []) + [name(n)]]


def _numeric_columns(sol: Solution) -> set:
    """The loss column and one column per output: right-aligned."""
    return set(range(1, 2 + len(sol.net.outputs)))


def steps_tables(sol: Solution) -> list:
    rows = [[str(i + 1), s.forward.loss, *[s.forward.outputs[o] for o in sol.net.outputs]]
            for i, s in enumerate(sol.history)]
    rows.append([f"after {len(sol.history)}", sol.final.loss, *[sol.final.outputs[o] for o in sol.net.outputs]])
    first = sol.history[0].params
    params = [[name(w), first[w], sol.final.params[w]] for w in sol.grad_exprs]
    return [Table(["step", "loss before the step", *_syms(sol.net.outputs)], rows, _numeric_columns(sol)),
            Table(["parameter", "initial", f"after {len(sol.history)} steps"], params, {1, 2})]


# --- what changes with another activation ----------------------------------------------------------

def compare(spec, sol: Solution, steps: int) -> list:
    base = solve(spec, steps)
    act = ACTIVATIONS[sol.activation]
    blocks: list = [Heading(["What changes with ", _fn(sol.activation)])]
    if sol.first is None:
        return blocks + [Para(["Without values only the formulas change: every hidden ", formula("g'"), " becomes ",
                               Label(act.symbol + "'", act.latex + "'"), "."])]
    rows = []
    for h in sol.net.hidden():
        z = sol.net.pre[h.id]
        rows += [[name(h.id), base.first.a[h.id], sol.first.a[h.id]],
                 [local_derivative(z), derivative(base.net.graph.node(h.id).attrs["activation"], base.first.z[h.id]),
                  derivative(h.attrs["activation"], sol.first.z[h.id])]]
    rows += [[name(o), base.first.a[o], sol.first.a[o]] for o in sol.net.outputs]
    if sol.back:
        rows.append([["loss ", Sym("l")], base.first.loss, sol.first.loss])
        rows += [[Label(f"∂l/∂{w}", partial("l", w).latex), base.back.grad[w], sol.back.grad[w]]
                 for w in sol.grad_exprs]
    if sol.final:
        rows.append(["loss after", base.final.loss, sol.final.loss])
    blocks.append(Table(["quantity", "spec's activations", ["with ", _fn(sol.activation)]], rows, {1, 2}))
    blocks += [Para(note) for note in dead_units(sol)]
    return blocks


def dead_units(sol: Solution) -> list[list]:
    """A remark (Para pieces) for every hidden unit whose local derivative is 0 (a ReLU with z <= 0)."""
    notes = []
    for h in sol.net.hidden():
        if derivative(h.attrs["activation"], sol.first.z[h.id]) != 0:
            continue
        into = [e.weight for e in h.inputs] + ([h.attrs["bias"]] if h.attrs.get("bias") else [])
        out = [e.weight for n in sol.net.consumers(h.id) for e in n.inputs if e.src == h.id]
        notes.append([name(h.id), " is inactive: ", Chain(Sym(sol.net.pre[h.id]), [sol.first.z[h.id]]), formula(" ≤ 0"),
                      ", so its local derivative is 0 and ", Chain(Sym(f"delta_{h.id}"), [0.0]), ": ",
                      *_syms(into, ", "), " get no gradient and do not change"]
                     + (["; its output is 0 too, so ", *_syms(out, ", "),
                         f" (multiplying it) {'gets' if len(out) == 1 else 'get'} none either."]
                        if sol.first.a[h.id] == 0 and out else ["."]))
    return notes
