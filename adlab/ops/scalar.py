"""Elementwise primitives: each one declared once, its implementation beside its partials.

Every primitive here acts elementwise (with numpy broadcasting), so its rule is
a list of partial derivatives, one per argument, ``d(*args, out)``. From that
one list adlab derives the forward rule (``out_dot = Σ ∂out/∂xᵢ · ẋᵢ``) and the
reverse rule (``x̅ᵢ = out̅ · ∂out/∂xᵢ``, summed back to the shape of ``xᵢ``).

The partials are written with adlab operations, so any engine can evaluate
them on its own value type (floats, arrays, traced values, duals, symbolic
expressions): that is how one table serves five engines and higher derivatives.
Inside rules, ``+ - *`` and unary ``-`` are used directly (they route to the
table for every value type); divisions call :func:`div` and powers ``pow``,
which give numpy's ``inf``/``nan`` where Python floats would raise.

A function of one argument is one :func:`elementwise` declaration: its name, the
``math`` and numpy functions it stands for (Python floats take the fast path
through :mod:`math` and stay Python floats; everything else goes through numpy and
keeps its dtype, float32 stays float32), its partial, and its LaTeX command. The
maps of numpy's ufuncs and ``math`` functions, the exports of ``adlab`` and the
LaTeX printer all read these declarations. Python's operators (``add``, ``mul``,
``pow`` ...) are declared in :mod:`adlab.core.operators`; their rules are here.

Conventions at kinks (the derivative at a non-differentiable point is a fixed
subgradient, never an exception): ``abs'(0) = 0``, ``relu'(0) = 0``, ties of
``maximum``/``minimum`` split evenly (½ each), ``sqrt'(0) = inf`` (the true
limit), ``d/dx x**0 = 0`` and ``d/dy 0**y = 0`` for ``y > 0``. Each is declared
with its primitive; :data:`KINKS` lists them all, the array primitives' too, by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adlab.core.operators import (
    absolute,
    add,
    div,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    mul,
    neg,
    not_equal,
    pow,
    sub,
    truediv,
)
from adlab.core.primitive import Primitive
from adlab.core.rules import ByName, defpartials, kinks

__all__ = [
    "KINKS", "PUBLIC", "abs", "add", "cos", "div", "elementwise", "equal", "exp", "expm1",
    "greater", "greater_equal", "less", "less_equal", "log", "log1p", "logical_not", "maximum",
    "minimum", "mul", "neg", "not_equal", "pow", "relu", "sigmoid", "sign", "sin", "sqrt", "sub",
    "tan", "tanh", "truediv", "where",
]  # fmt: skip

_PY_NUMBER = (float, int)
_SCALAR_BOOL = (bool, np.bool_)

PUBLIC: dict[str, Primitive] = {}
"""The differentiable primitives of this module by name: what ``adlab`` exports."""


def elementwise(name: str, math_fn: Callable | None, np_fn: Callable, doc: str, *,
                partial: Callable[..., Any], kink: str | None = None,
                latex: str | tuple[str, str] | None = None) -> Primitive:  # fmt: skip
    """Declare a primitive of one argument: ``math_fn`` on Python numbers (``np_fn`` where
    it would raise, numpy's inf or nan), ``np_fn`` elsewhere; ``partial(x, out)`` its
    derivative; ``kink`` its convention at non-differentiable points; ``latex`` its
    command. Both functions become names it stands for (``np.sin(x)``, ``math.sin(x)``).
    """

    def impl(x: Any) -> Any:
        if type(x) in _PY_NUMBER and math_fn is not None:
            try:
                return math_fn(x)
            except (ValueError, OverflowError):  # numpy's answer: inf or nan, with a warning
                return float(np_fn(float(x)))
        return np_fn(x)

    impl.__name__ = impl.__qualname__ = name
    stands_for = tuple(f for f in (np_fn, math_fn) if isinstance(f, np.ufunc) or (
        f is not None and getattr(f, "__module__", None) == "math"))  # fmt: skip
    prim = Primitive(name, impl, doc=doc, kink=kink, stands_for=stands_for, latex=latex)
    defpartials(prim, partial)
    PUBLIC[name] = prim
    return prim


def _public(prim: Primitive) -> Primitive:
    PUBLIC[prim.name] = prim
    return prim


def _sigmoid_float(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_array(x: Any) -> Any:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _relu_impl(x: Any) -> Any:
    if type(x) in _PY_NUMBER:
        return 0.0 if x <= 0 else float(x)
    return np.maximum(x, 0)


def _maximum_impl(x: Any, y: Any) -> Any:
    if type(x) in _PY_NUMBER and type(y) in _PY_NUMBER:
        return float(x if x >= y or x != x else y)
    return np.maximum(x, y)


def _minimum_impl(x: Any, y: Any) -> Any:
    if type(x) in _PY_NUMBER and type(y) in _PY_NUMBER:
        return float(x if x <= y or x != x else y)
    return np.minimum(x, y)


def _where_impl(condition: Any, x: Any, y: Any) -> Any:
    if type(x) in _PY_NUMBER and type(y) in _PY_NUMBER and type(condition) in _SCALAR_BOOL:
        return x if condition else y
    return np.where(condition, x, y)


def _dx_exponent(x: Any, y: Any) -> Any:
    """The exponent in ∂(x**y)/∂x = y·x^(y−1): y − 1, except 1 where x = y = 0 (there
    0·0^−1 would be nan, and d/dx x**0 = 0). It stays y − 1 itself everywhere else, so
    derivatives in y are right; the guard changes nothing unless y = 0, so x**c with a
    plain number c ≠ 0 (the common case) skips it."""
    if type(y) in _PY_NUMBER and y != 0:
        return y - 1.0
    return where(equal(x, 0.0), where(equal(y, 0.0), 1.0, y - 1.0), y - 1.0)


def _sign_impl(x: Any) -> Any:
    if type(x) in _PY_NUMBER:
        return 1.0 if x > 0 else -1.0 if x < 0 else 0.0 if x == 0 else math.nan
    return np.sign(x)


# ---------------------------------------------------------------------------
# Zero derivative wherever defined: passed through as constants by every engine

logical_not = Primitive("logical_not", np.logical_not, differentiable=False,
                        stands_for=(np.logical_not,))  # fmt: skip
sign = Primitive("sign", _sign_impl, differentiable=False, doc="-1, 0 or 1 (nan stays nan)",
                 stands_for=(np.sign,))  # fmt: skip
ZERO_DERIVATIVE = tuple(
    Primitive(u.__name__, u, differentiable=False, doc=f"np.{u.__name__}", stands_for=(u,))
    for u in (np.floor, np.ceil, np.trunc, np.rint, np.isnan, np.isinf, np.isfinite,
              np.signbit, np.logical_and, np.logical_or, np.logical_xor)
)  # fmt: skip
"""numpy's piecewise-constant and boolean ufuncs."""

# ---------------------------------------------------------------------------
# Python's operators (declared in adlab.core.operators): their rules

abs = _public(absolute)
for _prim in (add, sub, mul, truediv, neg, pow):
    _public(_prim)

defpartials(add, 1.0, 1.0)
defpartials(sub, 1.0, -1.0)
defpartials(mul, lambda x, y, out: y, lambda x, y, out: x)
defpartials(truediv, lambda x, y, out: div(1.0, y), lambda x, y, out: div(-out, y))
defpartials(neg, -1.0)
defpartials(
    pow,
    lambda x, y, out: y * pow(x, _dx_exponent(x, y)),  # y·x^(y−1), guarded at x = y = 0
    # x^y·log x; at x = 0 the guard makes it x^y·0 = 0 (the limit for y > 0)
    lambda x, y, out: out * log(where(equal(x, 0.0), 1.0, x)),
)
pow.kink = "d/dx x**0 = 0; d/dy 0**y = 0 (the limit for y > 0)"

# ---------------------------------------------------------------------------
# Elementary functions

exp = elementwise("exp", math.exp, np.exp, "e**x", partial=lambda x, out: out, latex=r"\exp")
log = elementwise("log", math.log, np.log, "natural logarithm",
                  partial=lambda x, out: div(1.0, x), latex=r"\log")  # fmt: skip
log1p = elementwise("log1p", math.log1p, np.log1p, "log(1 + x), accurate for small x",
                    partial=lambda x, out: div(1.0, 1.0 + x))  # fmt: skip
expm1 = elementwise("expm1", math.expm1, np.expm1, "exp(x) - 1, accurate for small x",
                    partial=lambda x, out: out + 1.0)  # fmt: skip
sin = elementwise("sin", math.sin, np.sin, "sine", partial=lambda x, out: cos(x), latex=r"\sin")
cos = elementwise("cos", math.cos, np.cos, "cosine", partial=lambda x, out: -sin(x),
                  latex=r"\cos")  # fmt: skip
tan = elementwise("tan", math.tan, np.tan, "tangent", partial=lambda x, out: 1.0 + out * out,
                  latex=r"\tan")  # fmt: skip
tanh = elementwise("tanh", math.tanh, np.tanh, "hyperbolic tangent",
                   partial=lambda x, out: 1.0 - out * out, latex=r"\tanh")  # fmt: skip
sqrt = elementwise("sqrt", math.sqrt, np.sqrt, "square root",
                   partial=lambda x, out: div(0.5, out),  # inf at 0: the true limit
                   latex=(r"\sqrt{", "}"),
                   kink="sqrt'(0) = inf (the true limit)")  # fmt: skip
defpartials(absolute, lambda x, out: sign(x))  # abs'(0) = 0
absolute.kink = "abs'(0) = 0"
sigmoid = elementwise("sigmoid", _sigmoid_float, _sigmoid_array, "1 / (1 + exp(-x)), stable",
                      partial=lambda x, out: out * (1.0 - out))  # fmt: skip

relu = _public(Primitive("relu", _relu_impl, doc="max(x, 0)", kink="relu'(0) = 0"))
maximum = _public(Primitive("maximum", _maximum_impl, doc="elementwise maximum",
                            stands_for=(np.maximum,),
                            kink="ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y"))  # fmt: skip
minimum = _public(Primitive("minimum", _minimum_impl, doc="elementwise minimum",
                            stands_for=(np.minimum,),
                            kink="ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y"))  # fmt: skip
where = _public(Primitive(
    "where", _where_impl, doc="x where condition holds, else y",
    kink="the condition gets no derivative; the branch not taken gets a zero cotangent, which "
    "still multiplies that branch's own derivative: where(x > 0, sqrt(x), 0) has gradient "
    "nan at x <= 0 (0 · inf at 0, 0 · nan below: the 'where trap'); make the untaken branch "
    "safe: sqrt(where(x > 0, x, 1))",
))  # fmt: skip

defpartials(relu, lambda x, out: greater(x, 0.0))  # relu'(0) = 0
defpartials(
    maximum,
    lambda x, y, out: where(greater(x, y), 1.0, where(equal(x, y), 0.5, 0.0)),
    lambda x, y, out: where(less(x, y), 1.0, where(equal(x, y), 0.5, 0.0)),
)
defpartials(
    minimum,
    lambda x, y, out: where(less(x, y), 1.0, where(equal(x, y), 0.5, 0.0)),
    lambda x, y, out: where(greater(x, y), 1.0, where(equal(x, y), 0.5, 0.0)),
)
defpartials(
    where,
    None,  # the condition is not differentiable
    lambda condition, x, y, out: condition,
    lambda condition, x, y, out: logical_not(condition),
)

COMPARISONS = (greater, greater_equal, less, less_equal, equal, not_equal)

KINKS: Mapping[str, str] = ByName(kinks)
"""The documented subgradient choice at each kink of the table, by primitive name (a live
view of :data:`adlab.core.rules.kinks`: the array primitives' notes are in it too)."""
