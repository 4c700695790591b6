"""Kinks: the derivative at a non-differentiable point is a documented subgradient.

DESIGN.md, Conventions: ``abs'(0) = 0``, ``relu'(0) = 0``, ties of ``max`` /
``maximum`` / ``minimum`` split evenly, never an exception, never NaN unless the
true limit is infinite (``sqrt'(0) = inf``). Each convention is checked in every
engine it applies to (forward, reverse, sct, symbolic; numeric differences are no
oracle at a kink), at first and second order, and each is listed once, in
``adlab.core.rules.kinks`` (by name: ``adlab.ops.scalar.KINKS``), which
``ad.rule_table()`` shows. The one NaN on purpose is the "where trap".
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import adlab as ad
from adlab.core import rules
from adlab.engines.symbolic import diff, symbols
from adlab.engines.symbolic import protocol as symbolic
from adlab.ops.scalar import KINKS

ENGINES = ("forward", "reverse", "sct", "symbolic")
ARRAY_ENGINES = ("forward", "reverse", "sct")
INF = math.inf


def gradient(f, args, mode):
    """The gradient of ``f`` w.r.t. every argument (a tuple), by ``mode``."""
    argnums = tuple(range(len(args)))
    if mode == "symbolic" and "symbolic" not in ad.api.available_modes():
        _, pullback = symbolic.vjp(lambda *xs: (f(*xs),), args)
        return tuple(pullback((1.0,)))
    return tuple(ad.grad(f, argnums, mode=mode)(*args))


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- the conventions, on Python floats, in every engine ---------------------------------


def abs_(x):
    return ad.abs(x)


def relu(x):
    return ad.relu(x)


def maximum(x, y):
    return ad.maximum(x, y)


def minimum(x, y):
    return ad.minimum(x, y)


def sqrt(x):
    return ad.sqrt(x)


def x_to_the_0(x):
    return x**0.0


def zero_to_the_y(y):
    return 0.0**y


def max_of_three(x, y, z):
    return ad.max(ad.stack([x, y, z]))


def where_taken_branch(x):
    return ad.where(x >= 0.0, 2.0 * x, -x)


SCALAR_KINKS = [
    # (primitive, function, point, gradient the convention gives)
    ("abs", abs_, (0.0,), (0.0,)),
    ("abs", abs_, (-0.0,), (0.0,)),
    ("relu", relu, (0.0,), (0.0,)),
    ("maximum", maximum, (1.0, 1.0), (0.5, 0.5)),
    ("minimum", minimum, (1.0, 1.0), (0.5, 0.5)),
    ("sqrt", sqrt, (0.0,), (INF,)),  # the true limit
    ("pow", x_to_the_0, (0.0,), (0.0,)),
    ("pow", zero_to_the_y, (2.0,), (0.0,)),
    ("where", where_taken_branch, (0.0,), (2.0,)),  # the branch the condition takes
    ("max", max_of_three, (1.0, 1.0, 0.0), (0.5, 0.5, 0.0)),
]

SYMBOLIC_MAX = pytest.mark.xfail(
    strict=True,
    raises=ad.DifferentiationError,
    reason="the reduction max's tie weights (adlab/ops/array.py _max_weights) are computed with "
    "numpy (np.asarray, .astype), not table operations, so they cannot be applied to "
    "expressions",
)


def _cases(engines):
    for engine in engines:
        for name, f, args, want in SCALAR_KINKS:
            marks = SYMBOLIC_MAX if (engine, name) == ("symbolic", "max") else ()
            name = f"{engine}-{f.__name__}{args}"
            yield pytest.param(engine, f, args, want, marks=marks, id=name)


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize("mode, f, args, want", list(_cases(ENGINES)))
def test_each_kink_gives_its_documented_subgradient(mode, f, args, want):
    got = gradient(f, args, mode)
    assert got == want
    assert all(type(g) is not bool for g in got)


def test_every_kink_of_the_table_is_checked_here():
    library = {p.name for p in rules.kinks if p in ad.ops.LIBRARY}
    assert {name for name, *_ in SCALAR_KINKS} == library


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize(
    "f, point, want",
    [
        (abs_, {"x": 0.0}, 0.0),
        (relu, {"x": 0.0}, 0.0),
        (maximum, {"x": 1.0, "y": 1.0}, 0.5),
        (minimum, {"x": 1.0, "y": 1.0}, 0.5),
        (sqrt, {"x": 0.0}, INF),
        (x_to_the_0, {"x": 0.0}, 0.0),
        (where_taken_branch, {"x": 0.0}, 2.0),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_symbolic_derivatives_evaluate_to_the_convention(f, point, want):
    syms = symbols(" ".join(point)) if len(point) > 1 else (symbols(next(iter(point))),)
    d = diff(f(*syms), syms[0])
    assert float(d.evaluate(**point)) == want


# -- arrays: elementwise kinks and the reduction max ------------------------------------

X = np.array([-1.5, 0.0, 2.0])


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize("mode", ARRAY_ENGINES)
def test_elementwise_kinks_on_arrays(mode):
    zeros = np.zeros(3)
    np.testing.assert_array_equal(gradient(lambda x: ad.sum(ad.abs(x)), (X,), mode)[0], [-1, 0, 1])
    np.testing.assert_array_equal(gradient(lambda x: ad.sum(ad.relu(x)), (X,), mode)[0], [0, 0, 1])
    gx, gy = gradient(lambda x, y: ad.sum(ad.maximum(x, y)), (X, zeros), mode)
    np.testing.assert_array_equal(gx, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(gy, [1.0, 0.5, 0.0])
    gx, gy = gradient(lambda x, y: ad.sum(ad.minimum(x, y)), (X, zeros), mode)
    np.testing.assert_array_equal(gx, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.0, 0.5, 1.0])


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize("mode", ARRAY_ENGINES)
def test_the_reduction_max_splits_ties_evenly_among_the_tied_elements(mode):
    (g,) = gradient(lambda x: ad.max(x), (np.array([2.0, 2.0, 2.0, 1.0]),), mode)
    np.testing.assert_array_equal(g, [1 / 3, 1 / 3, 1 / 3, 0.0])
    (g,) = gradient(lambda x: np.max(x), (np.array([1.0, 1.0]),), mode)
    np.testing.assert_array_equal(g, [0.5, 0.5])
    m = np.array([[1.0, 1.0, 0.0], [3.0, 2.0, 3.0]])
    (g,) = gradient(lambda x: ad.sum(ad.max(x, axis=1) * np.array([1.0, 10.0])), (m,), mode)
    np.testing.assert_array_equal(g, [[0.5, 0.5, 0.0], [5.0, 0.0, 5.0]])
    (g,) = gradient(lambda x: ad.sum(ad.max(x, axis=0, keepdims=True)), (m,), mode)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


@pytest.mark.usefixtures("no_warnings")
def test_a_tie_of_the_reduction_max_in_forward_mode_is_the_mean_of_the_tied_tangents():
    x = np.array([2.0, 2.0, 1.0])
    _, out_dot = ad.jvp(lambda v: ad.max(v), (x,), (np.array([1.0, 3.0, 100.0]),))
    assert out_dot == 2.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's divide by zero, on arrays
@pytest.mark.parametrize("mode", ["forward", "reverse", "sct"])
def test_sqrt_at_zero_is_inf_on_arrays_too(mode):
    (g,) = gradient(lambda x: ad.sum(ad.sqrt(x)), (np.array([0.0, 4.0]),), mode)
    np.testing.assert_array_equal(g, [INF, 0.25])


# -- the where trap: the one NaN on purpose ---------------------------------------------


def where_trap(x):
    return ad.where(x > 0.0, ad.sqrt(x), 0.0)


def where_trap_avoided(x):
    safe = ad.where(x > 0.0, x, 1.0)  # the untaken branch never sees x = 0
    return ad.where(x > 0.0, ad.sqrt(safe), 0.0)


@pytest.mark.parametrize("mode", ENGINES)
def test_the_where_trap_gives_nan_in_every_engine_and_the_double_where_avoids_it(mode):
    # where(x > 0, sqrt(x), 0) at x = 0: the sqrt branch is not taken, so its cotangent
    # is 0, but it still multiplies sqrt'(0) = inf: 0 · inf = nan (as in JAX and PyTorch).
    # At x < 0 the untaken branch's derivative is nan itself, and 0 · nan = nan.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sqrt(-1)'s invalid value
        (at_zero,) = gradient(where_trap, (0.0,), mode)
        (below,) = gradient(where_trap, (-1.0,), mode)
    assert math.isnan(at_zero) and math.isnan(below)
    assert gradient(where_trap, (4.0,), mode) == (0.25,)
    for x, want in ((0.0, 0.0), (-1.0, 0.0), (4.0, 0.25)):
        assert gradient(where_trap_avoided, (x,), mode) == (want,)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's divide-by-zero and 0 · inf
@pytest.mark.parametrize("mode", ["forward", "reverse", "sct"])
def test_the_where_trap_on_arrays_spoils_only_the_trapped_components(mode):
    x = np.array([0.0, 4.0, -1.0])
    (g,) = gradient(lambda v: ad.sum(where_trap(v)), (x,), mode)
    assert math.isnan(g[0]) and g[1] == 0.25 and math.isnan(g[2])
    (g,) = gradient(lambda v: ad.sum(where_trap_avoided(v)), (x,), mode)
    np.testing.assert_array_equal(g, [0.0, 0.25, 0.0])


def test_the_where_note_documents_the_trap_and_its_fix():
    assert "nan" in KINKS["where"] and "sqrt(where(x > 0, x, 1))" in KINKS["where"]


# -- second derivatives at the kinks: zero, never an exception or NaN -------------------

SECOND_ORDER = [
    (abs_, (0.0,)),
    (relu, (0.0,)),
    (lambda x: ad.maximum(x, 1.0), (1.0,)),
    (lambda x: ad.minimum(x, 1.0), (1.0,)),
    (lambda x: ad.max(ad.stack([x, 1.0])), (1.0,)),
]


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize(
    "mode", ["reverse", "forward", ("forward", "reverse"), ("reverse", "forward")], ids=str
)
@pytest.mark.parametrize("f, args", SECOND_ORDER)
def test_second_derivatives_at_kinks_are_zero(mode, f, args):
    assert ad.hessian(f, mode=mode)(*args) == 0.0


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize("f", [abs_, relu, lambda x: ad.maximum(x, 1.0) + x * x])
def test_second_derivatives_at_kinks_by_sct_over_sct(f):
    at = 1.0 if f not in (abs_, relu) else 0.0
    want = 2.0 if f not in (abs_, relu) else 0.0
    assert ad.hessian(f, mode="sct")(at) == want
    assert ad.hessian(f, mode=("reverse", "sct"))(at) == want


def x_sqrt_x(x):
    return x * ad.sqrt(x)


def test_the_second_derivative_of_x_sqrt_x_at_zero_is_nan_by_reverse_and_forward():
    # d/dx x·√x = √x + x · sqrt'(x): at 0 that is 0 + 0 · inf = nan. The first derivative is
    # already the trap of a product with a kink; it is what the table's rules give.
    for mode in ("reverse", ("forward", "reverse"), ("reverse", "sct")):
        assert math.isnan(ad.hessian(x_sqrt_x, mode=mode)(0.0))


@pytest.mark.xfail(
    strict=True,
    raises=ZeroDivisionError,
    reason="sct over sct prints sqrt's partial ad.truediv(0.5, t1) as Python's 0.5 / t1 in "
    "the code it generates for numbers, which raises at t1 = 0 (adlab/engines/sct)",
)
def test_sct_over_sct_at_the_kink_of_sqrt_does_not_raise():
    assert math.isnan(ad.hessian(x_sqrt_x, mode="sct")(0.0))


# -- one list of every kink ---------------------------------------------------------------


def test_every_kinked_primitive_documents_its_convention_in_one_registry():
    assert {"abs", "relu", "maximum", "minimum", "max", "sqrt", "pow", "where"} <= set(KINKS)
    assert KINKS["abs"] == "abs'(0) = 0"
    assert KINKS["relu"] == "relu'(0) = 0"
    assert "1/k" in KINKS["max"] and "1/2" in KINKS["maximum"] and "1/2" in KINKS["minimum"]
    assert "inf" in KINKS["sqrt"]
    # KINKS is the registry rules.kinks seen by name: array primitives register there too
    assert rules.kinks[ad.ops.array.max_p] == KINKS["max"]
    assert rules.kinks[ad.abs] == KINKS["abs"] and len(KINKS) <= len(rules.kinks)
    for name, note in KINKS.items():
        assert note == next(n for p, n in rules.kinks.items() if p.name == name)


def test_the_rule_table_shows_each_kink_in_its_at_kinks_column():
    table = ad.rule_table()
    at_kinks = dict(zip(table.column("primitive"), table.column("at kinks")))
    for prim, note in rules.kinks.items():
        assert at_kinks[prim.name] == note
    assert at_kinks["sin"] == ""


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's divide by zero, on arrays
@pytest.mark.xfail(
    strict=True,
    reason="reverse mode builds a Jacobian row by row from basis cotangents; a zero cotangent "
    "component times sqrt'(0) = inf is nan (forward mode has a strong zero for this; the "
    "reverse sweep's hot path multiplies without one, which would cost every array operation a "
    "finiteness check)",
)
def test_a_reverse_jacobian_row_is_not_spoiled_by_an_infinite_partial_elsewhere():
    J = ad.jacobian(ad.sqrt)(np.array([0.0, 4.0]))
    np.testing.assert_array_equal(J, [[INF, 0.0], [0.0, 0.25]])
