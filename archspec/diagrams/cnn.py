"""CNN pipeline diagrams: one box per layer (or conv+activation group) with its
parameters and H x W x C in -> out; layers that break a design rule in red with
the rule's text; rule problems that belong to no layer in a note box."""
from __future__ import annotations

import re

from ..cnn.base import dims
from ..cnn.layers import BY_TYPE
from ..cnn.rules import rule_text
from ..specbase import pair
from . import blocks
from .dot import Ids, b, digraph, font, html, rows, text, wrapped

ACTIVATIONS = {"relu", "leaky_relu", "sigmoid", "tanh", "softmax", "gelu", "silu"}
# group=True folds following batchnorm/activation layers into these
GROUP_HEADS = {"conv2d", "convtranspose2d", "linear"}
FILL = {"input": "#eeeeee", "conv2d": "#d6e6f7", "maxpool2d": "#dcefd6", "avgpool2d": "#dcefd6",
        "adaptive_avgpool2d": "#dcefd6", "adaptive_maxpool2d": "#dcefd6", "upsample": "#dcefd6",
        "convtranspose2d": "#d6e6f7", "identity": "#f2f2f2", "batchnorm2d": "#fdf2cc", "dropout": "#f2f2f2",
        "flatten": "#eeeeee", "linear": "#e4ddf2", **{a: "#fde7d2" for a in ACTIVATIONS}}
BROKEN = {"error": ("#fbdada", "#c00000"), "warning": ("#fff1d6", "#c77700")}  # fill, ink
WRAP = {"TB": 46, "LR": 30}


def _xy(v) -> str:
    """(3, 3) -> '3x3'; (2, 1) -> '2x1'; 'same' stays."""
    return v if isinstance(v, str) else "x".join(map(str, pair(v) if not isinstance(v, tuple) else v))


def _square(v) -> str:
    """A stride or padding: '2' when both axes agree, else '2x1'."""
    if isinstance(v, str):
        return v
    h, w = pair(v) if not isinstance(v, tuple) else v
    return str(h) if h == w else f"{h}x{w}"


def _window(r, pad, short: bool) -> str:
    """'kernel 3x3, stride 2, padding 1' or, in the compact layout, 'k3x3 s2 p1'."""
    k, s = _xy(r["kernel_size"]), _square(r["stride"])
    return f"k{k} s{s} p{pad}" if short else f"kernel {k}, stride {s}, padding {pad}"


def _conv(node, short=False) -> list[str]:
    a, r, info = node.attrs["args"], node.attrs["resolved"], node.attrs["info"]
    pad = a["padding"] if isinstance(a["padding"], str) else _square(r["padding"])
    extra = [f"dilation {_square(r['dilation'])}"] if r["dilation"] != (1, 1) else []
    if info is not None and a["groups"] > 1 and a["groups"] == info.input[2]:
        extra += ["depthwise"]  # one filter group per input channel
    elif a["groups"] != 1:
        extra += [f"groups {a['groups']}"]
    extra += ["no bias"] if not a["bias"] else []
    return [_window(r, pad, short), ", ".join([f"{a['out_channels']:,} filters"] + extra)]


def _deconv(node, short=False) -> list[str]:
    a, r = node.attrs["args"], node.attrs["resolved"]
    extra = ([f"output padding {_square(tuple(pair(a['output_padding'])))}"]
             if pair(a["output_padding"]) != (0, 0) else [])
    extra += [f"dilation {_square(r['dilation'])}"] if r["dilation"] != (1, 1) else []
    extra += [f"groups {a['groups']}"] if a["groups"] != 1 else []
    extra += ["no bias"] if not a["bias"] else []
    return [_window(r, _square(r["padding"]), short), ", ".join([f"{a['out_channels']:,} filters"] + extra)]


def _pool(node, short=False) -> list[str]:
    a, r = node.attrs["args"], node.attrs["resolved"]
    extra = [f"dilation {_square(r['dilation'])}"] if r.get("dilation", (1, 1)) != (1, 1) else []
    extra += ["ceil_mode"] if a["ceil_mode"] else []
    extra += ["count_include_pad=False"] if a.get("count_include_pad", True) is False else []
    return [_window(r, _square(r["padding"]), short)] + ([", ".join(extra)] if extra else [])


def _upsample(node, short=False) -> list[str]:
    a = node.attrs["args"]
    how = f"size {_xy(a['size'])}" if a["size"] is not None else "scale " + (
        "x".join(f"{v:g}" for v in a["scale_factor"]) if isinstance(a["scale_factor"], list)
        else f"{a['scale_factor']:g}")
    return [f"{how}, {a['mode']}" + (f", align_corners={a['align_corners']}" if a["align_corners"] is not None else "")]


def _nothing(node, short=False) -> list[str]:
    return []


# layer type -> the parameter lines a student needs (others: the non-default settings)
DETAILS = {
    "conv2d": _conv,
    "convtranspose2d": _deconv,
    "maxpool2d": _pool,
    "avgpool2d": _pool,
    "adaptive_avgpool2d": lambda n, short: [f"output size {_xy(n.attrs['args']['output_size'])}"],
    "adaptive_maxpool2d": lambda n, short: [f"output size {_xy(n.attrs['args']['output_size'])}"],
    "upsample": _upsample,
    "dropout": lambda n, short: [f"p = {n.attrs['args']['p']:g}"],
    "leaky_relu": lambda n, short: [f"negative slope {n.attrs['args']['negative_slope']:g}"],
    "linear": lambda n, short: [f"{n.attrs['args']['out_features']:,} units"
                                + ("" if n.attrs["args"]["bias"] else ", no bias")],
    "flatten": _nothing,
    "identity": _nothing,
    **{a: _nothing for a in ACTIVATIONS - {"leaky_relu"}},
}
MERGE_SIGN = {"add": "+", "concat": "concat", "multiply": "\u00d7"}
LEGEND = {"LR": "k = kernel, s = stride, p = padding", "TB": None}  # the compact layout's shorthand


def _details(node, layout: str) -> list[str]:
    fn = DETAILS.get(node.op)
    if fn is not None:
        return fn(node, layout == "LR")
    return [node.attrs["settings"]] if node.attrs["settings"] else []


def _dims(shape, layout) -> str:
    return dims(shape, " x " if layout == "TB" else "x")


def _groups(graph, group: bool) -> list[list]:
    """Runs of IR layer nodes drawn as one box: [conv, (bn), act] when grouping, else singletons. A layer
    joins the box before it only when it takes that box's last layer, and nothing else takes that layer."""
    takers: dict[str, int] = {}
    for node, edge in graph.edges():
        takers[edge.src] = takers.get(edge.src, 0) + 1
    out: list[list] = []
    for node in graph.nodes[1:]:
        head = out[-1][0] if out else None
        if (group and head is not None and head.op in GROUP_HEADS and
                (node.op == "batchnorm2d" or node.op in ACTIVATIONS) and
                not any(m.op in ACTIVATIONS for m in out[-1]) and
                [e.src for e in node.inputs] == [out[-1][-1].id] and takers.get(out[-1][-1].id) == 1):
            out[-1].append(node)
        else:
            out.append([node])
    return out


def _strip_name(message: str, name: str) -> str:
    """'conv1: kernel_size 4 breaks the rule ... (constraints.conv2d.kernel_size)' -> 'kernel_size 4
    breaks the rule ...': the box already names the layer, the note lists the rules."""
    message = re.sub(r" \(constraints\.[^)]*\)$", "", message)
    return re.sub(rf"^{re.escape(name)}( \([^)]*\))?(?: on input [^:]*)?: ", "", message)


def _problems_by_layer(diagnostics):
    per_layer: dict[int, list] = {}
    loose = []
    for d in diagnostics:
        if len(d.path) >= 2 and d.path[0] == "layers" and isinstance(d.path[1], int):
            per_layer.setdefault(d.path[1], []).append(d)
        else:
            loose.append(d)
    return per_layer, loose


def _box(members, problems, layout, fails_here):
    """(label markup, fill, ink, broken) for one box of one or more layers."""
    first, last = members[0], members[-1]
    name = " + ".join(text(m.id) for m in members)
    kind = font(text(" + ".join(m.op for m in members)), "#555555")
    lines = [f"{b(name)}  {kind}"] if layout == "TB" else [b(name), kind]  # LR: narrow boxes
    for m in members:
        lines += [wrapped(line, WRAP[layout]) for line in _details(m, layout)]
    params = sum(m.attrs["info"].params for m in members if m.attrs["info"] is not None)
    if params:
        lines.append(font(f"{params:,} params", "#555555", 10))
    f_info, l_info = first.attrs["info"], last.attrs["info"]
    if f_info is not None and l_info is not None:
        same = f_info.input == l_info.output  # activations, dropout, batchnorm: one shape is enough
        arrow = " \u2192 " if layout == "TB" else "\n\u2192 "  # LR: in and out on two lines, narrow boxes
        lines.append(text(_dims(f_info.input, layout) if same else
                          f"{_dims(f_info.input, layout)}{arrow}{_dims(l_info.output, layout)}"))
    else:
        lines.append(font("shape unknown: " + ("this layer cannot take its input" if fails_here
                                               else "an earlier layer fails"), "#777777", 10))
    severity = "error" if any(d.severity == "error" for d, _ in problems) else "warning"
    for d, owner in problems:
        ink = BROKEN["error" if d.severity == "error" else "warning"][1]
        lines.append(font("\u2717 " + wrapped(_strip_name(d.message, owner), WRAP[layout]), ink, 11))
    fill, ink = BROKEN[severity] if problems else (FILL.get(first.op, "#ffffff"), "#444444")
    return rows(lines), fill, ink, bool(problems)


def _rules_lines(rules) -> list[str]:
    """The constraints block as one line per layer type (or shape rule)."""
    if rules is None:
        return []
    out = []
    for type_name in BY_TYPE:
        block = getattr(rules, type_name)
        if block:
            out.append(f"{type_name}: " + "; ".join(f"{k} {rule_text(v)}" for k, v in block.items()))
    for key in ("before_flatten", "output"):
        shape = getattr(rules, key)
        if shape is not None:
            out.append(f"{key}: {dims(shape)}")
    if rules.max_params is not None:
        out.append(f"max_params: {rules.max_params:,}")
    return out


def _note(spec, loose, n_broken_layers, layout):
    """Markup of the design-rules note, or None when there are no rules and no loose problems."""
    rules = _rules_lines(spec.rules() if spec.constraints is not None else None)
    if not rules and not loose:
        return None
    width = WRAP[layout] + 14
    lines = [b("design rules")] + [wrapped(r, width) for r in rules]
    for d in loose:
        ink = BROKEN["error" if d.severity == "error" else "warning"][1]
        lines.append(font("\u2717 " + wrapped(d.message, width), ink))
    if n_broken_layers:
        lines.append(font(f"\u2717 {n_broken_layers} layer(s) in red: the reasons are in their boxes",
                          BROKEN["error"][1]))
    if not loose and not n_broken_layers:
        lines.append(font("\u2713 every rule holds", "#1a7f37"))
    return rows(lines, align="LEFT")


def _fails_here(graph, node) -> bool:
    """Shape inference stops at this layer (its inputs are known, or its from: is broken)."""
    return node.attrs["info"] is None and all(graph.node(e.src).attrs["output"] is not None for e in node.inputs)


def _merge(g, node_id, member, problems, layout):
    """A merge as a small labelled circle: +, concat or x, with its output shape."""
    info = member.attrs["info"]
    shape = _dims(info.output, layout) if info is not None else "shape unknown"
    lines = [b(text(MERGE_SIGN[member.op])), font(text(shape), "#555555", 9), font(text(member.id), "#777777", 9)]
    lines += [font("\u2717 " + wrapped(_strip_name(d.message, owner), WRAP[layout]), BROKEN[d.severity][1], 10)
              for d, owner in problems]
    ink = BROKEN["error"][1] if problems else "#444444"
    shape = "box" if problems else "ellipse" if member.op == "concat" else "circle"  # a box holds the reasons
    g.node(node_id, html(rows(lines)), shape=shape, style="rounded,filled" if problems else "filled",
           fillcolor=BROKEN["error"][0] if problems else "#ffffff", color=ink, margin="0.02",
           penwidth="2.5" if problems else "1", **{"class": f"merge {member.op}" + (" broken" if problems else "")})
    return bool(problems)


def render(spec, layout: str = "TB", group: bool = False, collapse: bool | None = None, depth: int | None = None,
           **_options):
    """graphviz.Digraph of a cnn spec (works on designs that break rules or fail shape inference). A spec
    whose layers branch draws each layer's inputs as edges: shortcuts (an edge that skips ahead) in blue,
    merges as small circles. A spec with blocks draws each use as a cluster; ``collapse`` draws each use as
    one box (a repeated use as one, 'x N'), ``depth`` K draws uses out K levels deep first; by default a
    spec with blocks and more than 60 layers is drawn collapsed."""
    graph = spec.lower()
    per_layer, loose = _problems_by_layer(spec.check())
    depth, note = blocks.level(graph, collapse, depth)
    g = digraph(spec.title, layout, "cnn", subtitle=[x for x in (LEGEND[layout], note) if x] or None)
    g.attr(ranksep="0.3", nodesep="0.25")
    g.attr("node", shape="box", style="rounded,filled", margin="0.12,0.05")
    ids = Ids()
    first = graph.nodes[0]
    g.node("g_input", html(rows([b("input"), text(_dims(first.attrs["shape"], layout))])),
           fillcolor=FILL["input"], color="#444444", **{"class": "input"})
    previous, broken = "g_input", 0
    box_of = {"input": "g_input"}  # node id -> the DOT id of the box drawing it
    branches = graph.facts["graph"]
    clusters = blocks.Clusters(g)
    for unit in blocks.units(_groups(graph, group), depth):
        kind, key, members = unit
        target = clusters.target(blocks.clusters_of(unit, depth))
        problems = [(d, m.id) for m in members for d in per_layer.get(m.path[1], [])]
        node = ids.new(key if kind == "use" else members[0].id)
        if kind == "use":
            bad = bool(problems)
            target.node(node, html(blocks.use_label(key, members, layout, _dims)), fillcolor=blocks.USE_FILL,
                        color=BROKEN["error"][1] if bad else "#3b4f75", penwidth="2.5" if bad else "1.5",
                        **{"class": "use" + (" broken" if bad else "")})
            broken += bad
        elif members[0].attrs["merge"]:
            broken += _merge(target, node, members[0], problems, layout)
        else:
            label, fill, ink, bad = _box(members, problems, layout, any(_fails_here(graph, m) for m in members))
            broken += bad
            css = "layer " + " ".join(dict.fromkeys(m.op for m in members)) + (" broken" if bad else "")
            target.node(node, html(label), fillcolor=fill, color=ink, penwidth="2.5" if bad else "1",
                        **{"class": css})
        inside = {m.id for m in members}
        if not branches and kind == "layers":  # edges go in the root graph: one inside a cluster pulls its ends in
            g.edge(previous, node)
        head = members[0]
        sources = [e.src for m in members for e in m.inputs if e.src not in inside] if kind == "use" else \
            [e.src for e in head.inputs] if branches else []
        for k, src in enumerate(dict.fromkeys(box_of[s] for s in sources)):
            straight = src == previous if kind == "use" else k == 0 and (head.attrs["follows"] or head.attrs["merge"])
            if straight:  # the main line: kept straight
                g.edge(src, node, weight="4")
            else:  # a shortcut or branch: routed around the boxes, in colour
                g.edge(src, node, color="#1f5fbf", penwidth="1.6", **{"class": "skip"})
        box_of.update({m.id: node for m in members})
        previous = node
    clusters.close()
    note = _note(spec, loose, broken, layout)
    if note is not None:
        ink = BROKEN["error"][1] if loose or broken else "#444444"
        with g.subgraph() as top:  # the note sits beside the input box
            top.attr(rank="same")
            top.node("g_input")
            top.node("g_rules", html(note), shape="note", style="filled", fillcolor="#fffbe6",
                     color=ink, penwidth="2" if loose or broken else "1", **{"class": "rules"})
    return g
