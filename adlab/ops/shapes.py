"""numpy's functions of shape and assembly, written with the table's linear primitives.

Each of these moves, copies or selects elements, so each is linear, and each is
written here with the linear primitives of :mod:`adlab.ops.array`, whose transposes
give the derivatives: new shapes are ``reshape`` (``squeeze``, ``expand_dims``,
``ravel``), moved axes ``transpose``, copies ``broadcast_to`` (``tile``), selections
``getitem`` with slices or integer arrays (``flip``, ``roll``, ``repeat``,
``split``, ``diagonal``, the gathers of ``pad``), placements ``scatter_add``
(``diag`` of a vector, ``pad`` with a constant), joins ``concatenate``, and
triangles ``where``. Only ``sort`` is a primitive of its own: which element goes
where depends on the values, so its rule reads the permutation at the point.
"""

from __future__ import annotations

import builtins
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from adlab.core.primitive import Primitive
from adlab.core.rules import defjvp, defkink, defvjp
from adlab.core.tangents import dtype_of, shape_of
from adlab.ops.array import (
    _array,
    _axes,
    _public,
    broadcast_to,
    concatenate,
    getitem_p,
    reshape_p,
    scatter_add_p,
    sum,
    transpose,
)
from adlab.ops.scalar import where

Axis = int | Sequence[int] | None


def _axis(axis: int, ndim: int) -> int:
    """One axis as a non-negative int, with numpy's error when it is out of range."""
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(int(axis), ndim)
    return int(axis) % ndim


def _along(axis: int, index: Any) -> tuple:
    """An index that applies ``index`` to ``axis`` and takes every element of the axes before."""
    return (*(slice(None),) * axis, index)


# ---------------------------------------------------------------------------
# New shapes: reshape


@_public(np.squeeze, method="squeeze", keywords=("axis",))
def squeeze(a: Any, axis: Axis = None) -> Any:
    """``a`` without its axes of length one (those of ``axis`` only, if given)."""
    shape = shape_of(a)
    axes = tuple(i for i, n in enumerate(shape) if n == 1) if axis is None else _axes(axis, a)
    if builtins.any(shape[i] != 1 for i in axes):
        raise ValueError(f"squeeze: an axis of {axes} has a length other than one in {shape}")
    return reshape_p(a, shape=tuple(n for i, n in enumerate(shape) if i not in axes))


@_public(np.expand_dims, keywords=("axis",))
def expand_dims(a: Any, axis: int | Sequence[int]) -> Any:
    """``a`` with new axes of length one at the positions ``axis`` of the result."""
    shape = shape_of(a)
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    ndim = len(shape) + len(axes)
    new = {_axis(i, ndim) for i in axes}
    if len(new) < len(axes):
        raise ValueError(f"expand_dims: repeated axis in {axis}")
    rest = iter(shape)
    return reshape_p(a, shape=tuple(1 if i in new else next(rest) for i in range(ndim)))


@_public(np.ravel, method=("ravel", "flatten"), keywords=("order",))
def ravel(a: Any, order: str = "C") -> Any:
    """``a`` as a vector, in row-major order (also ``x.ravel()`` and ``x.flatten()``)."""
    if order != "C":
        raise ValueError(f"ravel(..., order={order!r}): only order='C' is supported")
    return reshape_p(a, shape=(math.prod(shape_of(a)),))


def _at_least(ndim: int, arrays: tuple, where_new: Any) -> Any:
    arrays = tuple(_array(a) for a in arrays)
    out = [a if len(shape_of(a)) >= ndim else reshape_p(a, shape=where_new(shape_of(a)))
           for a in arrays]  # fmt: skip
    return out[0] if len(out) == 1 else out


@_public(np.atleast_1d)
def atleast_1d(*arrays: Any) -> Any:
    """Each of ``arrays`` with at least one axis (a scalar becomes a vector of one)."""
    return _at_least(1, arrays, lambda s: (1,))


@_public(np.atleast_2d)
def atleast_2d(*arrays: Any) -> Any:
    """Each of ``arrays`` with at least two axes (a vector becomes one row)."""
    return _at_least(2, arrays, lambda s: (1, *s) if s else (1, 1))


@_public(np.atleast_3d)
def atleast_3d(*arrays: Any) -> Any:
    """Each of ``arrays`` with at least three axes: ``(1, n, 1)`` for a vector, ``(m, n, 1)``
    for a matrix, as numpy's."""
    return _at_least(
        3, arrays, lambda s: (*s, 1) if len(s) == 2 else (1, *s, 1) if s else (1, 1, 1)
    )


# ---------------------------------------------------------------------------
# Moved axes: transpose


@_public(np.moveaxis, keywords=("source", "destination"))
def moveaxis(a: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Any:
    """``a`` with the axes ``source`` moved to the positions ``destination``."""
    ndim = len(shape_of(a))
    src = [source] if isinstance(source, int | np.integer) else list(source)
    dst = [destination] if isinstance(destination, int | np.integer) else list(destination)
    src, dst = [_axis(i, ndim) for i in src], [_axis(i, ndim) for i in dst]
    if len(src) != len(dst) or len(set(src)) < len(src) or len(set(dst)) < len(dst):
        raise ValueError("moveaxis: source and destination must be distinct axes, as many of each")
    order = [i for i in range(ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


@_public(np.swapaxes, method="swapaxes", keywords=("axis1", "axis2"))
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``a`` with the axes ``axis1`` and ``axis2`` interchanged."""
    ndim = len(shape_of(a))
    order = list(range(ndim))
    i, j = _axis(axis1, ndim), _axis(axis2, ndim)
    order[i], order[j] = j, i
    return transpose(a, order)


# ---------------------------------------------------------------------------
# Selections: getitem


@_public(np.flip, keywords=("axis",))
def flip(m: Any, axis: Axis = None) -> Any:
    """``m`` with the order of its elements reversed along ``axis`` (every axis by default)."""
    axes = _axes(axis, m)
    ndim = len(shape_of(m))
    backwards = slice(None, None, -1)
    return getitem_p(m, index=tuple(backwards if axes is None or i in axes else slice(None)
                                    for i in range(ndim)))  # fmt: skip


@_public(np.fliplr)
def fliplr(m: Any) -> Any:
    """``m`` with its columns (axis 1) in reverse order."""
    if len(shape_of(m)) < 2:
        raise ValueError("fliplr: the array must have at least two dimensions")
    return flip(m, 1)


@_public(np.flipud)
def flipud(m: Any) -> Any:
    """``m`` with its rows (axis 0) in reverse order."""
    if len(shape_of(m)) < 1:
        raise ValueError("flipud: the array must have at least one dimension")
    return flip(m, 0)


@_public(np.roll, keywords=("shift", "axis"))
def roll(a: Any, shift: int | Sequence[int], axis: Axis = None) -> Any:
    """``a`` with its elements shifted by ``shift`` along ``axis``, those that leave at one
    end coming back at the other (the flattened array for ``axis=None``)."""
    if axis is None:
        return reshape_p(roll(ravel(a), shift, 0), shape=shape_of(a))
    shape = shape_of(a)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    total: dict[int, int] = {}
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = _axis(int(ax), len(shape))
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in total.items():
        n = shape[ax]
        if n and s % n:
            a = getitem_p(a, index=_along(ax, (np.arange(n) - s) % n))
    return a


@_public(np.repeat, method="repeat", keywords=("repeats", "axis"))
def repeat(a: Any, repeats: int | Sequence[int], axis: int | None = None) -> Any:
    """Each element of ``a`` repeated ``repeats`` times along ``axis`` (the flattened array for
    ``axis=None``); ``repeats`` may give one count per element."""
    if axis is None:
        a, axis = ravel(a), 0
    axis = _axis(axis, len(shape_of(a)))
    index = np.repeat(np.arange(shape_of(a)[axis]), repeats)
    return getitem_p(a, index=_along(axis, index))


def _split(a: Any, sections: Any, axis: int, equal: bool) -> list[Any]:
    axis = _axis(axis, len(shape_of(a)))
    n = shape_of(a)[axis]
    if isinstance(sections, int | np.integer):
        if sections <= 0:
            raise ValueError("split: the number of sections must be larger than 0")
        if equal and n % sections:
            raise ValueError("array split does not result in an equal division")
        size, extra = divmod(n, int(sections))
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (int(sections) - extra))
    else:
        bounds = [0, *(int(i) for i in sections), n]
    return [getitem_p(a, index=_along(axis, slice(start, stop)))
            for start, stop in itertools.pairwise(bounds)]  # fmt: skip


@_public(np.split, keywords=("indices_or_sections", "axis"))
def split(ary: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Any]:
    """``ary`` cut along ``axis`` into equal sections, or at the given indices."""
    return _split(ary, indices_or_sections, axis, equal=True)


@_public(np.array_split, keywords=("indices_or_sections", "axis"))
def array_split(ary: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Any]:
    """``ary`` cut along ``axis`` into sections whose lengths differ by at most one (the first
    ones longer), or at the given indices."""
    return _split(ary, indices_or_sections, axis, equal=False)


@_public(np.hsplit, keywords=("indices_or_sections",))
def hsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> list[Any]:
    """``split`` along the columns (axis 1; axis 0 of a vector)."""
    if not shape_of(ary):
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if len(shape_of(ary)) > 1 else 0)


@_public(np.vsplit, keywords=("indices_or_sections",))
def vsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> list[Any]:
    """``split`` along the rows (axis 0) of an array of two or more dimensions."""
    if len(shape_of(ary)) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


@_public(np.diagonal, method="diagonal", keywords=("offset", "axis1", "axis2"))
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal ``offset`` above the main one (below if negative) of the planes spanned by
    ``axis1`` and ``axis2``, as the last axis of the result, as ``np.diagonal``."""
    ndim = len(shape_of(a))
    if ndim < 2:
        raise ValueError("diagonal requires an array of at least two dimensions")
    i, j = _axis(axis1, ndim), _axis(axis2, ndim)
    if i == j:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    order = [k for k in range(ndim) if k not in (i, j)] + [i, j]
    if order != list(range(ndim)):
        a = transpose(a, order)
    rows, cols = shape_of(a)[-2:]
    length = builtins.max(
        0, builtins.min(rows + builtins.min(offset, 0), cols - builtins.max(offset, 0))
    )
    k = np.arange(length)
    return getitem_p(a, index=(Ellipsis, k - builtins.min(offset, 0), k + builtins.max(offset, 0)))


@_public(np.trace, method="trace", keywords=("offset", "axis1", "axis2"))
def matrix_trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The sum along a diagonal (see :func:`diagonal`): ``np.trace(a)`` and ``a.trace()`` on
    traced values (``ad.trace`` is the name of adlab's tracer)."""
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


@_public(np.diag, keywords=("k",))
def diag(v: Any, k: int = 0) -> Any:
    """A vector ``v`` placed on the ``k``-th diagonal of a square matrix of zeros, or the ``k``-th
    diagonal of a matrix ``v``."""
    shape = shape_of(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError("diag: the input must be 1- or 2-d")
    n = shape[0] + abs(k)
    i = np.arange(shape[0])
    return scatter_add_p(v, index=(i + builtins.max(-k, 0), i + builtins.max(k, 0)), shape=(n, n))


# ---------------------------------------------------------------------------
# Copies and placements: broadcast_to, scatter_add, where


@_public(np.tile, keywords=("reps",))
def tile(A: Any, reps: int | Sequence[int]) -> Any:
    """``A`` repeated ``reps`` times along each axis, as whole copies."""
    reps = (reps,) if isinstance(reps, int | np.integer) else tuple(int(r) for r in reps)
    shape = shape_of(A)
    n = builtins.max(len(shape), len(reps))
    shape, reps = (1,) * (n - len(shape)) + shape, (1,) * (n - len(reps)) + tuple(reps)
    copies = broadcast_to(reshape_p(A, shape=tuple(d for s in shape for d in (1, s))),
                          tuple(d for r, s in zip(reps, shape) for d in (r, s)))  # fmt: skip
    return reshape_p(copies, shape=tuple(r * s for r, s in zip(reps, shape)))


_GATHERS = ("edge", "reflect", "symmetric", "wrap")
"""The modes of np.pad that only copy elements of the array."""


@_public(
    np.pad,
    keywords=("pad_width", "mode", "constant_values", "reflect_type"),
    settings=("constant_values",),
)
def pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0,
        reflect_type: str = "even") -> Any:  # fmt: skip
    """``array`` padded by ``pad_width`` elements before and after each axis: with constants
    (``mode="constant"``, ``constant_values``), or with copies of its own elements
    (``"edge"``, ``"reflect"``, ``"symmetric"``, ``"wrap"``), as ``np.pad``."""
    shape = shape_of(array)
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu" or widths.size == 0 or np.any(widths < 0):
        raise ValueError("pad: pad_width must be non-negative integers: n, (before, after), "
                         "or one (before, after) per axis")  # fmt: skip
    widths = np.broadcast_to(widths, (len(shape), 2))
    if not shape:
        return array  # a scalar has no axis to pad
    if mode == "constant":
        interior = tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))
        padded = tuple(int(b + n + e) for (b, e), n in zip(widths, shape))
        out = scatter_add_p(array, index=interior, shape=padded)
        border = np.pad(np.zeros(shape, dtype_of(out)), widths, constant_values=constant_values)
        return out + border if np.any(border) else out
    if mode not in _GATHERS or (mode in ("reflect", "symmetric") and reflect_type != "even"):
        raise ValueError(
            f"pad(..., mode={mode!r}, reflect_type={reflect_type!r}) is not supported on traced "
            "values; the supported modes are 'constant' and those that copy elements: 'edge', "
            "'reflect', 'symmetric', 'wrap' (with reflect_type='even')"
        )
    for axis, ((before, after), n) in enumerate(zip(widths, shape)):
        if before or after:
            index = np.pad(np.arange(n), (int(before), int(after)), mode=mode)
            array = getitem_p(array, index=_along(axis, index))
    return array


def _triangle(m: Any, keep: np.ndarray) -> Any:
    if not shape_of(m):
        raise ValueError("triu and tril need an array of at least one dimension")
    return where(keep, m, np.zeros((), dtype_of(m) or np.float64))


@_public(np.triu, keywords=("k",))
def triu(m: Any, k: int = 0) -> Any:
    """``m`` with the elements below the ``k``-th diagonal set to zero (of its last two axes)."""
    return _triangle(m, ~np.tri(*shape_of(m)[-2:], k=k - 1, dtype=bool))


@_public(np.tril, keywords=("k",))
def tril(m: Any, k: int = 0) -> Any:
    """``m`` with the elements above the ``k``-th diagonal set to zero (of its last two axes)."""
    return _triangle(m, np.tri(*shape_of(m)[-2:], k=k, dtype=bool))


# ---------------------------------------------------------------------------
# Joins: concatenate


@_public(np.append, keywords=("axis",))
def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """``values`` joined to the end of ``arr`` along ``axis`` (both flattened for ``None``)."""
    return concatenate((_array(arr), _array(values)), axis)


@_public(np.vstack)
def vstack(tup: Sequence[Any]) -> Any:
    """Arrays joined along their rows (axis 0; vectors as rows)."""
    return concatenate([atleast_2d(a) for a in tup], 0)


@_public(np.hstack)
def hstack(tup: Sequence[Any]) -> Any:
    """Arrays joined along their columns (axis 1; axis 0 for vectors)."""
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, 0 if arrays and len(shape_of(arrays[0])) == 1 else 1)


@_public(np.dstack)
def dstack(tup: Sequence[Any]) -> Any:
    """Arrays joined along their third axis (see :func:`atleast_3d`)."""
    return concatenate([atleast_3d(a) for a in tup], 2)


@_public(np.column_stack)
def column_stack(tup: Sequence[Any]) -> Any:
    """Vectors as columns, and matrices, joined along axis 1."""
    tup = [_array(a) for a in tup]
    columns = [reshape_p(a, shape=(math.prod(shape_of(a)), 1)) if len(shape_of(a)) < 2 else a
               for a in tup]  # fmt: skip
    return concatenate(columns, 1)


# ---------------------------------------------------------------------------
# Sorting: a permutation read at the point


def _sort_impl(x: Any, *, axis: int) -> Any:
    return np.sort(x, axis=axis)


def _argsort_impl(x: Any, *, axis: int) -> Any:
    """The index that sorts ``x`` along ``axis`` (stable: ties keep their order), as a tuple of
    integer arrays for ``getitem``."""
    order = np.argsort(x, axis=axis, kind="stable")
    grids = np.indices(order.shape, sparse=True)
    return tuple(order if i == axis else g for i, g in enumerate(grids))


sort_p = Primitive("sort", _sort_impl, doc="the elements in increasing order along an axis")
_sorting_index = Primitive("sorting_index", _argsort_impl, differentiable=False,
                           doc="the index that sorts x along an axis (no derivative)")  # fmt: skip


@_public(np.sort, keywords=("axis", "kind"))
def sort(a: Any, axis: int | None = -1, kind: str | None = None) -> Any:
    """``a`` sorted along ``axis`` (the flattened array for ``None``); its derivative moves
    each element's with it. (``x.sort()`` sorts in place in numpy, so traced values refuse
    it: write ``x = np.sort(x)``.)"""
    if axis is None:
        a, axis = ravel(a), 0
    return sort_p(a, axis=_axis(axis, len(shape_of(a))))


def _sort_jvp(out: Any, args: Sequence, tangents: Sequence, *, axis: int) -> Any:
    return getitem_p(tangents[0], index=_sorting_index(args[0], axis=axis))


def _sort_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, axis: int):
    x = args[0]
    index, shape = _sorting_index(x, axis=axis), shape_of(x)

    def sort_pullback(out_bar: Any) -> tuple:
        return (scatter_add_p(out_bar, index=index, shape=shape),)

    return sort_pullback


defjvp(sort_p, _sort_jvp)
defvjp(sort_p, _sort_vjp)
defkink(sort_p, "ties: tied elements keep their order (a stable sort), each taking the "
                "derivative of the position it lands in")  # fmt: skip
