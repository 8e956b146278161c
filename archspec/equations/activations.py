"""Activation functions: one table row each (value, derivative, how it is written).

Adding an activation is one ``Activation(...)`` line in ``ACTIVATIONS``:
``value`` is the float64 function, ``derivative(z)`` builds g'(z) as an
expression tree (so it prints and evaluates like the rest of a gradient),
``local(O, z)`` writes g' with the unit's output O where a student would
(sigmoid: O(1 - O), tanh: 1 - O²) for the delta rule, and
``torch`` names the function the torch builder uses.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .expr import Call, Expr, Mul, Num, Pow, Sub

LEAKY_SLOPE = 0.01  # torch.nn.functional.leaky_relu's default


def _sigmoid(z: float) -> float:
    # stable for large |z|: never exp of a large positive number
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


SOFTPLUS_THRESHOLD = 20.0  # torch.nn.functional.softplus: linear above this, as torch computes it


def _softplus(z: float) -> float:
    return z if z > SOFTPLUS_THRESHOLD else math.log1p(math.exp(z))


@dataclass(frozen=True)
class Activation:
    name: str
    value: Callable[[float], float]
    derivative: Callable[[Expr], Expr]  # g'(z) as an expression in z
    local: Callable[[Expr, Expr], Expr]  # g' from the unit's output O and input z, e.g. O(1 - O)
    symbol: str  # how the function is written in text: σ, ReLU, tanh
    latex: str
    torch: str  # 'module:function' the torch builder calls
    aliases: tuple = ()


def _f(fn):
    """z -> fn(z) as an expression."""
    return lambda z: Call(fn, (z,))


def _one_minus(e: Expr) -> Expr:
    return Sub(Num(1.0), e)


# name, value, g'(z), g' from (O, z), symbol, latex, torch function, aliases
ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation("sigmoid", _sigmoid, lambda z: Mul((_f("sigmoid")(z), _one_minus(_f("sigmoid")(z)))),
               lambda o, z: Mul((o, _one_minus(o))), "σ", r"\sigma", "torch:sigmoid", ("σ", "sigma", "logistic")),
    Activation("relu", lambda z: max(z, 0.0), _f("step"), lambda o, z: _f("step")(z), "ReLU", r"\mathrm{ReLU}",
               "torch:relu"),
    Activation("tanh", math.tanh, lambda z: _one_minus(Pow(_f("tanh")(z), 2)), lambda o, z: _one_minus(Pow(o, 2)),
               "tanh", r"\tanh", "torch:tanh"),
    Activation("identity", lambda z: z, lambda z: Num(1.0), lambda o, z: Num(1.0), "id", r"\mathrm{id}",
               "archspec.equations.torch_module:identity", ("linear", "id")),
    Activation("leaky_relu", lambda z: z if z > 0 else LEAKY_SLOPE * z, _f("leaky_step"),
               lambda o, z: _f("leaky_step")(z), "LeakyReLU", r"\mathrm{LeakyReLU}",
               "torch.nn.functional:leaky_relu", ("leakyrelu", "leaky")),
    Activation("softplus", _softplus, _f("softplus_slope"), lambda o, z: _f("softplus_slope")(z), "softplus",
               r"\mathrm{softplus}", "torch.nn.functional:softplus"),
)}

# helper functions that only appear in derivatives and losses (never accepted in equations)
HELPERS: dict[str, tuple[Callable, str, str]] = {  # name -> (value, text, latex)
    # written as in the text (amssymb's \mathbb has no digits, so no indicator 1 in LaTeX)
    "step": (lambda z: 1.0 if z > 0 else 0.0, "step", r"\mathrm{step}"),
    "leaky_step": (lambda z: 1.0 if z > 0 else LEAKY_SLOPE, "leaky_step", r"\text{leaky\_step}"),
    "softplus_slope": (lambda z: 1.0 if z > SOFTPLUS_THRESHOLD else _sigmoid(z), "σ", r"\sigma"),  # = σ(z)
    "exp": (math.exp, "exp", r"\exp"),
    "log": (math.log, "log", r"\log"),
}

# helpers a student cannot know from their name: defined where a worked solution first uses them
DEFINITIONS: dict[str, str] = {"step": "step(z) = 1 if z > 0 else 0",
                               "leaky_step": f"leaky_step(z) = 1 if z > 0 else {LEAKY_SLOPE:g}"}

# every name the parser accepts as a function -> canonical activation name
FUNCTION_NAMES: dict[str, str] = {alias: a.name for a in ACTIVATIONS.values() for alias in (a.name, *a.aliases)}

# the evaluator's function table: activations and helpers, nothing else
FUNCTIONS: dict[str, Callable] = {**{a.name: a.value for a in ACTIVATIONS.values()},
                                  **{k: v[0] for k, v in HELPERS.items()}}


def canonical(name: str) -> str | None:
    """'σ' -> 'sigmoid', 'ReLU' -> 'relu'; None for unknown names."""
    return FUNCTION_NAMES.get(name) or FUNCTION_NAMES.get(name.lower())


def text_symbol(fn: str) -> str:
    return ACTIVATIONS[fn].symbol if fn in ACTIVATIONS else HELPERS[fn][1]


def latex_symbol(fn: str) -> str:
    return ACTIVATIONS[fn].latex if fn in ACTIVATIONS else HELPERS[fn][2]
