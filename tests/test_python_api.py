"""archspec from Python, as a notebook user or a library integrator calls it: what each public function takes,
what it raises (archspec's own errors, or a TypeError that names what was expected), and what it leaves alone."""
from __future__ import annotations

from pathlib import Path

import pytest

import archspec

ROOT = Path(__file__).resolve().parent.parent
Q5 = ROOT / "specs" / "seed" / "q5-architecture.yaml"
Q2 = ROOT / "specs" / "seed" / "q2-backprop.yaml"
TINY = "kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {type: flatten}\n  - {type: linear, out_features: 2}\n"


@pytest.mark.parametrize("source", [Q5, str(Q5), archspec.load(Q5)], ids=["Path", "str", "loaded"])
def test_every_spec_function_takes_a_path_a_str_or_a_loaded_spec(source):
    assert archspec.load(source).name == "q5-architecture"
    assert archspec.shapes(source).params == archspec.shapes(str(Q5)).params
    assert "conv1" in archspec.render(source).source


def test_a_loaded_spec_is_returned_as_it_is():
    spec = archspec.load(TINY)
    assert archspec.load(spec) is spec


@pytest.mark.parametrize("function", [archspec.load, archspec.shapes, archspec.render, archspec.build])
@pytest.mark.parametrize("wrong", [[str(Q5)], None, {"kind": "cnn"}], ids=["list", "None", "dict"])
def test_a_wrong_argument_type_is_a_type_error_saying_what_is_expected(function, wrong):
    with pytest.raises(TypeError, match=rf"a spec path is a str or os.PathLike, not {type(wrong).__name__} "
                                        r"\(a spec may also be YAML text or a spec that load\(\) returned\)"):
        function(wrong)


def test_check_text_of_a_path_says_to_use_check_file():
    with pytest.raises(TypeError, match=r"takes YAML text \(a str\), not PosixPath; for a file use check_file"):
        archspec.check_text(Q5)


def test_one_line_of_yaml_read_as_a_missing_file_says_how_text_is_told_apart():
    with pytest.raises(archspec.SpecError) as exc:
        archspec.load("kind: cnn")
    assert "hint: YAML text is read as text when it holds a newline" in str(exc.value)


def test_a_misspelt_render_option_is_refused_not_ignored():
    with pytest.raises(TypeError, match="unknown option.* grad; it takes layout, group, values, grads, cell"):
        archspec.render(Q2, grad=True)
    assert "∂l/∂w6" in archspec.render(Q2, grads=True).source
