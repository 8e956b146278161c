"""archspec from Python, as a notebook user or a library integrator calls it: what each public function takes,
what it raises (archspec's own errors, or a TypeError that names what was expected), and what it leaves alone."""
from __future__ import annotations

import threading
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


# --- train, evaluate, predict from a notebook -------------------------------------------------------------------

DIGITS = ROOT / "specs" / "examples" / "digits-cnn.yaml"


def global_state() -> dict:
    """What a library must leave as the caller set it: the random generators, the plot backend, the threads."""
    import random

    import matplotlib
    import numpy as np
    import torch

    return {"random": random.getstate(), "numpy": np.random.get_state()[1].tolist(),
            "torch": torch.get_rng_state().tolist(), "backend": matplotlib.get_backend(),
            "threads": torch.get_num_threads()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One epoch of digits, trained after the caller seeded its generators and chose a plot backend."""
    pytest.importorskip("torch")
    import random

    import matplotlib
    import numpy as np
    import torch

    backend = matplotlib.get_backend()
    matplotlib.use("pdf")  # the caller's choice (in a notebook: the inline backend)
    random.seed(7), np.random.seed(7), torch.manual_seed(7)
    before = global_state()
    run = archspec.train(DIGITS, epochs=1, out=tmp_path_factory.mktemp("runs") / "digits", quiet=True)
    after = global_state()
    yield run, before, after
    matplotlib.use(backend)


def test_training_leaves_the_callers_generators_and_plot_backend_as_they_were(trained):
    run, before, after = trained
    assert (run.folder.path / "curves.png").stat().st_size > 0
    assert after == before


def test_two_threads_training_at_once_get_the_same_run_as_one_call(trained, tmp_path):
    run, _, _ = trained
    results = {}

    def go(i):
        results[i] = archspec.train(DIGITS, epochs=1, out=tmp_path / str(i), quiet=True).metrics["test_loss"]

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results == {0: run.metrics["test_loss"], 1: run.metrics["test_loss"]}


def test_the_run_that_train_returns_goes_to_evaluate_predict_and_resume(trained, tmp_path):
    from PIL import Image

    run, _, _ = trained
    assert archspec.evaluate(run)["accuracy"] == run.metrics["test_accuracy"]
    assert archspec.evaluate(archspec.load(DIGITS), weights=run)["accuracy"] == run.metrics["test_accuracy"]
    Image.new("L", (8, 8)).save(tmp_path / "blank.png")
    (only,) = archspec.predict(run, images=tmp_path / "blank.png")
    assert only["class"] in run.metrics["classes"]
    assert archspec.train(resume=run, quiet=True).metrics == run.metrics  # nothing left to train
    with pytest.raises(Exception, match="already holds a run"):
        archspec.train(DIGITS, epochs=1, out=run.folder.path, quiet=True)


def test_overrides_may_be_a_mapping_or_one_string(trained):
    run, _, _ = trained
    assert archspec.evaluate(run, sets={"test_fraction": 0.5})["images"] > archspec.evaluate(run)["images"]
    with pytest.raises(Exception, match=r"--set lr=abc: error\[bad-value\]: lr should be a number"):
        archspec.train(DIGITS, sets="lr=abc", quiet=True)


def test_a_spec_train_cannot_read_from_its_file_is_refused_before_training():
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match="this spec was not loaded from one: write the YAML to a file"):
        archspec.train(archspec.load(DIGITS.read_text()))
    edited = archspec.load(DIGITS)
    edited.layers[0].out_channels = 8
    with pytest.raises(ValueError, match="changed after it was loaded from .*digits-cnn.yaml; train"):
        archspec.train(edited)
    with pytest.raises(TypeError, match=r"train\(\) needs a spec file, or resume=RUN_FOLDER"):
        archspec.train()


@pytest.mark.parametrize("images", [None, [object()]], ids=["None", "object"])
def test_predict_of_something_other_than_image_paths_is_a_type_error(trained, images):
    run, _, _ = trained
    with pytest.raises(TypeError, match=r"predict\(\) takes image files or folders \(a path or a list of paths\)"):
        archspec.predict(run, images=images)


def test_every_error_archspec_raises_on_purpose_is_one_catchable_type(trained, tmp_path):
    run, _, _ = trained
    refusals = [lambda: archspec.load(tmp_path / "missing.yaml"),                           # SpecError
                lambda: archspec.render(Q5, layout="XY"),                                    # RenderError
                lambda: archspec.train(DIGITS, epochs=1, out=run.folder.path, quiet=True),  # RunError
                lambda: archspec.train(DIGITS, device="gpu", quiet=True),                    # OverrideError
                lambda: archspec.evaluate(DIGITS)]                                           # InferenceError (weights?)
    for refusal in refusals:
        with pytest.raises(archspec.ArchspecError):
            refusal()


def test_a_run_and_its_folder_print_briefly_in_a_notebook(tmp_path):
    from archspec.training.folders import Run
    from archspec.training.loop import State
    from archspec.training.runfolder import RunFolder

    folder = RunFolder(tmp_path / "r")
    assert repr(folder) == f"RunFolder({str(tmp_path / 'r')!r})"
    done = Run(folder, {"history": [{}, {}], "test_accuracy": 0.9512, "report_split": "test"}, State())
    assert repr(done) == f"Run({str(tmp_path / 'r')!r}, 2 epochs, test accuracy 95.1%)"
    assert repr(Run(folder, None, State())) == f"Run({str(tmp_path / 'r')!r}, unfinished)"
