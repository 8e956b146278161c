"""kind: cnn -> a torch module with one named sub-module per spec layer, built from the IR graph
(constructors from ``cnn_table``): ``nn.Sequential`` for a stack, ``GraphNet`` when layers branch."""
from __future__ import annotations

import os

from torch import nn

from ..cnn.shapes import BYTES_PER_VALUE
from ..diagnostics import Diagnostic
from ..tables import human
from . import located_error, merge_ops
from .cnn_table import TORCH, arguments


def physical_memory() -> int | None:
    """Bytes of memory this machine has, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _too_large(report, why: str) -> Diagnostic:
    """Weights that cannot be allocated, at the layer that holds most of them."""
    big = max(report.layers, key=lambda x: x.params)
    return Diagnostic("model-too-large", f"the model's {report.params:,} parameters need "
                      f"{human(report.params * BYTES_PER_VALUE)}B as float32, {why}; {big.name} holds "
                      f"{big.params:,} of them", ("layers", big.index - 1),
                      hint="use fewer channels or features, or downsample more before flatten "
                           "(`archspec shapes` shows each layer's parameters)")


class GraphNet(nn.Module):
    """Sub-modules in spec order, named as the spec's layers; ``forward`` follows the graph: each layer takes
    the outputs its ``from:`` names, and an output is dropped after its last consumer (shortcuts stay alive
    only until their merge). Input: N x C x H x W (or N x features)."""

    def __init__(self, plan: list[tuple[str, tuple[str, ...]]], output: str):
        super().__init__()
        # (layer name, names of its inputs; 'input' is the network input); names listed in cnn/torch_names.py
        self._plan, self._result = plan, output
        last: dict[str, int] = {}
        for i, (_, sources) in enumerate(plan):
            for s in sources:
                last[s] = i
        self._drop = [[s for s in dict.fromkeys(sources) if last[s] == i and s != output]
                     for i, (_, sources) in enumerate(plan)]

    def forward(self, x):
        values = {"input": x}
        for (name, sources), drop in zip(self._plan, self._drop):
            values[name] = self.get_submodule(name)(*[values[s] for s in sources])
            for s in drop:
                del values[s]
        return values[self._result]


def _attach(model: nn.Module, name: str, module: nn.Module) -> None:
    """``model.add_module`` for 'use.layer' names too: a block use is a container of its layers, so the
    state_dict keys read 'layer2_0.conv1.weight', as torchvision's do."""
    *parents, last = name.split(".")
    for part in parents:
        if part not in model._modules:
            model.add_module(part, nn.Module())
        model = model._modules[part]
    model.add_module(last, module)


def _module(node):
    ctor = TORCH[node.op]
    return getattr(merge_ops if ctor.merge else nn, ctor.cls)(**({} if ctor.merge else arguments(node)))


def build(spec) -> nn.Module:
    """The spec's network; ``model.conv1`` is the spec's layer ``conv1``. Input: N x C x H x W."""
    graph = spec.lower()
    report = graph.facts["report"]
    if not report.complete:
        raise located_error(spec, *report.diagnostics)
    memory = physical_memory()
    if memory is not None and report.params * BYTES_PER_VALUE > memory:  # refused before torch tries
        raise located_error(spec, _too_large(report, f"more than this machine's {human(memory)}B of memory"))
    layers = graph.nodes[1:]
    chain = not graph.facts["graph"] and not any("." in n.id for n in layers)  # Sequential runs flat children
    model = nn.Sequential() if chain else GraphNet([(n.id, tuple(e.src for e in n.inputs)) for n in layers],
                                                   graph.outputs[0])
    problems = []
    for node in layers:
        try:
            module = _module(node)
        except (RuntimeError, MemoryError) as exc:
            if isinstance(exc, RuntimeError) and "alloc" not in str(exc).lower():
                raise
            raise located_error(spec, _too_large(report, "more than torch could allocate")) from None
        try:
            _attach(model, node.id, module)
        except (KeyError, TypeError) as exc:  # '.' in the name, or a name nn.Module already uses ('forward')
            problems.append(Diagnostic("bad-module-name", f"layer name {node.id!r} cannot name a torch module: "
                                       f"{str(exc).strip(chr(34))}", node.path + ("name",),
                                       hint="use letters, digits and underscores, e.g. conv_1"))
    if problems:
        raise located_error(spec, *problems)
    return model
