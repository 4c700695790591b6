"""Numerical differentiation: finite differences, the oracle every other engine is tested against.

The difference quotients are the textbook formulas, evaluated exactly as
written, so their rounding is the textbook rounding too::

    >>> forward_difference(lambda x: x ** 2, 2.0, h=1e-8)
    3.999999975690116

Beyond them: exact stencil weights from the Vandermonde system (:func:`stencil`),
methods built from stencils (:func:`fdm`), the best-step formulas of the lecture
(:func:`best_step`), error-versus-h sweeps (:func:`error_sweep`), gradients and
Jacobians whose cost in calls of f is observable (:func:`count_calls`), and the
engine protocol ``jvp`` / ``vjp`` that ``mode="numeric"`` runs on.

Every call of ``f`` gets its own copy of each array argument, so an ``f`` that updates
an argument in place (``y = x; y *= 2``) never changes the caller's array and never
changes the point of a later call; and each call's array outputs are kept as they were
returned, so an ``f`` that returns the same buffer every time is differenced correctly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from numbers import Rational
from typing import Any, NamedTuple

import numpy as np

from adlab.core.engine import Engine
from adlab.core.errors import DifferentiationError
from adlab.core.transform import Transformation, running

EPS = float(np.finfo(np.float64).eps)

# ---------------------------------------------------------------------------
# Difference quotients, their best steps and their error curves


def forward_difference(f: Callable[[Any], Any], x: Any, h: float = 1e-8) -> Any:
    """``(f(x + h) - f(x)) / h``: error O(h) from truncation, plus rounding ~ε/h.

    >>> float(forward_difference(np.sin, np.pi / 3, h=1e-8))
    0.4999999969612645
    """
    return (_fresh(f(x + h)) - f(_fresh(x))) / h


def backward_difference(f: Callable[[Any], Any], x: Any, h: float = 1e-8) -> Any:
    """``(f(x) - f(x - h)) / h``: the forward difference with the step mirrored.

    >>> backward_difference(lambda x: x ** 2, 2.0, h=0.5)
    3.5
    """
    return (_fresh(f(_fresh(x))) - f(x - h)) / h


def central_difference(f: Callable[[Any], Any], x: Any, h: float = 1e-5) -> Any:
    """``(f(x + h) - f(x - h)) / (2h)``: error O(h²) from truncation.

    >>> central_difference(lambda x: x ** 2, 2.0, h=0.5)
    4.0
    """
    return (_fresh(f(x + h)) - f(x - h)) / (2 * h)


def central_step(x: Any) -> Any:
    """A step for central differences: ε^(1/3)·max(1, |x|), which balances
    truncation (∝ h²) against rounding (∝ ε/h).

    >>> float(central_step(1000.0)) == 1000 * EPS ** (1 / 3)
    True
    """
    return EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))


def best_step(n: int, bound: float, *, eps: float = EPS, variant: str = "slide") -> float:
    """The step that minimises the error of an O(hⁿ) stencil on n + 1 points.

    Rounding of the n + 1 values, added like a random walk, costs about √n·ε/h;
    truncation costs |f⁽ⁿ⁺¹⁾|·hⁿ/(n+1)!. Their sum is smallest at
    h* = ((n+1)!·ε / (√n·bound))^(1/(n+1)) with ``bound`` = |f⁽ⁿ⁺¹⁾(x)| (the talk's
    slide uses |f(x)| instead, as if all derivatives had the same size).
    ``variant="code"`` gives the talk's notebook version, with n! in place of (n+1)!.
    For n = 2 this is the central difference's h_best = (3√2·ε/|f‴|)^(1/3).

    >>> bound = np.sin(np.pi / 4)
    >>> f"{best_step(2, bound):.1e}", f"{best_step(2, bound, variant='code'):.1e}"
    ('1.1e-05', '7.6e-06')
    """
    if variant not in ("slide", "code"):
        raise ValueError(f"unknown variant {variant!r}; use 'slide' ((n+1)!) or 'code' (n!)")
    if not (isinstance(n, int) and n >= 1) or not bound > 0:
        raise ValueError(f"best_step needs an order n >= 1 and a bound > 0, got {n!r}, {bound!r}")
    factorial = math.factorial(n + 1 if variant == "slide" else n)
    return (factorial * eps / (math.sqrt(n) * abs(bound))) ** (1 / (n + 1))


def error_sweep(
    f: Callable[[Any], Any],
    x: float,
    exact: float,
    hs: Any = None,
    *,
    method: Callable[..., Any] = forward_difference,
) -> tuple[np.ndarray, np.ndarray]:
    """``(hs, errors)``: |method(f, x, h=h) - exact| for each step, for an error-vs-h plot.

    ``hs`` defaults to 0.1^i for i = 0, 0.5, …, 16; ``method`` is any function
    called as ``method(f, x, h=h)``: a difference quotient or an :func:`fdm` method.

    >>> hs, errors = error_sweep(np.sin, np.pi / 3, 0.5, hs=[1e-4, 1e-8])
    >>> [f"{e:.2e}" for e in errors]
    ['4.33e-05', '3.04e-09']
    """
    hs = 0.1 ** np.arange(0.0, 16.25, 0.5) if hs is None else np.asarray(hs, dtype=np.float64)
    errors = np.array([abs(float(method(f, x, h=float(h))) - exact) for h in hs])
    return hs, errors


# ---------------------------------------------------------------------------
# Stencils: exact weights, and methods built from them


def stencil(offsets: Sequence[int | Fraction], order: int = 1) -> tuple[Fraction, ...]:
    """Exact weights w with f⁽ᵏ⁾(x) ≈ Σⱼ wⱼ·f(x + rⱼ·h) / hᵏ for offsets rⱼ and k = ``order``.

    Matching Taylor series gives the Vandermonde system Σⱼ wⱼ·rⱼⁱ = k!·[i = k]
    for i = 0 … m-1 (m points); it is solved exactly, in Fractions. For k = 1
    this is the lecture's A·w = e_{k+1}; for k > 1 the k! is folded into the
    weights, so second differences read (1, -2, 1). Offsets must be exact
    (ints or :class:`~fractions.Fraction`), distinct, and more than ``order``.

    >>> [str(w) for w in stencil([-2, -1, 0, 1, 2], 1)]
    ['1/12', '-2/3', '0', '2/3', '-1/12']
    """
    rs = tuple(offsets)
    if not rs:
        raise ValueError("stencil needs at least one offset")
    bad = [r for r in rs if isinstance(r, bool) or not isinstance(r, Rational)]
    if bad:
        raise ValueError(
            f"stencil offsets must be exact, ints or fractions.Fraction; got {bad[0]!r} "
            f"({type(bad[0]).__name__}): write Fraction(1, 2) rather than 0.5"
        )
    rs = tuple(Fraction(r) for r in rs)
    repeated = sorted({r for r in rs if rs.count(r) > 1})
    if repeated:
        raise ValueError(
            f"stencil offsets must be distinct; {', '.join(map(str, repeated))} repeat"
        )
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order < len(rs):
        raise ValueError(
            f"a derivative of order {order!r} needs an integer order >= 0 and more points than "
            f"the order; got {len(rs)} point(s)"
        )
    m = len(rs)
    # Augmented matrix [A | b], A[i][j] = rⱼⁱ, solved by Gauss-Jordan elimination.
    rows = [[r**i for r in rs] + [Fraction(math.factorial(order) if i == order else 0)]
            for i in range(m)]  # fmt: skip
    for col in range(m):
        pivot = next(i for i in range(col, m) if rows[i][col] != 0)  # distinct rⱼ: nonsingular
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for i in range(m):
            if i != col and rows[i][col] != 0:
                rows[i] = [a - rows[i][col] * b for a, b in zip(rows[i], rows[col])]
    return tuple(row[m] for row in rows)


class Estimate(NamedTuple):
    """A derivative and an estimate of its error (see :meth:`FiniteDifferenceMethod.estimate`)."""

    value: Any
    error: Any


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class FiniteDifferenceMethod:
    """A stencil ready to use: ``method(f, x, h=None)`` ≈ f⁽ᵏ⁾(x) (k = ``order``).

    Inspect ``offsets``, exact ``weights``, derivative ``order`` and ``accuracy``
    (the p of the O(hᵖ) truncation error, whose leading constant is
    ``error_constant``). Built by :func:`fdm`, where the default step is explained.

    >>> FiniteDifferenceMethod([-1, 1], 1)
    <fdm central, 2 points: f′(x) ≈ (-1/2·f(x-h) + 1/2·f(x+h)) / h + O(h²)>
    """

    def __init__(self, offsets: Sequence[int | Fraction], order: int = 1) -> None:
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"a method needs a derivative order >= 1, got order={order!r}")
        offsets = tuple(offsets)
        self.weights = stencil(offsets, order)
        self.offsets = tuple(int(r) if Fraction(r).denominator == 1 else Fraction(r)
                             for r in offsets)  # fmt: skip
        self.order = order
        # The first moment Σ wⱼ·rⱼⁱ the stencil fails to cancel gives the truncation error
        # C·f⁽ᵏ⁺ᵖ⁾·hᵖ; symmetric stencils cancel one more than their point count promises.
        i = len(self.offsets)
        while (moment := _moment(self.weights, self.offsets, i)) == 0:
            i += 1
        self.accuracy = i - order
        self.error_constant = moment / math.factorial(i)
        # The default step balances rounding ε·Σ|wⱼ|·|f|/hᵏ against truncation |C|·|f⁽ᵏ⁺ᵖ⁾|·hᵖ.
        k, p, s = order, self.accuracy, float(sum(abs(w) for w in self.weights))
        self.step_factor = (k * EPS * s / (p * abs(float(self.error_constant)))) ** (1 / (p + k))

    @property
    def kind(self) -> str:
        """``"central"`` (symmetric offsets), ``"forward"``, ``"backward"`` or ``"custom"``."""
        rs = sorted(self.offsets)
        if rs == sorted(-r for r in rs):
            return "central"
        return "forward" if rs[0] >= 0 else "backward" if rs[-1] <= 0 else "custom"

    def step(self, x: Any) -> Any:
        """The default step at ``x``: ``step_factor``·max(1, |x|) (see :func:`fdm`), for
        float64; a numpy float of another precision scales it to its own ε (a float16 x
        would not even notice float64's step)."""
        factor = self.step_factor
        eps = _eps(x)
        if eps != EPS:
            factor *= (eps / EPS) ** (1 / (self.accuracy + self.order))
        return factor * np.maximum(1.0, np.abs(x))

    def _terms(self, f: Callable[[Any], Any], x: Any, h: Any) -> list[Any]:
        """wⱼ·f(x + rⱼ·h) for each point; a zero weight costs no call of f."""
        if np.any(np.asarray(h) == 0):
            raise ValueError("the step h must be nonzero; leave h=None for the default step")
        # x + r·h is a new array for every call, and w·f(...) a new value after it
        return [float(w) * f(x + float(r) * h) for w, r in zip(self.weights, self.offsets) if w]

    def __call__(self, f: Callable[[Any], Any], x: Any, h: Any = None) -> Any:
        h = self.step(x) if h is None else h
        return sum(self._terms(f, x, h)) / h**self.order

    def estimate(self, f: Callable[[Any], Any], x: Any, h: Any = None) -> Estimate:
        """``(value, error)``: the derivative at step h and an estimate of its error.

        The error is the truncation part, from Richardson's comparison with step 2h
        (|D(h) - D(2h)| / (2ᵖ - 1)), plus the rounding part ε·Σ|wⱼ·f(x + rⱼh)| / hᵏ.
        It estimates, it does not bound rigorously. Costs twice the calls of one use.

        >>> value, error = fdm(5, 1).estimate(np.sin, 1.0)
        >>> bool(abs(value - np.cos(1.0)) <= error < 1e-11)
        True
        """
        h = self.step(x) if h is None else h
        terms = self._terms(f, x, h)
        value, coarse = sum(terms) / h**self.order, self(f, x, 2 * h)
        rounding = EPS * sum(np.abs(t) for t in terms) / np.abs(h) ** self.order
        truncation = np.abs(value - coarse) / (2**self.accuracy - 1)
        return Estimate(value, truncation + rounding)

    def __repr__(self) -> str:
        k = self.order
        name = {1: "f′", 2: "f″", 3: "f‴"}.get(k, f"f⁽{str(k).translate(_SUPERSCRIPT)}⁾")
        terms = []
        for w, r in zip(self.weights, self.offsets):
            if w == 0:
                continue
            at = "x" if r == 0 else f"x{'+' if r > 0 else '-'}{_times_h(abs(r))}"
            coefficient = "" if abs(w) == 1 else f"{abs(w)}·"
            sign = ("-" if w < 0 else "") if not terms else (" - " if w < 0 else " + ")
            terms.append(f"{sign}{coefficient}f({at})")
        return (
            f"<fdm {self.kind}, {len(self.offsets)} points: {name}(x) ≈ ({''.join(terms)}) / "
            f"{_h_to_the(k)} + O({_h_to_the(self.accuracy)})>"
        )


def _moment(weights: Sequence[Fraction], offsets: Sequence[int | Fraction], i: int) -> Fraction:
    return sum((w * Fraction(r) ** i for w, r in zip(weights, offsets)), Fraction(0))


def _h_to_the(k: int) -> str:
    return "h" if k == 1 else "h" + str(k).translate(_SUPERSCRIPT)


def _times_h(r: int | Fraction) -> str:
    return "h" if r == 1 else f"{r}h" if isinstance(r, int) else f"({r})h"


def fdm(
    points: int | Sequence[int | Fraction], order: int = 1, *, kind: str = "central"
) -> FiniteDifferenceMethod:
    """A finite-difference method for the ``order``-th derivative on ``points`` points.

    Like FiniteDifferences.jl's ``central_fdm(5, 1)``. ``kind`` places the points:
    ``"central"`` at -p//2 … p//2 (an even count skips 0, so ``fdm(2, 1)`` is the
    central difference), ``"forward"`` at 0 … p-1, ``"backward"`` at -(p-1) … 0;
    or pass the offsets themselves. The default step is
    h = (k·ε·Σ|wⱼ| / (p·|C|))^(1/(p+k)) · max(1, |x|): it minimises rounding
    ε·Σ|wⱼ|·|f|/hᵏ plus truncation |C|·|f⁽ᵏ⁺ᵖ⁾|·hᵖ when f and its derivatives
    have the same size (the lecture's "sin" assumption), with the scale of x.

    >>> central = fdm(5, 1)
    >>> central.weights == stencil([-2, -1, 0, 1, 2], 1), central.accuracy
    (True, 4)
    >>> bool(abs(central(np.sin, np.pi / 3, h=5e-4) - 0.5) < 2e-13)
    True
    """
    if isinstance(points, int) and not isinstance(points, bool):
        if points < 1:
            raise ValueError(f"fdm needs at least one point, got points={points}")
        if kind == "central":
            half = points // 2
            offsets = [r for r in range(-half, half + 1) if r != 0 or points % 2]
        elif kind == "forward":
            offsets = list(range(points))
        elif kind == "backward":
            offsets = list(range(-points + 1, 1))
        else:
            raise ValueError(f"unknown kind {kind!r}; use 'central', 'forward' or 'backward'")
        if order >= points:
            raise ValueError(
                f"fdm({points}, {order}): a derivative of order {order} needs at least "
                f"{order + 1} points"
            )
    else:
        offsets = list(points)
    return FiniteDifferenceMethod(offsets, order)


# ---------------------------------------------------------------------------
# Gradients and Jacobians, and what they cost


class CountingFunction:
    """Wraps ``f`` and counts its calls (``.calls``), for the cost of finite differences.

    >>> f = CountingFunction(np.sin)
    >>> _ = forward_difference(f, 1.0)
    >>> f.calls
    2
    """

    def __init__(self, f: Callable[..., Any]) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.f(*args, **kwargs)


def count_calls(method: Callable[..., Any], f: Callable[..., Any], *args: Any, **kwargs: Any):
    """``(method(f, *args, **kwargs), number of calls of f it made)``.

    Works for everything here that takes ``f`` first: quotients, methods,
    :func:`gradient`, :func:`jacobian`, :func:`jvp`, :func:`vjp`.

    >>> count_calls(gradient, lambda v: v @ v, np.ones(3), scheme="forward")
    (array([2., 2., 2.]), 4)
    """
    counted = CountingFunction(f)
    return method(counted, *args, **kwargs), counted.calls


def jacobian(
    f: Callable[[Any], Any], x: Any, *, scheme: str = "central", h: Any = None
) -> np.ndarray:
    """The Jacobian of ``f`` at ``x`` by differences, shaped ``f(x).shape + x.shape``.

    ``scheme="forward"`` or ``"backward"`` costs n + 1 calls of ``f`` (n = x.size),
    ``"central"`` costs 2n. ``h`` (a number or one step per component) defaults to
    √ε·max(1, |x|) one-sided and :func:`central_step` central. Each call gets a
    fresh copy of x with one component moved by h: the arithmetic of "perturb in
    place and restore", without f ever seeing an array change under it.

    >>> jacobian(lambda v: v ** 2, np.array([1.0, 2.0]), scheme="central", h=0.5)
    array([[2., 0.],
           [0., 4.]])
    """
    if scheme not in ("forward", "backward", "central"):
        raise ValueError(f"unknown scheme {scheme!r}; use 'forward', 'backward' or 'central'")
    x = _point(x, "x")
    if h is None:
        steps = central_step(x) if scheme == "central" else np.sqrt(EPS) * np.maximum(1, np.abs(x))
    else:
        steps = np.broadcast_to(np.asarray(h, dtype=np.float64), x.shape)
    if not np.all(np.isfinite(steps) & (steps != 0)):
        raise ValueError(f"steps h must be finite and nonzero, got h={h!r}")

    def f_at(v: np.ndarray) -> np.ndarray:  # a copy of f's value: f may reuse its buffer
        return np.array(f(_like(v, x)), dtype=np.float64)

    f0 = None if scheme == "central" else f_at(x.copy())
    columns = []
    for k in range(x.size):
        hk = float(steps.flat[k])
        up, down = x.copy(), x.copy()
        up.flat[k] += hk
        down.flat[k] -= hk
        if scheme == "forward":
            columns.append((f_at(up) - f0) / hk)
        elif scheme == "backward":
            columns.append((f0 - f_at(down)) / hk)
        else:
            columns.append((f_at(up) - f_at(down)) / (2 * hk))
    if not columns:
        out_shape = np.shape(f(_like(x.copy(), x))) if f0 is None else f0.shape
        return np.zeros(out_shape + x.shape)
    return np.stack(columns, axis=-1).reshape(columns[0].shape + x.shape)


def _like(v: np.ndarray, x: np.ndarray) -> Any:
    return float(v) if x.ndim == 0 else v


def _fresh(v: Any) -> Any:
    """A private copy of an array for one call of f (or of one value f returned)."""
    return v.copy() if isinstance(v, np.ndarray) else v


def _eps(x: Any) -> float:
    """The machine epsilon of ``x``'s floating type (float64's for Python numbers)."""
    dtype = getattr(x, "dtype", None)
    return float(np.finfo(dtype).eps) if dtype is not None and dtype.kind == "f" else EPS


_NOT_REAL = {"b": "bools", "c": "complex numbers", "U": "strings", "S": "bytes",
             "M": "dates", "m": "time spans", "V": "raw records"}  # fmt: skip


def _point(x: Any, what: str) -> np.ndarray:
    """``x`` as a float64 array to take differences around, or an error naming what is
    wrong with it (not real numbers, or not finite) and the fix."""
    arr = np.asarray(x)
    kind = _NOT_REAL.get(arr.dtype.kind)
    if kind is None and arr.dtype.kind == "O":
        bad = [v for v in arr.flat if isinstance(v, bool | complex | str | bytes) or v is None]
        kind = f"{type(bad[0]).__name__} values" if bad else None
    try:
        point = None if kind is not None else arr.astype(np.float64)
    except (TypeError, ValueError):
        kind = f"{arr.dtype} values that are not numbers"
        point = None
    if point is None:
        it = f"{_short(x)} ({type(x).__name__})" if arr.ndim == 0 else f"an array of {kind}"
        raise DifferentiationError(
            f"finite differences take small real steps from {what}, but {what} is {it}; "
            "pass real numbers (a float, or an array of floats)"
        )
    _check_finite(point, what)
    return point


def _check_finite(x: Any, what: str) -> None:
    """Differences need a finite point: nan or inf in ``x`` is an error with the fix."""
    finite = np.isfinite(x)
    if np.all(finite):
        return
    index = np.argwhere(~np.asarray(finite))[0]
    value = np.asarray(x)[tuple(index)]
    where = f" at index {tuple(int(i) for i in index)}" if np.ndim(x) else ""
    raise DifferentiationError(
        f"finite differences take steps around the point, but {what} is {value}{where}: "
        "no finite step moves it away. Differentiate at a finite point, or use mode='forward' or "
        "mode='reverse', whose rules carry nan and inf through"
    )


def _short(x: Any) -> str:
    """A value for a message: a number as a number, anything else by its repr, cut short."""
    if isinstance(x, float | int | np.floating | np.integer) and not isinstance(x, bool):
        return str(float(x))
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def gradient(f: Callable[[Any], Any], x: Any, *, scheme: str = "central", h: Any = None) -> Any:
    """The gradient of a scalar ``f`` at ``x`` by differences, shaped like ``x``.

    Costs n + 1 calls of ``f`` with ``scheme="forward"``, 2n with ``"central"``
    (see :func:`jacobian` for steps, :func:`count_calls` to count).

    >>> f = lambda v: v[0] * v[0] * v[1] + 1 / (v[0] * v[0] + v[1] * v[1] + 1)
    >>> gradient(f, np.array([0.5, -0.5]), scheme="forward", h=1e-8)
    array([-0.94444446,  0.69444445])
    """
    jac = jacobian(f, x, scheme=scheme, h=h)
    out_shape = jac.shape[: jac.ndim - np.ndim(x)]
    if out_shape != ():
        raise ValueError(
            f"gradient needs a scalar output, got shape {out_shape}; use jacobian, or reduce "
            "the output with .sum()"
        )
    return float(jac) if np.ndim(x) == 0 else jac.reshape(np.shape(x))


# ---------------------------------------------------------------------------
# The engine protocol (mode="numeric")


def _outputs(outs: Any) -> tuple:
    """f's outputs, each array copied as it was returned (f may reuse its buffers)."""
    if not isinstance(outs, tuple | list):
        raise TypeError(f"f must return a tuple of outputs (the engine protocol), got {outs!r}")
    return tuple(_fresh(o) for o in outs)


def _check_values(values: Sequence[Any], outs: Sequence[Any], what: str, h: float) -> None:
    """Differences of nan or inf are meaningless: an error saying where f stopped being
    finite (at the point itself, or a step ``h`` away from it along ``what``)."""
    if all(np.all(np.isfinite(v)) for v in values):
        return
    for o, out in enumerate(outs):
        if not np.all(np.isfinite(out)):
            raise DifferentiationError(
                f"numeric mode: output {o} of f is {_short(out)} at the point, and differences "
                "of non-finite values mean nothing. Use mode='forward' or mode='reverse', whose "
                "rules give the limit where there is one"
            )
    raise DifferentiationError(
        f"numeric mode: f is not finite a step (h = {h:.1e}) away from the point along {what}: "
        "the point is at the edge of f's domain (sqrt or log at 0, say) or f overflows there, "
        "and differences cannot look past that. Use mode='forward' or mode='reverse', which "
        "apply the derivative rules, or move the point"
    )


def _as_float64(x: Any, like: Any = None) -> Any:
    """``x`` in float64: an array if ``like`` (default: ``x``) is one, else a float."""
    like = x if like is None else like
    return np.asarray(x, dtype=np.float64) if isinstance(like, np.ndarray) else float(x)


def _like_value(v: Any, like: Any) -> Any:
    """``v`` (float64) in the form of ``like``: a float, a numpy scalar or an array of its
    float dtype."""
    if isinstance(like, np.ndarray):
        dtype = like.dtype if like.dtype.kind == "f" else np.float64
        return np.asarray(v, dtype=dtype).reshape(like.shape)
    if isinstance(like, np.floating):
        return like.dtype.type(v)
    return float(v)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]):
    """``(outs, out_dots)``: ``f(*primals)`` and its derivative along ``tangents`` (``None``
    for an input held constant).

    One central difference along the direction: 3 calls of ``f`` (the value,
    then x ± h·t), with h = ε^(1/3)·max(1, max|x|) / max|t|, so no component
    moves by more than a central step. Differences only call ``f``: no passes or
    sweeps to count.

    >>> outs, out_dots = jvp(lambda x, y: (x * y,), (2.0, 3.0), (1.0, 0.0))
    >>> round(out_dots[0], 8)
    3.0
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    tangents = tuple(np.zeros(np.shape(x)) if t is None else t for x, t in zip(primals, tangents))
    for i, (x, t) in enumerate(zip(primals, tangents)):
        if np.shape(x) != np.shape(t):
            raise ValueError(f"tangent {i} has shape {np.shape(t)}, its primal {np.shape(x)}")
    xs = [_as_float64(_point(x, f"input {i}"), x) for i, x in enumerate(primals)]
    ts = [_as_float64(_point(t, f"tangent {i}"), t) for i, t in enumerate(tangents)]
    outs = _outputs(f(*map(_fresh, primals)))
    t_max = max((float(np.max(np.abs(t), initial=0.0)) for t in ts), default=0.0)
    if t_max == 0.0:
        return outs, tuple(_like_value(np.zeros(np.shape(o)), o) for o in outs)
    x_max = max((float(np.max(np.abs(x), initial=0.0)) for x in xs), default=0.0)
    h = EPS ** (1 / 3) * max(1.0, x_max) / t_max
    ups = _outputs(f(*(x + h * t for x, t in zip(xs, ts))))
    downs = _outputs(f(*(x - h * t for x, t in zip(xs, ts))))
    _check_values([*ups, *downs], outs, "the tangent", h * t_max)
    out_dots = tuple(
        _like_value((_as_float64(u) - _as_float64(d)) / (2 * h), o)
        for u, d, o in zip(ups, downs, outs)
    )
    return outs, out_dots


def vjp(f: Callable[..., Any], primals: Sequence[Any]):
    """``(outs, pullback)``: ``f(*primals)`` and the map from output cotangents to
    input cotangents, through the Jacobian by central differences.

    The Jacobian is computed at once, 2n calls of ``f`` (n scalar inputs in all)
    after the one for ``outs``, with :func:`central_step` per component.
    ``pullback(cts)`` takes one cotangent per output (``None`` for zero) and
    returns one per primal, shaped like it.

    >>> outs, pullback = vjp(lambda x, y: (x * y,), (2.0, 3.0))
    >>> [round(c, 8) for c in pullback((1.0,))]
    [3.0, 2.0]
    """
    primals = tuple(primals)
    points = [_point(x, f"input {i}") for i, x in enumerate(primals)]
    outs = _outputs(f(*map(_fresh, primals)))
    sizes = [int(np.size(o)) for o in outs]
    jacobians = []  # per primal: (total output size,) + primal shape
    for i, x in enumerate(points):

        def f_of_one(v: Any, i: int = i) -> np.ndarray:
            args = (*map(_fresh, primals[:i]), v, *map(_fresh, primals[i + 1 :]))
            leaves = [np.ravel(np.asarray(o, dtype=np.float64)) for o in _outputs(f(*args))]
            return np.concatenate(leaves) if leaves else np.zeros(0)

        if np.size(x) == 0:
            jacobians.append(np.zeros((sum(sizes), *np.shape(x))))
            continue
        jac = jacobian(f_of_one, x)
        if not np.all(np.isfinite(jac)):
            k = np.argwhere(~np.isfinite(jac))[0][1:]
            along = f"input {i}" + (f" at index {tuple(int(j) for j in k)}" if len(k) else "")
            _check_values([jac], outs, along, float(central_step(x[tuple(k)])))
        jacobians.append(jac)

    def numeric_pullback(cts: Sequence[Any]) -> tuple:
        cts = tuple(cts)
        if len(cts) != len(outs):
            raise ValueError(
                f"pullback needs one cotangent per output ({len(outs)}), got {len(cts)}"
            )
        x_bars = [np.zeros(np.shape(x)) for x in primals]
        start = 0
        for o, (ct, size) in enumerate(zip(cts, sizes)):
            if ct is not None:
                if np.shape(ct) != np.shape(outs[o]):
                    raise ValueError(
                        f"cotangent {o} has shape {np.shape(ct)}, but its output has shape "
                        f"{np.shape(outs[o])}"
                    )
                flat_ct = np.ravel(np.asarray(ct, dtype=np.float64))
                for i, jac in enumerate(jacobians):
                    x_bars[i] = x_bars[i] + np.tensordot(flat_ct, jac[start : start + size], 1)
            start += size
        return tuple(_like_value(x_bar, x) for x_bar, x in zip(x_bars, primals))

    return outs, numeric_pullback


def _watched(rule: Callable) -> Callable:
    """``rule`` (the engine's jvp or vjp) with its calls of f inside a running "numeric"
    transformation, which ``ad.no_grad()`` refuses rather than silently ignore."""

    @functools.wraps(rule)
    def watched(f: Callable[..., Any], *args: Any) -> Any:
        with running(Transformation("numeric")):
            return rule(f, *args)

    return watched


ENGINE = Engine("numeric", jvp=_watched(jvp), vjp=_watched(vjp))
