"""Images through Graphviz's dot: SVG and PNG of every seed spec, hostile names accepted
without injection. Skipped, with the reason, where the dot binary is missing."""
from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest

from archspec.diagrams import render
from archspec.diagrams.output import image
from archspec.validation import check_file
from test_render_dot import needs_dot, parse_dot

pytestmark = needs_dot
SEEDS = sorted((Path(__file__).resolve().parent.parent / "specs" / "seed").glob("*.yaml"))
NASTY = ['a"]; x -> y; z [label="', "</TD></TR></TABLE>>]; e -> f; g [label=<", "{rank=same}\nline2\\",
         "& &amp; ' \\\\N \\G", "σ <b>bold</b>", "]"]


def svg_counts(svg: str) -> tuple[int, int]:
    return svg.count('<g id="node'), svg.count('<g id="edge')


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_seed_renders_to_svg_and_png(path):
    spec = check_file(path).spec
    graph = render(spec)
    svg = image(graph, "svg").decode()
    nodes, edges = parse_dot(graph.source)
    if nodes:  # archspec's own drawers: every node and edge of the DOT reaches the SVG
        assert svg_counts(svg) == (len(nodes), len(edges))
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    from PIL import Image

    png = Image.open(io.BytesIO(image(graph, "png")))
    png.verify()
    png = Image.open(io.BytesIO(image(graph, "png")))
    w, h = png.size
    assert png.format == "PNG" and 100 <= w <= 6000 and 100 <= h <= 6000, png.size
    lo, hi = png.convert("L").getextrema()
    assert hi - lo > 100  # something is drawn, not a blank canvas


def test_hostile_cnn_names_are_valid_dot_without_injection(tmp_path):
    import yaml

    path = tmp_path / "evil.yaml"

    path.write_text(yaml.safe_dump({"kind": "cnn", "name": NASTY[0], "input": [4, 4, 1],
                                    "layers": [{"type": "relu", "name": n} for n in NASTY]}))
    spec = check_file(path).spec
    assert [layer.name for layer in spec.layers] == NASTY
    graph = render(spec)
    out = subprocess.run(["dot", "-Tsvg"], input=graph.source.encode(), capture_output=True, timeout=60)
    assert out.returncode == 0 and not out.stderr, out.stderr.decode()
    svg = out.stdout.decode()
    assert svg_counts(svg) == (len(NASTY) + 1, len(NASTY))  # input + one box each, a plain chain
    texts = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    import html

    shown = html.unescape(texts)
    for n in NASTY:
        for part in n.split("\n"):  # shown exactly as written, backslashes included
            assert part.strip() in shown, part


def test_hostile_network_names_are_valid_dot():
    from archspec.ir import Edge, Graph, Node
    from archspec.diagrams.network import draw

    graph = Graph(NASTY[0], "equations", [Node(NASTY[1], "input", (), {"value": None}),
                                          Node(NASTY[2], "neuron", (Edge(NASTY[1], NASTY[3]),),
                                               {"activation": "relu", "bias": NASTY[4]})], [NASTY[2]])
    out = subprocess.run(["dot", "-Tsvg"], input=draw(graph).source.encode(), capture_output=True, timeout=60)
    assert out.returncode == 0 and not out.stderr, out.stderr.decode()
    assert svg_counts(out.stdout.decode()) == (2, 1)
