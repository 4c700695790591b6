"""Reductions and statistics: min, prod, var, std, median and average; cumsum and cumprod.

They join ``sum``, ``mean``, ``max`` and ``logsumexp`` of :mod:`adlab.ops.array` and are
declared the same way, with the numpy functions and array methods they stand for
(``np.var(x, ddof=1)`` and ``x.var(ddof=1)`` on traced values are ``ad.var``). Each public
function normalises its arguments and applies one primitive, whose rule handles the shapes
(a ``cumsum`` of the flattened array is one step of a trace, not a reshape and a cumsum).

A reduction is declared by its weights, ∂out/∂x, one per element (``_defweights``):

* ``min``: 1/k at each of the k elements equal to the minimum (ties split evenly, as max);
* ``prod``: the product of the *other* elements, computed without dividing by x (from the
  cumulative products on each side), so a zero in x gives its exact derivative, at every
  order: ∂ prod(0, 2, 3) = (6, 0, 0);
* ``var``: 2 (x − mean) / (N − ddof); ``std``: (x − mean) / ((N − ddof) · std), and 0 where
  std = 0 (every element equal: a kink, as abs at 0);
* ``median``: 1 at the middle element (1/2 at each of the two middle ones for an even
  count), shared evenly by elements equal to it.

``cumsum`` is linear: its transpose is the cumulative sum from the other end. ``cumprod``'s
rules solve a first-order linear recurrence, h_k = a_k · h_{k−1} + b_k (the primitive
``linear_recurrence``, whose own rules are recurrences too): its tangent satisfies
ẏ_k = x_k · ẏ_{k−1} + y_{k−1} · ẋ_k, so no rule divides, and zeros in x are exact at every
order. ``average`` with weights is differentiable in both the values and the weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.expr import Expr
from adlab.core.operators import div
from adlab.core.primitive import Primitive
from adlab.core.rules import defjvp, defkink, deflinear, defvjp
from adlab.core.tangents import dtype_of, shape_of, sum_to_shape
from adlab.ops.array import (
    Axes,
    _axes,
    _defweights,
    _max_weights,
    _public,
    _reduced_count,
    _unreduce,
    broadcast_to_p,
    concatenate_p,
    getitem_p,
    mean_p,
    reshape_p,
    sum_p,
    transpose_p,
)
from adlab.ops.scalar import div_or_zero

AxisArg = int | Sequence[int] | None


def _reduced(name: str, axis: AxisArg, *xs: Any) -> Axes:
    """``axis`` normalised for ``xs[0]`` (see ``_axes``), once no argument is a symbolic
    expression: those carry no shape, which these rules need (a formula of scalars has no
    axes to reduce)."""
    if any(isinstance(x, Expr) for x in xs):
        raise DifferentiationError(
            f"ad.{name} of a symbolic expression: its rule needs the shape of the array, and "
            "symbolic expressions carry none (symbolic mode differentiates formulas of "
            "scalars). Use mode='forward' or mode='reverse', or write the formula with "
            "+, * and the elementwise functions"
        )
    return _axes(axis, xs[0])


# ---------------------------------------------------------------------------
# Along one axis: flip, shift, and the slices of a reduction laid out along the last axis


def _flip(x: Any, axis: int) -> Any:
    return getitem_p(x, index=(slice(None),) * axis + (slice(None, None, -1),))


def _shifted(x: Any, axis: int, fill: float, forward: bool = True) -> Any:
    """``x`` moved one place along ``axis`` (towards the end if ``forward``), ``fill`` in the
    place it leaves: ``[fill, x₀, x₁ …]`` (or ``[x₁, x₂ …, fill]``)."""
    shape = shape_of(x)
    if shape[axis] == 0:
        return x
    lead = (slice(None),) * axis
    kept = getitem_p(x, index=(*lead, slice(None, -1) if forward else slice(1, None)))
    edge = np.full((*shape[:axis], 1, *shape[axis + 1 :]), fill, dtype_of(x) or np.float64)
    parts = (edge, kept) if forward else (kept, edge)
    return concatenate_p(*parts, axis=axis)


def _as_rows(x: Any, axis: Axes) -> tuple[Any, Any]:
    """``x`` with the reduced axes moved last and merged into one, and the function that
    puts an array of that layout back into ``x``'s."""
    shape = shape_of(x)
    axes = tuple(range(len(shape))) if axis is None else axis
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    order = kept + axes
    moved = transpose_p(x, axes=order) if order != tuple(range(len(shape))) else x
    moved_shape = tuple(shape[i] for i in order)
    rows = reshape_p(moved, shape=(*moved_shape[: len(kept)], _reduced_count(shape, axes)))

    def back(y: Any) -> Any:
        y = reshape_p(y, shape=moved_shape)
        if order != tuple(range(len(shape))):
            y = transpose_p(y, axes=tuple(int(i) for i in np.argsort(order)))
        return y

    return rows, back


# ---------------------------------------------------------------------------
# min


def _min_impl(x: Any, *, axis: Axes, keepdims: bool) -> Any:
    return np.min(x, axis=axis, keepdims=keepdims)


min_p = Primitive("min", _min_impl, doc="minimum over axes (ties share the gradient)")


@_public(np.min, np.amin, method="min", keywords=("axis", "keepdims"))
def min(x: Any, axis: AxisArg = None, keepdims: bool = False) -> Any:
    """Minimum of ``x`` over ``axis``; tied minima share the gradient evenly."""
    return min_p(x, axis=_reduced("min", axis, x), keepdims=keepdims)


_defweights(min_p, _max_weights)  # 1/k at each of the k elements equal to the result
defkink(min_p, "ties split evenly: each of the k elements that attain the minimum gets 1/k")

# ---------------------------------------------------------------------------
# prod


def _prod_impl(x: Any, *, axis: Axes, keepdims: bool) -> Any:
    return np.prod(x, axis=axis, keepdims=keepdims)


prod_p = Primitive("prod", _prod_impl, doc="product over axes (exact at zeros)")


@_public(np.prod, method="prod", keywords=("axis", "keepdims"))
def prod(x: Any, axis: AxisArg = None, keepdims: bool = False) -> Any:
    """Product of ``x`` over ``axis``, like ``np.prod``; its gradient is exact at zeros."""
    return prod_p(x, axis=_reduced("prod", axis, x), keepdims=keepdims)


def _others_product(x: Any, out: Any, axis: Axes, keepdims: bool) -> Any:
    """∂ prod(x) / ∂xᵢ = the product of the other elements of xᵢ's slice: the cumulative
    product before it times the one after it (no division, so exact where x has zeros)."""
    if _reduced_count(shape_of(x), axis) == 0:
        return np.zeros(shape_of(x), dtype_of(x) or np.float64)
    rows, back = _as_rows(x, axis)
    last = len(shape_of(rows)) - 1
    before = _shifted(cumprod_p(rows, axis=last), last, 1.0)
    after = _flip(_shifted(cumprod_p(_flip(rows, last), axis=last), last, 1.0), last)
    return back(before * after)


_defweights(prod_p, _others_product)

# ---------------------------------------------------------------------------
# var, std


def _var_impl(x: Any, *, axis: Axes, keepdims: bool, ddof: float) -> Any:
    return np.var(x, axis=axis, keepdims=keepdims, ddof=ddof)


def _std_impl(x: Any, *, axis: Axes, keepdims: bool, ddof: float) -> Any:
    return np.std(x, axis=axis, keepdims=keepdims, ddof=ddof)


var_p = Primitive("var", _var_impl, doc="variance over axes (ddof: delta degrees of freedom)")
std_p = Primitive("std", _std_impl, doc="standard deviation over axes")


@_public(np.var, method="var", keywords=("axis", "ddof", "keepdims"))
def var(x: Any, axis: AxisArg = None, *, ddof: float = 0, keepdims: bool = False) -> Any:
    """Variance of ``x`` over ``axis``, divided by N − ``ddof``, like ``np.var``."""
    return var_p(x, axis=_reduced("var", axis, x), keepdims=keepdims, ddof=ddof)


@_public(np.std, method="std", keywords=("axis", "ddof", "keepdims"))
def std(x: Any, axis: AxisArg = None, *, ddof: float = 0, keepdims: bool = False) -> Any:
    """Standard deviation of ``x`` over ``axis`` (N − ``ddof`` in the variance), like ``np.std``."""
    return std_p(x, axis=_reduced("std", axis, x), keepdims=keepdims, ddof=ddof)


def _centred(x: Any, axis: Axes) -> Any:
    return x - mean_p(x, axis=axis, keepdims=True)


def _var_weights(x: Any, out: Any, axis: Axes, keepdims: bool, ddof: float) -> Any:
    """∂ var / ∂x = 2 (x − mean) / (N − ddof)."""
    return _centred(x, axis) * div(2.0, _reduced_count(shape_of(x), axis) - ddof)


def _std_weights(x: Any, out: Any, axis: Axes, keepdims: bool, ddof: float) -> Any:
    """∂ std / ∂x = (x − mean) / ((N − ddof) · std), and 0 where std = 0."""
    n = _reduced_count(shape_of(x), axis) - ddof
    return div_or_zero(_centred(x, axis), _unreduce(out, shape_of(x), axis, keepdims) * n)


_defweights(var_p, _var_weights)
_defweights(std_p, _std_weights)
defkink(std_p, "0 where std = 0 (all elements equal: a kink, as abs'(0) = 0)")

# ---------------------------------------------------------------------------
# median


def _median_impl(x: Any, *, axis: Axes, keepdims: bool) -> Any:
    return np.median(x, axis=axis, keepdims=keepdims)


def _median_weights_impl(x: Any, *, axis: Axes) -> np.ndarray:
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else axis
    order = tuple(i for i in range(x.ndim) if i not in axes) + axes
    moved = np.transpose(x, order)
    rows = moved.reshape(-1, _reduced_count(x.shape, axes))
    m, n = rows.shape
    ranks = np.argsort(rows, axis=1, kind="stable")
    middle = np.zeros((m, n))  # by rank: 1 at the middle, or 1/2 at each of the two middle ones
    if n:
        middle[:, (n - 1) // 2] += 0.5
        middle[:, n // 2] += 0.5
    # ties: each run of equal values (in rank order) shares its weight evenly
    ranked = np.take_along_axis(rows, ranks, axis=1)
    runs = np.cumsum(
        np.concatenate([np.ones((m, 1 if n else 0), bool), ranked[:, 1:] != ranked[:, :-1]], 1), 1
    )
    runs = (runs - 1 + n * np.arange(m)[:, None]).ravel()
    share = np.bincount(runs, middle.ravel(), m * n) / np.maximum(np.bincount(runs, None, m * n), 1)
    weights = np.empty((m, n))
    np.put_along_axis(weights, ranks, share[runs].reshape(m, n), axis=1)
    weights = np.transpose(weights.reshape(moved.shape), np.argsort(order))
    return weights.astype(x.dtype if x.dtype.kind == "f" else np.float64)


median_p = Primitive("median", _median_impl, doc="median over axes")
_median_weights_p = Primitive(
    "median_weights", _median_weights_impl, differentiable=False,
    doc="∂ median / ∂x: 1 at the middle element (1/2 at each of two), shared by equal elements",
)  # fmt: skip


@_public(np.median, keywords=("axis", "keepdims"))
def median(x: Any, axis: AxisArg = None, keepdims: bool = False) -> Any:
    """Median of ``x`` over ``axis``, like ``np.median``; its gradient goes to the middle
    element(s), shared evenly by the elements equal to them."""
    return median_p(x, axis=_reduced("median", axis, x), keepdims=keepdims)


def _median_weights(x: Any, out: Any, axis: Axes, keepdims: bool) -> Any:
    return _median_weights_p(x, axis=axis)


_defweights(median_p, _median_weights)
defkink(
    median_p,
    "the middle element gets 1 (an even count: each of the two middle elements 1/2); elements "
    "equal to a middle one share its weight evenly",
)

# ---------------------------------------------------------------------------
# average


def _weights_shape(w_shape: tuple[int, ...], shape: tuple[int, ...], axis: Axes) -> tuple:
    """The shape in which ``np.average``'s weights broadcast against ``a`` (numpy allows 1-d
    weights along a single ``axis``, and weights along the reduced axes)."""
    if w_shape == shape or axis is None or len(w_shape) != len(axis):
        return w_shape
    return tuple(shape[i] if i in axis else 1 for i in range(len(shape)))


def _shaped_weights(w: Any, shape: tuple[int, ...], axis: Axes) -> Any:
    target = _weights_shape(shape_of(w), shape, axis)
    return w if target == shape_of(w) else reshape_p(w, shape=target)


def _average_impl(a: Any, w: Any, *, axis: Axes, keepdims: bool) -> Any:
    return np.average(a, axis=axis, weights=w, keepdims=keepdims)


average_p = Primitive("average", _average_impl, doc="weighted average over axes")


@_public(np.average, keywords=("axis", "weights", "returned", "keepdims"))
def average(a: Any, axis: AxisArg = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False) -> Any:  # fmt: skip
    """``sum(a · weights) / sum(weights)`` over ``axis``, like ``np.average``: differentiable
    in ``a`` and in ``weights``. With ``returned=True``, also the sum of the weights."""
    axes = _reduced("average", axis, a, weights)
    if weights is None:
        out = mean_p(a, axis=axes, keepdims=keepdims)
        count = _reduced_count(shape_of(a), axes)
        total = np.full(shape_of(out), count, dtype_of(a) or np.float64)[()]
    else:
        out = average_p(a, weights, axis=axes, keepdims=keepdims)
        total = None
        if returned:
            w = broadcast_to_p(_shaped_weights(weights, shape_of(a), axes), shape=shape_of(a))
            total = sum_p(w, axis=axes, keepdims=keepdims)
    return (out, total) if returned else out


def _average_parts(out: Any, a: Any, w: Any, axis: Axes, keepdims: bool) -> tuple[Any, Any, Any]:
    """The broadcast weights, their sum over the reduced axes (kept), and a − average."""
    shape = shape_of(a)
    wb = broadcast_to_p(_shaped_weights(w, shape, axis), shape=shape)
    total = sum_p(wb, axis=axis, keepdims=True)
    return wb, total, a - _unreduce(out, shape, axis, keepdims)


def _average_jvp(out: Any, args: Sequence, tangents: Sequence, *, axis: Axes, keepdims: bool):
    (a, w), (a_dot, w_dot) = args, tangents
    wb, total, deviation = _average_parts(out, a, w, axis, keepdims)
    shape = shape_of(a)
    numerator = None
    if a_dot is not None:
        numerator = a_dot * wb
    if w_dot is not None:
        term = broadcast_to_p(_shaped_weights(w_dot, shape, axis), shape=shape) * deviation
        numerator = term if numerator is None else numerator + term
    if numerator is None:
        return None
    return sum_p(numerator / total, axis=axis, keepdims=keepdims)


def _average_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, axis: Axes, keepdims: bool):
    a, w = args
    shape, w_shape = shape_of(a), shape_of(w)
    wb, total, deviation = _average_parts(out, a, w, axis, keepdims)

    def average_pullback(out_bar: Any) -> tuple:
        spread = _unreduce(out_bar, shape, axis, keepdims) / total
        cts = []
        for i in wrt:
            if i == 0:
                cts.append(spread * wb)
            else:
                w_bar = sum_to_shape(spread * deviation, _weights_shape(w_shape, shape, axis))
                cts.append(w_bar if shape_of(w_bar) == w_shape else reshape_p(w_bar, shape=w_shape))
        return tuple(cts)

    return average_pullback


defjvp(average_p, _average_jvp)
defvjp(average_p, _average_vjp)

# ---------------------------------------------------------------------------
# cumsum, and cumprod by linear recurrences


def _cumsum_impl(x: Any, *, axis: int | None) -> Any:
    return np.cumsum(x, axis=axis)


def _cumprod_impl(x: Any, *, axis: int | None) -> Any:
    return np.cumprod(x, axis=axis)


cumsum_p = Primitive("cumsum", _cumsum_impl, doc="running sums along an axis (flattened if None)")
cumprod_p = Primitive(
    "cumprod", _cumprod_impl, doc="running products along an axis (exact at zeros)"
)


def _axis(name: str, axis: int | None, x: Any) -> int | None:
    axes = _reduced(name, None if axis is None else (axis,), x)
    return None if axes is None else axes[0]


@_public(np.cumsum, method="cumsum", keywords=("axis",))
def cumsum(x: Any, axis: int | None = None) -> Any:
    """Running sums of ``x`` along ``axis`` (of the flattened array if None), like ``np.cumsum``."""
    return cumsum_p(x, axis=_axis("cumsum", axis, x))


@_public(np.cumprod, method="cumprod", keywords=("axis",))
def cumprod(x: Any, axis: int | None = None) -> Any:
    """Running products of ``x`` along ``axis`` (flattened if None), like ``np.cumprod``;
    its derivatives are exact where ``x`` has zeros."""
    return cumprod_p(x, axis=_axis("cumprod", axis, x))


def _flat(x: Any, axis: int | None) -> tuple[Any, int]:
    """``x`` and the axis the running operation goes along (``x`` flattened for None)."""
    if axis is None:
        return reshape_p(x, shape=(math.prod(shape_of(x)),)), 0
    return x, axis


def _cumsum_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, axis: int | None):
    shape = avals[0][0]
    g, ax = _flat(out_bar, None) if axis is None else (out_bar, axis)
    x_bar = _flip(cumsum_p(_flip(g, ax), axis=ax), ax)  # sums from the other end
    return (reshape_p(x_bar, shape=shape) if axis is None else x_bar,)


deflinear(cumsum_p, _cumsum_transpose)


def _recurrence_impl(a: Any, b: Any, *, axis: int) -> np.ndarray:
    a, b = np.broadcast_arrays(a, b)
    h = np.empty(a.shape, np.result_type(a, b))
    a_k, b_k, h_k = (np.moveaxis(v, axis, 0) for v in (a, b, h))
    previous = np.zeros(h_k.shape[1:], h.dtype)
    for k in range(len(h_k)):
        previous = a_k[k] * previous + b_k[k]
        h_k[k] = previous
    return h


linear_recurrence_p = Primitive(
    "linear_recurrence", _recurrence_impl,
    doc="h with h_k = a_k · h_{k-1} + b_k along axis, h_{-1} = 0: the rules of cumprod",
)  # fmt: skip


def _backward_recurrence(a: Any, g: Any, axis: int) -> Any:
    """s with s_k = g_k + a_{k+1} · s_{k+1}: the recurrence run from the other end (its
    transpose)."""
    a_next = _shifted(a, axis, 0.0, forward=False)
    return _flip(linear_recurrence_p(_flip(a_next, axis), _flip(g, axis), axis=axis), axis)


def _recurrence_jvp(out: Any, args: Sequence, tangents: Sequence, *, axis: int) -> Any:
    (a, _), (a_dot, b_dot) = args, tangents
    forcing = None if a_dot is None else a_dot * _shifted(out, axis, 0.0)
    if b_dot is not None:
        forcing = b_dot if forcing is None else forcing + b_dot
    return None if forcing is None else linear_recurrence_p(a, forcing, axis=axis)


def _recurrence_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, axis: int):
    a = args[0]
    before = _shifted(out, axis, 0.0)

    def linear_recurrence_pullback(out_bar: Any) -> tuple:
        b_bar = _backward_recurrence(a, out_bar, axis)
        return tuple(b_bar * before if i == 0 else b_bar for i in wrt)

    return linear_recurrence_pullback


defjvp(linear_recurrence_p, _recurrence_jvp)
defvjp(linear_recurrence_p, _recurrence_vjp)


def _cumprod_jvp(out: Any, args: Sequence, tangents: Sequence, *, axis: int | None) -> Any:
    (x,), (x_dot,) = args, tangents
    x, ax = _flat(x, axis)
    x_dot, _ = _flat(x_dot, axis)
    # ẏ_k = x_k · ẏ_{k−1} + y_{k−1} · ẋ_k (the product rule of y_k = y_{k−1} · x_k)
    return linear_recurrence_p(x, _shifted(out, ax, 1.0) * x_dot, axis=ax)


def _cumprod_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, axis: int | None):
    x, shape = args[0], shape_of(args[0])
    x, ax = _flat(x, axis)
    before = _shifted(out, ax, 1.0)

    def cumprod_pullback(out_bar: Any) -> tuple:
        # x̄_k = y_{k−1} · s_k with s_k = ȳ_k + x_{k+1} · s_{k+1}
        x_bar = before * _backward_recurrence(x, out_bar, ax)
        return (reshape_p(x_bar, shape=shape) if axis is None else x_bar,)

    return cumprod_pullback


defjvp(cumprod_p, _cumprod_jvp)
defvjp(cumprod_p, _cumprod_vjp)
