"""Shape inference diagnostics of cnn specs (numbers against torch live in test_shapes_torch.py)."""
from __future__ import annotations

import re
from pathlib import Path

from archspec.validation import check_text

ROOT = Path(__file__).resolve().parent.parent

SPEC = """kind: cnn
input: [5, 5, 1]
layers:
  - {type: conv2d, out_channels: 4, kernel_size: 7}
  - {type: maxpool2d, kernel_size: 2, padding: 2}
  - {type: conv2d, out_channels: 4, kernel_size: 2, padding: same, stride: 2}
  - {type: conv2d, out_channels: 3, kernel_size: 1, groups: 2}
"""


def test_problems_no_input_can_fix_are_reported_after_the_first_shape_error():
    diags = check_text(SPEC).diagnostics
    lines = SPEC.splitlines()
    col = lambda line, word: lines[line - 1].index(word) + 1  # noqa: E731
    assert [(d.code, d.line, d.column) for d in diags] == [
        ("kernel-too-large", 4, col(4, "7")), ("pool-padding", 5, col(5, "padding: 2") + 9),
        ("same-padding-stride", 6, col(6, "same")), ("bad-groups", 7, col(7, "2}"))]
    assert "out_channels=3" in diags[-1].message


def test_a_valid_stack_has_no_diagnostics():
    assert check_text(SPEC.replace("kernel_size: 7", "kernel_size: 1").replace("padding: 2", "padding: 1")
                      .replace("stride: 2", "stride: 1").replace("out_channels: 3", "out_channels: 4")).valid


def test_sizes_over_999_have_separators_for_people_but_not_in_json_or_code():
    from archspec.cnn.explain import explain
    from archspec.tables import shapes_table
    from archspec.torchbuild.codegen import generate
    from archspec.validation import load

    spec = load(ROOT / "specs" / "seed" / "q6-design.yaml")
    table = shapes_table(spec.shapes())
    assert "N: 7 * 7 * 256 = 12,544" in table and "12544" not in table
    assert re.search(r"flatten1 +flatten +7 x 7 x 256 +12,544 +0 +0 ", table)  # input, output, params, MACs
    for fmt in ("markdown", "text", "latex"):
        text = explain(spec, format=fmt)
        assert "12544" not in text and ("12{,}544" if fmt == "latex" else "7 x 7 x 256 -> 12,544") in text
    doc = spec.shapes().to_json()
    assert doc["layers"][-2]["output"] == [12544] and doc["layers"][-2]["formulas"] == ["N: 7 * 7 * 256 = 12544"]
    assert "12,544" not in generate(spec)


def test_grouping_leaves_small_numbers_and_decimals_alone():
    from archspec.cnn.shapes import dims, grouped

    assert dims((1024, 1024, 3)) == "1,024 x 1,024 x 3" and dims((7, 7), "x") == "7x7"
    assert grouped("floor((1024 - 3 + 2*1) / 2) + 1 = 512") == "floor((1,024 - 3 + 2*1) / 2) + 1 = 512"
    assert grouped("0.12345 and 999") == "0.12345 and 999"


def test_huge_totals_use_units_beyond_giga(cli, tmp_path):
    """A 100,000 x 100,000 input with 10**9 filters read '399984000272.00GB as float32'."""
    path = tmp_path / "huge.yaml"
    path.write_text("kind: cnn\ninput: [100000, 100000, 3]\nlayers:\n"
                    "  - {type: conv2d, out_channels: 1000000000, kernel_size: 3}\n")
    foot = cli("shapes", path).out.strip().splitlines()[-1]
    assert "(112.00GB as float32)" in foot and "(269.99E)" in foot and "activations 40.00EB per sample" in foot, foot


def test_text_tables_align_wide_and_combining_characters():
    """Class folders named in Chinese or with accents: columns line up as a terminal shows them."""
    from archspec.tables import table

    text = table(["class", "n"], [["肺部CT", 12], ["CXR", 3], ["cafe\u0301", 1]], right={1})
    assert text.splitlines() == ["class    n", "------  --", "肺部CT  12", "CXR      3", "cafe\u0301     1"]


def test_shapes_json_has_one_entry_per_spec_with_its_located_diagnostics(cli, tmp_path):
    """A single SPEC that failed to parse printed [] (a list, where a single SPEC prints an object), and the
    JSON never said why a stack stopped: the diagnostics were only on stderr."""
    import json

    stops = tmp_path / "stops.yaml"
    stops.write_text("kind: cnn\ninput: [2, 2, 1]\nlayers:\n  - {type: maxpool2d, kernel_size: 2}\n"
                     "  - {type: maxpool2d, kernel_size: 2}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: cnn\ninput: [2, 2, 1]\nlayers:\n  - {type: conv2d, out_channels: 0, kernel_size: 1}\n")
    other = ROOT / "specs" / "seed" / "q2-backprop.yaml"
    r = cli("shapes", "--format", "json", broken)
    doc = json.loads(r.out)
    assert r.code == 1 and doc["path"] == str(broken) and doc["complete"] is False
    assert [(d["code"], d["line"]) for d in doc["diagnostics"]] == [("bad-value", 4)]
    r = cli("shapes", "--format", "json", stops, broken, other)
    docs = json.loads(r.out)
    assert r.code == 1 and [d["path"] for d in docs] == [str(stops), str(broken), str(other)]
    assert docs[0]["layers"][0]["output"] == [1, 1, 1] and docs[0]["complete"] is False
    assert [(d["code"], d["line"], d["column"]) for d in docs[0]["diagnostics"]] == [("size-below-one", 5, 5)]
    assert docs[2]["diagnostics"][0]["code"] == "shapes-kind" and "kind: equations" in r.err
    ok = json.loads(cli("shapes", "--format", "json", ROOT / "specs" / "seed" / "q6-design.yaml").out)
    assert ok["complete"] is True and ok["diagnostics"] == []


def test_a_name_that_collides_with_a_default_name_says_which_layer_has_none():
    """name: conv2 on the first conv collides with the second conv's default; the message named neither."""
    text = ("kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {type: conv2d, out_channels: 2, kernel_size: 3, name: conv2}\n"
            "  - {type: conv2d, out_channels: 2, kernel_size: 3}\n")
    (d,) = check_text(text).diagnostics
    assert (d.code, d.line) == ("duplicate-name", 5) and "layer 2 has no name: 'conv2' is its default" in d.hint
    named = text.replace("kernel_size: 3}", "kernel_size: 3, name: conv2}")
    assert check_text(named).diagnostics[0].hint is None  # both written: nothing to explain
