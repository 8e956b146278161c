"""``archspec check`` for equation networks: grade hand-computed numbers against archspec's own."""
from __future__ import annotations

from ..answers import AnswerResult, located, written_text
from ..diagnostics import Diagnostic, did_you_mean
from .solve import solve, to_json

# answers section -> (what its keys name, what the spec must give for archspec to compute it)
_STEP = ("targets", "learning_rate")
SECTIONS = {"forward": ("unit or pre-activation", ()), "outputs": ("output", ()), "loss": (None, ("targets",)),
            "gradients": ("weight or bias", ("targets",)), "deltas": ("unit", ("targets",)),
            "updated": ("weight or bias", _STEP), "loss_after": (None, _STEP),
            "forward_after": ("unit or pre-activation", _STEP), "outputs_after": ("output", _STEP)}
# a section the step changes only a little -> the section (or None: the given values) holding the value before
# the step: such answers are judged by their change from it
BEFORE = {"updated": None, "loss_after": "loss", "forward_after": "forward", "outputs_after": "outputs"}


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


def _names(net, section: str) -> list[str]:
    """The keys archspec computes in ``section`` (as ``explain --format json`` writes them)."""
    units = [n.id for n in net.neurons]
    forward = [k for u in units for k in (net.pre[u], u)]
    return {"forward": forward, "forward_after": forward, "outputs": net.outputs, "outputs_after": net.outputs,
            "deltas": units, "gradients": net.weights + net.biases, "updated": net.weights + net.biases}[section]


def key_diagnostics(spec, net) -> list[Diagnostic]:
    """A warning at every answer archspec cannot grade: a key naming nothing, or a section it does not compute."""
    out = []
    given = spec.answers.model_dump(exclude_none=True)
    for section, value in given.items():
        what, needs = SECTIONS[section]
        lacking = (["values for every input, weight and bias"] if not spec.numeric() else []) + [
            n for n in needs if getattr(spec, n) is None]
        if lacking:
            out.append(Diagnostic("unknown-answer", f"archspec computes '{section}' only with "
                                  f"{' and '.join(lacking)} given, so {'these answers' if what else 'it'} "
                                  "cannot be graded",
                                  ("answers", section), severity="warning",
                                  hint=f"give {' and '.join(lacking)}"))
            continue
        names = _names(net, section) if what else []
        for name in value if what else []:
            if name not in names:
                out.append(Diagnostic("unknown-answer", f"'{name}' names no {what} of the network, so this answer "
                                      "cannot be graded", ("answers", section, name), severity="warning",
                                      hint=did_you_mean(name, names) or f"{section}: {', '.join(names)}"))
    return out


def _before(expected: dict, initial: dict, section: str, name: str | None) -> float | None:
    """archspec's value before the step of an answer judged by its change (None: judged by its value)."""
    if section not in BEFORE:
        return None
    source = BEFORE[section]
    if source is None:
        return initial.get(name)
    return expected.get(source if name is None else f"{source}.{name}")


def grade(spec, rtol: float = 1e-3) -> list[AnswerResult]:
    """One result per given answer; a key archspec does not compute gets expected=None (reported as unknown)."""
    expected = expected_values(spec)
    initial = spec.values() if spec.numeric() else {}
    results = []
    for section, given in spec.answers.model_dump(exclude_none=True).items():
        items = given.items() if isinstance(given, dict) else [(None, given)]
        for name, value in items:
            key = section if name is None else f"{section}.{name}"
            path = ("answers", section) if name is None else ("answers", section, name)
            want = expected.get(key)
            results.append(AnswerResult(key, float(value), want, rtol, path, written_text(spec, path, value),
                                        _before(expected, initial, section, name) if want is not None else None,
                                        located(spec, path)))
    return results
