"""kind: cnn -> ``nn.Sequential`` with one named module per spec layer (constructors from ``cnn_table``)."""
from __future__ import annotations

from torch import nn

from ..cnn.shapes import layer_names
from ..diagnostics import Diagnostic
from . import located_error
from .cnn_table import TORCH, arguments


def build(spec) -> nn.Sequential:
    """The spec's network; ``model.conv1`` is the spec's layer ``conv1``. Input: N x C x H x W."""
    report = spec.shapes()
    if not report.complete:
        raise located_error(spec, *report.diagnostics)
    model = nn.Sequential()
    problems = []
    for i, (layer, name, info) in enumerate(zip(spec.layers, layer_names(spec.layers), report.layers)):
        module = getattr(nn, TORCH[layer.type].cls)(**arguments(layer, info.input))
        try:
            model.add_module(name, module)
        except (KeyError, TypeError) as exc:  # '.' in the name, or a name nn.Module already uses ('forward')
            problems.append(Diagnostic("bad-module-name", f"layer name {name!r} cannot name a torch module: "
                                       f"{str(exc).strip(chr(34))}", ("layers", i, "name"),
                                       hint="use letters, digits and underscores, e.g. conv_1"))
    if problems:
        raise located_error(spec, *problems)
    return model

