"""What ``archspec serve`` answers, computed by the library: YAML text -> diagnostics, shapes, SVG, solution.

Every answer is a plain dict ready for JSON; nothing here knows about HTTP (``server.py`` does).
"""
from __future__ import annotations

from ..diagnostics import ArchspecError, errors
from ..diagrams import LAYOUTS, RenderError, render
from ..diagrams.output import GraphvizMissing, RenderFailed, image
from ..kinds import capability, fact
from ..validation import check_text

DOT_TIMEOUT = 10.0  # seconds: a spec of thousands of layers still draws; a pathological graph is stopped
RULE_CODES = ("rule-",)  # diagnostics of design rules, which `validate --suggest` repairs


def check(text: str, file: str = "<spec>", grads: bool = False, layout: str | None = None) -> dict:
    """``{"kind", "diagnostics", "suggestions", "shapes", "svg", "notes"}`` for YAML text.

    ``diagnostics`` as ``validate --format json`` (every one with a ``hint``, null when none); ``shapes`` as
    ``shapes --format json`` for a cnn (else null); ``svg`` the kind's diagram as ``render`` draws it (null when
    the text does not parse or the kind has none; ``notes`` say why); ``grads``: equations with values also
    show dl/dw; ``layout`` "LR" or "TB" (else the kind's default). ``file`` resolves relative paths in the
    spec (``constraints: ../rules/x.yaml``).
    """
    report = check_text(text, file)
    spec, notes = report.spec, []
    out = {"kind": getattr(spec, "kind", None), "diagnostics": [_diagnostic(d) for d in report.diagnostics],
           "suggestions": _suggestions(report), "shapes": None, "svg": None, "notes": notes}
    if spec is None:
        return out
    if hasattr(spec, "shapes"):
        out["shapes"] = _shapes(spec, notes)
    out["svg"] = _svg(spec, report, _options(spec, grads, layout), notes)
    return out


def _diagnostic(d) -> dict:
    return {"hint": None, **d.to_json()}


def _suggestions(report) -> list[str]:
    """`validate --suggest`'s repairs when a cnn breaks its design rules, else []."""
    if not any(d.code.startswith(RULE_CODES) for d in errors(report.diagnostics)):
        return []
    from ..design.repair import report_suggestions  # the design search loads only for a spec that needs it

    return report_suggestions(report) or []


def _shapes(spec, notes: list) -> dict | None:
    try:
        return spec.shapes().to_json()
    except ArchspecError as exc:
        notes.append(f"no shape table: {exc}")
        return None


def _options(spec, grads: bool, layout: str | None) -> list[dict]:
    """Render options to try, best first: equations show their values (and dl/dw on request) when they have
    them, and fall back to the bare network when they do not."""
    base = {"layout": layout} if layout in LAYOUTS else {}
    takes = fact(spec.kind, "render_options", ())  # equations draw forward values (and gradients) when they can
    tries = [{"values": True, "grads": grads}, {}] if "values" in takes else [{}]
    return [{**base, **extra} for extra in tries]


def _svg(spec, report, tries: list[dict], notes: list) -> str | None:
    if capability(spec.kind, "render") is None:
        notes.append(f"kind '{spec.kind}' has no diagram")
        return None
    if not report.valid and not fact(spec.kind, "draws_invalid"):
        return None
    why = None
    for options in tries:
        try:
            graph = render(spec, **options)
        except RenderError as exc:
            why = str(exc)
            continue
        try:
            return _inline(image(graph, "svg", timeout=DOT_TIMEOUT).decode("utf-8"))
        except (GraphvizMissing, RenderFailed) as exc:
            notes.append(f"no diagram: {exc}")
            return None
    notes.append(f"no diagram: {why}")
    return None


def _inline(svg: str) -> str:
    """dot's SVG without its XML declaration and DOCTYPE, for inline use in the page."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def solution(text: str, file: str = "<spec>") -> dict:
    """``{"markdown": the worked solution}`` (as ``explain``), or ``{"markdown": null, "error": why}``."""
    report = check_text(text, file)
    if not report.valid:
        return {"markdown": None, "error": "the spec has errors: fix them to get its worked solution"}
    explain = capability(report.spec.kind, "explain")
    if explain is None:
        return {"markdown": None, "error": f"kind '{report.spec.kind}' has no worked solution"}
    try:
        return {"markdown": explain(report.spec, format="markdown")}
    except ArchspecError as exc:
        return {"markdown": None, "error": str(exc)}
