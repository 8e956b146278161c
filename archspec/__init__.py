"""archspec: everything about a neural network from one declarative YAML spec.

>>> import archspec
>>> spec = archspec.load("specs/seed/q5-architecture.yaml")   # SpecError with located diagnostics
>>> archspec.shapes(spec).params                              # analytic, no torch
>>> archspec.render(spec)                                     # graphviz.Digraph
>>> archspec.build(spec)                                      # torch nn.Module ([train] extra)

Importing is cheap: torch and graphviz load only when a function needs them. Every error archspec raises on
purpose is an ``archspec.ArchspecError`` (SpecError, RunError, ...) whose message says what to do; a wrong
argument type is a TypeError.
"""
from __future__ import annotations

from . import diagrams
from .diagnostics import ArchspecError, Diagnostic, Report, SpecError
from .torchbuild import build
from .training import evaluate, predict, train
from .validation import check_file, check_text, load

__version__ = "0.1.0"
__all__ = ["ArchspecError", "Diagnostic", "Report", "SpecError", "build", "check_file", "check_text", "evaluate",
           "load", "predict", "render", "shapes", "train"]


def render(spec, **options):
    """The spec's diagram (a loaded spec, a path or YAML text) as a ``graphviz.Digraph``: see
    ``archspec.diagrams.render`` for the options. Raises SpecError for an invalid spec."""
    return diagrams.render(load(spec), **options)


def shapes(spec):
    """Shape report of a cnn spec (a loaded spec, a path or YAML text): ``.layers`` (LayerInfo per layer),
    ``.params``, ``.macs``, ``.memory``, ``.output``, ``.to_json()``. Raises SpecError for an invalid spec and
    TypeError for another kind."""
    spec = load(spec)
    if not hasattr(spec, "shapes"):
        raise TypeError(f"shapes() needs a kind: cnn spec, not kind: {spec.kind}")
    return spec.shapes()
