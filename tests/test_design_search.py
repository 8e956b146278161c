"""Design search: the exact count and the top-K equal a brute-force enumeration checked by the validator."""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.cnn.layers import BY_TYPE
from archspec.cnn.rules import check_rules
from archspec.cnn.shapes import infer
from archspec.design import count, load_problem, top
from archspec.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent
Q6 = ROOT / "specs" / "seed" / "q6-design.yaml"
METRICS = ("params", "macs", "memory", "depth")


@st.composite
def rule_sets(draw):
    """Small rule sets (input size, counts, bounds, target), the brute force stays under ~4,000 sequences."""
    n_lo = draw(st.integers(1, 3))
    n_hi = draw(st.integers(n_lo, 3))
    kmax, pmax, smax = draw(st.integers(1, 4)), draw(st.integers(0, 2)), draw(st.integers(1, 3))
    odd = draw(st.booleans())
    while _choices(kmax, odd, pmax, smax) ** n_hi > 300:  # keep the brute force small
        kmax, pmax, smax = max(1, kmax - 1), max(0, pmax - 1), max(1, smax - 1)
    n_rule = draw(st.sampled_from([n_lo if n_lo == n_hi else {"min": n_lo, "max": n_hi}, {"in": sorted({n_lo, n_hi})}]))
    rules = {"conv2d": {"count": n_rule,
                        "kernel_size": {"max": kmax, **({"odd": True} if odd else {})},
                        "padding": {"max": pmax}, "stride": {"max": smax}},
             "linear": {"count": 1, "out_features": 3},
             "before_flatten": [draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(st.sampled_from([4, 8, 64]))]}
    if draw(st.booleans()):
        pools = draw(st.integers(0, 2))
        rules["maxpool2d"] = {"count": draw(st.sampled_from([{"max": pools}, pools, {"in": [0, pools]}])),
                              "kernel_size": draw(st.integers(2, 3))}
        if draw(st.booleans()):
            rules["maxpool2d"]["stride"] = draw(st.integers(1, 2))
    if draw(st.integers(0, 3)) == 0:
        rules["max_params"] = draw(st.integers(100, 20000))
    shape = [draw(st.integers(3, 24)), draw(st.integers(3, 24)), draw(st.integers(1, 3))]
    if draw(st.booleans()):  # aim at a size one random conv sequence reaches, so most cases have designs
        sizes = shape[:2]
        for _ in range(draw(st.integers(n_lo, n_hi))):
            k = draw(st.sampled_from([k for k in range(1, kmax + 1) if not odd or k % 2]))
            p, s = draw(st.integers(0, pmax)), draw(st.integers(1, smax))
            sizes = [(x + 2 * p - k) // s + 1 for x in sizes]
        rules["before_flatten"][:2] = [max(1, x) for x in sizes]
    return {"kind": "rules", "name": "case", "input": shape, "constraints": rules}


def _choices(kmax, odd, pmax, smax):
    return len([k for k in range(1, kmax + 1) if not odd or k % 2]) * (pmax + 1) * smax


def brute_force(doc: dict) -> list:
    """Every layer sequence the rules could mean, kept when archspec's own checks pass: [(metrics, layers)]."""
    from archspec.design.problem import load_problem as _load

    rules = _load(yaml.safe_dump(doc)).rules
    r, (h, w, c) = doc["constraints"], doc["input"]
    conv = r["conv2d"]
    allowed = lambda rule, n: rule == n if isinstance(rule, int) else (  # noqa: E731
        n in rule["in"] if "in" in rule else rule.get("min", 0) <= n <= rule["max"])
    kernels = [k for k in range(1, conv["kernel_size"]["max"] + 1) if not conv["kernel_size"].get("odd") or k % 2]
    choices = list(itertools.product(kernels, range(conv["padding"]["max"] + 1), range(1, conv["stride"]["max"] + 1)))
    pool = r.get("maxpool2d")
    final = r["before_flatten"][2]
    found = []
    for n in (n for n in range(4) if allowed(conv["count"], n)):
        plan = [min(32 * 2 ** i, final) for i in range(n - 1)] + [final]  # the documented default plan
        for convs in itertools.product(choices, repeat=n):
            for pools in (p for p in range(3) if pool is None and p == 0 or pool and allowed(pool["count"], p)):
                for slots in itertools.combinations_with_replacement(range(n + 1), pools):
                    layers = []
                    for i in range(n + 1):
                        if slots.count(i):
                            layers += [BY_TYPE["maxpool2d"](type="maxpool2d", kernel_size=pool["kernel_size"],
                                                            **({"stride": pool["stride"]} if "stride" in pool else {}))
                                       ] * slots.count(i)
                        if i < n:
                            k, p, s = convs[i]
                            layers += [BY_TYPE["conv2d"](type="conv2d", out_channels=plan[i], kernel_size=k, padding=p,
                                                         stride=s), BY_TYPE["relu"](type="relu")]
                    layers += [BY_TYPE["flatten"](type="flatten"), BY_TYPE["linear"](type="linear", out_features=3)]
                    report = infer((h, w, c), layers)
                    if not report.diagnostics and not check_rules(rules, layers, report):
                        found.append(((report.params, report.macs, report.memory, len(layers)), layers))
    return found


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), st.sampled_from(METRICS))
def test_count_and_top_equal_brute_force(doc, by):
    problem = load_problem(yaml.safe_dump(doc))
    result = count(problem.space)
    expected = brute_force(doc)
    assert result.count == len(expected)
    if result.count == 0:  # no solution: a clear message naming the rule
        assert result.diagnostics and result.diagnostics[0].code.startswith("design-")
        assert any(word in result.diagnostics[0].message for word in ("before_flatten", "max_params", "below 1"))
        assert top(problem.space, 3, by) == []
        return
    assert not result.diagnostics
    k = min(5, len(expected))
    best = top(problem.space, k, by)
    pick = [METRICS.index(m) for m in [by] + [m for m in METRICS if m != by]]
    want = sorted(tuple(m[i] for i in pick) for m, _ in expected)[:k]
    assert [tuple(d.metric(m) for m in [by] + [m for m in METRICS if m != by]) for d in best] == want
    assert len({tuple(map(repr, d.layers)) for d in best}) == k  # distinct designs


def test_q6_count_equals_a_vectorised_enumeration():
    """All 24^4 conv choices x 21 pool placements, sizes by PyTorch's formula in numpy."""
    convs = np.array(list(itertools.product((1, 3, 5, 7), (0, 1, 2), (1, 2))))
    grid = np.array(list(itertools.product(range(len(convs)), repeat=4)))  # 331,776 x 4
    total = 0
    for pools in range(3):
        for slots in itertools.combinations_with_replacement(range(5), pools):
            size = np.full(len(grid), 224)
            ok = np.ones(len(grid), bool)
            for i in range(5):
                for _ in range(slots.count(i)):
                    ok &= size >= 2
                    size = (size - 2) // 2 + 1
                if i < 4:
                    k, p, s = convs[grid[:, i]].T
                    ok &= size + 2 * p >= k
                    size = (size + 2 * p - k) // s + 1
            total += int((ok & (size == 7)).sum())
    assert count(load_problem(Q6).space).count == total == 352_898


def test_q6_top_is_ordered_and_matches_the_analytic_counts():
    problem = load_problem(Q6)
    for by in METRICS:
        best = top(problem.space, 10, by)
        assert len(best) == 10
        values = [d.score for d in best]
        assert values == sorted(values)
        for d in best:
            assert d.report.before("flatten") == (7, 7, 256) and d.report.complete
            assert d.score[0] == d.metric(by) - (math.prod(problem.input) * 4 if by == "memory" else 0)


def _impossible(text: str):
    problem = load_problem(text)
    result = count(problem.space)
    assert result.count == 0 and result.diagnostics
    return result.diagnostics[0]


Q6_TEXT = Q6.read_text()


def test_no_solution_names_the_rule_with_the_smallest_reachable_size():
    text = Q6_TEXT.replace("stride: {max: 2}", "stride: {max: 1}").replace("count: {max: 2}", "count: {max: 1}")
    d = _impossible(text)
    assert "before_flatten" in d.message and "smallest reachable size is" in d.message
    assert "stride 1" in d.message and "at most 1 maxpool2d" in d.message
    assert d.path == ("constraints", "before_flatten") and d.line == Q6_TEXT.splitlines().index(
        "  before_flatten: [7, 7, 256]") + 1


def test_no_solution_when_the_target_is_too_large_or_never_hit():
    d = _impossible(Q6_TEXT.replace("before_flatten: [7, 7, 256]", "before_flatten: [300, 300, 256]"))
    assert "largest reachable size is 240 x 240" in d.message
    text = "kind: rules\ninput: [9, 9, 1]\nconstraints:\n  conv2d: {count: 1, kernel_size: 1, padding: 0, " \
           "stride: {in: [1, 3]}}\n  before_flatten: [5, 5, 8]\n"
    assert "reachable sizes nearest are 3 x 3 and 9 x 9, never the 5 x 5" in _impossible(text).message


def test_no_solution_under_max_params_and_from_the_channel_plan():
    d = _impossible(Q6_TEXT.replace("before_flatten: [7, 7, 256]", "before_flatten: [7, 7, 256]\n  max_params: 1000"))
    assert "smallest design has 106,309 parameters" in d.message and d.path[-1] == "max_params"
    d = _impossible(Q6_TEXT + "search: {out_channels: [32, 64, 128]}\n")
    assert "channel plan has 3 value(s)" in d.message and d.path == ("search", "out_channels")
    d = _impossible(Q6_TEXT.replace("  linear: {count: 1, out_features: 5}", "  linear: {count: 1, out_features: 5}\n"
                                    "  relu: {count: 2}"))
    assert "4 relu layer(s)" in d.message


def test_search_block_narrows_the_space():
    text = Q6_TEXT.replace("linear: {count: 1, out_features: 5}", "output: [5]") + \
        "search: {kernel_size: [3, 5], padding: same-only, out_channels: [16, 32, 64, 256], hidden: [32]}\n"
    problem = load_problem(text)
    assert count(problem.space).count > 0
    for d in top(problem.space, 5, "macs"):
        convs = [x for x in d.layers if x.type == "conv2d"]
        assert [x.out_channels for x in convs] == [16, 32, 64, 256]
        assert all(x.kernel_size in (3, 5) and x.padding == (x.kernel_size - 1) // 2 for x in convs)
        assert [x.out_features for x in d.layers if x.type == "linear"] == [32, 5]


def test_bad_search_block_is_located():
    with pytest.raises(SpecError) as exc:
        load_problem(Q6_TEXT + "search: {kernel_sise: [3]}\n")
    d = exc.value.diagnostics[0]
    assert d.code == "unknown-key" and d.line == len(Q6_TEXT.splitlines()) + 1 and "kernel_size" in d.hint


def test_notes_and_summary_leave_out_what_the_rules_or_search_fix():
    text = ("kind: rules\ninput: [8, 8, 1]\nconstraints:\n  conv2d: {count: 1, padding: {max: 2}, stride: {max: 2}}\n"
            "  maxpool2d: {count: 0}\n  linear: {count: 1, out_features: 2}\n  before_flatten: [6, 6, 32]\n")
    space = load_problem(text).space
    assert count(space).count == 5  # stride 1: k - 2p = 3 (k3 p0, k5 p1, k7 p2); stride 2: k1 p2, k2 p2
    assert space.notes == ["no rule bounds conv2d kernel_size: searching 1..7"]  # none about the absent pools
    assert "maxpool2d" not in space.describe()
    same = text.replace("padding: {max: 2}, ", "").replace("[6, 6, 32]", "[4, 4, 32]")
    same = load_problem(same + "search: {padding: same-only}\n").space
    assert not any("padding" in n for n in same.notes)  # same-only sets every padding
    assert count(same).count == 4  # stride 2 with k1 p0, k3 p1, k5 p2, k7 p3: floor(7 / 2) + 1 = 4


def test_a_value_listed_twice_is_one_design():
    """`in: [3, 3]` in the rules or the search: block names one kernel, not two (counted and ranked twice)."""
    text = ("kind: rules\ninput: [16, 16, 3]\nconstraints:\n"
            "  conv2d: {count: {in: [1, 1, 2]}, kernel_size: {in: [3, 3]}, "
            "stride: {in: [1, 1]}, padding: {in: [1, 1]}}\n  maxpool2d: {count: {max: 1}, kernel_size: {in: [2, 2]}}\n"
            "  linear: {count: 1, out_features: 2}\nsearch: {kernel_size: [3, 3], padding: [1, 1]}\n")
    problem = load_problem(text)
    assert count(problem.space).count == 7  # 1 conv: no pool or one of 2 places; 2 convs: no pool or one of 3
    assert len({tuple(map(repr, d.layers)) for d in top(problem.space, 10, "params")}) == 7


def test_a_pinned_groups_is_searched_and_named_when_it_cannot_divide():
    """groups: 2 made every conv template (out_channels 1) invalid: 0 designs, 'no kernel_size/stride/padding
    satisfies the rules together'."""
    from archspec.validation import check_text
    from archspec.design.write import design_yaml

    text = ("kind: rules\ninput: [32, 32, 4]\nconstraints:\n"
            "  conv2d: {count: 2, kernel_size: 3, padding: 1, stride: 2, "
            "groups: 2}\n  linear: {count: 1, out_features: 10}\n  before_flatten: [8, 8, 64]\n")
    problem = load_problem(text)
    assert count(problem.space).count == 1
    (best,) = top(problem.space, 1, "params")
    assert [x.groups for x in best.layers if x.type == "conv2d"] == [2, 2]
    assert check_text(design_yaml(problem, best, "params")).valid
    d = _impossible(text.replace("[32, 32, 4]", "[32, 32, 3]"))
    assert "groups 2 must divide the 3 channels entering conv1" in d.message and d.path[-1] == "groups"
