"""Exact number of designs a rule set allows, by dynamic programming over reachable sizes.

count(state) = [state is a finished design] + sum over moves of count(next state);
states are (convs planned, convs placed, pools placed per kind, H, W[, params spent]),
memoised, so Q6's ~7 million layer sequences are counted from a few thousand states.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from .moves import Space, too_large  # noqa: F401 (too_large: also from here)
from .top import top


@dataclass
class CountResult:
    count: int
    diagnostics: list[Diagnostic] = field(default_factory=list)  # why it is 0
    notes: list[str] = field(default_factory=list)  # defaults assumed where the rules are silent
    states: int = 0  # partial designs visited


def count_designs(space: Space) -> tuple[int, int]:
    """(number of distinct layer sequences from the input to a finished design, states visited)."""
    memo: dict = {}

    def walk(state) -> int:
        got = memo.get(state)
        if got is None:
            got = 1 if space.head_cost(state) is not None else 0
            for _, _, nxt, _ in space.moves(state):
                got += walk(nxt)
            memo[state] = got
        return got

    total = sum(walk(root) for root in space.roots())
    return total, len(memo)


def count(space: Space) -> CountResult:
    """The exact count and, when it is 0, the rule that makes every design impossible."""
    if space.problems:
        return CountResult(0, list(space.problems), list(space.notes))
    total, states = count_designs(space)
    result = CountResult(total, [], list(space.notes), states)
    if total == 0:
        result.diagnostics.append(space.place(why_empty(space)))
    return result


def _dims(h, w) -> str:
    return f"{h} x {w}"


def ends(space: Space) -> set:
    """(h, w) of every finished encoder, ignoring the size, channel and parameter rules."""
    seen, out, todo = set(), set(), list(space.roots())
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        n, i, pools, h, w, _ = state
        if i == n and all(c in k.counts for c, k in zip(pools, space.pools)):
            out.add((h, w))
        todo += [(*nxt[:5], None) for _, _, nxt, _ in space.moves(state[:5] + (None,))]
    return out


def why_empty(space: Space) -> Diagnostic:
    """Name the rule that rules out every design, with the sizes that are reachable."""
    where, sizes = space.where, ends(space)
    h0, w0, _ = space.input
    if not sizes:
        return Diagnostic("design-impossible", f"with {space.describe()}, every sequence shrinks the "
                          f"{_dims(h0, w0)} input below 1 x 1", ("input",),
                          hint="allow fewer pools, smaller strides or more padding")
    target = space.target
    if target is not None and (target[0], target[1]) not in sizes:
        rule = "before_flatten" if space.head and space.head[0].type == "flatten" else "output"
        hs, ws = sorted({h for h, _ in sizes}), sorted({w for _, w in sizes})
        th, tw = target[0], target[1]
        if th < hs[0] or tw < ws[0]:
            what = f"the smallest reachable size is {_dims(hs[0], ws[0])}, larger than"
            hint = "allow larger strides, more pools or more convs, or ask for a larger size"
        elif th > hs[-1] or tw > ws[-1]:
            what = f"the largest reachable size is {_dims(hs[-1], ws[-1])}, smaller than"
            hint = "allow stride 1, padding, or fewer pools, or ask for a smaller size"
        else:
            near = sorted(sizes, key=lambda s: (abs(s[0] - th) + abs(s[1] - tw), s))[:2]
            what = f"the reachable sizes nearest are {' and '.join(_dims(*s) for s in sorted(near))}, never"
            hint = "allow other kernel sizes, paddings or strides"
        return Diagnostic("design-impossible", f"with {space.describe()}, {what} the {_dims(th, tw)} the rule "
                          f"{rule} asks for (input {_dims(h0, w0)})", where + (rule,), hint=hint)
    if space.max_params is not None:
        unbounded = Space(space.input, space.convs, space.pools, space.plans, space.activation, space.head,
                          space.target, None, where=where)
        best = top(unbounded, 1, "params")
        if best:
            return Diagnostic("design-impossible", f"the smallest design has {best[0].params:,} parameters, more "
                              f"than the rule max_params {space.max_params:,}", where + ("max_params",),
                              hint="raise max_params, or use fewer channels (search: out_channels) or smaller kernels")
    return Diagnostic("design-impossible", f"no sequence of {space.describe()} satisfies every rule", where)
