"""Presenting tables as plain text or Markdown (computing lives elsewhere)."""
from __future__ import annotations

import unicodedata

from .cnn.shapes import ShapeReport, dims, grouped  # dims, grouped: re-exported for presenters
from .markup import markdown_cell


def shown_width(text: str) -> int:
    """Columns a terminal gives ``text``: wide (CJK) characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def table(headers: list[str], rows: list[list], fmt: str = "text", right: set[int] = frozenset()) -> str:
    """Columns padded to width; ``right`` holds indices of right-aligned (numeric) columns."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    if fmt == "markdown":
        esc = [[c.replace("|", "\\|") for c in row] for row in cells]
        rule = ["---:" if i in right else "---" for i in range(len(headers))]
        return "\n".join("| " + " | ".join(row) + " |" for row in [esc[0], rule] + esc[1:])
    widths = [max(shown_width(row[i]) for row in cells) for i in range(len(headers))]

    def pad(c: str, w: int, i: int) -> str:
        fill = " " * (w - shown_width(c))
        return fill + c if i in right else c + fill

    def line(row):
        return "  ".join(pad(c, w, i) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Text for LaTeX's text mode: its special characters escaped."""
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def formula_text(formulas) -> str:
    """'H: f' and 'W: f' merge into 'H, W: f' when the arithmetic is the same."""
    if len(formulas) == 2 and formulas[0][3:] == formulas[1][3:]:
        return "H, W: " + formulas[0][3:]
    return "; ".join(formulas)


def human(n: float) -> str:
    for unit, size in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def _inputs(x) -> str:
    """A layer's input shape; a merge's inputs one after another."""
    return ", ".join(dims(s) for s in x.inputs) if len(x.inputs) > 1 else dims(x.input)


def segments(report: ShapeReport) -> list[tuple]:
    """The layers in runs: ('use', Use, [LayerInfo]) for each top-level block use, ('layer', None, [info])."""
    out: list[tuple] = []
    for x in report.layers:
        uses = report.uses_of(x)
        if uses and out and out[-1][0] == "use" and out[-1][1].name == uses[0].name:
            out[-1][2].append(x)
        else:
            out.append(("use", uses[0], [x]) if uses else ("layer", None, [x]))
    return out


def shapes_rows(report: ShapeReport, collapse: bool = False) -> tuple[list, list, set]:
    """(headers, rows, right-aligned columns) of the shape table; a graph spec (some layer says from:) gets a
    'from' column; a spec with blocks gets a row per block use (its input and output, params and MACs) above its
    layers, or only those with collapse."""
    frm = [lambda x: ", ".join(x.sources)] if report.graph else []
    headers = ["#", "layer", "type", *(["from"] if frm else []), "settings", "input", "output", "params", "MACs",
               "arithmetic"]
    right = {0, 6 + len(frm), 7 + len(frm)}
    blank = [""] * len(frm)

    def row(x):
        return [x.index, x.name, x.type, *[f(x) for f in frm], x.settings, _inputs(x), dims(x.output),
                f"{x.params:,}", f"{x.macs:,}", grouped(formula_text(x.formulas))]

    rows = [["", "input", "", *blank, "", "", dims(report.input), "", "", ""]]
    for kind, use, infos in segments(report):
        if kind == "use":
            first, last = infos[0], infos[-1]
            rows.append([f"{first.index}-{last.index}", f"[{use.name}]", f"block {use.block}", *blank,
                         f"{len(infos)} layers", _inputs(first), dims(last.output),
                         f"{sum(x.params for x in infos):,}", f"{sum(x.macs for x in infos):,}", ""])
        if kind == "layer" or not collapse:
            rows += [row(x) for x in infos]
    rows.append(["", "total", "", *blank, "", "", "", f"{report.params:,}", f"{report.macs:,}", ""])
    return headers, rows, right


def name_columns(report: ShapeReport) -> set[int]:
    """The columns of ``shapes_rows`` that hold the spec's own names (layer, and from: in a graph)."""
    return {1, 3} if report.graph else {1}


def shapes_foot(report: ShapeReport) -> str:
    """The line under the shape table: totals, activation memory, and why inference stopped (if it did)."""
    foot = (f"params {report.params:,} ({human(report.params * 4)}B as float32), MACs {report.macs:,} "
            f"({human(report.macs)}), activations {human(report.memory)}B per sample")
    if report.graph and report.peak_memory is not None:
        foot += (f" (kept for backprop); at most {human(report.peak_memory)}B alive at once in a forward pass "
                 "(shortcuts held until their merge)")
    if not report.complete:
        foot += "\nshape inference stopped at a layer that cannot take its input (see the diagnostics)"
    return foot


def shapes_table(report: ShapeReport, fmt: str = "text", title: str | None = None, collapse: bool = False) -> str:
    """The shape table and its foot line, under a heading when ``title`` is given."""
    headers, rows, right = shapes_rows(report, collapse)
    if fmt == "markdown":  # the spec's names as literal text (a layer may be named <script>)
        names = name_columns(report)
        rows = [[markdown_cell(str(c)) if i in names else c for i, c in enumerate(r)] for r in rows]
    head = f"## {title}\n\n" if title and fmt == "markdown" else (f"{title}\n" if title else "")
    return head + table(headers, rows, fmt, right=right) + "\n\n" + shapes_foot(report)
