"""`archspec explain --format latex` reads as a hand-in: prose mathematics typesets as mathematics, long
lines fit the page, and the text is well-formed LaTeX (checked by reading: pdflatex is not a dependency)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from archspec.equations.document import formula_latex
from archspec.latex import LINE, break_line, split_top, width

ROOT = Path(__file__).resolve().parent.parent
EXPLAINABLE = sorted(p for d in ("seed", "examples") for p in (ROOT / "specs" / d).glob("*.yaml")
                     if p.name != "small-design-rules.yaml")  # a rules file, not a spec
SEED_PROSE = [p for p in EXPLAINABLE if p.parent.name == "seed"]


def _unescaped(tex: str) -> str:
    r"""tex without \\, \{, \}, \$, \_ ... (escaped characters are not structure)."""
    return re.sub(r"\\[^A-Za-z]", "", tex)


def _without_text(math: str) -> str:
    r"""Math with its \text{...} and \texttt{...} groups removed (text mode inside math)."""
    return re.sub(r"\\text(?:tt)?\{(?:[^{}]|\{[^{}]*\})*\}", "", math)


def _math_spans(tex: str) -> list[str]:
    """Every piece of math mode: inline $...$, align* rows, \\[ \\] displays."""
    body = re.sub(r"(?m)^%.*$", "", tex)
    displays = re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}|\\\[(.*?)\\\]", body, re.S)
    rows = [row for a, b in displays for row in (re.split(r"\\\\", a) if a else [b])]  # align* rows; an array whole
    prose = re.sub(r"\\begin\{align\*\}.*?\\end\{align\*\}|\\\[.*?\\\]", "", body, flags=re.S)
    return rows + re.findall(r"(?<!\\)\$(.*?)(?<!\\)\$", prose)


def problems(tex: str) -> list[str]:
    """What a reader (or pdflatex) would trip over."""
    found = []
    plain = _unescaped(tex)
    depth = 0
    for ch in plain:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            found.append("a } closes nothing")
            break
    if depth > 0:
        found.append("an unclosed {")
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", plain):
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            found.append(f"\\end{{{env}}} does not close the open environment")
    found += [f"\\begin{{{env}}} never ends" for env in stack]
    for line in tex.splitlines():
        if not line.startswith("%") and len(re.findall(r"(?<!\\)\$", line)) % 2:
            found.append(f"odd number of $ in: {line[:80]}")
    for span in _math_spans(tex):
        if len(re.findall(r"\\left(?![A-Za-z])", span)) != len(re.findall(r"\\right(?![A-Za-z])", span)):
            found.append(f"\\left/\\right unpaired in: {span[:80]}")
        if r"\_" in _without_text(span):
            found.append(f"escaped underscore in math: {span[:80]}")
        if not _without_text(span).isascii():
            found.append(f"non-ASCII character in math: {span[:80]}")
    return found


def _explain(cli, spec: Path, *args) -> str:
    r = cli("explain", spec, "--format", "latex", *args)
    assert r.code == 0, r.err
    return r.out


@pytest.mark.parametrize("spec", EXPLAINABLE, ids=lambda p: p.stem)
def test_every_spec_explains_to_well_formed_latex(cli, spec):
    tex = _explain(cli, spec)
    assert problems(tex) == []
    assert not re.search("[σδη∂·−Σ←≤≥×²½]", _without_text(tex)), "a Unicode math sign outside math mode"


@pytest.mark.parametrize("spec", SEED_PROSE, ids=lambda p: p.stem)
def test_prose_keeps_whole_formulas_in_math(cli, spec):
    r"""A subscript written in text mode ($\delta$\_k) prints a literal underscore: between two math spans the
    prose has none, and no formula is split into one $...$ per Greek letter."""
    tex = _explain(cli, spec)
    prose = [ln for ln in tex.splitlines() if "$" in ln and not ln.lstrip().startswith(("&", "\\[", "\\begin"))]
    for line in prose:
        between = re.split(r"(?<!\\)\$", line)[2:-2:2]  # text segments with math on both sides
        assert not any(r"\_" in seg for seg in between), line
        assert "$ $" not in line and "$$" not in line, line


def test_deltas_and_updates_read_as_formulas(cli):
    tex = _explain(cli, ROOT / "specs" / "seed" / "q2-backprop.yaml")
    for snippet in [r"$\delta_k = g'(z_k) \cdot \mathrm{Err}_k$ for an output unit",
                    r"$\mathrm{Err}_h = \sum_{k} w_{hk} \delta_{k}$ over the units $k$ it feeds",
                    r"&= O_{k}(1 - O_{k}) \cdot \left(O_{k} - T_{k}\right)",
                    r"&= O_{h}(1 - O_{h}) \cdot \sum_k w_{hk} \delta_k",
                    r"\frac{\partial z_{y}}{\partial a_{1}} = w_{5}",
                    r"$w_{ij} \leftarrow w_{ij} - \eta \cdot \delta_{j} \cdot O_{i}$ (a bias has $O_{i} = 1$)",
                    r"Local derivatives: $\sigma'(z) = \sigma(z)(1 - \sigma(z))$.",
                    r"\subsection*{4. Updates, $\eta = 0.1$}",
                    r"Change: $-2.75685 \times 10^{-5}$ ($-0.66\,\%$)"]:
        assert snippet in tex, snippet


def test_relu_comparison_names_units_and_options_in_their_own_type(cli):
    tex = _explain(cli, ROOT / "specs" / "seed" / "q2-backprop.yaml", "--activation", "relu")
    assert r"replaced by $\mathrm{ReLU}$ (\texttt{-{}-activation relu})" in tex
    assert r"$a_{2}$ is inactive: $z_{2} = -1.33 \le 0$, so" in tex
    assert r"$\delta_{a2} = 0$: $w_{2}$, $w_{4}$ get" in tex
    assert r"$g'(z_{2})$ & $0.165412$ & $0$ \\" in tex
    assert problems(tex) == []


def test_long_gradients_break_before_an_operator_and_fit_the_page(cli, tmp_path):
    """q3b's dl/dw1 (three paths) and a cross-entropy gradient ran far past the right margin on one row."""
    ce = tmp_path / "ce.yaml"
    ce.write_text("kind: equations\nequations: [z = w1*x, a = sigmoid(z), y1 = w2*a, y2 = w3*a]\n"
                  "inputs: {x: 0.3}\nweights: {w1: 0.1, w2: 0.2, w3: 0}\nloss: cross_entropy\n")
    for spec in (ROOT / "specs" / "seed" / "q3b.yaml", ce, ROOT / "specs" / "examples" / "conv-then-pool.yaml"):
        tex = _explain(cli, spec)
        rows = [r for block in re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", tex, re.S)
                for r in block.split(" \\\\\n")]
        assert any(r.startswith(r"  &\quad ") for r in rows), spec.name  # something was long enough to break
        for row in rows:
            assert width(row) <= LINE, row
            if row.startswith(r"  &\quad "):  # a continuation starts with the operator it was cut before
                assert re.match(r"  &\\quad (\+|-|\\cdot|\\times) ", row), row
        if spec is ce:  # the two paths of dl/dw1, one per row
            assert r"  &\quad + \left(\frac{\exp(y_{2})}{\exp(y_{1}) + \exp(y_{2})} - t_{2}\right) \cdot w_{3}" in tex


def test_break_line_cuts_only_outside_brackets():
    tex = (r"\left(\frac{a + b}{c + d} - t\right) \cdot w + (x - y) \cdot z + "
           + " + ".join(f"q_{{{i}}}" for i in range(40)))
    lines = break_line(tex, 20)
    assert len(lines) > 2 and " ".join(lines).replace("  ", " ") == tex
    assert all(ln.count(r"\left(") == ln.count(r"\right)") and ln.count("(") == ln.count(")") for ln in lines)
    assert split_top(r"a_{b + c} + (d - e) - f", (" + ", " - ")) == ["a_{b + c}", " + (d - e)", " - f"]
    assert break_line("a + b", 20) == ["a + b"]


def test_prose_formulas_never_pass_other_text_through():
    """Only archspec's own wording is translated; anything else (a spec's name, LaTeX) is refused, not copied."""
    assert formula_latex("O_h(1 − O_h) Σ_k w_hk δ_k") == r"O_{h}(1 - O_{h}) \sum_{k} w_{hk} \delta_{k}"
    assert formula_latex("leaky_step(z) = 1 if z > 0 else 0.01") == \
        r"\text{leaky\_step}(z) = 1 \text{ if } z > 0 \text{ else } 0.01"
    for bad in [r"\input{x}", "a$b", "w_{1}", "hidden", "x&y", "50%"]:
        with pytest.raises(ValueError):
            formula_latex(bad)


def test_hostile_names_are_escaped_in_every_part(cli, tmp_path):
    r"""A spec's name and unit names cannot inject LaTeX; underscores in names stay out of math subscripts."""
    path = tmp_path / "hostile.yaml"
    path.write_text('kind: equations\nname: "x $\\\\input{/etc/passwd}$ _&%#{}~^ \\\\end{align*}"\n'
                    "equations: [h_1_a = relu(w_1_b*x_q + b_z), y = sigmoid(w2*h_1_a)]\n"
                    "inputs: {x_q: -1}\nweights: {w_1_b: 2, w2: -1}\nbiases: {b_z: 0.1}\ntargets: {y: 1}\n"
                    "learning_rate: 0.5\n")
    for args in ([], ["--activation", "relu"], ["--steps", "2"]):
        tex = _explain(cli, path, *args)
        assert problems(tex) == [], args
        assert r"\input" not in tex.replace(r"\textbackslash{}input", "")
        assert tex.count(r"\end{align*}") == tex.count(r"\begin{align*}")
        assert r"h_{\text{1\_a}}" in tex and r"w_{\text{1\_b}}" in tex


@pytest.mark.parametrize("spec, name", [("q2-backprop", "equations/q2-backprop.tex"), ("q3b", "equations/q3b.tex"),
                                        ("q4b-conv-stride2", "featuremap_q4b_conv_stride2.tex")])
def test_latex_golden(cli, golden, spec, name):
    golden(name, _explain(cli, ROOT / "specs" / "seed" / f"{spec}.yaml"))
