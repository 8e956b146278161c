"""The derivations of ``derive.py`` as worked-solution blocks (Markdown, LaTeX and text alike)."""
from __future__ import annotations

from .activations import ACTIVATIONS
from .derive import ERR_H, ERR_K, Step, chain_factors, partial_step, hidden_derivations, output_derivations
from ..document import Chain, Para
from .document import Label, formula
from .losses import LOSSES


def label(step: Step) -> Label:
    return Label(step.text, step.latex)


def _fn(act: str) -> Label:
    a = ACTIVATIONS[act]
    return Label(a.symbol, a.latex)


def delta_intro() -> list:
    return ["A unit's error term is ", formula("δ = ∂l/∂z"), ": ",
            Label("δ_k = g'(z_k) · Err_k", r"\delta_k = g'(z_k) \cdot \mathrm{Err}_k"), " for an output unit, ",
            Label("δ_h = g'(z_h) · Err_h", r"\delta_h = g'(z_h) \cdot \mathrm{Err}_h"), " for a hidden one; then ",
            formula("∂l/∂w_ij = δ_j · O_i"), "."]


def delta_blocks(net, loss: str) -> list:
    """δ_k and δ_h derived for the network's own activations and loss, before they are computed."""
    blocks: list = []
    for act, rows in output_derivations(net, loss):
        blocks += [Para(["Deriving ", formula("δ_k"), " for an output unit with ", _fn(act), " under ",
                         Label(LOSSES[loss].text, LOSSES[loss].latex), ": ", label(ERR_K), " is ",
                         Label("∂l/∂O_k", r"\frac{\partial l}{\partial O_k}"), " and ", formula("O_k = g(z_k)"), ":"]),
                   Chain(label(rows[0]), [label(r) for r in rows[1:]])]
    for act, rows in hidden_derivations(net):
        blocks += [Para(["Deriving ", formula("δ_h"), " for a hidden unit with ", _fn(act), ": ",
                         label(ERR_H), formula(" = Σ_k w_hk δ_k"), " over the units ", formula("k"), " it feeds, and ",
                         formula("O_h = g(z_h)"), ":"]),
                   Chain(label(rows[0]), [label(r) for r in rows[1:]])]
    return blocks


def factor_blocks(net, loss: str, param: str) -> tuple[list, list]:
    """(blocks listing each chain-rule factor of dl/dparam, [the product of named partials]) as Q1(b) writes
    them: ∂l/∂y = y − t, ∂y/∂a = w2, ... before ∂l/∂w1 = ∂l/∂y · ∂y/∂a · ...; ([], []) when not written out."""
    found = chain_factors(net, loss, param)
    if found is None:
        return [], []
    product, factors = found
    pieces: list = []
    for i, (f, e) in enumerate(factors):
        pieces += ([", "] if i else []) + [Chain(label(f), [label(e)])]
    return [Para(["Factors of ", label(partial_step("l", param)), ": "]
                 + pieces + ["."])], [label(product)]
