"""The K best designs by params, MACs, memory or depth, without enumerating the space.

Every metric is a sum over layers of a cost that depends only on the state a
layer starts from, so the K cheapest finished designs are the K shortest paths
of the state graph. They are found with the recursive enumeration algorithm
(Jimenez & Marzal 1999): each state keeps its best completions found so far and
a heap of candidates (a move plus the j-th best completion of the state it
leads to); asking a state for its next best pops its heap and asks one
successor for one more. Only the 1-best of every state is computed in full.
Ties are broken by ``search.prefer``, the other metrics, then the layer
sequence (fewer convs, smaller kernels, paddings, strides first), so the
result is deterministic. Scores use the analytic counts of archspec.cnn.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from ..cnn.shapes import ShapeReport, infer
from .moves import METRICS, Space
from .write import layer_dict


@dataclass
class Design:
    rank: int
    layers: list  # complete layer list: encoder then head
    report: ShapeReport  # shapes.infer of the layers (the analytic counts)
    score: tuple  # what the search ranked by: (by, then tie-break metrics)

    @property
    def params(self) -> int:
        return self.report.params

    @property
    def macs(self) -> int:
        return self.report.macs

    @property
    def memory(self) -> int:
        return self.report.memory

    @property
    def depth(self) -> int:
        return len(self.layers)

    def metric(self, name: str) -> int:
        return getattr(self, name)

    def to_json(self) -> dict:
        return {"rank": self.rank, "params": self.params, "macs": self.macs, "memory": self.memory,
                "depth": self.depth, "layers": [layer_dict(x) for x in self.layers],
                "shapes": [list(x.output) for x in self.report.layers]}


def order(by: str, prefer=()) -> list[str]:
    """Metrics compared in turn: ``by``, the preferred tie-breaks, then the rest."""
    if by not in METRICS:
        raise ValueError(f"--by must be one of {', '.join(METRICS)}, not {by!r}")
    out = [by]
    for m in [*prefer, *METRICS]:
        if m not in out:
            out.append(m)
    return out


class _Paths:
    """K shortest root-to-finish paths of the state graph, found lazily."""

    ROOT = ("root",)

    def __init__(self, space: Space, metrics: list[str]):
        self.space = space
        self.pick = [METRICS.index(m) for m in metrics]
        self.found: dict = {}  # state -> [(vector, labels)] best completions in order
        self.heap: dict = {}  # state -> [(vector, labels, move index, j)] candidates
        self.edges: dict = {}  # state -> [(label, next state, vector)]

    def _edges(self, state):
        if state not in self.edges:
            if state == self.ROOT:
                zero = (0,) * len(self.pick)
                self.edges[state] = [((-1, root[0]), root, zero) for root in self.space.roots()]
            else:
                self.edges[state] = [(label, nxt, tuple(cost[i] for i in self.pick))
                                     for label, _, nxt, cost in self.space.moves(state)]
        return self.edges[state]

    def kth(self, state, k: int):
        """The k-th (0-based) cheapest completion from ``state``: (vector, labels) or None."""
        found = self.found.get(state)
        if found is None:
            found = self.found[state] = []
            heap = self.heap[state] = []
            head = self.space.head_cost(state) if state != self.ROOT else None
            if head is not None:
                heap.append((tuple(head[i] for i in self.pick), (), -1, 0))
            for e, (label, nxt, vec) in enumerate(self._edges(state)):
                best = self.kth(nxt, 0)
                if best is not None:
                    heap.append((_add(vec, best[0]), (label,) + best[1], e, 0))
            heapq.heapify(heap)
        heap = self.heap[state]
        while len(found) <= k and heap:
            vec, labels, e, j = heapq.heappop(heap)
            found.append((vec, labels))
            if e >= 0:
                label, nxt, cost = self._edges(state)[e]
                more = self.kth(nxt, j + 1)
                if more is not None:
                    heapq.heappush(heap, (_add(cost, more[0]), (label,) + more[1], e, j + 1))
        return found[k] if k < len(found) else None


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b))


def layers_of(space: Space, labels: tuple) -> list:
    """The full layer list of the path ``labels`` (root label first)."""
    n = labels[0][1]
    state = next(r for r in space.roots() if r[0] == n)
    layers = []
    for label in labels[1:]:
        _, step, nxt, _ = next(m for m in space.moves(state) if m[0] == label)
        if step.kind == "conv2d":
            layers.append(space.conv_layer(step, n, state[1]))
            layers += [space.activation] if space.activation is not None else []
        else:
            layers.append(step.layer)
        state = nxt
    return layers + list(space.head)


def top(space: Space, k: int, by: str = "params", prefer=()) -> list[Design]:
    """The k best designs by ``by`` (smallest first); fewer when the space holds fewer."""
    if space.problems or k < 1:
        return []
    metrics = order(by, prefer)
    paths = _Paths(space, metrics)
    out = []
    for rank in range(k):
        got = paths.kth(_Paths.ROOT, rank)
        if got is None:
            break
        layers = [x.model_copy() for x in layers_of(space, got[1])]
        out.append(Design(rank + 1, layers, infer(space.input, layers), got[0]))
    return out
