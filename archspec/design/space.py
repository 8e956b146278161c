"""Building the search space a rule set allows (``build_space``): the values each searched parameter may
take, clipped to the input, the counts, the channel plan and the head, from a spec's ``constraints:``
(``archspec.cnn.rules``) and an optional ``search:`` block. The space itself is ``archspec.design.moves``.
"""
from __future__ import annotations

import itertools
import math

from ..cnn.layers import BY_TYPE, NOT_PARAMETERS, ShapeError
from ..cnn.rules import Bounds, layer_breaks
from ..diagnostics import Diagnostic
from ..specbase import pair
from ..cnn.search import SearchConfig
from . import budget

from .fixed import channel_plan, check_fixed, head_layers
from .moves import POOL_TYPES, SEARCHED, PoolKind, Space, Step, _axes

# (type, param) -> (lowest, highest) value tried when neither the rules nor search: bound it
DEFAULT_RANGE = {("conv2d", "kernel_size"): (1, 7), ("conv2d", "padding"): (0, 3), ("conv2d", "stride"): (1, 2),
                 ("pool", "kernel_size"): (2, 3), ("pool", "stride"): (1, 3), ("pool", "padding"): (0, 0)}
DEFAULT_COUNT = {"conv2d": (1, 4), "pool": (0, 2)}


def _universe(type_name: str, param: str, rule, wish, notes: list, caps=None, path=()) -> list:
    """Values to try for one parameter: the search: wish, else the rule's range, else a default."""
    family = "conv2d" if type_name == "conv2d" else "pool"
    lo, hi = DEFAULT_RANGE[(family, param)]
    source = wish if wish is not None else rule
    if source is None:
        if type_name != "conv2d" and param == "stride":
            return [None]  # PyTorch's default: stride = kernel_size
        if type_name != "conv2d" and param == "padding":
            return [0]
        notes.append(f"no rule bounds {type_name} {param}: searching {lo}..{hi}")
        return list(range(lo, hi + 1))
    if isinstance(source, Bounds):
        if source.in_ is not None:
            return list(source.in_)
        if source.max is None:
            notes.append(f"{type_name} {param} has no max: searching up to {hi}")
        first = lo if source.min is None else max(lo, math.ceil(source.min))
        last = hi if source.max is None else math.floor(source.max)
        return budget.value_range(first, last, type_name, param, caps, notes, path)
    return list(source) if isinstance(source, list) and wish is not None else [source]


def _steps(type_name: str, rules: dict, search: SearchConfig | None, fixed: dict, notes: list, caps=None,
           where=("constraints",)) -> list[Step]:
    """Every allowed (kernel, stride, padding) of one layer type, smallest first."""
    wishes = {p: getattr(search, p) for p in SEARCHED} if search and type_name == "conv2d" else {}
    same_only = wishes.get("padding") == "same-only"
    if same_only:
        wishes["padding"] = None
    at = {p: ("search", p) if wishes.get(p) is not None else where + (type_name, p) for p in SEARCHED}
    values = {p: [0] if p == "padding" and same_only else _universe(type_name, p, rules.get(p), wishes.get(p), notes,
                                                                     caps, at[p]) for p in SEARCHED}
    budget.check_product(type_name, values, at)
    out = []
    for k, p, s in itertools.product(values["kernel_size"], values["padding"], values["stride"]):
        if same_only:
            if any(v % 2 == 0 for v in pair(k)) or p != values["padding"][0]:
                continue
            p = (k - 1) // 2 if isinstance(k, int) else [(v - 1) // 2 for v in k]
        params = {"type": type_name, "kernel_size": k, "padding": p, **fixed}
        if s is not None:
            params["stride"] = s
        if type_name == "conv2d":
            params.setdefault("out_channels", fixed.get("groups", 1))  # a placeholder groups divides
        try:
            layer = BY_TYPE[type_name].model_validate(params)
            layer.check_settings()  # refuses pool padding > k/2, strided 'same'
        except (ValueError, ShapeError):
            continue
        resolved = layer.resolved()
        if any(layer_breaks(rules[q], layer, q) for q in SEARCHED if q in rules):
            continue
        label = (0 if type_name == "conv2d" else 1 + POOL_TYPES.index(type_name),
                 *pair(k), *(resolved["padding"] if type_name == "conv2d" else pair(p)), *resolved["stride"])
        out.append(Step(type_name, label, layer, _axes(layer)))
    # one step per distinct layer: `in: [3, 3]` or kernel 3 beside [3, 3] must not count a design twice
    unique: dict = {}
    for step in sorted(out, key=lambda s: s.label):
        unique.setdefault(step.label, step)
    return list(unique.values())


def _fixed(type_name: str, rules: dict) -> dict:
    """Non-searched parameters pinned by an exact rule (e.g. bias: false, ceil_mode: true)."""
    fields = set(BY_TYPE[type_name].model_fields) - {*NOT_PARAMETERS, "out_channels", *SEARCHED}
    return {p: r for p, r in rules.items() if p in fields and not isinstance(r, Bounds)}


def _used(counts: tuple, notes: list) -> list:
    """Where notes about a layer type's searched values go: nowhere when the rules allow none of them."""
    return notes if any(counts) else []


def build_space(input_shape, rules, search: SearchConfig | None = None, where=("constraints",)) -> Space:
    """The space of designs ``rules`` allow on ``input_shape`` (H, W, C)."""
    search = search or SearchConfig()
    notes: list[str] = []
    if len(input_shape) != 3:
        problem = Diagnostic("design-input", f"design search needs an image input [H, W, C], not "
                             f"{list(input_shape)}", ("input",))
        return Space(tuple(input_shape), [], [], {}, None, [], None, problems=[problem], where=where)
    blocks = {t: (getattr(rules, t) or {}) for t in BY_TYPE}
    conv_rules, caps = blocks["conv2d"], budget.caps(input_shape, rules)
    counts = budget.counts("conv2d", conv_rules.get("count"), DEFAULT_COUNT["conv2d"], notes, caps.side,
                           where + ("conv2d", "count"))
    convs = _steps("conv2d", conv_rules, search, _fixed("conv2d", conv_rules), _used(counts, notes), caps, where)
    pools = []
    for t in POOL_TYPES:
        if getattr(rules, t) is None:
            continue  # no rules for this pool kind: it is not part of the exercise
        many = budget.counts(t, blocks[t].get("count"), DEFAULT_COUNT["pool"], notes, caps.side, where + (t, "count"))
        pools.append(PoolKind(t, many, _steps(t, blocks[t], None, _fixed(t, blocks[t]), _used(many, notes), caps,
                                              where)))
    flat = rules.before_flatten
    target = tuple(flat) if flat is not None and len(flat) == 3 else None
    head, problems = head_layers(rules, search, where)
    if target is None and rules.output is not None and len(rules.output) == 3:
        target = tuple(rules.output)
    activation = None if search.activation == "none" else BY_TYPE[search.activation](type=search.activation)
    space = Space(tuple(input_shape), convs, pools, {}, activation, head, target,
                  rules.max_params, notes, problems, where)
    for n in counts:
        plan = channel_plan(n, search, target[2] if target else None)
        if plan is not None:
            space.plans[n] = plan
    space.problems += check_fixed(space, rules, search, counts, where)
    if space.problems:
        space.plans = {}
    budget.check_estimate(space, caps, where)
    return space
