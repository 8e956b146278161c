"""Loss functions: value and dl/dy_k, one table row each (float64)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .expr import Add, Call, Div, Expr, Mul, Neg, Num, Pow, Sub, Sym


def _squared(ys: list[float], ts: list[float]) -> float:
    return math.fsum(0.5 * (y - t) ** 2 for y, t in zip(ys, ts))


def _bce(ys: list[float], ts: list[float]) -> float:
    return -math.fsum(t * math.log(y) + (1 - t) * math.log1p(-y) for y, t in zip(ys, ts))


def _log_softmax(ys: list[float]) -> list[float]:
    top = max(ys)
    lse = top + math.log(math.fsum(math.exp(y - top) for y in ys))
    return [y - lse for y in ys]


def _ce(ys: list[float], ts: list[float]) -> float:
    return -math.fsum(t * lp for t, lp in zip(ts, _log_softmax(ys)))


def _softmax_expr(ys: list[Sym], k: int) -> Expr:
    return Div(Call("exp", (ys[k],)), Add(tuple(Call("exp", (y,)) for y in ys)))


def _sum(terms: list) -> Expr:
    return terms[0] if len(terms) == 1 else Add(tuple(terms))


def _log(e: Expr) -> Expr:
    return Call("log", (e,))


@dataclass(frozen=True)
class Loss:
    name: str
    value: Callable[[list, list], float]
    # dl/dy_k as an expression of the output symbols ys and target symbols ts
    derivative: Callable[[list, list, int], Expr]
    expr: Callable[[list, list], Expr]  # l itself, for the worked line (the value comes from ``value``)
    text: str
    latex: str


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("squared_error", _squared, lambda ys, ts, k: Sub(ys[k], ts[k]),
         lambda ys, ts: _sum([Mul((Num(0.5), Pow(Sub(y, t), 2))) for y, t in zip(ys, ts)]),
         "l = Σ_i ½ (y_i − t_i)²", r"l = \sum_i \tfrac{1}{2}(y_i - t_i)^2"),
    Loss("binary_cross_entropy", _bce,
         lambda ys, ts, k: Div(Sub(ys[k], ts[k]), Mul((ys[k], Sub(Num(1.0), ys[k])))),
         lambda ys, ts: Neg(_sum([Add((Mul((t, _log(y))), Mul((Sub(Num(1.0), t), _log(Sub(Num(1.0), y))))))
                                  for y, t in zip(ys, ts)])),
         "l = −Σ_i [t_i log y_i + (1 − t_i) log(1 − y_i)]",
         r"l = -\sum_i \left[t_i \log y_i + (1 - t_i)\log(1 - y_i)\right]"),
    Loss("cross_entropy", _ce, lambda ys, ts, k: Sub(_softmax_expr(ys, k), ts[k]),
         lambda ys, ts: Neg(_sum([Mul((t, _log(_softmax_expr(ys, k)))) for k, t in enumerate(ts)])),
         "l = −Σ_i t_i log softmax(y)_i", r"l = -\sum_i t_i \log \mathrm{softmax}(y)_i"),
)}
