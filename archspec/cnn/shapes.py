"""Analytic shape inference: per-layer shapes, formulas, params, MACs, memory.

Computing only; tables live in ``archspec.tables``. Mirrors torchinfo's split
(LayerInfo per layer, totals on the report).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from .layers import Layer, Shape, ShapeError, dims, grouped  # noqa: F401 (dims, grouped: shape text for people)

BYTES_PER_VALUE = 4  # float32


@dataclass(frozen=True)
class LayerInfo:
    index: int  # 1-based position in the spec
    name: str
    type: str
    settings: str
    input: Shape
    output: Shape
    formulas: tuple[str, ...]
    params: int
    macs: int

    @property
    def memory(self) -> int:
        """Bytes of this layer's output activations for one sample."""
        return math.prod(self.output) * BYTES_PER_VALUE


@dataclass
class ShapeReport:
    input: Shape
    layers: list[LayerInfo] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    complete: bool = True  # False when a layer failed and later shapes are unknown

    @property
    def params(self) -> int:
        return sum(x.params for x in self.layers)

    @property
    def macs(self) -> int:
        return sum(x.macs for x in self.layers)

    @property
    def memory(self) -> int:
        """Activation bytes for one sample (input plus every layer output)."""
        return math.prod(self.input) * BYTES_PER_VALUE + sum(x.memory for x in self.layers)

    @property
    def output(self) -> Shape:
        return self.layers[-1].output if self.layers else self.input

    def before(self, layer_type: str) -> Shape | None:
        """Shape entering the first layer of ``layer_type`` (e.g. 'flatten')."""
        return next((x.input for x in self.layers if x.type == layer_type), None)

    def to_json(self) -> dict:
        return {"input": list(self.input),
                "layers": [{"index": x.index, "name": x.name, "type": x.type, "input": list(x.input),
                            "output": list(x.output), "params": x.params, "macs": x.macs,
                            "memory": x.memory, "formulas": list(x.formulas)} for x in self.layers],
                "params": self.params, "macs": self.macs, "memory": self.memory,
                "complete": self.complete}


def layer_names(layers: list[Layer]) -> list[str]:
    """Spec names where given, else type prefix plus a running number (conv1, conv2, pool1...)."""
    counts: dict[str, int] = {}
    out = []
    for layer in layers:
        counts[layer.prefix] = counts.get(layer.prefix, 0) + 1
        out.append(layer.name if layer.name is not None else f"{layer.prefix}{counts[layer.prefix]}")
    return out


def _diagnostic(exc: ShapeError, layer: Layer, name: str, where: tuple, shape: Shape | None) -> Diagnostic:
    on = f" on input {dims(shape)}" if shape is not None else ""
    field = (exc.field,) if exc.field and exc.field in layer.model_fields_set else ()
    return Diagnostic(exc.code, f"{name} ({layer.type}){on}: {exc.message}", where + field, hint=exc.hint)


def infer(input_shape: Shape, layers: list[Layer], path=("layers",)) -> ShapeReport:
    """Walk the layers; shapes stop at the first layer that cannot take its input, while
    the later layers' own settings are still checked (every problem of a file at once)."""
    report = ShapeReport(tuple(input_shape))
    shape = tuple(input_shape)
    for i, (layer, name) in enumerate(zip(layers, layer_names(layers))):
        try:
            if not report.complete:
                layer.check_settings()
                continue
            if layer.spatial and len(shape) != 3:
                raise ShapeError("needs-feature-map", f"{layer.type} needs an H x W x C input but receives "
                                 f"{dims(shape)}", hint="spatial layers go before flatten")
            out, formulas = layer.output_shape(shape)
        except ShapeError as exc:
            report.diagnostics.append(_diagnostic(exc, layer, name, path + (i,), shape if report.complete else None))
            report.complete = False
            continue
        report.layers.append(LayerInfo(i + 1, name, layer.type, layer.settings(), shape, out, tuple(formulas),
                                       layer.params(shape), layer.macs(shape, out)))
        shape = out
    return report
