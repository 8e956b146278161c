"""pydantic's validation errors -> located, worded diagnostics (the spec models' own error language).

Model modules use it directly (a rule or a rules file is checked as a layer's value would be), so it
depends on nothing but the diagnostics: ``archspec.validation`` (file -> report) sits above both.
"""
from __future__ import annotations

import re
import typing

from pydantic import BaseModel, ValidationError

from .cnn.equivalents import equivalent
from .diagnostics import Diagnostic, did_you_mean, path_text, shown


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
        tagged = [m for m in models
                  if "type" in m.model_fields and part in typing.get_args(m.model_fields["type"].annotation)]
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


def _explainers(found: list) -> set:
    """Paths whose type errors another error explains better: a value error at the same value, or any error
    below it (the value has the shape of another union member, e.g. a list with one bad item). A set, so a
    file with thousands of bad values is not checked pair by pair."""
    out = set()
    for e, p in found:
        out.update(p[:k] for k in range(len(p)))
        if not _type_error(e):
            out.add(p)
    return out


def _type_errors(found: list) -> dict:
    """path -> the type errors of that value: one per union member."""
    out: dict = {}
    for e, p in found:
        if _type_error(e):
            out.setdefault(p, []).append(e)
    return out


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
    msg = (f"{named} " if named else "") + msg[13:] if msg.startswith("Value error, ") else msg  # our validators
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
    explained = _explainers(found)
    found = [(e, p) for e, p in found if not (_type_error(e) and p in explained)]
    at = _type_errors(found)
    for err, path in found:
        loc, kind = tuple(err["loc"]), err["type"]
        field = path[-1] if path else None
        received = err.get("input")
        named = next((p for p in reversed(path) if isinstance(p, str)), None)
        if kind == "extra_forbidden":
            owner = _model_at(model, loc)
            choices = [info.alias or f for f, info in owner.model_fields.items()] if owner else []
            where = f"in {path_text(path[:-1])}" if len(path) > 1 else "at the top level of the spec"
            diag = Diagnostic("unknown-key", f"unknown key '{field}' {where}", path,
                              hint=did_you_mean(field, choices)
                              or (f"allowed keys: {', '.join(choices)}" if choices else None))
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
                                  hint=equivalent(tag, tags) or did_you_mean(tag, tags)
                                  or f"known types: {', '.join(tags)}")
        elif kind == "missing":
            diag = Diagnostic("missing-key", f"missing required key '{field}' in {path_text(path[:-1])}", path[:-1])
        elif _type_error(err) and named and any(e["type"] in TAKES for e in at.get(path, [])):
            diag = _wrong_type(named, at[path], path, received)
        else:
            diag = _bad_value(err["msg"], named, path, received)
        key = (diag.code, diag.path)
        if key not in seen:  # a union reports each failed member; one line is enough
            seen.add(key)
            out.append(diag)
    return out
