"""Every number of `archspec explain` on equation networks equals torch autograd in float64.

The oracle (tests/equation_oracle.py) computes from a plain structure, never from
archspec's parser or lowering; random networks come from hypothesis.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings

from archspec.equations.activations import FUNCTIONS
from archspec.equations.explain import explain
from archspec.equations.expr import evaluate
from archspec.equations.solve import solve
from archspec.equations.torch_module import build
from archspec.validation import check_text, load

from equation_oracle import RandomNet, Unit, random_nets, torch_run

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-12


def close(a, b, tol=TOL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def unit_of(spec, oracle: RandomNet) -> dict[str, Unit]:
    """archspec node id -> oracle unit: by name, or (anonymous units) by the unique weight on its first edge."""
    owner = {w: u for u in oracle.units for w, _ in u.terms}
    by_name = {u.name: u for u in oracle.units}
    return {n.id: by_name.get(n.id) or owner[n.inputs[0].weight] for n in spec.network().neurons}


def assert_matches_torch(spec, oracle: RandomNet):
    out = json.loads(explain(spec, format="json"))
    ref = torch_run(oracle)
    net = spec.network()
    units = unit_of(spec, oracle)
    assert set(out) == {"forward", "outputs", "loss", "gradients", "deltas", "updated", "loss_after",
                        "forward_after", "outputs_after", "derivations", "document"}
    for node_id, u in units.items():
        assert close(out["forward"][net.pre[node_id]], ref["z"][u.name]), node_id
        assert close(out["forward"][node_id], ref["a"][u.name]), node_id
        assert close(out["deltas"][node_id], ref["dz"][u.name]), node_id
    assert {units[o].name for o in out["outputs"]} == set(oracle.outputs)
    for o, v in out["outputs"].items():
        assert close(v, ref["outputs"][units[o].name])
    assert close(out["loss"], ref["loss"])
    assert set(out["gradients"]) == set(ref["grad"])
    for w, g in out["gradients"].items():
        assert close(g["value"], ref["grad"][w]), w
    # one SGD step in torch, then the loss at the new weights
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in ref["grad"].items()}
    start = {**oracle.weights, **oracle.biases}
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(torch.tensor(start[k], dtype=torch.float64))
    opt = torch.optim.SGD(params.values(), lr=oracle.lr)
    for k, p in params.items():
        p.grad = torch.tensor(ref["grad"][k], dtype=torch.float64)
    opt.step()
    new = {k: p.item() for k, p in params.items()}
    for w, v in out["updated"].items():
        assert close(v, new[w]), w
    after = torch_run(oracle, new)
    assert close(out["loss_after"], after["loss"])
    for node_id, u in units.items():  # the second forward pass, at the updated weights
        assert close(out["forward_after"][net.pre[node_id]], after["z"][u.name]), node_id
        assert close(out["forward_after"][node_id], after["a"][u.name]), node_id
    for o, v in out["outputs_after"].items():
        assert close(v, after["outputs"][units[o].name])


def assert_symbolic_equals_numeric(spec):
    """The chain-rule formula, evaluated by archspec's own safe evaluator, equals backprop's number."""
    sol = solve(spec)
    env = sol.env()
    for w, expr in sol.grad_exprs.items():
        assert math.isclose(evaluate(expr, env, FUNCTIONS), sol.back.grad[w], rel_tol=1e-9, abs_tol=1e-13), w


def assert_module_matches(spec):
    net = spec.network()
    module = build(spec)
    assert list(module.state_dict()) == net.weights + net.biases
    sol = solve(spec)
    x = torch.tensor([[sol.params[i] for i in net.inputs]], dtype=torch.float64)
    y = module(x)[0]
    for k, o in enumerate(net.outputs):
        assert close(y[k].item(), sol.first.outputs[o])


# --- seed specs ---------------------------------------------------------------------------------

Q2 = RandomNet({"x1": 0.2, "x2": 0.9},
               [Unit("a1", "sigmoid", [("w1", "x1"), ("w3", "x2")], None),
                Unit("a2", "sigmoid", [("w2", "x1"), ("w4", "x2")], None),
                Unit("y", "sigmoid", [("w5", "a1"), ("w6", "a2")], None)],
               ["y"], {"w1": 0.2, "w2": 0.1, "w3": 1.0, "w4": -1.5, "w5": 0.7, "w6": -0.3}, {}, {"y": 0.7},
               "squared_error", 0.1)

Q1 = {  # no targets in the exercise: the forward pass and dy/dw are checked
    "q1-network1": RandomNet({"x": 0.7}, [Unit("a", "sigmoid", [("w1", "x")], None),
                                          Unit("y", "identity", [("w2", "a")], None)],
                             ["y"], {"w1": 0.4, "w2": 0.5}, {}, {"y": 0.0}),
    "q1-network2": RandomNet({"x": 0.3}, [Unit("a", "sigmoid", [("w1", "x")], None),
                                          Unit("y1", "identity", [("w2", "a")], None),
                                          Unit("y2", "identity", [("w3", "a")], None)],
                             ["y1", "y2"], {"w1": 0.1, "w2": 0.2, "w3": 0.0}, {}, {"y1": 0.0, "y2": 0.0}),
    "q1-network3": RandomNet({"x1": 0.4, "x2": 0.8},
                             [Unit("a1", "sigmoid", [("w1", "x1"), ("w3", "x2")], None),
                              Unit("a2", "sigmoid", [("w2", "x1"), ("w4", "x2")], None),
                              Unit("y", "identity", [("w5", "a1"), ("w6", "a2")], None)],
                             ["y"], {"w1": 1, "w2": 0.2, "w3": 0.2, "w4": 0, "w5": 0.5, "w6": 0.1}, {}, {"y": 0.0}),
}


def test_q2_every_number_matches_torch():
    spec = load(ROOT / "specs/seed/q2-backprop.yaml")
    assert_matches_torch(spec, Q2)
    assert_symbolic_equals_numeric(spec)
    assert_module_matches(spec)


def test_q2_backprop_step_matches_torch_sgd_on_the_built_module():
    spec = load(ROOT / "specs/seed/q2-backprop.yaml")
    out = json.loads(explain(spec, format="json"))
    module = build(spec)
    opt = torch.optim.SGD(module.parameters(), lr=spec.learning_rate)
    x = torch.tensor([[0.2, 0.9]], dtype=torch.float64)
    loss = 0.5 * ((module(x)[0, 0] - 0.7) ** 2)
    assert close(loss.item(), out["loss"])
    loss.backward()
    for name, p in module.named_parameters():
        assert close(p.grad.item(), out["gradients"][name]["value"])
    opt.step()
    for name, p in module.named_parameters():
        assert close(p.item(), out["updated"][name])
    with torch.no_grad():
        assert close((0.5 * (module(x)[0, 0] - 0.7) ** 2).item(), out["loss_after"])


def test_q2_several_steps_match_torch_sgd():
    spec = load(ROOT / "specs/seed/q2-backprop.yaml")
    out = json.loads(explain(spec, format="json", steps=5))
    module = build(spec)
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    x = torch.tensor([[0.2, 0.9]], dtype=torch.float64)
    for _ in range(5):
        opt.zero_grad()
        (0.5 * (module(x)[0, 0] - 0.7) ** 2).backward()
        opt.step()
    for name, p in module.named_parameters():
        assert close(p.item(), out["updated"][name])
    with torch.no_grad():
        assert close((0.5 * (module(x)[0, 0] - 0.7) ** 2).item(), out["loss_after"])


def test_q2_with_relu_matches_torch():
    spec = load(ROOT / "specs/seed/q2-backprop.yaml")
    out = json.loads(explain(spec, format="json", activation="relu"))
    relu = RandomNet(Q2.inputs, [Unit(u.name, "relu" if u.name != "y" else u.act, u.terms, None) for u in Q2.units],
                     ["y"], Q2.weights, {}, Q2.targets, "squared_error", 0.1)
    ref = torch_run(relu)
    assert close(out["loss"], ref["loss"])
    for w, g in out["gradients"].items():
        assert close(g["value"], ref["grad"][w])
    assert out["gradients"]["w2"]["value"] == 0 and out["gradients"]["w4"]["value"] == 0  # a2 is inactive


@pytest.mark.parametrize("name", sorted(Q1))
def test_q1_forward_and_output_sensitivities_match_torch(name):
    spec = load(ROOT / f"specs/seed/{name}.yaml")
    oracle = Q1[name]
    sol = solve(spec)
    assert sol.back is None and sol.jac is not None  # no targets: dl/dw stays in terms of t
    params = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in oracle.weights.items()}
    a = {k: torch.tensor(v, dtype=torch.float64) for k, v in oracle.inputs.items()}
    from equation_oracle import TORCH_ACT

    for u in oracle.units:
        a[u.name] = TORCH_ACT[u.act](sum(params[w] * a[s] for w, s in u.terms))
    units = unit_of(spec, oracle)
    for node_id, u in units.items():
        assert close(sol.first.a[node_id], a[u.name].item())
    for o in spec.network().outputs:
        grads = torch.autograd.grad(a[units[o].name], list(params.values()), retain_graph=True, allow_unused=True)
        for w, g in zip(params, grads):
            assert close(sol.jac[o][w], 0.0 if g is None else g.item()), (o, w)
    assert_module_matches(spec)


def test_symbolic_seeds_have_formulas_but_no_numbers():
    for name in ("q3a", "q3b"):
        spec = load(ROOT / f"specs/seed/{name}.yaml")
        out = json.loads(explain(spec, format="json"))
        assert out["forward"] == {} and out["loss"] is None
        assert set(out) == {"forward", "outputs", "loss", "gradients", "derivations", "document"}
        assert all(g["value"] is None and g["expression"] for g in out["gradients"].values())
        net = spec.network()
        assert list(build(spec).state_dict()) == net.weights + net.biases


def test_shared_weights_and_an_output_that_feeds_another_unit():
    """w1 and b sit on several units, and output a also feeds output y: gradients sum over all of them."""
    spec = check_text("kind: equations\nequations: [y = w3*a + w4*h, a = sigmoid(w1*x + b),"
                      " h = leaky_relu(w1*x + w2*x + b)]\ninputs: {x: 0.5}\n"
                      "weights: {w1: 0.3, w2: -0.2, w3: 1.1, w4: 0.4}\nbiases: {b: 0.1}\n"
                      "targets: {a: 0.2, y: 0.9}\nlearning_rate: 0.5\n").spec
    oracle = RandomNet({"x": 0.5}, [Unit("a", "sigmoid", [("w1", "x")], "b"),
                                    Unit("h", "leaky_relu", [("w1", "x"), ("w2", "x")], "b"),
                                    Unit("y", "identity", [("w3", "a"), ("w4", "h")], None)],
                       ["y", "a"], {"w1": 0.3, "w2": -0.2, "w3": 1.1, "w4": 0.4}, {"b": 0.1}, {"a": 0.2, "y": 0.9},
                       "squared_error", 0.5)
    assert spec.network().outputs == ["y", "a"]
    assert_matches_torch(spec, oracle)
    assert_symbolic_equals_numeric(spec)
    assert_module_matches(spec)


# --- random networks ----------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_nets())
def test_random_networks_match_torch(oracle):
    report = check_text(oracle.spec_text())
    assert report.valid, report.text() + "\n" + oracle.spec_text()
    spec = report.spec
    # shared sub-expressions are one unit however often they are written
    assert len(spec.network().neurons) == len(oracle.units)
    assert_matches_torch(spec, oracle)
    assert_symbolic_equals_numeric(spec)
    assert_module_matches(spec)
