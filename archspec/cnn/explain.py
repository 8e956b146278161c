"""Worked shape arithmetic for a CNN spec (``archspec explain`` on kind: cnn)."""
from __future__ import annotations

import json

from ..tables import dims, human, shapes_table


def explain(spec, format: str = "markdown", **_options) -> str:
    report = spec.shapes()
    if format == "json":
        return json.dumps(report.to_json(), indent=2)
    if format == "latex":
        lines = [r"\begin{enumerate}"]
        for x in report.layers:
            items = "".join(r" \\ \texttt{" + f.replace("_", r"\_") + "}" for f in x.formulas)
            lines.append(r"\item \textbf{" + x.name.replace("_", r"\_") + "} (" + x.type + "): $"
                         + dims(x.input).replace("x", r"\times") + r" \to " + dims(x.output).replace("x", r"\times")
                         + "$" + items)
        lines.append(r"\end{enumerate}")
        return "\n".join(lines)
    steps = []
    for x in report.layers:
        head = f"{x.index}. **{x.name}** ({x.type}{', ' + x.settings if x.settings else ''}): {dims(x.input)} -> {dims(x.output)}"
        body = "".join(f"\n   - {f}" for f in x.formulas)
        if x.params:
            body += f"\n   - params: {x.params:,}; MACs: {x.macs:,}"
        steps.append(head + body)
    md = (f"# {spec.title}: shapes, step by step\n\nOutput size of a convolution or pooling window "
          "(PyTorch rounds down unless ceil_mode): `out = floor((in - k + 2p) / s) + 1`.\n\n"
          + "\n".join(steps) + "\n\n" + shapes_table(report, "markdown")
          + f"\n\nTotal: {report.params:,} parameters, {human(report.macs)} MACs per image.")
    return md if format == "markdown" else md.replace("**", "")
