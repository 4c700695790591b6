"""Printing expression trees: as Python source and as LaTeX, in the lecture's style.

Both printers walk a tree once, children first (no recursion on depth), and build
each node's text from its children's as a :data:`Rope` (pieces joined once at the
end, so a deep tree prints in time linear in its text). They read nodes by their
``kind`` (``"sym"``, ``"const"`` or ``"call"``) and a call's primitive, its
``symbol`` (``+``) and its ``latex`` command (``\\sin``), so every primitive of the
table prints without a list of names here.

LaTeX follows ``to_latex`` in the talk's utils.jl:

* ``*`` is ``\\cdot``, with no parentheses around factors that are products;
* ``/`` is ``\\dfrac{numerator}{denominator}``;
* ``**`` is ``base^{exponent}``, the base in ``\\left( … \\right)`` unless it is a
  symbol or a non-negative number;
* a sum or difference is wrapped in ``\\left( … \\right)`` when it is nested: an
  operand of ``\\cdot``, of a fraction, of a power's base, of a minus sign, or
  the right operand of ``+``/``−`` (the left operand of ``+``/``−``, the whole
  expression, a function's argument and an exponent are not wrapped);
* functions are ``\\sin\\left(x\\right)``, ``\\sqrt{x}``, ``\\left|x\\right|``, and
  ``\\operatorname{name}\\left(…\\right)`` for a primitive without a LaTeX command.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["COMPARISONS", "PythonPrinter", "Rope", "join_rope", "latex_text"]

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_BINARY = {"+": 10, "-": 10, "*": 11, "/": 11, "@": 11, "**": 13,
           "<": 5, "<=": 5, ">": 5, ">=": 5, "==": 5, "!=": 5}  # fmt: skip
_UNARY, _ATOM = 12, 16


#: Text built from pieces: a string, or a tuple of pieces joined once at the end (so a
#: deep tree prints in time linear in its text, not quadratic).
Rope = str | tuple


def join_rope(rope: Rope) -> str:
    """The text of a :data:`Rope`, flattened with an explicit stack (no recursion)."""
    out: list[str] = []
    stack = [rope]
    while stack:
        piece = stack.pop()
        if isinstance(piece, str):
            out.append(piece)
        else:
            stack.extend(reversed(piece))
    return "".join(out)


class PythonPrinter:
    """Python source for an expression, with the fewest parentheses that keep its tree."""

    def __init__(self, name: Callable[[Any], str] | None,
                 constant: Callable[[Any], str | None] | None,
                 infix: Callable[[Any], bool] | None) -> None:  # fmt: skip
        self.name = name or (lambda prim: prim.name)
        self.constant = constant
        self.infix = infix or (lambda call: True)

    def text(self, expr: Any) -> str:
        # per node: (its text as a rope, its precedence, whether the text starts with "-")
        done: dict[int, tuple[Rope, int, bool]] = {}
        for node in expr.walk():
            done[id(node)] = self._node(node, done)
        return join_rope(done[id(expr)][0])

    def _node(self, node: Any, done: dict[int, tuple[Rope, int, bool]]) -> tuple[Rope, int, bool]:
        if node.kind == "sym":
            return node.name, _ATOM, False
        if node.kind == "const":
            text, prec = self._const(node.value)
            return text, prec, text.startswith("-")
        args = [done[id(a)] for a in node.args]
        symbol = node.prim.symbol
        if symbol is not None and not node.params and self.infix(node):
            if len(args) == 2 and symbol in _BINARY:
                return self._binary(symbol, *args)
            if len(args) == 1 and symbol == "-":
                text, prec, minus = args[0]
                nested = prec < _UNARY or minus  # -(a + b), -(-a)
                return ("-(", text, ")") if nested else ("-", text), _UNARY, True
        parts: list[Rope] = []
        for i, (t, _, _) in enumerate(args):
            parts += [", ", t] if i else [t]
        parts += [f"{', ' if parts else ''}{k}={v!r}" for k, v in node.params]
        return (f"{self.name(node.prim)}(", *parts, ")"), _ATOM, False

    @staticmethod
    def _binary(symbol: str, left: tuple[Rope, int, bool],
                right: tuple[Rope, int, bool]) -> tuple[Rope, int, bool]:  # fmt: skip
        prec = _BINARY[symbol]
        (lt, lp, lminus), (rt, rp, _) = left, right
        if symbol == "**":  # right-associative; -x ** 2 is -(x ** 2)
            left_ok, right_ok = lp > prec, rp >= _UNARY
        elif prec == 5:  # comparisons do not chain the way trees do
            left_ok, right_ok = lp > prec, rp > prec
        else:
            left_ok, right_ok = lp >= prec, rp > prec
        lt = lt if left_ok else ("(", lt, ")")
        rt = rt if right_ok else ("(", rt, ")")
        return (lt, f" {symbol} ", rt), prec, lminus and left_ok

    def _const(self, value: Any) -> tuple[str, int]:
        if self.constant is not None:
            text = self.constant(value)
            if text is not None:
                return text, _ATOM
        if isinstance(value, bool | np.bool_):
            return repr(bool(value)), _ATOM
        if isinstance(value, int | float | np.integer | np.floating):
            v = value.item() if isinstance(value, np.generic) else value
            if isinstance(v, float) and not math.isfinite(v):
                return f"float('{v}')", _ATOM
            text = repr(v)  # -0.0 is negative too: -0.0 ** 2 is -(0.0 ** 2)
            return text, (_UNARY if text.startswith("-") else _ATOM)
        return repr(value), _ATOM


# ---------------------------------------------------------------------------
# LaTeX

# what a piece of LaTeX is, for deciding parentheses
ATOM, SUM, PRODUCT, FRACTION, POWER, MINUS, FUNCTION, COMPARISON = range(8)

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
    "Psi", "Omega",
}  # fmt: skip


def latex_text(expr: Any) -> str:
    """The expression tree ``expr`` as a LaTeX math string (see the module docstring)."""
    done: dict[int, tuple[Rope, int]] = {}
    for node in expr.walk():
        done[id(node)] = _node(node, done)
    return join_rope(done[id(expr)][0])


def _wrapped(rope: Rope) -> Rope:
    return (r"\left(", rope, r"\right)")


def _node(node: Any, done: dict[int, tuple[Rope, int]]) -> tuple[Rope, int]:
    if node.kind == "sym":
        return _symbol(node.name), ATOM
    if node.kind == "const":
        return _number(node.value)
    args = [done[id(a)] for a in node.args]
    prim = node.prim
    symbol = prim.symbol if not node.params else None
    if symbol in ("+", "-") and len(args) == 2:
        (left, _), right = args[0], _nested(args[1], (SUM, MINUS, COMPARISON))
        return (left, f" {symbol} ", right), SUM
    if symbol == "*" and len(args) == 2:
        left = _nested(args[0], (SUM, COMPARISON))
        right = _nested(args[1], (SUM, MINUS, COMPARISON))
        return (left, r" \cdot ", right), PRODUCT
    if symbol == "/" and len(args) == 2:
        top, bottom = (_nested(a, (SUM, COMPARISON)) for a in args)
        return (r"\dfrac{", top, "}{", bottom, "}"), FRACTION
    if symbol == "**" and len(args) == 2:
        (base, kind), (exponent, _) = args
        if kind not in (ATOM, SUM):
            base = _wrapped(base)
        elif kind == SUM:
            base = _nested(args[0], (SUM,))
        return (base, "^{", exponent, "}"), POWER
    if symbol == "-" and len(args) == 1:
        return ("-", _nested(args[0], (SUM, MINUS, COMPARISON))), MINUS
    if symbol in COMPARISONS and len(args) == 2:
        left, right = (_nested(a, (COMPARISON,)) for a in args)
        return (left, f" {prim.latex or symbol} ", right), COMPARISON
    parts: list[Rope] = []
    for i, (text, _) in enumerate(args):
        parts += [", ", text] if i else [text]
    parts += [f", {k}={v!r}" if parts else f"{k}={v!r}" for k, v in node.params]
    if isinstance(prim.latex, tuple):  # a bracket around the argument: \sqrt{x}, |x|
        return (prim.latex[0], *parts, prim.latex[1]), ATOM
    head = prim.latex or rf"\operatorname{{{_escape(prim.name)}}}"
    return (head, r"\left(", *parts, r"\right)"), FUNCTION


def _nested(entry: tuple[Rope, int], wrap: tuple[int, ...]) -> Rope:
    text, kind = entry
    return _wrapped(text) if kind in wrap else text


def _symbol(name: str) -> str:
    """``x`` as it is, ``alpha`` as ``\\alpha``, ``x_1`` and ``x[1]`` as ``x_{1}``."""
    match = re.fullmatch(r"([A-Za-z]+)(?:_|\[)([^\]]*)\]?", name)
    if match:
        base, sub = match.groups()
        return f"{_symbol(base)}_{{{_escape(sub)}}}"
    return f"\\{name}" if name in _GREEK else _escape(name)


def _escape(text: str) -> str:
    return re.sub(r"([_#%&${}])", r"\\\1", text)


def _number(value: Any) -> tuple[str, int]:
    if isinstance(value, bool | np.bool_):
        return rf"\mathrm{{{bool(value)}}}", ATOM
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        text = r"\mathrm{nan}" if value != value else r"\infty" if value > 0 else r"-\infty"
    else:
        text = repr(value) if isinstance(value, int | float) else _escape(repr(value))
        if "e" in text and isinstance(value, float):  # 1e-08 -> 1 \cdot 10^{-8}
            mantissa, exponent = text.split("e")
            text = rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
            return text, PRODUCT if not text.startswith("-") else MINUS
    return text, MINUS if text.startswith("-") else ATOM
