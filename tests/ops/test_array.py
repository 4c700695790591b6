"""The array primitives of adlab/ops/array.py, each against finite differences.

Reductions over every kind of ``axis`` with and without ``keepdims``; shape
changes; basic and integer-array indexing (with repeated indices); every
1-d/2-d/batched combination of matmul and dot; joins. Points have no ties, so
``max`` is differentiable there. Also: float32 kept, ties of ``max`` split
evenly, and ``logsumexp`` stable at large values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import adlab as ad
from adlab.core import rules
from adlab.core.primitive import Primitive
from adlab.engines import numeric
from adlab.ops import array as A
from adlab.testing import check_grads


def distinct(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values spaced >= 0.1 apart in random order (no ties, even after a finite-difference step)."""
    n = math.prod(shape)
    x = np.random.default_rng(seed).permutation(n) - n / 2
    return (0.1 * x + 0.03).reshape(shape)


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------
# Reductions: sum mean max logsumexp

REDUCTIONS = {"sum": ad.sum, "mean": ad.mean, "max": ad.max, "logsumexp": ad.logsumexp}
AXES = {"None": None, "0": 0, "1": 1, "-1": -1, "(0,2)": (0, 2), "(-1,0)": (-1, 0), "()": ()}


@pytest.mark.parametrize("keepdims", [False, True], ids=["no-keepdims", "keepdims"])
@pytest.mark.parametrize("axis", AXES.values(), ids=AXES.keys())
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_matches_finite_differences(name, axis, keepdims):
    f = REDUCTIONS[name]
    check_grads(lambda x: f(x, axis=axis, keepdims=keepdims), distinct((2, 3, 4)), order=2)


SMALL_INPUTS = {"float": 0.7, "0d": np.array(0.7), "1d": distinct((5,)), "2d": distinct((3, 2))}


@pytest.mark.parametrize("x", SMALL_INPUTS.values(), ids=SMALL_INPUTS.keys())
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_of_small_inputs_matches_finite_differences(name, x):
    check_grads(REDUCTIONS[name], x, order=2)


@pytest.mark.parametrize("keepdims", [False, True], ids=["no-keepdims", "keepdims"])
@pytest.mark.parametrize("axis", AXES.values(), ids=AXES.keys())
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_value_matches_numpy(name, axis, keepdims):
    x = distinct((2, 3, 4))
    ref = {
        "sum": np.sum,
        "mean": np.mean,
        "max": np.max,
        "logsumexp": lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis, keepdims=keepdims)),
    }[name]
    want = ref(x, axis=axis, keepdims=keepdims)
    out = REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
    assert np.shape(out) == np.shape(want)
    np.testing.assert_allclose(out, want, rtol=1e-13)


def test_max_ties_split_evenly():
    np.testing.assert_array_equal(ad.grad(ad.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    g = ad.grad(lambda x: ad.sum(ad.max(x, axis=1)))(x)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)
    x = np.array([[1.0, 3.0, 2.0], [2.0, 2.0, 2.0]])
    g = ad.grad(lambda x: ad.sum(ad.max(x, axis=0, keepdims=True)))(x)
    np.testing.assert_array_equal(g, [[0, 1, 0.5], [1, 0, 0.5]])
    g = ad.grad(lambda x: ad.sum(ad.max(x, axis=(0, 1))))(np.full((2, 2), 4.0))
    np.testing.assert_array_equal(g, np.full((2, 2), 0.25))


def test_logsumexp_is_stable_at_large_values():
    x = np.array([1000.0, 1000.0, 999.0])
    z = 2.0 + math.exp(-1.0)
    out, g = ad.value_and_grad(ad.logsumexp)(x)
    assert out == pytest.approx(1000.0 + math.log(z), rel=1e-15)
    np.testing.assert_allclose(g, np.array([1.0, 1.0, math.exp(-1.0)]) / z, rtol=1e-12)
    out, g = ad.value_and_grad(ad.logsumexp)(-x)
    assert out == pytest.approx(-999.0 + math.log(1.0 + 2.0 * math.exp(-1.0)), rel=1e-15)
    assert np.all(np.isfinite(g)) and g.sum() == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("keepdims", [False, True], ids=["no-keepdims", "keepdims"])
def test_logsumexp_gradient_is_the_softmax_along_an_axis(keepdims):
    x = np.array([[1000.0, 1000.0, -1000.0], [0.0, -1000.0, 1000.0], [-5.0, 3.0, 1.0]])
    out = ad.logsumexp(x, axis=1, keepdims=keepdims)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    want_out = np.log(e.sum(axis=1, keepdims=True)) + x.max(axis=1, keepdims=True)
    np.testing.assert_allclose(out, want_out if keepdims else want_out[:, 0], rtol=1e-15)
    g = ad.grad(lambda x: ad.sum(ad.logsumexp(x, axis=1, keepdims=keepdims)))(x)
    np.testing.assert_allclose(g, e / e.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-300)


# ---------------------------------------------------------------------------
# Shapes: reshape transpose broadcast_to

RESHAPES = {
    "2x3x4->4x-1": ((2, 3, 4), (4, -1)),
    "2x3x4->-1": ((2, 3, 4), -1),
    "2x3x4->24": ((2, 3, 4), 24),
    "2x3x4->1x-1x1": ((2, 3, 4), (1, -1, 1)),
    "2x3x4->-1x2": ((2, 3, 4), (-1, 2)),
    "6->2x3": ((6,), (2, 3)),
    "1->0d": ((1,), ()),
    "0d->1x1": ((), (1, 1)),
}


@pytest.mark.parametrize("case", RESHAPES.values(), ids=RESHAPES.keys())
def test_reshape_matches_finite_differences(case):
    shape, new = case
    x = distinct(shape)
    assert ad.reshape(x, new).shape == np.reshape(x, new).shape
    check_grads(lambda x: ad.reshape(x, new), x, order=2)


def test_reshape_of_a_python_float():
    check_grads(lambda x: ad.reshape(x, (1, 1)), 0.7, order=2)


TRANSPOSES = {
    "3d-default": ((2, 3, 4), None),
    "3d-(1,2,0)": ((2, 3, 4), (1, 2, 0)),
    "3d-(2,0,1)": ((2, 3, 4), (2, 0, 1)),
    "3d-(-1,0,1)": ((2, 3, 4), (-1, 0, 1)),
    "3d-identity": ((2, 3, 4), (0, 1, 2)),
    "2d-default": ((2, 3), None),
    "2d-(1,0)": ((2, 3), (1, 0)),
    "1d-default": ((3,), None),
}


@pytest.mark.parametrize("case", TRANSPOSES.values(), ids=TRANSPOSES.keys())
def test_transpose_matches_finite_differences(case):
    shape, axes = case
    x = distinct(shape)
    np.testing.assert_array_equal(ad.transpose(x, axes), np.transpose(x, axes))
    check_grads(lambda x: ad.transpose(x, axes), x, order=2)


BROADCASTS = {
    "3x1->2x3x4": ((3, 1), (2, 3, 4)),
    "4->3x4": ((4,), (3, 4)),
    "1x4->3x4": ((1, 4), (3, 4)),
    "0d->3": ((), (3,)),
    "float->2x3": (None, (2, 3)),
    "2x3->2x3": ((2, 3), (2, 3)),
    "3->int-3": ((3,), 3),
}


@pytest.mark.parametrize("case", BROADCASTS.values(), ids=BROADCASTS.keys())
def test_broadcast_to_matches_finite_differences(case):
    shape, target = case
    x = 0.7 if shape is None else distinct(shape)
    np.testing.assert_array_equal(ad.broadcast_to(x, target), np.broadcast_to(x, target))
    check_grads(lambda x: ad.broadcast_to(x, target), x, order=2)


# ---------------------------------------------------------------------------
# Indexing: getitem (and scatter_add, its transpose)

INDICES = {
    "int": 1,
    "negative-int": -1,
    "np.int64": np.int64(2),
    "slice": slice(1, 3),
    "negative-step": slice(None, None, -1),
    "negative-step-2": (slice(3, 0, -2), slice(None)),
    "negative-steps-two-axes": (slice(None, None, -2), slice(4, None, -3)),
    "int-and-negative-step": (1, slice(None, None, -1)),
    "newaxis": (None, slice(1, 3)),
    "newaxis-middle": (slice(None), None, 2),
    "ellipsis": (Ellipsis, 2),
    "ellipsis-newaxis": (Ellipsis, None),
    "int-tuple": (1, 2),
    "int-array-repeated": np.array([0, 2, 2, 0, 1]),
    "int-array-negative-repeated": np.array([-1, 2, -1, 0]),
    "int-list-repeated": [1, 1, 2],
    "int-array-2d-repeated": np.array([[0, 1], [1, 1]]),
    "int-arrays-pairs-repeated": (np.array([0, 0, 2]), np.array([1, 1, -1])),
    "slice-and-int-array-repeated": (slice(None), np.array([3, 3, 0])),
    "ellipsis-int-array-repeated": (Ellipsis, np.array([4, 4, -1])),
    "newaxis-int-array-slice": (None, np.array([0, 0]), slice(1, 3)),
    "int-array-and-int": (np.array([2, 2]), 1),
}


@pytest.mark.parametrize("shape", [(3, 4, 5), (4, 5)], ids=["3d", "2d"])
@pytest.mark.parametrize("index", INDICES.values(), ids=INDICES.keys())
def test_getitem_matches_finite_differences(index, shape):
    x = distinct(shape)
    np.testing.assert_array_equal(ad.getitem(x, index), x[index])
    check_grads(lambda x: ad.getitem(x, index), x, order=2)


def test_getitem_repeated_indices_accumulate():
    g = ad.grad(lambda x: ad.sum(ad.getitem(x, np.array([0, 2, 2, 0, 0]))))(np.ones(4))
    np.testing.assert_array_equal(g, [3.0, 0.0, 2.0, 0.0])


def test_getitem_empty_slice():
    """An empty selection has an empty (0 x n) Jacobian."""
    check_grads(lambda x: ad.getitem(x, slice(2, 1)), distinct((4,)), order=2)


def test_getitem_of_one_element_scaled_by_a_constant():
    check_grads(lambda x: ad.getitem(x, (1, 2)) * 0.1, distinct((3, 4)), order=2)


def test_getitem_pullback_keeps_float64_precision():
    _, pullback = ad.vjp(lambda x: ad.getitem(x, 1), np.array([1.0, 2.0, 3.0]))
    (x_bar,) = pullback(0.1)
    assert x_bar.dtype == np.float64
    np.testing.assert_array_equal(x_bar, [0.0, 0.1, 0.0])


SCATTERS = {
    "slice": (slice(1, 4), (3,), (5,)),
    "int-array-repeated": (np.array([0, 2, 0, 4]), (4,), (5,)),
    "2d-rows-repeated": (np.array([1, 1]), (2, 3), (4, 3)),
}


@pytest.mark.parametrize("case", SCATTERS.values(), ids=SCATTERS.keys())
def test_scatter_add_matches_finite_differences(case):
    index, shape, out_shape = case
    values = normal(*shape)
    want = np.zeros(out_shape)
    np.add.at(want, index, values)
    np.testing.assert_array_equal(A.scatter_add(values, index, out_shape), want)
    check_grads(lambda v: A.scatter_add(v, index, out_shape), values, order=2)


# ---------------------------------------------------------------------------
# Products: matmul dot

MATMULS = {
    "3@3": ((3,), (3,)),
    "3@3x2": ((3,), (3, 2)),
    "2x3@3": ((2, 3), (3,)),
    "2x3@3x4": ((2, 3), (3, 4)),
    "5x2x3@3x4": ((5, 2, 3), (3, 4)),
    "2x3@5x3x4": ((2, 3), (5, 3, 4)),
    "5x2x3@5x3x4": ((5, 2, 3), (5, 3, 4)),
    "5x1x2x3@4x3x2": ((5, 1, 2, 3), (4, 3, 2)),
    "2x1x2x3@1x3x3x2": ((2, 1, 2, 3), (1, 3, 3, 2)),
    "3@5x3x2": ((3,), (5, 3, 2)),
    "5x2x3@3": ((5, 2, 3), (3,)),
}


@pytest.mark.parametrize("shapes", MATMULS.values(), ids=MATMULS.keys())
def test_matmul_matches_finite_differences(shapes):
    x, y = normal(*shapes[0], seed=1), normal(*shapes[1], seed=2)
    np.testing.assert_allclose(ad.matmul(x, y), np.matmul(x, y), rtol=1e-14)
    check_grads(ad.matmul, x, y, order=2)


DOTS = {
    "float.float": (None, None),
    "float.3": (None, (3,)),
    "3.float": ((3,), None),
    "0d.2x3": ((), (2, 3)),
    "3.3": ((3,), (3,)),
    "3.3x2": ((3,), (3, 2)),
    "2x3.3": ((2, 3), (3,)),
    "2x3.3x4": ((2, 3), (3, 4)),
}


@pytest.mark.parametrize("shapes", DOTS.values(), ids=DOTS.keys())
def test_dot_matches_finite_differences(shapes):
    x, y = (0.7 if s is None else normal(*s, seed=k) for k, s in enumerate(shapes))
    np.testing.assert_allclose(ad.dot(x, y), np.dot(x, y), rtol=1e-14)
    check_grads(ad.dot, x, y, order=2)


# ---------------------------------------------------------------------------
# Joins: concatenate stack

CONCATENATES = {
    "axis0": (0, [(2, 3), (1, 3), (3, 3)]),
    "axis1": (1, [(2, 3), (2, 1), (2, 2)]),
    "axis-1": (-1, [(2, 3), (2, 2)]),
    "axis-1-3d": (-1, [(2, 1, 3), (2, 1, 1)]),
    "1d": (0, [(3,), (2,)]),
    "one-array": (0, [(3,)]),
}


@pytest.mark.parametrize("case", CONCATENATES.values(), ids=CONCATENATES.keys())
def test_concatenate_matches_finite_differences(case):
    axis, shapes = case
    xs = [normal(*s, seed=k) for k, s in enumerate(shapes)]
    np.testing.assert_array_equal(ad.concatenate(xs, axis=axis), np.concatenate(xs, axis=axis))
    check_grads(lambda *xs: ad.concatenate(xs, axis=axis), *xs, order=2)


def test_concatenate_with_a_constant_and_a_repeated_input():
    c = np.ones((2, 3))
    check_grads(lambda x: ad.concatenate([x, c, x * x], axis=1), normal(2, 3), order=2)


STACKS = {
    "axis0": (0, (2, 3)),
    "axis1": (1, (2, 3)),
    "axis-1": (-1, (2, 3)),
    "axis2": (2, (2, 3)),
    "axis-3": (-3, (2, 3)),
    "1d-axis-1": (-1, (3,)),
    "floats": (0, None),
    "0d": (0, ()),
}


@pytest.mark.parametrize("case", STACKS.values(), ids=STACKS.keys())
def test_stack_matches_finite_differences(case):
    axis, shape = case
    xs = [0.7 + k if shape is None else normal(*shape, seed=k) for k in range(3)]
    np.testing.assert_array_equal(ad.stack(xs, axis=axis), np.stack(xs, axis=axis))
    check_grads(lambda *xs: ad.stack(xs, axis=axis), *xs, order=2)


def test_stack_with_a_constant_and_a_repeated_input():
    c = np.ones(3)
    check_grads(lambda x: ad.stack([x, c, ad.sin(x)], axis=-1), normal(3), order=2)


# ---------------------------------------------------------------------------
# The table as a whole

COVERED = {
    "sum", "mean", "max", "logsumexp", "reshape", "transpose", "broadcast_to", "getitem",
    "scatter_add", "matmul", "concatenate", "stack",
}  # fmt: skip


def test_every_array_primitive_is_covered():
    """A primitive added to array.py without a case above makes this fail."""
    declared = {
        p.name
        for p in vars(A).values()
        if isinstance(p, Primitive) and p in rules.vjps and p not in rules.partials
    }
    assert declared == COVERED


def _float32_cases() -> dict:
    w = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    cases = {
        f"{name}-axis{axis}": (lambda x, f=f, axis=axis: f(x, axis=axis))
        for name, f in REDUCTIONS.items()
        for axis in (None, 1)
    }
    cases.update({
        "mean-keepdims": lambda x: ad.mean(x, axis=0, keepdims=True),
        "max-keepdims": lambda x: ad.max(x, axis=-1, keepdims=True),
        "logsumexp-keepdims": lambda x: ad.logsumexp(x, axis=-1, keepdims=True),
        "reshape": lambda x: ad.reshape(x, -1),
        "transpose": ad.transpose,
        "broadcast_to": lambda x: ad.broadcast_to(x, (4, 2, 3)),
        "getitem-slice": lambda x: ad.getitem(x, (slice(None, None, -1), None)),
        "getitem-int-array": lambda x: ad.getitem(x, np.array([0, 0, 1])),
        "scatter_add": lambda x: A.scatter_add(x, np.array([1, 1]), (3, 3)),
        "matmul": lambda x: ad.matmul(x, ad.transpose(x)),
        "matmul-vector": lambda x: ad.matmul(x, w),
        "dot": lambda x: ad.dot(x, w),
        "dot-python-float": lambda x: ad.dot(x, 2.0),
        "concatenate": lambda x: ad.concatenate([x, x], axis=-1),
        "concatenate-constant": lambda x: ad.concatenate([x, np.ones((2, 3), np.float32)]),
        "stack": lambda x: ad.stack([x, x], axis=1),
    })  # fmt: skip
    return cases


FLOAT32 = _float32_cases()


@pytest.mark.parametrize("f", FLOAT32.values(), ids=FLOAT32.keys())
def test_float32_is_kept(f):
    x = distinct((2, 3)).astype(np.float32)
    assert f(x).dtype == np.float32
    g = ad.grad(lambda x: ad.sum(f(x)))(x)
    assert g.dtype == np.float32
    want = numeric.jacobian(lambda v: np.sum(f(v)), x.astype(np.float64))
    np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-5)
