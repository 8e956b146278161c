"""Q2(b)/(c) ask to derive delta_k and delta_h, Q1(b) lists every chain-rule factor before the product: the worked
solution shows those steps for the network's own activations and loss, in Markdown, LaTeX, text and JSON."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parent.parent / "specs" / "seed"
Q2, Q1 = SEED / "q2-backprop.yaml", SEED / "q1-network1.yaml"

OUTPUT_STEPS = {  # delta_k = g'(x_k) Err_k = σ(x_k)(1 − σ(x_k))(O_k − T_k) = O_k(1 − O_k)(O_k − T_k)
    "markdown": "δ_k = g'(z_k) · Err_k = g'(z_k) · ∂l/∂O_k = σ(z_k)(1 − σ(z_k)) · (O_k − T_k) "
                "= O_k(1 − O_k) · (O_k − T_k)",
    "text": "δ_k = g'(z_k) · Err_k = g'(z_k) · ∂l/∂O_k = σ(z_k)(1 − σ(z_k)) · (O_k − T_k) = O_k(1 − O_k) · (O_k − T_k)",
    "latex": "\\delta_k &= g'(z_k) \\cdot \\mathrm{Err}_k \\\\\n"
             "  &= g'(z_k) \\cdot \\frac{\\partial l}{\\partial O_k} \\\\\n"
             "  &= \\sigma(z_{k})(1 - \\sigma(z_{k})) \\cdot \\left(O_{k} - T_{k}\\right) \\\\\n"
             "  &= O_{k}(1 - O_{k}) \\cdot \\left(O_{k} - T_{k}\\right)",
}
HIDDEN_STEPS = {
    "markdown": "δ_h = g'(z_h) · Err_h = g'(z_h) · Σ_k w_hk δ_k = σ(z_h)(1 − σ(z_h)) · Σ_k w_hk δ_k "
                "= O_h(1 − O_h) · Σ_k w_hk δ_k",
    "latex": "&= O_{h}(1 - O_{h}) \\cdot \\sum_k w_{hk} \\delta_k",
}
FACTORS = {  # Q1(b) network 1, as the exercise's own solution lists them
    "markdown": "Factors of ∂l/∂w1: ∂l/∂y = y − t, ∂y/∂a = w2, ∂a/∂z = σ(z)(1 − σ(z)), ∂z/∂w1 = x.",
    "latex": r"Factors of $\frac{\partial l}{\partial w_{1}}$: $\frac{\partial l}{\partial y} = y - t$, "
             r"$\frac{\partial y}{\partial a} = w_{2}$",
}


@pytest.mark.parametrize("fmt", ["markdown", "text", "latex"])
def test_the_deltas_are_derived_before_they_are_computed(cli, fmt):
    out = cli("explain", Q2, "--format", fmt).out
    assert OUTPUT_STEPS[fmt] in out
    assert HIDDEN_STEPS.get(fmt, HIDDEN_STEPS["markdown"]) in out
    assert out.index(OUTPUT_STEPS[fmt]) < out.index("0.608407(1 − 0.608407)" if fmt != "latex"
                                                    else "0.608407(1 - 0.608407)")


@pytest.mark.parametrize("fmt", ["markdown", "text", "latex"])
def test_each_chain_rule_factor_is_listed_before_the_product(cli, fmt):
    out = cli("explain", Q1, "--format", fmt).out
    assert FACTORS.get(fmt, FACTORS["markdown"]) in out
    if fmt != "latex":
        assert "∂l/∂w1 = ∂l/∂y · ∂y/∂a · ∂a/∂z · ∂z/∂w1 = (y − t) · w2 · σ(z)(1 − σ(z)) · x" in out
        assert out.index("Factors of ∂l/∂w1") < out.index("∂l/∂w1 = ∂l/∂y")


def test_json_has_the_derivations():
    from archspec import load
    from archspec.kinds import capability

    js = json.loads(capability("equations", "explain")(load(Q2), format="json"))["derivations"]
    assert js["delta_output"]["sigmoid"] == ["delta_k", "g'(z_k) * Err_k", "g'(z_k) * dl/dO_k",
                                             "sigmoid(z_k) * (1 - sigmoid(z_k)) * (O_k - T_k)",
                                             "O_k * (1 - O_k) * (O_k - T_k)"]
    assert js["delta_hidden"]["sigmoid"][-1] == "O_h * (1 - O_h) * sum_k w_hk delta_k"
    assert js["chain"]["w1"] == {"product": "dl/dy * dy/dz_y * dz_y/da1 * da1/dz1 * dz1/dw1",
                                 "factors": {"dl/dy": "y - t", "dy/dz_y": "sigmoid(z_y) * (1 - sigmoid(z_y))",
                                             "dz_y/da1": "w5", "da1/dz1": "sigmoid(z1) * (1 - sigmoid(z1))",
                                             "dz1/dw1": "x1"}}


def test_other_activations_and_losses_derive_their_own_form(cli, tmp_path):
    path = tmp_path / "tanh.yaml"
    path.write_text("kind: equations\nequations: [h = tanh(w1*x), y = w2*h]\ntargets: {y: 1}\n"
                    "inputs: {x: 0.5}\nweights: {w1: 0.3, w2: 0.2}\n")
    out = cli("explain", path, "--format", "text").out
    assert "δ_k = g'(z_k) · Err_k = g'(z_k) · ∂l/∂O_k = (O_k − T_k)" in out  # a linear output: g' = 1
    assert "= (1 − tanh(z_h)²) · Σ_k w_hk δ_k = (1 − O_h²) · Σ_k w_hk δ_k" in out
    bce = tmp_path / "bce.yaml"
    bce.write_text("kind: equations\nequations: [y = sigmoid(w1*x)]\ntargets: {y: 1}\nloss: binary_cross_entropy\n"
                   "inputs: {x: 0.5}\nweights: {w1: 0.3}\n")
    out = cli("explain", bce, "--format", "text").out
    assert "= O_k(1 − O_k) · (O_k − T_k) / (O_k(1 − O_k))" in out, out
