"""``answers:`` of a ``kind: cnn`` spec: a student's layer table (H x W x C per layer, parameter counts),
graded exactly by ``archspec check`` against archspec's own shape inference.

    answers:
      shapes: {conv1: [222, 222, 64], pool2: [53, 53, 128], flatten1: [147456], fc1: [10]}
      params: 5307210                 # the total, or per layer: {conv1: 1792, fc1: 1474570}

Layers are found by name (``name:``, or the default conv1, pool2, fc1, ...), never by position.
"""
from __future__ import annotations

from typing import Annotated, Optional, Union

from pydantic import Field

from ..answers import AnswerResult, located
from ..diagnostics import did_you_mean
from ..specbase import NonNegInt, PositiveInt, Strict

ShapeAnswer = Annotated[list[PositiveInt], Field(min_length=1, max_length=3)]


class CnnAnswers(Strict):
    """A hand-made layer table to grade: every number must be exact."""

    shapes: Optional[dict[str, ShapeAnswer]] = Field(
        None, description="layer name -> its output, [H, W, C] (or [N] after flatten), e.g. {pool2: [53, 53, 128]}")
    params: Union[NonNegInt, dict[str, NonNegInt], None] = Field(
        None, description="the total parameter count, or layer name -> its parameter count")


def _unknown(name: str, layers: dict) -> str:
    """Why a named layer has no value: it does not exist (with a did-you-mean), or its shape is unknown."""
    if name in layers:
        return "" if layers[name] is not None else "its shape is unknown after an earlier error"
    return did_you_mean(name, list(layers)) or f"layers: {', '.join(layers)}"


def grade(spec, rtol: float = 0.0) -> list[AnswerResult]:
    """One exact result per answered layer shape and parameter count; a name that is no layer (or a layer whose
    shape an earlier error left unknown) is not graded (expected None, 'unknown key')."""
    report = spec.shapes()
    layers = {info.name: info for info in report.layers}
    answers = spec.answers
    results = []
    for name, shape in (answers.shapes or {}).items():
        path = ("answers", "shapes", name)
        info = layers.get(name)
        results.append(AnswerResult(f"shapes.{name}", tuple(shape), tuple(info.output) if info else None, rtol,
                                    path, where=located(spec, path), hint=_unknown(name, layers)))
    params = answers.params
    if isinstance(params, int):
        total = report.params if report.complete else None
        results.append(AnswerResult("params", params, total, rtol, ("answers", "params"),
                                    where=located(spec, ("answers", "params"))))
    for name, count in (params if isinstance(params, dict) else {}).items():
        path = ("answers", "params", name)
        info = layers.get(name)
        results.append(AnswerResult(f"params.{name}", count, info.params if info else None, rtol, path,
                                    where=located(spec, path), hint=_unknown(name, layers)))
    return results
