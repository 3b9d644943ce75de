"""The project's own expression grammar, for event conditions and constraint rules.

Users write conditions like ``escalation >= 6 and us.war_on_iran``. They are parsed
here into a small tree and evaluated over numpy arrays (one value per replicate); nothing
is ever passed to ``eval`` or ``exec``. Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | "true" | "false" | NAME | "{" PARAM "}" | FUNC "(" expr ("," expr)* ")" | "(" expr ")"

NAME is a dotted world-variable name (``iran.strength``, ``relation.russia.israel``);
FUNC is one of min, max, abs. A bare name in a boolean position means "is non-zero".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

FUNCS = {"min": 2, "max": 2, "abs": 1}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|,|\{|\})"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))"
)
_KEYWORDS = {"and", "or", "not", "true", "false"}
MAX_LENGTH = 500
MAX_DEPTH = 40


class ExprError(Exception):
    """A syntax or name error at a 1-based column of the expression."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Node:
    """A parsed expression: ``op`` with ``args`` (sub-nodes, or a literal/name for leaves)."""

    op: str
    args: tuple[Any, ...]

    def names(self) -> set[str]:
        """World-variable names the expression reads."""
        if self.op == "name":
            return {self.args[0]}
        out: set[str] = set()
        for a in self.args:
            if isinstance(a, Node):
                out |= a.names()
        return out

    def params(self) -> set[str]:
        """Parameter names (``{threshold}``) the expression reads."""
        if self.op == "param":
            return {self.args[0]}
        out: set[str] = set()
        for a in self.args:
            if isinstance(a, Node):
                out |= a.params()
        return out


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            col = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise ExprError(f"unexpected character '{text[col - 1]}'", col)
        kind = m.lastgroup or ""
        value = m.group(kind)
        tokens.append((kind, value, m.start(kind) + 1))
        pos = m.end()
    tokens.append(("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, names: Iterable[str] | None, params: Iterable[str] | None) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.names = set(names) if names is not None else None
        self.params = set(params) if params is not None else None
        self.depth = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, value: str, after: str) -> None:
        kind, val, col = self.take()
        if val != value or kind == "end" and value:
            found = f"'{val}'" if kind != "end" else "the end"
            raise ExprError(f"expected '{value}' after {after} at column {col}, found {found}", col)

    def parse(self) -> Node:
        node = self.or_()
        kind, val, col = self.peek()
        if kind != "end":
            raise ExprError(f"unexpected '{val}' at column {col}", col)
        return node

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError("expression is nested too deeply", self.peek()[2])

    def or_(self) -> Node:
        node = self.and_()
        while self.peek()[1] == "or" and self.peek()[0] == "name":
            self.take()
            node = Node("or", (node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.peek()[1] == "and" and self.peek()[0] == "name":
            self.take()
            node = Node("and", (node, self.not_()))
        return node

    def not_(self) -> Node:
        if self.peek()[1] == "not" and self.peek()[0] == "name":
            self.take()
            self._nest()
            node = Node("not", (self.not_(),))
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        left = self.sum_()
        kind, val, col = self.peek()
        if kind == "op" and val in ("<", "<=", ">", ">=", "==", "!="):
            self.take()
            if self.peek()[0] == "end":
                raise ExprError(f"expected a value after '{val}' at column {self.peek()[2]}", self.peek()[2])
            return Node(val, (left, self.sum_()))
        if kind == "name" and val not in _KEYWORDS:
            raise ExprError(f"expected a comparison or 'and'/'or' before '{val}' at column {col}", col)
        if kind == "num":
            raise ExprError(f"expected a comparison before '{val}' at column {col}", col)
        return left

    def sum_(self) -> Node:
        node = self.product()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            node = Node(op, (node, self.product()))
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            col = self.peek()[2]
            right = self.unary()
            if op == "/" and _constant(right) == 0.0:
                raise ExprError(f"division by zero at column {col}", col)
            if op == "/" and _always_zero(right):
                raise ExprError(f"division by an expression that is always zero at column {col}", col)
            node = Node(op, (node, right))
        return node

    def unary(self) -> Node:
        if self.peek()[0] == "op" and self.peek()[1] == "-":
            self.take()
            self._nest()
            node = Node("neg", (self.unary(),))
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        kind, val, col = self.take()
        if kind == "num":
            number = float(val)
            if not math.isfinite(number) or len(val) > 40:
                raise ExprError(f"number at column {col} is too large", col)
            return Node("num", (number,))
        if kind == "op" and val == "(":
            self._nest()
            node = self.or_()
            self.depth -= 1
            self.expect(")", "the expression in parentheses")
            return node
        if kind == "op" and val == "{":
            k2, name, c2 = self.take()
            if k2 != "name":
                raise ExprError(f"expected a parameter name after '{{' at column {c2}", c2)
            if self.params is not None and name not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                raise ExprError(f"unknown parameter '{{{name}}}' at column {c2} (known: {known})", c2)
            self.expect("}", f"parameter '{name}'")
            return Node("param", (name,))
        if kind == "name":
            if val in ("true", "false"):
                return Node("num", (1.0 if val == "true" else 0.0,))
            if val in _KEYWORDS:
                raise ExprError(f"expected a value before '{val}' at column {col}", col)
            if val in FUNCS and self.peek()[1] == "(":
                self.take()
                args = [self.or_()]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.or_())
                self.expect(")", f"the arguments of {val}()")
                if len(args) != FUNCS[val]:
                    raise ExprError(f"{val}() takes {FUNCS[val]} argument(s), found {len(args)} at column {col}", col)
                return Node(val, tuple(args))
            if self.names is not None and val not in self.names:
                from model.errors import did_you_mean

                raise ExprError(f"unknown variable '{val}' at column {col}{did_you_mean(val, self.names)}", col)
            return Node("name", (val,))
        if kind == "end":
            raise ExprError(f"expression ends early at column {col}; expected a value", col)
        raise ExprError(f"expected a value at column {col}, found '{val}'", col)


def _constant(node: Node) -> float | None:
    """The value of a literal (``0``, ``-0``, ``(0)``), or None when the node reads anything."""
    if node.op == "num":
        return float(node.args[0])
    if node.op == "neg":
        inner = _constant(node.args[0])
        return None if inner is None else -inner
    return None


def _always_zero(node: Node) -> bool:
    """Whether ``node`` is zero whatever the state: ``x - x``, ``0 * y``, ``(1 - 1)``, ``abs(y - y)``...

    Why: a division by such a divisor would be 0 in every replicate and step (the grammar's x / 0
    is 0), an outcome that silently means nothing; it is refused where it is written instead.
    Linear in the size of the expression (structural equality of the two sides of a difference).
    """
    op, args = node.op, node.args
    if op == "num":
        return float(args[0]) == 0.0
    if op in ("neg", "abs"):
        return _always_zero(args[0])
    if op == "-":
        return args[0] == args[1] or (_always_zero(args[0]) and _always_zero(args[1]))
    if op == "+" or op in ("min", "max"):
        return _always_zero(args[0]) and _always_zero(args[1])
    if op in ("*", "/"):
        return _always_zero(args[0]) or (op == "*" and _always_zero(args[1]))
    return False


def parse(text: str, names: Iterable[str] | None = None, params: Iterable[str] | None = None) -> Node:
    """Parse ``text``; names and params, when given, are the only ones accepted."""
    if not isinstance(text, str):
        raise ExprError("expected an expression string", 1)
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise ExprError("expression is empty", 1)
    return _Parser(text, names, params).parse()


_BIN: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
    "min": np.minimum,
    "max": np.maximum,
}


def evaluate(node: Node, lookup: Callable[[str], Any], params: Mapping[str, Any] | None = None) -> Any:
    """Evaluate over arrays: ``lookup(name)`` returns a variable's per-replicate values."""
    op, args = node.op, node.args
    if op == "num":
        return args[0]
    if op == "name":
        return lookup(args[0])
    if op == "param":
        return (params or {})[args[0]]
    if op == "neg":
        return -np.asarray(evaluate(args[0], lookup, params), dtype=float)
    if op == "abs":
        return np.abs(evaluate(args[0], lookup, params))
    if op == "not":
        return np.logical_not(_truth(evaluate(args[0], lookup, params)))
    if op == "and":
        return np.logical_and(_truth(evaluate(args[0], lookup, params)), _truth(evaluate(args[1], lookup, params)))
    if op == "or":
        return np.logical_or(_truth(evaluate(args[0], lookup, params)), _truth(evaluate(args[1], lookup, params)))
    a = np.asarray(evaluate(args[0], lookup, params), dtype=float)
    b = np.asarray(evaluate(args[1], lookup, params), dtype=float)
    if op == "/":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b != 0, a / np.where(b != 0, b, 1.0), 0.0)
    return _BIN[op](a, b)


def _truth(value: Any) -> Any:
    v = np.asarray(value)
    return v if v.dtype == bool else v != 0


def truth(value: Any) -> Any:
    """Boolean view of an evaluated expression (non-zero is true)."""
    return _truth(value)
