"""Array primitives: reductions, shape changes, indexing, products and joins.

Linear primitives (``sum mean reshape transpose broadcast_to getitem
scatter_add concatenate stack``) declare only their transpose; their jvp is the
primitive itself applied to the tangents. Nonlinear ones (``max matmul
logsumexp``) declare a jvp and a vjp side by side. Every rule body is written
with adlab operations, so rules are differentiable too.

Each primitive comes with a public function (``sum``, ``reshape`` ...) that
checks and normalises its arguments (negative axes, ``-1`` in shapes) before
calling the primitive, so the recorded parameters are canonical.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.operators import equal, mul
from adlab.core.operators import matmul as matmul_p
from adlab.core.primitive import Box, Primitive
from adlab.core.rules import defjvp, defkink, deflinear, defvjp
from adlab.core.tangents import dtype_of, shape_of, sum_to_shape
from adlab.ops.scalar import exp

Axes = tuple[int, ...] | None

PUBLIC: dict[str, Any] = {}
"""The functions of this module by name: what ``adlab`` exports (each checks and normalises
its arguments, then calls its primitive)."""
NUMPY: dict[Any, tuple[Any, frozenset[str]]] = {}
"""numpy functions -> the function of this module that stands for them on traced values,
and the keywords it takes (what ``__array_function__`` dispatches)."""
METHODS: dict[str, Any] = {}
"""ndarray method names -> the function of this module a traced value's method calls."""


def _public(*numpy: Any, method: str | None = None, keywords: Sequence[str] = ()) -> Any:
    """Declare a function of the table: exported by ``adlab``, reached by the ``numpy``
    functions given (with these keywords) and by the array method ``method``."""

    def declare(fn: Any) -> Any:
        PUBLIC[fn.__name__] = fn
        for np_fn in numpy:
            NUMPY[np_fn] = (fn, frozenset(keywords))
        if method is not None:
            METHODS[method] = fn
        return fn

    return declare


def _axes(axis: int | Sequence[int] | None, x: Any) -> Axes:
    """``axis`` as a sorted tuple of non-negative ints (or ``None`` for all axes)."""
    if axis is None:
        return None
    ndim = len(shape_of(x))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim)
        out.append(int(a) % ndim)
    return tuple(sorted(out))


def _reduced_count(shape: tuple[int, ...], axis: Axes) -> int:
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _unreduce(g: Any, shape: tuple[int, ...], axis: Axes, keepdims: bool) -> Any:
    """Broadcast a reduction's result back over the axes it reduced."""
    if not keepdims and axis is not None:
        g = reshape_p(g, shape=tuple(1 if i in axis else n for i, n in enumerate(shape)))
    return broadcast_to_p(g, shape=shape)  # a full reduction's scalar broadcasts as it is


# ---------------------------------------------------------------------------
# Reductions


def _sum_impl(x: Any, *, axis: Axes, keepdims: bool) -> Any:
    if isinstance(x, np.ndarray):  # the method skips np.sum's dispatch layers
        return x.sum(axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


def _mean_impl(x: Any, *, axis: Axes, keepdims: bool) -> Any:
    return np.mean(x, axis=axis, keepdims=keepdims)


def _max_impl(x: Any, *, axis: Axes, keepdims: bool) -> Any:
    return np.max(x, axis=axis, keepdims=keepdims)


sum_p = Primitive("sum", _sum_impl, doc="sum over axes")
mean_p = Primitive("mean", _mean_impl, doc="mean over axes")
max_p = Primitive("max", _max_impl, doc="maximum over axes (ties share the gradient)")


@_public(np.sum, method="sum", keywords=("axis", "keepdims"))
def sum(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Any:
    """Sum of ``x`` over ``axis`` (all axes by default), like ``np.sum``."""
    return sum_p(x, axis=_axes(axis, x), keepdims=keepdims)


@_public(np.mean, method="mean", keywords=("axis", "keepdims"))
def mean(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Any:
    """Mean of ``x`` over ``axis`` (all axes by default), like ``np.mean``."""
    return mean_p(x, axis=_axes(axis, x), keepdims=keepdims)


@_public(np.max, np.amax, method="max", keywords=("axis", "keepdims"))
def max(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Any:
    """Maximum of ``x`` over ``axis``; tied maxima share the gradient evenly."""
    return max_p(x, axis=_axes(axis, x), keepdims=keepdims)


def _sum_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, axis: Axes, keepdims: bool):
    return (_unreduce(out_bar, avals[0][0], axis, keepdims),)


def _mean_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, axis: Axes, keepdims: bool):
    shape = avals[0][0]
    return (_unreduce(out_bar, shape, axis, keepdims) * (1.0 / _reduced_count(shape, axis)),)


deflinear(sum_p, _sum_transpose)
deflinear(mean_p, _mean_transpose)


def _defweights(prim: Primitive, weights: Any) -> None:
    """Declare a reduction by its derivative ∂out/∂x: one weight per element of x.

    ``weights(x, out, axis, keepdims)`` gives them (the tie-split mask for max,
    the softmax for logsumexp); the jvp sums ``weights · ẋ`` over the reduced
    axes and the vjp spreads ``out̅`` back over them, times the weights.
    """

    def weighted_jvp(out: Any, args: Sequence, tangents: Sequence, *, axis: Axes, keepdims: bool):
        (x,), (x_dot,) = args, tangents
        return sum(x_dot * weights(x, out, axis, keepdims), axis, keepdims)

    def weighted_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, axis: Axes, keepdims: bool):
        x = args[0]
        shape, w = shape_of(x), weights(x, out, axis, keepdims)

        def weighted_pullback(out_bar: Any) -> tuple:
            return (_unreduce(out_bar, shape, axis, keepdims) * w,)

        weighted_pullback.__qualname__ = f"{prim.name}_pullback"
        return weighted_pullback

    weighted_jvp.__name__ = weighted_jvp.__qualname__ = f"{prim.name}_jvp"
    weighted_vjp.__name__ = weighted_vjp.__qualname__ = f"{prim.name}_vjp"
    defjvp(prim, weighted_jvp)
    defvjp(prim, weighted_vjp)


def _max_weights(x: Any, out: Any, axis: Axes, keepdims: bool) -> Any:
    """1/k at each of the k positions that attain the maximum, 0 elsewhere."""
    hits = np.asarray(equal(x, _unreduce(out, shape_of(x), axis, keepdims)))
    counts = np.sum(hits, axis=axis, keepdims=True)
    return (hits / counts).astype(dtype_of(x) or np.float64)


_defweights(max_p, _max_weights)
defkink(max_p, "ties split evenly: each of the k elements that attain the maximum gets 1/k")


def _logsumexp_impl(x: Any, *, axis: Axes, keepdims: bool) -> Any:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    out = out if keepdims else np.squeeze(out, axis=axis)
    return float(out) if isinstance(x, float | int) else out


logsumexp_p = Primitive("logsumexp", _logsumexp_impl, doc="log(sum(exp(x))), computed stably")


@_public()
def logsumexp(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x), axis))`` without overflow; its gradient is the softmax."""
    return logsumexp_p(x, axis=_axes(axis, x), keepdims=keepdims)


def _softmax(x: Any, out: Any, axis: Axes, keepdims: bool) -> Any:
    """∂ logsumexp(x) / ∂x = exp(x - logsumexp(x)), the softmax."""
    return exp(x - _unreduce(out, shape_of(x), axis, keepdims))


_defweights(logsumexp_p, _softmax)

# ---------------------------------------------------------------------------
# Shapes


def _reshape_impl(x: Any, *, shape: tuple[int, ...]) -> Any:
    return x if shape_of(x) == shape else np.reshape(x, shape)


def _transpose_impl(x: Any, *, axes: tuple[int, ...]) -> Any:
    return np.transpose(x, axes)


def _broadcast_to_impl(x: Any, *, shape: tuple[int, ...]) -> Any:
    if shape_of(x) == shape:
        return x
    out = np.empty(shape, dtype=np.result_type(x))  # a writable copy: np.broadcast_to's
    out[...] = x  # read-only view costs ~10 µs to set up, the copy ~1 µs for small arrays
    return out


reshape_p = Primitive("reshape", _reshape_impl, doc="the same elements in a new shape")
transpose_p = Primitive("transpose", _transpose_impl, doc="permute axes")
broadcast_to_p = Primitive("broadcast_to", _broadcast_to_impl, doc="repeat along new axes")


@_public(method="reshape")
def reshape(x: Any, shape: int | Sequence[int]) -> Any:
    """``x`` with a new shape (one entry may be ``-1``), like ``np.reshape``."""
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(n) for n in shape)
    size = math.prod(shape_of(x))
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        shape = tuple(size // known if n == -1 and known else n for n in shape)
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape an array of shape {shape_of(x)} into shape {shape}")
    return reshape_p(x, shape=shape)


@_public(np.transpose, method="transpose", keywords=("axes",))
def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """Permute the axes of ``x`` (reverse them by default), like ``np.transpose``."""
    ndim = len(shape_of(x))
    axes = tuple(reversed(range(ndim))) if axes is None else tuple(int(a) % ndim for a in axes)
    if sorted(axes) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes of the array")
    return transpose_p(x, axes=axes)


@_public(np.broadcast_to, keywords=("shape",))
def broadcast_to(x: Any, shape: int | Sequence[int]) -> Any:
    """``x`` broadcast to ``shape``, like ``np.broadcast_to``."""
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(n) for n in shape)
    np.broadcast_shapes(shape_of(x), shape)  # raises numpy's error for incompatible shapes
    return broadcast_to_p(x, shape=shape)


def _swap_last(x: Any) -> Any:
    n = len(shape_of(x))
    return transpose(x, (*range(n - 2), n - 1, n - 2))


def _reshape_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, shape: tuple) -> tuple:
    return (reshape_p(out_bar, shape=avals[0][0]),)


def _transpose_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, axes: tuple) -> tuple:
    return (transpose_p(out_bar, axes=tuple(int(a) for a in np.argsort(axes))),)


def _broadcast_to_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, shape: tuple):
    return (sum_to_shape(out_bar, avals[0][0]),)


deflinear(reshape_p, _reshape_transpose)
deflinear(transpose_p, _transpose_transpose)
deflinear(broadcast_to_p, _broadcast_to_transpose)

# ---------------------------------------------------------------------------
# Indexing


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, int | slice | np.integer) for p in parts)


def _getitem_impl(x: Any, *, index: Any) -> Any:
    return x[index]


def _scatter_add_impl(values: Any, *, index: Any, shape: tuple[int, ...]) -> Any:
    dtype = getattr(values, "dtype", None)
    out = np.zeros(shape, dtype=dtype if dtype is not None and dtype.kind == "f" else np.float64)
    if _is_basic(index):
        out[index] = values  # basic indexing never repeats an element
    else:
        np.add.at(out, index, values)
    return out


getitem_p = Primitive("getitem", _getitem_impl, doc="x[index]: basic slices and integer arrays")
scatter_add_p = Primitive(
    "scatter_add", _scatter_add_impl, doc="zeros(shape) with values added at index"
)


@_public()
def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` for basic slices, ``None``, ``...`` and integer arrays."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, Box):
            raise DifferentiationError(
                "indexing with a traced value: indices are not differentiable; "
                "index with its number, e.g. x[int(i.value)]"
            )
        if isinstance(part, np.ndarray) and part.dtype == bool:
            raise DifferentiationError(
                "boolean-mask indexing x[mask] has a data-dependent shape; use "
                "ad.where(mask, x, 0.0) to keep the shape, or index with np.nonzero(mask)"
            )
    return getitem_p(x, index=index)


def scatter_add(values: Any, index: Any, shape: Sequence[int]) -> Any:
    """An array of zeros of ``shape`` with ``values`` added at ``index`` (getitem's transpose)."""
    return scatter_add_p(values, index=index, shape=tuple(shape))


def _getitem_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, index: Any) -> tuple:
    return (scatter_add_p(out_bar, index=index, shape=avals[0][0]),)


def _scatter_add_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, index: Any, shape):
    return (getitem_p(out_bar, index=index),)


deflinear(getitem_p, _getitem_transpose)
deflinear(scatter_add_p, _scatter_add_transpose)

# ---------------------------------------------------------------------------
# Products


@_public()
def matmul(x: Any, y: Any) -> Any:
    """Matrix product ``x @ y`` with numpy's rules for vectors and stacks."""
    if not shape_of(x) or not shape_of(y):
        raise ValueError("matmul: an operand is a scalar; use * for scalars")
    return matmul_p(x, y)


@_public(np.dot, method="dot")
def dot(x: Any, y: Any) -> Any:
    """``np.dot`` for scalars, vectors and matrices (products of the table)."""
    nx, ny = len(shape_of(x)), len(shape_of(y))
    if nx == 0 or ny == 0:
        return mul(x, y)
    if nx <= 2 and ny <= 2:
        return matmul_p(x, y)
    raise DifferentiationError(
        f"dot of arrays with {nx} and {ny} dimensions: adlab differentiates dot for "
        "scalars, vectors and matrices; use ad.matmul for stacks of matrices"
    )


def _as_matrices(x: Any, y: Any) -> tuple[Any, Any, tuple[int, ...]]:
    """Promote 1-d operands to matrices as matmul does; also return the promoted output shape."""
    xs, ys = shape_of(x), shape_of(y)
    x2 = reshape(x, (1, xs[0])) if len(xs) == 1 else x
    y2 = reshape(y, (ys[0], 1)) if len(ys) == 1 else y
    batch = np.broadcast_shapes(shape_of(x2)[:-2], shape_of(y2)[:-2])
    out2 = (*batch, shape_of(x2)[-2], shape_of(y2)[-1])
    return x2, y2, out2


def _matmul_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    (x, y), (x_dot, y_dot) = args, tangents
    terms = []
    if x_dot is not None:
        terms.append(matmul_p(x_dot, y))
    if y_dot is not None:
        terms.append(matmul_p(x, y_dot))
    return builtins.sum(terms[1:], terms[0]) if terms else None


def _matmul_vjp(out: Any, args: Sequence, wrt: Sequence[int]):
    x, y = args
    xs, ys = shape_of(x), shape_of(y)
    x2, y2, out2 = _as_matrices(x, y)
    keep_x = x2 if 1 in wrt else None  # each cotangent needs only the *other* operand
    keep_y = y2 if 0 in wrt else None

    def matmul_pullback(out_bar: Any) -> tuple:
        g = reshape(out_bar, out2)
        cts = []
        for i in wrt:
            if i == 0:
                x_bar = matmul_p(g, _swap_last(keep_y))
                cts.append(reshape(sum_to_shape(x_bar, shape_of(x2)), xs))
            else:
                y_bar = matmul_p(_swap_last(keep_x), g)
                cts.append(reshape(sum_to_shape(y_bar, shape_of(y2)), ys))
        return tuple(cts)

    return matmul_pullback


defjvp(matmul_p, _matmul_jvp)
defvjp(matmul_p, _matmul_vjp)

# ---------------------------------------------------------------------------
# Joins


def _concatenate_impl(*xs: Any, axis: int) -> Any:
    return np.concatenate(xs, axis=axis)


def _stack_impl(*xs: Any, axis: int) -> Any:
    return np.stack(xs, axis=axis)


concatenate_p = Primitive("concatenate", _concatenate_impl, doc="join arrays along an axis")
stack_p = Primitive("stack", _stack_impl, doc="join arrays along a new axis")


@_public(np.concatenate, keywords=("axis",))
def concatenate(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join ``arrays`` along an existing ``axis``, like ``np.concatenate``."""
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError("concatenate needs at least one array")
    return concatenate_p(*arrays, axis=_axes(axis, arrays[0])[0])


@_public(np.stack, keywords=("axis",))
def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join ``arrays`` along a new ``axis``, like ``np.stack``."""
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError("stack needs at least one array")
    ndim = len(shape_of(arrays[0])) + 1
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return stack_p(*arrays, axis=axis % ndim)


def _concatenate_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, axis: int):
    starts = np.cumsum([0] + [shape[axis] for shape, _ in avals])
    lead = (slice(None),) * axis
    return tuple(getitem_p(out_bar, index=(*lead, slice(starts[i], starts[i + 1]))) for i in wrt)


def _stack_transpose(out_bar: Any, avals: list, wrt: Sequence[int], *, axis: int):
    lead = (slice(None),) * axis
    return tuple(getitem_p(out_bar, index=(*lead, i)) for i in wrt)


deflinear(concatenate_p, _concatenate_transpose)
deflinear(stack_p, _stack_transpose)
