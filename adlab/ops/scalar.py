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
    "KINKS", "PUBLIC", "abs", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctan2", "arctanh", "clip", "cos", "cosh", "deg2rad", "div", "div_or_zero", "elementwise",
    "equal", "exp", "exp2", "expm1", "fmax", "fmin", "greater", "greater_equal", "hypot",
    "isnan", "less", "less_equal", "log", "log1p", "log2", "log10", "logaddexp", "logaddexp2",
    "logical_not", "maximum", "minimum", "mul", "neg", "not_equal", "pow", "rad2deg",
    "reciprocal", "relu", "sigmoid", "sign", "sin", "sinc", "sinh", "sqrt", "square", "step",
    "sub", "tan", "tanh", "truediv", "where",
]  # fmt: skip

_PY_NUMBER = (float, int)
_SCALAR_BOOL = (bool, np.bool_)
LN2, LN10 = math.log(2.0), math.log(10.0)

PUBLIC: dict[str, Primitive] = {}
"""The differentiable primitives of this module by name: what ``adlab`` exports."""


def elementwise(name: str, math_fn: Callable | None, np_fn: Callable, doc: str, *,
                partial: Callable[..., Any] | float, kink: str | None = None,
                latex: str | tuple[str, str] | None = None,
                also: tuple[Callable, ...] = ()) -> Primitive:  # fmt: skip
    """Declare a primitive of one argument: ``math_fn`` on Python numbers (``np_fn`` where
    it would raise, numpy's inf or nan, or where there is no ``math_fn``), ``np_fn``
    elsewhere; ``partial(x, out)`` its derivative (or a constant); ``kink`` its convention
    at non-differentiable points; ``latex`` its command. Both functions, and the numpy or
    ``math`` aliases in ``also``, become names it stands for (``np.sin(x)``, ``math.sin(x)``).
    """

    def impl(x: Any) -> Any:
        if type(x) in _PY_NUMBER:
            if math_fn is not None:
                try:
                    return math_fn(x)
                except (ValueError, OverflowError):  # numpy's answer: inf or nan, with a warning
                    pass
            return float(np_fn(float(x)))
        return np_fn(x)

    impl.__name__ = impl.__qualname__ = name
    prim = Primitive(name, impl, doc=doc, kink=kink, stands_for=_library(np_fn, math_fn, *also),
                     latex=latex)  # fmt: skip
    defpartials(prim, partial)
    PUBLIC[name] = prim
    return prim


def _library(*fns: Callable | None) -> tuple[Callable, ...]:
    """The numpy and ``math`` functions among ``fns``: the names a primitive stands for
    (ufuncs such as ``np.sin``, numpy functions such as ``np.sinc``, ``math.sin``)."""
    return tuple(f for f in fns if getattr(f, "__module__", None) in ("numpy", "math"))


def _on_numbers(name: str, math_fn: Callable | None, np_fn: Callable) -> Callable[..., Any]:
    """The implementation of a primitive of several arguments: ``math_fn`` when they are all
    Python numbers (a Python float comes back; numpy's inf or nan where ``math`` raises),
    ``np_fn`` otherwise (numpy's dtype rules: float32 stays float32)."""

    def impl(*args: Any) -> Any:
        if all(type(a) in _PY_NUMBER for a in args):
            if math_fn is not None:
                try:
                    return float(math_fn(*args))
                except (ValueError, OverflowError):
                    pass
            return float(np_fn(*(float(a) for a in args)))
        return np_fn(*args)

    impl.__name__ = impl.__qualname__ = name
    return impl


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
_STEPS = "0 everywhere, also at the jumps (a step's derivative is taken as 0)"
sign = Primitive("sign", _sign_impl, differentiable=False, doc="-1, 0 or 1 (nan stays nan)",
                 stands_for=(np.sign,), kink=_STEPS)  # fmt: skip


def _zero_derivative(ufunc: np.ufunc, kink: str | None = None) -> Primitive:
    return Primitive(ufunc.__name__, ufunc, differentiable=False, doc=f"np.{ufunc.__name__}",
                     stands_for=(ufunc,), kink=kink)  # fmt: skip


isnan = _zero_derivative(np.isnan)
ZERO_DERIVATIVE = (
    *(_zero_derivative(u, _STEPS) for u in (np.floor, np.ceil, np.trunc, np.rint, np.heaviside)),
    isnan,
    *(_zero_derivative(u) for u in (np.isinf, np.isfinite, np.signbit, np.logical_and,
                                    np.logical_or, np.logical_xor)),
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

# numpy's other elementwise functions (the partials of arcsin and arccos at ±1, and of arccosh
# at 1, are the true limits, ±inf, as sqrt's at 0)
sinh = elementwise("sinh", math.sinh, np.sinh, "hyperbolic sine", partial=lambda x, out: cosh(x),
                   latex=r"\sinh")  # fmt: skip
cosh = elementwise("cosh", math.cosh, np.cosh, "hyperbolic cosine",
                   partial=lambda x, out: sinh(x), latex=r"\cosh")  # fmt: skip
arcsin = elementwise("arcsin", math.asin, np.arcsin, "inverse sine",
                     partial=lambda x, out: div(1.0, sqrt((1.0 - x) * (1.0 + x))),
                     kink="arcsin'(±1) = inf (the true limit)", latex=r"\arcsin")  # fmt: skip
arccos = elementwise("arccos", math.acos, np.arccos, "inverse cosine",
                     partial=lambda x, out: div(-1.0, sqrt((1.0 - x) * (1.0 + x))),
                     kink="arccos'(±1) = -inf (the true limit)", latex=r"\arccos")  # fmt: skip
arctan = elementwise("arctan", math.atan, np.arctan, "inverse tangent",
                     partial=lambda x, out: div(1.0, 1.0 + x * x), latex=r"\arctan")  # fmt: skip
arcsinh = elementwise("arcsinh", math.asinh, np.arcsinh, "inverse hyperbolic sine",
                      partial=lambda x, out: div(1.0, sqrt(x * x + 1.0)))  # fmt: skip
arccosh = elementwise("arccosh", math.acosh, np.arccosh, "inverse hyperbolic cosine",
                      partial=lambda x, out: div(1.0, sqrt((x - 1.0) * (x + 1.0))),
                      kink="arccosh'(1) = inf (the true limit)")  # fmt: skip
arctanh = elementwise("arctanh", math.atanh, np.arctanh, "inverse hyperbolic tangent",
                      partial=lambda x, out: div(1.0, (1.0 - x) * (1.0 + x)))  # fmt: skip
log2 = elementwise("log2", math.log2, np.log2, "base-2 logarithm",
                   partial=lambda x, out: div(1.0, x * LN2), latex=r"\log_{2}")  # fmt: skip
log10 = elementwise("log10", math.log10, np.log10, "base-10 logarithm",
                    partial=lambda x, out: div(1.0, x * LN10), latex=r"\log_{10}")  # fmt: skip
exp2 = elementwise("exp2", getattr(math, "exp2", None), np.exp2, "2**x",
                   partial=lambda x, out: out * LN2, latex=("2^{", "}"))  # fmt: skip
square = elementwise("square", None, np.square, "x * x", partial=lambda x, out: 2.0 * x,
                     latex=(r"\left(", r"\right)^{2}"))  # fmt: skip
reciprocal = elementwise("reciprocal", None, np.reciprocal, "1 / x",
                         partial=lambda x, out: -(out * out),
                         latex=(r"\dfrac{1}{", "}"))  # fmt: skip
deg2rad = elementwise("deg2rad", math.radians, np.deg2rad, "degrees to radians",
                      partial=math.pi / 180.0, also=(np.radians,))  # fmt: skip
rad2deg = elementwise("rad2deg", math.degrees, np.rad2deg, "radians to degrees",
                      partial=180.0 / math.pi, also=(np.degrees,))  # fmt: skip


_SINC_SERIES = tuple((-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1)
                     for k in range(1, 6))  # fmt: skip
"""sinc'(x) = x · Σ cₖ x^(2k−2), k = 1 … 5, truncated at x¹¹: below 1e-13 relative for |x| < 0.1."""


def sinc_slope(x: Any, out: Any) -> Any:
    """sinc'(x) = (cos(πx) − sinc(x)) / x, and its Taylor series where |x| < 0.1 (where the
    formula cancels, and at 0, where it is 0/0): exact to every order at 0 that the series
    has terms for (sinc''(0) = −π²/3)."""
    small = less(absolute(x), 0.1)
    x_safe = where(small, 1.0, x)  # keeps the formula's branch finite: no 'where trap'
    formula = div(cos(math.pi * x_safe) - out, x_safe)
    x2, series = x * x, _SINC_SERIES[-1]
    for c in reversed(_SINC_SERIES[:-1]):
        series = c + x2 * series
    return where(small, x * series, formula)


sinc = elementwise("sinc", None, np.sinc, "sin(πx) / (πx), and 1 at 0",
                   partial=lambda x, out: sinc_slope(x, out))  # fmt: skip


def _step_impl(a: Any, b: Any) -> Any:
    if type(a) in _PY_NUMBER and type(b) in _PY_NUMBER:
        return 1.0 if a > b else 0.5 if a == b else 0.0
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(np.result_type(a, b, 1.0))


def _div_or_zero_impl(a: Any, b: Any) -> Any:
    if type(a) in _PY_NUMBER and type(b) in _PY_NUMBER:
        return 0.0 if b == 0 else a / b
    with np.errstate(divide="ignore", invalid="ignore"):  # the tip's inf or nan is replaced
        quotient = np.divide(a, b)
    return np.where(np.equal(b, 0), np.zeros_like(quotient), quotient)


step = Primitive(
    "step", _step_impl, differentiable=False,
    doc="H(a - b) with H(0) = 1/2: 1 where a > b, 1/2 where a == b, 0 where a < b; it is "
    "∂max(a, b)/∂a and ∂min(a, b)/∂b, ties split evenly",
)  # fmt: skip
div_or_zero = Primitive(
    "div_or_zero", _div_or_zero_impl, doc="a / b, and 0 where b == 0",
    kink="0 where b == 0, and so are its partials (the tip of a cone: hypot and arctan2 at the "
    "origin, as abs'(0) = 0)",
)  # fmt: skip
defpartials(
    div_or_zero,
    lambda a, b, out: div_or_zero(1.0, b),
    lambda a, b, out: -div_or_zero(out, b),
)


def _clip_impl(x: Any, a_min: Any, a_max: Any) -> Any:
    if type(x) in _PY_NUMBER and type(a_min) in _PY_NUMBER and type(a_max) in _PY_NUMBER:
        return float(_minimum_impl(_maximum_impl(x, a_min), a_max))
    return np.clip(x, a_min, a_max)


hypot = _public(Primitive(
    "hypot", _on_numbers("hypot", math.hypot, np.hypot), doc="sqrt(x*x + y*y), without overflow",
    stands_for=(np.hypot, math.hypot),
    kink="at (0, 0), the tip of a cone: both partials 0 (as abs'(0) = 0)",
))  # fmt: skip
arctan2 = _public(Primitive(
    "arctan2", _on_numbers("arctan2", math.atan2, np.arctan2),
    doc="the angle of the point (x, y), arctan2(y, x), in (-π, π]",
    stands_for=(np.arctan2, math.atan2),
    kink="at (0, 0), where it is not continuous: both partials 0",
))  # fmt: skip
logaddexp = _public(Primitive(
    "logaddexp", _on_numbers("logaddexp", None, np.logaddexp), doc="log(exp(x) + exp(y)), stable",
    stands_for=(np.logaddexp,),
))  # fmt: skip
logaddexp2 = _public(Primitive(
    "logaddexp2", _on_numbers("logaddexp2", None, np.logaddexp2),
    doc="log2(2**x + 2**y), stable", stands_for=(np.logaddexp2,),
))  # fmt: skip
fmax = _public(Primitive(
    "fmax", _on_numbers("fmax", None, np.fmax), doc="elementwise maximum, ignoring nan",
    stands_for=(np.fmax,), kink="ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y",
))  # fmt: skip
fmin = _public(Primitive(
    "fmin", _on_numbers("fmin", None, np.fmin), doc="elementwise minimum, ignoring nan",
    stands_for=(np.fmin,), kink="ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y",
))  # fmt: skip
clip = Primitive(
    "clip", _clip_impl, doc="minimum(maximum(x, a_min), a_max), as numpy defines it",
    stands_for=(np.clip,),
    kink="at a bound, x and the bound split the derivative evenly (1/2 each), as clip is "
    "minimum(maximum(x, a_min), a_max) and their ties split evenly",
)  # fmt: skip
"""The primitive of ``ad.clip`` (``adlab.ops.array.clip`` normalises numpy's arguments)."""

defpartials(hypot, lambda x, y, out: div_or_zero(x, out), lambda x, y, out: div_or_zero(y, out))
defpartials(
    arctan2,
    lambda y, x, out: div_or_zero(x, x * x + y * y),
    lambda y, x, out: div_or_zero(-y, x * x + y * y),
)
defpartials(logaddexp, lambda x, y, out: exp(x - out), lambda x, y, out: exp(y - out))
defpartials(logaddexp2, lambda x, y, out: exp2(x - out), lambda x, y, out: exp2(y - out))
defpartials(
    fmax,
    lambda x, y, out: where(isnan(y), 1.0, step(x, y)),
    lambda x, y, out: where(isnan(x), 1.0, step(y, x)),
)
defpartials(
    fmin,
    lambda x, y, out: where(isnan(y), 1.0, step(y, x)),
    lambda x, y, out: where(isnan(x), 1.0, step(x, y)),
)
defpartials(
    clip,
    lambda x, a_min, a_max, out: step(a_max, maximum(x, a_min)) * step(x, a_min),
    lambda x, a_min, a_max, out: step(a_max, maximum(x, a_min)) * step(a_min, x),
    lambda x, a_min, a_max, out: step(maximum(x, a_min), a_max),
)

relu = _public(Primitive("relu", _relu_impl, doc="max(x, 0)", kink="relu'(0) = 0"))
maximum = _public(Primitive("maximum", _maximum_impl, doc="elementwise maximum",
                            stands_for=(np.maximum,),
                            kink="ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y"))  # fmt: skip
minimum = _public(Primitive("minimum", _minimum_impl, doc="elementwise minimum",
                            stands_for=(np.minimum,),
                            kink="ties split evenly: ∂/∂x = ∂/∂y = 1/2 where x == y"))  # fmt: skip
where = _public(Primitive(
    "where", _where_impl, doc="x where condition holds, else y", stands_for=(np.where,),
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
