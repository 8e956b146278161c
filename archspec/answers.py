"""Grading hand-computed answers: compare given numbers with archspec's own.

The rule (``RULE``, printed by ``archspec check``): an answer is correct when it equals archspec's value
to the digits it is written with, or lies within ``rtol`` of it. Quantities that a step of gradient
descent changes only a little (an updated weight, the loss and the forward pass after the step) are
judged by their change from the value before the step, so a slip carried into them is caught.
A number written without a decimal point gets no rounding allowance; shapes and parameter counts
must be exact.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .tables import table

RULE = ("An answer is correct when it equals archspec's value to the digits it is written with (0.20006 for "
        "0.2000617, but not 0.200060138), or is within rtol of it; an updated weight, the loss after the step and "
        "the forward pass after it are judged by their change from the value before the step (so a slip carried "
        "into them is caught), and their digits must show that change. A number written without a decimal point "
        "gets no rounding allowance; shapes and parameter counts must be exact.")
ABS_SLACK = 1e-12  # lets 0 match 0 (and float noise around it)


def half_unit(written: str | None) -> float | None:
    """Half a unit in the last place of a number as written ('0.20006' -> 5e-6); None for an integer
    written without a decimal point or exponent (an exact claim) or text that is no number."""
    if not written or not any(c in written for c in ".eE"):
        return None
    try:
        exponent = Decimal(written.strip()).as_tuple().exponent
    except InvalidOperation:
        return None
    return 0.5 * 10.0 ** exponent if isinstance(exponent, int) else None


@dataclass(frozen=True)
class AnswerResult:
    key: str  # e.g. 'gradients.w1' or 'output[0][1]'
    given: float | tuple
    expected: float | tuple | None  # None: archspec computes no such quantity
    rtol: float
    path: tuple = ()  # where the answer sits in the spec
    written: str | None = None  # the number's text in the spec (its digits count); None: exact claim
    before: float | None = None  # judged by the change from this value (an updated weight, the loss after)
    where: tuple | None = None  # (line, column) in the spec file
    hint: str = ""  # why an answer is not graded ("did you mean 'pool2'?")

    @property
    def exact(self) -> bool:
        return isinstance(self.given, tuple) or isinstance(self.expected, tuple) or (
            isinstance(self.given, int) and isinstance(self.expected, int))

    @property
    def scale(self) -> float:
        """What the answer is judged against: the value, or its change from the value before the step."""
        return abs(self.expected - self.before) if self.before is not None else abs(self.expected)

    @property
    def rel_error(self) -> float:
        if self.expected is None:
            return math.inf
        if self.exact:
            return 0.0 if self.given == self.expected else math.inf
        return abs(self.given - self.expected) / max(self.scale, 1e-12)

    def _digits_show(self) -> bool | None:
        """True: equal to archspec's value to the written digits, and they resolve what is judged; False: equal,
        but too few digits to show it (0.2 for a weight that moved by 6e-5); None: not equal to those digits."""
        h = half_unit(self.written)
        if h is None or abs(self.given - self.expected) > h * (1 + 1e-9):
            return None
        return h < self.scale

    @property
    def ok(self) -> bool:
        if self.expected is None:
            return False
        if self.exact:
            return self.given == self.expected
        return self._within_rtol() or bool(self._digits_show())

    def _within_rtol(self) -> bool:
        return abs(self.given - self.expected) <= self.rtol * self.scale + ABS_SLACK

    @property
    def verdict(self) -> str:
        if self.expected is None:
            return f"unknown key ({self.hint})" if self.hint else "unknown key"
        if self.ok:
            return "correct" if self.exact or self._within_rtol() else "correct (to its digits)"
        return "WRONG (too few digits)" if self._digits_show() is False else "WRONG"

    @property
    def judged_by(self) -> str:
        return "exact" if self.exact else "value" if self.before is None else f"change from {self.before:.10g}"

    def to_json(self) -> dict:
        out = {"key": self.key, "given": _plain(self.given), "expected": _plain(self.expected), "correct": self.ok,
               "rel_error": None if self.expected is None or self.exact else self.rel_error,
               "judged_by": "exact" if self.exact else "value" if self.before is None else "change",
               "verdict": self.verdict}
        if self.written is not None:
            out["written"] = self.written
        if self.before is not None:
            out["before"] = self.before
        if self.where:
            out["line"], out["column"] = self.where
        return out


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def show(value, written: str | None = None) -> str:
    """A value as the table shows it: 53 x 53 x 128, 147,456, 0.200062 (two digits more than the answer
    it is compared with was written with, at least 6)."""
    if isinstance(value, tuple):
        return " x ".join(str(v) for v in value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        digits = len(Decimal(written).as_tuple().digits) + 2 if written else 6
    except InvalidOperation:
        digits = 6
    return f"{value:.{min(max(digits, 6), 12)}g}"


def written_text(spec, path: tuple, value) -> str | None:
    """How the answer at ``path`` is written in the spec file ('0.20006'); a float given from Python counts
    with the digits of its shortest repr; an int is an exact claim."""
    source = getattr(spec, "_source", None)
    text = getattr(source, "numbers", {}).get(tuple(path)) if source is not None else None
    if text is not None:
        return text
    return repr(float(value)) if isinstance(value, float) else None


def located(spec, path: tuple) -> tuple | None:
    source = getattr(spec, "_source", None)
    return source.position(path) if source is not None else None


def format_results(results: list[AnswerResult], fmt: str = "text", file: str = "<spec>") -> str:
    """The graded table, a summary and the rule; an answer archspec computes no value for is 'unknown',
    not 'wrong'."""
    correct = sum(r.ok for r in results)
    unknown = sum(r.expected is None for r in results)
    wrong = len(results) - correct - unknown
    rtol = results[0].rtol if results else 0.0
    if fmt == "json":
        return json.dumps({"path": file, "correct": correct, "wrong": wrong, "unknown": unknown, "rtol": rtol,
                           "rule": RULE, "answers": [r.to_json() for r in results]}, indent=2)
    rows = [[r.key, r.written or show(r.given), "-" if r.expected is None else show(r.expected, r.written),
             "-" if r.expected is None or r.exact else f"{r.rel_error:.2e}",
             "-" if r.expected is None else r.judged_by, r.verdict,
             f"{file}:{r.where[0]}:{r.where[1]}" if r.where else "-"] for r in results]
    summary = (f"{correct} correct, {wrong} wrong" + (f", {unknown} not graded" if unknown else "")
               + (" (exact)" if all(r.exact for r in results) else f" (rtol {rtol:g})")) if results \
        else "no answers given"
    headers = ["answer", "given", "expected", "rel. error", "judged by", "verdict", "where"]
    return table(headers, rows, fmt, right={1, 2, 3}) + "\n\n" + summary + "\n" + RULE
