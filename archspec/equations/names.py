"""What each name in a set of equations is: input, weight, bias, or an assigned variable.

Declared maps (``inputs:``, ``weights:``, ``biases:``) win; a name nobody
declares is classified by convention (x... input, w... weight, b... bias)
unless that role's map is given, in which case it must be listed there.
Also orders the assignments so every name is defined before it is used,
reporting cycles at the use that closes them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, did_you_mean
from .expr import Sym, children
from .parser import Equation

ROLES = ("inputs", "weights", "biases")
CONVENTION = {"inputs": re.compile(r"x\w*\Z"), "weights": re.compile(r"w\w*\Z"), "biases": re.compile(r"b\w*\Z")}
ROLE_WORD = {"inputs": "input", "weights": "weight", "biases": "bias"}


@dataclass
class Located:
    """An equation with the spec path of its text."""

    eq: Equation
    path: tuple
    index: int

    def diag(self, code: str, message: str, offset: int | None, hint: str | None = None) -> Diagnostic:
        return Diagnostic(code, message, self.path, offset=offset, hint=hint)


@dataclass
class Names:
    role: dict[str, str] = field(default_factory=dict)  # name -> 'inputs' | 'weights' | 'biases' | 'assigned'
    by_name: dict[str, Located] = field(default_factory=dict)  # assigned name -> its equation
    order: list[Located] = field(default_factory=list)  # definitions before uses
    first_use: dict[str, int] = field(default_factory=dict)  # name -> rank of first appearance in the text
    used: set = field(default_factory=set)  # assigned names used by another equation

    def of_role(self, role: str, declared: list[str]) -> list[str]:
        """Names of ``role`` in declaration order, then in order of first appearance."""
        found = sorted((n for n, r in self.role.items() if r == role), key=lambda n: self.first_use.get(n, 1 << 30))
        return ([n for n in declared if n in self.role and self.role[n] == role]
                + [n for n in found if n not in declared])


def uses(expr) -> list[Sym]:
    out, stack = [], [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, Sym):
            out.append(e)
        stack.extend(reversed(children(e)))
    return out


def classify(eqs: list[Located], declared: dict[str, list[str] | None]) -> tuple[Names, list[Diagnostic]]:
    """Roles of every name and a definition order; diagnostics for every problem found."""
    names, out = Names(), []
    declared_role = {n: role for role in ROLES for n in (declared.get(role) or [])}
    for loc in eqs:
        name, off = loc.eq.name, loc.eq.name_offset
        if name in names.by_name:
            first = names.by_name[name]
            out.append(loc.diag("duplicate-assignment", f"'{name}' is assigned twice", off,
                                f"first assigned in equation {first.index + 1}; give each unit its own name"))
        elif name in declared_role:
            out.append(loc.diag("duplicate-assignment", f"'{name}' is declared under {declared_role[name]} "
                                "and cannot also be assigned", off))
        else:
            names.by_name[name] = loc
            names.role[name] = "assigned"
    rank = 0
    for loc in eqs:
        for sym in uses(loc.eq.expr):
            names.first_use.setdefault(sym.name, rank)
            rank += 1
            if sym.name in names.role:
                continue
            role = declared_role.get(sym.name) or next(
                (r for r in ROLES if declared.get(r) is None and CONVENTION[r].match(sym.name)), None)
            if role:
                names.role[sym.name] = role
                continue
            known = list(names.role) + list(declared_role)
            hint = did_you_mean(sym.name, known)
            missing = [ROLE_WORD[r] for r in ROLES if declared.get(r) is not None and CONVENTION[r].match(sym.name)]
            if missing and not hint:
                hint = f"add '{sym.name}' to {missing[0]}s"
            out.append(loc.diag("undefined-name", f"undefined name '{sym.name}'", sym.span[0], hint or (
                "assign it in an equation, or declare it under inputs, weights or biases "
                "(undeclared x..., w..., b... names are inputs, weights, biases)")))
    out += _order(eqs, names)
    return names, out


def _order(eqs: list[Located], names: Names) -> list[Diagnostic]:
    """Depth-first topological order of the assignments; a cycle is reported where it closes."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    out: list[Diagnostic] = []
    for loc in eqs:
        for sym in uses(loc.eq.expr):
            if names.role.get(sym.name) == "assigned" and sym.name != loc.eq.name:
                names.used.add(sym.name)

    def visit(name: str, trail: list[str]):
        # iterative enough: depth is bounded by the number of equations (capped by the spec model)
        loc = names.by_name[name]
        state[name] = 1
        for sym in uses(loc.eq.expr):
            if names.role.get(sym.name) != "assigned":
                continue
            if state.get(sym.name) == 1:
                loop = trail[trail.index(sym.name):] + [name, sym.name] if sym.name in trail else [name, sym.name]
                out.append(loc.diag("cycle", f"equations depend on each other in a cycle: {' -> '.join(loop)}",
                                    sym.span[0], "a network is acyclic: no unit may depend on its own output"))
                continue
            if sym.name not in state:
                visit(sym.name, trail + [name])
        state[name] = 2
        names.order.append(loc)

    for loc in eqs:
        if names.by_name.get(loc.eq.name) is loc and loc.eq.name not in state:
            visit(loc.eq.name, [])
    return out
