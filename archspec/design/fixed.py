"""The parts of a design the search does not vary: the head, and rules on fixed parameters.

The search varies each conv's and pool's kernel/stride/padding and where pools
go; everything else (channel plan, activation, head, pinned parameters) is
fixed, so the rules about those are checked once per number of convs here.
"""
from __future__ import annotations

from ..cnn.layers import BY_TYPE, Flatten, Linear
from ..cnn.rules import count_breaks, layer_breaks, rule_text
from ..diagnostics import Diagnostic
from .moves import SEARCHED


def _dims(shape) -> str:
    return " x ".join(map(str, shape))


def channel_plan(n: int, search, final: int | None) -> list[int] | None:
    """out_channels of each of n convs: search: out_channels, else doubling from start_channels to ``final``."""
    if n == 0:
        return []
    if isinstance(search.out_channels, list):
        return list(search.out_channels) if len(search.out_channels) == n else None
    start = search.start_channels
    last = final if final is not None else start * 2 ** (n - 1)
    return [min(start * 2 ** j, last) for j in range(n - 1)] + [last]


def head_layers(rules, search, where) -> tuple[list, list[Diagnostic]]:
    """flatten, the hidden linears of search:, and the output linear the rules ask for."""
    block = rules.linear or {}
    out = block.get("out_features")
    if not isinstance(out, int) or isinstance(out, bool):
        out = rules.output[0] if rules.output is not None and len(rules.output) == 1 else None
    count = block.get("count")
    wants_linear = bool(search.hidden) or (count is not None and count_breaks(count, 0))
    if out is None:
        if wants_linear:
            return [], [Diagnostic("design-head", "the rules ask for linear layers but not how many outputs the "
                                   "last one has", where + ("linear",),
                                   hint="add linear: {out_features: N} or output: [N] to the rules")]
        return ([Flatten(type="flatten")] if rules.before_flatten is not None else []), []
    pinned = {p: r for p, r in block.items() if p == "bias" and isinstance(r, bool)}
    linears = [Linear(type="linear", out_features=f, **pinned) for f in (*search.hidden, out)]
    return [Flatten(type="flatten"), *linears], []


def representative(space, n: int) -> list:
    """One design with n convs (first choices, fewest pools) to check the fixed rules on."""
    layers = []
    for i in range(n):
        if space.convs:
            layers.append(space.conv_layer(space.convs[0], n, i))
            layers += [space.activation] if space.activation is not None else []
    for kind in space.pools:
        layers += [kind.steps[0].layer] * kind.lo if kind.steps else []
    return layers + space.head


def _broken(rules, layers, searched_types, where) -> Diagnostic | None:
    """The first rule (on a non-searched parameter or count) this design breaks."""
    for type_name in BY_TYPE:
        block = getattr(rules, type_name) or {}
        mine = [layer for layer in layers if layer.type == type_name]
        for param, rule in block.items():
            path = where + (type_name, param)
            if param == "count":
                if type_name not in searched_types and count_breaks(rule, len(mine)):
                    return Diagnostic("design-impossible", f"the designs searched have {len(mine)} {type_name} "
                                      f"layer(s), but the rule asks for 'count {rule_text(rule)}'", path)
                continue
            if type_name in searched_types and param in SEARCHED:
                continue
            for layer in mine:
                value = layer.resolved().get(param)
                if value is None and param not in type(layer).model_fields:
                    return Diagnostic("design-impossible", f"{type_name} has no parameter '{param}'", path)
                if layer_breaks(rule, layer, param):
                    shown = "x".join(map(str, value)) if isinstance(value, tuple) else value
                    return Diagnostic("design-impossible", f"every design has a {type_name} with {param} {shown}, "
                                      f"which breaks the rule '{param} {rule_text(rule)}'", path,
                                      hint="relax the rule, or set the value in the search: block")
    return None


def check_fixed(space, rules, search, counts, where) -> list[Diagnostic]:
    """Drop conv counts whose fixed layers break a rule; problems when none is left."""
    if not counts:
        return [Diagnostic("design-impossible", "the conv2d count rule allows no count", where + ("conv2d", "count"))]
    lo, hi = counts[0], counts[-1]
    if hi > 0 and not space.convs:
        return [Diagnostic("design-impossible", "no conv2d kernel_size/stride/padding satisfies the rules together",
                           where + ("conv2d",))]
    if rules.before_flatten is not None and len(rules.before_flatten) != 3:
        return [Diagnostic("design-impossible", f"before_flatten {rules.before_flatten} is not H, W, C: a conv "
                           "encoder always ends in a feature map", where + ("before_flatten",))]
    for kind in space.pools:
        if not kind.counts:
            return [Diagnostic("design-impossible", f"the {kind.type} count rule allows no count",
                               where + (kind.type, "count"))]
        if kind.lo > 0 and not kind.steps:
            return [Diagnostic("design-impossible", f"the rules ask for {kind.type} layers, but no kernel_size/"
                               "stride/padding satisfies them together", where + (kind.type,))]
    if not space.plans:
        got = len(search.out_channels) if isinstance(search.out_channels, list) else 0
        return [Diagnostic("design-impossible", f"the channel plan has {got} value(s), but the rules ask for "
                           f"{lo if lo == hi else f'{lo} to {hi}'} conv2d layers", ("search", "out_channels"))]
    first = None
    searched = {"conv2d"} | {k.type for k in space.pools}
    for n in sorted(space.plans):
        problem = None
        if space.target is not None and n > 0 and space.plans[n][-1] != space.target[2]:
            problem = Diagnostic("design-impossible", f"the channel plan ends at {space.plans[n][-1]} channels, but "
                                 f"the rules ask for {_dims(space.target)} before flatten", ("search", "out_channels"))
        elif space.target is not None and n == 0 and space.input[2] != space.target[2]:
            problem = Diagnostic("design-impossible", f"with no conv2d the channels stay {space.input[2]}, but the "
                                 f"rules ask for {space.target[2]}", where + ("before_flatten",))
        else:
            layers = representative(space, n)
            problem = (_unfit(space, n, where) or _broken(rules, layers, searched, where)
                       or _output_problem(rules, space, where))
        if problem is not None:
            del space.plans[n]
            first = first or problem
    return [first] if not space.plans and first else []


def _unfit(space, n: int, where) -> Diagnostic | None:
    """The first conv of an n-conv design whose channels its pinned groups does not divide."""
    for i in range(n):
        if space.convs and not any(space.fits(step, n, i) for step in space.convs):
            return Diagnostic("design-impossible", f"conv2d groups {space.convs[0].layer.groups} must divide the "
                              f"{space.channels(n, i)} channels entering conv{i + 1} and its {space.plans[n][i]} "
                              "out_channels", where + ("conv2d", "groups"),
                              hint="pin a groups that divides every conv's channels, or set search: out_channels")
    return None


def _output_problem(rules, space, where) -> Diagnostic | None:
    if rules.output is None or len(rules.output) != 1 or not space.head:
        return None
    last = space.head[-1]
    if getattr(last, "out_features", None) != rules.output[0]:
        return Diagnostic("design-impossible", f"the head ends in {getattr(last, 'out_features', '?')} outputs, but "
                          f"the rule output asks for {rules.output[0]}", where + ("output",))
    return None
