"""Bounds on the work a spec may ask for, in one place (the README's Reliability table lists them).

Every number that sizes work (a range the design search enumerates, a feature map that explain writes out
cell by cell) is checked against one of these in ``validate``, before any work starts, so a hostile or
mistyped value is a located error instead of minutes of computing.
"""
from __future__ import annotations

import math

RULE_NUMBER = 10 ** 9  # |min|, |max|, an exact value or a count in a design rule
SIZE = 2 ** 40  # any size, count or setting of a spec (an input side, out_channels, a kernel, epochs...)
LAYERS = 5_000  # layers of a cnn spec (a ResNet-152 has about 500), also after its blocks expand
BLOCK_REPEAT = 256  # repeat: of one block use
OPERATIONS = 64  # operations of a feature_map spec
NEURONS = 50  # neurons of an equations spec: the chain rule through them is written out in full
MAP_CELLS = 10_000  # cells of one feature map (input padded, or an output): a 100 x 100 map
MAP_TERMS = 40_000  # numbers read by all windows of a feature-map spec (output cells x window cells, all steps)
DESIGN_CHOICES = 200_000  # layer choices the design search may hold (archspec.design.space.MAX_MOVES)
REPAIR_LAYERS = 200  # layers of a spec `validate --suggest` searches repairs for (a course design has ~20)
REPAIR_WORK = 10_000  # layer shapes validate --suggest may infer while trying repairs (trials x layers)
DESIGN_VALUES = 10_000  # values one searched parameter (kernel_size, stride, padding) may take after clipping

# (what is bounded, the bound, what happens beyond it); the README's table is checked against this
TABLE = (
    ("spec or rules file", "1 MB", "file-too-large"),
    ("YAML nesting", "64 levels", "too-deep"),
    ("YAML values after alias expansion", "100,000", "too-many-values / alias-bomb"),
    ("digits of an integer", "4,300", "bad-value"),
    ("a size, count or setting (integer fields: input sides, channels, kernels, epochs...)", "at most 2**40",
     "bad-value"),
    ("layers of a cnn spec", f"{LAYERS:,}", "bad-value"),
    ("layers a cnn spec's blocks expand to", f"{LAYERS:,}", "too-many-layers"),
    ("repeat of one block use", f"{BLOCK_REPEAT:,}", "bad-value"),
    ("operations of a feature_map spec", f"{OPERATIONS:,}", "bad-value"),
    ("neurons of an equations spec", f"{NEURONS:,}", "too-many-neurons"),
    ("a number in a design rule (min, max, exact value, count)", f"finite, at most {RULE_NUMBER:,} in size",
     "bad-value"),
    ("cells of a feature map (padded input or output)", f"{MAP_CELLS:,}", "map-too-large"),
    ("numbers the windows of a feature_map spec read (output cells x window, all operations)", f"{MAP_TERMS:,}",
     "map-too-large"),
    ("values of one searched parameter, after clipping to the input", f"{DESIGN_VALUES:,}", "design-too-large"),
    ("layers of a spec `validate --suggest` proposes repairs for", f"{REPAIR_LAYERS:,}", "no suggestion, said"),
    ("layer shapes `validate --suggest` infers while trying repairs (trials x layers)", f"{REPAIR_WORK:,}",
     "fewer suggestions"),
    ("layer choices of a design search (estimated before searching, then counted)", f"{DESIGN_CHOICES:,}",
     "design-too-large"),
)


def no_nul(text: str) -> str:
    """A path without a NUL byte (the operating system cannot name such a file)."""
    if "\0" in text:
        raise ValueError("cannot hold a NUL byte (\\0): it names a file")
    return text


def rule_number(value):
    """A design rule's number: finite and at most RULE_NUMBER in size."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    if abs(value) > RULE_NUMBER:
        raise ValueError(f"is at most {RULE_NUMBER:,} in size in a design rule")
    return value
