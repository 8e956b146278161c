"""The search space as a type: steps (a conv with its activation, or a pool), the space of a rule set and
the moves between partial designs. ``archspec.design.space`` builds one from the rules; ``count``,
``top`` and ``fixed`` walk it.

A design is a sequence of steps followed by a fixed head (flatten, linear layers). A *state* of a
partial design is ``(n, i, pools, h, w, spent)``: the number of convs it will have, convs placed so
far, pools placed per kind, the current size and (only under ``max_params``) the parameters spent so
far. Channels follow from ``(n, i)`` through the channel plan, so they are not in the state.
Pure Python: nothing here imports torch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Optional

from ..cnn.layers import Layer, ShapeError, window
from ..cnn.shapes import BYTES_PER_VALUE
from ..diagnostics import Diagnostic, SpecError
from ..limits import DESIGN_CHOICES
from ..specbase import pair

POOL_TYPES = ("maxpool2d", "avgpool2d")
SEARCHED = ("kernel_size", "stride", "padding")  # per conv/pool; everything else is fixed
METRICS = ("params", "macs", "memory", "depth")
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
                if size is None or not self.fits(step, n, i):
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
            raise too_large(self, MAX_MOVES)
        return out

    @property
    def _per_conv(self) -> int:
        return 2 if self.activation is not None else 1  # a conv step holds the conv and its activation

    def fits(self, step: Step, n: int, i: int) -> bool:
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

def too_large(space: Space, limit: int) -> SpecError:
    """The error for rules that allow more layer choices than fit in memory."""
    return SpecError([space.place(Diagnostic(
        "design-too-large", f"the rules allow more than {limit:,} layer choices to search: {space.describe()} "
        f"from a {_dims(*space.input[:2])} input", space.where,
        hint="narrow them: a lower count max, fewer kernel sizes, paddings or strides, or a search: block"))],
        space.file)


def _dims(h, w) -> str:
    return f"{h} x {w}"
