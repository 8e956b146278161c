"""Grading hand-computed answers: compare given numbers with archspec's own."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from .tables import table


@dataclass(frozen=True)
class AnswerResult:
    key: str  # e.g. 'gradients.w1' or 'output[0][1]'
    given: float
    expected: float | None  # None: archspec computes no such quantity
    rtol: float
    path: tuple = ()  # where the answer sits in the spec

    @property
    def rel_error(self) -> float:
        if self.expected is None:
            return math.inf
        scale = max(abs(self.expected), 1e-12)
        return abs(self.given - self.expected) / scale

    @property
    def ok(self) -> bool:
        """Within rtol of archspec's value, relative to that value (the shown rel. error), so rounding up
        and rounding down are judged alike; a tiny absolute slack (rtol * 1e-3) lets 0 match 0."""
        if self.expected is None:
            return False
        return abs(self.given - self.expected) <= self.rtol * abs(self.expected) + self.rtol * 1e-3

    def to_json(self) -> dict:
        return {"key": self.key, "given": self.given, "expected": self.expected, "correct": self.ok,
                "rel_error": None if self.expected is None else self.rel_error}


def format_results(results: list[AnswerResult], fmt: str = "text", file: str = "<spec>") -> str:
    """The graded table and a summary; an answer archspec computes no value for is 'unknown', not 'wrong'."""
    correct = sum(r.ok for r in results)
    unknown = sum(r.expected is None for r in results)
    wrong = len(results) - correct - unknown
    if fmt == "json":
        return json.dumps({"path": file, "correct": correct, "wrong": wrong, "unknown": unknown,
                           "answers": [r.to_json() for r in results]}, indent=2)
    rows = [[r.key, f"{r.given:g}", "-" if r.expected is None else f"{r.expected:.6g}",
             "-" if r.expected is None else f"{r.rel_error:.2e}",
             "correct" if r.ok else ("unknown key" if r.expected is None else "WRONG")] for r in results]
    summary = (f"{correct} correct, {wrong} wrong" + (f", {unknown} not graded" if unknown else "")
               + f" (rtol {results[0].rtol:g})") if results else "no answers given"
    return table(["answer", "given", "expected", "rel. error", "verdict"], rows, fmt, right={1, 2, 3}) + "\n\n" + summary
