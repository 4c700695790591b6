"""Numerical differentiation: finite differences, the oracle every other engine is tested against.

The difference quotients are the textbook formulas, evaluated exactly as
written, so their rounding is the textbook rounding too::

    >>> forward_difference(lambda x: x ** 2, 2.0, h=1e-8)
    3.999999975690116

A Jacobian by differences costs n + 1 calls of f (forward scheme) or 2n
(central scheme); :class:`CountingFunction` counts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

EPS = float(np.finfo(np.float64).eps)


def forward_difference(f: Callable[[Any], Any], x: Any, h: float = 1e-8) -> Any:
    """``(f(x + h) - f(x)) / h``: error O(h) from truncation, plus rounding ~ε/h."""
    return (f(x + h) - f(x)) / h


def backward_difference(f: Callable[[Any], Any], x: Any, h: float = 1e-8) -> Any:
    """``(f(x) - f(x - h)) / h``."""
    return (f(x) - f(x - h)) / h


def central_difference(f: Callable[[Any], Any], x: Any, h: float = 1e-5) -> Any:
    """``(f(x + h) - f(x - h)) / (2h)``: error O(h²) from truncation."""
    return (f(x + h) - f(x - h)) / (2 * h)


def central_step(x: Any) -> Any:
    """A step for central differences: ε^(1/3)·max(1, |x|), which balances
    truncation (∝ h²) against rounding (∝ ε/h)."""
    return EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))


class CountingFunction:
    """Wraps ``f`` and counts its calls (``.calls``), for the cost of finite differences."""

    def __init__(self, f: Callable[..., Any]) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.f(*args, **kwargs)


def jacobian(
    f: Callable[[Any], Any], x: Any, *, scheme: str = "central", h: Any = None
) -> np.ndarray:
    """The Jacobian of ``f`` at ``x`` by differences, shaped ``f(x).shape + x.shape``.

    ``scheme="forward"`` costs n + 1 calls of ``f`` (n = x.size), ``"central"``
    costs 2n. ``h`` defaults to a per-component step scaled with ``|x|``.
    """
    x = np.asarray(x, dtype=np.float64)
    steps = (
        central_step(x) if h is None and scheme == "central"
        else np.sqrt(EPS) * np.maximum(1.0, np.abs(x)) if h is None
        else np.broadcast_to(np.asarray(h, dtype=np.float64), x.shape)
    )  # fmt: skip
    f0 = (
        np.asarray(f(x.copy() if x.ndim else float(x)), dtype=np.float64)
        if scheme == "forward"
        else None
    )
    columns = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        e = e.reshape(x.shape)
        hk = float(np.ravel(steps)[k])
        up = np.asarray(f(_like(x + hk * e, x)), dtype=np.float64)
        if scheme == "central":
            down = np.asarray(f(_like(x - hk * e, x)), dtype=np.float64)
            columns.append((up - down) / (2 * hk))
        elif scheme == "forward":
            columns.append((up - f0) / hk)
        else:
            raise ValueError(f"unknown scheme {scheme!r}; use 'forward' or 'central'")
    if not columns:
        out_shape = np.shape(f(_like(x, x)))
        return np.zeros(out_shape + x.shape)
    out_shape = columns[0].shape
    jac = np.stack(columns, axis=-1)
    return jac.reshape(out_shape + x.shape)


def _like(v: np.ndarray, x: np.ndarray) -> Any:
    return float(v) if x.ndim == 0 else v
