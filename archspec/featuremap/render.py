"""Diagram of a feature-map spec: input, kernels and results as grids, receptive field highlighted.

Every map is one graphviz node whose HTML-like label is a table of its cells; a
map that the next step pads is drawn with its padding ring (grey). With
``cell=(row, col)`` (1-based, in the final output; ``(channel, row, col)`` for
several channels) the cell is marked and the input cells it reads are
highlighted in every earlier map, through the whole sequence of operations.
"""
from __future__ import annotations

import re
from html import escape

from ..diagrams import RenderError
from .compute import Step, run
from .explain import MAP_NAMES, OP_NAMES, STYLES, expression, setting_parts
from .maps import fmt

CHOSEN, FIELD, FIELD_PAD, PAD = "#f4a261", "#ffd166", "#fff0c2", "#eeeeee"
PAD_TEXT = {"conv2d": lambda op: fmt(op.numbers()["padding_value"]), "maxpool2d": lambda op: "-inf",
            "avgpool2d": lambda op: "0"}


def _names(count: int) -> list[str]:
    return ["X"] + [MAP_NAMES[i] for i in range(count - 1)] + ["Y"]


def receptive_fields(steps: list[Step], cell) -> list[set]:
    """Per map (input first, output last): the (channel, row, col) cells, 0-based, that the chosen cell reads."""
    out = steps[-1].output
    c, r, q = (1, *cell) if len(cell) == 2 else tuple(cell)
    if not (1 <= c <= len(out) and 1 <= r <= len(out[0]) and 1 <= q <= len(out[0][0])):
        shape = f"{len(out[0])} x {len(out[0][0])}" + (f" x {len(out)} channels" if len(out) > 1 else "")
        raise RenderError(f"cell {','.join(map(str, cell))} is outside the {shape} output "
                          "(rows and columns count from 1)")
    fields = [set() for _ in range(len(steps) + 1)]
    fields[-1] = {(c - 1, r - 1, q - 1)}
    for k in range(len(steps) - 1, -1, -1):
        step, (ah, aw) = steps[k], steps[k].axes
        w, h = aw.out, ah.out
        for ch, i, j in fields[k + 1]:
            if 0 <= i < h and 0 <= j < w:  # only real cells read further back
                fields[k] |= set(step.cells[(ch * h + i) * w + j].window)
    return fields


def _grid(title: str, grid: list, pads: tuple, pad_text: str, marked: set, color: str) -> str:
    """One channel as an HTML table; ``pads`` = (top, bottom, left, right) cells of padding drawn around it."""
    top, bottom, left, right = pads
    h, w = len(grid), len(grid[0])
    rows = [f'<tr><td colspan="{w + left + right}" border="0"><b>{escape(title)}</b></td></tr>']
    for r in range(-top, h + bottom):
        cells = []
        for q in range(-left, w + right):
            real = 0 <= r < h and 0 <= q < w
            text = fmt(grid[r][q]) if real else pad_text
            bg = (color if real else FIELD_PAD) if (r, q) in marked else ("white" if real else PAD)
            font = "" if real else ' color="#888888"'
            cells.append(f'<td bgcolor="{bg}"><font point-size="12"{font}>{escape(text)}</font></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return '<table border="0" cellborder="1" cellspacing="0" cellpadding="5">' + "".join(rows) + "</table>"


def _label(name: str, m: list, pads: tuple, pad_text: str, marked: set, color: str) -> str:
    """All channels of a map side by side, one HTML label."""
    h, w = len(m[0]), len(m[0][0])
    padded = ", padded" if any(pads) else ""
    grids = [_grid(f"{name} ({h} x {w}{padded})" if len(m) == 1 else f"{name}, channel {c + 1}{padded}", grid, pads,
                   pad_text,
                   {(r, q) for ch, r, q in marked if ch == c}, color) for c, grid in enumerate(m)]
    return '<<table border="0" cellspacing="8"><tr>' + "".join(f"<td>{g}</td>" for g in grids) + "</tr></table>>"


def _edge_label(step: Step) -> str:
    """'conv2d 3 x 3, stride 1, padding same, bias 1': the settings as explain writes them (no 'padding 0')."""
    ah, aw = step.axes
    parts = [f"{step.op.type} {ah.k} x {aw.k}"] + [p for p in setting_parts(step) if p != "padding 0"]
    return "<" + escape(", ".join(parts)) + ">"


def render(spec, cell=None, layout: str = "LR", **_options):
    """graphviz.Digraph of the maps (deterministic DOT); ``cell`` (1-based) highlights a receptive field."""
    import graphviz  # graphviz only to draw

    steps = run(spec)
    names = _names(len(steps))
    fields = receptive_fields(steps, cell) if cell is not None else [set() for _ in range(len(steps) + 1)]
    title = escape(f"{spec.title}: " + " then ".join(OP_NAMES[s.op.type] for s in steps))
    if cell is not None:  # the chosen cell's worked expression under the title
        last, ((ch, r, q),) = steps[-1], fields[-1]
        w, h = last.axes[1].out, last.axes[0].out
        title += "<br/>" + escape(expression(last, last.cells[(ch * h + r) * w + q], STYLES["text"], names[-1]))
    g = graphviz.Digraph(re.sub(r"\W", "_", spec.title),
                         graph_attr={"rankdir": layout, "labelloc": "t", "fontname": "Helvetica",
                                     "label": f"<{title}>"},
                         node_attr={"shape": "plain", "fontname": "Helvetica"}, edge_attr={"fontname": "Helvetica"})
    maps = [steps[0].input] + [s.output for s in steps]
    for k, m in enumerate(maps):
        nxt = steps[k] if k < len(steps) else None
        pads = (nxt.axes[0].lo, nxt.axes[0].hi, nxt.axes[1].lo, nxt.axes[1].hi) if nxt else (0, 0, 0, 0)
        pad_text = PAD_TEXT[nxt.op.type](nxt.op) if nxt else ""
        g.node(f"map{k}", _label(names[k], m, pads, pad_text, fields[k], CHOSEN if k == len(steps) else FIELD))
    for k, step in enumerate(steps):
        if step.kernel is not None:
            kname = "K'" if step.op.flip_kernel else "K"
            kname += str(k + 1) if len(steps) > 1 else ""
            g.node(f"kernel{k + 1}", _label(kname, step.kernel, (0, 0, 0, 0), "", set(), FIELD))
            g.edge(f"kernel{k + 1}", f"map{k + 1}", style="dashed")
        g.edge(f"map{k}", f"map{k + 1}", label=_edge_label(step))
    return g
