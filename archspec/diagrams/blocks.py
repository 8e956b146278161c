"""Block-aware CNN drawings: which layers a box draws when block uses are collapsed (``--collapse``,
``--depth K``), the box of a collapsed use, and the graphviz clusters of uses and stages.

A unit is what one box draws: ('layers', [nodes]) as the plain drawing groups them, or
('use', key, [nodes]) for a collapsed block use; a use repeated with ``repeat: N`` is one unit
('x N'). Clusters: each drawn-out use is a cluster labelled with its name and block; uses that
share a ``stage:`` sit in one cluster around them.
"""
from __future__ import annotations

from .dot import b, font, html, rows, text

AUTO_COLLAPSE = 60  # layers: a spec with blocks and more layers is drawn collapsed unless told otherwise
USE_FILL = "#e8eef8"


def level(graph, collapse: bool | None, depth: int | None) -> tuple[int | None, str | None]:
    """(how deep uses are drawn out before they collapse, or None for every layer; a note for the subtitle)."""
    if depth is not None:
        return depth, None
    if collapse is not None:
        return (0, None) if collapse else (None, None)
    layers = graph.nodes[1:]
    if len(layers) > AUTO_COLLAPSE and any(n.attrs["uses"] for n in layers):
        return 0, f"{len(layers)} layers: block uses collapsed (--expand draws every layer)"
    return None, None


def units(groups: list[list], depth: int | None) -> list[tuple]:
    """The plain drawing's groups, with the layers of each use nested ``depth`` deep or more merged into
    one unit per use entry (repetitions of a use into one)."""
    out: list[tuple] = []
    for members in groups:
        uses = members[0].attrs["uses"]
        if depth is None or len(uses) <= depth:
            out.append(("layers", None, members))
            continue
        key = uses[depth].entry
        if out and out[-1][0] == "use" and out[-1][1] == key:
            out[-1][2].extend(members)
        else:
            out.append(("use", key, list(members)))
    return out


def use_label(key: str, nodes: list, layout: str, dims) -> str:
    """A collapsed use: its name, block (x N when repeated), input -> output shape and params."""
    use = next(u for u in nodes[0].attrs["uses"] if u.entry == key)
    infos = [n.attrs["info"] for n in nodes]
    lines = [b(text(key)), font(text(f"block {use.block}" + (f" \u00d7 {use.repeat}" if use.repeat > 1 else "")),
                                "#555555")]
    if use.values:
        lines.append(text(", ".join(f"{k} {v}" for k, v in use.values)))
    lines.append(font(f"{len(nodes)} layers", "#555555", 10))
    params = sum(i.params for i in infos if i is not None)
    if params:
        lines.append(font(f"{params:,} params", "#555555", 10))
    if infos[0] is not None and infos[-1] is not None:
        arrow = " \u2192 " if layout == "TB" else "\n\u2192 "
        shape_in, shape_out = dims(infos[0].input, layout), dims(infos[-1].output, layout)
        lines.append(text(shape_in if shape_in == shape_out else f"{shape_in}{arrow}{shape_out}"))
    return rows(lines)


def clusters_of(unit: tuple, depth: int | None) -> list[tuple[str, str]]:
    """(cluster id, label) from the outermost in, for the box of ``unit``."""
    kind, key, members = unit
    uses = members[0].attrs["uses"]
    open_ = uses if kind == "layers" else uses[:depth]
    out = [(f"stage {uses[0].stage}", f"stage {uses[0].stage}")] if uses and uses[0].stage else []
    out += [(f"use {u.name}", f"{u.name}: {u.block}") for u in open_]
    return out


class Clusters:
    """Open and close nested graphviz clusters as the boxes go by (a use's layers are consecutive)."""

    def __init__(self, graph):
        self.root, self.open, self.count = graph, [], 0  # open: [(cluster id, context, subgraph)]

    def target(self, wanted: list[tuple[str, str]]):
        """The (sub)graph a box inside the clusters ``wanted`` goes in, closing and opening clusters."""
        keep = 0
        while keep < min(len(wanted), len(self.open)) and self.open[keep][0] == wanted[keep][0]:
            keep += 1
        while len(self.open) > keep:
            self.open.pop()[1].__exit__(None, None, None)
        for cid, label in wanted[keep:]:
            parent = self.open[-1][2] if self.open else self.root
            self.count += 1
            ctx = parent.subgraph(name=f"cluster_{self.count}")
            sub = ctx.__enter__()
            sub.attr(label=html(text(label)), style="rounded,dashed", color="#8da0bf", fontcolor="#3b4f75",
                     fontsize="11")
            self.open.append((cid, ctx, sub))
        return self.open[-1][2] if self.open else self.root

    def close(self) -> None:
        self.target([])
