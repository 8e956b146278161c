"""CNN answers (a layer table: H x W x C and parameter counts) graded exactly by archspec check, in every format."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
Q5 = EXAMPLES / "q5-seed-student.yaml"
Q6 = EXAMPLES / "q6-student.yaml"


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_the_seed_students_q5_table_is_wrong_only_after_the_second_pool(cli, fmt):
    r = cli("check", Q5, "--format", fmt)
    assert r.code == 1
    if fmt == "json":
        js = json.loads(r.out)
        assert (js["correct"], js["wrong"]) == (11, 1)
        (bad,) = [a for a in js["answers"] if not a["correct"]]
        assert bad["key"] == "shapes.pool2" and bad["given"] == [53, 53, 256] and bad["expected"] == [53, 53, 128]
        line = next(i for i, ln in enumerate(Q5.read_text().splitlines(), 1) if ln.strip().startswith("pool2:"))
        assert bad["line"] == line and bad["judged_by"] == "exact"
        return
    wrong = [ln for ln in r.out.splitlines() if "WRONG" in ln]
    assert len(wrong) == 1 and "shapes.pool2" in wrong[0] and "53 x 53 x 256" in wrong[0]
    assert "53 x 53 x 128" in wrong[0] and re.search(r"q5-seed-student\.yaml:\d+:\d+", wrong[0])
    assert "11 correct, 1 wrong (exact)" in r.out


def test_a_q6_layer_table_with_parameter_counts(cli, tmp_path):
    assert cli("check", Q6).code == 0
    text = Q6.read_text()
    # by hand: conv 7x7x3 -> 64 is 7*7*3*64 + 64 weights and biases; fc 7*7*256 -> 5 is 12544*5 + 5
    assert "conv1: 9472" in text and 7 * 7 * 3 * 64 + 64 == 9472 and "fc1: 62725" in text and 12544 * 5 + 5 == 62725
    wrong = tmp_path / "q6.yaml"
    rules = EXAMPLES.parent / "rules" / "q6-rules.yaml"
    wrong.write_text(text.replace("../rules/q6-rules.yaml", str(rules)).replace("conv1: 9472", "conv1: 9408")
                     .replace("conv4: [7, 7, 256]", "conv_4: [7, 7, 256]"))
    r = cli("check", wrong)
    assert r.code == 1, r.err
    rows = {ln.split()[0]: ln for ln in r.out.splitlines() if ln.startswith(("params.", "shapes."))}
    assert "WRONG" in rows["params.conv1"] and "9,408" in rows["params.conv1"]  # forgot the 64 biases
    assert "unknown key (did you mean 'conv4'?)" in rows["shapes.conv_4"]
    assert "11 correct, 1 wrong, 1 not graded (exact)" in r.out


def test_a_total_parameter_count(cli, tmp_path):
    path = tmp_path / "q5.yaml"
    body = Q5.read_text()
    path.write_text(body[:body.index("answers:")] + "answers:\n  params: 5307210\n")
    # conv: k*k*cin*cout + cout per layer; fc: 147456*10 + 10
    convs = [(3, 3, 64), (3, 64, 64), (3, 64, 128), (3, 128, 128), (3, 128, 256), (5, 256, 256), (5, 256, 256)]
    assert sum(k * k * i * o + o for k, i, o in convs) + 147456 * 10 + 10 == 5307210
    assert cli("check", path).code == 0
    path.write_text(body[:body.index("answers:")] + "answers:\n  params: 5307200\n")
    r = cli("check", path)
    assert r.code == 1 and "5,307,200" in r.out and "WRONG" in r.out


def test_a_bad_answer_is_a_located_error(cli, tmp_path):
    path = tmp_path / "bad.yaml"
    body = Q5.read_text()
    path.write_text(body[:body.index("answers:")] + "answers:\n  shapes: {conv1: [222, 0, 64]}\n")
    r = cli("validate", path)
    assert r.code == 1 and re.search(r"bad\.yaml:\d+:\d+: error", r.out), r.out
