"""File -> report: load, pick the kind, run pydantic (errors worded by ``model_errors``), run semantic checks."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path as FsPath

from pydantic import ValidationError

from .diagnostics import Diagnostic, Report, SpecError, did_you_mean
from .kinds import KINDS, available_kinds, capability, model_for
from .loader import Document, load_file, load_text
from .model_errors import pydantic_diagnostics, value_problem  # noqa: F401 (value_problem: also from here)


def parse_document(doc: Document):
    """Document -> (spec or None, diagnostics). Every problem of the file at once."""
    data = doc.data
    kind = data.get("kind")
    if kind not in available_kinds():
        if kind is None:
            diag = Diagnostic("missing-kind", "spec has no 'kind'", (),
                              hint=f"add 'kind:' with one of: {', '.join(KINDS)}")
        else:
            diag = Diagnostic("unknown-kind", f"unknown kind {kind!r}", ("kind",),
                              hint=did_you_mean(kind, KINDS) or f"known kinds: {', '.join(available_kinds())}")
        return None, [doc.source.place(diag)]
    prepare = capability(kind, "prepare")  # e.g. cnn: expand blocks into layers, placed where written
    if prepare is not None:
        doc, problems = prepare(doc)
        if problems:
            return None, sorted(problems, key=lambda d: (d.line, d.column))
        data = doc.data
    model = model_for(kind)
    try:
        spec = model.model_validate(data, context={"file": doc.file})
    except ValidationError as exc:
        diags = pydantic_diagnostics(exc, data, model)
        placed = [doc.source.place(d, prefer_key=d.code == "unknown-key") for d in diags]
        return None, sorted(placed, key=lambda d: (d.line, d.column))
    spec._file, spec._source = doc.file, doc.source
    return spec, [doc.source.place(d) for d in spec.check()]


def check_text(text: str, file: str = "<spec>") -> Report:
    """The Report (``valid``, ``diagnostics``, ``spec``) of YAML text; ``file`` names it in messages."""
    if not isinstance(text, str):
        raise TypeError(f"check_text() takes YAML text (a str), not {type(text).__name__}"
                        + ("; for a file use check_file()" if isinstance(text, os.PathLike) else ""))
    try:
        doc = load_text(text, file)
    except SpecError as exc:
        return Report(file, exc.diagnostics)
    spec, diags = parse_document(doc)
    return Report(file, diags, spec)


def check_file(path) -> Report:
    """The Report (``valid``, ``diagnostics``, ``spec``) of a spec file (str or os.PathLike); a file that
    cannot be read is an ``unreadable`` diagnostic, not an exception."""
    file = str(path)
    try:
        doc = load_file(path)
    except SpecError as exc:
        return Report(file, exc.diagnostics)
    spec, diags = parse_document(doc)
    return Report(file, diags, spec)


def load(source) -> object:
    """A validated spec from a path (str or os.PathLike) or YAML text (a str with a newline); a spec that is
    already loaded is returned as it is. Raises SpecError (every located diagnostic) or TypeError."""
    from .specbase import SpecBase  # specbase loads pydantic's models (about 85 ms): not on `import archspec`

    if isinstance(source, SpecBase):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"a spec path is a str or os.PathLike, not {type(source).__name__} (a spec may also be "
                        "YAML text or a spec that load() returned)")
    is_text = isinstance(source, str) and "\n" in source
    report = check_text(source) if is_text else check_file(source)
    if not report.valid:
        raise SpecError([_text_hint(d, source) for d in report.diagnostics], report.file)
    return report.spec


def _text_hint(d: Diagnostic, source) -> Diagnostic:
    """'kind: cnn' (one line of YAML, read as a file name that does not exist): say how text is told apart."""
    if d.code == "unreadable" and isinstance(source, str) and ":" in source and not os.path.exists(source):
        return replace(d, hint="YAML text is read as text when it holds a newline; one line is a file name")
    return d


def _yaml_below(folder: FsPath):
    """*.yaml / *.yml files under ``folder``, not descending into hidden folders."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from (FsPath(root) / f for f in files if f.endswith((".yaml", ".yml")) and not f.startswith("."))


def spec_files(paths) -> list[FsPath]:
    """Expand folders to their *.yaml / *.yml files, sorted, skipping hidden ones (.venv, .git,
    .pre-commit-config.yaml); files named on the command line pass through."""
    out = []
    for p in map(FsPath, paths):
        if p.is_dir():
            out += sorted(_yaml_below(p))
        else:
            out.append(p)
    return out
