"""CNN pipeline diagrams: one box per layer with its parameters and shapes, broken rules marked."""
from __future__ import annotations

from pathlib import Path

import graphviz
import pytest

from archspec.diagrams import RenderError, render
from archspec.tables import dims
from archspec.validation import check_file, load
from test_render_dot import parse_dot, plain

SEED = Path(__file__).resolve().parent.parent / "specs" / "seed"

BROKEN_Q6 = """\
kind: cnn
name: q6-broken
input: [224, 224, 3]
layers:
  - {type: conv2d, out_channels: 64, kernel_size: 4, stride: 2, padding: 3}
  - {type: relu}
  - {type: maxpool2d, kernel_size: 2, stride: 2}
  - {type: conv2d, out_channels: 128, kernel_size: 3, stride: 3, padding: 1}
  - {type: relu}
  - {type: maxpool2d, kernel_size: 3, stride: 2}
  - {type: conv2d, out_channels: 256, kernel_size: 3, stride: 2, padding: 1}
  - {type: relu}
  - {type: conv2d, out_channels: 256, kernel_size: 3, stride: 1, padding: 1}
  - {type: relu}
  - {type: conv2d, out_channels: 256, kernel_size: 3, stride: 1, padding: 1}
  - {type: maxpool2d, kernel_size: 2, stride: 2}
  - {type: flatten}
  - {type: linear, out_features: 10}
constraints:
  conv2d: {count: 4, kernel_size: {odd: true, max: 7}, padding: {max: 2}, stride: {max: 2}}
  maxpool2d: {count: {max: 2}, kernel_size: 2, stride: 2}
  linear: {count: 1, out_features: 5}
  before_flatten: [7, 7, 256]
"""


def spec_from(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return check_file(path).spec


def layer_boxes(source):
    nodes, edges = parse_dot(source)
    return {k: v for k, v in nodes.items() if "layer" in v[0]}, nodes, edges


def test_q6_one_box_per_layer_with_parameters_and_shapes():
    spec = load(SEED / "q6-design.yaml")
    g = render(spec)
    assert isinstance(g, graphviz.Digraph)
    boxes, nodes, edges = layer_boxes(g.source)
    report = spec.shapes()
    assert len(boxes) == len(spec.layers)
    assert len(edges) == len(spec.layers)  # a chain from the input box
    for info, (css, label) in zip(report.layers, boxes.values()):
        shown = plain(label)
        assert info.name in shown and info.type in css
        assert dims(info.input) in shown and dims(info.output) in shown
        assert "broken" not in css
    conv1 = plain(boxes["n_conv1"][1])
    assert "kernel 3x3, stride 2, padding 1" in conv1 and "64 filters" in conv1 and "1,792 params" in conv1
    assert "kernel 2x2, stride 2, padding 0" in plain(boxes["n_pool1"][1])
    assert "5 units" in plain(boxes["n_fc1"][1])
    css, note = nodes["g_rules"]
    assert "every rule holds" in plain(note) and "before_flatten: 7 x 7 x 256" in plain(note)


def test_broken_rules_are_marked_on_their_layers(tmp_path):
    spec = spec_from(tmp_path, BROKEN_Q6)
    diags = spec.check()
    boxes, nodes, _ = layer_boxes(render(spec).source)
    ids = list(boxes)
    on_layers = {d.path[1] for d in diags if d.path[:1] == ("layers",)}
    assert on_layers == {0, 3, 5, 12, 13}  # conv1 (kernel, padding), conv2 (stride), pool2, flatten, fc1
    for i, (css, label) in enumerate(boxes.values()):
        assert ("broken" in css) == (i in on_layers), ids[i]
    conv1 = plain(boxes["n_conv1"][1])
    assert "kernel_size 4x4 breaks the rule 'kernel_size max 7, odd'" in conv1
    assert "padding 3x3 breaks the rule 'padding max 2'" in conv1
    assert "constraints.conv2d" not in conv1  # the rule path is noise inside the box
    assert "out_features 10 breaks the rule 'out_features = 5'" in plain(boxes["n_fc1"][1])
    css, note = nodes["g_rules"]
    note = plain(note)
    assert "5 conv2d layer(s) break the rule 'count = 4'" in note
    assert "3 maxpool2d layer(s) break the rule 'count max 2'" in note
    assert "before flatten the shape is 2 x 2 x 256, but the rule asks for 7 x 7 x 256" in plain(boxes["n_flatten1"][1])
    assert "every rule holds" not in note


def test_before_flatten_rule_marks_the_flatten_layer(tmp_path):
    text = (SEED / "q6-design.yaml").read_text().replace("before_flatten: [7, 7, 256]", "before_flatten: [14, 14, 256]")
    spec = spec_from(tmp_path, text)
    boxes, _, _ = layer_boxes(render(spec).source)
    css, label = boxes["n_flatten1"]
    assert "broken" in css and "before flatten the shape is 7 x 7 x 256" in plain(label)


def test_shape_failure_marks_the_layer_and_unknown_shapes_after(tmp_path):
    spec = spec_from(tmp_path, """\
kind: cnn
input: [6, 6, 1]
layers:
  - {type: conv2d, out_channels: 2, kernel_size: 3}
  - {type: conv2d, out_channels: 2, kernel_size: 7, name: big}
  - {type: relu}
  - {type: flatten}
""")
    boxes, _, _ = layer_boxes(render(spec).source)
    css, big = boxes["n_big"]
    assert "broken" in css and "kernel 7" in plain(big) and "this layer cannot take its input" in plain(big)
    assert "an earlier layer fails" in plain(boxes["n_relu1"][1])
    assert "broken" not in boxes["n_conv1"][0] and "6 x 6 x 1 → 4 x 4 x 2" in plain(boxes["n_conv1"][1])


def test_group_folds_activations_into_conv_boxes():
    spec = load(SEED / "q5-architecture.yaml")
    boxes, _, edges = layer_boxes(render(spec, group=True).source)
    relus = sum(layer.type == "relu" for layer in spec.layers)
    assert len(boxes) == len(spec.layers) - relus
    first = plain(boxes["n_conv1"][1])
    assert "conv1 + relu1" in first and "224 x 224 x 3 → 222 x 222 x 64" in first
    assert not any("relu" in css and "conv2d" not in css for css, _ in boxes.values())


def test_layouts_and_determinism():
    spec = load(SEED / "q5-architecture.yaml")
    tb, lr = render(spec).source, render(spec, layout="LR").source
    assert "rankdir=TB" in tb and "rankdir=LR" in lr
    assert "224x224x3 → 222x222x64" in plain(lr)  # compact dims left-to-right
    assert render(spec).source == tb
    with pytest.raises(RenderError, match="layout"):
        render(spec, layout="diagonal")


def test_duplicate_layer_names_stay_separate_boxes(tmp_path):
    spec = spec_from(tmp_path, """\
kind: cnn
input: [8, 8, 1]
layers:
  - {type: conv2d, out_channels: 2, kernel_size: 3, name: block}
  - {type: relu, name: block}
  - {type: flatten}
""")
    boxes, _, edges = layer_boxes(render(spec).source)
    assert len(boxes) == 3 and len(edges) == 3
    assert all("broken" in boxes[k][0] for k in list(boxes)[1:2])  # the duplicate is flagged


def test_no_rules_no_note():
    spec = load(SEED / "q5-architecture.yaml")
    _, nodes, _ = layer_boxes(render(spec).source)
    assert "g_rules" not in nodes


def test_render_accepts_a_path():
    import archspec

    assert "q6-design" in archspec.render(str(SEED / "q6-design.yaml")).source  # the API loads it
    with pytest.raises(TypeError, match="draws a loaded spec"):
        render(str(SEED / "q6-design.yaml"))  # drawing itself takes a loaded spec
