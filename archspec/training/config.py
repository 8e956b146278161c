"""The ``train:`` block of a spec (pure pydantic; importing it never imports torch)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from ..specbase import PositiveInt, Strict

Fraction = Annotated[float, Field(ge=0, lt=1)]


class Digits(Strict):
    type: Literal["digits"]


class Augment(Strict):
    hflip: bool = False
    vflip: bool = False


class ImageFolder(Strict):
    type: Literal["image_folder"]
    path: Optional[str] = Field(None, description="folder of class sub-folders; relative to the spec file")
    val_fraction: Fraction = 0.1
    test_fraction: Fraction = 0.2
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos"] = "bilinear"
    augment: Augment = Augment()


Dataset = Annotated[Union[Digits, ImageFolder], Field(discriminator="type")]


class Optimizer(Strict):
    type: Literal["sgd", "adam", "adamw"] = "adam"
    lr: Annotated[float, Field(gt=0)] = 1e-3
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.0


class Schedule(Strict):
    type: Literal["step", "cosine"]
    step_size: PositiveInt = 10
    gamma: Annotated[float, Field(gt=0, le=1)] = 0.1


class EarlyStopping(Strict):
    patience: PositiveInt = 3
    min_delta: Annotated[float, Field(ge=0)] = 0.0


class TrainConfig(Strict):
    dataset: Dataset = Digits(type="digits")
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 64
    optimizer: Optimizer = Optimizer()
    schedule: Optional[Schedule] = None
    loss: Literal["cross_entropy", "mse"] = "cross_entropy"
    early_stopping: Optional[EarlyStopping] = None
    seed: int = 0
