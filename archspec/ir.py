"""The one intermediate representation: a DAG of named nodes with weighted edges.

Every front end lowers to it and every back end reads it:
- ``CnnSpec.lower`` (``archspec.cnn.lower``): an input node and one node per layer, edges from
  the layers its ``from:`` names; node attributes are plain values (type, PyTorch parameters,
  shapes, params, MACs). The torch builder, code generator, ONNX export and pipeline diagrams
  read this graph; shape tables and worked solutions present its ``facts["report"]``.
- ``EquationsSpec.lower``: inputs, neurons and outputs with weighted edges (diagrams, explain).
- ``FeatureMapSpec.lower``: the input map and one node per operation, a chain. Its back ends (the
  worked solution, the cell drawing) read the exact cell values of ``archspec.featuremap.compute``
  instead: a feature_map spec is a few 2-D operations on given numbers, not a network, and what they
  show is every cell, which the graph does not hold.
Values computed for a run (forward pass, gradients) live in dicts keyed by node id or weight
name, beside the graph.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Edge:
    src: str  # id of the producing node
    weight: str | None = None  # weight name on the edge (equation networks)


@dataclass(frozen=True)
class Node:
    id: str  # stable, derived from spec names (deterministic output)
    op: str  # 'input', 'neuron', or a layer type such as 'conv2d'
    inputs: tuple[Edge, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    path: tuple = ()  # where the node comes from in the spec, for diagnostics


@dataclass
class Graph:
    name: str
    kind: str
    nodes: list[Node]  # topological order: every edge points backwards in this list
    outputs: list[str]
    facts: dict[str, Any] = field(default_factory=dict)  # whole-graph results of lowering (cnn: the ShapeReport)

    def __post_init__(self):
        self._by_id = {n.id: n for n in self.nodes}

    def node(self, node_id: str) -> Node:
        return self._by_id[node_id]

    def consumers(self, node_id: str) -> list[Node]:
        return [n for n in self.nodes if any(e.src == node_id for e in n.inputs)]

    def depths(self) -> dict[str, int]:
        """Longest path from any input: the layer a node is drawn in."""
        depth: dict[str, int] = {}
        for n in self.nodes:
            depth[n.id] = 1 + max((depth[e.src] for e in n.inputs), default=-1)
        return depth

    def edges(self) -> list[tuple[Node, Edge]]:
        """(consumer, edge) pairs in topological order."""
        return [(n, e) for n in self.nodes for e in n.inputs]
