"""The table of spec kinds and, per kind, which function does what.

Values are ``module:attribute`` strings imported on use, so ``validate`` pulls
in only the pydantic model of the kinds it meets (never torch or graphviz).
"""
from __future__ import annotations

import importlib

# capability -> signature:
#   model:   the pydantic spec class
#   explain: (spec, format="markdown", **options) -> str
#   answers: (spec, rtol) -> list[archspec.answers.AnswerResult]
#   render:  (spec, **options) -> graphviz.Digraph
#   build:   (spec) -> torch.nn.Module
KINDS: dict[str, dict[str, str]] = {
    "cnn": {
        "model": "archspec.cnn.spec:CnnSpec",
        "explain": "archspec.cnn.explain:explain",
        "answers": "archspec.cnn.answers:grade",
        "build": "archspec.torchbuild.torch_cnn:build",
        "render": "archspec.diagrams.cnn:render",
    },
    "rules": {"model": "archspec.cnn.spec:RulesSpec"},
    "equations": {"model": "archspec.equations.spec:EquationsSpec", "explain": "archspec.equations.explain:explain",
                  "answers": "archspec.equations.answers:grade", "build": "archspec.equations.torch_module:build",
                  "render": "archspec.diagrams.network:render"},
    "feature_map": {
        "model": "archspec.featuremap.spec:FeatureMapSpec",
        "explain": "archspec.featuremap.explain:explain",
        "answers": "archspec.featuremap.answers:grade",
        "render": "archspec.featuremap.render:render",
    },
}


def resolve(dotted: str):
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def capability(kind: str, what: str):
    """The function that does ``what`` (explain, check, render, build) for ``kind``, or None."""
    dotted = KINDS.get(kind, {}).get(what)
    return resolve(dotted) if dotted else None


def model_for(kind: str):
    return resolve(KINDS[kind]["model"])


def available_kinds() -> list[str]:
    return [k for k, v in KINDS.items() if "model" in v]
