"""Worked shape arithmetic for a CNN spec (``archspec explain`` on kind: cnn)."""
from __future__ import annotations

import json

from ..tables import dims, human, latex_escape, shapes_table

RULE = "out = floor((in - k + 2p) / s) + 1"


def _latex(report, title: str) -> str:
    lines = [r"\section*{" + latex_escape(f"{title}: shapes, step by step") + "}", r"\begin{enumerate}"]
    for x in report.layers:
        items = "".join(r" \\ \texttt{" + latex_escape(f) + "}" for f in x.formulas)
        lines.append(r"\item \textbf{" + latex_escape(x.name) + "} (" + latex_escape(x.type) + "): $"
                     + dims(x.input).replace("x", r"\times") + r" \to " + dims(x.output).replace("x", r"\times")
                     + "$" + items)
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)


def _steps(report, fmt: str) -> str:
    """Markdown, or plain text (no bold, backticks or Markdown table)."""
    bold, code = ("**", "`") if fmt == "markdown" else ("", "")
    steps = []
    for x in report.layers:
        head = (f"{x.index}. {bold}{x.name}{bold} ({x.type}{', ' + x.settings if x.settings else ''}): "
                f"{dims(x.input)} -> {dims(x.output)}")
        body = "".join(f"\n   - {f}" for f in x.formulas)
        if x.params:
            body += f"\n   - params: {x.params:,}; MACs: {x.macs:,}"
        steps.append(head + body)
    return (f"Output size of a convolution or pooling window (PyTorch rounds down unless ceil_mode): "
            f"{code}{RULE}{code}.\n\n" + "\n".join(steps) + "\n\n" + shapes_table(report, fmt)
            + f"\n\nTotal: {report.params:,} parameters, {human(report.macs)} MACs per image.")


def explain(spec, format: str = "markdown", **_options) -> str:
    report = spec.shapes()
    if format == "json":
        return json.dumps(report.to_json(), indent=2)
    if format == "latex":
        return _latex(report, spec.title)
    title = f"{spec.title}: shapes, step by step"
    head = f"# {title}" if format == "markdown" else f"{title}\n{'=' * len(title)}"
    return head + "\n\n" + _steps(report, format)
