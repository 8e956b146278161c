"""Expression trees: what the parser produces and what the chain rule writes.

One small tree type serves both the user's equations and the generated
gradient formulas, so the same printer (ascii / unicode / latex) and the same
safe evaluator apply to both. Nothing here ever calls ``eval``: evaluation is
a walk over the tree with a fixed table of functions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

Span = tuple  # (start, end) character offsets in the equation text; () for generated nodes


@dataclass(frozen=True)
class Num:
    value: float
    span: Span = field(default=(), compare=False)


@dataclass(frozen=True)
class Sym:
    name: str
    span: Span = field(default=(), compare=False)


@dataclass(frozen=True)
class Neg:
    arg: "Expr"
    span: Span = field(default=(), compare=False)


@dataclass(frozen=True)
class Add:
    terms: tuple  # of Expr, n-ary
    span: Span = field(default=(), compare=False)


@dataclass(frozen=True)
class Sub:
    left: "Expr"
    right: "Expr"
    span: Span = field(default=(), compare=False)
    op: int | None = field(default=None, compare=False)  # offset of the '-' in the text


@dataclass(frozen=True)
class Mul:
    factors: tuple  # of Expr, n-ary
    span: Span = field(default=(), compare=False)


@dataclass(frozen=True)
class Div:
    left: "Expr"
    right: "Expr"
    span: Span = field(default=(), compare=False)
    op: int | None = field(default=None, compare=False)  # offset of the '/' in the text


@dataclass(frozen=True)
class Pow:  # only generated (tanh' = 1 - tanh(z)^2); the parser refuses powers
    base: "Expr"
    exponent: int
    span: Span = field(default=(), compare=False)


@dataclass(frozen=True)
class Call:
    fn: str  # canonical function name, a key of activations.FUNCTIONS
    args: tuple
    span: Span = field(default=(), compare=False)


Expr = Num | Sym | Neg | Add | Sub | Mul | Div | Pow | Call


def mul(*factors) -> Expr:
    """Product that drops factors of 1 and flattens plain products (nested ones stay grouped)."""
    kept = tuple(f for f in factors if not (isinstance(f, Num) and f.value == 1))
    if not kept:
        return Num(1.0)
    return kept[0] if len(kept) == 1 else Mul(kept)


def add(*terms) -> Expr:
    return terms[0] if len(terms) == 1 else Add(tuple(terms))


# --- safe evaluation ---------------------------------------------------------------------------

def evaluate(expr: Expr, env: Mapping[str, float], functions: Mapping[str, Callable]) -> float:
    """Value of ``expr`` with symbols from ``env`` and calls from the ``functions`` table only."""
    if isinstance(expr, Num):
        return float(expr.value)
    if isinstance(expr, Sym):
        return float(env[expr.name])
    if isinstance(expr, Neg):
        return -evaluate(expr.arg, env, functions)
    if isinstance(expr, Add):
        return math.fsum(evaluate(t, env, functions) for t in expr.terms)
    if isinstance(expr, Sub):
        return evaluate(expr.left, env, functions) - evaluate(expr.right, env, functions)
    if isinstance(expr, Mul):
        return math.prod(evaluate(f, env, functions) for f in expr.factors)
    if isinstance(expr, Div):
        return evaluate(expr.left, env, functions) / evaluate(expr.right, env, functions)
    if isinstance(expr, Pow):
        return evaluate(expr.base, env, functions) ** expr.exponent
    if isinstance(expr, Call):
        return functions[expr.fn](*(evaluate(a, env, functions) for a in expr.args))
    raise TypeError(f"not an expression node: {expr!r}")


def children(e: Expr) -> tuple:
    if isinstance(e, (Add,)):
        return e.terms
    if isinstance(e, Mul):
        return e.factors
    if isinstance(e, Call):
        return e.args
    if isinstance(e, (Sub, Div)):
        return (e.left, e.right)
    if isinstance(e, Neg):
        return (e.arg,)
    if isinstance(e, Pow):
        return (e.base,)
    return ()


def substitute(expr: Expr, values: Mapping[str, float]) -> Expr:
    """``expr`` with every symbol that has a value replaced by that number (for worked lines)."""
    if isinstance(expr, Sym):
        return Num(values[expr.name]) if values.get(expr.name) is not None else expr
    if isinstance(expr, Neg):
        return Neg(substitute(expr.arg, values))
    if isinstance(expr, Add):
        return Add(tuple(substitute(t, values) for t in expr.terms))
    if isinstance(expr, Mul):
        return Mul(tuple(substitute(f, values) for f in expr.factors))
    if isinstance(expr, Call):
        return Call(expr.fn, tuple(substitute(a, values) for a in expr.args))
    if isinstance(expr, (Sub, Div)):
        return type(expr)(substitute(expr.left, values), substitute(expr.right, values))
    if isinstance(expr, Pow):
        return Pow(substitute(expr.base, values), expr.exponent)
    return expr
