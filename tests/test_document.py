"""One document model for every kind's worked solution (archspec.document) and its four writers."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archspec import load
from archspec.document import (Chain, Code, Document, Grid, Heading, Lines, Math, Note, Para, Step, Steps, Strong,
                               Table, User, write)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "archspec"
ONE_OF_EACH_KIND = [ROOT / "specs/seed/q4c-maxpool.yaml", ROOT / "specs/seed/q2-backprop.yaml",
                    ROOT / "specs/seed/q5-architecture.yaml"]  # feature_map, equations, cnn
X1 = Math("x1", "x_{1}")


def _doc() -> Document:
    return Document([Heading([User("a <b> & c_d"), ": worked"], 1), Para(["Given ", Chain(X1, [Math("0.2", "0.2")]),
                     " and ", Code("--steps 2"), "."]), Chain(X1, [Math("1", "1")]), Chain(Math("y", "y"), [X1], "←"),
                     Note(["a ", Strong("conv_1")]), Lines([Math("Y11 = 5", "Y_{11} &= 5")]),
                     Grid(Math("X", "X"), [[Math("1", "1"), Math("-inf", r"-\infty")]]),
                     Table(["k", "v"], [["a", Math("2", "2")]], {1}), Steps([Step([Strong("fc")], [["N: 4"]])])])


def test_markdown_escapes_a_specs_text_and_joins_chains_into_one_list():
    md = write(_doc(), "markdown")
    assert md.startswith("# a &lt;b&gt; &amp; c\\_d: worked\n\nGiven x1 = 0.2 and `--steps 2`.\n\n"
                         "- x1 = 1\n- y ← x1\n\n")
    assert "> a **conv\\_1**" in md and "```\nY11 = 5\n```" in md and "| X | 1 | 2 |" in md
    assert md.endswith("1. **fc**\n   - N: 4")


def test_a_pipe_in_a_specs_text_is_escaped_once_in_a_markdown_table():
    md = write(Document([Table(["layer"], [[User("a|b")], [User("c\\|")]])]), "markdown")
    assert md.splitlines()[2:] == ["| a\\|b |", "| c\\\\\\| |"]  # a\|b; c, an escaped backslash, an escaped pipe


def test_text_has_no_markup_and_underlines_headings():
    text = write(_doc(), "text")
    title = "a <b> & c_d: worked"
    assert text.startswith(f"{title}\n{'=' * len(title)}\n\nGiven x1 = 0.2 and --steps 2.\n\n  x1 = 1\n  y ← x1")
    assert "Note: a conv_1" in text and "  Y11 = 5" in text and not re.search(r"\*\*|`|^#", text, re.M)


def test_latex_escapes_text_and_puts_chains_in_one_align():
    tex = write(_doc(), "latex")
    assert tex.startswith("% archspec explain --format latex: needs \\usepackage{amsmath}\n"
                          "\\section*{a $<$b$>$ \\& c\\_d: worked}\nGiven $x_{1} = 0.2$ and \\texttt{-{}-steps 2}.\n\n"
                          "\\begin{align*}\nx_{1} &= 1 \\\\\ny &\\leftarrow x_{1}\n\\end{align*}\n")
    assert "\\emph{Note:} a \\textbf{conv\\_1}" in tex and "Y_{11} &= 5" in tex and r"-\infty" in tex
    assert "\\begin{tabular}{lr}" in tex and "resizebox" not in tex and "\\item \\textbf{fc} \\\\ N: 4" in tex


def test_a_table_wider_than_the_page_is_scaled_to_it():
    wide = Document([Table([f"column {i}" for i in range(12)], [[f"value {i}" for i in range(12)]])])
    tex = write(wide, "latex")
    assert "\\usepackage{amsmath,graphicx}" in tex and "\\resizebox{\\linewidth}{!}{%\n\\begin{tabular}" in tex
    assert tex.endswith("\\end{tabular}}\n")


def test_json_holds_every_block_and_piece():
    data = json.loads(write(_doc(), "json"))
    assert data["packages"] == ["amsmath"]
    assert [b["type"] for b in data["blocks"]] == ["heading", "para", "chain", "chain", "note", "lines", "grid",
                                                   "table", "steps"]
    assert data["blocks"][0]["pieces"] == [{"user": "a <b> & c_d"}, ": worked"]
    assert data["blocks"][1]["pieces"][1] == {"chain": {"lhs": {"math": "x1", "latex": "x_{1}"}, "rel": "=",
                                                        "items": [{"math": "0.2", "latex": "0.2"}]}}
    assert data["blocks"][3]["rel"] == "←" and data["blocks"][7]["right"] == [1]


@pytest.mark.parametrize("spec", ONE_OF_EACH_KIND, ids=lambda p: p.stem)
def test_every_kind_explains_through_the_one_document(spec):
    """explain's JSON carries the very document the text formats are written from."""
    from archspec.kinds import capability

    s = load(spec)
    explain = capability(s.kind, "explain")
    data = json.loads(explain(s, format="json"))["document"]
    assert data["blocks"][0] == {"type": "heading", "level": 1,
                                 "pieces": [{"user": s.title}, data["blocks"][0]["pieces"][1]]}
    md = explain(s, format="markdown")
    assert md.startswith(f"# {s.title}: ") and md.count("\n#") + 1 == sum(b["type"] == "heading"
                                                                          for b in data["blocks"])


def test_no_kind_writes_a_format_itself():
    """Markdown headings and LaTeX sections come from archspec/document's writers only."""
    found = [f"{p.relative_to(PACKAGE)}:{i}" for p in sorted(PACKAGE.rglob("*.py")) if "document" not in p.parts
             for i, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r"\\\\(sub)?section\*|\\\\begin\{(align|tabular|enumerate)", line)]
    assert not found, found
