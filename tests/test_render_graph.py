"""Diagrams of graph CNNs: golden DOT for ResNet-18 and the inception block, every edge of the graph
drawn (shortcuts as 'skip' edges), merges as small labelled nodes, and broken graphs still drawn."""
from __future__ import annotations

from pathlib import Path

import pytest

from archspec.diagrams import render
from archspec.validation import check_file, check_text
from test_render_dot import parse_dot

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"


def example(name: str):
    report = check_file(EXAMPLES / f"{name}.yaml")
    assert report.valid, report.text()
    return report.spec


@pytest.mark.parametrize("name", ["resnet18", "inception-block"])
def test_graph_golden_dot(name, golden):
    golden(f"render/{name}.dot", render(example(name), collapse=False).source)  # every layer, uses as clusters


def test_inception_branches_all_reach_the_concat():
    nodes, edges = parse_dot(render(example("inception-block")).source)
    concat = next(k for k, (css, _) in nodes.items() if "concat" in css)
    into = [e for e in edges if e[1] == concat]
    assert len(into) == 4
    assert "256" in nodes[concat][1]  # its output shape, 28 x 28 x 256
    starts = [e for e in edges if e[0] == "g_input"]
    assert len(starts) == 4  # four branches take the block input: one straight, three drawn as branches
    assert sum("skip" in e[2] for e in starts) == 3


def test_every_resnet_shortcut_is_drawn_and_grouping_keeps_them():
    spec = example("resnet18")
    for options in ({}, {"group": True}, {"layout": "LR"}):
        nodes, edges = parse_dot(render(spec, collapse=False, **options).source)
        adds = [k for k, (css, _) in nodes.items() if "merge" in css and "add" in css]
        assert len(adds) == 8
        assert all(len([e for e in edges if e[1] == a]) == 2 for a in adds)
        assert sum("skip" in e[2] for e in edges) == 11  # 8 shortcuts into adds, 3 branches into downsample convs


def test_a_broken_graph_is_still_drawn_with_its_problem_in_red():
    text = ("kind: cnn\nname: broken\ninput: [16, 16, 3]\nlayers:\n"
            "  - {type: conv2d, name: a, out_channels: 4, kernel_size: 3, stride: 2, padding: 1}\n"
            "  - {type: add, name: s, from: [a, input]}\n  - {type: relu, from: nowhere}\n")
    report = check_text(text)
    assert not report.valid
    nodes, edges = parse_dot(render(report.spec).source)
    merge = next(v for v in nodes.values() if "merge" in v[0])
    assert "broken" in merge[0] and "16 x 16 x 3" in merge[1]
    assert any("broken" in css for css, _ in nodes.values() if "relu" in css)
