"""Grading a hand-computed output map (``answers:``) cell by cell for ``archspec check``."""
from __future__ import annotations

from ..answers import AnswerResult, located, written_text
from .compute import output
from .maps import as_float, parse_map


def grade(spec, rtol: float) -> list[AnswerResult]:
    """One result per answered cell, keyed Y[i][j] (1-based; Y[c][i][j] for several channels).

    ``check`` has already made sure the answers map has the output's size.
    """
    given = parse_map(spec.answers, ("answers",), "answers")[0]
    want = output(spec)
    multi, three_d = len(want) > 1, _is_3d(spec.answers)
    results = []
    for c, grid in enumerate(given):
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                key = f"Y[{c + 1}][{i + 1}][{j + 1}]" if multi else f"Y[{i + 1}][{j + 1}]"
                path = ("answers", c, i, j) if three_d else ("answers", i, j)
                results.append(AnswerResult(key, as_float(value), as_float(want[c][i][j]), rtol, path,
                                            written_text(spec, path, value), None, located(spec, path)))
    return results


def _is_3d(value) -> bool:
    return isinstance(value[0], list) and bool(value[0]) and isinstance(value[0][0], list)
