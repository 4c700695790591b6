"""LaTeX for expression trees, in the lecture's style (a port of ``to_latex`` in utils.jl).

* ``*`` is ``\\cdot``, with no parentheses around factors that are products;
* ``/`` is ``\\dfrac{numerator}{denominator}``;
* ``**`` is ``base^{exponent}``, the base in ``\\left( … \\right)`` unless it is a
  symbol or a non-negative number;
* a sum or difference is wrapped in ``\\left( … \\right)`` when it is nested: an
  operand of ``\\cdot``, of a fraction, of a power's base, of a minus sign, or
  the right operand of ``+``/``−`` (the left operand of ``+``/``−``, the whole
  expression, a function's argument and an exponent are not wrapped);
* functions are ``\\sin\\left(x\\right)``, ``\\sqrt{x}``, ``\\left|x\\right|``, and
  ``\\operatorname{name}\\left(…\\right)`` for the rest of the table.

So the textbook's quotient-rule result prints as in the lecture (fact 21):

>>> from adlab.engines.symbolic import parse
>>> print(latex(parse("(1 + x) / (2*x**2)")))
\\dfrac{\\left(1 + x\\right)}{2 \\cdot x^{2}}
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from adlab.core.expr import Call, Const, Expr, Rope, Sym, as_expr, join_rope

__all__ = ["latex"]

# what a piece of LaTeX is, for deciding parentheses
ATOM, SUM, PRODUCT, FRACTION, POWER, MINUS, FUNCTION, COMPARISON = range(8)

_FUNCTIONS = {
    "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "exp": r"\exp", "log": r"\log",
    "tanh": r"\tanh", "sinh": r"\sinh", "cosh": r"\cosh",
}  # fmt: skip
_COMPARISONS = {"greater": ">", "greater_equal": r"\geq", "less": "<", "less_equal": r"\leq",
                "equal": "=", "not_equal": r"\neq"}  # fmt: skip
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
    "Psi", "Omega",
}  # fmt: skip


def latex(expr: Any) -> str:
    """The expression as a LaTeX math string (see the module docstring for the rules).

    >>> from adlab.engines.symbolic import symbols
    >>> import adlab as ad
    >>> x, y = symbols("x y")
    >>> latex(ad.sin(x + 1) ** 2 / (x - y))
    '\\\\dfrac{\\\\left(\\\\sin\\\\left(x + 1\\\\right)\\\\right)^{2}}{\\\\left(x - y\\\\right)}'
    """
    expr = as_expr(expr)
    done: dict[int, tuple[Rope, int]] = {}
    for node in expr.walk():
        done[id(node)] = _node(node, done)
    return join_rope(done[id(expr)][0])


def _wrapped(rope: Rope) -> Rope:
    return (r"\left(", rope, r"\right)")


def _node(node: Expr, done: dict[int, tuple[Rope, int]]) -> tuple[Rope, int]:
    if isinstance(node, Sym):
        return _symbol(node.name), ATOM
    if isinstance(node, Const):
        return _number(node.value)
    assert isinstance(node, Call)
    args = [done[id(a)] for a in node.args]
    name = node.prim.name
    if name in ("add", "sub") and len(args) == 2:
        (left, _), right = args[0], _nested(args[1], (SUM, MINUS, COMPARISON))
        return (left, " + " if name == "add" else " - ", right), SUM
    if name == "mul" and len(args) == 2:
        left = _nested(args[0], (SUM, COMPARISON))
        right = _nested(args[1], (SUM, MINUS, COMPARISON))
        return (left, r" \cdot ", right), PRODUCT
    if name == "truediv" and len(args) == 2:
        top, bottom = (_nested(a, (SUM, COMPARISON)) for a in args)
        return (r"\dfrac{", top, "}{", bottom, "}"), FRACTION
    if name == "pow" and len(args) == 2:
        (base, kind), (exponent, _) = args
        if kind not in (ATOM, SUM):
            base = _wrapped(base)
        elif kind == SUM:
            base = _nested(args[0], (SUM,))
        return (base, "^{", exponent, "}"), POWER
    if name == "neg" and len(args) == 1:
        return ("-", _nested(args[0], (SUM, MINUS, COMPARISON))), MINUS
    if name in _COMPARISONS and len(args) == 2:
        left, right = (_nested(a, (COMPARISON,)) for a in args)
        return (left, f" {_COMPARISONS[name]} ", right), COMPARISON
    parts: list[Rope] = []
    for i, (text, _) in enumerate(args):
        parts += [", ", text] if i else [text]
    parts += [f", {k}={v!r}" if parts else f"{k}={v!r}" for k, v in node.params]
    if name == "sqrt" and len(args) == 1:
        return (r"\sqrt{", *parts, "}"), ATOM
    if name == "abs" and len(args) == 1:
        return (r"\left|", *parts, r"\right|"), ATOM
    head = _FUNCTIONS.get(name, rf"\operatorname{{{_escape(name)}}}")
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
