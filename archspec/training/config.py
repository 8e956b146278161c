"""The ``train:`` block of a spec (pure pydantic; importing it never imports torch)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from ..specbase import PositiveInt, Strict

Fraction = Annotated[float, Field(ge=0, lt=1)]


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
    path: Optional[str] = Field(None, description="folder of class sub-folders; relative to the spec file "
                                "(`archspec train --data DIR` sets it from the command line)")
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos"] = "bilinear"


Dataset = Annotated[Union[Digits, ImageFolder], Field(discriminator="type")]


class Optimizer(Strict):
    type: Literal["sgd", "adam", "adamw"] = "adam"
    lr: Annotated[float, Field(gt=0, description="learning rate")] = 1e-3
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
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
    min_lr: Annotated[float, Field(ge=0, description="cosine: final learning rate")] = 0.0


class EarlyStopping(Strict):
    """Stop when validation loss has not improved by min_delta for patience epochs."""

    patience: PositiveInt = 3
    min_delta: Annotated[float, Field(ge=0)] = 0.0
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
    seed: int = 0
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="auto: cuda when torch sees a GPU, else cpu (mps only when asked for); "
        "`archspec train --device` overrides it")
    precision: Literal["fp32", "bf16", "fp16"] = Field(
        "fp32", description="bf16/fp16: mixed precision (autocast; fp16 with a gradient scaler), CUDA only")
    threads: Optional[PositiveInt] = Field(None, description="CPU threads for torch (default: torch's choice)")
    channels_last: bool = Field(False, description="NHWC memory layout for conv layers (faster on some CPUs/GPUs)")
