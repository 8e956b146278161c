"""Safe YAML loading with a source map.

Parsing happens in three steps so hostile files fail early and cleanly:
1. bytes -> text: size cap, UTF-8 only, no NUL bytes (binary junk);
2. ``yaml.parse`` events are scanned before anything is composed: one document,
   nesting depth capped (PyYAML's composer recurses and crashes deep down),
   alias expansion counted so a billion-laughs file is refused at its line;
3. the composed node tree is turned into plain Python values by our own
   constructor: YAML 1.2 core scalars (``no`` stays a string, ``1e-3`` is a
   float, ``0755`` is 755), duplicate keys refused, unknown tags refused, and
   every value's line/column recorded under its path.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import yaml

from .diagnostics import Diagnostic, Path, SpecError, shown

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 100_000  # after alias expansion
START_HINT = "start with 'kind: cnn' (or equations, feature_map, rules)"  # a test checks it names every kind

_INT = re.compile(r"[-+]?[0-9]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
_PLAIN = "tag:archspec,plain"  # every unquoted scalar, resolved by YAML 1.2's core schema in ``_scalar``
_STD_TAGS = {_PLAIN, "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
             "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
             "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:timestamp",
             "tag:yaml.org,2002:binary", "tag:yaml.org,2002:omap", "tag:yaml.org,2002:set",
             "tag:yaml.org,2002:value", "tag:yaml.org,2002:yaml"}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML resolves plain scalars by YAML 1.1 (``1e-3`` a string, ``0o17`` a string); tag them
    all as plain instead, keeping only the merge key ``<<``."""

    yaml_implicit_resolvers = {"<": [("tag:yaml.org,2002:merge", re.compile(r"<<\Z"))],
                               None: [(_PLAIN, re.compile(""))]}

    def resolve(self, kind, value, implicit):
        """What the table above says, without PyYAML's generic walk over it for every scalar."""
        if kind is yaml.ScalarNode and implicit[0]:
            return "tag:yaml.org,2002:merge" if value == "<<" else _PLAIN
        return super().resolve(kind, value, implicit)


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a document sits in its file."""

    values: dict = field(default_factory=dict)  # path -> (line, col, quoted)
    keys: dict = field(default_factory=dict)  # path of value -> (line, col) of its key
    spans: dict = field(default_factory=dict)  # path of a multi-line string -> (line, col) of each character
    numbers: dict = field(default_factory=dict)  # path of a number -> its text as written ('0.20006'): its digits

    def position(self, path: Path, offset: int | None = None, prefer_key: bool = False) -> tuple[int, int]:
        path = tuple(path)
        if prefer_key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        line, col, quoted = self.values.get(path, (1, 1, False))
        span = self.spans.get(path)
        if offset is not None and span:
            return span[min(offset, len(span) - 1)]
        if offset is not None:
            col += offset + (1 if quoted else 0)
        return line, col

    def place(self, diag: Diagnostic, prefer_key: bool = False) -> Diagnostic:
        if diag.line:
            return diag
        return diag.at(*self.position(diag.path, diag.offset, prefer_key))


@dataclass
class Document:
    data: dict
    source: SourceMap
    file: str
    text: str


def _fail(code: str, message: str, line: int = 1, column: int = 1, hint: str | None = None):
    return Diagnostic(code, message, line=line, column=column, hint=hint)


def read_text(raw: bytes) -> tuple[str | None, Diagnostic | None]:
    if len(raw) > MAX_BYTES:
        return None, _fail("file-too-large", f"file is {len(raw):,} bytes; specs are limited to {MAX_BYTES:,} bytes")
    if b"\x00" in raw:
        return None, _fail("not-text", "file contains NUL bytes: this is a binary file, not a YAML spec")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, _fail("not-text", f"file is not UTF-8 text (bad byte at offset {exc.start})")


def _scan_events(text: str) -> Diagnostic | None:
    """Refuse multi-document files, deep nesting and alias bombs before composing."""
    stack: list[list] = []  # [anchor, expanded size]
    sizes: dict[str, int] = {}
    total = docs = 0
    for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        mark = event.start_mark
        where = dict(line=mark.line + 1, column=mark.column + 1)
        if isinstance(event, yaml.DocumentStartEvent):
            docs += 1
            if docs > 1:
                return _fail("multiple-documents", "a spec file holds exactly one YAML document",
                             hint="split the documents into separate files", **where)
            continue
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
            size = sizes.get(event.anchor, 1) if isinstance(event, yaml.AliasEvent) else 1
            total += size
            for entry in stack:
                entry[1] += size
            if total > MAX_NODES:
                return _fail("alias-bomb" if isinstance(event, yaml.AliasEvent) else "too-many-values",
                             f"document expands to more than {MAX_NODES:,} values"
                             + (" through aliases (an alias bomb)" if isinstance(event, yaml.AliasEvent) else ""),
                             hint="write the values out instead of nesting aliases", **where)
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([event.anchor, 1])
                if len(stack) > MAX_DEPTH:
                    return _fail("too-deep", f"nesting deeper than {MAX_DEPTH} levels", **where)
            elif isinstance(event, yaml.ScalarEvent) and event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
    return None


def _scalar(node: yaml.ScalarNode):
    text, tag = node.value, node.tag
    if tag == "tag:yaml.org,2002:str" or node.style in ("'", '"', "|", ">"):
        return text
    if tag not in (_PLAIN, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                   "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp"):
        return text
    low = text.lower()
    if low in ("", "~", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if _INT.match(text):
        return int(text)
    if _HEX.match(text):
        return int(text, 16)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _FLOAT.match(text):
        return float(text)
    if low in _SPECIAL:
        return _SPECIAL[low]
    return text


def _char_positions(value: str, node: yaml.ScalarNode, lines: list[str]) -> list[tuple[int, int]]:
    """(line, col) of every character of a multi-line string, by matching its non-blank characters
    in order with those of the source: folding, indentation and line ends change only blanks.
    One more entry, after the last character, places 'ends early' errors."""
    first, last = node.start_mark, node.end_mark
    source = []  # (line, col) of each non-blank source character of the value
    for i in range(first.line, min(last.line, len(lines) - 1) + 1):
        start = first.column + (1 if node.style in ("'", '"') else 0) if i == first.line else 0
        if i == first.line and node.style in ("|", ">"):
            continue  # the header line: indicator and maybe a comment
        end = last.column if i == last.line else len(lines[i])
        source += [(i + 1, j + 1) for j in range(start, min(end, len(lines[i]))) if not lines[i][j].isspace()]
    out, k = [], 0
    for ch in value:
        if ch.isspace() or k >= len(source):
            out.append((out[-1][0], out[-1][1] + 1) if out else (first.line + 1, first.column + 1))
        else:
            out.append(source[k])
            k += 1
    out.append((out[-1][0], out[-1][1] + 1) if out else (first.line + 1, first.column + 1))
    return out


class _Builder:
    def __init__(self, source: SourceMap, lines: list[str]):
        self.source = source
        self.lines = lines
        self.problems: list[Diagnostic] = []

    def build(self, node, path: Path):
        mark = node.start_mark
        quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
        self.source.values.setdefault(path, (mark.line + 1, mark.column + 1, quoted))
        if node.tag not in _STD_TAGS:
            self.problems.append(Diagnostic("unknown-tag", f"YAML tag '{node.tag}' is not allowed in a spec",
                                            line=mark.line + 1, column=mark.column + 1,
                                            hint="remove the tag; specs hold plain values only"))
            return None
        if isinstance(node, yaml.ScalarNode):
            try:
                value = _scalar(node)
            except ValueError:  # an integer of more digits than Python converts (4,300)
                self.problems.append(Diagnostic("bad-value", f"this number has {len(node.value):,} digits, far too "
                                                "many for any value of a spec", line=mark.line + 1,
                                                column=mark.column + 1))
                return None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.source.numbers[path] = node.value
            if isinstance(value, str) and (node.style in ("|", ">") or node.end_mark.line > mark.line):
                self.source.spans[path] = _char_positions(value, node, self.lines)
            return value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        return self._mapping(node, path)

    def _mapping(self, node, path: Path) -> dict:
        out: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                for src in (value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]):
                    value = self.build(src, path)
                    if isinstance(value, dict):
                        merged.update({k: v for k, v in value.items() if k not in merged})
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                km = key_node.start_mark
                self.problems.append(Diagnostic("bad-key", "mapping keys must be plain names",
                                                line=km.line + 1, column=km.column + 1))
                continue
            key = _scalar(key_node)
            key = key if isinstance(key, (str, int)) else str(key).lower()
            km = key_node.start_mark
            if key in out:
                first = self.source.keys[path + (key,)]
                self.problems.append(Diagnostic(
                    "duplicate-key", f"duplicate key '{key}' (first given at line {first[0]})",
                    line=km.line + 1, column=km.column + 1, hint="YAML keeps only one of them; remove the other"))
                continue
            self.source.keys[path + (key,)] = (km.line + 1, km.column + 1)
            out[key] = self.build(value_node, path + (key,))
        return {**merged, **out}


def load_text(text: str, file: str = "<spec>") -> Document:
    """Parse spec text; raises SpecError with located diagnostics."""
    try:
        problem = _scan_events(text)
        if problem:
            raise SpecError([problem], file)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = str(exc.problem or "")
        if exc.context and exc.context_mark:
            cm = exc.context_mark
            msg = f"{exc.context} (opened at line {cm.line + 1}, column {cm.column + 1}): {msg}"
        if "nesting depth" in msg:  # libyaml's own cap fires before ours on very deep flow nesting
            raise SpecError([_fail("too-deep", f"nesting deeper than {MAX_DEPTH} levels", line, col)], file) from None
        lines = text.splitlines()
        tab = mark is not None and mark.line < len(lines) and lines[mark.line][mark.column:mark.column + 1] == "\t"
        raise SpecError([_fail("yaml-syntax", f"invalid YAML: {msg}", line, col,
                               hint="YAML indents with spaces; replace the tab" if tab else None)], file) from None
    except yaml.YAMLError as exc:
        raise SpecError([_fail("yaml-syntax", f"invalid YAML: {exc}")], file) from None
    if node is None:
        raise SpecError([_fail("empty", "file is empty", hint=START_HINT)], file)
    source = SourceMap()
    builder = _Builder(source, text.splitlines())
    data = builder.build(node, ())
    if builder.problems:
        raise SpecError(builder.problems, file)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the value {shown(data)}"
        raise SpecError([_fail("not-a-mapping", f"a spec is a mapping of keys to values, but this file holds {kind}",
                               node.start_mark.line + 1, node.start_mark.column + 1, hint=START_HINT)], file)
    return Document(data, source, file, text)


def open_read(path):
    """``open(path, "rb")`` that does not wait for a writer: a FIFO that nobody writes to reads as empty instead
    of blocking forever, while a pipe being written (bash's ``<(...)``) still reads."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except OSError:  # a folder: fdopen refuses it and leaves the descriptor open
        os.close(fd)
        raise


def load_file(path: str | FsPath) -> Document:
    if not isinstance(path, (str, os.PathLike)):  # open(3) would read, then close, file descriptor 3
        raise TypeError(f"a spec path is a str or os.PathLike, not {type(path).__name__}")
    file = str(path)
    if "\0" in os.fsdecode(path):  # os.open would raise ValueError
        raise SpecError([_fail("bad-value", "the file name holds a NUL byte (\\0): no file can have it")], file)
    try:
        with open_read(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_BYTES:
                raise SpecError([_fail("file-too-large",
                                       f"file is {size:,} bytes; specs are limited to {MAX_BYTES:,} bytes")], file)
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError([_fail("unreadable", f"cannot read file: {exc.strerror or exc}")], file) from None
    text, problem = read_text(raw)
    if problem:
        raise SpecError([problem], file)
    return load_text(text, file)
