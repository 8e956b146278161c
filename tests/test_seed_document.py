"""The seed exercises against the document: the implementation part's inconsistent flatten is shown, every
seed spec says in its comment which question it answers, and small answers print as the document writes them."""
from __future__ import annotations

from pathlib import Path

import pytest

import archspec
from archspec.cnn.reach import reach_hint

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "specs" / "seed"


def test_64x32x32_after_two_pools_of_a_64x64_image_is_explained(cli):
    r = cli("validate", ROOT / "specs" / "invalid" / "medical-64x32x32.yaml")
    assert r.code == 1 and "error[rule-shape]: before flatten the shape is 16 x 16 x 64" in r.out
    assert "32 x 32 needs a 128 x 128 input with these layers (the input is 64 x 64)" in r.out
    assert "dropping pool1 gives 32 x 32" in r.out and "dropping pool2 gives 32 x 32" in r.out


def test_reach_hint_finds_input_sizes_pools_and_channels():
    spec = archspec.load(SEED / "medical-cnn.yaml")
    flatten = next(i for i, layer in enumerate(spec.layers) if layer.type == "flatten")
    assert spec.shapes().layers[flatten].input == (16, 16, 64)  # the spec follows the text's 64 channels
    hint = reach_hint(spec.input_shape, spec.layers, flatten, (8, 8, 128))
    assert "128 channels need out_channels: 128 in conv2" in hint and "a 32 x 32 input" in hint
    # floor((n - 2) / 2) + 1 twice after 'same' convs: 4 x 4 needs at least 16 x 16
    assert "a 16 x 16 input" in reach_hint(spec.input_shape, spec.layers, flatten, (4, 4, 64))
    assert reach_hint(spec.input_shape, spec.layers, flatten, (16, 16, 64)) is None


QUESTIONS = {"q1-network1": "Q1", "q1-network2": "Q1", "q1-network3": "Q1", "q2-backprop": "Q2", "q3a": "Q3(a)",
             "q3b": "Q3(b)", "q4a-conv": "Q4(a)", "q4b-conv-stride2": "Q4(b)", "q4c-maxpool": "Q4(c)",
             "q5-architecture": "Q5", "q6-design": "Q6", "medical-cnn": "implementation part"}


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_every_seed_spec_says_which_question_it_answers(name):
    comment = " ".join(ln.lstrip("# ") for ln in (SEED / f"{name}.yaml").read_text().splitlines()
                       if ln.startswith("#"))
    assert QUESTIONS[name] in comment


def test_there_is_no_seed_spec_without_its_question():
    assert {p.stem for p in SEED.glob("*.yaml")} == set(QUESTIONS)


def test_q4b_prints_the_fraction_as_the_document_writes_it(cli):
    out = cli("explain", SEED / "q4b-conv-stride2.yaml", "--format", "text").out
    assert "Y11 = 1x(1/4) + 2x(1/4) + 3x(1/4) + 2x(1/4) = 2" in out and "= 1.5" in out
    text = (SEED / "q4b-conv-stride2.yaml").read_text().replace("1/4", "0.25")
    spec = archspec.load(text)
    from archspec.kinds import capability

    out = capability("feature_map", "explain")(spec, format="text")
    assert "Y11 = 1x0.25 + 2x0.25 + 3x0.25 + 2x0.25 = 2" in out  # written as decimals: shown as decimals


def test_the_seed_students_q4c_slip_is_caught(cli):
    r = cli("check", ROOT / "specs" / "examples" / "q4c-seed-student.yaml")
    wrong = [ln.split()[:3] for ln in r.out.splitlines() if "WRONG" in ln]
    assert r.code == 1 and wrong == [["Y[3][1]", "1", "7"]] and "8 correct, 1 wrong" in r.out


@pytest.mark.parametrize("tag, hint", [
    ("global_avgpool", "write type: adaptive_avgpool2d with output_size: 1 (global average pooling)"),
    ("GlobalAveragePooling2D", "write type: adaptive_avgpool2d with output_size: 1"),
    ("Dense", "write type: linear (a fully connected layer)"),
    ("conv2dd", "did you mean 'conv2d'?"),  # a typo still gets the close spelling
])
def test_an_unknown_layer_type_names_its_real_equivalent(cli, tmp_path, tag, hint):
    path = tmp_path / "t.yaml"
    path.write_text(f"kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {{type: {tag}}}\n")
    r = cli("validate", path)
    assert r.code == 1 and f"{path}:4:12: error[unknown-type]: unknown type '{tag}'" in r.out and hint in r.out
    assert "did you mean 'avgpool2d'" not in r.out


def test_a_bias_declared_under_weights_is_pointed_to_biases(cli, tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("kind: equations\nequations: [y = sigmoid(w1*x + b1)]\ninputs: {x: 1}\n"
                    "weights: {w1: 0.2, b1: 0.1}\n")
    r = cli("validate", path)
    assert r.code == 1 and f"{path}:2:32: error[not-weighted-sum]: weight 'b1' is not multiplied by an input" in r.out
    assert "declare it under biases: instead of weights: (biases: {b1: ...})" in r.out
