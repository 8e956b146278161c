"""What every CNN layer kind shares: the shape arithmetic (PyTorch's window rule), shape text,
and the ``Layer`` base model with its ``from:`` wiring.

Shapes are tuples in the course's convention: (H, W, C) for feature maps and
(N,) after flatten.
"""
from __future__ import annotations

import re
from typing import ClassVar, Union

from pydantic import ConfigDict, Field

from ..specbase import Strict, pair

Shape = tuple
_BIG = re.compile(r"(?<![\d.])\d{4,}(?![\d.])")  # an integer over 999 (not part of a decimal)
NOT_PARAMETERS = {"type", "name", "from_"}  # model fields that are not torch constructor arguments


def dims(shape: Shape, sep: str = " x ") -> str:
    """(7, 7, 256) -> '7 x 7 x 256'; (12544,) -> '12,544': shapes as people read them."""
    return sep.join(f"{n:,}" for n in shape)


def grouped(text: str) -> str:
    """Shape arithmetic as people read it: 'N: 7 * 7 * 256 = 12544' -> 'N: 7 * 7 * 256 = 12,544'.
    Formulas are stored without separators (JSON, generated code); presenters pass them through this."""
    return _BIG.sub(lambda m: f"{int(m.group()):,}", text)


class ShapeError(Exception):
    """A layer cannot take its input; ``field`` names the parameter to point at."""

    def __init__(self, code: str, message: str, field: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field, self.hint = code, message, field, hint


def window(size: int, k: int, s: int, p_lo: int, p_hi: int, d: int, ceil: bool, axis: str) -> tuple[int, str]:
    """Output length of a sliding window, PyTorch's rule, with the formula shown.

    out = floor((size + p_lo + p_hi - d*(k-1) - 1) / s) + 1   (ceil with ceil_mode,
    minus one when the last window would start past the input plus left padding).
    """
    eff = d * (k - 1) + 1
    num = size + p_lo + p_hi - eff
    rnd = "ceil" if ceil else "floor"
    pad = f"2*{p_lo}" if p_lo == p_hi else f"{p_lo} + {p_hi}"
    if d == 1:
        expr = f"({size} - {k} + {pad}) / {s}"
    else:
        expr = f"({size} + {pad} - {d}*({k} - 1) - 1) / {s}"
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p_lo:
        out -= 1
        formula = f"{rnd}({expr}) + 1 - 1 = {out}  (last window would start in the padding)"
    else:
        formula = f"{rnd}({expr}) + 1 = {out}"
    if out < 1:
        below_one(axis, formula.split(' = ')[0], out)
    return out, formula


def below_one(axis: str, expr: str, out: int):
    raise ShapeError("size-below-one", f"{axis}: {expr} = {out}: output size must be at least 1",
                     hint="use a smaller kernel or stride, more padding, or fewer downsampling layers before it")


class Layer(Strict):
    """Common fields; subclasses override what differs from an identity layer."""

    model_config = ConfigDict(populate_by_name=True)
    name: str | None = Field(None, description="module name; default: type prefix and number, e.g. conv2")
    from_: Union[str, list[str], None] = Field(
        None, alias="from", description="the layer (by name, or 'input') whose output this layer takes; "
                                        "default: the layer before it. Merge layers take a list of two or more")
    prefix: ClassVar[str] = "layer"
    spatial: ClassVar[bool] = False  # needs an H x W x C input
    merge: ClassVar[bool] = False  # takes two or more inputs (add, concat, multiply)

    @classmethod
    def prefix_for(cls, values: dict) -> str:
        """The start of the default name of a layer with these values (conv -> conv1, conv2, ...)."""
        return cls.prefix

    def default_prefix(self) -> str:
        return type(self).prefix_for(self.__dict__)  # the field values as given (no dump: shapes run often)

    def check_settings(self) -> None:
        """Raise ShapeError for a problem no input shape can fix (PyTorch would refuse the module)."""

    def take(self, inputs: list[tuple[str, Shape]]) -> tuple[Shape, list[str]]:
        """Output shape and the arithmetic, for the (name, shape) of each input this layer takes."""
        shape = inputs[0][1]
        if self.spatial and len(shape) != 3:
            raise ShapeError("needs-feature-map", f"{self.type} needs an H x W x C input but receives "
                             f"{dims(shape)}", hint="spatial layers go before flatten")
        return self.output_shape(shape)

    def output_shape(self, shape: Shape) -> tuple[Shape, list[str]]:
        return shape, []

    def params(self, shape: Shape) -> int:
        return 0

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0

    def arguments(self) -> dict:
        """Every parameter value after defaults (lists as written), keyed by PyTorch's names."""
        return self.model_dump(exclude=NOT_PARAMETERS)

    def resolved(self) -> dict:
        """Parameter values after defaults (pairs as (h, w)), for design rules."""
        return {k: (pair(v) if k in ("kernel_size", "stride", "padding", "dilation") and isinstance(v, (int, list))
                    else v)
                for k, v in self.arguments().items()}

    def settings(self) -> str:
        """Non-default parameters as 'k=v' text for tables and diagrams."""
        items = self.model_dump(exclude_defaults=True, exclude=NOT_PARAMETERS)
        return ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in items.items())

    def sources(self) -> list[str] | None:
        """The names under ``from:`` as a list, or None when the layer takes the one before it."""
        return None if self.from_ is None else [self.from_] if isinstance(self.from_, str) else list(self.from_)
