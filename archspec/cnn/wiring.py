"""Which outputs each layer takes: the ``from:`` names resolved to earlier layers.

A layer takes the layer before it unless it says ``from: NAME`` (an earlier layer's name, or
``input``); merge layers take ``from: [NAME, NAME, ...]``. Every wiring mistake is a located
diagnostic; a layer whose wiring fails has no sources, so its shape (and its consumers') is unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, did_you_mean
from .base import Layer

INPUT = -1  # the source index of the network input
MERGES = "add, concat or multiply"


def layer_names(layers: list[Layer]) -> list[str]:
    """Spec names where given, else type prefix plus a running number (conv1, conv2, pool1...)."""
    counts: dict[str, int] = {}
    out = []
    for layer in layers:
        prefix = layer.default_prefix()
        counts[prefix] = counts.get(prefix, 0) + 1
        out.append(layer.name if layer.name is not None else f"{prefix}{counts[prefix]}")
    return out


@dataclass
class Wiring:
    names: list[str]
    sources: list[tuple[int, ...] | None]  # per layer: indices it takes (INPUT: the network input); None: broken
    diagnostics: list[Diagnostic] = field(default_factory=list)
    graph: bool = False  # some layer says from: (tables then show a 'from' column)

    def source_names(self, i: int) -> tuple[str, ...]:
        return tuple("input" if j == INPUT else self.names[j] for j in self.sources[i] or ())


def _resolve(name: str, i: int, names: list[str], first: dict, owner: str, at: tuple) -> int | Diagnostic:
    """The index ``from: name`` on layer ``i`` means, or the diagnostic of why it cannot be taken."""
    if name == "input":
        return INPUT
    j = first.get(name)
    if j is not None and j < i:
        return j
    if name == names[i]:
        return Diagnostic("from-self", f"{owner} takes its own output (from: {name})", at,
                          hint="name an earlier layer, or 'input' for the network input")
    if j is not None:
        return Diagnostic("from-later", f"{owner} takes {name}, which comes later (layer {j + 1}); a layer takes "
                          "only earlier layers' outputs", at,
                          hint=f"move {name} before {names[i]}, or name an earlier layer")
    hint = _closest(name, i, names) or ("the first layer can take only 'input'" if i == 0 else
                                        f"earlier layers: {', '.join(names[max(0, i - 5):i] + ['input'])}")
    return Diagnostic("unknown-from", f"{owner}: from: '{name}' names no earlier layer", at, hint=hint)


def _closest(name: str, i: int, names: list[str]) -> str | None:
    """did-you-mean among the distinct names of the 200 layers before layer i (and 'input'), so a file of
    thousands of broken from: stays linear."""
    near = list(dict.fromkeys(names[max(0, i - 200):i][::-1])) + ["input"]
    return did_you_mean(name, near)


def wire(layers: list[Layer], path: tuple = ("layers",)) -> Wiring:
    names = layer_names(layers)
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        first.setdefault(name, i)
    out = Wiring(names, [], graph=any(layer.from_ is not None for layer in layers))
    for i, layer in enumerate(layers):
        owner, wanted = f"{names[i]} ({layer.type})", layer.sources()
        where = path + (i, "from")
        if wanted is None:
            if layer.merge:
                out.diagnostics.append(Diagnostic("merge-inputs", f"{owner} merges two or more layers, and has no "
                                                  "from:", path + (i,),
                                                  hint=f"e.g. from: [{names[i - 1] if i else 'input'}, input]"))
                out.sources.append(None)
            else:
                out.sources.append((i - 1,))  # the layer before (INPUT for the first)
            continue
        if layer.merge and len(wanted) < 2:
            out.diagnostics.append(Diagnostic("merge-inputs", f"{owner} merges two or more inputs, but from: names "
                                              f"{len(wanted)}", where, hint="list them: from: [NAME, NAME]"))
            out.sources.append(None)
            continue
        if not layer.merge and len(wanted) > 1:
            out.diagnostics.append(Diagnostic("from-many", f"{owner} takes one input, but from: names {len(wanted)}",
                                              where, hint=f"join them first with a merge layer ({MERGES})"))
            out.sources.append(None)
            continue
        listed = isinstance(layer.from_, list)
        got = [_resolve(n, i, names, first, owner, where + ((k,) if listed else ())) for k, n in enumerate(wanted)]
        problems = [g for g in got if isinstance(g, Diagnostic)]
        out.diagnostics += problems
        out.sources.append(None if problems else tuple(got))
    used = {j for srcs in out.sources for j in srcs or ()}
    broken = any(s is None for s in out.sources)
    for i, name in enumerate(names[:-1]):
        if i not in used and not broken:
            out.diagnostics.append(Diagnostic(
                "unused-output", f"the output of {name} ({layers[i].type}) is not used: no later layer takes it, and "
                "only the last layer is the network's output", path + (i,), severity="warning",
                hint=f"take it with from: {name}, or remove the layer"))
    return out
