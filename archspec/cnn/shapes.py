"""Analytic shape inference: per-layer shapes, formulas, params, MACs, memory.

Computing only; tables live in ``archspec.tables``. Mirrors torchinfo's split
(LayerInfo per layer, totals on the report). Layers form a graph (``wiring``):
each takes the outputs its ``from:`` names, by default the layer before it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from .base import Layer, Shape, ShapeError, dims, grouped  # noqa: F401 (dims, grouped: shape text for people)
from .wiring import INPUT, layer_names, wire  # noqa: F401 (layer_names: re-exported)

BYTES_PER_VALUE = 4  # float32


@dataclass(frozen=True)
class LayerInfo:
    index: int  # 1-based position in the spec
    name: str
    type: str
    settings: str
    input: Shape  # the (first) input's shape
    output: Shape
    formulas: tuple[str, ...]
    params: int
    macs: int
    sources: tuple[str, ...] = ()  # the names it takes ('input': the network input)
    inputs: tuple[Shape, ...] = ()  # the shape of each of them

    @property
    def memory(self) -> int:
        """Bytes of this layer's output activations for one sample."""
        return math.prod(self.output) * BYTES_PER_VALUE


@dataclass
class ShapeReport:
    input: Shape
    layers: list[LayerInfo] = field(default_factory=list)  # the layers whose shapes are known, in spec order
    diagnostics: list[Diagnostic] = field(default_factory=list)
    complete: bool = True  # False when a layer failed and the shapes after it are unknown
    graph: bool = False  # the spec branches or merges (some layer says from:)
    peak_memory: int | None = None  # bytes alive at once in a forward pass (shortcuts held until their merge)
    uses: list[tuple] | None = None  # per spec layer: the block uses it comes from (outermost first), or None

    def uses_of(self, x: LayerInfo) -> tuple:
        return self.uses[x.index - 1] if self.uses else ()

    @property
    def params(self) -> int:
        return sum(x.params for x in self.layers)

    @property
    def macs(self) -> int:
        return sum(x.macs for x in self.layers)

    @property
    def memory(self) -> int:
        """Activation bytes for one sample (input plus every layer output): what training keeps for backward."""
        return math.prod(self.input) * BYTES_PER_VALUE + sum(x.memory for x in self.layers)

    @property
    def output(self) -> Shape:
        return self.layers[-1].output if self.layers else self.input

    def before(self, layer_type: str) -> Shape | None:
        """Shape entering the first layer of ``layer_type`` (e.g. 'flatten')."""
        return next((x.input for x in self.layers if x.type == layer_type), None)

    def info(self, name: str) -> LayerInfo | None:
        return next((x for x in self.layers if x.name == name), None)

    def to_json(self) -> dict:
        return {"input": list(self.input),
                "layers": [{"index": x.index, "name": x.name, "type": x.type, "from": list(x.sources),
                            "blocks": [{"use": u.name, "block": u.block} for u in self.uses_of(x)],
                            "inputs": [list(s) for s in x.inputs], "input": list(x.input),
                            "output": list(x.output), "params": x.params, "macs": x.macs,
                            "memory": x.memory, "formulas": list(x.formulas)} for x in self.layers],
                "params": self.params, "macs": self.macs, "memory": self.memory,
                "peak_memory": self.peak_memory, "complete": self.complete}


def _diagnostic(exc: ShapeError, layer: Layer, name: str, where: tuple, shape: Shape | None) -> Diagnostic:
    on = f" on input {dims(shape)}" if shape is not None and not layer.merge else ""
    explicit = layer.model_fields_set | ({"from_"} if layer.from_ is not None else set())
    key = "from_" if exc.field == "from" else exc.field
    field = (exc.field,) if key and key in explicit else ()
    return Diagnostic(exc.code, f"{name} ({layer.type}){on}: {exc.message}", where + field, hint=exc.hint)


def peak(input_shape: Shape, sources: list[tuple[int, ...]], outputs: list[Shape]) -> int:
    """Largest number of activation bytes alive at once when the layers run in spec order: a layer's
    inputs and its output, plus every earlier output that a later layer still takes (a shortcut)."""
    last = {INPUT: -1}
    for i, srcs in enumerate(sources):
        for j in srcs:
            last[j] = i
    last[len(outputs) - 1] = len(outputs)  # the network's output is kept
    size = {INPUT: math.prod(input_shape) * BYTES_PER_VALUE}
    alive, top = size[INPUT], size[INPUT]
    for i, out in enumerate(outputs):
        size[i] = math.prod(out) * BYTES_PER_VALUE
        alive += size[i]
        top = max(top, alive)
        alive -= sum(size[j] for j in set(sources[i]) | {i} if last.get(j, -2) <= i)
    return top


def infer(input_shape: Shape, layers: list[Layer], path=("layers",)) -> ShapeReport:
    """Walk the layers in order; a layer whose inputs are unknown (an earlier layer failed) still has its
    own settings checked (every problem of a file at once)."""
    wiring = wire(layers, path)
    report = ShapeReport(tuple(input_shape), diagnostics=list(wiring.diagnostics), graph=wiring.graph)
    out_of: dict[int, Shape] = {INPUT: tuple(input_shape)}
    for i, layer in enumerate(layers):
        name, srcs = wiring.names[i], wiring.sources[i]
        known = srcs is not None and all(j in out_of for j in srcs)
        try:
            if not known:
                report.complete = False
                layer.check_settings()
                continue
            inputs = [(wiring.names[j] if j != INPUT else "input", out_of[j]) for j in srcs]
            out, formulas = layer.take(inputs)
        except ShapeError as exc:
            shape = out_of[srcs[0]] if known else None
            report.diagnostics.append(_diagnostic(exc, layer, name, path + (i,), shape))
            report.complete = False
            continue
        shape = inputs[0][1]
        out_of[i] = out
        report.layers.append(LayerInfo(i + 1, name, layer.type, layer.settings(), shape, out, tuple(formulas),
                                       layer.params(shape), layer.macs(shape, out), wiring.source_names(i),
                                       tuple(s for _, s in inputs)))
    if report.complete:
        report.peak_memory = peak(report.input, wiring.sources, [x.output for x in report.layers])
    return report
