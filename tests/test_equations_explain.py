"""Worked solutions, answer checking and lowering of equation networks, through the CLI and the library."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import archspec
from archspec.diagnostics import SpecError
from archspec.equations import forward, gradients, loss

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "specs" / "seed"
Q2 = SEED / "q2-backprop.yaml"
GRADED = ROOT / "specs" / "examples" / "q2-student-answers.yaml"


@pytest.mark.parametrize("name", ["q2-backprop", "q1-network2", "q3b"])
def test_explain_markdown_golden(name, cli, golden):
    r = cli("explain", SEED / f"{name}.yaml")
    assert r.code == 0, r.err
    golden(f"equations/{name}.md", r.out)


def test_q2_worked_solution_reads_like_a_hand_in(cli):
    out = cli("explain", Q2).out
    for line in ["- z1 = w1 · x1 + w3 · x2 = 0.2 · 0.2 + 1 · 0.9 = 0.94",
                 "- z2 = w2 · x1 + w4 · x2 = 0.1 · 0.2 + (−1.5) · 0.9 = −1.33",
                 "- y = σ(z_y) = σ(0.440622) = 0.608407",
                 "- δ_y = y(1 − y)(y − t) = 0.608407(1 − 0.608407)(0.608407 − 0.7) = −0.0218218",
                 "- δ_a1 = a1(1 − a1) · w5 · δ_y = 0.7191(1 − 0.7191) · 0.7 · (−0.0218218) = −0.00308553",
                 "- w5 ← w5 − η · δ_y · a1 = 0.7 − 0.1 · (−0.0218218) · 0.7191 = 0.701569",
                 "| after one step | 0.00416705 | 0.608709 |"]:
        assert line in out, line
    headings = [ln for ln in out.splitlines() if ln.startswith("## ")]
    assert headings == ["## 1. Forward pass", "## 2. Gradients by the chain rule", "## 3. Error terms (deltas)",
                        "## 4. Updates, η = 0.1", "## 5. Second forward pass (updated weights)",
                        "## 6. Loss before and after"]


def test_gradient_formula_sums_over_paths_as_a_student_writes_it(cli):
    out = cli("explain", SEED / "q1-network2.yaml").out
    assert ("∂l/∂w1 = ∂l/∂y1 · ∂y1/∂a · ∂a/∂z · ∂z/∂w1 + ∂l/∂y2 · ∂y2/∂a · ∂a/∂z · ∂z/∂w1 = (y1 − t1) · w2 · "
            "σ(z)(1 − σ(z)) · x + (y2 − t2) · w3 · σ(z)(1 − σ(z)) · x" in out)
    # each factor is named and written out first, as the exercise's own solution does
    assert ("Factors of ∂l/∂w1: ∂l/∂y1 = y1 − t1, ∂y1/∂a = w2, ∂a/∂z = σ(z)(1 − σ(z)), ∂z/∂w1 = x, "
            "∂l/∂y2 = y2 − t2, ∂y2/∂a = w3." in out)
    js = json.loads(cli("explain", SEED / "q1-network2.yaml", "--format", "json").out)
    assert js["gradients"]["w1"] == {"value": None, "expression": "(y1 - t1) * w2 * sigmoid(z) * (1 - sigmoid(z)) * x"
                                     " + (y2 - t2) * w3 * sigmoid(z) * (1 - sigmoid(z)) * x"}


def test_json_has_exactly_the_documented_keys(cli):
    js = json.loads(cli("explain", Q2, "--format", "json").out)
    assert list(js) == ["forward", "outputs", "loss", "gradients", "deltas", "updated", "loss_after", "forward_after",
                        "outputs_after", "derivations", "document"]
    assert set(js["forward"]) == {"z1", "a1", "z2", "a2", "z_y", "y"}
    assert set(js["deltas"]) == {"y", "a1", "a2"} and set(js["updated"]) == {f"w{i}" for i in range(1, 7)}
    assert js["loss_after"] < js["loss"]
    no_targets = json.loads(cli("explain", SEED / "q1-network3.yaml", "--format", "json").out)
    assert list(no_targets) == ["forward", "outputs", "loss", "gradients", "derivations", "document"]
    assert no_targets["loss"] is None


def test_latex_and_text_formats(cli):
    tex = cli("explain", Q2, "--format", "latex").out
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") >= 4
    # \left( only around a \frac
    assert r"\frac{\partial l}{\partial w_{1}}" in tex and r"a_{1} &= \sigma(z_{1})" in tex
    assert tex.count("{") == tex.count("}")
    text = cli("explain", Q2, "--format", "text").out
    assert "## " not in text and "1. Forward pass\n---------------" in text


def test_relu_answers_what_changes(cli):
    r = cli("explain", Q2, "--activation", "relu")
    assert r.code == 0
    assert "- a2 = ReLU(z2) = ReLU(−1.33) = 0" in r.out
    assert "## What changes with ReLU" in r.out
    assert "| g'(z2) | 0.165412 | 0 |" in r.out
    assert "a2 is inactive: z2 = −1.33 ≤ 0" in r.out and "w2, w4 get no gradient" in r.out


def test_steps(cli):
    out = cli("explain", Q2, "--steps", "3").out
    assert "## 7. 3 steps of gradient descent" in out
    losses = [float(ln.split("|")[2]) for ln in out.splitlines() if ln.startswith(("| 1 |", "| 2 |", "| 3 |"))]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]


@pytest.mark.parametrize("args, message", [(["--activation", "relux"], "did you mean 'relu'?"),
                                           (["--steps", "0"], "--steps: must be an integer between 1 and 100,000"),
                                           (["--steps", "1e9"], "Received: 1e9")])
def test_bad_options_are_usage_errors(cli, args, message):
    """A bad flag is a usage error (exit 2) about the flag, not a diagnostic placed at line 0 of the spec."""
    r = cli("explain", Q2, *args)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err and ":0:0" not in r.err


def test_an_unplaced_diagnostic_names_the_file_without_line_0():
    from archspec.equations.solve import solve

    with pytest.raises(SpecError) as exc:
        solve(archspec.load(Q2), steps=0)
    assert str(exc.value).startswith(f"{Q2}: error[bad-steps]:")


def test_symbolic_specs_explain_without_numbers(cli):
    out = cli("explain", SEED / "q3a.yaml").out
    assert "## 1. The network, unit by unit" in out and "- h1 = ReLU(z_h1)" in out
    assert "- ∂l/∂w11 = ∂l/∂y · ∂y/∂z_y · ∂z_y/∂h1 · ∂h1/∂z_h1 · ∂z_h1/∂w11 = (y − t) · σ(z_y)(1 − σ(z_y)) · w41 · " \
        "step(z_h1) · x1" in out


# --- archspec check ----------------------------------------------------------------------------

def test_check_flags_exactly_the_deliberate_mistake(cli):
    r = cli("check", GRADED)
    assert r.code == 1
    wrong = [ln for ln in r.out.splitlines() if " WRONG " in ln]
    assert len(wrong) == 1 and wrong[0].startswith("updated.w5")
    js = json.loads(cli("check", GRADED, "--format", "json").out)
    assert js["wrong"] == 1 and js["correct"] == 22


@pytest.mark.parametrize("rtol", ["-1", "nan", "inf", "abc"])
def test_check_refuses_a_tolerance_that_grades_nothing(cli, rtol):
    r = cli("check", GRADED, "--rtol", rtol)  # -1 crashed in math.isclose; nan graded exact answers WRONG
    assert r.code == 2 and f"--rtol: must be a number >= 0 such as 1e-3. Received: {rtol}" in r.err


def test_check_passes_correct_answers_and_reports_unknown_keys(cli, tmp_path):
    data = yaml.safe_load(GRADED.read_text())
    data["answers"]["updated"]["w5"] = 0.70157
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert cli("check", good).code == 0
    # 5-digit hand values are right to the digits they are written with, whatever the tolerance ...
    assert cli("check", good, "--rtol", "1e-9").code == 0
    data["answers"]["forward"]["a1"] = 0.71911  # ... but a wrong last digit is wrong
    slip = tmp_path / "slip.yaml"
    slip.write_text(yaml.safe_dump(data, allow_unicode=True))
    r = cli("check", slip, "--rtol", "1e-9")
    assert r.code == 1 and [ln.split()[0] for ln in r.out.splitlines() if "WRONG" in ln] == ["forward.a1"]
    data["answers"]["forward"]["a1"] = 0.7191
    data["answers"]["gradients"]["w9"] = 1.0
    data["answers"]["forward"]["h7"] = 0.5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    r = cli("check", bad)
    assert r.code == 1
    unknown = [ln.split()[0] for ln in r.out.splitlines() if "unknown key" in ln]
    assert unknown == ["forward.h7", "gradients.w9"]
    assert "23 correct, 0 wrong, 2 not graded (rtol 0.001)" in r.out  # a key that names nothing is not a wrong answer
    js = json.loads(cli("check", bad, "--format", "json").out)
    assert (js["correct"], js["wrong"], js["unknown"]) == (23, 0, 2)


def test_answers_that_name_nothing_are_located_warnings(cli, tmp_path):
    """validate said 'ok' and check listed 'unknown key' without saying where or what was meant."""
    data = yaml.safe_load(GRADED.read_text())
    data["answers"]["gradients"]["w55"] = 1.0
    del data["learning_rate"]
    path = tmp_path / "typo.yaml"
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text)
    lines = text.splitlines()
    w55 = next(i for i, ln in enumerate(lines) if "w55:" in ln) + 1
    updated = next(i for i, ln in enumerate(lines) if ln.strip().startswith("updated:")) + 1
    r = cli("validate", path)
    assert r.code == 0, r.out + r.err
    assert f"typo.yaml:{w55}:" in r.out and "warning[unknown-answer]: 'w55' names no weight or bias" in r.out
    assert "did you mean 'w5'?" in r.out
    at = re.search(r"typo\.yaml:(\d+):\d+: warning\[unknown-answer\]: archspec computes 'updated' only with "
                   "learning_rate given", r.out)
    assert at and int(at.group(1)) in (updated, updated + 1)  # the key, or the first line of its block
    r = cli("check", path)
    assert r.code == 1 and "warning[unknown-answer]: 'w55' names no weight or bias" in r.err


def test_check_without_answers_block(cli):
    r = cli("check", Q2)
    assert r.code == 2 and "no 'answers:' block" in r.err


# --- lowering ------------------------------------------------------------------------------------

def structure(spec):
    g = spec.lower()
    edges = [(e.src, n.id, e.weight) for n, e in g.edges()]
    return g, edges


def test_q3b_is_the_documents_network():
    """Q3(b) as the exercise writes it: ReLU(w1 x + b1) feeds w2 and w3; ReLU(w2 .. + b2) feeds w6 (straight
    to the output) and w4 (a tanh unit); the second tanh unit is tanh(w3 h1 + b4) and reaches y by w5."""
    g, edges = structure(archspec.load(SEED / "q3b.yaml"))
    inputs = [n.id for n in g.nodes if n.op == "input"]
    hidden = {n.id: n for n in g.nodes if n.op == "neuron" and n.id not in g.outputs}
    assert inputs == ["x"] and g.outputs == ["y"] and list(hidden) == ["h1", "h2", "h3", "h4"]
    unit = {n.attrs["expression"]: n.id for n in hidden.values()}
    h1, h2 = unit["relu(w1*x + b1)"], unit["relu(w2*relu(w1*x + b1) + b2)"]
    t1 = unit["tanh(w4*relu(w2*relu(w1*x + b1) + b2) + b3)"]
    t2 = unit["tanh(w3*relu(w1*x + b1) + b4)"]
    assert sorted(edges) == sorted([("x", h1, "w1"), (h1, h2, "w2"), (h1, t2, "w3"), (h2, t1, "w4"),
                                    (t2, "y", "w5"), (h2, "y", "w6"), (t1, "y", "w7")])
    assert [hidden[u].attrs["activation"] for u in (h1, h2, t1, t2)] == ["relu", "relu", "tanh", "tanh"]
    assert {hidden[u].attrs["bias"] for u in (h1, h2, t1, t2)} == {"b1", "b2", "b3", "b4"}
    assert g.node("y").attrs["activation"] == "sigmoid" and g.node("y").attrs["bias"] == "b5"


def test_q3a_structure():
    g, edges = structure(archspec.load(SEED / "q3a.yaml"))
    hidden = [n for n in g.nodes if n.op == "neuron" and n.id not in g.outputs]
    assert [n.attrs["activation"] for n in hidden] == ["relu"] * 3
    assert g.node("y").attrs["activation"] == "sigmoid" and g.node("y").attrs["bias"] == "b4"
    assert sorted(w for *_, w in edges) == sorted(["w11", "w12", "w21", "w22", "w31", "w32", "w41", "w42", "w43"])


def test_named_and_inline_equations_lower_to_the_same_graph():
    inline = archspec.load("kind: equations\nequations: y = w5*sigmoid(w1*x1 + w3*x2) + w6*σ(x1*w2 + x2*w4)\n")
    named = archspec.load("kind: equations\nequations: [z1 = x1*w1 + x2*w3, a1 = sigmoid(z1),"
                          " a2 = sigmoid(w2*x1 + w4*x2), y = a1*w5 + a2*w6]\n")

    def shape(spec):
        g = spec.lower()
        return sorted((e.weight, n.attrs["activation"], g.node(e.src).op) for n, e in g.edges())

    assert shape(inline) == shape(named)
    g = named.lower()
    assert g.node("a1").attrs["pre"] == "z1" and g.node("a2").attrs["pre"] is None
    assert [n.id for n in inline.lower().nodes] == ["x1", "x2", "h1", "h2", "y"]


def test_library_values_for_diagrams():
    spec = archspec.load(Q2)
    values = forward(spec)
    assert values["x1"] == {"z": None, "a": 0.2} and abs(values["a1"]["z"] - 0.94) < 1e-15
    assert set(gradients(spec)) == {f"w{i}" for i in range(1, 7)}
    assert loss(spec) == pytest.approx(0.00419461875206002, rel=1e-12)
    assert forward(archspec.load(SEED / "q3a.yaml")) is None
    assert gradients(archspec.load(SEED / "q1-network1.yaml")) is None


def test_every_output_column_of_the_loss_tables_is_right_aligned(cli, tmp_path):
    """With two outputs the y2 column was left-aligned (only columns 1 and 2 were numeric)."""
    path = tmp_path / "two.yaml"
    path.write_text("kind: equations\nequations: [h = sigmoid(w1*x + b1), y1 = w2*h, y2 = w3*h]\n"
                    "inputs: {x: 1}\nweights: {w1: 0.5, w2: -1, w3: 2}\nbiases: {b1: 0}\n"
                    "targets: {y1: 0, y2: 1}\nlearning_rate: 0.1\n")
    out = cli("explain", path, "--steps", "2").out
    rules = [ln for ln in out.splitlines() if ln.startswith("| ---")]
    assert rules[:2] == ["| --- | ---: | ---: | ---: |"] * 2


def test_small_numbers_keep_one_minus_sign_style_and_latex_powers_of_ten(cli, tmp_path):
    """−4.6e-5 mixed a true minus with an ASCII one; LaTeX wrote 1e-10 in math mode, which reads 'e − 10'."""
    path = tmp_path / "tiny.yaml"
    path.write_text("kind: equations\nequations: [y = w*x]\ninputs: {x: 0.00001}\nweights: {w: -1}\n"
                    "targets: {y: 0}\n")
    text = cli("explain", path, "--format", "text").out
    assert "= (y − t) · x = −1e−5 · 1e−5 = −1e−10" in text and "e-" not in text
    tex = cli("explain", path, "--format", "latex").out
    assert r"= -1 \times 10^{-10}" in tex and "e-" not in tex


def test_every_helper_in_a_derivative_is_defined_and_latex_typesets_it(cli, tmp_path):
    """leaky_step appeared in every gradient without a definition; LaTeX wrote step as \\mathbb{1}, which
    amssymb cannot typeset (no digits), and '>' in text mode, which prints '¿' in LaTeX's default font."""
    path = tmp_path / "leaky.yaml"
    path.write_text("kind: equations\nequations: [h = leaky_relu(w1*x), y = relu(w2*h)]\n"
                    "inputs: {x: -1}\nweights: {w1: 2, w2: -1}\ntargets: {y: 1}\n")
    text = cli("explain", path, "--format", "text").out
    assert "leaky_step(z) = 1 if z > 0 else 0.01; step(z) = 1 if z > 0 else 0." in text
    tex = cli("explain", path, "--format", "latex").out
    assert r"\mathbb" not in tex and r"\text{leaky\_step}(z_{h})" in tex
    prose = [ln for ln in tex.splitlines() if ln.startswith(r"$\partial l/\partial w$")]
    assert prose and r"$\text{leaky\_step}(z) = 1 \text{ if } z > 0 \text{ else } 0.01$" in prose[0]


def test_units_follow_the_order_the_equations_are_written():
    """A linear output (y1 = w2*a) was lowered after every other unit, so explain and the diagram showed
    y2 before y1 although the spec lists y1 first."""
    spec = archspec.load("kind: equations\nequations: [a = relu(w1*x), y1 = w2*a, y2 = sigmoid(w3*a), "
                         "y3 = w4*a + w5*y2]\n")
    assert [n.id for n in spec.lower().nodes if n.op == "neuron"] == ["a", "y1", "y2", "y3"]


def test_the_worked_solution_states_its_rounding(cli):
    out = cli("explain", Q2, "--format", "text").out
    assert "rounded to 6 significant digits for display; every step is computed from the unrounded values" in out
    assert "rounded to" not in cli("explain", SEED / "q3a.yaml").out  # symbolic: no numbers to round


def test_latex_puts_non_ascii_names_in_text_mode(cli, tmp_path):
    """The parser takes names such as xà; LaTeX math mode cannot typeset an accented letter (pdflatex stops)."""
    path = tmp_path / "u.yaml"
    path.write_text("kind: equations\nequations: ['ý = sigmoid(wé*xà + b_ü)']\ninputs: {xà: 1}\nweights: {wé: 2}\n"
                    "biases: {b_ü: 0.5}\ntargets: {ý: 1}\nlearning_rate: 0.1\n", encoding="utf-8")
    tex = cli("explain", path, "--format", "latex").out
    assert r"z_{\text{ý}} &= \text{wé} \cdot \text{xà} + b_{\text{ü}}" in tex
    math = [ln for ln in tex.splitlines() if r"\hline" not in ln]  # table headers are text mode, where ý is fine
    assert re.sub(r"\\text\{[^{}]*\}", "", "\n".join(math)).isascii()
