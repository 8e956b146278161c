"""Never a traceback: random, half-right specs of every kind give a report, not an exception.

Documents are built from each kind's real vocabulary (keys, layer types, operations) with values
of every YAML type, so they pass the loader and reach pydantic, the semantic checks and, when
valid, the explainer.
"""
from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.kinds import capability
from archspec.validation import check_text

WORDS = ["cnn", "equations", "feature_map", "rules", "conv2d", "maxpool2d", "avgpool2d", "linear", "flatten",
         "relu", "sigmoid", "same", "valid", "y = sigmoid(w1*x1 + b1)", "a = relu(w2*x)", "y = w1*x1",
         "z = (", "y = foo(x)", "x1", "w1", "squared_error", "digits", "1/4", "", "no"]
scalars = st.one_of(st.integers(-3, 300), st.floats(-2, 2, allow_nan=False), st.booleans(), st.none(),
                    st.sampled_from(WORDS))
small_lists = st.lists(scalars, max_size=4)
grids = st.lists(st.lists(st.integers(-2, 5), min_size=1, max_size=4), min_size=1, max_size=4)
values = st.one_of(scalars, small_lists, grids, st.dictionaries(st.sampled_from(["min", "max", "odd", "x1", "w1", "y"]),
                                                                   scalars, max_size=3))
LAYER_KEYS = ["type", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "ceil_mode",
              "out_features", "name", "p", "bias"]
layer = st.fixed_dictionaries({"type": st.sampled_from(["conv2d", "maxpool2d", "avgpool2d", "linear", "flatten",
                                                        "relu", "batchnorm2d", "dropout", "conv3d"])},
                              optional={k: st.one_of(st.integers(0, 6), st.lists(st.integers(0, 4), max_size=3),
                                                     st.sampled_from(["same", "x"])) for k in LAYER_KEYS[1:]})
cnn = st.fixed_dictionaries({"kind": st.just("cnn"), "input": st.lists(st.integers(0, 40), max_size=4),
                             "layers": st.lists(layer, max_size=6)},
                            optional={"constraints": st.dictionaries(st.sampled_from(["conv2d", "maxpool2d",
                                                                                      "before_flatten", "output"]),
                                                                     values, max_size=3),
                                      "train": st.dictionaries(st.sampled_from(["epochs", "batch_size", "seed"]),
                                                               scalars, max_size=2)})
equations = st.fixed_dictionaries({"kind": st.just("equations"),
                                   "equations": st.one_of(st.sampled_from(WORDS[13:18]),
                                                          st.lists(st.sampled_from(WORDS[13:18]), max_size=3))},
                                  optional={k: st.dictionaries(st.sampled_from(["x", "x1", "w1", "w2", "b1", "y"]),
                                                               st.floats(-3, 3, allow_nan=False), max_size=4)
                                            for k in ("inputs", "weights", "biases", "targets")}
                                  | {"learning_rate": scalars, "loss": scalars})
feature_map = st.fixed_dictionaries({"kind": st.just("feature_map"), "input": grids,
                                     "operation": st.sampled_from(["conv2d", "maxpool2d", "avgpool2d", "pool"])},
                                    optional={"kernel": grids, "stride": st.integers(0, 3),
                                              "padding": st.integers(0, 2), "kernel_size": st.integers(0, 3),
                                              "ceil_mode": st.booleans(), "dilation": st.integers(0, 2)})
anything = st.one_of(cnn, equations, feature_map,
                     st.dictionaries(st.sampled_from(["kind", "name", "input", "layers", "constraints"]), values))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=anything)
def test_random_specs_give_reports_not_tracebacks(doc):
    report = check_text(yaml.safe_dump(doc, sort_keys=False))
    for d in report.diagnostics:
        assert d.line >= 1 and d.column >= 1 and d.code and d.message
    if report.valid and report.spec.kind in ("cnn", "equations", "feature_map"):
        explain = capability(report.spec.kind, "explain")
        for fmt in ("markdown", "json"):
            assert explain(report.spec, format=fmt, steps=1, activation=None)
