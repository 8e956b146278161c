"""How large a design search is, from the rule values alone, before anything is enumerated.

A rule may allow any number up to ``archspec.limits.RULE_NUMBER`` (``stride: {max: 100000000}``), far more than
any input lets matter. Every searched range is clipped to what the input allows first:

* a kernel or stride is searched up to the largest side any layer can see (the input's side grown by every
  conv's largest padding): a larger kernel fits no map, a larger stride gives the same 1-cell output;
* a conv padding is searched up to the input's side (beyond it, only cells that see nothing but padding);
* a count is searched up to the number of layers the remaining budget can hold.

What is still too large (more than ``DESIGN_VALUES`` values of one parameter, or more layer choices than
``DESIGN_CHOICES`` by the estimate below) is a ``design-too-large`` error at the rule that makes it so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..cnn.rules import Bounds, count_breaks
from ..diagnostics import Diagnostic, SpecError
from ..limits import DESIGN_CHOICES, DESIGN_VALUES

HINT = "narrow it: a lower max, an explicit list (in: [...]) or a search: block"


@dataclass(frozen=True)
class Caps:
    """The highest value worth searching per parameter, for one input and rule set."""

    side: int  # the input's larger side
    reach: int  # the largest side a layer can see
    convs: int  # the most convs a design may have

    def top(self, param: str) -> int:
        return self.side if param == "padding" else self.reach

    def why(self, type_name: str, param: str) -> str:
        if param == "padding":
            return f"{type_name} padding above the input's side {self.side} is not searched"
        return (f"{type_name} {param} above {self.reach} (the largest side a layer can see here) is not searched"
                + ("; a larger stride gives the same 1-cell output" if param == "stride" else ""))


def _top(rule, fallback: int) -> int:
    """The largest number a rule allows (an exact value, a max, an in: list), else ``fallback``."""
    if rule is None:
        return fallback
    if isinstance(rule, Bounds):
        if rule.in_ is not None:
            return max((int(v) for v in rule.in_ if isinstance(v, (int, float)) and not isinstance(v, bool)), default=0)
        return fallback if rule.max is None else max(0, math.floor(rule.max))
    if isinstance(rule, bool) or isinstance(rule, str):
        return fallback
    values = rule if isinstance(rule, list) else [rule]
    return max((int(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)), default=0)


def caps(input_shape, rules) -> Caps:
    """Caps for ``rules`` on an (H, W, C) input."""
    block = getattr(rules, "conv2d") or {}
    side = max(input_shape[:2])
    convs = _top(block.get("count"), 4)
    padding = min(_top(block.get("padding"), 3), side)
    return Caps(side, side + 2 * convs * padding, convs)


def counts(type_name: str, rule, default: tuple, notes: list, side: int, path: tuple) -> tuple:
    """How many layers of a type a design may have (``default`` (lo, hi) where the rules give no max); a count
    whose layers could not all be searched on even one size per layer (count x input side > the layer-choice
    budget) is refused at its rule."""
    lo, hi = default
    if rule is None:
        notes.append(f"no count rule for {type_name}: searching {lo}..{hi}")
        return tuple(range(lo, hi + 1))
    if isinstance(rule, Bounds) and rule.in_ is None and rule.max is None:
        top = max(hi, math.ceil(rule.min or 0))
        notes.append(f"{type_name} count has no max: searching up to {top}")
    else:
        top = _top(rule, 0)
    if top * side > DESIGN_CHOICES:
        raise too_large(path, f"{type_name} count up to {top:,} on a side of {side:,}")
    if not isinstance(rule, Bounds):
        return (rule,) if type(rule) is int and rule >= 0 else ()
    return tuple(n for n in range(0, top + 1) if not count_breaks(rule, n))


def value_range(first: int, last: int, type_name: str, param: str, caps: Caps | None, notes: list,
                path: tuple) -> list[int]:
    """``range(first, last + 1)`` clipped to the caps (with a note), refused when it is still too long."""
    if caps is not None and last > caps.top(param):
        notes.append(caps.why(type_name, param))
        last = caps.top(param)
    if last - first + 1 > DESIGN_VALUES:
        raise too_large(path, f"{type_name} {param} from {first:,} to {last:,}")
    return list(range(first, last + 1))


def check_product(type_name: str, values: dict, at: dict) -> None:
    """Refuse kernel x padding x stride combinations of one layer type beyond the layer-choice budget, at the
    rule of the parameter with the most values (before the combinations are made)."""
    n = math.prod(len(v) for v in values.values())
    if n > DESIGN_CHOICES:
        widest = max(values, key=lambda p: len(values[p]))
        raise too_large(at[widest], f"{n:,} combinations of {type_name} " + " x ".join(
            f"{len(v):,} {p}" for p, v in values.items()))


def check_estimate(space, caps: Caps | None, where: tuple) -> None:
    """Refuse a space whose layer choices (convs x steps x sizes a layer may see) exceed the budget."""
    if caps is None or not space.plans:
        return
    sizes = min(caps.reach, 4 * caps.side)  # distinct sizes per axis a layer may see, about
    convs = max(space.plans) * len(space.convs) * sizes
    pools = sum(k.hi * len(k.steps) for k in space.pools) * sizes
    if convs + pools > DESIGN_CHOICES:
        widest = max(("kernel_size", "stride", "padding"), key=lambda p: len({s.layer.resolved()[p]
                                                                          for s in space.convs}))
        raise too_large(where + ("conv2d", widest) if convs >= pools else where,
                        f"about {convs + pools:,} layer choices ({space.describe()}, on sizes up to {caps.reach:,})")


def too_large(path: tuple, what: str) -> SpecError:
    return SpecError([Diagnostic("design-too-large", f"the rules allow too much to search: {what}; the limit is "
                                 f"{DESIGN_VALUES:,} values per parameter and {DESIGN_CHOICES:,} layer choices",
                                 path, hint=HINT)])
