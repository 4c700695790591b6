"""Reductions and statistics (adlab/ops/reductions.py) in every engine, to second order.

``min``/``amin``, ``prod``, ``var``/``std`` (``ddof``), ``median``, ``average`` (weights,
differentiated too), ``cumsum`` and ``cumprod``, spelled as numpy functions and as array
methods, over every kind of ``axis`` with and without ``keepdims``, on 0-d, 1-d, 2-d, 3-d
and empty arrays, against autograd (values, gradients, Hessians in nested modes: see
``tests/ops/oracle.py``). ``prod`` and ``cumprod`` with zeros against a product written
with ``*`` (exact, where autograd's own ``prod`` divides by x). Every rule passes
``check_rule``; float32 stays float32; ties and the kink of std follow their notes;
``out=``, ``where=`` and symbolic expressions are refused clearly.
"""

from __future__ import annotations

import linecache
import math
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import adlab as ad
from adlab.ops import reductions as R
from adlab.testing import check_rule
from tests.ops.oracle import assert_float32_kept, compare, rng_for


def distinct(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values at least 0.1 apart in random order (no ties), none near 0."""
    n = math.prod(shape)
    x = rng_for("distinct", shape, seed).permutation(n) - n / 2 + 0.3
    return (0.1 * x + np.sign(x) * 0.5).reshape(shape)


def raw(x):
    """The numbers inside autograd's boxes (nested for a Hessian)."""
    while hasattr(x, "_value"):
        x = x._value
    return np.asarray(x)


def rows_of(x, axis):
    """``x`` (autograd's numpy) with the reduced axes moved last and merged: (rows, n), the
    shape of the result, and the shape with keepdims."""
    shape = np.shape(x)
    axes = tuple(range(len(shape))) if axis is None else tuple(np.atleast_1d(axis) % len(shape))
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    moved = anp.transpose(x, kept + axes) if shape else x
    n = math.prod(shape[i] for i in axes)
    out_shape = tuple(shape[i] for i in kept)
    keep_shape = tuple(1 if i in axes else shape[i] for i in range(len(shape)))
    return anp.reshape(moved, (math.prod(out_shape), n)), out_shape, keep_shape


def product_by_multiplication(x, axis=None, keepdims=False):
    """prod written with * (autograd's mul: exact where x has zeros, at every order)."""
    rows, out_shape, keep_shape = rows_of(x, axis)
    out = anp.ones(rows.shape[0])
    for k in range(rows.shape[1]):
        out = out * rows[:, k]
    return anp.reshape(out, keep_shape if keepdims else out_shape)


def median_by_sorting(x, axis=None, keepdims=False):
    """The mean of the middle element(s), found by sorting the numbers (no ties here)."""
    rows, out_shape, keep_shape = rows_of(x, axis)
    m, n = rows.shape
    order = np.argsort(raw(rows), axis=1)
    ranked = rows[np.arange(m)[:, None], order]
    out = (ranked[:, (n - 1) // 2] + ranked[:, n // 2]) / 2
    return anp.reshape(out, keep_shape if keepdims else out_shape)


def running_products(x, axis=None):
    """cumprod written with * (exact at zeros)."""
    if axis is None:
        x, axis = anp.ravel(x), 0
    moved = anp.moveaxis(x, axis, 0)
    if moved.shape[0] == 0:
        return x * 1.0
    out = [moved[0]]
    for k in range(1, moved.shape[0]):
        out.append(out[-1] * moved[k])
    return anp.moveaxis(anp.stack(out), 0, axis)


def numpy_call(fn, **kw):
    def spelled(x):
        return fn(x, **kw)

    return spelled


def method_min(**kw):
    def spelled(x):
        return x.min(**kw)

    return spelled


def method_prod(**kw):
    def spelled(x):
        return x.prod(**kw)

    return spelled


def method_var(**kw):
    def spelled(x):
        return x.var(**kw)

    return spelled


def method_std(**kw):
    def spelled(x):
        return x.std(**kw)

    return spelled


def method_cumsum(**kw):
    def spelled(x):
        return x.cumsum(**kw)

    return spelled


def method_cumprod(**kw):
    def spelled(x):
        return x.cumprod(**kw)

    return spelled


# name -> (adlab's spelling, autograd's; both given the keywords)
REDUCTIONS = {
    "np.min": (lambda **kw: numpy_call(np.min, **kw), lambda **kw: numpy_call(anp.min, **kw)),
    "np.amin": (lambda **kw: numpy_call(np.amin, **kw), lambda **kw: numpy_call(anp.min, **kw)),
    "x.min": (method_min, lambda **kw: numpy_call(anp.min, **kw)),
    "np.prod": (lambda **kw: numpy_call(np.prod, **kw),
                lambda **kw: numpy_call(product_by_multiplication, **kw)),
    "x.prod": (method_prod, lambda **kw: numpy_call(product_by_multiplication, **kw)),
    "np.var": (lambda **kw: numpy_call(np.var, **kw), lambda **kw: numpy_call(anp.var, **kw)),
    "x.var-ddof1": (lambda **kw: method_var(ddof=1, **kw),
                    lambda **kw: numpy_call(anp.var, ddof=1, **kw)),
    "np.std": (lambda **kw: numpy_call(np.std, **kw), lambda **kw: numpy_call(anp.std, **kw)),
    "x.std-ddof1": (lambda **kw: method_std(ddof=1, **kw),
                    lambda **kw: numpy_call(anp.std, ddof=1, **kw)),
    "np.median": (lambda **kw: numpy_call(np.median, **kw),
                  lambda **kw: numpy_call(median_by_sorting, **kw)),
}  # fmt: skip

AXES = {
    "0d": ((), None, False),
    "5": ((5,), None, False),
    "5-axis0-keepdims": ((5,), 0, True),
    "2x3-axis1": ((2, 3), 1, False),
    "2x3-axis-2-keepdims": ((2, 3), -2, True),
    "2x3x4-axes(0,2)": ((2, 3, 4), (0, 2), False),
    "2x3x4-keepdims": ((2, 3, 4), None, True),
}


@pytest.mark.parametrize("case", AXES.values(), ids=AXES.keys())
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_agrees_with_autograd(name, case):
    shape, axis, keepdims = case
    if name.endswith("ddof1") and shape == ():
        pytest.skip("ddof=1 of one element divides by zero")
    ours, theirs = REDUCTIONS[name]
    kw = {"axis": axis, "keepdims": keepdims}
    compare(ours(**kw), theirs(**kw), [distinct(shape)])


RUNNING = {
    "np.cumsum": (lambda **kw: numpy_call(np.cumsum, **kw),
                  lambda **kw: numpy_call(anp.cumsum, **kw)),
    "x.cumsum": (method_cumsum, lambda **kw: numpy_call(anp.cumsum, **kw)),
    "np.cumprod": (lambda **kw: numpy_call(np.cumprod, **kw),
                   lambda **kw: numpy_call(running_products, **kw)),
    "x.cumprod": (method_cumprod, lambda **kw: numpy_call(running_products, **kw)),
}  # fmt: skip
RUNNING_AXES = {
    "0d": ((), None),
    "5": ((5,), None),
    "2x3-flattened": ((2, 3), None),
    "2x3-axis0": ((2, 3), 0),
    "2x3-axis-1": ((2, 3), -1),
    "2x3x2-axis1": ((2, 3, 2), 1),
    "empty": ((0,), 0),
    "2x0-axis1": ((2, 0), 1),
}


@pytest.mark.parametrize("case", RUNNING_AXES.values(), ids=RUNNING_AXES.keys())
@pytest.mark.parametrize("name", RUNNING)
def test_running_sums_and_products_agree_with_autograd(name, case):
    shape, axis = case
    ours, theirs = RUNNING[name]
    compare(ours(axis=axis), theirs(axis=axis), [distinct(shape)])


# ---------------------------------------------------------------------------
# Zeros: prod and cumprod never divide by x

WITH_ZEROS = {
    "one zero": np.array([1.5, 0.0, -2.0, 0.7]),
    "two zeros": np.array([0.0, 1.5, 0.0, -2.0]),
    "all zeros": np.zeros(3),
    "zero first": np.array([0.0, 2.0, 3.0]),
    "zero last": np.array([2.0, 3.0, 0.0]),
    "rows": np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [1.0, 2.0, -1.0]]),
}


@pytest.mark.parametrize("x", WITH_ZEROS.values(), ids=WITH_ZEROS.keys())
def test_prod_with_zeros_is_exact_to_second_order(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero anywhere
        compare(np.prod, product_by_multiplication, [x])
        if x.ndim == 2:
            for axis in (0, 1):
                compare(numpy_call(np.prod, axis=axis),
                        numpy_call(product_by_multiplication, axis=axis), [x])  # fmt: skip


@pytest.mark.parametrize("x", WITH_ZEROS.values(), ids=WITH_ZEROS.keys())
def test_cumprod_with_zeros_is_exact_to_second_order(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(np.cumprod, running_products, [x])
        if x.ndim == 2:
            compare(numpy_call(np.cumprod, axis=1), numpy_call(running_products, axis=1), [x])


def test_the_gradient_of_prod_at_a_zero_is_the_product_of_the_others():
    x = np.array([0.0, 2.0, 3.0])
    np.testing.assert_array_equal(ad.grad(np.prod)(x), [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(ad.grad(np.prod)(np.array([0.0, 2.0, 0.0])), [0.0, 0.0, 0.0])
    h = ad.hessian(np.prod)(np.array([0.0, 2.0, 0.0]))  # ∂²/∂x₀∂x₂ = x₁
    np.testing.assert_array_equal(h, [[0.0, 0.0, 2.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])


# ---------------------------------------------------------------------------
# average: weights, differentiated too


def average_formula(a, w=None, axis=None, keepdims=False):
    if w is None:
        return anp.mean(a, axis=axis, keepdims=keepdims)
    if np.shape(w) != np.shape(a):
        axis_ = axis % np.ndim(a)
        w = anp.reshape(w, [np.shape(a)[i] if i == axis_ else 1 for i in range(np.ndim(a))])
    w = w * anp.ones(np.shape(a))
    return anp.sum(a * w, axis=axis, keepdims=keepdims) / anp.sum(w, axis=axis, keepdims=keepdims)


def average_with_weights(**kw):
    def average(a, w):
        return np.average(a, weights=w, **kw)

    return average


def average_formula_with_weights(**kw):
    def average(a, w):
        return average_formula(a, w, **kw)

    return average


AVERAGES = {
    "5": ((5,), (5,), {}),
    "2x3-same-shape-axis1": ((2, 3), (2, 3), {"axis": 1}),
    "2x3-1d-weights-axis0": ((2, 3), (2,), {"axis": 0}),
    "2x3-1d-weights-axis-1-keepdims": ((2, 3), (3,), {"axis": -1, "keepdims": True}),
    "2x3-all": ((2, 3), (2, 3), {}),
}


@pytest.mark.parametrize("case", AVERAGES.values(), ids=AVERAGES.keys())
def test_average_agrees_with_autograd_in_values_and_weights(case):
    shape, w_shape, kw = case
    a, w = distinct(shape), rng_for("weights", w_shape).uniform(0.5, 2.0, w_shape)
    compare(average_with_weights(**kw), average_formula_with_weights(**kw), [a, w])


def test_average_without_weights_is_the_mean():
    x = distinct((2, 3))
    compare(numpy_call(np.average, axis=1), numpy_call(average_formula, axis=1), [x])


def test_average_returns_the_sum_of_the_weights():
    a, w = distinct((2, 3)), np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 1.0]])
    value, total = ad.average(a, axis=1, weights=w, returned=True)
    want_value, want_total = np.average(a, axis=1, weights=w, returned=True)
    np.testing.assert_allclose(value, want_value, rtol=1e-15)
    np.testing.assert_array_equal(total, want_total)
    g = ad.grad(lambda w: ad.sum(np.average(a, axis=1, weights=w, returned=True)[1] ** 2))(w)
    np.testing.assert_array_equal(g, 2 * np.broadcast_to(want_total[:, None], w.shape))
    _, count = np.average(a, returned=True)
    assert ad.average(a, returned=True)[1] == count == 6.0


def test_average_keeps_numpys_errors():
    with pytest.raises(ZeroDivisionError):
        ad.grad(lambda w: np.average(np.ones(2), weights=w))(np.zeros(2))


# ---------------------------------------------------------------------------
# check_rule: every new primitive

RULE_POINTS = {
    "min": (R.min_p, (distinct((2, 3)),), {"axis": (1,), "keepdims": False}),
    "prod": (R.prod_p, (distinct((2, 3)),), {"axis": None, "keepdims": True}),
    "prod-zeros": (R.prod_p, (WITH_ZEROS["rows"],), {"axis": (0,), "keepdims": False}),
    "var": (R.var_p, (distinct((2, 3)),), {"axis": (0,), "keepdims": False, "ddof": 1}),
    "std": (R.std_p, (distinct((2, 3)),), {"axis": None, "keepdims": False, "ddof": 0}),
    "median": (R.median_p, (distinct((2, 4)),), {"axis": (1,), "keepdims": False}),
    "average": (R.average_p, (distinct((2, 3)), np.array([1.0, 2.0])),
                {"axis": (0,), "keepdims": False}),
    "cumsum": (R.cumsum_p, (distinct((2, 3)),), {"axis": 1}),
    "cumsum-flat": (R.cumsum_p, (distinct((2, 3)),), {"axis": None}),
    "cumprod": (R.cumprod_p, (distinct((2, 3)),), {"axis": 0}),
    "cumprod-zeros": (R.cumprod_p, (WITH_ZEROS["two zeros"],), {"axis": None}),
    "linear_recurrence": (R.linear_recurrence_p, (distinct((2, 3)), distinct((2, 3), 1)),
                          {"axis": 1}),
}  # fmt: skip


@pytest.mark.parametrize("name", RULE_POINTS)
def test_check_rule(name):
    prim, args, params = RULE_POINTS[name]
    assert check_rule(prim, *args, params=params).ok


# ---------------------------------------------------------------------------
# dtypes, empty arrays, Python floats

SPELLINGS = {
    "min": lambda x: x.min(axis=0),
    "prod": lambda x: np.prod(x, axis=1),
    "var": lambda x: x.var(ddof=1),
    "std": lambda x: np.std(x, axis=0, keepdims=True),
    "median": lambda x: np.median(x, axis=1),
    "average": lambda x: np.average(x, axis=0, weights=np.array([1.0, 3.0], np.float32)),
    "average-traced-weights": lambda x: np.average(x, axis=1, weights=x[0] * x[0]),
    "cumsum": lambda x: x.cumsum(axis=1),
    "cumprod": lambda x: np.cumprod(x),
}


@pytest.mark.parametrize("name", SPELLINGS)
def test_float32_stays_float32(name):
    assert_float32_kept(SPELLINGS[name], distinct((2, 3)).astype(np.float32))


def float32_by_sct(v):
    return ad.sum(v.var(axis=0) + np.cumprod(v, axis=0)[-1] * v.min(axis=0) + np.prod(v))


def test_float32_stays_float32_in_sct():
    x = distinct((2, 3)).astype(np.float32)
    assert ad.grad(float32_by_sct, mode="sct")(x).dtype == np.float32
    assert ad.hessian(float32_by_sct, mode=("forward", "sct"))(x).dtype == np.float32


def empty_reductions(x):
    return ad.sum(np.prod(x, axis=0)) + np.prod(x) + ad.sum(np.cumsum(x)) + ad.sum(np.cumprod(x))


def smallest_of_empty(x):
    return np.min(x)


@pytest.mark.parametrize("mode", ["forward", "reverse", "sct"])
def test_empty_arrays_as_numpy(mode):
    empty = np.zeros((0, 3))
    assert empty_reductions(empty) == 4.0  # empty products are 1: three columns and the whole
    np.testing.assert_array_equal(ad.grad(empty_reductions, mode=mode)(empty), empty)
    with pytest.raises(ValueError, match="zero-size array"):  # numpy's own error
        ad.grad(smallest_of_empty, mode=mode)(empty)


def python_floats(x):
    return np.prod(x) + np.var(x) + np.min(x) + np.cumsum(x)[0] + np.median(x)


def test_python_floats_are_0d_arrays_to_the_reductions():
    got = [ad.grad(python_floats, mode=mode)(0.7) for mode in ("forward", "reverse", "sct")]
    assert got == [4.0, 4.0, 4.0]  # prod, min, cumsum and median pass x on; var(x) is 0


# ---------------------------------------------------------------------------
# Kinks: ties of min and median, std of equal elements


def smallest(x):
    return np.min(x)


def middle(x):
    return np.median(x)


def spread(x):
    return np.std(x)


def spread_of_rows(x):
    return ad.sum(np.std(x, axis=1))


@pytest.mark.parametrize("mode", ["forward", "reverse", "sct"])
def test_ties_and_the_kink_of_std(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = ad.grad(smallest, mode=mode)(np.array([1.0, 3.0, 1.0, 1.0]))
        np.testing.assert_array_equal(g, [1 / 3, 0.0, 1 / 3, 1 / 3])
        g = ad.grad(middle, mode=mode)(np.array([2.0, 1.0, 2.0, 5.0, 2.0]))
        np.testing.assert_array_equal(g, [1 / 3, 0.0, 1 / 3, 0.0, 1 / 3])
        g = ad.grad(middle, mode=mode)(np.array([4.0, 1.0, 3.0, 0.0]))  # even: two middles
        np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
        g = ad.grad(spread, mode=mode)(np.full(4, 2.0))
        np.testing.assert_array_equal(g, np.zeros(4))
        g = ad.grad(spread_of_rows, mode=mode)(np.array([[1.0, 1.0], [0.0, 2.0]]))
        np.testing.assert_array_equal(g, [[0.0, 0.0], [-0.5, 0.5]])
        h = ad.hessian(spread, mode=("forward", "reverse") if mode == "sct" else mode)
        np.testing.assert_array_equal(h(np.full(3, 2.0)), np.zeros((3, 3)))


def test_the_kink_notes_are_in_the_rule_table():
    rows = {row[0]: row for row in ad.rule_table().rows}
    assert "1/k" in rows["min"][3] and "std = 0" in rows["std"][3] and "1/2" in rows["median"][3]
    for name in ("min", "prod", "var", "std", "median", "average", "cumprod", "linear_recurrence"):
        assert rows[name][1] == "jvp+vjp", name
    assert rows["cumsum"][1].startswith("linear")


# ---------------------------------------------------------------------------
# Keywords and refusals


def test_ddof_keepdims_and_axis_spelled_every_way():
    x = distinct((2, 3))
    want = ad.grad(lambda v: ad.sum(ad.var(v, axis=1, ddof=1, keepdims=True)))(x)
    for f in (lambda v: np.var(v, axis=1, ddof=1, keepdims=True),
              lambda v: np.var(v, 1, ddof=1, keepdims=True),
              lambda v: v.var(axis=1, ddof=1, keepdims=True),
              lambda v: v.var(1, ddof=1, keepdims=True, out=None)):  # fmt: skip
        np.testing.assert_array_equal(ad.grad(lambda v, f=f: ad.sum(f(v)))(x), want)


REFUSED = {
    "np.var-out": (lambda v: np.var(v, out=np.empty(())), r"np\.var\(\.\.\., out=.*assign"),
    "x.std-out": (lambda v: v.std(out=np.empty(())), r"x\.std\(\.\.\., out=.*assign"),
    "np.prod-where": (lambda v: np.prod(v, where=v.value > 0), r"where=\.\.\.\) is not supp"),
    "x.min-initial": (lambda v: v.min(initial=0.0), r"initial=.*supported keywords: axis"),
    "np.cumsum-dtype": (lambda v: np.cumsum(v, dtype=np.float32), r"np\.cumsum\(\.\.\., dtype="),
    "np.median-overwrite": (lambda v: np.median(v, overwrite_input=True), r"overwrite_input="),
}


@pytest.mark.parametrize("call, message", REFUSED.values(), ids=REFUSED.keys())
def test_keywords_adlab_cannot_honour_are_refused_clearly(call, message):
    with pytest.raises(ad.DifferentiationError, match=message):
        ad.grad(lambda v: ad.sum(call(v)))(distinct((2, 3)))


@pytest.mark.parametrize("fn", [ad.min, ad.prod, ad.var, ad.std, ad.median, ad.cumsum, ad.cumprod])
def test_symbolic_mode_refuses_reductions_clearly(fn):
    def f(x, y):
        return ad.sum(fn(ad.stack([x, y])))

    name = fn.__name__
    with pytest.raises(ad.DifferentiationError, match=rf"ad\.{name} of a symbolic expression.*"
                       "mode='forward' or mode='reverse'"):  # fmt: skip
        ad.grad(f, argnums=(0, 1), mode="symbolic")(1.0, 2.0)


def sct_reductions(x):
    return x.var(ddof=1) + ad.sum(np.cumsum(x, axis=0) * x) + np.average(x, weights=x * x)


def test_sct_calls_the_table_in_the_code_it_generates():
    x = distinct((4,))
    g = ad.sct.grad(sct_reductions)
    for name in ("ad.var", "ad.cumsum", "ad.average"):
        assert name in g.source, name
    np.testing.assert_allclose(g(x), ad.grad(sct_reductions)(x), rtol=1e-14)


def average_returned(x):
    value, total = np.average(x, weights=x * x, returned=True)
    return value * total  # Σx³


def test_average_with_returned_weights_differentiates_both_results():
    assert ad.grad(average_returned)(np.array([1.0, 2.0])) == pytest.approx([3.0, 12.0])
    assert ad.grad(average_returned, mode="forward")(np.array([1.0, 2.0])) == pytest.approx(
        [3.0, 12.0]
    )


# ---------------------------------------------------------------------------
# A learner's loss, Hessian-vector products through nested modes


LEARNERS_LOSS = """
def learners_loss(x):
    # standardise the columns, then a smooth penalty, running sums of clipped scores, a
    # product and a weighted mean: the functions of issue 15 in one program
    z = (x - np.mean(x, axis=0)) / np.std(x, axis=0, ddof=1)
    running = np.cumsum(np.clip(z, -1.0, 1.0), axis=1)
    spread = np.var(running) + np.sum(np.logaddexp(0.0, -z)) + np.min(np.sinh(z))
    w = np.square(x[2])
    return spread + np.prod(np.arctan(x[0])) + average(x[1], w)
"""


def learners_loss(numpy, average):
    """The loss above, with ``np`` meaning ``numpy`` (its source registered, for sct)."""
    filename = f"<learners_loss {numpy.__name__}>"
    linecache.cache[filename] = (len(LEARNERS_LOSS), None, LEARNERS_LOSS.splitlines(True), filename)
    namespace = {"np": numpy, "average": average}
    exec(compile(LEARNERS_LOSS, filename, "exec"), namespace)
    return namespace["learners_loss"]


def numpy_average(a, w):
    return np.average(a, weights=w)


def autograd_average(a, w):  # autograd has no rule for np.average
    return anp.sum(a * w) / anp.sum(w)


def test_hessian_vector_products_of_a_learners_loss_in_nested_modes():
    x = rng_for("learner").normal(0.0, 0.7, (3, 4))  # (no column equally spaced: z = ±1 is
    v = rng_for("direction").standard_normal(x.shape)  # clip's kink, which autograd gives 0)
    ours, theirs = learners_loss(np, numpy_average), learners_loss(anp, autograd_average)

    want = autograd.grad(lambda x: anp.sum(autograd.grad(theirs)(x) * v))(x)
    nested = {
        "forward over reverse": lambda: ad.jvp(ad.grad(ours), (x,), (v,))[1],
        "forward over sct": lambda: ad.jvp(ad.grad(ours, mode="sct"), (x,), (v,))[1],
        "reverse over forward": lambda: ad.grad(
            lambda x: ad.jvp(ours, (x,), (v,))[1], mode="reverse")(x),
        "reverse over reverse": lambda: ad.grad(
            lambda x: ad.sum(ad.grad(ours)(x) * v), mode="reverse")(x),
        "forward over forward": lambda: ad.jvp(
            ad.grad(ours, mode="forward"), (x,), (v,), mode="forward")[1],
    }  # fmt: skip
    for how, hvp in nested.items():
        np.testing.assert_allclose(hvp(), want, rtol=1e-10, atol=1e-12, err_msg=how)
