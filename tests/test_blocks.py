"""Blocks (blocks:, {block: ...} uses, repeat, $parameters): expansion equals the hand-written flat spec,
every mistake is located at the use or the definition, and names become nested torch modules."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import archspec
from archspec.diagrams import render
from archspec.validation import check_text
from test_render_dot import parse_dot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
FLAT = Path(__file__).resolve().parent / "data" / "resnet18-flat.yaml"


def _shape_rows(path):
    doc = archspec.shapes(archspec.load(path)).to_json()
    keys = ("type", "inputs", "input", "output", "params", "macs", "memory", "formulas")
    return [{k: x[k] for k in keys} for x in doc["layers"]], {k: doc[k] for k in ("params", "macs", "memory",
                                                                                   "peak_memory")}


def test_resnet18_with_blocks_expands_to_the_flat_resnet18():
    assert _shape_rows(EXAMPLES / "resnet18.yaml") == _shape_rows(FLAT)
    a, b = archspec.load(EXAMPLES / "resnet18.yaml"), archspec.load(FLAT)
    flat_names = [x.name for x in archspec.shapes(b).layers]
    block_names = [x.name for x in archspec.shapes(a).layers]
    assert [n.replace(".", "_") for n in block_names] == flat_names  # layer1_0.conv1 is layer1_0_conv1
    na, ea = parse_dot(render(a, collapse=False).source)
    nb, eb = parse_dot(render(b).source)
    assert len(na) == len(nb) and len(ea) == len(eb)
    assert sorted(css for css, _ in na.values()) == sorted(css for css, _ in nb.values())
    assert sorted(e[2] for e in ea) == sorted(e[2] for e in eb)  # as many shortcuts, drawn the same way


def test_resnet18_with_blocks_is_short():
    lines = [x for x in (EXAMPLES / "resnet18.yaml").read_text().splitlines() if x.strip() and
             not x.strip().startswith("#")]
    assert len(lines) <= 60


@pytest.mark.parametrize("name, params", [("resnet18.yaml", 11_689_512), ("vgg16.yaml", 138_357_544),
                                          ("mobilenet-v1.yaml", 4_231_976)])
def test_built_modules_have_the_published_parameter_counts(name, params):
    spec = archspec.load(EXAMPLES / name)
    assert archspec.shapes(spec).params == params
    model = archspec.build(spec)
    assert sum(p.numel() for p in model.parameters()) == params


def test_use_names_become_nested_modules_as_torchvision_names_them():
    model = archspec.build(EXAMPLES / "resnet18.yaml")
    keys = list(model.state_dict())
    assert "layer2_0.down.weight" in keys and "layer1_1.conv2.weight" in keys
    vgg = archspec.shapes(EXAMPLES / "vgg16.yaml")  # nested: stage -> conv x convs
    assert [x.name for x in vgg.layers[:5]] == ["block1.conv_0.conv", "block1.conv_0.relu", "block1.conv_1.conv",
                                                "block1.conv_1.relu", "block1.pool"]


def test_resnet34_is_resnet18_with_other_repeats():
    text = (EXAMPLES / "resnet18.yaml").read_text()
    text = text.replace("name: resnet18", "name: resnet34")
    text = text.replace("repeat: 2, channels: 64", "repeat: 3, channels: 64")
    for stage, n in (("layer2_1", 3), ("layer3_1", 5), ("layer4_1", 2)):
        text = re.sub(rf"(name: {stage},)", rf"\1 repeat: {n},", text)
    assert len([x for x in text.splitlines() if x.strip() and not x.strip().startswith("#")]) < 70
    report = check_text(text, "resnet34.yaml")
    assert report.valid, report.text()
    assert archspec.shapes(report.spec).params == 21_797_672  # torchvision's resnet34


BLOCKS = """kind: cnn
input: [16, 16, 8]
blocks:
  unit:
    params: {channels: null, stride: 1}
    layers:
      - {type: conv2d, name: conv, out_channels: $channels, kernel_size: 3, stride: $stride, padding: 1}
      - {type: relu, name: act}
layers:
"""


def problems(layers: str, blocks: str = BLOCKS):
    report = check_text(blocks + layers, "b.yaml")
    return report, {d.code: d for d in report.diagnostics}


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_an_unknown_block_is_located_at_the_use_with_did_you_mean():
    use = "  - {block: unti, channels: 8}\n"
    _, by = problems(use)
    d = by["unknown-block"]
    assert d.line == line_of(BLOCKS + use, "unti") and d.hint == "did you mean 'unit'?"


def test_missing_and_unknown_parameters_are_located_at_the_use():
    use = "  - {block: unit, chanels: 8}\n"
    _, by = problems(use)
    assert by["unknown-param"].hint == "did you mean 'channels'?"
    assert "needs parameter 'channels'" in by["missing-param"].message
    assert by["missing-param"].line == by["unknown-param"].line == line_of(BLOCKS + use, "chanels")


def test_a_parameter_of_the_wrong_type_is_located_at_its_value_and_names_the_block_line():
    use = "  - {block: unit, name: u1, channels: '8'}\n"
    report, by = problems(use)
    d = by["bad-value"]
    text = BLOCKS + use
    assert (d.line, d.column) == (line_of(text, "u1"), text.splitlines()[d.line - 1].index("'8'") + 1)
    assert f"the use at line {line_of(text, 'u1')}" in d.message
    assert f"block 'unit' line {line_of(text, 'name: conv')}" in d.message


def test_a_shape_problem_inside_a_block_is_at_the_definition_and_names_the_use():
    blocks = BLOCKS.replace("      - {type: relu, name: act}", "      - {type: relu, name: act}\n"
                            "      - {type: add, name: sum, from: [act, in]}")
    layers = "  - {block: unit, name: fine, channels: 8}\n  - {block: unit, name: halves, channels: 8, stride: 2}\n"
    report, by = problems(layers, blocks)
    d = by["merge-shape"]  # the second use halves H and W, so its shortcut no longer fits
    text = blocks + layers
    assert d.line == line_of(blocks, "name: sum")
    assert f"[in halves: the use at line {line_of(text, 'halves')}, block 'unit' line {d.line}]" in d.message
    assert "halves.act gives 8 x 8 x 8" in d.message and "fine.sum gives 16 x 16 x 8" in d.message


def test_an_unknown_parameter_name_in_the_definition_is_located_there():
    blocks = BLOCKS.replace("stride: $stride", "stride: $strid")
    _, by = problems("  - {block: unit, channels: 8}\n", blocks)
    d = by["unknown-param"]
    assert d.line == line_of(blocks, "$strid") and d.hint == "did you mean 'stride'?"


def test_recursion_is_an_error_at_the_inner_use():
    blocks = BLOCKS.replace("      - {type: relu, name: act}", "      - {block: unit, channels: 4}")
    _, by = problems("  - {block: unit, channels: 8}\n", blocks)
    d = by["block-recursion"]
    assert d.line == line_of(blocks, "{block: unit, channels: 4}") and "unit -> unit" in d.message


def test_from_inside_a_block_names_its_layers_or_in():
    blocks = BLOCKS.replace("      - {type: relu, name: act}", "      - {type: add, name: sum, from: [conv, inn]}")
    _, by = problems("  - {block: unit, channels: 8}\n", blocks)
    d = by["unknown-from"]
    assert d.line == line_of(blocks, "inn") and d.hint == "did you mean 'in'?"
    ok = blocks.replace("inn]", "in]")
    report, _ = problems("  - {block: unit, name: r, channels: 8}\n", ok)
    assert report.valid and report.spec.shapes().layers[-1].sources == ("r.conv", "input")


def test_repeat_is_bounded_and_a_use_name_has_no_dot():
    _, by = problems("  - {block: unit, channels: 8, repeat: 0}\n")
    assert "repeat should be a whole number from 1 to 256" in by["bad-value"].message
    _, by = problems("  - {block: unit, channels: 8, repeat: 100000}\n")
    assert "bad-value" in by
    _, by = problems("  - {block: unit, name: a.b, channels: 8}\n")
    assert "bad-name" in by


def test_a_later_layer_takes_a_use_by_its_name():
    layers = ("  - {block: unit, name: first, channels: 8}\n  - {block: unit, name: second, channels: 8}\n"
              "  - {type: add, from: [first, second]}\n")
    report, _ = problems(layers)
    assert report.valid, report.text()
    assert report.spec.shapes().layers[-1].sources == ("first.act", "second.act")


def test_the_collapsed_resnet18_has_few_boxes_and_a_golden_dot(golden):
    g = render(archspec.load(EXAMPLES / "resnet18.yaml"), collapse=True)
    nodes, _ = parse_dot(g.source)
    assert len(nodes) <= 25
    assert sum("use" in css for css, _ in nodes.values()) == 7  # layer1 (x 2) and two uses per later stage
    golden("render/resnet18-collapsed.dot", g.source)


def test_shapes_table_has_a_row_per_use(cli, golden, monkeypatch):
    monkeypatch.chdir(ROOT)  # the table's title holds the path as given
    r = cli("shapes", "specs/examples/resnet18.yaml")
    assert r.code == 0
    golden("shapes/resnet18.txt", r.out)
    collapsed = cli("shapes", EXAMPLES / "resnet18.yaml", "--collapse").out
    assert "[layer2_0]  block down" in collapsed and "layer2_0.conv1" not in collapsed
    assert "11,689,512" in collapsed
    doc = archspec.shapes(EXAMPLES / "resnet18.yaml").to_json()
    assert doc["layers"][20]["blocks"] == [{"use": "layer2_0", "block": "down"}]


def test_nested_repeats_are_refused_before_they_expand():
    text = ("kind: cnn\ninput: [8, 8, 2]\nblocks:\n  c: {layers: [{type: relu}]}\n"
            "  b: {layers: [{block: c, repeat: 256}]}\n  a: {layers: [{block: b, repeat: 256}]}\n"
            "layers:\n  - {block: a, repeat: 256}\n")  # 16.7 million layers
    report = check_text(text)
    assert [d.code for d in report.diagnostics] == ["too-many-layers"]


def test_a_layer_and_a_use_cannot_share_a_name():
    text = BLOCKS + "  - {type: relu, name: u}\n  - {block: unit, name: u, channels: 8}\n"
    assert "duplicate-name" in {d.code for d in check_text(text).diagnostics}
