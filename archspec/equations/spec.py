"""``kind: equations``: a network written as equations, with optional values.

Everything here is pure Python (no torch): validation parses and lowers the
equations and reports every problem with the file, line and column inside
the equation text.
"""
from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal, Optional, Union

from pydantic import Field, FiniteFloat

from ..diagnostics import Diagnostic, SpecError, did_you_mean, errors
from ..limits import NEURONS
from ..specbase import SpecBase, Strict
from ..train_config import EquationTrain
from .backprop import numeric_problem
from .lower import Network, lower
from .names import ROLES, Located, classify
from .parser import ParseError, parse_equation

MAX_EQUATIONS = 500
OUTPUT_NAME = re.compile(r"(y|out|output|logits?|o\d)", re.IGNORECASE)  # names that say "this is an output"
Values = Union[dict[str, Optional[FiniteFloat]], list[str], None]
LOSSES = ("squared_error", "binary_cross_entropy", "cross_entropy")


class Answers(Strict):
    """Hand-computed numbers to grade, keyed like ``archspec explain --format json``."""

    forward: Optional[dict[str, FiniteFloat]] = Field(None, description="z and a of units, e.g. {z1: 0.94, a1: 0.719}")
    outputs: Optional[dict[str, FiniteFloat]] = None
    loss: Optional[FiniteFloat] = None
    gradients: Optional[dict[str, FiniteFloat]] = Field(None, description="dl/dw per weight or bias")
    deltas: Optional[dict[str, FiniteFloat]] = Field(None, description="error term per unit")
    updated: Optional[dict[str, FiniteFloat]] = Field(None, description="weights after the update(s)")
    forward_after: Optional[dict[str, FiniteFloat]] = Field(None, description="z and a of units in the forward "
                                                            "pass after the update")
    outputs_after: Optional[dict[str, FiniteFloat]] = None
    loss_after: Optional[FiniteFloat] = None


class EquationsSpec(SpecBase):
    kind: Literal["equations"]
    equations: Union[str, Annotated[list[str], Field(min_length=1, max_length=MAX_EQUATIONS)]] = Field(
        description="assignments such as 'a1 = sigmoid(w1*x1 + b1)', or one 'y = ...'")
    inputs: Values = Field(None, description="input values (null or a list of names: symbolic); "
                                             "undeclared names starting with x are inputs")
    weights: Values = Field(None, description="weight values; undeclared names starting with w are weights")
    biases: Values = Field(None, description="bias values; undeclared names starting with b are biases")
    targets: Optional[dict[str, FiniteFloat]] = Field(None, description="target per output, e.g. {y: 0.7}")
    loss: Literal[LOSSES] = Field("squared_error", description="squared_error: l = sum_i 1/2 (y_i - t_i)^2")
    learning_rate: Optional[Annotated[FiniteFloat, Field(gt=0)]] = Field(None, description="eta of w <- w - eta dl/dw")
    answers: Optional[Answers] = None
    train: Optional[EquationTrain] = Field(None, description="learn the weights and biases from samples: "
                                           "`archspec train`")

    # --- parsing and lowering ------------------------------------------------------------------
    def equation_list(self) -> list[tuple[str, tuple]]:
        """(text, spec path) of every equation."""
        if isinstance(self.equations, str):
            return [(self.equations, ("equations",))]
        return [(text, ("equations", i)) for i, text in enumerate(self.equations)]

    def declared(self) -> dict:
        """Declared names per role (None where the map is absent) and every given value."""
        out: dict = {"values": {}}
        for role in ROLES:
            given = getattr(self, role)
            out[role] = None if given is None else list(given)
            if isinstance(given, dict):
                out["values"].update(given)
        return out

    @cached_property
    def _analysis(self) -> tuple[Network | None, list[Diagnostic]]:
        located, problems = [], []
        for i, (text, path) in enumerate(self.equation_list()):
            try:
                located.append(Located(parse_equation(text), path, i))
            except ParseError as exc:
                problems.append(Diagnostic(exc.code, exc.message, path, offset=exc.offset, hint=exc.hint))
        if problems:
            return None, problems
        declared = self.declared()
        names, problems = classify(located, declared)
        if problems:
            return None, problems
        net, problems = lower(names, declared, self.title, list(self.targets or {}))
        if net is not None and len(net.neurons) > NEURONS:  # the worked chain rule grows with depth squared
            return None, [Diagnostic("too-many-neurons", f"the equations make {len(net.neurons)} neurons; a worked "
                                     f"solution writes out at most {NEURONS}", ("equations",),
                                     hint="split the network, or write fewer units")]
        return net, problems

    def network(self) -> Network:
        """The lowered network (raises SpecError if the equations are broken)."""
        net, problems = self._analysis
        if net is None:
            raise SpecError(problems, self.file)
        return net

    def lower(self):
        """The IR graph: input nodes, one neuron per unit, weighted edges."""
        return self.network().graph

    @property
    def input_shape(self) -> tuple:
        """(number of inputs,): the built module maps (batch, inputs) to (batch, outputs)."""
        return (len(self.network().inputs),)

    # --- values ----------------------------------------------------------------------------------
    def values(self) -> dict[str, float | None]:
        """Given value of every input, weight and bias of the network (None where not given)."""
        net, given = self.network(), self.declared()["values"]
        return {n: given.get(n) for n in net.inputs + net.weights + net.biases}

    def numeric(self) -> bool:
        """True when every input, weight and bias has a value (a forward pass is possible)."""
        return all(v is not None for v in self.values().values())

    # --- semantic checks -------------------------------------------------------------------------
    def check(self) -> list[Diagnostic]:
        net, problems = self._analysis
        if net is None:
            return problems
        out: list[Diagnostic] = []
        declared = self.declared()
        used = set(net.inputs + net.weights + net.biases)
        for role in ROLES:
            for name in declared[role] or []:
                if name not in used:
                    out.append(Diagnostic("unused-name", f"{role[:-1] if role != 'biases' else 'bias'} '{name}' "
                                          "is not used by any equation", (role, name), severity="warning"))
        missing = [n for n, v in self.values().items() if v is None]
        if missing and len(missing) < len(used):
            out.append(Diagnostic("missing-value", f"no value for {', '.join(missing)}: only symbolic results",
                                  self._where(missing[0]), severity="warning",
                                  hint="give every input, weight and bias a value"))
        for name in self.targets or {}:
            if name not in net.outputs and net.names.get(name) not in net.outputs:
                out.append(Diagnostic("unknown-target", f"target '{name}' is not an output of the equations",
                                      ("targets", name), hint=did_you_mean(name, net.outputs)
                                      or f"outputs: {', '.join(net.outputs)}"))
        out += self._check_loss(net)
        out += self._check_outputs(net)
        if not errors(out) and self.numeric():
            out += self._check_range(net)
        if self.train is not None:
            out += self.train.check(net)
        if self.answers is not None:
            # only for an answers: block: archspec.answers loads the results tables and with them the cnn layers
            from .answers import key_diagnostics

            out += key_diagnostics(self, net)
        return out

    def _where(self, name: str) -> tuple:
        """Spec path of a name's declaration (its map entry, the map, or the equations)."""
        for role in ROLES:
            given = getattr(self, role)
            if isinstance(given, dict) and name in given:
                return (role, name)
            if isinstance(given, list) and name in given:
                return (role, given.index(name))
        return ("equations",)

    def _check_outputs(self, net: Network) -> list[Diagnostic]:
        """A located warning at every output the loss leaves out (targets given for others only), and at a unit
        that feeds nothing and so is read as an output although its name does not say so (a2, h)."""
        out = []
        for o in net.outputs:
            node = net.graph.node(o)
            unused = not net.consumers(o) and not OUTPUT_NAME.match(o)
            why = f"'{o}' feeds no other unit, so it is read as an output" if unused else ""
            if self.targets and o not in net.scored:
                out.append(Diagnostic("no-target", (why + "; it" if why else f"output '{o}'") + " has no target, so "
                                      f"the loss leaves it out (it covers {', '.join(net.scored)})",
                                      node.path or ("targets",), severity="warning",
                                      hint=f"add '{o}: VALUE' under targets, or use it in another equation"))
            elif why:
                out.append(Diagnostic("unused-unit", why, node.path or ("equations",), severity="warning",
                                      hint="use it in another equation, or name it y... if it is an output"))
        return out

    def _check_range(self, net: Network) -> list[Diagnostic]:
        """The given values must give finite numbers: no overflow, no saturated sigmoid under a log."""
        why = numeric_problem(net, self.values(), self.targets, self.loss)
        if why is None:
            return []
        name, value = max(self.values().items(), key=lambda kv: abs(kv[1]))
        return [Diagnostic("numeric-range", f"{why}; the largest given value is {name}={value:g}", self._where(name),
                           hint="use smaller inputs and weights: a sigmoid of a large sum is exactly 1 in float64, "
                                "and exp overflows above 709")]

    def _check_loss(self, net: Network) -> list[Diagnostic]:
        if not self.targets:
            return []
        out = []
        if self.loss == "binary_cross_entropy":
            for o in net.outputs:
                if net.graph.node(o).attrs["activation"] != "sigmoid":
                    out.append(Diagnostic("bad-loss", f"binary_cross_entropy needs outputs in (0, 1), but '{o}' "
                                          "is not a sigmoid unit", ("loss",), hint="use squared_error"))
            for name, t in self.targets.items():
                if not 0 <= t <= 1:
                    out.append(Diagnostic("bad-loss", f"binary_cross_entropy needs targets in [0, 1]. "
                                          f"Received: {name}={t}", ("targets", name)))
        if self.loss == "cross_entropy":
            if len(net.outputs) < 2:
                out.append(Diagnostic("bad-loss", "cross_entropy (softmax over the outputs) needs two or more "
                                      "outputs", ("loss",), hint="use binary_cross_entropy for one sigmoid output"))
            ts = list(self.targets.values())
            if any(t < 0 for t in ts) or abs(sum(ts) - 1) > 1e-9 or len(ts) != len(net.outputs):
                out.append(Diagnostic("bad-loss", "cross_entropy needs one target per output, each >= 0, "
                                      f"summing to 1. Received: {self.targets}", ("targets",)))
        return out
