"""The search space a rule set allows, and the moves between partial designs.

Built from a spec's ``constraints:`` (``archspec.cnn.rules``) and an optional
``search:`` block. A design is a sequence of *steps*: a conv (with its
activation) or a pool, followed by a fixed head (flatten, linear layers). A
*state* of a partial design is ``(n, i, pools, h, w, spent)``: the number of
convs it will have, convs placed so far, pools placed per kind, the current
size and (only under ``max_params``) the parameters spent so far. Channels
follow from ``(n, i)`` through the channel plan, so they are not in the state.
Pure Python: nothing here imports torch.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Optional

from ..cnn.layers import BY_TYPE, NOT_PARAMETERS, Layer, ShapeError, window
from ..cnn.rules import Bounds, layer_breaks
from ..cnn.shapes import BYTES_PER_VALUE
from ..diagnostics import Diagnostic
from ..limits import DESIGN_CHOICES
from ..specbase import pair
from ..cnn.search import SearchConfig
from . import budget

POOL_TYPES = ("maxpool2d", "avgpool2d")
SEARCHED = ("kernel_size", "stride", "padding")  # per conv/pool; everything else is fixed
METRICS = ("params", "macs", "memory", "depth")
# (type, param) -> (lowest, highest) value tried when neither the rules nor search: bound it
DEFAULT_RANGE = {("conv2d", "kernel_size"): (1, 7), ("conv2d", "padding"): (0, 3), ("conv2d", "stride"): (1, 2),
                 ("pool", "kernel_size"): (2, 3), ("pool", "stride"): (1, 3), ("pool", "padding"): (0, 0)}
DEFAULT_COUNT = {"conv2d": (1, 4), "pool": (0, 2)}
MAX_MOVES = DESIGN_CHOICES  # layer choices held in memory (about 200 MB, seconds); Q6 needs about 10,000
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")  # shape-preserving, no parameters


@dataclass(frozen=True)
class Step:
    """One searched layer: ``layer`` is a template (a conv's out_channels is set per position)."""

    kind: str  # conv2d | maxpool2d | avgpool2d
    label: tuple  # sort key, also how designs are told apart
    layer: Layer
    axes: tuple  # per axis (k, s, pad_lo, pad_hi, dilation, ceil_mode)

    def size(self, h: int, w: int):
        """(h, w) after this layer, or None when PyTorch would refuse the input."""
        out = (_axis(h, *self.axes[0]), _axis(w, *self.axes[1]))
        return None if None in out else out


@lru_cache(maxsize=None)
def _axis(size, k, s, lo, hi, d, ceil):
    try:
        return window(size, k, s, lo, hi, d, ceil, "H")[0]
    except ShapeError:
        return None


def _axes(layer: Layer) -> tuple:
    if layer.type == "conv2d":
        pads, strides, dil, ceil = layer.pads(), pair(layer.stride), pair(layer.dilation), False
    else:
        pads, strides = [(p, p) for p in pair(layer.padding)], layer.strides()
        dil, ceil = layer.dilations(), layer.ceil_mode
    return tuple((k, s, lo, hi, d, ceil) for k, s, (lo, hi), d in zip(pair(layer.kernel_size), strides, pads, dil))


@dataclass
class PoolKind:
    type: str
    counts: tuple  # how many of them a design may have, ascending
    steps: list[Step]

    @property
    def lo(self) -> int:
        return self.counts[0] if self.counts else 0

    @property
    def hi(self) -> int:
        return self.counts[-1] if self.counts else 0


@dataclass
class Space:
    input: tuple  # (H, W, C)
    convs: list[Step]
    pools: list[PoolKind]
    plans: dict  # n convs -> out_channels per conv
    activation: Optional[Layer]
    head: list[Layer]  # flatten, linear...
    target: Optional[tuple]  # (H, W, C) required before the head
    max_params: Optional[int] = None
    notes: list[str] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)  # the rules exclude every design outright
    where: tuple = ("constraints",)  # spec path of the rules, for diagnostics
    place: Callable = field(default=lambda d: d, repr=False)  # diagnostic -> located in the spec file
    file: str = "<spec>"  # for the error when the space is too large to search
    _moves: dict = field(default_factory=dict, repr=False)
    _conv_cache: dict = field(default_factory=dict, repr=False)
    _moved: int = field(default=0, repr=False)  # moves held in _moves

    # -- states and moves -------------------------------------------------
    def roots(self) -> list[tuple]:
        h, w, _ = self.input
        zero = 0 if self.max_params is not None else None
        return [(n, 0, (0,) * len(self.pools), h, w, zero) for n in sorted(self.plans)]

    def channels(self, n: int, i: int) -> int:
        return self.input[2] if i == 0 else self.plans[n][i - 1]

    def conv_layer(self, step: Step, n: int, i: int) -> Layer:
        """The conv of ``step`` at position i (0-based) of an n-conv design."""
        key = (step.label, self.plans[n][i])
        if key not in self._conv_cache:
            self._conv_cache[key] = step.layer.model_copy(update={"out_channels": self.plans[n][i]})
        return self._conv_cache[key]

    def moves(self, state: tuple) -> list[tuple]:
        """[(label, step, next_state, (params, macs, memory, depth))] from a partial design."""
        if state in self._moves:
            return self._moves[state]
        n, i, pools, h, w, spent = state
        out = []
        if i < n:
            cin, cout = self.channels(n, i), self.plans[n][i]
            for step in self.convs:
                size = step.size(h, w)
                if size is None or not self._fits(step, n, i):
                    continue
                conv = self.conv_layer(step, n, i)
                p = conv.params((h, w, cin))
                memory = size[0] * size[1] * cout * BYTES_PER_VALUE * self._per_conv
                cost = (p, conv.macs((h, w, cin), (*size, cout)), memory, self._per_conv)
                if spent is not None:
                    if spent + p + self._min_rest(n, i + 1) > self.max_params:
                        continue
                    nxt = (n, i + 1, pools, *size, spent + p)
                else:
                    nxt = (n, i + 1, pools, *size, None)
                out.append((step.label, step, nxt, cost))
        for j, kind in enumerate(self.pools):
            if pools[j] >= kind.hi:
                continue
            more = pools[:j] + (pools[j] + 1,) + pools[j + 1:]
            c = self.channels(n, i)
            for step in kind.steps:
                size = step.size(h, w)
                if size is not None:
                    cost = (0, step.layer.macs((h, w, c), (*size, c)), size[0] * size[1] * c * BYTES_PER_VALUE, 1)
                    out.append((step.label, step, (n, i, more, *size, spent), cost))
        self._moves[state] = out
        self._moved += len(out)
        if self._moved > MAX_MOVES:
            from .count import too_large  # beside the other reasons a search gives no designs

            raise too_large(self, MAX_MOVES)
        return out

    @property
    def _per_conv(self) -> int:
        return 2 if self.activation is not None else 1  # a conv step holds the conv and its activation

    def _fits(self, step: Step, n: int, i: int) -> bool:
        """The conv takes its channels (groups must divide them) at position i."""
        key = ("fits", step.label, n, i)
        if key not in self._conv_cache:
            try:
                self.conv_layer(step, n, i).output_shape((10 ** 6, 10 ** 6, self.channels(n, i)))
                self._conv_cache[key] = True
            except ShapeError:
                self._conv_cache[key] = False
        return self._conv_cache[key]

    def _min_rest(self, n: int, i: int) -> int:
        """Fewest parameters convs i.. of an n-conv design can add (a bound for max_params pruning)."""
        key = ("rest", n, i)
        if key not in self._conv_cache:
            self._conv_cache[key] = sum(min(self.conv_layer(s, n, j).params((1, 1, self.channels(n, j)))
                                            for s in self.convs) for j in range(i, n))
        return self._conv_cache[key]

    def head_cost(self, state: tuple):
        """(params, macs, memory, depth) of the head after a complete encoder, or None if not a design."""
        n, i, pools, h, w, spent = state
        if i != n or any(c not in k.counts for c, k in zip(pools, self.pools)):
            return None
        shape = (h, w, self.channels(n, n))
        if self.target is not None and shape != self.target:
            return None
        params = macs = memory = 0
        for layer in self.head:
            out = layer.output_shape(shape)[0]
            params, macs = params + layer.params(shape), macs + layer.macs(shape, out)
            memory += math.prod(out) * BYTES_PER_VALUE
            shape = out
        if spent is not None and spent + params > self.max_params:
            return None
        return params, macs, memory, len(self.head)

    def describe(self) -> str:
        """The searched choices in words, for messages."""
        counts = sorted(self.plans) or [0]
        n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
        parts = [f"{n} conv2d ({_values(self.convs, 'kernel_size')}; {_values(self.convs, 'stride')}; "
                 f"{_values(self.convs, 'padding')})" if any(counts) else "no conv2d"]
        for k in (k for k in self.pools if k.hi):
            many = (f"{k.lo}" if k.lo == k.hi else f"at most {k.hi}" if k.counts == tuple(range(k.hi + 1))
                    else f"{', '.join(map(str, k.counts[:-1]))} or {k.hi}")
            parts.append(f"{many} {k.type} ({_values(k.steps, 'kernel_size')}; {_values(k.steps, 'stride')})")
        return " and ".join(parts)


def _values(steps, param) -> str:
    """'kernel_size 1, 3, 5 or 7' from the steps' resolved values."""
    got = sorted({s.layer.resolved()[param] for s in steps})
    text = [str(h) if h == w else f"{h}x{w}" for h, w in got]
    if not text:
        return f"no {param}"
    if len(text) > 8:
        return f"{param} {text[0]} ... {text[-1]} ({len(text):,} values)"
    return f"{param} {text[0]}" if len(text) == 1 else f"{param} {', '.join(text[:-1])} or {text[-1]}"


# -- building the space from the rules ------------------------------------

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
    from .fixed import channel_plan, check_fixed, head_layers

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
