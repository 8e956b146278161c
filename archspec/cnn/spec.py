"""``kind: cnn``: an input shape, a layer list, optional design rules and training."""
from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from ..diagnostics import Diagnostic
from ..specbase import PositiveInt, SpecBase
from ..training.config import TrainConfig
from .answers import CnnAnswers
from .layers import AnyLayer
from .rules import Constraints, check_rules, load_rules_file, rule_problems
from .search import SearchConfig
from .shapes import ShapeReport, infer, layer_names
from .torch_names import taken_by_torch


# A layer's name becomes its torch module's name (and a row in every table): what torch and tables refuse.
NAME_RULES = (
    (lambda n: not n.strip(), "it is blank (leave name out for the default, e.g. conv1)"),
    (taken_by_torch, "torch's nn.Module already has an attribute of that name"),
    (lambda n: "." in n, "it holds '.', which torch reads as a path to a sub-module"),
    (lambda n: any(not ch.isprintable() for ch in n), "it holds a line break or another control character"),
)


class CnnSpec(SpecBase):
    kind: Literal["cnn"]
    input: Annotated[list[PositiveInt], Field(min_length=1, max_length=3,
                                              description="[H, W, C] for images, or [N] for flat inputs")]
    layers: Annotated[list[AnyLayer], Field(min_length=1)]
    constraints: Union[Constraints, str, None] = Field(
        None, description="design rules, or the path of a YAML file holding them (relative to this spec)")
    search: Optional[SearchConfig] = Field(None, description="narrows the design space of `archspec design`")
    train: Optional[TrainConfig] = None
    answers: Optional[CnnAnswers] = Field(None, description="a layer table to grade: `archspec check`")

    @property
    def input_shape(self) -> tuple:
        return tuple(self.input)

    def shapes(self) -> ShapeReport:
        return infer(self.input_shape, self.layers)

    @cached_property
    def _rules(self):
        if isinstance(self.constraints, str):
            return load_rules_file(self.constraints, self.file)
        return self.constraints, [] if self.constraints is None else rule_problems(self.constraints)

    def rules(self):
        """The design rules (loading a referenced rules file), or None."""
        return self._rules[0]

    def check(self) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        if len(self.input) == 2:
            out.append(Diagnostic("bad-input", "input is [H, W, C] or [N], not two numbers", ("input",),
                                  hint="add the channel count, e.g. [28, 28, 1]"))
            return out
        names = layer_names(self.layers)
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            bad = next((why for test, why in NAME_RULES if test(name)), None)
            if bad:
                out.append(Diagnostic("bad-name", f"layer name {name!r} cannot name a torch module: {bad}",
                                      ("layers", i, "name"), hint="use letters, digits and underscores, e.g. conv_1"))
            if name in seen:
                unnamed = [k + 1 for k in (seen[name], i) if not self.layers[k].name]  # a default name collides
                out.append(Diagnostic("duplicate-name", f"layer name '{name}' is used twice (first by layer "
                                      f"{seen[name] + 1})", ("layers", i, "name"),
                                      hint=f"layer {unnamed[0]} has no name: '{name}' is its default (type prefix "
                                           "and running number); name them apart" if unnamed else None))
            seen.setdefault(name, i)
        report = self.shapes()
        out += report.diagnostics
        rules, problems = self._rules
        out += problems
        if rules is not None:
            out += check_rules(rules, self.layers, report)
        return out

    def lower(self):
        """One IR node per layer, chained after an input node."""
        from ..ir import Edge, Graph, Node

        nodes = [Node("input", "input", attrs={"shape": self.input_shape}, path=("input",))]
        report = self.shapes()
        for i, (layer, name) in enumerate(zip(self.layers, layer_names(self.layers))):
            info = report.layers[i] if i < len(report.layers) else None
            nodes.append(Node(name, layer.type, (Edge(nodes[-1].id),), {"layer": layer, "info": info},
                              ("layers", i)))
        return Graph(self.title, "cnn", nodes, [nodes[-1].id])


class RulesSpec(SpecBase):
    """``kind: rules``: design rules in a file of their own, referenced by students' specs
    as ``constraints: path/to/rules.yaml``."""

    kind: Literal["rules"]
    input: Optional[Annotated[list[PositiveInt], Field(min_length=1, max_length=3)]] = None
    constraints: Constraints
    search: Optional[SearchConfig] = Field(None, description="narrows the design space of `archspec design`")

    def check(self) -> list[Diagnostic]:
        return rule_problems(self.constraints)
