"""Elementwise primitives: each implementation beside its partial derivatives.

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

Python floats take a fast path through :mod:`math` and stay Python floats;
everything else goes through numpy and keeps its dtype (float32 stays float32).

Conventions at kinks (the derivative at a non-differentiable point is a fixed
subgradient, never an exception): ``abs'(0) = 0``, ``relu'(0) = 0``, ties of
``maximum``/``minimum`` split evenly (½ each), ``sqrt'(0) = inf`` (the true
limit), ``d/dx x**0 = 0`` and ``d/dy 0**y = 0`` for ``y > 0``. Each is declared
with :func:`~adlab.core.rules.defkink` beside its rule; :data:`KINKS` lists them
all, the array primitives' too, by name.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adlab.core.primitive import Primitive
from adlab.core.rules import ByName, defkink, defpartials, kinks

_PY_NUMBER = (float, int)
_SCALAR_BOOL = (bool, np.bool_)


def _elementwise(name: str, math_fn: Callable, np_fn: Callable, doc: str) -> Primitive:
    """A one-argument primitive: ``math`` on Python numbers, numpy elsewhere."""

    def impl(x: Any) -> Any:
        if type(x) in _PY_NUMBER:
            try:
                return math_fn(x)
            except (ValueError, OverflowError):  # numpy's answer: inf or nan, with a warning
                return float(np_fn(float(x)))
        return np_fn(x)

    impl.__name__ = impl.__qualname__ = name
    return Primitive(name, impl, doc=doc)


def div(x: Any, y: Any) -> Any:
    """``x / y`` with numpy's answer (±inf, nan) where Python floats would raise.

    This is ``truediv``'s implementation, and rules call it directly: Python's
    ``/`` hands traced and symbolic values to the table's ``truediv``, so it is
    the primitive for every value type, without a second dispatch for numbers.
    """
    try:
        return x / y
    except ZeroDivisionError:  # silently, as at the kinks of the rules (sqrt'(0) = inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.divide(np.float64(x), y))


def _pow_impl(x: Any, y: Any) -> Any:
    if type(x) in _PY_NUMBER and type(y) in _PY_NUMBER:
        try:
            return math.pow(x, y)
        except (ValueError, OverflowError, ZeroDivisionError):
            return float(np.power(np.float64(x), y))
    return np.power(x, y)


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
# Comparisons and sign: zero derivative wherever defined. Rules use these (not
# Python's `>`), so that a rule applied to a symbolic value stays symbolic.

greater = Primitive("greater", operator.gt, symbol=">", differentiable=False, doc="x > y")
greater_equal = Primitive("greater_equal", operator.ge, symbol=">=", differentiable=False)
less = Primitive("less", operator.lt, symbol="<", differentiable=False, doc="x < y")
less_equal = Primitive("less_equal", operator.le, symbol="<=", differentiable=False)
equal = Primitive("equal", operator.eq, symbol="==", differentiable=False, doc="x == y")
not_equal = Primitive("not_equal", operator.ne, symbol="!=", differentiable=False)
logical_not = Primitive("logical_not", np.logical_not, differentiable=False)
sign = Primitive("sign", _sign_impl, differentiable=False, doc="-1, 0 or 1 (nan stays nan)")

# ---------------------------------------------------------------------------
# Arithmetic

add = Primitive("add", operator.add, symbol="+", doc="x + y")
sub = Primitive("sub", operator.sub, symbol="-", doc="x - y")
mul = Primitive("mul", operator.mul, symbol="*", doc="x * y")
truediv = Primitive("truediv", div, symbol="/", doc="x / y")
neg = Primitive("neg", operator.neg, symbol="-", doc="-x")
pow = Primitive("pow", _pow_impl, symbol="**", doc="x ** y (covers x**c, c**x and x**y)")

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
defkink(pow, "d/dx x**0 = 0; d/dy 0**y = 0 (the limit for y > 0)")

# ---------------------------------------------------------------------------
# Elementary functions

exp = _elementwise("exp", math.exp, np.exp, "e**x")
log = _elementwise("log", math.log, np.log, "natural logarithm")
log1p = _elementwise("log1p", math.log1p, np.log1p, "log(1 + x), accurate for small x")
expm1 = _elementwise("expm1", math.expm1, np.expm1, "exp(x) - 1, accurate for small x")
sin = _elementwise("sin", math.sin, np.sin, "sine")
cos = _elementwise("cos", math.cos, np.cos, "cosine")
tan = _elementwise("tan", math.tan, np.tan, "tangent")
tanh = _elementwise("tanh", math.tanh, np.tanh, "hyperbolic tangent")
sqrt = _elementwise("sqrt", math.sqrt, np.sqrt, "square root")
abs = _elementwise("abs", math.fabs, np.abs, "absolute value")
sigmoid = _elementwise("sigmoid", _sigmoid_float, _sigmoid_array, "1 / (1 + exp(-x)), stable")
relu = Primitive("relu", _relu_impl, doc="max(x, 0)")
maximum = Primitive("maximum", _maximum_impl, doc="elementwise maximum")
minimum = Primitive("minimum", _minimum_impl, doc="elementwise minimum")
where = Primitive("where", _where_impl, doc="x where condition holds, else y")

defpartials(exp, lambda x, out: out)
defpartials(log, lambda x, out: div(1.0, x))
defpartials(log1p, lambda x, out: div(1.0, 1.0 + x))
defpartials(expm1, lambda x, out: out + 1.0)
defpartials(sin, lambda x, out: cos(x))
defpartials(cos, lambda x, out: -sin(x))
defpartials(tan, lambda x, out: 1.0 + out * out)
defpartials(tanh, lambda x, out: 1.0 - out * out)
defpartials(sqrt, lambda x, out: div(0.5, out))  # inf at 0: the true limit
defpartials(abs, lambda x, out: sign(x))  # abs'(0) = 0
defpartials(sigmoid, lambda x, out: out * (1.0 - out))
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

defkink(sqrt, "sqrt'(0) = inf (the true limit)")
defkink(abs, "abs'(0) = 0")
defkink(relu, "relu'(0) = 0")
defkink(maximum, "ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y")
defkink(minimum, "ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y")
defkink(
    where,
    "the condition gets no derivative; the branch not taken gets a zero cotangent, which "
    "still multiplies that branch's own derivative: where(x > 0, sqrt(x), 0) has gradient "
    "nan at x <= 0 (0 · inf at 0, 0 · nan below: the 'where trap'); make the untaken branch "
    "safe: sqrt(where(x > 0, x, 1))",
)

KINKS: Mapping[str, str] = ByName(kinks)
"""The documented subgradient choice at each kink of the table, by primitive name (a live
view of :data:`adlab.core.rules.kinks`: the array primitives' notes are in it too)."""
