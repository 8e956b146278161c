"""``archspec check`` for equation networks: grade hand-computed numbers against archspec's own."""
from __future__ import annotations

from ..answers import AnswerResult
from ..diagnostics import Diagnostic, did_you_mean
from .solve import solve, to_json

# answers section -> (what its keys name, what the spec must give for archspec to compute it)
SECTIONS = {"forward": ("unit or pre-activation", ()), "outputs": ("output", ()), "loss": (None, ("targets",)),
            "gradients": ("weight or bias", ("targets",)), "deltas": ("unit", ("targets",)),
            "updated": ("weight or bias", ("targets", "learning_rate")),
            "loss_after": (None, ("targets", "learning_rate"))}


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
    return {"forward": [k for u in units for k in (net.pre[u], u)], "outputs": net.outputs, "deltas": units,
            "gradients": net.weights + net.biases, "updated": net.weights + net.biases}[section]


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
                                  f"{' and '.join(lacking)} given, so {'these answers' if what else 'it'} cannot be graded",
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
