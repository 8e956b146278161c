"""Valid specs become torch modules (``build``) and readable PyTorch source (``codegen``).

``build`` dispatches through ``archspec.kinds.KINDS[kind]["build"]``, so every
kind that can become a module (cnn, equations) is built the same way.
"""
from __future__ import annotations

from ..diagnostics import Diagnostic, SpecError
from ..extras import need
from ..kinds import capability
from ..loader import load_file
from ..validation import load


def build(spec):
    """An ``nn.Module`` for a valid spec (a loaded spec, a path or YAML text); layer names become module names.
    Raises SpecError for an invalid spec or a kind that is not a network (rules, feature_map), MissingExtra
    without torch.

    >>> model = build("specs/examples/digits-cnn.yaml")   # doctest: +SKIP
    """
    spec = load(spec)
    need("torch")
    make = capability(spec.kind, "build")
    if make is None:
        raise located_error(spec, Diagnostic("not-buildable", f"kind '{spec.kind}' does not describe a network "
                                             "that can become a torch module", ("kind",)))
    return make(spec)


def located_error(spec, *diagnostics):
    """A SpecError whose diagnostics point at the spec file's line and column (re-read for its source map)."""
    try:
        source = load_file(spec.file).source
        diagnostics = [source.place(d) for d in diagnostics]
    except Exception:  # no file behind the spec (built in Python): keep the path-only diagnostics
        diagnostics = [d if d.line else d.at(1, 1) for d in diagnostics]
    return SpecError(diagnostics, spec.file)
