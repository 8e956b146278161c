"""Repairs: the smallest edits that make a spec meet its design rules.

The neighbourhood of a design is every spec one edit away (one parameter of one
layer changed to a value the rules allow, a pool removed, a pool inserted
anywhere in the encoder), then every spec two edits away. Candidates are first
screened with shape inference and the rule checker, then each survivor is
written out and re-validated by archspec's own validator before it is shown.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path as FsPath

from ..cnn.layers import BY_TYPE
from ..cnn.rules import Bounds, check_rules, layer_breaks
from ..cnn.shapes import infer, layer_names
from ..kinds import fact
from ..diagnostics import SpecError
from ..limits import REPAIR_LAYERS, REPAIR_WORK
from ..loader import load_file
from ..tables import dims
from ..validation import check_text
from ..cnn.search import SearchConfig
from .moves import ACTIVATIONS, POOL_TYPES, SEARCHED
from .space import build_space
from .write import spec_yaml

MAX_EDITS = 2


@dataclass(frozen=True)
class Edit:
    op: str  # set | remove | insert
    index: int  # layer index in the original spec (insert: the new layer goes before it)
    param: str | None = None
    value: object = None  # set: the new value; insert: the layer
    text: str = ""
    size: int = 1  # how big the change is, to rank suggestions

    def target(self):
        return (self.index, self.param) if self.op == "set" else (self.op, self.index, repr(self.value))


@dataclass
class Suggestion:
    edits: tuple  # of Edit
    message: str  # "conv3: stride 1 -> 2 gives 7 x 7 x 256 before flatten"
    layers: list  # the edited layer list
    text: str  # the edited spec file, verified valid

    def __str__(self) -> str:
        return self.message


def apply(layers: list, edits) -> list:
    """The layer list after ``edits`` (indices refer to the original list)."""
    out = list(layers)
    for e in edits:
        if e.op == "set":
            out[e.index] = out[e.index].model_copy(update={e.param: e.value})
    # positional edits from the back so earlier indices stay put; a removal before an insert at the same index
    for e in sorted((e for e in edits if e.op != "set"), key=lambda e: (-e.index, e.op != "remove")):
        if e.op == "remove":
            del out[e.index]
        else:
            out.insert(e.index, e.value)
    return [BY_TYPE[x.type].model_validate(x.model_dump()) for x in out]  # re-run field validation


def _shown(v) -> str:
    return "x".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)


def _step_values(steps, param) -> list:
    return sorted({tuple(v) if isinstance(v, list) else v for v in (getattr(s.layer, param) for s in steps)
                   if v is not None}, key=lambda v: (str(type(v)), v))


def _near(rule, value) -> list:
    """Values close to ``value`` that obey ``rule`` (for parameters the search does not vary)."""
    if not isinstance(rule, Bounds):
        return [rule]
    if rule.in_ is not None:
        return sorted((v for v in rule.in_ if isinstance(v, int)), key=lambda v: (abs(v - value), v))[:2] \
            if isinstance(value, int) else list(rule.in_[:1])
    if not isinstance(value, int):
        return []
    got = [v for v in range(max(0, value - 2), value + 3) if rule.allows(v)]
    if rule.max is not None and value > rule.max:
        got += [v for v in range(int(rule.max), int(rule.max) - 3, -1) if rule.allows(v)]
    if rule.min is not None and value < rule.min:
        got += [v for v in range(int(rule.min), int(rule.min) + 3) if rule.allows(v)]
    return sorted(set(got), key=lambda v: (abs(v - value), v))[:2]


def _size(old, new) -> int:
    try:
        return max(abs(a - b) for a, b in zip(*(v if isinstance(v, (tuple, list)) else (v, v) for v in (old, new))))
    except TypeError:
        return 1


def candidates(spec, rules, space) -> list[Edit]:
    """Every single edit the rules allow (parameter changes, pool removals and insertions)."""
    layers, names = spec.layers, layer_names(spec.layers)
    kinds = {k.type: k for k in space.pools}
    flat = next((i for i, x in enumerate(layers) if x.type == "flatten"), len(layers))
    last_conv = max((j for j in range(flat) if layers[j].type == "conv2d"), default=-1)
    classes = rules.output[0] if rules.output is not None and len(rules.output) == 1 else None
    out = []
    for i, layer in enumerate(layers):
        block = getattr(rules, layer.type) or {}
        steps = space.convs if layer.type == "conv2d" else (kinds[layer.type].steps if layer.type in kinds else [])
        for param in type(layer).model_fields:
            current = getattr(layer, param)
            if param in SEARCHED and steps:
                values = _step_values(steps, param)
            elif param in block and layer_breaks(block[param], layer, param):
                values = _near(block[param], current)
            elif param == "out_channels" and i == last_conv and space.target is not None:
                values = [space.target[2]]
            elif param == "out_features" and i == len(layers) - 1 and classes is not None:
                values = [classes]
            else:
                continue
            for v in values:
                v = list(v) if isinstance(v, tuple) else v
                changed = layer.model_copy(update={param: v}).resolved().get(param) != layer.resolved().get(param)
                if v != current and changed:
                    out.append(Edit("set", i, param, v, f"{names[i]}: {param} {_shown(current)} -> {_shown(v)}",
                                    _size(current, v)))
        if layer.type in POOL_TYPES and i < flat:
            out.append(Edit("remove", i, text=f"remove {names[i]}"))
    follows = ACTIVATIONS + ("batchnorm2d",)  # layers that belong to the conv before them
    for pos in range(flat + 1):
        if 0 < pos < len(layers) and layers[pos - 1].type == "conv2d" and layers[pos].type in follows:
            continue  # not between a conv and its activation
        prev = pos - 1
        while prev > 0 and layers[prev].type in follows and layers[prev - 1].type == "conv2d":
            prev -= 1
        where = f"before {names[0]}" if pos == 0 else f"after {names[prev]}"
        for kind in kinds.values():
            for step in kind.steps:
                settings = step.layer.settings().replace("=", " ")
                out.append(Edit("insert", pos, value=step.layer, text=f"add {kind.type} ({settings}) {where}"))
    return out


def _conflict(edits) -> bool:
    """Two edits of one parameter, or an edit of a layer that another edit removes."""
    removed = {e.index for e in edits if e.op == "remove"}
    return len({e.target() for e in edits}) < len(edits) or any(e.op == "set" and e.index in removed for e in edits)


def _raw(spec) -> dict:
    """The spec's own top-level mapping (to keep its constraints, train... as written)."""
    if FsPath(spec.file).is_file():
        return dict(load_file(spec.file).data)
    return spec.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)


def _outcome(rules, report) -> str:
    if rules.before_flatten is not None and report.before("flatten") is not None:
        return f"gives {dims(report.before('flatten'))} before flatten"
    if rules.output is not None:
        return f"gives output {dims(report.output)}"
    return "meets every rule"


def suggest(spec, limit: int = 5, search: SearchConfig | None = None) -> list[Suggestion]:
    """Verified repairs of an invalid cnn spec with design rules, smallest first (none if it is valid)."""
    rules = spec.rules() if hasattr(spec, "rules") else None
    if rules is None or len(spec.input) != 3 or len(spec.layers) > REPAIR_LAYERS or not spec.check():
        return []
    try:
        space = build_space(spec.input, rules, search)
    except SpecError:  # rules too wide to search: no repair is proposed from them
        return []
    singles = candidates(spec, rules, space)
    raw = _raw(spec)
    extra = {k: raw[k] for k in ("train",) if k in raw}
    out: list[Suggestion] = []
    trials = REPAIR_WORK // max(1, len(spec.layers))  # each trial infers every layer's shape
    for n in range(1, MAX_EDITS + 1):
        found = []
        for edits in itertools.islice(itertools.combinations(singles, n), max(0, trials)):
            trials -= 1
            if _conflict(edits):
                continue
            try:
                layers = apply(spec.layers, edits)
            except ValueError:
                continue
            report = infer(spec.input_shape, layers)
            if report.diagnostics or check_rules(rules, layers, report, hints=False):  # a yes/no: no reach hints
                continue
            found.append((sum(e.size for e in edits), edits, layers, report))
        ranked = sorted(found, key=lambda f: (f[0], [(e.index, e.text) for e in f[1]]))
        for _, edits, layers, report in ranked[:3 * limit]:  # each check re-reads a whole spec
            text = spec_yaml(spec.title, spec.input, layers,
                             raw.get("constraints"), [f"{spec.file} repaired: " + "; ".join(e.text for e in edits)],
                             extra, raw.get("description"))
            if check_text(text, spec.file).valid:  # verified by the validator itself
                out.append(Suggestion(edits, f"{', '.join(e.text for e in edits)} {_outcome(rules, report)}",
                                      layers, text))
            if len(out) >= limit:
                return out
        if out:
            return out
    return out


def report_suggestions(report) -> list[str] | None:
    """Repair messages for an invalid cnn spec with rules (``validate --suggest``), else None."""
    spec = report.spec
    if report.valid or spec is None or fact(spec.kind, "design") != "attempt" or spec.rules() is None:
        return None
    if len(spec.layers) > REPAIR_LAYERS:
        return [f"no repair searched: {len(spec.layers):,} layers is more than the {REPAIR_LAYERS} --suggest tries"]
    got = [s.message for s in suggest(spec)]
    return got or [f"no repair within {MAX_EDITS} edits; `archspec design {report.file}` lists designs that "
                   "meet the rules"]
