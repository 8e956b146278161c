"""Worked shape arithmetic for a CNN spec (``archspec explain`` on kind: cnn)."""
from __future__ import annotations

from ..document import Code, Document, Heading, Math, Para, Step, Steps, Strong, Table, User, explained
from ..tables import dims, grouped, human, name_columns, shapes_foot, shapes_rows

RULE = "out = floor((in - k + 2p) / s) + 1"
MERGE_RULES = ("Merges: add needs inputs of one shape and keeps it; concat needs equal H and W and adds up the "
               "channels (flat inputs: the features); multiply needs one shape, or a 1 x 1 x C gate that scales "
               "each channel of an H x W x C map.")


def _from(report, x) -> list:
    """', from a, b' for a layer that takes other than the layer before it (a branch, shortcut or merge)."""
    before = {y.index: y.name for y in report.layers}.get(x.index - 1, "input")
    return [] if not report.graph or x.sources == (before,) else [", from ", User(", ".join(x.sources))]


def _shapes(x) -> Math:
    """'1 x 28 x 28 -> 4 x 26 x 26' (several inputs: comma-separated); LaTeX 12{,}544 has no space after ','."""
    shapes = x.inputs if len(x.inputs) > 1 else [x.input]
    tex = [dims(s, r" \times ").replace(",", "{,}") for s in [*shapes, x.output]]
    return Math(", ".join(map(dims, shapes)) + " -> " + dims(x.output), ", ".join(tex[:-1]) + r" \to " + tex[-1])


def _step(report, x) -> Step:
    details = [[grouped(f)] for f in x.formulas]
    if x.params:
        details.append([f"params: {x.params:,}; MACs: {x.macs:,}"])
    return Step([Strong(x.name), f" ({x.type}{', ' + x.settings if x.settings else ''}", *_from(report, x), "): ",
                 _shapes(x)], details)


def document(spec, report) -> Document:
    headers, rows, right = shapes_rows(report)
    names = name_columns(report)
    return Document([
        Heading([User(spec.title), ": shapes, step by step"], 1),
        Para(["Output size of a convolution or pooling window (PyTorch rounds down unless ceil_mode): ", Code(RULE),
              "." + (f" {MERGE_RULES}" if report.graph else "")]),
        Steps([_step(report, x) for x in report.layers]),
        Table(headers, [[User(str(c)) if i in names else str(c) for i, c in enumerate(r)] for r in rows], right),
        Para([shapes_foot(report)]),
        Para([f"Total: {report.params:,} parameters, {human(report.macs)} MACs per image."]),
    ])


def explain(spec, format: str = "markdown", **_options) -> str:
    report = spec.shapes()
    return explained(document(spec, report), format, report.to_json)
