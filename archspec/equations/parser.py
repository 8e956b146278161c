"""A whitelisting parser for equations such as ``y = sigmoid(w5*a1 + w6*a2 + b3)``.

Grammar (nothing else is accepted, and nothing is ever evaluated)::

    equation := NAME '=' sum
    sum      := product (('+' | '-') product)*
    product  := unary (('*' | '/') unary)*
    unary    := '-' unary | primary
    primary  := NUMBER | NAME | FUNCTION '(' sum ')' | '(' sum ')'

FUNCTION is a name from the activation table (``σ``, ``ReLU``... too); ``·``, ``×``
and ``−`` are read as ``*`` and ``-``. Length and parenthesis depth are checked
by a flat scan *before* the recursive parser runs, so 10,000 nested
parentheses are refused without recursing; the parser also counts its own
depth (for chains like ``- - - x``). Every error carries the character offset
inside the equation text.
"""
from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass

from ..diagnostics import did_you_mean
from .activations import ACTIVATIONS, canonical
from .expr import Add, Call, Div, Expr, Mul, Neg, Num, Sub, Sym

MAX_CHARS = 2000  # one equation; the q3 one-liners are ~200
MAX_DEPTH = 32  # nested parentheses / unary minus
SAME = {"·": "*", "×": "*", "−": "-", "∗": "*"}
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[^\W\d]\w*)"
                    r"|(?P<op>\*\*|[-+*/()=,^·×−∗]))")


@dataclass(frozen=True)
class ParseError(Exception):
    code: str
    message: str
    offset: int
    hint: str | None = None


@dataclass(frozen=True)
class Equation:
    name: str
    expr: Expr
    text: str
    name_offset: int


@dataclass(frozen=True)
class Token:
    kind: str  # 'num', 'name', 'op', 'end'
    text: str
    offset: int


def precheck(text: str) -> None:
    """Refuse over-long or over-nested text with a flat scan (no recursion)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise ParseError("too-deep", f"parentheses nested more than {MAX_DEPTH} deep", i,
                                 "name intermediate results in separate equations")
        elif ch == ")":
            depth -= 1
    if len(text) > MAX_CHARS:
        raise ParseError("too-long", f"equation is {len(text):,} characters long; the limit is {MAX_CHARS:,}",
                         MAX_CHARS, "split it into several named equations")


def tokens(text: str) -> list[Token]:
    out, pos = [], 0
    while True:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            rest = text[pos:].lstrip()
            where = len(text) - len(rest)
            if not rest:
                out.append(Token("end", "", len(text)))
                return out
            out.append(Token("bad", rest[0], where))  # raised when the parser reaches it
            return out
        kind = m.lastgroup
        tok = m.group(kind)
        out.append(Token(kind, SAME.get(tok, tok), m.start(kind)))
        pos = m.end()


def _bad_character(text: str, i: int) -> ParseError:
    ch = text[i]
    if ch == "." and i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_)"):
        return ParseError("equation-syntax", "attribute access ('.') is not allowed in an equation", i,
                          "equations hold names, numbers, + - * / and activation calls only")
    if ch in "'\"":
        return ParseError("equation-syntax", "strings are not allowed in an equation", i)
    return ParseError("equation-syntax", f"unexpected character {ch!r}", i,
                      "equations hold names, numbers, + - * / ( ) and activation calls only")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokens(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind == "bad":
            raise _bad_character(self.text, tok.offset)
        return tok

    def take(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def expect(self, op: str, what: str) -> Token:
        if self.tok.text != op or self.tok.kind != "op":
            raise self.unexpected(what)
        return self.take()

    def unexpected(self, wanted: str) -> ParseError:
        tok = self.tok
        if tok.kind == "end":
            return ParseError("equation-syntax", f"equation ends early: expected {wanted}", tok.offset)
        if tok.text in ("**", "^"):
            return ParseError("equation-syntax", f"powers ('{tok.text}') are not allowed in an equation", tok.offset,
                              "a neuron computes activation(weighted sum); write products with '*'")
        return ParseError("equation-syntax", f"expected {wanted}, found {tok.text!r}", tok.offset)

    def equation(self) -> Equation:
        if self.tok.kind != "name" or len(self.toks) < 2 or self.toks[self.i + 1].text != "=":
            raise ParseError("equation-syntax", "an equation is written 'name = expression'", self.tok.offset,
                             "e.g. 'a1 = sigmoid(w1*x1 + b1)'")
        name = self.take()
        self.check_name(name)
        self.take()  # '='
        expr = self.sum()
        if self.tok.kind != "end":
            if "\n" in self.text[:self.tok.offset] and self.toks[self.i + 1].text == "=":
                raise ParseError("equation-syntax", f"expected the end of the equation, found {self.tok.text!r}",
                                 self.tok.offset, "a string holds one equation; write several as a list: "
                                 "equations: ['z = ...', 'y = ...']")
            raise self.unexpected("an operator or the end of the equation")
        return Equation(name.text, expr, self.text, name.offset)

    def sum(self) -> Expr:
        return self.chain(("+", "-"), self.product, Add, Sub)

    def product(self) -> Expr:
        return self.chain(("*", "/"), self.unary, Mul, Div)

    def chain(self, ops: tuple[str, str], operand, nary, binary) -> Expr:
        """``a op b op c ...`` for one precedence level: ``ops[0]`` collects operands into the
        n-ary node (Add, Mul); ``ops[1]`` is left-associative and binary (Sub, Div)."""
        start = self.tok.offset
        items = [operand()]
        while self.tok.text in ops and self.tok.kind == "op":
            op = self.take()
            right = operand()
            if op.text == ops[0]:
                items.append(right)
            else:
                left = items[0] if len(items) == 1 else nary(tuple(items), (start, right.span[0]))
                items = [binary(left, right, (start, right.span[1]), op.offset)]
        if len(items) == 1:
            return items[0]
        return nary(tuple(items), (start, items[-1].span[1]))

    def unary(self) -> Expr:
        tok = self.tok
        if tok.kind == "op" and tok.text in ("-", "+"):
            self.enter(tok)
            self.take()
            arg = self.unary()
            self.depth -= 1
            return arg if tok.text == "+" else Neg(arg, (tok.offset, arg.span[1]))
        out = self.primary()
        if self.tok.text in ("**", "^"):
            raise self.unexpected("an operator")
        return out

    def enter(self, tok: Token):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("too-deep", f"expression nested more than {MAX_DEPTH} deep", tok.offset,
                             "name intermediate results in separate equations")

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            value = float(tok.text)
            if not math.isfinite(value):
                raise ParseError("equation-syntax", f"number {tok.text} is out of range", tok.offset)
            return Num(value, (tok.offset, tok.offset + len(tok.text)))
        if tok.kind == "name":
            self.take()
            self.check_name(tok)
            if self.tok.text == "(":
                return self.call(tok)
            return Sym(tok.text, (tok.offset, tok.offset + len(tok.text)))
        if tok.text == "(":
            self.enter(tok)
            self.take()
            inner = self.sum()
            self.expect(")", "')'")
            self.depth -= 1
            return inner
        raise self.unexpected("a name, a number or '('")

    def call(self, name: Token) -> Expr:
        fn = canonical(name.text)
        if fn is None:
            known = sorted(ACTIVATIONS)
            raise ParseError("unknown-function", f"unknown function '{name.text}'", name.offset,
                             did_you_mean(name.text, known) or f"known functions: {', '.join(known)}")
        self.enter(self.tok)
        self.take()  # '('
        arg = self.sum()
        if self.tok.text == ",":
            raise ParseError("equation-syntax", f"{name.text}() takes one argument", self.tok.offset)
        close = self.expect(")", "')'")
        self.depth -= 1
        return Call(fn, (arg,), (name.offset, close.offset + 1))

    @staticmethod
    def check_name(tok: Token):
        if keyword.iskeyword(tok.text):
            raise ParseError("equation-syntax", f"'{tok.text}' is not allowed in an equation", tok.offset,
                             "use plain names such as x1, w1, b1, a1, y")


def parse_equation(text: str) -> Equation:
    """``'a1 = sigmoid(w1*x1)'`` -> Equation; raises ParseError with an offset into ``text``."""
    if not isinstance(text, str):
        raise ParseError("equation-syntax", "an equation must be text such as 'y = sigmoid(w1*x + b1)'", 0)
    precheck(text)
    return _Parser(text).equation()
