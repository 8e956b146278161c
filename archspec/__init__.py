"""archspec: everything about a neural network from one declarative YAML spec.

>>> import archspec
>>> spec = archspec.load("specs/seed/q5-architecture.yaml")
>>> spec.shapes().params
"""
from __future__ import annotations

from .diagnostics import Diagnostic, Report, SpecError
from .validation import check_file, check_text, load

__version__ = "0.1.0"
__all__ = ["Diagnostic", "Report", "SpecError", "check_file", "check_text", "load", "render", "shapes"]


def shapes(spec):
    """Shape report (per-layer shapes, params, MACs) of a cnn spec or spec path."""
    spec = load(spec) if isinstance(spec, str) else spec
    return spec.shapes()


def render(spec, **options):
    """The spec's diagram as a ``graphviz.Digraph`` (see ``archspec.diagrams.render``)."""
    from .diagrams import render as draw

    return draw(spec, **options)
