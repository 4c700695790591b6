"""Zero tangents and the shape bookkeeping of broadcasting.

Engines call these on cotangents and tangents of any value type. Shapes and
dtypes are read with ``getattr`` and reductions go through numpy's functions,
which every adlab box overrides (``__array_function__``), so the same code
serves plain arrays and traced values of a higher-order derivative.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, box or scalar (``()`` for Python numbers)."""
    s = getattr(x, "shape", ())
    return s if type(s) is tuple else tuple(s)


def dtype_of(x: Any) -> np.dtype | None:
    """The numpy dtype of ``x``, or ``None`` for a Python number."""
    return getattr(x, "dtype", None)


def zeros_like(x: Any) -> Any:
    """A zero with the shape and dtype of ``x``: ``0.0`` for a Python number."""
    return _filled_like(x, 0)


def ones_like(x: Any) -> Any:
    """A one with the shape and dtype of ``x``: ``1.0`` for a Python number."""
    return _filled_like(x, 1)


def _filled_like(x: Any, value: int) -> Any:
    dtype = dtype_of(x)
    if dtype is None:
        return float(value)
    shape = shape_of(x)
    return np.full(shape, value, dtype) if shape or isinstance(x, np.ndarray) else dtype.type(value)


def sum_to_shape(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` down to ``shape``: the transpose of numpy broadcasting.

    >>> sum_to_shape(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    """
    xs = shape_of(x)
    if xs == shape:
        return x
    lead = len(xs) - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum shape {xs} down to the larger shape {shape}")
    keep = tuple(lead + i for i, n in enumerate(shape) if n == 1 and xs[lead + i] != 1)
    if keep:
        x = np.sum(x, axis=keep, keepdims=True)
    if lead:
        x = np.sum(x, axis=tuple(range(lead)))
    return x


def fit(ct: Any, shape: tuple[int, ...], dtype: np.dtype | None) -> Any:
    """A cotangent summed to ``shape`` and cast to ``dtype`` (float32 stays float32)."""
    if type(ct) is float and not shape:
        return ct if dtype is None else dtype.type(ct)
    if getattr(ct, "shape", ()) != shape:
        ct = sum_to_shape(ct, shape)
    if dtype is not None:
        ct_dtype = getattr(ct, "dtype", dtype)
        if ct_dtype is not dtype and ct_dtype != dtype and isinstance(ct, np.ndarray | np.generic):
            ct = ct.astype(dtype)
    return ct


def broadcast_like(t: Any, out: Any) -> Any:
    """A tangent broadcast to the shape of ``out`` and cast to its dtype."""
    shape = shape_of(out)
    if shape_of(t) != shape:
        t = np.broadcast_to(t, shape)
    dtype = dtype_of(out)
    if dtype is not None and isinstance(t, np.ndarray | np.generic) and t.dtype != dtype:
        t = t.astype(dtype)
    return t
