"""Graph CNNs (from:, merges) train, resume bit-identically, evaluate, predict and export as stacks do."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from archspec.training import loop
from archspec.training.runfolder import load_tensors
import test_train

GRAPH = """\
kind: cnn
name: tiny-graph
input: [16, 16, 1]
layers:
  - {type: conv2d, name: stem, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: batchnorm2d}
  - {type: relu, name: act}
  - {type: conv2d, name: wide, out_channels: 4, kernel_size: 3, padding: 1}
  - {type: conv2d, name: narrow, from: act, out_channels: 4, kernel_size: 1}
  - {type: concat, name: both, from: [wide, narrow]}
  - {type: add, name: res, from: [both, act]}
  - {type: maxpool2d, kernel_size: 2}
  - {type: flatten}
  - {type: dropout, p: 0.1}
  - {type: linear, out_features: 3}
train:
  dataset: {type: image_folder, val_fraction: 0.2, test_fraction: 0.25, augment: {hflip: true}}
  epochs: 3
  batch_size: 8
  optimizer: {type: adam, lr: 0.003}
  seed: 5
"""

folder = test_train.folder  # the fixture: 3 classes of synthetic images and the usual debris


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "graph.yaml"
    path.write_text(GRAPH)
    return path


def test_a_graph_trains_resumes_bit_identically_and_evaluates(cli, spec, folder, tmp_path, monkeypatch):
    full, cut = tmp_path / "full", tmp_path / "cut"
    r = cli("train", spec, "--data", folder, "--out", full)
    assert r.code == 0, r.err
    assert json.loads((full / "metrics.json").read_text())["test_accuracy"] > 0.5  # 3 classes: chance is 1/3
    real = loop.run_epoch

    def ctrl_c_in_epoch_3(*args, **kwargs):
        if args[7] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "run_epoch", ctrl_c_in_epoch_3)
    assert cli("train", spec, "--data", folder, "--out", cut).code == 130
    monkeypatch.setattr(loop, "run_epoch", real)
    assert cli("train", "--resume", cut).code == 0
    a, b = load_tensors(full / "model.safetensors")[0], load_tensors(cut / "model.safetensors")[0]
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert "stem.weight" in a and "narrow.weight" in a  # state_dict keys are the spec's layer names
    r = cli("evaluate", full)
    assert r.code == 0 and "accuracy" in r.out
    image = next(Path(folder, "hstripes").glob("*.png"))
    r = cli("predict", full, image)
    assert r.code == 0 and image.name in r.out
    r = cli("compile", full, "--onnx", tmp_path / "g.onnx", "--code", tmp_path / "g.py", "-q")
    assert r.code == 0, r.err
    import onnx

    onnx.checker.check_model(onnx.load(str(tmp_path / "g.onnx")))
