"""File -> located diagnostics: load, pick the kind, run pydantic, run semantic checks."""
from __future__ import annotations

import os
import re
import typing
from dataclasses import replace
from pathlib import Path as FsPath

from pydantic import BaseModel, ValidationError

from .diagnostics import Diagnostic, Report, SpecError, did_you_mean, path_text, shown
from .cnn.equivalents import equivalent
from .kinds import KINDS, available_kinds, model_for
from .loader import Document, load_file, load_text


def _data_path(data, loc: tuple, missing: bool = False) -> tuple:
    """Drop pydantic's union tags from an error location by walking the real data.

    Only a ``missing`` error may end at a key the data lacks; for any other error a
    last part that is not in the data is a union member's tag, e.g. 'list[str]'.
    """
    path, cur = [], data
    for i, part in enumerate(loc):
        if isinstance(cur, dict) and part in cur:
            path.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            path.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and (i < len(loc) - 1 or not missing):
            continue  # a tag such as 'conv2d' or 'function-after[...]'
        elif isinstance(part, str) and cur is not _GONE and not isinstance(cur, dict):
            continue  # a union member's tag under a scalar or list, e.g. 'constrained-int'
        else:
            path.append(part)
            cur = _GONE
    return tuple(path)


_GONE = object()  # the walk left the data (a missing key)


def _type_error(err) -> bool:
    """A union member rejecting the value's type: the least useful of a union's errors."""
    return err["type"].endswith("_type") or err["type"] in ("literal_error", "list_type")


def _unwrap(tp):
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _union_members(tp) -> list:
    tp = _unwrap(tp)
    if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [_unwrap(a) for a in typing.get_args(tp)]
    return [tp]


def _type_at(model: type, loc: tuple):
    """The annotation of the value at ``loc`` (pydantic union tags followed), or None."""
    tp = model
    for part in loc:
        members = _union_members(tp)
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        tagged = [m for m in models if "type" in m.model_fields and part in typing.get_args(m.model_fields["type"].annotation)]
        if tagged:
            tp = tagged[0]
            continue
        nxt = None
        for m in members:
            if isinstance(m, type) and issubclass(m, BaseModel) and part in m.model_fields:
                nxt = m.model_fields[part].annotation
            elif typing.get_origin(m) is list and isinstance(part, int):
                nxt = typing.get_args(m)[0]
            elif typing.get_origin(m) is dict and not isinstance(part, int):
                nxt = typing.get_args(m)[1]
            if nxt is not None:
                break
        if nxt is None:
            return None
        tp = nxt
    return tp


def _model_at(model: type, loc: tuple):
    """The pydantic model class that owns the last key of ``loc`` (for typo hints)."""
    models = [m for m in _union_members(_type_at(model, loc[:-1])) if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if len(models) == 1 else None


def _tags(model: type, loc: tuple) -> list[str]:
    """The 'type' values a tagged union at ``loc`` accepts."""
    members = _union_members(_type_at(model, loc))
    return [t for m in members if isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields
            for t in typing.get_args(m.model_fields["type"].annotation)]


# pydantic's type errors (strict: no coercion) -> what the field takes, in words
TAKES = {"int_type": "an integer", "float_type": "a number", "bool_type": "true or false", "string_type": "a string",
         "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
         "model_attributes_type": "a mapping"}
GIVEN = ((bool, "a boolean"), (int, "an integer"), (float, "a decimal number"), (str, "a string"),
         (list, "a list"), (dict, "a mapping"), (type(None), "null"))
_NUMBER = re.compile(r"\s*[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\s*\Z")
# (error type, received value matches) -> the fix
TYPE_HINTS = (
    ("int_type", lambda v: isinstance(v, str) and re.fullmatch(r"\s*[-+]?[0-9]+\s*", v),
     lambda v: f"write {v.strip()} without quotes"),
    ("float_type", lambda v: isinstance(v, str) and _NUMBER.match(v), lambda v: f"write {v.strip()} without quotes"),
    ("int_type", lambda v: isinstance(v, float) and v.is_integer(), lambda v: f"write {int(v)}"),
    ("string_type", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), lambda v: f"quote it: '{v}'"),
)


def _explained(err, path: tuple, found: list) -> bool:
    """A type error that another error at the same value explains better: a value error at or below it, or
    any error below it (the value has the shape of another union member, e.g. a list with one bad item)."""
    return _type_error(err) and any(p[:len(path)] == path and (len(p) > len(path) or not _type_error(e))
                                    for e, p in found)


def _at(found: list, path: tuple) -> list:
    """The type errors of one value: one per union member."""
    return [e for e, p in found if p == path and _type_error(e)]


def _literals(errors: list) -> list[str]:
    """The words a Literal member of the value's union takes: ['same', 'valid']."""
    return [w.strip(" '") for e in errors if e["type"] == "literal_error"
            for w in re.split(r",| or ", e.get("ctx", {}).get("expected", "")) if w.strip()]


def _wrong_type(named: str, errors: list, path: tuple, received) -> Diagnostic:
    """'out_channels should be an integer, not a string. Received: ...' with the fix as a hint."""
    words = _literals(errors)
    takes = list(dict.fromkeys(TAKES[e["type"]] for e in errors if e["type"] in TAKES)) + [f"'{w}'" for w in words]
    expected = ", ".join(takes[:-1]) + " or " + takes[-1] if len(takes) > 1 else takes[0]
    kinds = {e["type"] for e in errors}
    hint = next((fix(received) for kind, test, fix in TYPE_HINTS if kind in kinds and test(received)), None)
    if isinstance(received, str) and words:  # a misspelt word, not a wrong type
        given, hint = "", hint or did_you_mean(received, words)
    else:
        given = ", not " + next((word for t, word in GIVEN if isinstance(received, t)), type(received).__name__)
    return Diagnostic("bad-value", f"{named} should be {expected}{given}. Received: {path_text(path)}="
                      f"{shown(received)}", path, hint=hint)


def _bad_value(msg: str, named: str | None, path: tuple, received) -> Diagnostic:
    """pydantic's message with the value's name for its 'Input': 'padding should be greater than ...'."""
    msg = f"{named} {msg[6:]}" if msg.startswith("Input ") and named else msg
    return Diagnostic("bad-value", f"{msg}. Received: {path_text(path)}={shown(received)}", path)


def value_problem(exc: ValidationError, named: str, path: tuple, received) -> Diagnostic:
    """The bad-value diagnostic of one value checked on its own (a TypeAdapter), worded as in a spec."""
    errors = exc.errors()
    if all(_type_error(e) for e in errors) and any(e["type"] in TAKES for e in errors):
        return _wrong_type(named, errors, path, received)
    return _bad_value(next(e for e in errors if not _type_error(e))["msg"], named, path, received)


def pydantic_diagnostics(exc: ValidationError, data: dict, model: type) -> list[Diagnostic]:
    out, seen = [], set()
    found = [(err, _data_path(data, tuple(err["loc"]), err["type"] == "missing")) for err in exc.errors()]
    found = [(e, p) for e, p in found if not _explained(e, p, found)]
    for err, path in found:
        loc, kind = tuple(err["loc"]), err["type"]
        field = path[-1] if path else None
        received = err.get("input")
        named = next((p for p in reversed(path) if isinstance(p, str)), None)
        if kind == "extra_forbidden":
            owner = _model_at(model, loc)
            choices = [f for f in owner.model_fields] if owner else []
            where = f"in {path_text(path[:-1])}" if len(path) > 1 else "at the top level of the spec"
            diag = Diagnostic("unknown-key", f"unknown key '{field}' {where}", path,
                              hint=did_you_mean(field, choices) or (f"allowed keys: {', '.join(choices)}" if choices else None))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            tags = _tags(model, loc)
            if kind == "union_tag_not_found":
                given = received if isinstance(received, dict) else {}
                misplaced = next((k for k, v in given.items() if isinstance(v, str) and v in tags), None)
                diag = Diagnostic("missing-type", f"{path_text(path)} has no 'type'", path,
                                  hint=f"write 'type: {given[misplaced]}' instead of '{misplaced}: {given[misplaced]}'"
                                  if misplaced else f"add one of: {', '.join(tags)}")
            else:
                tag = err.get("ctx", {}).get("tag")
                path = path + ("type",)
                diag = Diagnostic("unknown-type", f"unknown type '{tag}' in {path_text(path[:-1])}", path,
                                  hint=equivalent(tag, tags) or did_you_mean(tag, tags) or f"known types: {', '.join(tags)}")
        elif kind == "missing":
            diag = Diagnostic("missing-key", f"missing required key '{field}' in {path_text(path[:-1])}", path[:-1])
        elif _type_error(err) and named and any(e["type"] in TAKES for e in _at(found, path)):
            diag = _wrong_type(named, _at(found, path), path, received)
        else:
            diag = _bad_value(err["msg"], named, path, received)
        key = (diag.code, diag.path)
        if key not in seen:  # a union reports each failed member; one line is enough
            seen.add(key)
            out.append(diag)
    return out


def parse_document(doc: Document):
    """Document -> (spec or None, diagnostics). Every problem of the file at once."""
    data = doc.data
    kind = data.get("kind")
    if kind not in available_kinds():
        if kind is None:
            diag = Diagnostic("missing-kind", "spec has no 'kind'", (), hint=f"add 'kind:' with one of: {', '.join(KINDS)}")
        else:
            diag = Diagnostic("unknown-kind", f"unknown kind {kind!r}", ("kind",),
                              hint=did_you_mean(kind, KINDS) or f"known kinds: {', '.join(available_kinds())}")
        return None, [doc.source.place(diag)]
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
    from .specbase import SpecBase

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
