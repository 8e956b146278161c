"""``archspec check`` for equation networks: grade hand-computed numbers against archspec's own."""
from __future__ import annotations

from ..answers import AnswerResult
from .solve import solve, to_json


def expected_values(spec) -> dict[str, float | None]:
    """'section.name' (or 'loss') -> archspec's value, keyed like ``explain --format json``."""
    data = to_json(solve(spec))
    out: dict[str, float | None] = {}
    for section, value in data.items():
        if isinstance(value, dict):
            for name, v in value.items():
                out[f"{section}.{name}"] = v["value"] if isinstance(v, dict) else v
        else:
            out[section] = value
    return out


def grade(spec, rtol: float = 1e-3) -> list[AnswerResult]:
    """One result per given answer; a key archspec does not compute gets expected=None (reported as unknown)."""
    expected = expected_values(spec)
    results = []
    for section, given in spec.answers.model_dump(exclude_none=True).items():
        items = given.items() if isinstance(given, dict) else [(None, given)]
        for name, value in items:
            key = section if name is None else f"{section}.{name}"
            path = ("answers", section) if name is None else ("answers", section, name)
            results.append(AnswerResult(key, float(value), expected.get(key), rtol, path))
    return results
