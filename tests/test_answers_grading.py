"""archspec check's rule: right to the digits written, and a slip carried into an update is caught (the change
from the value before the step is what an update, the loss after and the second forward pass claim)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import archspec
from archspec.answers import RULE, AnswerResult, half_unit

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
SEED_STUDENT = EXAMPLES / "q2-seed-student.yaml"
# the true Q2 numbers, by hand (w' = w - 0.1 * delta_j * O_i with delta_y = -0.0218218...)
TRUE_W1 = 0.2000617106
TRUE_LOSS_AFTER = 0.0041670502


def q2_with(answers: str) -> str:
    base = (EXAMPLES / "q2-seed-student.yaml").read_text()
    return base[:base.index("answers:")] + "answers:\n" + answers


def verdicts(cli, path) -> dict[str, str]:
    js = json.loads(cli("check", path, "--format", "json").out)
    assert js["rule"] == RULE
    return {a["key"]: a["verdict"] for a in js["answers"]}


def test_the_seed_students_q2_slip_is_caught_everywhere_it_propagates(cli):
    v = verdicts(cli, SEED_STUDENT)
    assert all(v[k] == "correct" for k in v if k.startswith("forward.") or k == "loss")  # (a) is right
    carried = [k for k in v if k.split(".")[0] in ("deltas", "updated", "forward_after", "loss_after")]
    assert len(carried) == 3 + 6 + 6 + 1 and all(v[k] == "WRONG" for k in carried), v
    r = cli("check", SEED_STUDENT)
    assert r.code == 1 and "7 correct, 16 wrong" in r.out and RULE in r.out.replace("\n", " ")
    line = next(ln for ln in r.out.splitlines() if ln.startswith("updated.w1 "))
    assert "0.200060138" in line and "change from 0.2" in line and "q2-seed-student.yaml:25:" in line


@pytest.mark.parametrize("written, verdict", [
    ("0.20006", "correct (to its digits)"),   # the truth 0.2000617106 to 5 decimals
    ("0.2000617", "correct"),                 # within rtol of the change
    ("0.200060138", "WRONG"),                 # 9 decimals that are not the truth's
    ("0.20007", "WRONG"),
    ("0.2", "WRONG (too few digits)"),        # right to 1 decimal, but shows no step at all
    ("2.0006e-1", "correct (to its digits)"),
])
def test_an_updated_weight_is_right_to_the_digits_it_is_written_with(cli, tmp_path, written, verdict):
    path = tmp_path / "w1.yaml"
    path.write_text(q2_with(f"  updated: {{w1: {written}}}\n"))
    assert verdicts(cli, path) == {"updated.w1": verdict}
    assert cli("check", path).code == (0 if verdict.startswith("correct") else 1)


def test_loss_after_is_judged_by_its_change(cli, tmp_path):
    path = tmp_path / "loss.yaml"
    path.write_text(q2_with("  loss_after: 0.004162898\n  outputs_after: {y: 0.6087087}\n"))
    assert verdicts(cli, path) == {"loss_after": "WRONG", "outputs_after.y": "correct"}
    path.write_text(q2_with(f"  loss_after: {TRUE_LOSS_AFTER}\n"))
    assert verdicts(cli, path) == {"loss_after": "correct"}
    path.write_text(q2_with("  loss_after: 0.0041671\n"))  # rounded to 5 significant digits
    assert verdicts(cli, path) == {"loss_after": "correct (to its digits)"}


def test_from_python_a_float_counts_with_the_digits_of_its_repr():
    spec = archspec.load(q2_with("  updated: {w1: 0.20006}\n"))
    (r,) = _grade(spec)
    assert r.ok and r.written == "0.20006" and abs(r.expected - TRUE_W1) < 1e-10


def _grade(spec):
    from archspec.kinds import capability

    return capability(spec.kind, "answers")(spec, 1e-3)


def test_half_unit_and_exact_claims():
    assert half_unit("0.20006") == pytest.approx(5e-6) and half_unit("1.5e-3") == pytest.approx(5e-5)
    assert half_unit("7") is None and half_unit("1/4") is None
    assert not AnswerResult("Y[1][1]", 7.0, 7.4, 1e-3, written="7").ok  # an integer claims exactly 7
    assert AnswerResult("Y[1][1]", 7.0, 7.4, 1e-3, written="7.").ok  # "7." claims 7 to the unit
    assert AnswerResult("p", 10, 10, 1e-3).ok and not AnswerResult("p", 10, 11, 0.5).ok  # counts are exact
    assert AnswerResult("s", (53, 53, 128), (53, 53, 128), 1e-3).ok
    assert not AnswerResult("s", (53, 53, 256), (53, 53, 128), 1e-3).ok
