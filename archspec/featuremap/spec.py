"""``kind: feature_map``: convolution and pooling of small maps, worked by hand.

One operation with its settings at the top level (``operation: conv2d``,
``kernel: ...``), or several in sequence under ``operations:`` (each item
``{type: conv2d, kernel: ...}``, like CNN layers). Maps are 2-D lists (rows) or
3-D lists (channels of rows); a convolution kernel has one 2-D map per input
channel and gives one output channel; pools work on every channel.
Settings use PyTorch's names and meaning (stride, padding, dilation, ceil_mode).
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, ValidationError

from ..diagnostics import Diagnostic
from ..model_errors import pydantic_diagnostics
from ..limits import OPERATIONS
from ..specbase import Pair, SpecBase
from .maps import Map, number_diagnostic, parse_map, size
from .ops import (OP_MODELS, AnyOp, AvgPoolOp, ConvOp, ConvPadding, Matrix, MaxPoolOp, Number,  # noqa: F401
                  Op)  # (the op API, also from here)
from .plan import plan, plan_diagnostics

# settings that may sit at the top level of a one-operation spec
SETTINGS = ("kernel", "kernel_size", "stride", "padding", "padding_value", "dilation", "bias", "flip_kernel",
            "ceil_mode", "count_include_pad")


class FeatureMapSpec(SpecBase):
    kind: Literal["feature_map"]
    input: Matrix = Field(description="H x W rows of numbers, or C x H x W (one H x W map per channel)")
    operation: Optional[Literal["conv2d", "maxpool2d", "avgpool2d"]] = Field(
        None, description="one operation, its settings at the top level; or use operations:")
    operations: Optional[Annotated[list[AnyOp], Field(min_length=1, max_length=OPERATIONS)]] = Field(
        None, description="several operations applied in order, e.g. conv2d then maxpool2d")
    kernel: Optional[Matrix] = None
    kernel_size: Optional[Pair] = Field(None, description="pooling window (pools)")
    stride: Optional[Pair] = None
    padding: Optional[ConvPadding] = None
    padding_value: Optional[Number] = None
    dilation: Optional[Pair] = None
    bias: Optional[Number] = None
    flip_kernel: Optional[bool] = None
    ceil_mode: Optional[bool] = None
    count_include_pad: Optional[bool] = None
    answers: Optional[Matrix] = Field(None, description="your hand-computed output map, graded by `archspec check`")

    def input_map(self) -> Map:
        return parse_map(self.input, ("input",), "input")[0]

    def _top_level(self) -> dict:
        return {k: getattr(self, k) for k in SETTINGS if getattr(self, k) is not None}

    def steps(self) -> list[tuple[Op, tuple]]:
        """(operation, its spec path) in order; a one-operation spec's settings sit at the root ()."""
        if self.operations is not None:
            return [(op, ("operations", i)) for i, op in enumerate(self.operations)]
        return [(OP_MODELS[self.operation].model_validate({"type": self.operation, **self._top_level()}), ())]

    def _form_diagnostics(self) -> list[Diagnostic]:
        """Exactly one of operation / operations, and only the settings that operation takes."""
        given = self._top_level()
        if self.operations is not None:
            if self.operation is not None:
                return [Diagnostic("operation-twice", "give either 'operation' or 'operations', not both",
                                   ("operation",), hint="for a sequence, list every step under operations:")]
            return [Diagnostic("setting-outside-operations", f"'{k}' sits at the top level but the spec has "
                               "operations:", (k,), hint="move it into the operation it belongs to") for k in given]
        if self.operation is None:
            return [Diagnostic("missing-operation", "spec has no 'operation'", (),
                               hint=f"add 'operation:' with one of {', '.join(OP_MODELS)}, or 'operations:'")]
        model = OP_MODELS[self.operation]
        allowed = [f for f in model.model_fields if f != "type"]
        out = [Diagnostic("not-for-operation", f"'{k}' does not apply to {self.operation}", (k,),
                          hint=f"{self.operation} takes: {', '.join(allowed)}") for k in given if k not in allowed]
        out += [Diagnostic("missing-key", f"{self.operation} needs '{f}'", ("operation",))
                for f in allowed if model.model_fields[f].is_required() and f not in given]
        if not out:
            try:
                model.model_validate({"type": self.operation, **given})
            except ValidationError as exc:
                out += pydantic_diagnostics(exc, given, model)
        return out

    def check(self) -> list[Diagnostic]:
        form = self._form_diagnostics()
        x, out = parse_map(self.input, ("input",), "input")
        if form:  # the operations cannot be built
            return form + out
        steps = self.steps()
        for op, base in steps:
            if isinstance(op, ConvOp):
                out += parse_map(op.kernel, base + ("kernel",), "kernel")[1]
                out += number_diagnostic(op.padding_value, base + ("padding_value",), "padding_value")
                out += number_diagnostic(op.bias, base + ("bias",), "bias")
        answers = None
        if self.answers is not None:
            answers, diags = parse_map(self.answers, ("answers",), "answers")
            out += diags
        if out:
            return out
        out += plan_diagnostics(size(x), steps, len(steps) > 1)
        if not out and answers is not None:
            want, got = plan(size(x), steps)[-1].out_size, size(answers)
            if want != got:
                out.append(Diagnostic("answers-shape", f"answers is {_dims(got)} but the output is {_dims(want)}",
                                      ("answers",), hint="write one number per output cell"))
        return out

    def lower(self):
        """IR: the input map, then one node per operation."""
        from ..ir import Edge, Graph, Node  # validate never lowers: the IR loads for the back ends only

        nodes = [Node("input", "input", attrs={"size": size(self.input_map())}, path=("input",))]
        for i, (op, base) in enumerate(self.steps()):
            nodes.append(Node(f"step{i + 1}", op.type, (Edge(nodes[-1].id),), {"op": op}, base))
        return Graph(self.title, "feature_map", nodes, [nodes[-1].id])


def _dims(s: tuple) -> str:
    c, h, w = s
    return f"{h} x {w}" if c == 1 else f"{c} x {h} x {w}"
