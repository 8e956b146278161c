"""Design rules (the ``constraints:`` block) and checking a design against them.

A rule on a parameter is an exact value (``stride: 2``) or bounds
(``{min, max, odd, even, in}``); ``count`` bounds how many layers of a type
there are; ``before_flatten`` and ``output`` pin shapes.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Annotated, Optional, Union

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, create_model

from ..diagnostics import Diagnostic, SpecError, did_you_mean, path_text
from ..loader import load_file
from ..model_errors import pydantic_diagnostics, value_problem
from ..specbase import PositiveInt, RuleFloat, RuleInt, Strict
from .layers import BY_TYPE, Layer
from .base import NOT_PARAMETERS
from .shapes import ShapeReport, dims, layer_names
from .reach import reach_hint

Scalar = Union[bool, RuleInt, RuleFloat, str]


class Bounds(Strict):
    min: Optional[RuleFloat] = None
    max: Optional[RuleFloat] = None
    odd: Optional[bool] = None
    even: Optional[bool] = None
    in_: Optional[list[Scalar]] = Field(None, alias="in")

    def broken_by(self, v) -> str | None:
        """The text of the first bound ``v`` breaks, or None."""
        if self.in_ is not None and v not in self.in_:
            return f"in {self.in_}"
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return None if self.in_ is not None else "a number"
        if self.min is not None and v < self.min:
            return f"min {self.min:g}"
        if self.max is not None and v > self.max:
            return f"max {self.max:g}"
        if self.odd and v % 2 != 1:
            return "odd"
        if self.odd is False and v % 2 == 1:
            return "not odd"
        if self.even and v % 2 != 0:
            return "even"
        return None

    def allows(self, v) -> bool:
        return self.broken_by(v) is None


Rule = Union[Bounds, Scalar, list[Scalar]]
LayerRules = dict[str, Rule]
Shape3 = Annotated[list[PositiveInt], Field(min_length=1, max_length=3)]

Constraints = create_model(
    "Constraints",
    __base__=Strict,
    before_flatten=(Optional[Shape3], Field(None, description="H, W, C entering the first flatten")),
    output=(Optional[Shape3], Field(None, description="shape of the network's output")),
    max_params=(Optional[PositiveInt], None),
    **{t: (Optional[LayerRules], Field(None, description=f"rules for {t} layers; 'count' bounds their number"))
       for t in BY_TYPE},
)


def _components(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def rule_text(rule) -> str:
    if isinstance(rule, Bounds):
        parts = [f"{k} {v:g}" for k, v in (("min", rule.min), ("max", rule.max)) if v is not None]
        parts += [name for name in ("odd", "even") if getattr(rule, name)]
        parts += [f"in {rule.in_}"] if rule.in_ is not None else []
        return ", ".join(parts)
    return f"= {rule}"


def breaks(rule, value) -> bool:
    """True when the (resolved) value breaks the rule; pairs must satisfy it on both axes."""
    if isinstance(rule, Bounds):
        return any(rule.broken_by(c) for c in _components(value))
    if isinstance(rule, list) and isinstance(value, (tuple, list)):
        return list(value) != list(rule)
    return any(c != rule for c in _components(value))


def layer_breaks(rule, layer: Layer, param: str) -> bool:
    """``breaks`` on the layer's resolved value, with a rule's words resolved on the same layer first: 'padding:
    same' is the padding that keeps this kernel's size (so padding: same and padding: 1 on a 3x3 both meet it)."""
    def resolve(v):
        if not isinstance(v, str):
            return v
        got = layer.model_copy(update={param: v}).resolved()[param]
        return list(got) if isinstance(got, tuple) else got

    if isinstance(rule, Bounds) and any(isinstance(v, str) for v in rule.in_ or []):
        rule = rule.model_copy(update={"in_": [c for v in rule.in_ for c in _components(resolve(v))]})
    return breaks(resolve(rule), layer.resolved().get(param))


def count_breaks(rule, n: int) -> bool:
    return not (rule.allows(n) if isinstance(rule, Bounds) else n == rule)


def _settings(type_name: str) -> set[str]:
    return set(BY_TYPE[type_name].model_fields) - NOT_PARAMETERS


@lru_cache(maxsize=None)
def _value_check(type_name: str, param: str):
    """A strict pydantic validator of one layer setting (its type and bounds, as in a spec)."""
    f = BY_TYPE[type_name].model_fields[param]
    kind = Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation
    return TypeAdapter(kind, config=ConfigDict(strict=True))


def _fixed_values(rule, path: tuple) -> list[tuple[object, tuple]]:
    """(value, where) of each value a rule pins: the rule itself, or each item of a bounds' 'in' list."""
    if isinstance(rule, Bounds):
        return [(v, path + ("in", k)) for k, v in enumerate(rule.in_ or [])]
    return [(rule, path)]


def rule_problems(rules, rules_path=("constraints",)) -> list[Diagnostic]:
    """Rules that name no parameter of their layer type, or pin a value that parameter cannot take
    (kernel_size 2.0, stride '2'): such a rule could never be met, and the design search would find nothing."""
    out: list[Diagnostic] = []
    for type_name in BY_TYPE:
        for param, rule in (getattr(rules, type_name) or {}).items():
            path = rules_path + (type_name, param)
            if param == "count":
                bad = [(v, at) for v, at in _fixed_values(rule, path) if type(v) is not int or v < 0]
                out += [Diagnostic("bad-rule", f"{type_name} count {v!r}: a count is a whole number", at,
                                   hint="e.g. count: 2 or count: {max: 2}") for v, at in bad]
                continue
            allowed = _settings(type_name)
            if param not in allowed:
                out.append(Diagnostic("unknown-rule", f"{type_name} has no parameter '{param}'", path,
                                      hint=did_you_mean(param, allowed) or f"parameters: {', '.join(sorted(allowed))}"))
                continue
            for value, at in _fixed_values(rule, path):
                try:
                    _value_check(type_name, param).validate_python(value)
                except ValidationError as exc:
                    d = value_problem(exc, param, at, value)  # worded as the same value in a layer
                    out.append(replace(d, code="bad-rule", message=f"{type_name} {d.message}"))
    return out


def check_rules(rules, layers: list[Layer], report: ShapeReport, rules_path=("constraints",),
                hints: bool = True) -> list[Diagnostic]:
    """Every broken rule as its own diagnostic: at the layer, or at the rule for counts; ``hints=False`` skips
    the what-would-reach-it search of a missed shape (repairs only ask whether a design passes)."""
    out: list[Diagnostic] = []
    names = layer_names(layers)
    unusable = {d.path[len(rules_path):len(rules_path) + 2] for d in rule_problems(rules, rules_path)}
    for type_name in BY_TYPE:
        block = getattr(rules, type_name)
        if not block:
            continue
        mine = [(i, layer) for i, layer in enumerate(layers) if layer.type == type_name]
        for param, rule in block.items():
            rpath = rules_path + (type_name, param)
            if (type_name, param) in unusable:
                continue  # rule_problems reports it where the rule is written
            if param == "count":
                if count_breaks(rule, len(mine)):
                    out.append(Diagnostic("rule-count", f"{len(mine)} {type_name} layer(s) break the rule "
                                          f"'count {rule_text(rule)}'", rpath))
                continue
            for i, layer in mine:
                value = layer.resolved()[param]
                if layer_breaks(rule, layer, param):
                    where = ("layers", i, param) if param in layer.model_fields_set else ("layers", i)
                    shown = "x".join(map(str, value)) if isinstance(value, tuple) else value
                    out.append(Diagnostic("rule-param", f"{names[i]}: {param} {shown} breaks the rule "
                                          f"'{param} {rule_text(rule)}' ({path_text(rpath)})", where))
    if rules.before_flatten is not None:
        idx = next((i for i, layer in enumerate(layers) if layer.type == "flatten"), None)
        got = report.before("flatten")
        if idx is None:
            out.append(Diagnostic("rule-shape", "the rule before_flatten needs a flatten layer, and there is none",
                                  rules_path + ("before_flatten",)))
        elif report.complete and tuple(got) != tuple(rules.before_flatten):
            out.append(Diagnostic("rule-shape", f"before flatten the shape is {dims(got)}, but the rule asks for "
                                  f"{dims(rules.before_flatten)}", ("layers", idx),
                                  hint=reach_hint(report.input, layers, idx, rules.before_flatten) if hints else None))
    if rules.output is not None and report.complete and tuple(report.output) != tuple(rules.output):
        out.append(Diagnostic("rule-shape", f"the output is {dims(report.output)}, but the rule asks for "
                              f"{dims(rules.output)}", ("layers", len(layers) - 1)))
    if rules.max_params is not None and report.complete and report.params > rules.max_params:
        out.append(Diagnostic("rule-params", f"{report.params:,} parameters, more than the rule's max_params "
                              f"{rules.max_params:,}", rules_path + ("max_params",)))
    return out


_RulesBlock = create_model("RulesBlock", constraints=(Constraints, ...))  # rules under 'constraints:' in their file


def load_rules_file(ref: str, spec_file: str):
    """Rules kept in their own YAML file (the mapping itself, or under 'constraints:'). Problems are reported at
    the spec's ``constraints:``, each quoting the rules file's own file:line:col."""
    def problems(*diags):
        placed = [doc.source.place(d, prefer_key=d.code == "unknown-key") for d in diags]
        return None, [Diagnostic("rules-file", f"rules file {ref}: {d.format(str(path))}", ("constraints",))
                      for d in placed]

    if not ref.strip():
        return None, [Diagnostic("rules-file", "constraints: names no rules file", ("constraints",),
                                 hint="give the rules inline, or a path such as ../rules/q6-rules.yaml")]
    path = FsPath(spec_file).parent / ref
    try:
        doc = load_file(path)
    except SpecError as exc:
        return None, [Diagnostic("rules-file", f"rules file {ref}: {exc.diagnostics[0].format(str(path))}",
                                 ("constraints",))]
    inner = "constraints" in doc.data
    where = ("constraints",) if inner else ()
    data = doc.data["constraints"] if inner else doc.data
    if isinstance(data, str):
        return problems(Diagnostic("rules-file", f"its constraints: names another file ({data}) instead of "
                                   "holding the rules", where, hint="point the spec at that file itself"))
    if not inner and "kind" in doc.data:
        return problems(Diagnostic("rules-file", f"this kind: {doc.data['kind']} file has no constraints: block",
                                   ("kind",), hint="a rules file is kind: rules with input: and constraints:"))
    if not isinstance(data, dict):
        held = "nothing" if data is None else repr(data)[:40]
        return problems(Diagnostic("rules-file", f"the rules should map layer types to rules, but this holds {held}",
                                   where))
    model, wrapped = (_RulesBlock, {"constraints": data}) if inner else (Constraints, data)
    try:  # validated as the file holds them, so errors carry its paths
        parsed = model.model_validate(wrapped)
    except ValidationError as exc:
        return problems(*pydantic_diagnostics(exc, wrapped, model))
    rules = parsed.constraints if inner else parsed
    return rules, problems(*rule_problems(rules, where))[1]
