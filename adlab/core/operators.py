"""Python's operators: the primitives its syntax denotes, and the mixin that routes them.

``x + y``, ``x * y``, ``x ** y``, ``-x``, ``abs(x)``, ``x @ y``, ``x < y`` and
``round(x)`` are the language's own vocabulary, so their primitives are declared
here, in core, where every value type can reach them: :class:`Operators` is mixed
into every boxed value (the reverse engine's ``Variable``, forward mode's ``Dual``,
symbolic expressions), and each operator calls its primitive, which dispatches to
the box with the highest level. Their derivative rules are declared beside the rest
of the table, in :mod:`adlab.ops` (``defpartials(add, 1.0, 1.0)``).

The implementations are Python's own where they agree with numpy (``+`` on floats is
``operator.add``); ``/`` and ``**`` give numpy's ``inf`` / ``nan`` where Python's
would raise, and so does the table everywhere.
"""

from __future__ import annotations

import builtins
import math
import operator
from typing import Any, NoReturn

import numpy as np

from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Primitive

_PY_NUMBER = (float, int)


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


def _abs_impl(x: Any) -> Any:
    return math.fabs(x) if type(x) in _PY_NUMBER else np.abs(x)


add = Primitive("add", operator.add, symbol="+", doc="x + y", stands_for=(np.add,))
sub = Primitive("sub", operator.sub, symbol="-", doc="x - y", stands_for=(np.subtract,))
mul = Primitive("mul", operator.mul, symbol="*", doc="x * y", stands_for=(np.multiply,))
truediv = Primitive("truediv", div, symbol="/", doc="x / y", stands_for=(np.divide,))
neg = Primitive("neg", operator.neg, symbol="-", doc="-x", stands_for=(np.negative,))
pow = Primitive("pow", _pow_impl, symbol="**", doc="x ** y (covers x**c, c**x and x**y)",
                stands_for=(np.power, np.float_power, math.pow))  # fmt: skip
absolute = Primitive("abs", _abs_impl, doc="absolute value", latex=(r"\left|", r"\right|"),
                     stands_for=(np.absolute, np.fabs, math.fabs, builtins.abs))  # fmt: skip
matmul = Primitive("matmul", np.matmul, symbol="@", doc="matrix product x @ y",
                   stands_for=(np.matmul,))  # fmt: skip

# Comparisons: zero derivative wherever defined. Rules use these (not Python's `>`), so
# that a rule applied to a symbolic value stays symbolic.


def _comparison(name: str, fn: Any, symbol: str, latex: str, ufunc: np.ufunc) -> Primitive:
    return Primitive(name, fn, symbol=symbol, differentiable=False, doc=f"x {symbol} y",
                     stands_for=(ufunc,), latex=latex)  # fmt: skip


greater = _comparison("greater", operator.gt, ">", ">", np.greater)
greater_equal = _comparison("greater_equal", operator.ge, ">=", r"\geq", np.greater_equal)
less = _comparison("less", operator.lt, "<", "<", np.less)
less_equal = _comparison("less_equal", operator.le, "<=", r"\leq", np.less_equal)
equal = _comparison("equal", operator.eq, "==", "=", np.equal)
not_equal = _comparison("not_equal", operator.ne, "!=", r"\neq", np.not_equal)
rounded = Primitive("round", builtins.round, differentiable=False, doc="round(x): derivative zero")


def _zero_where_impl(mask: Any, x: Any) -> Any:
    return np.where(mask, np.zeros_like(x), x)


zero_where = Primitive(
    "zero_where", _zero_where_impl, nondiff_argnums=(0,),
    doc="x with exact zeros where mask holds: the strong zero of a traced partial (see "
    "adlab.core.rules.times); linear in x, and so are its derivatives, at every order",
)  # fmt: skip


def zero_where_jvp(out: Any, args: Any, tangents: Any) -> Any:
    return zero_where(args[0], tangents[1])


def zero_where_vjp(out: Any, args: Any, wrt: Any) -> Any:
    mask = args[0]

    def zero_where_pullback(out_bar: Any) -> tuple:
        return (zero_where(mask, out_bar),)

    return zero_where_pullback


rules.defjvp(zero_where, zero_where_jvp)
rules.defvjp(zero_where, zero_where_vjp)

COMPARISONS = (greater, greater_equal, less, less_equal, equal, not_equal)


class Operators:
    """Python's operators for every boxed value type, each calling its primitive.

    A subclass names itself in ``_what`` (how the errors call it, e.g. ``"traced
    Variable"``). Value types may replace an operator with a faster path to the same
    primitive (forward and reverse mode do, for scalar programs).
    """

    __slots__ = ()
    _what = "traced value"

    # -- arithmetic ---------------------------------------------------------
    def __add__(self, other: Any) -> Any:
        return add(self, other)

    def __radd__(self, other: Any) -> Any:
        return add(other, self)

    def __sub__(self, other: Any) -> Any:
        return sub(self, other)

    def __rsub__(self, other: Any) -> Any:
        return sub(other, self)

    def __mul__(self, other: Any) -> Any:
        return mul(self, other)

    def __rmul__(self, other: Any) -> Any:
        return mul(other, self)

    def __truediv__(self, other: Any) -> Any:
        return truediv(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return truediv(other, self)

    def __pow__(self, other: Any) -> Any:
        return pow(self, other)

    def __rpow__(self, other: Any) -> Any:
        return pow(other, self)

    def __matmul__(self, other: Any) -> Any:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return matmul(other, self)

    def __neg__(self) -> Any:
        return neg(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return absolute(self)

    def __round__(self, ndigits: int | None = None) -> Any:
        return rounded(self) if ndigits is None else rounded(self, ndigits)

    def __floordiv__(self, other: Any) -> NoReturn:
        raise DifferentiationError(
            "// (floor division) has no derivative rule; use / for the derivative, "
            "or the number (.value) if the result is meant to be constant"
        )

    __rfloordiv__ = __floordiv__

    def __mod__(self, other: Any) -> NoReturn:
        raise DifferentiationError(
            "% (modulo) has no derivative rule in adlab; write x - k * period with a constant k"
        )

    __rmod__ = __mod__

    # -- comparisons: answers about the current values, recorded as nondifferentiable ------
    def __lt__(self, other: Any) -> Any:
        return less(self, other)

    def __le__(self, other: Any) -> Any:
        return less_equal(self, other)

    def __gt__(self, other: Any) -> Any:
        return greater(self, other)

    def __ge__(self, other: Any) -> Any:
        return greater_equal(self, other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return equal(self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return not_equal(self, other)

    def __hash__(self) -> int:
        __tracebackhide__ = True  # a value type hashes as its == compares (or says why not)
        raise DifferentiationError(
            f"a {self._what} cannot be hashed (used as a dict key, in a set, or by a cache): "
            "== compares it by value, so hashing it by identity would take another branch "
            "than the plain program does. Look its number up instead: table.get(x.value)"
        )

    def _structural_zero(self) -> bool:
        """Whether this value is the constant 0 by its form (an expression ``0``)."""
        return False

    def _times_held(self, t: Any, first: bool) -> Any:
        """``self · t`` (``t · self`` unless ``first``) for a partial ``self`` and a plain
        tangent ``t`` with exact zeros: zero where ``t`` is, with derivatives zero there too
        (where the partial is infinite, its own derivative may be as well)."""
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            product = self * t if first else t * self
        return zero_where(t == 0, product)
