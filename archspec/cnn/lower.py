"""``kind: cnn`` -> the IR graph every back end reads (torch build, codegen, diagrams).

Each layer becomes a node whose attributes are plain values: its type, parameters (as PyTorch
names them, defaults filled in), input and output shapes, params and MACs. The graph's ``facts``
hold the ShapeReport (totals, diagnostics) the tables and worked solutions present.
"""
from __future__ import annotations

from ..ir import Edge, Graph, Node
from .base import Layer, Shape
from .shapes import infer
from .wiring import INPUT, wire


def node_ids(names: list[str]) -> list[str]:
    """Layer names as node ids; a repeated name (an error, but still drawn) gets '@position'."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names):
        out.append(name if name not in seen and name != "input" else f"{name}@{i + 1}")
        seen.add(name)
    return out


def lower(title: str, input_shape: Shape, layers: list[Layer], uses: list[tuple] | None = None) -> Graph:
    """``uses``: per layer, the block uses (``blocks.Use``) it was expanded through, outermost first."""
    report = infer(input_shape, layers)
    report.uses = uses
    wiring = wire(layers)
    ids = node_ids(wiring.names)
    infos = {x.index - 1: x for x in report.layers}
    nodes = [Node("input", "input", attrs={"shape": tuple(input_shape), "output": tuple(input_shape)},
                  path=("input",))]
    for i, layer in enumerate(layers):
        info = infos.get(i)
        edges = tuple(Edge("input" if j == INPUT else ids[j]) for j in wiring.sources[i] or ())
        nodes.append(Node(ids[i], layer.type, edges, {
            "name": wiring.names[i],
            "index": i + 1,
            "args": layer.arguments(),  # every parameter, defaults filled in
            "given": frozenset(layer.model_fields_set - {"type", "name", "from_"}),
            "resolved": layer.resolved(),
            "settings": layer.settings(),
            "merge": layer.merge,
            "follows": layer.from_ is None,  # takes the layer before it (no from:)
            "info": info,  # LayerInfo (shapes, formulas, params, MACs), or None where shapes are unknown
            "inputs": info.inputs if info else None,
            "output": info.output if info else None,
            "uses": uses[i] if uses else (),  # block uses, outermost first (diagrams collapse them)
        }, ("layers", i)))
    return Graph(title, "cnn", nodes, [nodes[-1].id], facts={"report": report, "graph": wiring.graph})
