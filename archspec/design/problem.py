"""What ``archspec design`` reads: a cnn spec or a rules file, plus its ``search:`` block."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path as FsPath

from pydantic import ValidationError, create_model

from ..diagnostics import Diagnostic, SpecError
from ..kinds import fact, model_for
from ..loader import Document, SourceMap, load_file, load_text
from ..model_errors import pydantic_diagnostics
from ..validation import parse_document
from ..cnn.search import SearchConfig
from .moves import Space
from .space import build_space

RULE_PROBLEMS = ("unknown-rule", "bad-rule", "rules-file")  # codes of rules that cannot be searched
GRAPH_NOTE = ("the spec's layers branch or merge (from:), but the search writes sequential designs only "
              "(convs and pools, then the classifier) under its rules and input; "
              "the spec's own layers are not searched")
_SearchDoc = create_model("SearchDoc", search=(SearchConfig, ...))


@dataclass
class Problem:
    """A design exercise: input shape, rules (parsed and as written) and search settings."""

    file: str
    name: str
    input: tuple
    rules: object  # archspec.cnn.rules.Constraints
    raw_rules: dict  # the constraints mapping as the author wrote it (copied into design files)
    search: SearchConfig
    spec: object = None  # the CnnSpec when the file is one (its layers are the student's attempt)
    source: SourceMap | None = None

    def place(self, diag: Diagnostic) -> Diagnostic:
        return self.source.place(diag) if self.source is not None else diag

    @cached_property
    def space(self) -> Space:
        try:
            space = build_space(self.input, self.rules, self.search)
        except SpecError as exc:  # too large to search: at the rule that makes it so
            raise SpecError([self.place(d) for d in exc.diagnostics], self.file) from None
        space.place, space.file = self.place, self.file
        space.problems = [self.place(d) for d in space.problems]
        if self.spec is not None and any(layer.from_ is not None for layer in self.spec.layers):
            space.notes.insert(0, GRAPH_NOTE)
        return space


def _fail(doc: Document, code: str, message: str, path=(), hint=None):
    raise SpecError([doc.source.place(Diagnostic(code, message, path, hint=hint))], doc.file)


def _search(doc: Document, data, owner) -> SearchConfig:
    if getattr(owner, "search", None) is not None:  # the spec model itself knows search:
        return owner.search
    raw = data.get("search")
    if raw is None:
        return SearchConfig()
    try:
        return _SearchDoc.model_validate({"search": raw}).search
    except ValidationError as exc:
        diags = pydantic_diagnostics(exc, {"search": raw}, _SearchDoc)
        raise SpecError([doc.source.place(d, prefer_key=d.code == "unknown-key") for d in diags], doc.file) from None


def from_document(doc: Document) -> Problem:
    """Parse with the kind's own model (so every spec error reads as in ``validate``)."""
    kind = doc.data.get("kind")
    if fact(kind, "design") is None:  # archspec/kinds.py: cnn (a student's attempt) and rules
        _fail(doc, "design-kind", f"archspec design reads a cnn spec or a rules file, not kind {kind!r}",
              ("kind",) if kind is not None else (), hint="kind: rules with input: and constraints:")
    data = dict(doc.data)
    if "search" not in model_for(kind).model_fields:
        data.pop("search", None)  # read here; the spec model does not know the block
    spec, diags = parse_document(Document(data, doc.source, doc.file, doc.text))
    broken_rules = [d for d in diags if d.code in RULE_PROBLEMS]  # a search under them would find nothing
    if spec is None or broken_rules:
        raise SpecError(diags if spec is None else broken_rules, doc.file)
    if getattr(spec, "input", None) is None:
        _fail(doc, "design-input", "archspec design needs the input shape", (),
              hint="add input: [H, W, C], e.g. input: [224, 224, 3]")
    if spec.constraints is None:
        _fail(doc, "design-rules", "archspec design needs design rules and this spec has no constraints: block")
    rules, raw = spec.constraints, doc.data["constraints"]
    if isinstance(raw, str):  # rules kept in their own file
        rules, problems = spec._rules
        if rules is None:
            raise SpecError([doc.source.place(d) for d in problems], doc.file)
        ref = load_file(FsPath(doc.file).parent / raw).data
        raw = ref.get("constraints", ref)
    return Problem(doc.file, spec.title, tuple(spec.input), rules, raw, _search(doc, doc.data, spec),
                   spec if fact(kind, "design") == "attempt" else None, doc.source)


def load_problem(source) -> Problem:
    """A Problem from a path (or YAML text holding a newline); raises SpecError with located diagnostics."""
    text = isinstance(source, str) and "\n" in source
    return from_document(load_text(source) if text else load_file(source))
