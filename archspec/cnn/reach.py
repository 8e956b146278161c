"""What would make a layer stack reach a wanted shape: the hint of a before-flatten shape that does not match.

The seed's implementation part flattens "64*32*32" values after conv, pool, conv, pool of a 64 x 64 image,
which two 2 x 2 pools cannot give (they leave 16 x 16); ``reach_hint`` says which input size, or which
pooling, would: 'a 128 x 128 input gives 32 x 32 x 64 with these layers; so does dropping pool2'.
Pure shape arithmetic (no torch), run only when a shape rule fails.
"""
from __future__ import annotations

from .layers import dims
from .shapes import infer, layer_names

MAX_SIDE = 1 << 16  # input sides searched (conv and pool output sizes never shrink as the input grows)
POOLS = ("maxpool2d", "avgpool2d")


def _shape(input_shape, layers) -> tuple | None:
    """The shape leaving ``layers`` for ``input_shape``, or None when some layer cannot take its input."""
    report = infer(tuple(input_shape), list(layers))
    return tuple(report.output) if report.complete else None


def _side(input_shape, layers, axis: int, want: int) -> int | None:
    """The smallest input side (the other side kept) that gives ``want`` on ``axis``, or None."""
    def size(n: int) -> int:
        shape = list(input_shape)
        shape[axis] = n
        out = _shape(shape, layers)
        return out[axis] if out is not None and len(out) == 3 else 0

    lo, hi = 1, MAX_SIDE
    if size(hi) < want:
        return None
    while lo < hi:  # output size is non-decreasing in the input size
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if size(mid) < want else (lo, mid)
    return lo if size(lo) == want else None


def reach_hint(input_shape, layers, upto: int, want) -> str | None:
    """Why ``layers[:upto]`` on ``input_shape`` miss the H x W x C ``want``, and what would reach it: another
    input size, one pool fewer, or another channel count. None when no such change is found."""
    want, stack = tuple(want), list(layers[:upto])
    got = _shape(input_shape, stack)
    if got is None or len(got) != 3 or len(want) != 3 or got == want:
        return None
    ideas = []
    if got[2] != want[2]:
        conv = next((n for layer, n in zip(reversed(stack), reversed(layer_names(stack))) if layer.type == "conv2d"),
                    None)
        ideas.append(f"{want[2]} channels need out_channels: {want[2]} in {conv}" if conv else
                     f"the input has {got[2]} channels, not {want[2]}")
    if got[:2] != want[:2]:
        h, w = _side(input_shape, stack, 0, want[0]), _side(input_shape, stack, 1, want[1])
        if h is not None and w is not None:
            ideas.append(f"{dims(want[:2])} needs a {h} x {w} input with these layers (the input is "
                         f"{dims(tuple(input_shape)[:2])})")
        names = layer_names(stack)
        for i, layer in enumerate(stack):
            if layer.type in POOLS:
                out = _shape(input_shape, stack[:i] + stack[i + 1:])
                if out is not None and out[:2] == want[:2]:
                    ideas.append(f"dropping {names[i]} gives {dims(out[:2])}")
    if not ideas:
        return None
    return f"{dims(got)} is {got[0] * got[1] * got[2]:,} values, {dims(want)} is {want[0] * want[1] * want[2]:,}: " \
        + "; ".join(ideas)
