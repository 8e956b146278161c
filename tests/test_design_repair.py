"""Repairs: every suggestion, applied, gives a spec archspec's validator accepts."""
from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.design import load_problem, suggest, top
from archspec.design.repair import apply
from archspec.design.write import design_yaml
from archspec.validation import check_file, check_text

ROOT = Path(__file__).resolve().parent.parent
WRONG = ROOT / "specs" / "invalid" / "q6-wrong-stride.yaml"
Q6 = ROOT / "specs" / "seed" / "q6-design.yaml"


def assert_verified(spec, suggestions):
    assert suggestions
    for s in suggestions:
        assert s.layers == apply(spec.layers, s.edits)
        report = check_text(s.text, spec.file)
        assert report.valid, report.text()
        assert [x.model_dump() for x in report.spec.layers] == [x.model_dump() for x in s.layers]


def test_wrong_stride_gets_the_stride_repair():
    report = check_file(WRONG)
    assert [d.code for d in report.diagnostics] == ["rule-shape"]
    got = suggest(report.spec)
    assert got[0].message == "conv3: stride 1 -> 2 gives 7 x 7 x 256 before flatten"
    assert all(len(s.edits) == 1 for s in got)
    assert_verified(report.spec, got)


def test_valid_spec_needs_no_repair():
    assert suggest(check_file(Q6).spec) == []


def _variant(old: str, new: str):
    text = Q6.read_text()
    assert old in text
    report = check_text(text.replace(old, new, 1), str(Q6))
    assert not report.valid
    return report.spec


def test_repairs_of_rule_param_extra_pool_and_channels():
    spec = _variant("kernel_size: 3, stride: 2, padding: 1}   # 112", "kernel_size: 9, stride: 2, padding: 1}   # 112")
    got = suggest(spec)
    assert_verified(spec, got)
    assert any(s.message.startswith("conv1: kernel_size 9 -> ") for s in got)
    spec = _variant("  - {type: flatten}", "  - {type: maxpool2d, kernel_size: 2, stride: 2}\n  - {type: flatten}")
    got = suggest(spec)  # a third pool: remove one and fix the size with a stride, or remove it only
    assert_verified(spec, got)
    spec = _variant("out_channels: 256, kernel_size: 3, stride: 1", "out_channels: 128, kernel_size: 3, stride: 1")
    got = suggest(spec)
    assert_verified(spec, got)
    assert got[0].message == "conv4: out_channels 128 -> 256 gives 7 x 7 x 256 before flatten"


def test_two_edit_repair():
    """Without its two pools the seed ends at 28 x 28: no single edit reaches 7 x 7."""
    text = "".join(line for line in Q6.read_text().splitlines(True) if "type: maxpool2d" not in line)
    spec = check_text(text, str(Q6)).spec
    got = suggest(spec)
    assert_verified(spec, got)
    assert all(len(s.edits) == 2 for s in got)
    assert any(s.message.startswith("add maxpool2d (kernel_size 2, stride 2) before conv1, ") for s in got)


PROBLEM = load_problem(Q6)
DESIGNS = top(PROBLEM.space, 8, "macs")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(DESIGNS) - 1), st.lists(st.tuples(st.integers(0, 3), st.sampled_from(
    ["kernel_size", "padding", "stride", "drop-pool"]), st.integers(0, 3)), min_size=1, max_size=2))
def test_broken_designs_get_verified_repairs(which, mutations):
    """Break a valid design with one or two edits; a repair within two edits must exist and validate."""
    design = DESIGNS[which]
    data = yaml.safe_load(design_yaml(PROBLEM, design, "macs"))
    convs = [i for i, x in enumerate(data["layers"]) if x["type"] == "conv2d"]
    pools = [i for i, x in enumerate(data["layers"]) if x["type"] == "maxpool2d"]
    drop = None
    for conv, param, v in mutations:
        if param == "drop-pool":
            drop = pools[conv % len(pools)] if pools and drop is None else drop
        else:
            data["layers"][convs[conv]][param] = {"kernel_size": [1, 3, 5, 7], "padding": [0, 1, 2, 0],
                                                  "stride": [1, 2, 1, 2]}[param][v]
    if drop is not None:
        del data["layers"][drop]
    report = check_text(yaml.safe_dump(data, sort_keys=False), str(Q6))
    if report.valid:
        assert suggest(report.spec) == []
        return
    assert_verified(report.spec, suggest(report.spec))
