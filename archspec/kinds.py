"""The table of spec kinds: per kind, which function does what, and the facts commands choose by.

Function values are ``module:attribute`` strings imported on use (``capability``), so ``validate``
pulls in only the pydantic model of the kinds it meets (never torch or graphviz); other values are
plain facts (``fact``). Adding a kind is one row here plus its modules: no command tests a kind
by name.
"""
from __future__ import annotations

import importlib

# functions (capability) -> signature:
#   model:    the pydantic spec class
#   prepare:  (loader Document) -> (Document, diagnostics): rewrites the data before the model reads it
#   explain:  (spec, format="markdown", **options) -> str
#   answers:  (spec, rtol) -> list[archspec.answers.AnswerResult]
#   render:   (spec, **options) -> graphviz.Digraph
#   build:    (spec) -> torch.nn.Module
#   codegen:  (spec) -> str, standalone PyTorch source (compile --code)
#   display:  (spec, include, exclude) -> Jupyter's mime bundle (the spec's diagram)
# facts (fact) -> meaning:
#   render_options: the render options the kind's drawer takes (others are ignored with a warning)
#   draws_invalid:  its diagram marks rule and shape problems instead of refusing an invalid spec
#   trains:         "images" (train/evaluate/predict/DDP on image folders) or "rows" (one process, float64)
#   train_needs:    the hint when a spec of this kind has no train: block (None: the built-in data serves)
#   design:         "attempt" (a spec whose layers are a student's try at its rules) or "rules" (rules only)
KINDS: dict[str, dict] = {
    "cnn": {
        "model": "archspec.cnn.spec:CnnSpec",
        "prepare": "archspec.cnn.blocks:prepare",
        "explain": "archspec.cnn.explain:explain",
        "answers": "archspec.cnn.answers:grade",
        "build": "archspec.torchbuild.torch_cnn:build",
        "codegen": "archspec.torchbuild.codegen:generate",
        "render": "archspec.diagrams.cnn:render",
        "display": "archspec.diagrams:mimebundle",
        "render_options": ("layout", "group", "collapse", "depth"),
        "draws_invalid": True,
        "trains": "images",
        "train_needs": None,
        "design": "attempt",
    },
    "rules": {"model": "archspec.cnn.spec:RulesSpec", "design": "rules"},
    "equations": {
        "model": "archspec.equations.spec:EquationsSpec",
        "explain": "archspec.equations.explain:explain",
        "answers": "archspec.equations.answers:grade",
        "build": "archspec.equations.torch_module:build",
        "render": "archspec.diagrams.network:render",
        "display": "archspec.diagrams:mimebundle",
        "render_options": ("layout", "values", "grads"),
        "trains": "rows",
        "train_needs": "add train: {dataset: {type: samples, inputs: [[0, 1], ...], targets: [[1], ...]}} (one "
                       "input row and one target row per sample)",
    },
    "feature_map": {
        "model": "archspec.featuremap.spec:FeatureMapSpec",
        "explain": "archspec.featuremap.explain:explain",
        "answers": "archspec.featuremap.answers:grade",
        "render": "archspec.featuremap.render:render",
        "display": "archspec.diagrams:mimebundle",
        "render_options": ("layout", "cell"),
    },
}


def resolve(dotted: str):
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def capability(kind: str, what: str):
    """The function that does ``what`` (explain, answers, render, build, codegen, ...) for ``kind``, or None."""
    dotted = KINDS.get(kind, {}).get(what)
    return resolve(dotted) if isinstance(dotted, str) else None


def fact(kind: str, what: str, default=None):
    """A plain fact of the table (render_options, draws_invalid, trains, train_needs, design)."""
    return KINDS.get(kind, {}).get(what, default)


def kinds_with(what: str, value=None) -> list[str]:
    """The kinds that have ``what`` (equal to ``value`` when given), in table order."""
    return [k for k, row in KINDS.items() if what in row and (value is None or row[what] == value)]


def model_for(kind: str):
    return resolve(KINDS[kind]["model"])


def available_kinds() -> list[str]:
    return [k for k, v in KINDS.items() if "model" in v]
