"""archspec explain on a cnn spec: every format readable in its own medium."""
from __future__ import annotations

import re

from archspec.cnn.explain import explain
from archspec.validation import load

SPEC = """kind: cnn
name: tiny_net
input: [9, 9, 2]
layers:
  - {type: conv2d, name: "conv_1&a", out_channels: 4, kernel_size: 3}
  - {type: adaptive_avgpool2d, output_size: 2}
  - {type: leaky_relu}
  - {type: flatten}
  - {type: linear, out_features: 3}
"""


def test_latex_escapes_names_and_types():
    tex = explain(load(SPEC), format="latex")
    assert r"conv\_1\&a" in tex and r"adaptive\_avgpool2d" in tex and r"leaky\_relu" in tex
    tabular = re.search(r"\\begin\{tabular\}\{(\w+)\}(.*?)\\end\{tabular\}", tex, re.S)
    assert {row.count(" & ") for row in tabular.group(2).split(r" \\")[:-1]} == {len(tabular.group(1)) - 1}
    prose = tex.replace(tabular.group(0), "")  # a tabular's & are its columns; LaTeX comments are not text
    outside_math = re.sub(r"(?<!\\)%.*", "", re.sub(r"\$[^$]*\$", "", prose))
    assert not re.search(r"(?<!\\)[_&%#]", outside_math), outside_math


def test_text_has_no_markdown():
    text = explain(load(SPEC), format="text")
    assert "7 x 7 x 4" in text and "floor((9 - 3 + 2*0) / 1) + 1 = 7" in text
    assert not re.search(r"^#{1,6} \S|\*\*|`|^\|", text, re.M), text
