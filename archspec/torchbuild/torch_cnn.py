"""kind: cnn -> ``nn.Sequential`` with one named module per spec layer (constructors from ``cnn_table``)."""
from __future__ import annotations

import os

from torch import nn

from ..cnn.shapes import BYTES_PER_VALUE, layer_names
from ..diagnostics import Diagnostic
from ..tables import human
from . import located_error
from .cnn_table import TORCH, arguments


def physical_memory() -> int | None:
    """Bytes of memory this machine has, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _too_large(report, why: str) -> Diagnostic:
    """Weights that cannot be allocated, at the layer that holds most of them."""
    i = max(range(len(report.layers)), key=lambda j: report.layers[j].params)
    big = report.layers[i]
    return Diagnostic("model-too-large", f"the model's {report.params:,} parameters need "
                      f"{human(report.params * BYTES_PER_VALUE)}B as float32, {why}; {big.name} holds "
                      f"{big.params:,} of them", ("layers", i),
                      hint="use fewer channels or features, or downsample more before flatten "
                           "(`archspec shapes` shows each layer's parameters)")


def build(spec) -> nn.Sequential:
    """The spec's network; ``model.conv1`` is the spec's layer ``conv1``. Input: N x C x H x W."""
    report = spec.shapes()
    if not report.complete:
        raise located_error(spec, *report.diagnostics)
    memory = physical_memory()
    if memory is not None and report.params * BYTES_PER_VALUE > memory:  # refused before torch tries
        raise located_error(spec, _too_large(report, f"more than this machine's {human(memory)}B of memory"))
    model = nn.Sequential()
    problems = []
    for i, (layer, name, info) in enumerate(zip(spec.layers, layer_names(spec.layers), report.layers)):
        try:
            module = getattr(nn, TORCH[layer.type].cls)(**arguments(layer, info.input))
        except (RuntimeError, MemoryError) as exc:
            if isinstance(exc, RuntimeError) and "alloc" not in str(exc).lower():
                raise
            raise located_error(spec, _too_large(report, "more than torch could allocate")) from None
        try:
            model.add_module(name, module)
        except (KeyError, TypeError) as exc:  # '.' in the name, or a name nn.Module already uses ('forward')
            problems.append(Diagnostic("bad-module-name", f"layer name {name!r} cannot name a torch module: "
                                       f"{str(exc).strip(chr(34))}", ("layers", i, "name"),
                                       hint="use letters, digits and underscores, e.g. conv_1"))
    if problems:
        raise located_error(spec, *problems)
    return model
