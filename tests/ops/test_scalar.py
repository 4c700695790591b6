"""The elementwise primitives of adlab/ops/scalar.py, each against finite differences.

Every primitive is checked with ``ad.testing.check_grads`` (first and second
derivatives against central differences) on Python floats, 0-d, 1-d and 2-d
arrays and broadcasting pairs; forward values against numpy; float32 and Python
floats kept; the documented kink conventions; numpy's inf/nan on Python floats.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import adlab as ad
from adlab.core import rules
from adlab.core.primitive import Primitive
from adlab.engines import numeric
from adlab.ops import scalar as S
from adlab.testing import check_grads


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20241127)


def sample(rng: np.random.Generator, shape, low: float, high: float, signed: bool = False):
    """A Python float (``shape=None``) or a float64 array, uniform in [low, high].

    ``signed`` flips random signs, so points stay at least ``low`` away from 0
    (the kink of abs and relu).
    """
    x = rng.uniform(low, high, () if shape is None else shape)
    if signed:
        x = x * rng.choice([-1.0, 1.0], size=np.shape(x))
    return float(x) if shape is None else np.asarray(x)


def sigmoid_ref(x):
    return 1.0 / (1.0 + np.exp(-x))


# name -> (adlab function, numpy reference, (low, high, signed) where the points are drawn)
UNARY = {
    "neg": (ad.neg, np.negative, (0.1, 2.0, True)),
    "exp": (ad.exp, np.exp, (0.1, 2.0, True)),
    "log": (ad.log, np.log, (0.2, 3.0, False)),
    "log1p": (ad.log1p, np.log1p, (-0.5, 2.0, False)),
    "expm1": (ad.expm1, np.expm1, (0.1, 2.0, True)),
    "sin": (ad.sin, np.sin, (0.1, 3.0, True)),
    "cos": (ad.cos, np.cos, (0.1, 3.0, True)),
    "tan": (ad.tan, np.tan, (0.1, 1.2, True)),  # |x| < 1.2: well away from the poles ±π/2
    "tanh": (ad.tanh, np.tanh, (0.1, 2.0, True)),
    "sqrt": (ad.sqrt, np.sqrt, (0.2, 3.0, False)),
    "abs": (ad.abs, np.abs, (0.2, 2.0, True)),  # |x| >= 0.2: away from the kink
    "sigmoid": (ad.sigmoid, sigmoid_ref, (0.1, 3.0, True)),
    "relu": (ad.relu, lambda x: np.maximum(x, 0.0), (0.2, 2.0, True)),
    "sinh": (ad.sinh, np.sinh, (0.1, 2.0, True)),
    "cosh": (ad.cosh, np.cosh, (0.1, 2.0, True)),
    "arcsin": (ad.arcsin, np.arcsin, (0.1, 0.9, True)),  # |x| < 1: inside the domain
    "arccos": (ad.arccos, np.arccos, (0.1, 0.9, True)),
    "arctan": (ad.arctan, np.arctan, (0.1, 3.0, True)),
    "arcsinh": (ad.arcsinh, np.arcsinh, (0.1, 3.0, True)),
    "arccosh": (ad.arccosh, np.arccosh, (1.2, 3.0, False)),  # x > 1
    "arctanh": (ad.arctanh, np.arctanh, (0.1, 0.9, True)),
    "log2": (ad.log2, np.log2, (0.2, 3.0, False)),
    "log10": (ad.log10, np.log10, (0.2, 3.0, False)),
    "exp2": (ad.exp2, np.exp2, (0.1, 2.0, True)),
    "square": (ad.square, np.square, (0.1, 2.0, True)),
    "reciprocal": (ad.reciprocal, np.reciprocal, (0.3, 2.0, True)),
    "deg2rad": (ad.deg2rad, np.deg2rad, (1.0, 90.0, True)),
    "rad2deg": (ad.rad2deg, np.rad2deg, (0.1, 2.0, True)),
    "sinc": (ad.sinc, np.sinc, (0.02, 2.5, True)),  # both sides of the series' |x| < 0.1
}

# name -> (adlab function, numpy reference, domain of x, domain of y)
BINARY = {
    "add": (ad.add, np.add, (0.1, 2.0, True), (0.1, 2.0, True)),
    "sub": (ad.sub, np.subtract, (0.1, 2.0, True), (0.1, 2.0, True)),
    "mul": (ad.mul, np.multiply, (0.1, 2.0, True), (0.1, 2.0, True)),
    "truediv": (ad.truediv, np.divide, (0.1, 2.0, True), (0.5, 2.0, True)),
    "pow": (ad.pow, np.power, (0.5, 2.0, False), (0.1, 2.5, True)),  # x**y, x > 0
    "maximum": (ad.maximum, np.maximum, (0.1, 2.0, True), (0.1, 2.0, True)),
    "minimum": (ad.minimum, np.minimum, (0.1, 2.0, True), (0.1, 2.0, True)),
    "hypot": (ad.hypot, np.hypot, (0.1, 2.0, True), (0.1, 2.0, True)),
    "arctan2": (ad.arctan2, np.arctan2, (0.1, 2.0, True), (0.1, 2.0, True)),
    "logaddexp": (ad.logaddexp, np.logaddexp, (0.1, 2.0, True), (0.1, 2.0, True)),
    "logaddexp2": (ad.logaddexp2, np.logaddexp2, (0.1, 2.0, True), (0.1, 2.0, True)),
    "fmax": (ad.fmax, np.fmax, (0.1, 2.0, True), (0.1, 2.0, True)),
    "fmin": (ad.fmin, np.fmin, (0.1, 2.0, True), (0.1, 2.0, True)),
    "div_or_zero": (S.div_or_zero, np.divide, (0.1, 2.0, True), (0.5, 2.0, True)),
}

UNARY_SHAPES = {"float": None, "0d": (), "1d": (3,), "2d": (2, 3)}

BINARY_SHAPES = {
    "float-float": (None, None),
    "0d-0d": ((), ()),
    "3-3": ((3,), (3,)),
    "2x3-2x3": ((2, 3), (2, 3)),
    "3x1-1x4": ((3, 1), (1, 4)),
    "2x3-3": ((2, 3), (3,)),
    "3-2x3": ((3,), (2, 3)),
    "float-2x3": (None, (2, 3)),
    "2x3-float": ((2, 3), None),
    "0d-3": ((), (3,)),
}


def binary_args(rng: np.random.Generator, name: str, shape_x, shape_y) -> tuple:
    _, _, dom_x, dom_y = BINARY[name]
    x, y = sample(rng, shape_x, *dom_x), sample(rng, shape_y, *dom_y)
    if name in ("maximum", "minimum", "fmax", "fmin"):  # no ties within a difference step
        assert np.min(np.abs(np.subtract(x, y))) > 1e-3
    return x, y


# (condition, x shape, y shape); the condition broadcasts with x and y
WHERE_CASES = {
    "2x3-2x3-2x3": ([[True, False, True], [False, False, True]], (2, 3), (2, 3)),
    "2x3-float-3": ([[True, False, True], [False, True, True]], None, (3,)),
    "3x1-1x4-0d": ([[True], [False], [True]], (1, 4), ()),
    "3-2x3-float": ([False, True, True], (2, 3), None),
    "true-float-float": (True, None, None),
    "false-float-float": (False, None, None),
    "0d-3-3": (np.array(True), (3,), (3,)),
}

# x**c, c**x (a constant base or exponent) and x**n with an integer n
POW_CONSTANT = {
    "x**2.5": (lambda x: x**2.5, (0.3, 2.0, False)),
    "x**0.5": (lambda x: x**0.5, (0.3, 2.0, False)),
    "x**-1.5": (lambda x: x**-1.5, (0.3, 2.0, False)),
    "x**3-negative-base": (lambda x: x**3, (0.3, 2.0, True)),
    "x**2.0-negative-base": (lambda x: x**2.0, (0.3, 2.0, True)),
    "x**1": (lambda x: x**1, (0.3, 2.0, True)),
    "2**x": (lambda x: 2.0**x, (0.1, 2.0, True)),
    "0.5**x": (lambda x: 0.5**x, (0.1, 2.0, True)),
    "ad.pow(e,x)": (lambda x: ad.pow(math.e, x), (0.1, 2.0, True)),
    "ad.pow(x,3.0)": (lambda x: ad.pow(x, 3.0), (0.3, 2.0, True)),
}


# ---------------------------------------------------------------------------
# Every primitive against finite differences (first and second derivatives)


@pytest.mark.parametrize("shape", UNARY_SHAPES.values(), ids=UNARY_SHAPES.keys())
@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_finite_differences(name, shape, rng):
    f, _, domain = UNARY[name]
    check_grads(f, sample(rng, shape, *domain), order=2)


@pytest.mark.parametrize("shapes", BINARY_SHAPES.values(), ids=BINARY_SHAPES.keys())
@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_finite_differences(name, shapes, rng):
    f = BINARY[name][0]
    check_grads(f, *binary_args(rng, name, *shapes), order=2)


@pytest.mark.parametrize("case", WHERE_CASES.values(), ids=WHERE_CASES.keys())
def test_where_matches_finite_differences(case, rng):
    condition, shape_x, shape_y = case
    condition = np.asarray(condition) if isinstance(condition, list) else condition
    x, y = sample(rng, shape_x, 0.1, 2.0, True), sample(rng, shape_y, 0.1, 2.0, True)
    check_grads(lambda x, y: ad.where(condition, x, y), x, y, order=2)


@pytest.mark.parametrize("shape", UNARY_SHAPES.values(), ids=UNARY_SHAPES.keys())
@pytest.mark.parametrize("case", POW_CONSTANT.values(), ids=POW_CONSTANT.keys())
def test_pow_with_a_constant_matches_finite_differences(case, shape, rng):
    f, domain = case
    check_grads(f, sample(rng, shape, *domain), order=2)


def test_every_elementwise_primitive_is_covered():
    """A primitive added to scalar.py without a case above makes this fail."""
    declared = {
        p.name for p in vars(S).values() if isinstance(p, Primitive) and p in rules.partials
    }
    # where above; clip (three arguments) in tests/ops/test_elementwise_numpy.py
    assert declared == set(UNARY) | set(BINARY) | {"where", "clip"}


# ---------------------------------------------------------------------------
# Forward values


@pytest.mark.parametrize("shape", UNARY_SHAPES.values(), ids=UNARY_SHAPES.keys())
@pytest.mark.parametrize("name", UNARY)
def test_unary_value_matches_numpy(name, shape, rng):
    f, ref, domain = UNARY[name]
    x = sample(rng, shape, *domain)
    out = f(x)
    assert np.shape(out) == np.shape(x)
    np.testing.assert_allclose(out, ref(np.asarray(x)), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("shapes", BINARY_SHAPES.values(), ids=BINARY_SHAPES.keys())
@pytest.mark.parametrize("name", BINARY)
def test_binary_value_matches_numpy(name, shapes, rng):
    f, ref, _, _ = BINARY[name]
    x, y = binary_args(rng, name, *shapes)
    out = f(x, y)
    want = ref(np.asarray(x), np.asarray(y))
    assert np.shape(out) == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-14)


# ---------------------------------------------------------------------------
# Types: float32 stays float32, Python floats stay Python floats


def _float32_cases() -> dict:
    y = np.array([0.4, 1.1, 0.7], dtype=np.float32)
    c = np.array([[True, False, True], [False, True, False]])
    cases = {name: f for name, (f, _, _) in UNARY.items()}
    for name, (f, *_) in BINARY.items():
        cases[name] = lambda x, f=f: f(x, y)
        cases[f"{name}-python-float"] = lambda x, f=f: f(x, 0.75)
        cases[f"{name}-reflected"] = lambda x, f=f: f(0.75, x)
    for name in ("arcsin", "arccos", "arctanh"):  # inside their domains
        cases[name] = lambda x, f=cases[name]: f(x / 2)
    cases["arccosh"] = lambda x: ad.arccosh(x + 1)
    cases["where"] = lambda x: ad.where(c, x, y)
    cases["where-python-float"] = lambda x: ad.where(c, 0.5, x)
    cases.update({name: f for name, (f, _) in POW_CONSTANT.items()})
    return cases


FLOAT32 = _float32_cases()


@pytest.mark.parametrize("f", FLOAT32.values(), ids=FLOAT32.keys())
def test_float32_is_kept(f):
    x = np.array([[0.3, 0.9, 1.2], [0.6, 1.5, 0.45]], dtype=np.float32)
    assert f(x).dtype == np.float32
    g = ad.grad(lambda x: ad.sum(f(x)))(x)
    assert g.dtype == np.float32
    want = numeric.jacobian(lambda v: np.sum(f(v)), x.astype(np.float64))
    np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "scalar", [np.float32(0.5), np.array(0.5, dtype=np.float32)], ids=["np.float32", "0d"]
)
def test_float32_scalar_cotangent_is_float32(scalar):
    """A Python-float cotangent for a float32 scalar input comes back as float32."""
    _, pullback = ad.vjp(lambda x: x * 2.0, scalar)
    (x_bar,) = pullback(1.0)
    assert np.asarray(x_bar).dtype == np.float32
    assert x_bar == 2.0


@pytest.mark.parametrize("name", UNARY)
def test_python_float_stays_python_float_unary(name):
    f, ref, (low, high, _) = UNARY[name]
    x = 0.7 if low <= 0.7 <= high else (low + high) / 2
    out = f(x)
    assert type(out) is float
    assert out == pytest.approx(float(ref(np.float64(x))), rel=1e-15)
    assert type(ad.grad(f)(x)) is float
    assert type(ad.grad(ad.grad(f))(0.7)) is float
    value, g = ad.value_and_grad(f)(0.7)
    assert type(value) is float and type(g) is float


@pytest.mark.parametrize("name", BINARY)
def test_python_float_stays_python_float_binary(name):
    f = BINARY[name][0]
    assert type(f(0.7, 1.3)) is float
    gx, gy = ad.grad(f, argnums=(0, 1))(0.7, 1.3)
    assert type(gx) is float and type(gy) is float
    assert type(ad.grad(ad.grad(f))(0.7, 1.3)) is float


@pytest.mark.parametrize("case", POW_CONSTANT.values(), ids=POW_CONSTANT.keys())
def test_python_float_stays_python_float_pow(case):
    f, _ = case
    assert type(f(0.7)) is float
    assert type(ad.grad(f)(0.7)) is float


def test_python_float_stays_python_float_where():
    gx, gy = ad.grad(lambda x, y: ad.where(True, x, y), argnums=(0, 1))(0.7, 1.3)
    assert (type(gx), type(gy)) == (float, float)
    assert (gx, gy) == (1.0, 0.0)


def test_int_argument_gives_python_float_gradient():
    assert ad.grad(ad.sin)(1) == pytest.approx(math.cos(1.0), rel=1e-15)
    assert type(ad.grad(ad.sin)(1)) is float


# ---------------------------------------------------------------------------
# Kinks: the documented subgradient, never an exception or NaN


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_kinks_are_documented():
    assert {"abs", "relu", "maximum", "minimum", "sqrt", "pow"} <= set(S.KINKS)


@pytest.mark.usefixtures("no_warnings")
def test_abs_derivative_at_zero_is_zero():
    assert ad.grad(ad.abs)(0.0) == 0.0
    assert ad.grad(ad.abs)(-0.0) == 0.0
    g = ad.grad(lambda x: ad.sum(ad.abs(x)))(np.array([-1.5, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


@pytest.mark.usefixtures("no_warnings")
def test_relu_derivative_at_zero_is_zero():
    assert ad.grad(ad.relu)(0.0) == 0.0
    g = ad.grad(lambda x: ad.sum(ad.relu(x)))(np.array([-1.5, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


@pytest.mark.usefixtures("no_warnings")
def test_relu_second_derivative_at_zero_follows_the_convention():
    """d²/dx² [x · relu(x)] = 2 relu'(x) + x relu''(x) = 0 at 0 with relu'(0) = 0."""
    assert ad.grad(ad.grad(lambda x: x * ad.relu(x)))(0.0) == 0.0


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_of_maximum_and_minimum_split_evenly(name):
    f = BINARY[name][0]
    assert ad.grad(f, argnums=(0, 1))(1.0, 1.0) == (0.5, 0.5)
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    gx, gy = ad.grad(lambda x, y: ad.sum(f(x, y)), argnums=(0, 1))(x, y)
    larger_x = 1.0 if name == "maximum" else 0.0
    np.testing.assert_array_equal(gx, [0.5, larger_x, 1.0 - larger_x])
    np.testing.assert_array_equal(gy, [0.5, 1.0 - larger_x, larger_x])
    # broadcasting: the scalar y ties with two entries of x and collects both halves
    gx, gy = ad.grad(lambda x, y: ad.sum(f(x, y)), argnums=(0, 1))(np.array([1.0, 2.0, 1.0]), 1.0)
    np.testing.assert_array_equal(gx, [0.5, larger_x, 0.5])
    assert gy == 1.0 + (1.0 - larger_x)


def test_sqrt_derivative_at_zero_is_inf():
    with np.errstate(divide="ignore"):
        assert ad.grad(ad.sqrt)(0.0) == math.inf
        g = ad.grad(lambda x: ad.sum(ad.sqrt(x)))(np.array([0.0, 4.0]))
    np.testing.assert_array_equal(g, [math.inf, 0.25])


@pytest.mark.usefixtures("no_warnings")
def test_derivative_of_x_to_the_zero_at_zero_is_zero():
    assert ad.grad(lambda x: x**0.0)(0.0) == 0.0
    assert ad.grad(lambda x: x**0)(0.0) == 0.0
    assert ad.grad(ad.pow, argnums=(0, 1))(0.0, 0.0)[0] == 0.0
    np.testing.assert_array_equal(ad.grad(lambda x: ad.sum(x**0.0))(np.array([0.0, 2.0])), [0, 0])


def test_derivative_of_zero_to_the_y_is_zero_for_positive_y():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for y in (0.5, 1.0, 2.0):
            assert ad.grad(lambda y: 0.0**y)(y) == 0.0
        g = ad.grad(lambda y: ad.sum(ad.pow(np.zeros(2), y)))(np.array([0.5, 2.0]))
        np.testing.assert_array_equal(g, [0.0, 0.0])
    with np.errstate(divide="ignore"):  # d/dx x**0.5 at 0 is inf, the true limit
        assert ad.grad(ad.pow, argnums=(0, 1))(0.0, 0.5) == (math.inf, 0.0)
        assert ad.grad(ad.pow, argnums=(0, 1))(0.0, 2.0) == (0.0, 0.0)


# ---------------------------------------------------------------------------
# Python floats follow numpy's semantics instead of raising


@pytest.mark.parametrize(
    ("f", "args", "want"),
    [
        (ad.truediv, (1.0, 0.0), math.inf),
        (ad.truediv, (-1.0, 0.0), -math.inf),
        (ad.truediv, (1, 0), math.inf),
        (ad.truediv, (0.0, 0.0), math.nan),
        (ad.log, (0.0,), -math.inf),
        (ad.log, (-1.0,), math.nan),
        (ad.log1p, (-1.0,), -math.inf),
        (ad.exp, (1000.0,), math.inf),
        (ad.expm1, (1000.0,), math.inf),
        (ad.sqrt, (-1.0,), math.nan),
        (ad.pow, (-8.0, 1 / 3), math.nan),
        (ad.pow, (0.0, -1.0), math.inf),
        (ad.pow, (10.0, 1000.0), math.inf),
    ],
    ids=[
        "1/0", "-1/0", "int-1/0", "0/0", "log(0)", "log(-1)", "log1p(-1)", "exp(1000)",
        "expm1(1000)", "sqrt(-1)", "(-8)**(1/3)", "0**-1", "10**1000",
    ],
)  # fmt: skip
def test_python_floats_follow_numpy_semantics(f, args, want):
    with np.errstate(all="ignore"):
        out = f(*args)
    assert type(out) is float
    assert out == want or (math.isnan(want) and math.isnan(out))


def test_pow_of_negative_base_is_nan_not_complex_under_grad():
    with np.errstate(all="ignore"):
        value, g = ad.value_and_grad(lambda x: x ** (1 / 3))(-8.0)
    assert type(value) is float and math.isnan(value)
    assert type(g) is float


@pytest.mark.usefixtures("no_warnings")
def test_sigmoid_saturates_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert ad.sigmoid(-1000.0) == 0.0
        assert ad.sigmoid(1000.0) == 1.0
        np.testing.assert_array_equal(ad.sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0, 0.5, 1])
        assert ad.grad(ad.sigmoid)(-1000.0) == 0.0
        assert ad.grad(ad.sigmoid)(1000.0) == 0.0
