"""Design rules: bounds, counts, shape checkpoints, rules kept in their own file."""
from __future__ import annotations

from pathlib import Path

import pytest

from archspec.validation import check_file, check_text

ROOT = Path(__file__).resolve().parent.parent
BASE = """kind: cnn
input: [32, 32, 3]
layers:
  - {type: conv2d, out_channels: 16, kernel_size: %s, stride: %s, padding: 1}
  - {type: maxpool2d, kernel_size: 2}
  - {type: flatten}
  - {type: linear, out_features: 10}
constraints:
%s
"""


def codes(k, s, rules):
    return [(d.code, d.line) for d in check_text(BASE % (k, s, rules)).diagnostics]


@pytest.mark.parametrize("k,s,rules,expected", [
    (3, 1, "  conv2d: {kernel_size: {odd: true}}", []),
    (4, 1, "  conv2d: {kernel_size: {odd: true}}", [("rule-param", 4)]),
    (4, 1, "  conv2d: {kernel_size: {even: true}}", []),
    (5, 1, "  conv2d: {kernel_size: {max: 3}}", [("rule-param", 4)]),
    (3, 1, "  conv2d: {kernel_size: {in: [3, 5]}}", []),
    ("[3, 1]", 1, "  conv2d: {kernel_size: {in: [3, 5]}}", [("rule-param", 4)]),  # both axes must obey
    (3, 2, "  conv2d: {stride: 1}", [("rule-param", 4)]),
    (3, 1, "  maxpool2d: {stride: 2}", []),  # stride defaults to kernel_size, as in PyTorch
    (3, 1, "  conv2d: {count: 2}", [("rule-count", 9)]),
    (3, 1, "  maxpool2d: {count: {min: 1, max: 2}}", []),
    (3, 1, "  before_flatten: [16, 16, 16]", []),
    (3, 2, "  before_flatten: [16, 16, 16]", [("rule-shape", 6)]),
    (3, 1, "  output: [10]", []),
    (3, 1, "  output: [5]", [("rule-shape", 7)]),
])
def test_rule_semantics(k, s, rules, expected):
    assert codes(k, s, rules) == expected


def test_each_broken_rule_is_its_own_diagnostic():
    got = codes(4, 3, "  conv2d: {count: 2, kernel_size: {odd: true}, stride: {max: 2}}\n  before_flatten: [1, 1, 1]")
    assert sorted(c for c, _ in got) == ["rule-count", "rule-param", "rule-param", "rule-shape"]


def test_rules_in_their_own_file(tmp_path):
    (tmp_path / "rules.yaml").write_text("kind: rules\nconstraints:\n  conv2d: {kernel_size: {max: 3}}\n")
    spec = tmp_path / "student.yaml"
    spec.write_text((BASE % (5, 1, "")).replace("constraints:\n", "constraints: rules.yaml\n"))
    report = check_file(spec)
    assert [(d.code, d.line) for d in report.diagnostics] == [("rule-param", 4)]
    assert "rule 'kernel_size max 3'" in report.diagnostics[0].message


@pytest.mark.parametrize("rules, code, column, hint", [
    ("  conv2d: {kernal_size: 3}", "unknown-rule", 25, "did you mean 'kernel_size'?"),
    ("  conv2d: {kernel_size: 3.0}", "bad-rule", 25, "write 3"),
    ("  conv2d: {stride: '2'}", "bad-rule", 20, "write 2 without quotes"),
    ("  conv2d: {padding: {in: [0, -1]}}", "bad-rule", 30, None),  # padding is never negative
    ("  conv2d: {count: 1.5}", "bad-rule", 19, "e.g. count: 2 or count: {max: 2}"),
])
def test_a_rule_no_layer_could_meet_is_an_error_where_it_is_written(tmp_path, cli, rules, code, column, hint):
    """In the spec, in a rules file of its own (and through the student spec naming it), and for design."""
    (d,) = check_text(BASE % (3, 1, rules)).diagnostics
    assert (d.code, d.line, d.column, d.hint) == (code, 9, column, hint)
    (tmp_path / "rules.yaml").write_text("kind: rules\ninput: [32, 32, 3]\nconstraints:\n" + rules + "\n")
    (d,) = check_file(tmp_path / "rules.yaml").diagnostics
    assert (d.code, d.line, d.column) == (code, 4, column)
    spec = tmp_path / "student.yaml"
    spec.write_text((BASE % (3, 1, "")).replace("constraints:\n", "constraints: rules.yaml\n"))
    (d,) = check_file(spec).diagnostics
    assert (d.code, d.line) == ("rules-file", 8) and f"rules.yaml:4:{column}: error[{code}]" in d.message
    r = cli("design", tmp_path / "rules.yaml", "--count")
    assert r.code == 1 and f"rules.yaml:4:{column}: error[{code}]" in r.err and "designs meet" not in r.out


def test_shared_rules_example_validates():
    assert check_file(ROOT / "specs/examples/q6-student.yaml").valid
    assert check_file(ROOT / "specs/rules/q6-rules.yaml").valid


@pytest.mark.parametrize("rules_text, message", [
    ("kind: rules\nconstraints:\n  conv2d: {count: 1}\n  lineer: {count: 1}\n",
     "rules.yaml:4:3: error[unknown-key]: unknown key 'lineer' in constraints"),
    ("conv2d: {count: 1}\nlineer: {count: 1}\n", "rules.yaml:2:1: error[unknown-key]: unknown key 'lineer'"),
    ("kind: cnn\ninput: [8, 8, 1]\nlayers: [{type: flatten}]\n",
     "rules.yaml:1:7: error[rules-file]: this kind: cnn file has no constraints: block"),
    ("kind: cnn\ninput: [8, 8, 1]\nlayers: [{type: flatten}]\nconstraints: other.yaml\n",
     "rules.yaml:4:14: error[rules-file]: its constraints: names another file (other.yaml) "
     "instead of holding the rules"),
    ("kind: rules\nconstraints: [1, 2]\n", "rules.yaml:2:14: error[rules-file]: the rules should map layer types to "
     "rules, but this holds [1, 2]"),
], ids=["typo-under-constraints", "typo-in-bare-rules", "cnn-spec-without-rules", "chained-reference", "a-list"])
def test_a_rules_file_that_holds_no_rules_is_located_in_that_file(tmp_path, rules_text, message):
    """Errors read '<document>: Input should be a valid dictionary...' or 'kind: Extra inputs are not permitted',
    with no line of the rules file."""
    (tmp_path / "rules.yaml").write_text(rules_text)
    spec = tmp_path / "student.yaml"
    spec.write_text((BASE % (3, 1, "")).replace("constraints:\n", "constraints: rules.yaml\n"))
    (d,) = check_file(spec).diagnostics
    assert (d.code, d.line) == ("rules-file", 8) and message in d.message, d.message
    spec.write_text((BASE % (3, 1, "")).replace("constraints:\n", "constraints: ''\n"))
    (d,) = check_file(spec).diagnostics
    assert (d.code, d.line, d.message) == ("rules-file", 8, "constraints: names no rules file")


SAME = """kind: cnn
input: [8, 8, 3]
layers:
  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: same}
  - {type: conv2d, out_channels: 4, kernel_size: 4, padding: same}
  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: valid}
  - {type: flatten}
constraints:
  conv2d: {padding: %s}
"""


@pytest.mark.parametrize("rule, broken", [("same", [7]), ("valid", [4, 5, 6]), ("{in: [same, valid]}", [])])
def test_a_padding_rule_in_words_means_what_it_means_on_each_conv(rule, broken):
    """'padding: same' broke every conv, padding: same included ('padding 1x1 breaks the rule padding = same')."""
    assert [d.line for d in check_text(SAME % rule).diagnostics] == broken


def test_a_padding_same_rule_is_searched(cli, tmp_path):
    rules = tmp_path / "same.yaml"
    rules.write_text("kind: rules\ninput: [32, 32, 3]\nconstraints:\n  conv2d: {count: 2, kernel_size: {in: [3, 4]}, "
                     "padding: same, stride: {max: 2}}\n  maxpool2d: {count: 2, kernel_size: 2}\n"
                     "  before_flatten: [8, 8, 64]\n")
    r = cli("design", rules, "--top", 2, "--out", tmp_path / "out")
    assert r.code == 0 and "24 designs meet the rules" in r.out, r.out + r.err  # 2 kernels ^ 2 convs x 6 pool places
    for f in sorted((tmp_path / "out").glob("*.yaml")):
        assert check_file(f).valid and "padding: same" in f.read_text()
