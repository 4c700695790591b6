"""adlab against autograd (an independent AD system, test-only), at first and second order.

A function of the table is checked through a scalar loss of one flat vector ``z``: ``z`` is
cut into the function's arguments (any shapes: 0-d, empty, broadcasting), the function is
applied, and ``sum(c · out + out² / 2)`` (``c`` random) makes every cotangent and every
block of the Hessian nontrivial. The same loss, written once, runs with adlab's numpy (the
traced values reach adlab through numpy's protocols, as a learner's code does) and with
``autograd.numpy``; gradients are compared in every engine that takes arrays, Hessians in
nested modes (forward over reverse, reverse over reverse, forward over forward, forward and
reverse over sct).
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np

import adlab as ad

GRADIENT_MODES = ("forward", "reverse", "sct")
HESSIAN_MODES = (
    ("forward", "reverse"),
    "reverse",
    "forward",
    ("forward", "sct"),
    ("reverse", "sct"),
)
"""(outer, inner) or one mode for both: sct over sct is for Python numbers (its derivative code
calls run-time rules for arrays), so sct's second order on arrays is another engine over it."""
RTOL, ATOL = 1e-10, 1e-12
"""Exact engines against autograd: the same formulas, evaluated in another order."""
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-6
"""Numeric mode (central differences) against autograd, at first order."""


def rng_for(*key: Any) -> np.random.Generator:
    """A generator seeded by ``key`` (the same numbers in every run and process)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def make_loss(fn: Callable[..., Any], shapes: Sequence[tuple[int, ...]], c: Any,
              xp: Any) -> Callable[[Any], Any]:  # fmt: skip
    """``z ↦ sum(c · out + out² / 2)`` with ``out = fn(*args)``, the arguments cut from ``z``
    (``xp`` is numpy for adlab, autograd.numpy for the oracle)."""
    ends = np.cumsum([0] + [math.prod(s) for s in shapes]).tolist()
    if len(shapes) == 1:
        (s0,), (a0, a1) = shapes, ends

        def loss(z):
            out = fn(xp.reshape(z[a0:a1], s0))
            return xp.sum(c * out + 0.5 * out * out)

    elif len(shapes) == 2:
        (s0, s1), (a0, a1, a2) = shapes, ends

        def loss(z):
            out = fn(xp.reshape(z[a0:a1], s0), xp.reshape(z[a1:a2], s1))
            return xp.sum(c * out + 0.5 * out * out)

    else:
        (s0, s1, s2), (a0, a1, a2, a3) = shapes, ends

        def loss(z):
            x, y = xp.reshape(z[a0:a1], s0), xp.reshape(z[a1:a2], s1)
            out = fn(x, y, xp.reshape(z[a2:a3], s2))
            return xp.sum(c * out + 0.5 * out * out)

    return loss


def compare(fn: Callable[..., Any], oracle: Callable[..., Any], args: Sequence[Any],
            c: Any = None, *, hessian: bool = True, rtol: float = RTOL,
            atol: float = ATOL) -> None:  # fmt: skip
    """``fn(*args)`` against ``oracle(*args)``: values, gradients in every array engine and
    numeric mode, and (if ``hessian``) Hessians in nested modes, all against autograd."""
    shapes = [np.shape(a) for a in args]
    z = np.concatenate([np.ravel(a) for a in args]).astype(np.float64)
    want_out = oracle(*args)
    if c is None:
        c = rng_for("c", shapes).standard_normal(np.shape(want_out))
    ours = make_loss(fn, shapes, c, np)
    theirs = make_loss(oracle, shapes, c, anp)
    got_out = fn(*args)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-13, atol=1e-15)
    assert np.shape(got_out) == np.shape(want_out)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input", UserWarning)
        want_grad = autograd.grad(theirs)(z)
        want_hessian = autograd.hessian(theirs)(z) if hessian and z.size else np.zeros((0, 0))
    for mode in GRADIENT_MODES:
        got = ad.grad(ours, mode=mode)(z)
        _close(got, want_grad, rtol, atol, f"gradient, mode={mode}")
    if z.size:
        got = ad.grad(ours, mode="numeric")(z)
        _close(got, want_grad, NUMERIC_RTOL, NUMERIC_ATOL, "gradient, mode=numeric")
    if hessian:
        for mode in HESSIAN_MODES:
            got = ad.hessian(ours, mode=mode)(z)
            _close(got, want_hessian, rtol, atol, f"Hessian, mode={mode}")


def _close(got: Any, want: Any, rtol: float, atol: float, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, autograd's {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def assert_float32_kept(f: Callable[[Any], Any], x: np.ndarray) -> None:
    """``f`` of float32 ``x`` is float32, and so are the gradients (forward and reverse mode)
    and the Hessian of ``sum(f(x)²)``."""

    def loss(v):
        return ad.sum(f(v) * f(v))

    assert f(x).dtype == np.float32
    for mode in ("forward", "reverse"):
        assert ad.grad(loss, mode=mode)(x).dtype == np.float32, mode
    assert ad.hessian(loss)(x).dtype == np.float32
