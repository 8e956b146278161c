"""Worked shape arithmetic for a CNN spec (``archspec explain`` on kind: cnn)."""
from __future__ import annotations

import json

from ..markup import user_text
from ..tables import dims, grouped, human, latex_escape, shapes_table

RULE = "out = floor((in - k + 2p) / s) + 1"
MERGE_RULES = ("Merges: add needs inputs of one shape and keeps it; concat needs equal H and W and adds up the "
               "channels (flat inputs: the features); multiply needs one shape, or a 1 x 1 x C gate that scales "
               "each channel of an H x W x C map.")


def _from(report, x) -> str:
    """', from a, b' for a layer that takes other than the layer before it (a branch, shortcut or merge)."""
    before = {y.index: y.name for y in report.layers}.get(x.index - 1, "input")
    return "" if not report.graph or x.sources == (before,) else ", from " + ", ".join(x.sources)


def _inputs(x, sep=" x ") -> str:
    return ", ".join(dims(s, sep) for s in x.inputs) if len(x.inputs) > 1 else dims(x.input, sep)


def _math(shape) -> str:
    """A shape in LaTeX math mode: 7 \\times 7 \\times 256; 12{,}544 (no space after the separator)."""
    return dims(shape, r" \times ").replace(",", "{,}")


def _latex(report, title: str) -> str:
    lines = [r"\section*{" + latex_escape(f"{title}: shapes, step by step") + "}", r"\begin{enumerate}"]
    for x in report.layers:
        items = "".join(r" \\ \texttt{" + latex_escape(grouped(f)) + "}" for f in x.formulas)
        lines.append(r"\item \textbf{" + latex_escape(x.name) + "} (" + latex_escape(x.type)
                     + latex_escape(_from(report, x)) + "): $"
                     + ", ".join(map(_math, x.inputs if len(x.inputs) > 1 else [x.input])) + r" \to " + _math(x.output)
                     + "$" + items)
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)


def _steps(report, fmt: str) -> str:
    """Markdown, or plain text (no bold, backticks or Markdown table)."""
    bold, code = ("**", "`") if fmt == "markdown" else ("", "")
    steps = []
    for x in report.layers:
        head = (f"{x.index}. {bold}{x.name}{bold} ({x.type}{', ' + x.settings if x.settings else ''}"
                f"{_from(report, x)}): {_inputs(x)} -> {dims(x.output)}")
        body = "".join(f"\n   - {grouped(f)}" for f in x.formulas)
        if x.params:
            body += f"\n   - params: {x.params:,}; MACs: {x.macs:,}"
        steps.append(head + body)
    return (f"Output size of a convolution or pooling window (PyTorch rounds down unless ceil_mode): "
            f"{code}{RULE}{code}." + (f" {MERGE_RULES}" if report.graph else "") + "\n\n" + "\n".join(steps)
            + "\n\n" + shapes_table(report, fmt)
            + f"\n\nTotal: {report.params:,} parameters, {human(report.macs)} MACs per image.")


def explain(spec, format: str = "markdown", **_options) -> str:
    report = spec.shapes()
    if format == "json":
        return json.dumps(report.to_json(), indent=2)
    if format == "latex":
        return _latex(report, spec.title)
    title = f"{user_text(spec.title, format)}: shapes, step by step"
    head = f"# {title}" if format == "markdown" else f"{title}\n{'=' * len(title)}"
    return head + "\n\n" + _steps(report, format)
