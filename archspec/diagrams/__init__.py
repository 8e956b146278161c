"""Diagrams of specs as graphviz graphs: ``archspec.render(spec)``.

The kind's drawer comes from ``archspec.kinds`` (KINDS[kind]["render"]); the
DOT text needs only the Python ``graphviz`` package, images need its ``dot``.
"""
from __future__ import annotations

from ..diagnostics import ArchspecError
from ..kinds import capability
from .output import GraphvizMissing, image

LAYOUTS = ("LR", "TB")
# each kind's drawer takes the ones that apply
OPTIONS = ("layout", "group", "values", "grads", "cell", "collapse", "depth")


class RenderError(ArchspecError):
    """A diagram cannot be drawn as asked (e.g. --values on a spec without values)."""


def render(spec, **options):
    """The spec's diagram as a ``graphviz.Digraph`` (``.source`` is DOT; ``.pipe('svg')`` an image).

    Options (each kind takes the ones that apply): ``layout`` "LR" | "TB", ``group``
    (cnn: fold activations into their conv/linear box), ``collapse`` (cnn with blocks: True one box per
    block use, False every layer, None: collapsed above 60 layers), ``depth`` (cnn: draw uses out K levels
    deep, collapse deeper ones), ``values`` / ``grads``
    (equations: forward values, loss and dl/dw), ``cell`` (feature_map: (row, col)).
    Raises SpecError for an invalid spec, RenderError for a drawing that cannot be made, TypeError for an
    option none of them takes (a typo such as ``grad=True`` would otherwise be ignored).
    """
    from ..specbase import SpecBase  # specbase loads pydantic's models (about 85 ms): not when the CLI starts

    if not isinstance(spec, SpecBase):
        raise TypeError(f"archspec.diagrams.render() draws a loaded spec, not {type(spec).__name__}; "
                        "archspec.render() also takes a path or YAML text")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"render() got unknown option(s) {', '.join(unknown)}; it takes {', '.join(OPTIONS)}")
    layout = options.get("layout")
    if layout is not None and layout not in LAYOUTS:
        raise RenderError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if layout is None:
        options.pop("layout", None)
    depth = options.get("depth")
    if depth is not None and (type(depth) is not int or depth < 0):
        raise RenderError(f"depth must be a whole number 0 or more, not {depth!r}")
    draw = capability(spec.kind, "render")
    if draw is None:
        raise RenderError(f"no diagram for kind '{spec.kind}'")
    return draw(spec, **options)


def mimebundle(spec, include=None, exclude=None) -> dict:
    """Jupyter display data: the SVG diagram, or a one-line note when Graphviz is missing."""
    bundle = {"text/plain": repr(spec)}
    try:
        bundle["image/svg+xml"] = image(render(spec), "svg").decode("utf-8")
    except (GraphvizMissing, RenderError) as exc:
        bundle["text/plain"] += f"\n(no diagram: {exc})"
    return {k: v for k, v in bundle.items() if (not include or k in include) and (not exclude or k not in exclude)}
