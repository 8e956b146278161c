"""Spec values must have their field's type: no '8' for 8, 10.0 for 10 or true for 1 (pydantic strict mode)."""
from __future__ import annotations

from pathlib import Path

import pytest

from archspec.diagnostics import SpecError
from archspec.training.resolve import OverrideError, resolve
from archspec.validation import check_text, load

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "specs" / "examples" / "digits-cnn.yaml"
CNN = """kind: cnn
input: [28, 28, 1]
layers:
  - {type: conv2d, out_channels: 8, kernel_size: 3}
  - {type: dropout, p: 0.5}
  - {type: flatten}
  - {type: linear, out_features: 10}
train: {epochs: 2, optimizer: {lr: 0.01}}
"""


def only_error(text: str, value: str):
    """The one diagnostic of ``text``, checked to sit on ``value`` in the file."""
    diags = check_text(text).diagnostics
    assert len(diags) == 1, [d.format() for d in diags]
    d = diags[0]
    line = next(i for i, s in enumerate(text.splitlines(), 1) if value in s)
    assert (d.code, d.line, d.column) == ("bad-value", line, text.splitlines()[line - 1].index(value) + 1)
    return d


@pytest.mark.parametrize("old, new, message, hint", [
    ("out_channels: 8", 'out_channels: "8"', ("out_channels should be an integer, not a string. "
                                              "Received: layers[0].out_channels='8'"), "write 8 without quotes"),
    ("out_features: 10", "out_features: 10.0", "out_features should be an integer, not a decimal number",
     "write 10"),
    ("out_channels: 8", "out_channels: true", ("out_channels should be an integer, not a boolean. "
                                               "Received: layers[0].out_channels=true"), None),
    ("epochs: 2", "epochs: 2.5", "epochs should be an integer, not a decimal number", None),
    ("p: 0.5", "p: '0.5'", "p should be a number, not a string", "write 0.5 without quotes"),
    ("lr: 0.01", "lr: true", "lr should be a number, not a boolean", None),
])
def test_wrongly_typed_value_is_a_located_error(old, new, message, hint):
    d = only_error(CNN.replace(old, new), new.split(": ")[1])
    assert message in d.message and d.hint == hint


def test_integers_are_accepted_where_floats_belong():
    spec = load(CNN.replace("p: 0.5", "p: 1").replace("lr: 0.01", "lr: 1"))
    assert spec.layers[1].p == 1.0 and spec.train.optimizer.lr == 1.0
    assert isinstance(spec.train.optimizer.lr, float)


def test_one_error_for_a_bad_item_of_an_int_or_list_value():
    # kernel_size is an int or [h, w]: the bad item is the error, not 'should be an integer' for the list too
    d = only_error(CNN.replace("kernel_size: 3", 'kernel_size: [3, "3"]'), '"3"')
    assert "kernel_size[0]" not in d.message and "layers[0].kernel_size[1]='3'" in d.message


def test_a_misspelt_word_is_not_called_a_wrong_type():
    d = only_error(CNN.replace("kernel_size: 3", "kernel_size: 3, padding: sam"), "sam")
    assert "not a string" not in d.message and "'same' or 'valid'" in d.message
    assert d.hint == "did you mean 'same'?"


def test_other_kinds_are_strict_too():
    eq = "kind: equations\nequations: ['y = sigmoid(w1*x1 + b1)']\ninputs: {x1: '0.2'}\nweights: {w1: 1, b1: 0}\n"
    assert "x1 should be a number, not a string" in only_error(eq, "'0.2'").message
    fm = "kind: feature_map\ninput: [[1, 2], [3, 4]]\noperation: maxpool2d\nkernel_size: 2\nstride: 1.0\n"
    assert "stride should be an integer or a list" in only_error(fm, "1.0").message


def test_yes_and_no_still_work_for_true_and_false():
    spec = load(CNN.replace("kernel_size: 3}", "kernel_size: 3, bias: no}").replace("epochs: 2", "epochs: 2, "
                "channels_last: yes"))
    assert spec.layers[0].bias is False and spec.train.channels_last is True


def test_set_overrides_keep_their_yaml_types():
    r = resolve(DIGITS, epochs=3, sets=["lr=1", "channels_last=true", "device=cpu", "seed=7",
                                        "layers.0.out_channels=4"])
    t = r.train
    assert (t.epochs, t.optimizer.lr, t.channels_last, t.device, t.seed) == (3, 1.0, True, "cpu", 7)
    assert r.spec.layers[0].out_channels == 4


@pytest.mark.parametrize("item, message", [
    ("epochs=2.5", "--set epochs=2.5: error[bad-value]: epochs should be an integer, not a decimal number"),
    ("batch_size='16'", "batch_size should be an integer, not a string"),
])
def test_wrongly_typed_set_override_names_the_flag(item, message):
    with pytest.raises(OverrideError) as exc:
        resolve(DIGITS, sets=[item])
    assert message in str(exc.value)


def test_wrongly_typed_value_in_the_file_keeps_its_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(DIGITS.read_text().replace("epochs: ", "epochs: 1.5 #"))
    with pytest.raises(SpecError) as exc:
        resolve(spec)
    assert exc.value.diagnostics[0].code == "bad-value" and exc.value.diagnostics[0].line > 1
