"""DOT building blocks: escaping of every label, safe deterministic ids; a small DOT reader
the other render tests use (node ids are identifiers, labels are HTML-like, so a regex suffices)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from archspec.diagrams.dot import Ids, html, number, rows, text, wrapped

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' binary not on PATH: image rendering not tested")

_STMT = re.compile(r"^\t+(?P<a>[A-Za-z_][A-Za-z0-9_]*)(?: -> (?P<b>[A-Za-z_][A-Za-z0-9_]*))?(?: \[(?P<attrs>.*)\])?$")


def _label(attrs: str) -> str:
    """The HTML label markup inside ``label=<...>`` (balanced angle brackets)."""
    start = attrs.find("label=<")
    if start < 0:
        return ""
    depth, i = 0, start + len("label=")
    for j in range(i, len(attrs)):
        depth += {"<": 1, ">": -1}.get(attrs[j], 0)
        if depth == 0:
            return attrs[i + 1:j]
    raise AssertionError(f"unbalanced label in {attrs!r}")


def _css(attrs: str) -> set[str]:
    m = re.search(r'(?:^| )class=(?:"([^"]*)"|(\w+))', attrs.replace(_label(attrs), ""))
    return set((m.group(1) or m.group(2)).split()) if m else set()


def plain(markup: str) -> str:
    """Label markup -> its visible text (tags dropped, entities decoded, line breaks as spaces)."""
    import html as h

    return " ".join(h.unescape(re.sub(r"<[^>]*>", " ", markup)).replace("\\\\", "\\").split())


def parse_dot(source: str):
    """DOT text of archspec -> (nodes {id: (classes, label)}, edges [(src, dst, classes, label)])."""
    nodes, edges = {}, []
    for line in source.splitlines():
        m = _STMT.match(line)
        if not m or m.group("a") in ("node", "edge", "graph"):
            continue
        attrs = m.group("attrs") or ""
        if m.group("b"):
            edges.append((m.group("a"), m.group("b"), _css(attrs), _label(attrs)))
        elif attrs:
            nodes[m.group("a")] = (_css(attrs), _label(attrs))
    return nodes, edges


HOSTILE = ['"', '"]; a -> b; c [label="x', "<b>x</b>", "</TD></TR></TABLE>>]; e -> f", "{rank=same}", "x\ny",
           "back\\", "\\N \\G \\L", "&amp; &", "'", "]", "}", "\t\r\x01\x7f", "σ ReLU ∂l/∂w", ""]


@pytest.mark.parametrize("name", HOSTILE)
def test_text_has_no_markup_or_statement_breakers(name):
    out = text(name)
    assert not re.search(r'[<>"]', out.replace("<BR/>", "")), out
    assert "\n" not in out and "\x01" not in out
    assert re.sub(r"\\\\", "", out).count("\\") == 0  # every backslash doubled: no \N, \G expansion


def test_text_round_trips_through_plain():
    assert plain(rows([text('a"<b>&\\N')])) == 'a"<b>&\\N'
    assert plain(rows([text("two\nlines")])) == "two lines"


def test_ids_deterministic_unique_and_safe():
    ids = Ids()
    names = ["conv1", "conv 1", "conv-1", "node", "graph", "", '"x"', "conv1"]
    got = [ids(n) for n in names]
    assert got[0] == got[-1] == "n_conv1"
    assert len(set(got[:-1])) == len(names) - 1
    assert all(re.fullmatch(r"n_[A-Za-z0-9_]*", g) for g in got)
    again = Ids()
    assert [again(n) for n in names] == got  # same order, same ids
    fresh = Ids()
    assert fresh.new("a") != fresh.new("a")  # duplicate layer names stay two nodes
    assert len(Ids()("x" * 500)) < 50


def test_wrapped_and_number():
    assert wrapped("aaa bbb ccc", 7) == "aaa bbb<BR/>ccc"
    assert wrapped("<a> <b>", 3) == "&lt;a&gt;<BR/>&lt;b&gt;"
    assert number(0.30000000000000004) == "0.3" and number(-0.0) == "0" and number(1234567) == "1.235e+06"
    assert html("x") == "<x>"


@needs_dot
@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=3))
def test_any_text_is_a_valid_label_for_dot(names):
    import graphviz

    g = graphviz.Digraph()
    ids = Ids()
    for i, n in enumerate(names):
        g.node(ids.new(n), html(rows([text(n), wrapped(n, 5)])))
    svg = subprocess.run(["dot", "-Tsvg"], input=g.source.encode(), capture_output=True, timeout=30)
    assert svg.returncode == 0, svg.stderr.decode()
    assert svg.stdout.decode().count('class="node"') == len(names)
