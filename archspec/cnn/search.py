"""The ``search:`` block of a design exercise (pure pydantic, so spec models can embed it)."""
from __future__ import annotations

from typing import Literal, Union

from pydantic import Field

from .rules import Bounds
from ..specbase import NonNegInt, PositiveInt, Strict


class SearchConfig(Strict):
    """The ``search:`` block: narrows or widens the choices the rules leave open."""

    kernel_size: Union[PositiveInt, list[PositiveInt], Bounds, None] = Field(
        None, description="conv kernel sizes to try (default: what the rules allow, 1..7 when unbounded)")
    padding: Union[Literal["same-only"], NonNegInt, list[NonNegInt], Bounds, None] = Field(
        None, description="conv paddings to try; same-only: (k - 1) / 2 for odd k (default: 0..max)")
    stride: Union[PositiveInt, list[PositiveInt], Bounds, None] = Field(None, description="conv strides to try")
    out_channels: Union[Literal["doubling"], list[PositiveInt]] = Field(
        "doubling", description="channel plan: doubling from start_channels (the last conv gives the required "
        "channels), or one value per conv")
    start_channels: PositiveInt = 32
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid", "none"] = Field(
        "relu", description="layer after every conv")
    hidden: list[PositiveInt] = Field([], description="hidden linear layers between flatten and the output layer")
    prefer: list[Literal["params", "macs", "memory", "depth"]] = Field(
        [], description="tie-breaks after --by (then: fewer convs, smaller kernels, paddings, strides)")
