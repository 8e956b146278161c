"""Base classes shared by every spec kind (pydantic v2, unknown keys forbidden)."""
from __future__ import annotations

import types
import typing
from pathlib import Path as FsPath
from typing import Annotated, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from .diagnostics import Diagnostic, SpecError
from .kinds import capability
from .limits import SIZE, no_nul, rule_number

PositiveInt = Annotated[int, Field(ge=1, le=SIZE)]  # bounded: sizes multiply into params, MACs and floats
NonNegInt = Annotated[int, Field(ge=0, le=SIZE)]
# int or [h, w]: lists (not tuples) so the YAML language server understands the schema
Pair = Union[PositiveInt, Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]]
NonNegPair = Union[NonNegInt, Annotated[list[NonNegInt], Field(min_length=2, max_length=2)]]
# a file path in a spec: no NUL byte (the OS cannot open one, and Python raises ValueError)
FilePath = Annotated[str, AfterValidator(no_nul)]
# a number in a design rule: finite and within RULE_NUMBER (ranges are enumerated from them)
RuleInt = Annotated[int, AfterValidator(rule_number)]
RuleFloat = Annotated[float, AfterValidator(rule_number)]


def one_line(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


def pair(value) -> tuple[int, int]:
    """5 -> (5, 5); [3, 5] -> (3, 5)."""
    return (value, value) if isinstance(value, int) else (value[0], value[1])


# YAML 1.1's words for true and false: the loader keeps them strings (YAML 1.2), bool fields still take them
YES_NO = {"yes": True, "no": False, "on": True, "off": False, "y": True, "n": False, "true": True, "false": False}


def _only_bool(annotation) -> bool:
    """bool or Optional[bool]; not a union that also takes strings."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)] == [bool]
    return annotation is bool


class Strict(BaseModel):
    """Unknown keys refused and no type coercion: '8' (a string), 10.0 or true where an integer belongs are
    errors (a float field still takes an integer); a bool field also takes yes/no/on/off."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _yes_no(cls, data):
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        words = {k: YES_NO[v.lower()] for k, v in data.items() if isinstance(v, str) and v.lower() in YES_NO
                 and k in fields and _only_bool(fields[k].annotation)}
        return {**data, **words} if words else data


class SpecBase(Strict):
    """Fields every spec has; ``check`` adds semantic diagnostics (pure Python)."""

    version: Annotated[int, Field(ge=1, le=1, description="spec format version")] = 1
    name: str | None = Field(None, description="shown in tables, diagrams and run folders")
    description: str | None = None
    _file: str = PrivateAttr("<spec>")
    _source: object = PrivateAttr(None)  # the loader's SourceMap: places diagnostics found after loading

    def error(self, diagnostics: list[Diagnostic]):
        """A SpecError of problems found after loading (e.g. while computing), at their lines where known."""
        placed = [self._source.place(d) if self._source is not None else d for d in diagnostics]
        return SpecError(placed, self._file)

    @property
    def file(self) -> str:
        return self._file

    @property
    def title(self) -> str:
        """The name (or the file's stem) on one line: a line break or control character in it reads as a space,
        so it cannot break a heading of any output format."""
        return one_line(self.name or FsPath(self._file).stem)

    def check(self) -> list[Diagnostic]:
        return []

    # Jupyter: a spec shows itself as its diagram (SVG), or a note when Graphviz's dot is missing; the drawing
    # comes from the kinds table, so the base model does not depend on it.
    def _repr_mimebundle_(self, include=None, exclude=None):
        show = capability(getattr(self, "kind", None), "display")
        if show is None:
            return {"text/plain": repr(self)}
        return show(self, include, exclude)
