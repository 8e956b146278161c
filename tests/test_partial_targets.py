"""Targets for some outputs only: the loss covers those (located warnings name the others), and explain, check and
render agree; a unit that feeds nothing is read as an output and validate says so at its equation."""
from __future__ import annotations

import json

import pytest
import torch

import archspec
from archspec.diagrams import render

PARTIAL = """kind: equations
name: partial
equations:
  - z = w1*x
  - a = sigmoid(z)
  - y1 = w2*a
  - y2 = w3*a
inputs: {x: 0.3}
weights: {w1: 0.1, w2: 0.2, w3: 0.5}
targets: {y1: 0.4}
learning_rate: 0.1
"""


@pytest.fixture
def partial(tmp_path):
    path = tmp_path / "partial.yaml"
    path.write_text(PARTIAL)
    return path


def torch_truth():
    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in (("w1", 0.1), ("w2", 0.2), ("w3", 0.5))}
    a = torch.sigmoid(w["w1"] * 0.3)
    loss = 0.5 * (w["w2"] * a - 0.4) ** 2  # y2 has no target: not in the loss
    loss.backward()
    return loss.item(), {k: 0.0 if v.grad is None else v.grad.item() for k, v in w.items()}


def test_the_loss_covers_the_outputs_with_targets(cli, partial):
    loss, grads = torch_truth()
    js = json.loads(cli("explain", partial, "--format", "json").out)
    assert js["loss"] == pytest.approx(loss, rel=1e-12)
    assert {w: g["value"] for w, g in js["gradients"].items()} == pytest.approx(grads, rel=1e-12)
    assert js["gradients"]["w3"]["value"] == 0 and js["deltas"]["y2"] == 0
    assert js["updated"]["w3"] == 0.5 and js["loss_after"] < js["loss"]
    text = cli("explain", partial, "--format", "text").out
    assert "No targets are given" not in text and "t1 = 0.4" in text
    assert "Targets are given for y1 only, so the loss covers it; y2 has no target and is left out" in text
    assert "l = 0.5 · (y1 − t1)² = 0.5 · (0.1015 − 0.4)² = 0.0445512" in text
    assert "∂l/∂w3 = 0" in text and "δ_y2 = 0" in text and "δ_a = a(1 − a) · w2 · δ_y1" in text


def test_validate_warns_at_the_output_without_a_target(cli, partial):
    r = cli("validate", partial)
    assert r.code == 0
    assert f"{partial}:7:5: warning[no-target]: output 'y2' has no target, so the loss leaves it out (it covers y1)" \
        in r.out
    assert "add 'y2: VALUE' under targets" in r.out


def test_check_and_render_agree(cli, partial, tmp_path):
    loss, grads = torch_truth()
    graded = tmp_path / "graded.yaml"
    graded.write_text(PARTIAL + f"answers: {{loss: {loss:.6g}, gradients: {{w1: {grads['w1']:.6g}, w3: 0.0}}}}\n")
    r = cli("check", graded)
    assert r.code == 0 and "3 correct, 0 wrong" in r.out, r.out
    dot = render(archspec.load(partial), values=True, grads=True).source
    assert "t1 = 0.4" in dot and "t2 =" not in dot


def test_a_unit_that_feeds_nothing_is_a_located_warning(cli, tmp_path):
    path = tmp_path / "unused.yaml"
    path.write_text("kind: equations\nequations:\n  - a1 = sigmoid(w1*x1)\n  - a2 = sigmoid(w2*x1)\n  - y = w5*a1\n")
    r = cli("validate", path)
    assert r.code == 0 and f"{path}:4:5: warning[unused-unit]: 'a2' feeds no other unit, so it is read as an output" \
        in r.out
    with_target = tmp_path / "targets.yaml"
    with_target.write_text(path.read_text() + "targets: {y: 0.5}\n")
    r = cli("validate", with_target)
    assert "4:5: warning[no-target]: 'a2' feeds no other unit, so it is read as an output; it has no target" in r.out
    seed = cli("validate", archspec.__path__[0] + "/../specs/seed")  # two-output Q1 networks say nothing
    assert "warning" not in seed.out, seed.out
