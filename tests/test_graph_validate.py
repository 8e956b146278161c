"""Graph CNN specs (from:, add/concat/multiply): every wiring and merge problem located, all at once."""
from __future__ import annotations

import pytest

from archspec.validation import check_text

HEAD = "kind: cnn\ninput: [32, 32, 3]\nlayers:\n"


def diagnose(layers: str):
    report = check_text(HEAD + layers, "g.yaml")
    return report, {d.code: d for d in report.diagnostics}


def where(text: str, line: int, needle: str, nth: int = 0) -> tuple[int, int]:
    """(line, column) of the nth ``needle`` on ``line`` (1-based) of the spec text."""
    row = (HEAD + text).splitlines()[line - 1]
    col = -1
    for _ in range(nth + 1):
        col = row.index(needle, col + 1)
    return line, col + 1


def test_a_typo_in_from_is_located_at_the_name_with_did_you_mean():
    layers = ("  - {type: conv2d, name: stem, out_channels: 8, kernel_size: 3, padding: 1}\n"
              "  - {type: relu, name: act, from: stme}\n")
    report, by_code = diagnose(layers)
    d = by_code["unknown-from"]
    assert (d.line, d.column) == where(layers, 5, "stme")
    assert d.hint == "did you mean 'stem'?" and not report.valid


def test_the_first_layer_can_take_only_the_input():
    layers = "  - {type: relu, from: stem}\n"
    d = diagnose(layers)[1]["unknown-from"]
    assert (d.line, d.column) == where(layers, 4, "stem")
    assert "first layer can take only 'input'" in d.hint


def test_from_a_later_layer_and_from_itself():
    layers = ("  - {type: relu, name: a, from: b}\n"
              "  - {type: relu, name: b, from: b}\n")
    report, by_code = diagnose(layers)
    assert (by_code["from-later"].line, by_code["from-later"].column) == where(layers, 4, "b}")
    assert (by_code["from-self"].line, by_code["from-self"].column) == where(layers, 5, "b}")
    assert "comes later (layer 2)" in by_code["from-later"].message


def test_add_of_two_shapes_names_both_layers_and_shapes():
    layers = ("  - {type: conv2d, name: main, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}\n"
              "  - {type: conv2d, name: side, from: input, out_channels: 8, kernel_size: 1, stride: 2}\n"
              "  - {type: add, name: sum, from: [main, side]}\n")
    d = diagnose(layers)[1]["merge-shape"]
    assert (d.line, d.column) == where(layers, 6, "[main")
    assert "main gives 16 x 16 x 16" in d.message and "side gives 16 x 16 x 8" in d.message


def test_concat_needs_equal_height_and_width():
    layers = ("  - {type: maxpool2d, name: half, kernel_size: 2}\n"
              "  - {type: concat, from: [half, input]}\n")
    d = diagnose(layers)[1]["concat-size"]
    assert "half gives 16 x 16 x 3" in d.message and "input gives 32 x 32 x 3" in d.message
    assert d.line == 5


@pytest.mark.parametrize("merge", ["{type: add, from: [a]}", "{type: concat}", "{type: multiply, from: a}"])
def test_a_merge_needs_two_inputs(merge):
    layers = f"  - {{type: relu, name: a}}\n  - {merge}\n"
    d = diagnose(layers)[1]["merge-inputs"]
    assert d.line == 5


def test_a_plain_layer_takes_one_input():
    layers = "  - {type: relu, name: a}\n  - {type: relu, from: [a, input]}\n"
    assert diagnose(layers)[1]["from-many"].line == 5


def test_flatten_and_linear_rules_hold_on_branches():
    layers = ("  - {type: flatten, name: flat}\n"
              "  - {type: linear, name: head, out_features: 4}\n"
              "  - {type: linear, name: side, from: input, out_features: 4}\n"
              "  - {type: add, from: [head, side]}\n")
    report, by_code = diagnose(layers)
    d = by_code["linear-needs-flat"]
    assert d.line == 6 and d.message.startswith("side (linear) on input 32 x 32 x 3")


def test_every_problem_of_a_graph_at_once():
    layers = ("  - {type: relu, name: a, from: nope}\n"
              "  - {type: conv2d, name: b, from: a, out_channels: 4, kernel_size: 3, groups: 3}\n"
              "  - {type: add, from: [b]}\n")
    codes = [d.code for d in diagnose(layers)[0].diagnostics]
    assert {"unknown-from", "bad-groups", "merge-inputs"} <= set(codes)


def test_an_output_nothing_takes_is_a_located_warning():
    layers = ("  - {type: conv2d, name: used, out_channels: 4, kernel_size: 1}\n"
              "  - {type: conv2d, name: dangling, from: input, out_channels: 4, kernel_size: 1}\n"
              "  - {type: relu, name: out, from: used}\n")
    report, by_code = diagnose(layers)
    d = by_code["unused-output"]
    assert report.valid and d.severity == "warning" and d.line == 5 and "dangling" in d.message


def test_input_is_not_a_layer_name():
    d = diagnose("  - {type: relu, name: input}\n")[1]["bad-name"]
    assert "network's input" in d.message


def test_multiply_broadcasts_a_channel_gate_and_refuses_other_shapes():
    gate = ("  - {type: conv2d, name: f, out_channels: 4, kernel_size: 1}\n"
            "  - {type: adaptive_avgpool2d, name: g}\n"
            "  - {type: multiply, name: m, from: [f, g]}\n")
    report, _ = diagnose(gate)
    assert report.valid and report.spec.shapes().output == (32, 32, 4)
    bad = gate.replace("adaptive_avgpool2d, name: g", "adaptive_avgpool2d, name: g, output_size: 2")
    assert "merge-shape" in diagnose(bad)[1]


def test_unknown_key_hint_names_from_not_its_python_name():
    d = diagnose("  - {type: relu, form: input}\n")[1]["unknown-key"]
    assert "'from'" in d.hint and "from_" not in d.hint


def test_suggest_repairs_a_graph_spec_and_writes_from_as_users_do():
    from archspec.design.repair import suggest

    text = HEAD.replace("[32, 32, 3]", "[32, 32, 3]") + (
        "  - {type: conv2d, name: a, out_channels: 8, kernel_size: 3, padding: 1}\n"
        "  - {type: conv2d, name: b, out_channels: 8, kernel_size: 3, padding: 1}\n"
        "  - {type: add, from: [a, b]}\n  - {type: flatten}\n  - {type: linear, out_features: 5}\n"
        "constraints:\n  conv2d: {count: 2, kernel_size: {in: [3]}, padding: {max: 1}, stride: {max: 2}}\n"
        "  maxpool2d: {count: {max: 1}, kernel_size: 2, stride: 2}\n  before_flatten: [16, 16, 8]\n")
    report = check_text(text, "g.yaml")
    assert not report.valid
    found = suggest(report.spec)
    assert found and "a: stride 1 -> 2 gives 16 x 16 x 8 before flatten" in [s.message for s in found]
    assert "from: [a, b]" in found[0].text and "from_" not in found[0].text
    assert check_text(found[0].text).valid
