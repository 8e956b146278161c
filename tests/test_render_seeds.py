"""Every seed spec's diagram against its golden DOT (no dot binary needed; regenerate with
pytest --update-golden), the structure of q3b, and the numbers on q2's diagram against torch."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from archspec.diagrams import render
from archspec.validation import check_file, check_text
from test_render_cnn import BROKEN_Q6
from test_render_dot import parse_dot, plain

SEED = Path(__file__).resolve().parent.parent / "specs" / "seed"
SEEDS = sorted(SEED.glob("*.yaml"))


def seed(name: str):
    report = check_file(SEED / f"{name}.yaml")
    assert report.valid, report.text()
    return report.spec


def test_there_are_seeds():
    kinds = {check_file(p).spec.kind for p in SEEDS}
    assert {"cnn", "equations"} <= kinds


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_seed_golden_dot(path, golden):
    report = check_file(path)
    assert report.valid, report.text()
    golden(f"render/{path.stem}.dot", render(report.spec).source)


VARIANTS = {  # golden name -> (spec, options)
    "q6-broken": (lambda: check_text(BROKEN_Q6, "q6-broken.yaml").spec, {}),
    "q5-architecture-LR-group": (lambda: seed("q5-architecture"), {"layout": "LR", "group": True}),
    "q2-backprop-grads": (lambda: seed("q2-backprop"), {"values": True, "grads": True}),
    "q1-network2-grads": (lambda: seed("q1-network2"), {"grads": True}),
    "q3b-TB": (lambda: seed("q3b"), {"layout": "TB"}),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_golden_dot(name, golden):
    make, options = VARIANTS[name]
    golden(f"render/{name}.dot", render(make(), **options).source)


def by_class(nodes, css):
    return [k for k, (classes, _) in nodes.items() if css in classes]


def test_q3b_structure():
    """Every weight on the edge the exercise puts it, two tanh units, each shared unit drawn once."""
    nodes, edges = parse_dot(render(seed("q3b")).source)
    hidden, inputs, outputs = by_class(nodes, "hidden"), by_class(nodes, "input"), by_class(nodes, "output")
    assert len(hidden) == 4 and len(inputs) == 1 and len(outputs) == 1
    assert len(nodes) == 6  # ReLU(w1 x + b1) and ReLU(w2 .. + b2) are written 3 and 2 times, drawn once each
    label = {k: plain(v[1]) for k, v in nodes.items()}
    by_weight = {plain(lab): (src, dst) for src, dst, _, lab in edges}
    assert sorted(by_weight) == [f"w{i}" for i in range(1, 8)] and len(edges) == 7  # every weight on one edge
    x, y = inputs[0], outputs[0]
    h1 = by_weight["w1"][1]
    h2, t2 = by_weight["w2"][1], by_weight["w3"][1]
    t1 = by_weight["w4"][1]
    assert by_weight == {"w1": (x, h1), "w2": (h1, h2), "w3": (h1, t2), "w4": (h2, t1),
                         "w5": (t2, y), "w6": (h2, y), "w7": (t1, y)}
    assert label[h1].startswith("ReLU") and label[h1].endswith("+ b1")
    assert label[h2].startswith("ReLU") and label[h2].endswith("+ b2")
    assert label[t1].startswith("tanh") and label[t1].endswith("+ b3")
    assert label[t2].startswith("tanh") and label[t2].endswith("+ b4")
    assert sorted(k for k in hidden if label[k].startswith("tanh")) == sorted([t1, t2])
    (skip,) = [css for src, dst, css, _ in edges if src == h2 and dst == y]
    assert "skip" in skip
    assert label[y].startswith("σ") and label[y].endswith("+ b5")


def test_q3a_structure():
    nodes, edges = parse_dot(render(seed("q3a")).source)
    assert len(by_class(nodes, "input")) == 2 and len(by_class(nodes, "hidden")) == 3
    assert sorted(plain(lab) for *_, lab in edges) == sorted(
        ["w11", "w12", "w21", "w22", "w31", "w32", "w41", "w42", "w43"])
    assert all(plain(nodes[k][1]).startswith("ReLU") for k in by_class(nodes, "hidden"))


def numbers(text: str) -> dict[str, float]:
    """'a1 = 0.7191 ∂l/∂w1 = -0.0006' -> {'a1': 0.7191, '∂l/∂w1': -0.0006}."""
    return {k: float(v) for k, v in re.findall(r"(\S+) = (-?[0-9.]+(?:e[-+]?\d+)?)", text)}


def test_q2_values_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    spec = seed("q2-backprop")
    nodes, edges = parse_dot(render(spec, grads=True).source)
    shown = {}
    for _, label in nodes.values():
        shown.update(numbers(plain(label)))
    for *_, label in edges:
        shown.update(numbers(plain(label)))
    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in spec.weights.items()}
    x1, x2 = (torch.tensor(spec.inputs[k], dtype=torch.float64) for k in ("x1", "x2"))
    z1, z2 = x1 * w["w1"] + x2 * w["w3"], x1 * w["w2"] + x2 * w["w4"]
    a1, a2 = torch.sigmoid(z1), torch.sigmoid(z2)
    y = torch.sigmoid(a1 * w["w5"] + a2 * w["w6"])
    loss = 0.5 * (y - spec.targets["y"]) ** 2
    loss.backward()
    expect = {"x1": 0.2, "z1": z1.item(), "a1": a1.item(), "z2": z2.item(), "a2": a2.item(), "y": y.item(),
              **{k: v.item() for k, v in w.items()}, **{f"∂l/∂{k}": v.grad.item() for k, v in w.items()}}
    for key, value in expect.items():
        assert shown[key] == pytest.approx(value, rel=1e-3, abs=1e-9), key
    title = plain(re.search(r"label=<(.*)> labelloc", render(spec, values=True).source).group(1))
    assert numbers(title)["l"] == pytest.approx(loss.item(), rel=1e-3)


def test_values_need_values(cli):
    r = cli("render", SEED / "q3a.yaml", "-o", "-", "--values")
    assert r.code == 1 and "--values needs a value for every input, weight and bias" in r.err
    assert "Traceback" not in r.err
