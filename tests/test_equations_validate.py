"""Broken and hostile equation text: a located diagnostic (code, line, column), nothing executed."""
from __future__ import annotations

import builtins
import time

import pytest

from archspec.equations.parser import MAX_CHARS, MAX_DEPTH, ParseError, parse_equation

HEAD = "kind: equations\nequations:\n"
# an equation in a block list starts at line 3, column 5; a quoted one has its text at column 6


def listed(*equations: str) -> str:
    return HEAD + "".join(f"  - {e}\n" for e in equations)


NESTED = "y = " + "(" * 10_000 + "x" + ")" * 10_000
CASES = {
    # name: (spec text, code, line, column)
    "import": (listed("y = sigmoid(w1*x) + __import__('os').system('touch PWNED')"), "unknown-function", 3, 25),
    "attribute": (listed("y = sigmoid(os.path)"), "equation-syntax", 3, 19),
    "lambda": (listed('"y = (lambda: 0)()"'), "equation-syntax", 3, 11),
    "huge-power": (listed("y = sigmoid(w1*x**999999999)"), "equation-syntax", 3, 21),
    "power-tower": (listed("y = 9**9**9**9"), "equation-syntax", 3, 10),
    "string": (listed('y = sigmoid(w1*x) + sigmoid("x")'), "equation-syntax", 3, 33),
    "nested-parens": (listed(NESTED), "too-deep", 3, 5 + 4 + MAX_DEPTH),
    "unary-chain": (listed("y = " + "-" * 1500 + "x"), "too-deep", 3, 5 + 4 + MAX_DEPTH),
    "too-long": (listed("y = sigmoid(" + " + ".join(f"w{i}*x{i}" for i in range(400)) + ")"), "too-long", 3,
                 5 + MAX_CHARS),
    "undefined-name": (listed("y = sigmoid(w1*x + w2*h)"), "undefined-name", 3, 27),
    "undeclared-input": (HEAD + "  - y = sigmoid(w1*x1 + w2*x2)\ninputs: {x1: 1}\n", "undefined-name", 3, 28),
    "unknown-function": (listed("y = sigmod(w1*x)"), "unknown-function", 3, 9),
    "assigned-twice": (listed("a = sigmoid(w1*x)", "a = sigmoid(w2*x)", "y = w3*a"), "duplicate-assignment", 4, 5),
    "assigns-an-input": (HEAD + "  - x = sigmoid(w1*u)\ninputs: {x: 1, u: 2}\n", "duplicate-assignment", 3, 5),
    "cycle": (listed("a = sigmoid(w1*b)", "b = sigmoid(w2*a + w3*x)", "y = w4*a"), "cycle", 4, 20),
    "self-cycle": (listed("a = sigmoid(w1*a + w2*x)", "y = w3*a"), "cycle", 3, 20),
    "subtraction": (listed("y = sigmoid(w1*x - w2*x)"), "not-weighted-sum", 3, 22),
    "constant-weight": (listed("y = sigmoid(2*x)"), "not-weighted-sum", 3, 17),
    "no-weight": (listed("y = sigmoid(x + b1)"), "not-weighted-sum", 3, 17),
    "two-weights": (listed("y = relu(w1*w2*x)"), "not-weighted-sum", 3, 14),
    "division": (listed("y = relu(w1*x / w2)"), "not-weighted-sum", 3, 19),
    "two-biases": (listed("y = relu(w1*x + b1 + b2)"), "not-weighted-sum", 3, 26),
    "no-equals": (listed("sigmoid(w1*x)"), "equation-syntax", 3, 5),
    "ends-early": (listed("y = sigmoid(w1*x +"), "equation-syntax", 3, 23),
    "two-arguments": (listed("y = relu(w1*x, 2)"), "equation-syntax", 3, 18),
    "single-string": ("kind: equations\nequations: y = tanh(w1*x + w2)\n", "not-weighted-sum", 2, 28),
    "sigma-offsets": (listed("y = σ(w1*x + q1)"), "undefined-name", 3, 18),
    "unknown-target": (listed("y = sigmoid(w1*x)") + "targets: {yy: 1}\n", "unknown-target", 4, 15),
    "bce-needs-sigmoid": (listed("y = relu(w1*x)") + "targets: {y: 1}\nloss: binary_cross_entropy\n",
                          "bad-loss", 5, 7),
    # values a float64 worked solution cannot take, at the largest given value (were tracebacks in explain/render)
    "saturated-bce": (listed("y = sigmoid(w1*x)") + "inputs: {x: 10}\nweights: {w1: 5}\ntargets: {y: 0}\n"
                      "loss: binary_cross_entropy\n", "numeric-range", 4, 13),
    "softmax-overflow": (listed("y1 = identity(w1*x)", "y2 = identity(w2*x)") + "inputs: {x: 1}\n"
                         "weights: {w1: 1000, w2: -1000}\ntargets: {y1: 0, y2: 1}\nloss: cross_entropy\n",
                         "numeric-range", 6, 15),
    "infinite-sum": (listed("y = sigmoid(w1*x)") + "inputs: {x: 1e300}\nweights: {w1: 1e300}\n", "numeric-range",
                     4, 13),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_equations_are_located(name, cli, tmp_path, monkeypatch):
    text, code, line, col = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cli("validate", path)  # first run imports the modules (dataclass creation uses exec); then forbid it

    def refuse(*_a, **_k):
        raise AssertionError("eval/exec called while validating")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    start = time.perf_counter()
    r = cli("validate", path)
    assert time.perf_counter() - start < 2
    assert r.code == 1, r.out + r.err
    assert f"{path}:{line}:{col}: error[{code}]" in r.out, r.out
    assert "Traceback" not in r.out + r.err
    assert not (tmp_path / "PWNED").exists()


def test_every_problem_of_a_file_is_reported_at_once(cli, tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(listed("a = sigmoid(w1*x - w2*x)", "b = relu(3*x)", "y = w3*a + w4*b"))
    r = cli("validate", path)
    assert f"{path}:3:22: error[not-weighted-sum]" in r.out and f"{path}:4:14: error[not-weighted-sum]" in r.out


def test_did_you_mean_hints(cli, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text(listed("y = sigmod(w1*x)"))
    assert "did you mean 'sigmoid'?" in cli("validate", path).out
    path.write_text(listed("hidden1 = sigmoid(w1*x)", "y = w2*hiden1"))
    assert "did you mean 'hidden1'?" in cli("validate", path).out


def test_unused_declared_names_warn_but_validate(cli, tmp_path):
    path = tmp_path / "unused.yaml"
    path.write_text(listed("y = sigmoid(w1*x)") + "inputs: {x: 1}\nweights: {w1: 1, w9: 2}\n")
    r = cli("validate", path)
    assert r.code == 0 and f"{path}:5:22: warning[unused-name]" in r.out


def test_parser_refuses_deep_nesting_without_recursing():
    # far beyond Python's recursion limit: the flat pre-scan refuses it before any recursion
    with pytest.raises(ParseError) as exc:
        parse_equation("y = " + "(" * 100_000 + "x" + ")" * 100_000)
    assert exc.value.code == "too-deep" and exc.value.offset == 4 + MAX_DEPTH


def test_parser_accepts_what_students_write():
    eq = parse_equation("y = σ(w5·ReLU(w1*x + b1) − w6 × tanh(w2*x))")
    assert eq.name == "y"
    from archspec.equations.printer import ASCII, write

    assert write(eq.expr, ASCII) == "sigmoid(w5 * relu(w1 * x + b1) - w6 * tanh(w2 * x))"


def test_unknown_answer_sections_are_located(cli, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(listed("y = sigmoid(w1*x)") + "answers: {gradient: {w1: 1}}\n")
    r = cli("validate", path)
    assert r.code == 1 and "error[unknown-key]" in r.out and "did you mean 'gradients'?" in r.out


def test_validate_imports_no_heavy_modules(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("import sys; from archspec.validation import check_file; "
            f"r = check_file({str(root / 'specs/seed/q2-backprop.yaml')!r}); assert r.valid; "
            "print([m for m in sys.modules if m.split('.')[0] in ('torch', 'sympy', 'graphviz', 'numpy')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_several_equations_in_one_string_get_a_list_hint():
    with pytest.raises(ParseError) as info:
        parse_equation("z = w1*x1\ny = sigmoid(w2*z)")
    assert info.value.offset == 10 and "list" in info.value.hint


def test_diverging_gradient_descent_is_a_located_error(cli, tmp_path):
    path = tmp_path / "diverge.yaml"
    path.write_text(listed("y = identity(w1*x)") + "inputs: {x: 3}\nweights: {w1: 1}\ntargets: {y: 1}\n"
                    "learning_rate: 50\n")
    assert cli("explain", path, "--steps", "5").code == 0  # large but finite numbers are shown
    r = cli("explain", path, "--steps", "200")  # (w1 grows 17-fold a step) was an OverflowError traceback
    assert r.code == 1 and f"{path}:7:16: error[numeric-range]" in r.err and "smaller learning_rate" in r.err
