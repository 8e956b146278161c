"""feature_map from the command line: located diagnostics, worked explanations, grading answers."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "specs" / "seed"
EXAMPLES = ROOT / "specs" / "examples"

# (name, YAML text, expected (code, line, column) of every diagnostic)
BAD = [
    ("kernel-too-large", """kind: feature_map
operation: conv2d
input:
  - [1, 2]
  - [3, 4]
kernel:
  - [1, 3, 1]
  - [2, 4, 0]
  - [2, 3, 5]
""", [("kernel-too-large", 7, 3)]),
    ("pool-too-large", """kind: feature_map
input: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
operations:
  - {type: conv2d, kernel: [[1, 1], [1, 1]]}
  - {type: maxpool2d, kernel_size: 3}
""", [("kernel-too-large", 5, 36)]),
    ("ragged-row", """kind: feature_map
operation: maxpool2d
input:
  - [1, 2, 3]
  - [4, 5, 6]
  - [7, 8]
kernel_size: 2
""", [("ragged-row", 6, 5)]),
    ("not-a-number", """kind: feature_map
operation: conv2d
input: [[1, 2, 3], [4, 5, x], [7, 8, 9]]
kernel: [[1, true], [0, 1/0]]
bias: abc
""", [("not-a-number", 3, 27), ("not-a-number", 4, 14), ("not-a-number", 4, 25), ("not-a-number", 5, 7)]),
    ("empty-map", """kind: feature_map
operation: avgpool2d
input: []
kernel_size: 2
""", [("empty-map", 3, 8)]),
    ("empty-row", """kind: feature_map
operation: avgpool2d
input: [[1, 2], []]
kernel_size: 1
""", [("empty-map", 3, 17)]),
    ("stride-0", """kind: feature_map
operation: conv2d
input: [[1, 2], [3, 4]]
kernel: [[1]]
stride: 0
""", [("bad-value", 5, 9)]),
    ("channels", """kind: feature_map
input: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
operations:
  - {type: conv2d, kernel: [[1]]}
""", [("kernel-channels", 4, 28)]),
    ("channel-shape", """kind: feature_map
operation: maxpool2d
kernel_size: 1
input:
  - [[1, 2], [3, 4]]
  - [[5, 6]]
""", [("channel-shape", 6, 5)]),
    ("wrong-setting", """kind: feature_map
operation: maxpool2d
input: [[1, 2, 3], [3, 4, 5]]
kernel_size: 2
kernel: [[1]]
""", [("not-for-operation", 5, 9)]),
    ("missing-setting", """kind: feature_map
operation: maxpool2d
input: [[1, 2], [3, 4]]
""", [("missing-key", 2, 12)]),
    ("no-operation", """kind: feature_map
input: [[1, 2], [3, 4]]
kernel: [[1]]
""", [("missing-operation", 1, 1)]),
    ("pool-padding", """kind: feature_map
operation: maxpool2d
input: [[1, 2, 3], [3, 4, 5]]
kernel_size: 2
padding: 2
""", [("pool-padding", 5, 10)]),
    ("setting-outside", """kind: feature_map
input: [[1, 2], [3, 4]]
stride: 2
operations:
  - {type: conv2d, kernel: [[1]]}
""", [("setting-outside-operations", 3, 9)]),
    ("unknown-operation", """kind: feature_map
input: [[1, 2], [3, 4]]
operations:
  - {type: maxpol2d, kernel_size: 2}
""", [("unknown-type", 4, 12)]),
    ("answers-shape", """kind: feature_map
operation: conv2d
input: [[1, 2], [3, 4]]
kernel: [[1]]
answers: [[1, 2, 3], [3, 4, 5]]
""", [("answers-shape", 5, 10)]),
]


@pytest.mark.parametrize("name,text,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_located_diagnostics(cli, tmp_path, name, text, expected):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    r = cli("validate", path)
    assert r.code == 1
    found = [(m[3], int(m[1]), int(m[2])) for m in re.finditer(r":(\d+):(\d+): error\[([\w-]+)\]", r.out)]
    # one bad value may also get pydantic's second union message at the same place; compare the distinct ones
    assert sorted(set(found)) == sorted(expected), r.out
    assert "Traceback" not in r.out + r.err


@pytest.mark.parametrize("path", sorted(SEED.glob("q4*.yaml")) + sorted(EXAMPLES.glob("*pool*.yaml")),
                         ids=lambda p: p.stem)
def test_specs_validate(cli, path):
    r = cli("validate", path)
    assert r.code == 0, r.out


def test_validate_does_not_import_torch_or_graphviz():
    code = ("import sys; from archspec.validation import check_file; "
            f"r = check_file({str(SEED / 'q4a-conv.yaml')!r}); assert r.valid; "
            "assert not {'torch', 'graphviz'} & set(sys.modules), 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_explain_q4c_maxpool(cli, golden):
    r = cli("explain", SEED / "q4c-maxpool.yaml")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    for want in ["Y11 = max(4, 2, 4, 3) = 4", "Y12 = max(4, 4, 5, 2) = 5", "Y13 = max(3, 4, 6, 1) = 6",
                 "Y21 = max(2, 4, 1, 6) = 6", "Y22 = max(3, 4, 4, 1) = 4", "Y23 = max(2, 4, 2, 3) = 4",
                 "Y31 = max(3, 7, 5, 4) = 7", "Y32 = max(2, 5, 1, 2) = 5", "Y33 = max(6, 1, 4, 5) = 6",
                 "H, W: floor((6 - 2 + 2*0) / 2) + 1 = 3", "| 3 | 7 | 5 | 6 |"]:
        assert want in lines
    assert "cross-correlation" not in r.out  # the note belongs to convolutions
    golden("featuremap_q4c_maxpool.md", r.out)


def test_explain_q4a_conv_matches_the_seed_line(cli):
    r = cli("explain", SEED / "q4a-conv.yaml", "--format", "text")
    assert "Y11 = 1x1 + 0x3 + 0x1 + 0x2 + 1x4 + 1x0 + 0x2 + 0x3 + 0x5 = 5" in r.out.splitlines()[-40:] or \
        "  Y11 = 1x1 + 0x3 + 0x1 + 0x2 + 1x4 + 1x0 + 0x2 + 0x3 + 0x5 = 5" in r.out.splitlines()
    assert r.out.count("cross-correlation") == 1 and "flip_kernel: true" in r.out
    assert "**" not in r.out and "```" not in r.out


def test_explain_q4b_json(cli):
    r = cli("explain", SEED / "q4b-conv-stride2.yaml", "--format", "json")
    data = json.loads(r.out)
    assert data["output"] == [[2, 3], [1.5, 2]]
    assert [(c["row"], c["col"], c["value"]) for c in data["cells"]] == [(1, 1, 2), (1, 2, 3), (2, 1, 1.5), (2, 2, 2)]
    assert data["cells"][2]["expression"] == "Y21 = 0x(1/4) + 2x(1/4) + 1x(1/4) + 3x(1/4) = 1.5"  # as written
    assert {"row", "col", "expression", "value"} <= set(data["cells"][0])


def test_explain_latex(cli):
    r = cli("explain", SEED / "q4b-conv-stride2.yaml", "--format", "latex")
    assert (r"Y_{11} &= 1 \times \tfrac{1}{4} + 2 \times \tfrac{1}{4} + 3 \times \tfrac{1}{4} "
            r"+ 2 \times \tfrac{1}{4} = 2") in r.out
    assert r"\left[\begin{array}{cc}" in r.out and r"\texttt{flip\_kernel: true}" in r.out


WIDE = """kind: feature_map
name: wide
input: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]]
operation: maxpool2d
kernel_size: 2
stride: 1
padding: [0, 1]
dilation: [1, 3]
"""


def test_explain_latex_typesets_wide_maps_and_plain_formulas(cli, tmp_path):
    """bmatrix stops at 10 columns (LaTeX error on this 13-column padded map); the padded map was written
    '\\[  = ...' with nothing before '='; output-size lines were math italics f*l*o*o*r; max-pooling pads were
    '-inf' in math; "convolution" got two closing quotes."""
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE)
    tex = cli("explain", path, "--format", "latex").out
    assert tex.startswith("% archspec explain --format latex: needs \\usepackage{amsmath}") and "bmatrix" not in tex
    for cols, body in re.findall(r"\\begin\{array\}\{(c+)\} (.*?) \\end\{array\}", tex):
        assert {row.count("&") for row in body.split(r" \\ ")} == {len(cols) - 1}
    assert "\\subsection*{Padded $X$ ($2 \\times 13$)}\n\\[ \\left[\\begin{array}{" + "c" * 13 + "}" in tex
    assert r"&\texttt{H: floor((2 - 2 + 2*0) / 1) + 1 = 1}" in tex and r"-\infty & 1 &" in tex
    conv = cli("explain", SEED / "q4a-conv.yaml", "--format", "latex").out
    assert "``convolution''" in conv and '"' not in conv


def test_dilated_windows_and_wide_maps_read_plainly(cli, tmp_path):
    """'takes every 1 x 3th row and column'; Y19 then Y1,10 in one map."""
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE)
    out = cli("explain", path, "--format", "text").out
    assert "With dilation 1 x 3 the window spans 2 x 4 cells and takes every row and every 3rd column." in out
    assert "  Y1,1 = max(3, 0) = 3" in out and "  Y1,10 = max(9, 0) = 9" in out


def test_explain_sequence_names_steps(cli):
    r = cli("explain", EXAMPLES / "conv-then-pool.yaml", "--format", "json")
    data = json.loads(r.out)
    assert [s["operation"] for s in data["steps"]] == ["conv2d", "maxpool2d"]
    assert data["output"] == data["steps"][-1]["output"] == [[6, 9, 12], [1, 13, 12], [9, 6, 18]]
    md = cli("explain", EXAMPLES / "conv-then-pool.yaml").out
    assert "A11 = " in md and "## Step 2: maxpool2d of A" in md and md.count("cross-correlation") == 1


def test_flip_kernel_is_explained(cli, tmp_path):
    path = tmp_path / "flip.yaml"
    path.write_text("kind: feature_map\noperation: conv2d\ninput: [[1, 2], [3, 4]]\nkernel: [[1, 2], [3, 4]]\n"
                    "flip_kernel: true\n")
    r = cli("explain", path, "--format", "text")
    assert "rotated by 180 degrees" in r.out and "Y11 = 1x4 + 2x3 + 3x2 + 4x1 = 20" in r.out


def test_check_flags_exactly_the_wrong_cell(cli):
    r = cli("check", EXAMPLES / "avgpool-answers.yaml")
    assert r.code == 1
    wrong = [line for line in r.out.splitlines() if "WRONG" in line]
    assert len(wrong) == 1 and wrong[0].startswith("Y[2][3]")
    assert "5 correct, 1 wrong" in r.out
    data = json.loads(cli("check", EXAMPLES / "avgpool-answers.yaml", "--format", "json").out)
    assert [a["key"] for a in data["answers"] if not a["correct"]] == ["Y[2][3]"]


def test_check_passes_right_answers_with_fractions(cli, tmp_path):
    text = (SEED / "q4b-conv-stride2.yaml").read_text() + "answers: [[2, 3], [3/2, 2.0]]\n"
    path = tmp_path / "right.yaml"
    path.write_text(text)
    r = cli("check", path)
    assert r.code == 0, r.out
    assert "4 correct, 0 wrong" in r.out


def test_check_multichannel_keys(cli, tmp_path):
    path = tmp_path / "mc.yaml"
    path.write_text("kind: feature_map\noperation: maxpool2d\nkernel_size: 2\n"
                    "input: [[[1, 2], [3, 4]], [[5, 9], [7, 8]]]\nanswers: [[[4]], [[8]]]\n")
    r = cli("check", path)
    assert r.code == 1
    assert [line.split()[0] for line in r.out.splitlines() if "WRONG" in line] == ["Y[2][1][1]"]


def test_check_tolerance_is_relative_to_the_right_value_both_ways(cli, tmp_path):
    """rtol 0.1 around 4: 3.62 and 4.38 pass, 3.58 and 4.42 (rel. error 0.105) fail alike; rounding up
    past the tolerance was graded correct (the tolerance scaled with the larger of the two numbers)."""
    path = tmp_path / "tol.yaml"
    path.write_text("kind: feature_map\noperation: avgpool2d\nkernel_size: 1\ninput: [[4, 4, 4, 4]]\n"
                    "answers: [[3.62, 4.38, 3.58, 4.42]]\n")
    data = json.loads(cli("check", path, "--rtol", "0.1", "--format", "json").out)
    assert [a["correct"] for a in data["answers"]] == [True, True, False, False]
