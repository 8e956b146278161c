"""The ``train:`` block of a spec (pure pydantic; importing it never imports torch).

It sits beside the spec models, not in ``archspec.training``: the models read it, and that package's
``__init__`` loads specs (``archspec.validation``), so a module inside it would make an import circle."""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, FiniteFloat, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .diagnostics import Diagnostic
from .specbase import FilePath, PositiveInt, Strict

Fraction = Annotated[float, Field(ge=0, lt=1)]
Seed = Annotated[int, Field(ge=0, lt=2**63, description="random seed: an integer from 0 to 2**63 - 1 (torch's range)")]
# checks of one key that read its siblings: an error at the key is also about them (an override names its flag)
CHECKED_WITH = {"test_fraction": ("val_fraction",), "momentum": ("type",), "nesterov": ("type", "momentum")}


class Augment(Strict):
    """Light, label-preserving augmentation applied to training batches only."""

    hflip: bool = Field(False, description="flip half of the training images left-right")
    vflip: bool = Field(False, description="flip half of the training images upside down")


class _Source(Strict):
    """What every data set shares: how it is split, normalised and augmented."""

    val_fraction: Fraction = Field(0.1, description="share of each class held out for validation "
                                   "(early stopping, curves); 0 turns validation off")
    test_fraction: Fraction = Field(0.2, description="share of each class held out for the final test report")
    normalize: Literal["standard", "unit"] = Field(
        "standard", description="standard: (x/255 - mean) / std per channel, from the training split; unit: x/255")
    augment: Augment = Augment()

    @field_validator("test_fraction")
    @classmethod
    def _fractions(cls, test, info: ValidationInfo):
        val = info.data.get("val_fraction", 0.0)
        if val + test >= 1:
            raise PydanticCustomError("value_error", "val_fraction + test_fraction must leave images to train on; "
                                      f"{val:g} + {test:g} = {val + test:g}")
        return test


class Digits(_Source):
    """The 1,797 8x8 handwritten digits bundled with scikit-learn (offline)."""

    type: Literal["digits"]


class ImageFolder(_Source):
    """One sub-folder per class; ``train/``, ``test/`` (and ``val/``) sub-folders are used as given."""

    type: Literal["image_folder"]
    path: Optional[FilePath] = Field(None, description="folder of class sub-folders; relative to the spec file "
                                "(`archspec train --data DIR` sets it from the command line)")
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos"] = "bilinear"


Dataset = Annotated[Union[Digits, ImageFolder], Field(discriminator="type")]


class Optimizer(Strict):
    type: Literal["sgd", "adam", "adamw"] = "adam"
    lr: Annotated[float, Field(gt=0, allow_inf_nan=False, description="learning rate")] = 1e-3
    weight_decay: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    momentum: Annotated[float, Field(ge=0, lt=1, description="sgd only")] = 0.0
    nesterov: bool = Field(False, description="sgd only; needs momentum > 0")

    @field_validator("momentum", "nesterov")
    @classmethod
    def _sgd_only(cls, value, info: ValidationInfo):
        kind = info.data.get("type", "adam")
        if value and kind != "sgd":
            raise PydanticCustomError("value_error", f"{info.field_name} applies to sgd only; {kind} keeps its own "
                                      "moving averages")
        if info.field_name == "nesterov" and value and not info.data.get("momentum"):
            raise PydanticCustomError("value_error", "nesterov needs momentum > 0, e.g. momentum: 0.9")
        return value


class Schedule(Strict):
    """Learning rate per epoch: step (times gamma every step_size epochs) or cosine (to min_lr at the last epoch)."""

    type: Literal["step", "cosine"]
    step_size: PositiveInt = Field(10, description="step: epochs between decays")
    gamma: Annotated[float, Field(gt=0, le=1, description="step: factor per decay")] = 0.1
    min_lr: Annotated[float, Field(ge=0, allow_inf_nan=False, description="cosine: final learning rate")] = 0.0


class EarlyStopping(Strict):
    """Stop when validation loss has not improved by min_delta for patience epochs."""

    patience: PositiveInt = 3
    min_delta: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    restore_best: bool = Field(True, description="keep the weights of the best validation epoch")


class TrainConfig(Strict):
    dataset: Dataset = Digits(type="digits")
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 64
    optimizer: Optimizer = Optimizer()
    schedule: Optional[Schedule] = None
    loss: Literal["cross_entropy", "mse"] = Field(
        "cross_entropy", description="cross_entropy on logits; mse against one-hot targets")
    early_stopping: Optional[EarlyStopping] = None
    seed: Seed = 0
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="auto: cuda when torch sees a GPU, else cpu (mps only when asked for); "
        "`archspec train --device` overrides it")
    precision: Literal["fp32", "bf16", "fp16"] = Field(
        "fp32", description="mixed precision (autocast): bf16 or fp16 (with a gradient scaler) on CUDA, "
        "bf16 on the CPU")
    threads: Optional[PositiveInt] = Field(None, description="CPU threads for torch (default: torch's choice)")
    channels_last: bool = Field(False, description="NHWC memory layout for conv layers (faster on some CPUs/GPUs)")


# --- equation networks: rows of numbers instead of images ------------------------------------------------
class _Rows(Strict):
    """Random (seeded) hold-out of rows for validation and the final report."""

    val_fraction: Fraction = Field(0.0, description="share of the rows held out for validation (0: none)")
    test_fraction: Fraction = Field(0.0, description="share of the rows held out for the final report "
                                    "(0: the report is on the training rows)")

    @field_validator("test_fraction")
    @classmethod
    def _fractions(cls, test, info: ValidationInfo):
        return _Source._fractions(test, info)


Row = Annotated[list[FiniteFloat], Field(min_length=1)]


class Samples(_Rows):
    """Rows written in the spec: one input row per sample (values in the network's input order) and one
    target row (values in its output order)."""

    type: Literal["samples"]
    inputs: Annotated[list[Row], Field(min_length=1, description="e.g. [[0, 0], [0, 1], [1, 0], [1, 1]]")]
    targets: Annotated[list[Row], Field(min_length=1, description="e.g. [[0], [1], [1], [0]]")]


class Csv(_Rows):
    """A CSV file with a header row; the named columns feed the inputs and targets."""

    type: Literal["csv"]
    path: FilePath = Field(description="CSV file with a header row; relative to the spec file")
    inputs: Optional[list[str]] = Field(None, description="columns for the network's inputs, in its input "
                                        "order (default: the input names, e.g. x1, x2)")
    targets: Optional[list[str]] = Field(None, description="columns for the outputs (default: the output names)")
    val_fraction: Fraction = 0.1
    test_fraction: Fraction = 0.2


RowData = Annotated[Union[Samples, Csv], Field(discriminator="type")]
ROW_LOSSES = ("mse", "squared_error", "binary_cross_entropy")


class EquationTrain(Strict):
    """The ``train:`` block of an equation network: its weights and biases learn from rows of numbers."""

    dataset: RowData
    epochs: PositiveInt = 100
    batch_size: PositiveInt = 32
    optimizer: Optimizer = Optimizer()
    schedule: Optional[Schedule] = None
    loss: Literal[ROW_LOSSES] = Field("mse", description="mse: mean of (y - t)^2 over samples and outputs; "
                                      "squared_error: mean over samples of sum_i 1/2 (y_i - t_i)^2 (the spec's l); "
                                      "binary_cross_entropy: outputs in (0, 1), targets in [0, 1]")
    early_stopping: Optional[EarlyStopping] = None
    seed: Seed = 0

    def check(self, net) -> list[Diagnostic]:
        """Row lengths against the network's inputs and outputs, and the loss against its output units."""
        ds, out = self.dataset, []
        where = ("train", "dataset")
        for key, names in (("inputs", net.inputs), ("targets", net.outputs)):
            rows = getattr(ds, key)
            if rows is None:
                continue
            if ds.type == "csv":
                if len(rows) != len(names):
                    out.append(Diagnostic("row-length", f"{len(rows)} {key} column(s) for the network's "
                                          f"{len(names)} {key} ({', '.join(names)})", where + (key,)))
                continue
            for i, row in enumerate(rows):
                if len(row) != len(names):
                    out.append(Diagnostic("row-length", f"{key} row {i} has {len(row)} value(s); the network has "
                                          f"{len(names)} {key[:-1] if key == 'inputs' else 'output'}(s) "
                                          f"({', '.join(names)})", where + (key, i)))
        if ds.type == "samples" and len(ds.inputs) != len(ds.targets):
            out.append(Diagnostic("row-count", f"{len(ds.inputs)} input rows but {len(ds.targets)} target rows: "
                                  "one target row per sample", where + ("targets",)))
        if self.loss == "binary_cross_entropy":
            for o in net.outputs:
                if net.graph.node(o).attrs["activation"] != "sigmoid":
                    out.append(Diagnostic("bad-loss", f"binary_cross_entropy needs outputs in (0, 1), but '{o}' is "
                                          "not a sigmoid unit", ("train", "loss"), hint="use mse"))
            for i, row in enumerate(ds.targets if ds.type == "samples" else []):
                if any(not 0 <= t <= 1 for t in row):
                    out.append(Diagnostic("bad-loss", f"binary_cross_entropy needs targets in [0, 1]. Received: "
                                          f"{row}", where + ("targets", i)))
        return out
