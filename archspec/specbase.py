"""Base classes shared by every spec kind (pydantic v2, unknown keys forbidden)."""
from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .diagnostics import Diagnostic

PositiveInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
# int or [h, w]: lists (not tuples) so the YAML language server understands the schema
Pair = Union[PositiveInt, Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]]
NonNegPair = Union[NonNegInt, Annotated[list[NonNegInt], Field(min_length=2, max_length=2)]]


def pair(value) -> tuple[int, int]:
    """5 -> (5, 5); [3, 5] -> (3, 5)."""
    return (value, value) if isinstance(value, int) else (value[0], value[1])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpecBase(Strict):
    """Fields every spec has; ``check`` adds semantic diagnostics (pure Python)."""

    version: Annotated[int, Field(ge=1, le=1, description="spec format version")] = 1
    name: str | None = Field(None, description="shown in tables, diagrams and run folders")
    description: str | None = None
    _file: str = PrivateAttr("<spec>")

    @property
    def file(self) -> str:
        return self._file

    @property
    def title(self) -> str:
        return self.name or FsPath(self._file).stem

    def check(self) -> list[Diagnostic]:
        return []

    # Jupyter: a spec shows itself as its diagram (SVG), or a note when Graphviz's dot is missing.
    def _repr_mimebundle_(self, include=None, exclude=None):
        from .diagrams import mimebundle

        return mimebundle(self, include, exclude)
