"""Designs as complete spec files: deterministic, readable YAML that ``archspec validate`` accepts."""
from __future__ import annotations

import math
import re

import yaml

from ..cnn.shapes import infer
from ..tables import dims, human


def layer_dict(layer) -> dict:
    """A layer as its spec mapping: type first, then only the non-default parameters."""
    return {"type": layer.type, **layer.model_dump(exclude_defaults=True, exclude={"type"}, by_alias=True)}


def _flow(value) -> str:
    """One-line YAML (flow style), e.g. {type: conv2d, out_channels: 32, kernel_size: 3}."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=math.inf).strip()
    return text[:-3].strip() if text.endswith("\n...") else text  # a lone scalar ends the document


def _block(key: str, value) -> list[str]:
    """``key:`` then the mapping, leaves in flow style as in the seed specs."""
    if not isinstance(value, dict):
        return [f"{key}: {_flow(value)}"]
    text = yaml.safe_dump(value, default_flow_style=None, sort_keys=False, width=math.inf)
    return [f"{key}:"] + ["  " + line for line in text.rstrip("\n").splitlines()]


def spec_yaml(name: str, input_shape, layers, constraints=None, header=(), extra: dict | None = None,
              description: str | None = None) -> str:
    """A cnn spec file: header comments, kind, name, input, layers (shape after each), constraints."""
    report = infer(tuple(input_shape), layers)
    shapes = [dims(x.output) for x in report.layers] + [""] * (len(layers) - len(report.layers))
    items = [_flow(layer_dict(x)) for x in layers]
    width = max(map(len, items), default=0)
    lines = [f"# {h}" if h else "#" for h in header]
    lines += ["kind: cnn", f"name: {_flow(name)}"]
    if description:
        lines.append(f"description: {_flow(description)}")
    lines.append(f"input: {_flow(list(input_shape))}")
    lines.append("layers:")
    lines += [f"  - {item.ljust(width)}   # {shape}" if shape else f"  - {item}" for item, shape in zip(items, shapes)]
    if constraints is not None:
        lines += _block("constraints", constraints)
    for key, value in (extra or {}).items():
        lines += _block(key, value)
    return "\n".join(lines) + "\n"


def file_name(name: str, by: str, rank: int) -> str:
    """'q6-design-params-01.yaml'. The spec's name is free text: '/', '..' and other characters a file name
    cannot hold become '-', so a design is always written inside the folder asked for."""
    stem = re.sub(r"[^\w.-]+", "-", name).strip(".-") or "design"
    return f"{stem}-{by}-{rank:02d}.yaml"


def design_yaml(problem, design, by: str, total: int | None = None) -> str:
    """One ranked design of ``problem`` as a spec file that carries the same rules."""
    name = f"{problem.name}-{by}-{design.rank:02d}"
    head = [f"Design {design.rank} by {by} for the rules of {problem.name} ({problem.file})"
            + ("." if total is None else ", the only design that meets them." if total == 1 else
               f", one of {total:,} designs that meet them."),
            f"params {design.params:,} ({human(design.params * 4)}B as float32), MACs {design.macs:,} "
            f"({human(design.macs)}), activations {human(design.memory)}B per sample, {design.depth} layers.",
            "Written by `archspec design`; check it with `archspec validate`."]
    return spec_yaml(name, problem.input, design.layers, problem.raw_rules, head)
