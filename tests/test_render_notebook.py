"""Notebook display: archspec.diagrams.mimebundle (what SpecBase._repr_mimebundle_ returns)."""
from __future__ import annotations

from pathlib import Path

from archspec.diagrams import mimebundle
from archspec.validation import load
from test_render_dot import needs_dot

Q6 = Path(__file__).resolve().parent.parent / "specs" / "seed" / "q6-design.yaml"


@needs_dot
def test_bundle_has_the_svg():
    bundle = mimebundle(load(Q6))
    assert "<svg" in bundle["image/svg+xml"] and "q6&#45;design" in bundle["image/svg+xml"]  # dot writes - as &#45;
    assert bundle["text/plain"].startswith("CnnSpec(")
    assert set(mimebundle(load(Q6), include={"text/plain"})) == {"text/plain"}
    assert set(mimebundle(load(Q6), exclude={"image/svg+xml"})) == {"text/plain"}


def test_without_graphviz_a_note_not_a_traceback(monkeypatch):
    monkeypatch.setenv("PATH", "")
    bundle = mimebundle(load(Q6))
    assert set(bundle) == {"text/plain"}
    assert "no diagram: writing SVG needs Graphviz's 'dot' program" in bundle["text/plain"]
