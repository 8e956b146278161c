"""Reusable blocks: ``blocks:`` defines named layer lists with parameters, and a layer entry
``{block: NAME, ...}`` uses one (``repeat: N`` times). Expansion runs on the YAML data before the
spec model sees it, so shapes, rules, diagrams, build, codegen and training all see plain layers.

- A block layer's value ``$p`` is the use's value of parameter ``p`` (or the block's default).
- Inside a block, ``from:`` names the block's own layers or ``in`` (the block's input); the first
  layer takes the block's input. A later ``from:`` may name a use: it means the use's last layer.
- Expanded layers are named ``USE.LAYER`` (``layer2_0.conv1``); a repeated use ``U`` gives
  ``U_0``, ``U_1``, ... Each segment is checked as a layer name is, so torch gets nested modules.
- ``Origin`` keeps where each expanded layer was written, so every diagnostic is placed at the
  definition (or at the use's parameter value that filled the field) and names the use too.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace

from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from ..diagnostics import Diagnostic, did_you_mean
from ..limits import BLOCK_REPEAT as MAX_REPEAT, LAYERS
from ..loader import Document, SourceMap
from .layers import BY_TYPE

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\Z")
USE_KEYS = ("block", "name", "repeat", "from", "stage")  # the rest of a use's keys are block parameters
DEF_KEYS = ("params", "layers", "description")
MAX_LAYERS = LAYERS  # after expansion, as a spec may hold (archspec/limits.py)
IN = "in"


@dataclass(frozen=True)
class Use:
    name: str  # the use's full name (outer uses' names and '.' before it), e.g. 'layer2_0'
    block: str
    path: tuple  # where the use is written
    entry: str  # the full name of the use entry as written (without _k for a repetition), for grouping
    repeat: int = 1
    stage: str | None = None
    values: tuple = ()  # (parameter, value) of each parameter the use gives, for diagrams and tables


@dataclass(frozen=True)
class Origin:
    where: tuple  # path of the layer as written: ('layers', i) or ('blocks', NAME, 'layers', j)
    uses: tuple[Use, ...] = ()  # the uses it was expanded through, outermost first
    params: dict = field(default_factory=dict)  # field -> path of the use's value (or default) that filled it


class BlockDef(BaseModel):
    """A block as written (for the JSON Schema; ``expand`` reads the YAML data itself)."""

    model_config = ConfigDict(extra="forbid")
    params: Union[dict[str, Any], list[str], None] = Field(
        None, description="parameter -> default value (null: each use must give it), or a list of names; "
                          "a layer value '$NAME' takes the parameter's value")
    layers: list[dict[str, Any]] = Field(..., min_length=1, description="layers (or uses of other blocks); "
                                         "from: names the block's layers or 'in', the block's input")
    description: Optional[str] = None


class BlockUse(BaseModel):
    """A layer entry that uses a block (for the JSON Schema); its other keys are the block's parameters."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    block: str = Field(..., description="the name of a block under blocks:")
    name: Optional[str] = Field(None, description="the use's name; its layers are named NAME.LAYER")
    repeat: int = Field(1, ge=1, le=MAX_REPEAT, description="uses in a row, named NAME_0, NAME_1, ...")
    from_: Union[str, None] = Field(None, alias="from",
                                    description="the layer the block takes (default: the one before)")
    stage: Optional[str] = Field(None, description="consecutive uses of one stage are drawn in one cluster")


def prefix_for(raw) -> str:
    """The default-name prefix a layer mapping gets (as ``Layer.default_prefix``), 'layer' when unknown."""
    cls = BY_TYPE.get(raw.get("type")) if isinstance(raw, dict) and isinstance(raw.get("type"), str) else None
    return cls.prefix_for(raw) if cls is not None else "layer"


def _substitute(value, values: dict, origins: dict, at: tuple, problems: list, top: str | None = None):
    """``value`` with every '$p' replaced by the parameter's value; unknown names are problems."""
    if isinstance(value, str):
        m = PARAM.match(value)
        if not m:
            return value
        if m.group(1) not in values:
            problems.append(Diagnostic("unknown-param", f"'{value}' names no parameter of this block", at,
                                       hint=did_you_mean(m.group(1), values) or
                                       (f"parameters: {', '.join(values)}" if values else "the block has no params:")))
            return value
        if top is not None:
            origins[top] = values[m.group(1)][1]
        return copy.deepcopy(values[m.group(1)][0])
    if isinstance(value, list):
        return [_substitute(v, values, origins, at + (k,), problems, top) for k, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _substitute(v, values, origins, at + (k,), problems, k if top is None else top)
                for k, v in value.items()}
    return value


class Expansion:
    """One pass over the layer list: ``layers`` and ``origins`` (one per expanded layer), ``problems``."""

    def __init__(self, blocks: dict, broken: set = frozenset()):
        self.blocks, self.broken, self.layers, self.origins, self.names = blocks, broken, [], [], []
        self.problems: list[Diagnostic] = []
        self.counts: dict[str, int] = {}  # default-name prefix -> layers so far (as layer_names counts)
        self.aliases: dict[str, str] = {}  # use name -> its last layer's name
        self.use_counts: dict[str, int] = {}

    def append(self, raw, origin: Origin) -> None:
        if len(self.layers) >= MAX_LAYERS:
            if len(self.layers) == MAX_LAYERS:
                self.problems.append(Diagnostic("too-many-layers", f"the blocks expand to more than {MAX_LAYERS:,} "
                                                "layers", origin.uses[0].path if origin.uses else origin.where,
                                                hint="use fewer repeats"))
                self.layers.append(None)
            return
        prefix = prefix_for(raw)
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
        self.layers.append(raw)
        self.origins.append(origin)
        self.names.append(name or f"{prefix}{self.counts[prefix]}")

    def previous(self) -> str:
        return self.names[-1] if self.names else "input"

    def resolve(self, name, scope: dict | None, at: tuple):
        """A from: name as written -> the expanded layer name it means (a use's name: its last layer)."""
        if not isinstance(name, str):
            return name
        if scope is not None:
            if name == IN:
                return scope[IN]
            if name in scope:
                return scope[name]
            self.problems.append(Diagnostic("unknown-from", f"from: '{name}' names no layer of this block (nor "
                                            f"'{IN}', the block's input)", at,
                                            hint=did_you_mean(name, [n for n in scope if n != IN] + [IN])))
            return scope[IN]
        return self.aliases.get(name, name)

    def rewire(self, raw: dict, scope: dict | None, at: tuple) -> dict:
        frm = raw.get("from")
        if isinstance(frm, list):
            raw["from"] = [self.resolve(n, scope, at + ("from", k)) for k, n in enumerate(frm)]
        elif frm is not None:
            raw["from"] = self.resolve(frm, scope, at + ("from",))
        return raw

    def use(self, entry: dict, at: tuple, outer: tuple[Use, ...], scope: dict | None, first: bool) -> str | None:
        """Expand one use; its name (None when it cannot be expanded). ``scope``: the enclosing block's names
        (None at the top level); ``first``: the use is its block's first layer, so it takes the block's input."""
        block = entry.get("block")
        if isinstance(block, str) and block in self.broken:
            return None  # its definition's problems are said where it is written
        if not isinstance(block, str) or block not in self.blocks:
            self.problems.append(Diagnostic("unknown-block", f"unknown block {block!r}", at + ("block",),
                                            hint=did_you_mean(block, self.blocks) or
                                            (f"blocks: {', '.join(self.blocks)}" if self.blocks else
                                             "define it under blocks: at the top level")))
            return None
        if any(u.block == block for u in outer):
            chain = " -> ".join([u.block for u in outer] + [block])
            self.problems.append(Diagnostic("block-recursion", f"block '{block}' uses itself ({chain})",
                                            at + ("block",), hint="a block cannot contain itself, directly or not"))
            return None
        definition = self.blocks[block]
        params = definition.get("params") or {}
        defaults = {p: (v, ("blocks", block, "params", p)) for p, v in params.items() if v is not None}
        given = {k: (v, at + (k,)) for k, v in entry.items() if k not in USE_KEYS}
        bad = False
        for k in given:
            if k not in params:
                self.problems.append(Diagnostic("unknown-param", f"block '{block}' has no parameter '{k}'", at + (k,),
                                                hint=did_you_mean(k, list(params) + list(USE_KEYS)) or
                                                (f"parameters: {', '.join(params)}" if params else "it has none")))
                bad = True
        for p, v in params.items():
            if v is None and p not in given:
                self.problems.append(Diagnostic("missing-param", f"block '{block}' needs parameter '{p}'", at,
                                                hint=f"add {p}: VALUE to this use"))
                bad = True
        repeat = entry.get("repeat", 1)
        if type(repeat) is not int or not 1 <= repeat <= MAX_REPEAT:
            self.problems.append(Diagnostic("bad-value", f"repeat should be a whole number from 1 to {MAX_REPEAT}. "
                                            f"Received: repeat={repeat!r}", at + ("repeat",)))
            bad = True
        name = entry.get("name")
        if name is None:
            self.use_counts[block] = self.use_counts.get(block, 0) + 1
            name = f"{block}{self.use_counts[block]}"
        if not isinstance(name, str) or not name or "." in name:
            self.problems.append(Diagnostic("bad-name", f"use name {name!r} cannot name a group of layers: it "
                                            "must be text without '.'", at + ("name",), hint="e.g. layer2_0"))
            bad = True
        if bad:
            return None
        values = {**defaults, **given}
        full = ".".join([outer[-1].name, name]) if outer else name
        stage = entry.get("stage")
        source = entry.get("from")
        take = self.resolve(source, scope, at + ("from",)) if source is not None else (
            scope[IN] if first and scope is not None and scope[IN] != self.previous() else None)
        for r in range(repeat):
            if len(self.layers) > MAX_LAYERS:  # refused already: stop the work nested repeats would cause
                return None
            rname = full if repeat == 1 else f"{full}_{r}"
            use = Use(rname, block, at, full, repeat, stage if isinstance(stage, str) else None,
                      tuple((k, v) for k, (v, _) in given.items()))
            inner = {IN: take if take is not None else self.previous()}
            for j, raw in enumerate(definition["layers"]):
                where = ("blocks", block, "layers", j)
                if isinstance(raw, dict) and "block" in raw:
                    nested = _substitute(raw, values, {}, where, self.problems)
                    local = self.use(nested, where, outer + (use,), inner, j == 0)
                    if local is not None:
                        inner[local] = self.previous()
                    continue
                if not isinstance(raw, dict):
                    self.append(raw, Origin(where, outer + (use,)))
                    continue
                filled: dict = {}
                layer = _substitute(raw, values, filled, where, self.problems)
                own = layer.get("name") if isinstance(layer.get("name"), str) else None
                if own is not None and "." in own:
                    self.problems.append(Diagnostic("bad-name", f"layer name {own!r} in block '{block}' holds '.', "
                                                    "which joins a use's name to its layers'", where + ("name",),
                                                    hint="use letters, digits and underscores, e.g. conv_1"))
                self.rewire(layer, inner, where)
                if j == 0 and "from" not in layer and take is not None and take != self.previous():
                    layer["from"] = take  # the block's input is not the layer before it
                count = sum(1 for k in range(j) if prefix_for(definition["layers"][k]) == prefix_for(layer))
                own = own or f"{prefix_for(layer)}{count + 1}"
                layer["name"] = f"{rname}.{own}"
                self.append(layer, Origin(where, outer + (use,), filled))
                inner[own] = layer["name"]
            take = None  # the next repetition takes this one's output (the layer before it)
            self.aliases[rname] = self.previous()
        self.aliases[full] = self.previous()
        return name


def _definition_problems(blocks) -> tuple[dict, list[Diagnostic]]:
    """The well-formed block definitions, and what is wrong with the others."""
    out, problems = {}, []
    if not isinstance(blocks, dict):
        return out, [Diagnostic("bad-value", "blocks: should map block names to {params, layers}", ("blocks",))]
    for name, d in blocks.items():
        at = ("blocks", name)
        if not isinstance(name, str) or not name.isidentifier():
            problems.append(Diagnostic("bad-name", f"block name {name!r} should be a word (letters, digits, _)", at))
            continue
        if not isinstance(d, dict):
            problems.append(Diagnostic("bad-value", f"block '{name}' should be a mapping with layers:", at))
            continue
        for key in d:
            if key not in DEF_KEYS:
                problems.append(Diagnostic("unknown-key", f"unknown key '{key}' in blocks.{name}", at + (key,),
                                           hint=did_you_mean(key, DEF_KEYS) or f"allowed keys: {', '.join(DEF_KEYS)}"))
        layers, params = d.get("layers"), d.get("params", {})
        if isinstance(params, list) and all(isinstance(p, str) for p in params):
            params = dict.fromkeys(params)  # names only: each must be given by every use
        if not isinstance(layers, list) or not layers:
            problems.append(Diagnostic("missing-key" if layers is None else "bad-value",
                                       f"block '{name}' needs a non-empty layers: list", at))
        elif not isinstance(params, dict) or not all(isinstance(p, str) and p.isidentifier() for p in params):
            problems.append(Diagnostic("bad-value", f"params of block '{name}' should map parameter names to default "
                                       "values (null: every use gives it), or list the names", at + ("params",)))
        else:
            out[name] = {"params": params, "layers": layers}
    return out, problems


def uses_blocks(data) -> bool:
    """A layer list (blocks need one) with a blocks: section or a use in it."""
    layers = data.get("layers") if isinstance(data, dict) else None
    return isinstance(layers, list) and ("blocks" in data or any(isinstance(x, dict) and "block" in x for x in layers))


def expand(data: dict) -> tuple[dict, list[Origin], list[Diagnostic]]:
    """The spec data with every block use replaced by its layers, one Origin per layer, and the problems."""
    raw = data.get("blocks", {})
    blocks, problems = _definition_problems(raw)
    run = Expansion(blocks, set(raw) - set(blocks) if isinstance(raw, dict) else set())
    run.problems += problems
    for i, entry in enumerate(data.get("layers") or []):
        if isinstance(entry, dict) and "block" in entry:
            run.use(entry, ("layers", i), (), None, False)
        else:
            run.append(run.rewire(copy.copy(entry), None, ("layers", i)) if isinstance(entry, dict) else entry,
                       Origin(("layers", i)))
    layers = [x for x in run.layers if x is not None]
    out = {k: v for k, v in data.items() if k != "blocks"}
    out["layers"] = layers
    return out, run.origins, run.problems


class ExpandedSource(SourceMap):
    """A SourceMap for the expanded layer list: ('layers', k, ...) is placed where layer k was written, or
    at the use's value that filled the field; messages inside a block name the use and its line."""

    def __init__(self, base: SourceMap, origins: list[Origin]):
        super().__init__(base.values, base.keys, base.spans)
        self.origins = origins

    def written(self, path: tuple) -> tuple[tuple, Origin | None]:
        if len(path) >= 2 and path[0] == "layers" and isinstance(path[1], int) and 0 <= path[1] < len(self.origins):
            origin = self.origins[path[1]]
            rest = tuple(path[2:])
            if rest and rest[0] in origin.params:
                return origin.params[rest[0]] + rest[1:], origin
            return origin.where + rest, origin
        return tuple(path), None

    def position(self, path, offset=None, prefer_key=False):
        return super().position(self.written(path)[0], offset, prefer_key)

    def place(self, diag: Diagnostic, prefer_key: bool = False) -> Diagnostic:
        """At the line where the value was written; the path stays the expanded one (layer k)."""
        if diag.line:
            return diag
        path, origin = self.written(diag.path)
        if origin is not None and origin.uses:
            use = origin.uses[-1]
            line = super().position(use.path)[0]
            where = f"block '{use.block}' line {super().position(origin.where)[0]}"
            diag = replace(diag, message=f"{diag.message} [in {use.name}: the use at line {line}, {where}]")
        return diag.at(*super().position(path, diag.offset, prefer_key))


def prepare(doc: Document) -> tuple[Document, list[Diagnostic]]:
    """The document with its blocks expanded (its source map placing expanded layers where they were
    written), and the located problems of the blocks themselves; unchanged when it uses none."""
    if not uses_blocks(doc.data):
        return doc, []
    data, origins, problems = expand(doc.data)
    return Document(data, ExpandedSource(doc.source, origins), doc.file, doc.text), [doc.source.place(d)
                                                                                   for d in problems]


def origins_of(spec) -> list[Origin] | None:
    """The Origin of each of a loaded spec's layers, or None when it uses no blocks."""
    source = getattr(spec, "_source", None)
    return source.origins if isinstance(source, ExpandedSource) else None
