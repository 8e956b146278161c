"""Hostile and surprising YAML: clean located diagnostics, never a traceback."""
from __future__ import annotations

import subprocess
import sys

import pytest

from archspec.validation import check_text, load

GOOD = ("kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {type: conv2d, out_channels: 4, kernel_size: 3%s}\n"
        "  - {type: flatten}\n")


def codes(text):
    return [(d.code, d.line, d.column) for d in check_text(text).diagnostics]


def test_duplicate_key_is_located():
    text = GOOD % ", stride: 1, stride: 2"
    assert ("duplicate-key", 4, text.splitlines()[3].rindex("stride") + 1) in codes(text)


def test_wrong_type_names_field_and_value():
    diags = check_text(GOOD % ", stride: two").diagnostics
    assert diags[0].code == "bad-value" and "stride" in diags[0].message and "'two'" in diags[0].message
    line4 = (GOOD % ", stride: two").splitlines()[3]
    assert (diags[0].line, diags[0].column) == (4, line4.index("two") + 1)


@pytest.mark.parametrize("bad", ["out_channels: 0", "out_channels: -3"])
def test_zero_or_negative_sizes(bad):
    text = GOOD.replace("out_channels: 4", bad) % ""
    assert [d.code for d in check_text(text).diagnostics] == ["bad-value"]


def test_typo_gets_did_you_mean():
    d = check_text(GOOD % ", paddin: 1").diagnostics[0]
    col = (GOOD % ", paddin: 1").splitlines()[3].index("paddin") + 1
    assert d.code == "unknown-key" and d.hint == "did you mean 'padding'?" and (d.line, d.column) == (4, col)


def test_all_problems_reported_at_once():
    text = GOOD.replace("kernel_size: 3", "kernel_size: 3, strde: 1, dilaton: 2") % ""
    assert [d.code for d in check_text(text).diagnostics] == ["unknown-key", "unknown-key"]


def test_yaml11_surprises_work_as_meant():
    spec = load(GOOD % ", bias: no" + "name: no\ntrain: {optimizer: {lr: 1e-3}, epochs: 010}\n")
    assert spec.layers[0].bias is False  # 'no' means false for a bool field...
    assert spec.name == "no"  # ...and stays the word 'no' for a string field
    assert spec.train.optimizer.lr == 0.001  # YAML 1.1 would keep '1e-3' a string
    assert spec.train.epochs == 10  # not octal 8


def test_alias_bomb_refused_before_expansion():
    bomb = "kind: cnn\na: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    d = check_text(bomb).diagnostics
    assert d[0].code == "alias-bomb" and d[0].line >= 3


def test_small_aliases_are_fine():
    text = ("kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - &c {type: conv2d, out_channels: 4, kernel_size: 3}\n"
            "  - *c\n  - {<<: *c, stride: 2}\n  - {type: flatten}\n")
    spec = load(text)
    assert [layer.name for layer in spec.layers[:3]] == [None] * 3 and spec.layers[2].stride == 2


def test_very_deep_nesting_is_refused_not_crashing():
    text = "kind: cnn\ninput: " + "[" * 30000 + "]" * 30000 + "\n"
    assert codes(text)[0][0] == "too-deep"


@pytest.mark.parametrize("text,code", [
    ("", "empty"), ("# only a comment\n", "empty"), ("[1, 2]\n", "not-a-mapping"), ("42\n", "not-a-mapping"),
    ("kind: cnn\n---\nkind: cnn\n", "multiple-documents"), ("kind: [unclosed\n", "yaml-syntax"),
    ("kind: !!python/object/apply:os.system ['echo hi']\n", "unknown-tag"),
    ("kind: cnn\ninput: {a: 1\n", "yaml-syntax"),
])
def test_broken_documents(text, code):
    assert codes(text)[0][0] == code


def test_a_text_file_that_is_not_yaml_is_quoted_briefly(tmp_path, cli):
    """A plain text file (e.g. /etc/passwd given by mistake) is one YAML string (its 40 lines folded into one
    line of 1,279 characters): the message quotes its start."""
    path = tmp_path / "notes.yaml"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n" * 40)
    r = cli("validate", path)
    assert r.code == 1 and "error[not-a-mapping]" in r.out
    assert "...' (1,279 characters)" in r.out and len(r.out.splitlines()[0]) < len(str(path)) + 200


def test_big_and_binary_files(tmp_path, cli):
    big = tmp_path / "big.yaml"
    big.write_text("kind: cnn\n" + "# padding\n" * 1_100_000)
    binary = tmp_path / "junk.yaml"
    binary.write_bytes(bytes(range(256)) * 40)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    for path, code in ((big, "file-too-large"), (binary, "not-text"), (latin, "not-text")):
        r = cli("validate", path)
        assert r.code == 1 and f"error[{code}]" in r.out and "Traceback" not in r.out + r.err


def test_cli_never_tracebacks_on_garbage(tmp_path):
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    p = subprocess.run([sys.executable, "-m", "archspec", "validate", str(junk)], capture_output=True, text=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr and "not-text" in p.stdout


def test_union_of_mapping_or_list_reports_only_the_bad_entry():
    # weights may be a mapping or a list of names: one bad number is one located error, no 'list[str]' noise
    text = "kind: equations\nequations: ['y = sigmoid(w1*x1 + b1)']\nweights: {w1: 0.5, b1: abc}\n"
    diags = check_text(text).diagnostics
    assert [(d.code, d.line, d.column) for d in diags] == [("bad-value", 3, text.splitlines()[2].index("abc") + 1)]
    assert "list[str]" not in diags[0].message and "weights.b1='abc'" in diags[0].message


@pytest.mark.parametrize("text, value", [("1e-3", 0.001), ("-.5e1", -5.0), ("1E3", 1000.0), ("0o17", 15),
                                         ("0x1F", 31), (".NaN", "nan"), ("1_000", "1_000"), ("0b11", "0b11"),
                                         ("2001-01-01", "2001-01-01"), ("!!str 12", "12"), ("'1e-3'", "1e-3")])
def test_plain_scalars_follow_yaml_1_2_core(text, value):
    from archspec.loader import load_text
    got = load_text(f"a: {text}\n").data["a"]
    assert (str(got) == "nan") if value == "nan" else (got == value and type(got) is type(value))


def test_merge_keys_still_merge():
    from archspec.loader import load_text
    assert load_text("base: &b {kernel_size: 3, stride: 1}\nlayer: {<<: *b, stride: 2}\n").data["layer"] == \
        {"kernel_size": 3, "stride": 2}


def test_tab_indentation_gets_a_hint():
    d = check_text("kind: cnn\nlayers:\n\t- {type: relu}\n").diagnostics[0]
    assert (d.code, d.line, d.column) == ("yaml-syntax", 3, 1) and "tab" in d.hint


@pytest.mark.parametrize("value, shown", [("{h: 8}", "input={'h': 8}"), ("[]", "input=[]"),
                                          ("[" + ", ".join(["1"] * 40) + "]", "input=a list of 40 entries")])
def test_received_containers_are_shown_not_named_as_strings(value, shown):
    d = check_text(f"kind: cnn\ninput: {value}\nlayers: [{{type: relu}}]\n").diagnostics[0]
    assert d.message.endswith("Received: " + shown), d.message


def test_missing_type_names_the_key_that_holds_a_type():
    text = ("kind: feature_map\ninput: [[1, 2], [3, 4]]\n"
            "operations:\n  - {operation: maxpool2d, kernel_size: 2}\n")
    d = check_text(text).diagnostics[0]
    assert (d.code, d.line) == ("missing-type", 4)
    assert d.hint == "write 'type: maxpool2d' instead of 'operation: maxpool2d'"


@pytest.mark.parametrize("text", [
    "kind: equations\nequations: |\n  y = sigmoid(w2*x1\n    + qq)\n",
    "kind: equations\nequations:\n  - >-\n    y = relu(w1*x1\n    + qq)\n",
    "kind: equations\nequations:\n  - y = relu(w1*x1\n      + qq)\n",
    "kind: equations\r\nequations:\r\n  - \"y = relu(w1*x1\r\n    + qq)\"\r\n",
    "kind: equations\nequations:\n  - |-  # a comment with qq\n      y = relu(w1*x1 +\n        qq)\n",
])
def test_offsets_inside_multiline_scalars_point_at_the_character(text):
    d = next(d for d in check_text(text).diagnostics if d.code == "undefined-name")
    lines = text.splitlines()
    want = max((i + 1, line.index("qq") + 1) for i, line in enumerate(lines) if "qq" in line and "#" not in line)
    assert (d.line, d.column) == want


def test_a_number_is_not_taken_for_a_file_descriptor():
    """open(fd) reads and then closes that descriptor: archspec.load(1) used to close stdout."""
    import os

    import archspec

    r, w = os.pipe()
    try:
        os.write(w, b"kind: cnn\n")
        for call in (archspec.load, archspec.check_file):
            with pytest.raises(TypeError, match="a spec path is a str or os.PathLike, not int"):
                call(r)
        os.fstat(r)  # still open
    finally:
        os.close(r)
        os.close(w)


def test_the_hint_for_an_empty_or_list_file_names_every_kind():
    from archspec.kinds import KINDS
    from archspec.loader import START_HINT

    assert all(kind in START_HINT for kind in KINDS)
