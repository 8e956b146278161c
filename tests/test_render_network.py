"""Neuron-level diagrams of equation networks, on hand-built IR graphs (the seed specs are
checked in test_render_seeds.py): one circle per unit, every weight on its edge, columns by depth."""
from __future__ import annotations

import re

from archspec.ir import Edge, Graph, Node
from archspec.diagrams.network import RunValues, draw
from test_render_dot import parse_dot, plain


def unit(node_id, activation, bias, *edges, pre=None):
    return Node(node_id, "neuron", tuple(Edge(s, w) for s, w in edges),
                {"activation": activation, "bias": bias, "pre": pre, "expression": ""})


def skip_net() -> Graph:
    """h1 feeds two units; h2 feeds the output directly and through a tanh unit (a skip)."""
    return Graph("skip", "equations", [
        Node("x", "input", (), {"value": None}),
        unit("h1", "relu", "b1", ("x", "w1")),
        unit("h2", "relu", "b2", ("h1", "w2")),
        unit("h3", "relu", "b3", ("h1", "w3")),
        unit("h4", "tanh", "b4", ("h2", "w4")),
        unit("y", "identity", "b5", ("h4", "w5"), ("h2", "w6"), ("h3", "w7")),
    ], ["y"])


def ranks(source: str) -> list[list[str]]:
    """The node ids of each rank=same column, in order."""
    blocks = re.findall(r"subgraph depth_\d+ \{\n\t\trank=same\n(.*?)\n\t\}", source, re.S)
    return [re.findall(r"^\t\t(n_\w+) \[", b, re.M) for b in blocks]


def test_units_edges_and_roles():
    nodes, edges = parse_dot(draw(skip_net()).source)
    assert [k for k, (css, _) in nodes.items() if "input" in css] == ["n_x"]
    assert [k for k, (css, _) in nodes.items() if "hidden" in css] == ["n_h1", "n_h2", "n_h3", "n_h4"]
    assert [k for k, (css, _) in nodes.items() if "output" in css] == ["n_y"]
    assert sorted(plain(label) for *_, label in edges) == [f"w{i}" for i in range(1, 8)]
    h2_out = sorted(dst for src, dst, *_ in edges if src == "n_h2")
    assert h2_out == ["n_h4", "n_y"]  # the shared unit is drawn once, with two outgoing edges
    assert [(s, d) for s, d, css, _ in edges if "skip" in css] == [("n_h2", "n_y"), ("n_h3", "n_y")]
    assert plain(nodes["n_h4"][1]) == "tanh h4 + b4"
    assert plain(nodes["n_h1"][1]) == "ReLU h1 + b1"
    assert plain(nodes["n_y"][1]) == "linear y + b5"


def test_columns_by_depth_inputs_left_outputs_right():
    source = draw(skip_net()).source
    assert "rankdir=LR" in source
    assert ranks(source) == [["n_x"], ["n_h1"], ["n_h2", "n_h3"], ["n_h4"], ["n_y"]]


def test_outputs_share_the_last_column():
    g = Graph("two-outputs", "equations", [
        Node("x1", "input", (), {"value": 0.5}),
        unit("a1", "sigmoid", "b1", ("x1", "w1"), pre="z1"),
        unit("y1", "identity", None, ("a1", "w2")),
        unit("a2", "sigmoid", None, ("a1", "w3")),
        unit("y2", "identity", None, ("a2", "w4")),
    ], ["y1", "y2"])
    source = draw(g).source
    assert ranks(source) == [["n_x1"], ["n_a1"], ["n_a2"], ["n_y1", "n_y2"]]
    nodes, _ = parse_dot(source)
    assert plain(nodes["n_x1"][1]) == "x1 = 0.5"  # an input's value from the IR
    assert plain(nodes["n_a1"][1]) == "σ a1 + b1"
    assert plain(nodes["n_y1"][1]) == "linear y1"  # no bias, nothing shown


def test_values_and_gradients_on_nodes_and_edges():
    run = RunValues(params={"w1": 0.2, "w2": -1.5, "b1": 0.1}, inputs={"x": 2.0}, z={"h": 0.5, "y": -0.75},
                    a={"h": 0.5, "y": -0.75}, grads={"l": {"w1": 0.0125, "w2": -0.3, "b1": 0.00625}},
                    targets={"y": 0.25}, loss_terms={"y": 0.5}, loss=0.5)
    g = Graph("tiny", "equations", [Node("x", "input", (), {"value": None}), unit("h", "relu", "b1", ("x", "w1")),
                                    unit("y", "identity", None, ("h", "w2"))], ["y"])
    source = draw(g, run).source
    nodes, edges = parse_dot(source)
    assert plain(nodes["n_x"][1]) == "x = 2"
    assert plain(nodes["n_h"][1]) == "ReLU z = 0.5 h = 0.5 + b1 = 0.1 ∂l/∂b1 = 0.00625"
    assert plain(nodes["n_y"][1]) == "linear y = -0.75 t = 0.25 ½(y−t)² = 0.5"  # linear: z is y
    assert [plain(label) for *_, label in edges] == ["w1 = 0.2 ∂l/∂w1 = 0.0125", "w2 = -1.5 ∂l/∂w2 = -0.3"]
    assert "loss l = 0.5" in plain(re.search(r"label=<(.*)> labelloc", source).group(1))


def test_weight_values_without_a_run():
    g = skip_net()
    nodes, edges = parse_dot(draw(g, RunValues(params={"w1": 1.0, "b1": -2})).source)
    assert plain(edges[0][3]) == "w1 = 1" and plain(edges[1][3]) == "w2"
    assert plain(nodes["n_h1"][1]) == "ReLU h1 + b1 = -2"


def test_hostile_unit_names_are_escaped():
    g = Graph('a"b', "equations", [Node('x"]; y -> z; q [label="', "input", (), {"value": None}),
                                   unit("<y>\n", "sigmoid", "b\\N", ('x"]; y -> z; q [label="', 'w"1'))], ["<y>\n"])
    nodes, edges = parse_dot(draw(g).source)
    assert len(nodes) == 2 and len(edges) == 1
    assert plain(nodes["n__y__"][1]) == "σ <y> + b\\N"
    assert plain(edges[0][3]) == 'w"1'


def test_deterministic():
    assert draw(skip_net()).source == draw(skip_net()).source


def test_legend_writes_each_unit_as_an_equation():
    source = draw(skip_net()).source
    title = plain(re.search(r"label=<(.*)> labelloc", source).group(1))
    assert title == ("skip h1 = ReLU(w1·x + b1) h2 = ReLU(w2·h1 + b2) h3 = ReLU(w3·h1 + b3) "
                     "h4 = tanh(w4·h2 + b4) y = w5·h4 + w6·h2 + w7·h3 + b5")


def test_edges_take_the_colour_of_their_source():
    source = draw(skip_net()).source
    colours = dict(re.findall(r"\t(n_\w+) -> n_\w+ \[.*?color=\"(#[0-9a-f]{6})\"", source))
    assert len(colours) == 5 and len(set(colours.values())) == 5  # x, h1..h4 each their own hue
