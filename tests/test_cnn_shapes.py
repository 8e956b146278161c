"""Shape inference diagnostics of cnn specs (numbers against torch live in test_shapes_torch.py)."""
from __future__ import annotations

from archspec.validation import check_text

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
