"""Every number and formula of a worked solution, computed once (presenting lives in explain.py)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, SpecError, did_you_mean
from .activations import ACTIVATIONS, canonical
from .backprop import Backward, Step, backward, jacobian, train
from .chain import delta_symbol, gradient_expr
from .expr import Expr
from .forward_pass import Pass, run, symbol_values, with_activation
from .lower import Network
from .printer import ASCII, write

MAX_STEPS = 100_000


@dataclass
class Solution:
    net: Network
    loss: str
    activation: str | None  # the --activation override, canonical name
    lr: float | None
    grad_exprs: dict[str, Expr]  # parameter -> chain-rule formula
    params: dict[str, float] | None = None  # None: symbolic only (some value missing)
    targets: dict | None = None
    first: Pass | None = None
    back: Backward | None = None  # None without targets
    jac: dict | None = None  # dy_k/dw, used when there are no targets
    history: list[Step] = field(default_factory=list)  # the gradient-descent steps
    final: Pass | None = None  # forward pass after the last step

    @property
    def second(self) -> Pass | None:
        """Forward pass after the first update."""
        return self.history[1].forward if len(self.history) > 1 else self.final

    @property
    def updated(self) -> dict[str, float] | None:
        return {k: v for k, v in self.final.params.items() if k not in self.net.inputs} if self.final else None

    def env(self, p: Pass | None = None, b: Backward | None = None) -> dict[str, float]:
        """Symbol -> value for substituting into formulas (first pass unless told otherwise)."""
        p, b = p or self.first, b or self.back
        if p is None:
            return {}
        env = symbol_values(self.net, p.params, p, self.targets)
        if b is not None:
            env.update({delta_symbol(n): d for n, d in b.delta.items()})
        if self.lr is not None:
            env["eta"] = self.lr
        return env


def check_activation(name: str | None, file: str = "<spec>") -> str | None:
    """Canonical name of an --activation option (line 0: the problem is on the command line, not in the file)."""
    if not name:
        return None
    fn = canonical(name)
    if fn is None:
        raise SpecError([Diagnostic("unknown-activation", f"unknown activation '{name}' for --activation",
                                    hint=did_you_mean(name, ACTIVATIONS) or f"known: {', '.join(ACTIVATIONS)}")], file)
    return fn


def solve(spec, steps: int = 1, activation: str | None = None) -> Solution:
    """Forward pass, gradients (symbolic and numeric), error terms, ``steps`` updates."""
    if not 1 <= steps <= MAX_STEPS:
        raise SpecError([Diagnostic("bad-steps", f"--steps must be between 1 and {MAX_STEPS:,}. Received: {steps}")],
                        spec.file)
    fn = check_activation(activation, spec.file)
    net = with_activation(spec.network(), fn)
    params = [*net.weights, *net.biases]
    sol = Solution(net, spec.loss, fn, spec.learning_rate, {w: gradient_expr(net, spec.loss, w) for w in params})
    if not spec.numeric():
        return sol
    sol.params, sol.targets = spec.values(), spec.targets
    try:
        sol.first = run(net, sol.params, spec.targets, spec.loss)
        sol.back = backward(net, sol.first, spec.targets, spec.loss)
        if sol.back is None:
            sol.jac = jacobian(net, sol.first)
        elif spec.learning_rate is not None:
            sol.history, sol.final = train(net, sol.params, spec.targets, spec.loss, spec.learning_rate, steps)
            if not all(map(math.isfinite, [sol.final.loss, *sol.final.params.values()])):
                raise OverflowError("the weights or the loss became infinite")
    except (ArithmeticError, ValueError) as exc:  # validation checked the first pass with the spec's activations
        raise spec.error([Diagnostic(
            "numeric-range", f"the worked solution leaves float64's range ({exc.args[-1]})",
            ("learning_rate",) if sol.first is not None and spec.learning_rate is not None else (),
            hint=f"gradient descent diverges: use a smaller learning_rate or fewer than {steps:,} steps"
            if sol.first is not None else "use smaller inputs and weights")]) from None
    return sol


def to_json(sol: Solution) -> dict:
    """``explain --format json``: exactly the keys of the issue; deltas/updated/loss_after when computable."""
    net, p, b = sol.net, sol.first, sol.back
    forward = _forward(net, p) if p is not None else {}
    out = {"forward": forward, "outputs": dict(p.outputs) if p else {}, "loss": p.loss if p else None,
           "gradients": {w: {"value": b.grad[w] if b else None, "expression": write(e, ASCII)}
                         for w, e in sol.grad_exprs.items()}}
    if b is not None:
        out["deltas"] = dict(b.delta)
    if sol.final is not None:
        out["updated"] = sol.updated
        out["loss_after"] = sol.final.loss
        out["forward_after"] = _forward(net, sol.second)
        out["outputs_after"] = dict(sol.second.outputs)
    return out


def _forward(net: Network, p: Pass) -> dict[str, float]:
    """z and a of every unit, keyed by their names (z1, a1, z_y, y)."""
    out = {}
    for n in net.neurons:
        out[net.pre[n.id]] = p.z[n.id]
        out[n.id] = p.a[n.id]
    return out
