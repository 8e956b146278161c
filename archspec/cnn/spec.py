"""``kind: cnn``: an input shape, a layer list, optional design rules and training."""
from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from ..diagnostics import Diagnostic
from ..limits import LAYERS
from ..specbase import FilePath, PositiveInt, SpecBase
from ..train_config import TrainConfig
from .answers import CnnAnswers
from .blocks import BlockDef, origins_of
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
    (lambda n: n == "input", "'input' names the network's input (from: input)"),
    (lambda n: any(not ch.isprintable() for ch in n), "it holds a line break or another control character"),
)


class CnnSpec(SpecBase):
    kind: Literal["cnn"]
    input: Annotated[list[PositiveInt], Field(min_length=1, max_length=3,
                                              description="[H, W, C] for images, or [N] for flat inputs")]
    layers: Annotated[list[AnyLayer], Field(min_length=1, max_length=LAYERS, description="the layers in order; an "
                                            "entry {block: NAME, ...} uses a block (see blocks)")]
    blocks: Optional[dict[str, BlockDef]] = Field(None, description="reusable layer lists with parameters: "
                                                  "{NAME: {params: {p: default}, layers: [...]}}; expanded "
                                                  "before anything else reads the spec")
    constraints: Union[Constraints, FilePath, None] = Field(
        None, description="design rules, or the path of a YAML file holding them (relative to this spec)")
    search: Optional[SearchConfig] = Field(None, description="narrows the design space of `archspec design`")
    train: Optional[TrainConfig] = None
    answers: Optional[CnnAnswers] = Field(None, description="a layer table to grade: `archspec check`")

    @property
    def input_shape(self) -> tuple:
        return tuple(self.input)

    def uses(self) -> list[tuple] | None:
        """Per layer, the block uses it was expanded through (outermost first); None without blocks."""
        origins = origins_of(self)
        return None if origins is None else [o.uses for o in origins]

    def shapes(self) -> ShapeReport:
        report = infer(self.input_shape, self.layers)
        report.uses = self.uses()
        return report

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
        origins = origins_of(self)
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            expanded = origins is not None and origins[i].uses  # 'use.layer': each part as written is a name
            bad = next((why for part in (name.split(".") if expanded else [name])
                        for test, why in NAME_RULES if test(part)), None)
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
        groups = {".".join(n.split(".")[:k]) for n in names for k in range(1, n.count(".") + 1)}
        for i, name in enumerate(names):  # 'layer1' beside 'layer1.conv1': one name for a layer and a use
            if name in groups:
                out.append(Diagnostic("duplicate-name", f"layer name '{name}' is also the name of a block use "
                                      f"(its layers are {name}.*)", ("layers", i, "name"),
                                      hint="name the layer or the use apart"))
        report = self.shapes()
        out += report.diagnostics
        rules, problems = self._rules
        out += problems
        if rules is not None:
            out += check_rules(rules, self.layers, report)
        return out

    def lower(self):
        """The IR graph: an input node, then one node per layer with its resolved attributes and shapes."""
        from .lower import lower  # validate never lowers: the IR's modules load for the back ends only

        return lower(self.title, self.input_shape, self.layers, self.uses())


class RulesSpec(SpecBase):
    """``kind: rules``: design rules in a file of their own, referenced by students' specs
    as ``constraints: path/to/rules.yaml``."""

    kind: Literal["rules"]
    input: Optional[Annotated[list[PositiveInt], Field(min_length=1, max_length=3)]] = None
    constraints: Constraints
    search: Optional[SearchConfig] = Field(None, description="narrows the design space of `archspec design`")

    def check(self) -> list[Diagnostic]:
        return rule_problems(self.constraints)
