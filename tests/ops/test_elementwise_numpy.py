"""numpy's elementwise functions a learner's code uses (issue 15), in every engine, to second order.

Each function is called the numpy way (``np.arcsinh(x)`` on traced values), compared with
autograd (values, gradients in forward, reverse, sct and numeric mode, Hessians in nested
modes; see ``tests/ops/oracle.py``) on 0-d, 1-d, 2-d and empty arrays and broadcasting
pairs; each rule passes ``check_rule``; on Python floats every engine agrees with the
others, sct over sct and symbolic mode included; symbolic mode prints and typesets every
function; numpy's keywords (``np.clip(x, min=...)``, ``out=``) are handled or refused
clearly; a function still missing gets the clear error.
"""

from __future__ import annotations

import math
import warnings

import autograd.numpy as anp
import numpy as np
import pytest

import adlab as ad
from adlab.ops import scalar as S
from adlab.testing import check_rule
from tests.ops.oracle import assert_float32_kept, compare, rng_for

# name -> (numpy function, autograd's, (low, high) of each argument)
UNARY = {
    "sinh": (np.sinh, anp.sinh, (-2.0, 2.0)),
    "cosh": (np.cosh, anp.cosh, (-2.0, 2.0)),
    "arcsin": (np.arcsin, anp.arcsin, (-0.9, 0.9)),
    "arccos": (np.arccos, anp.arccos, (-0.9, 0.9)),
    "arctan": (np.arctan, anp.arctan, (-3.0, 3.0)),
    "arcsinh": (np.arcsinh, anp.arcsinh, (-3.0, 3.0)),
    "arccosh": (np.arccosh, anp.arccosh, (1.1, 3.0)),
    "arctanh": (np.arctanh, anp.arctanh, (-0.9, 0.9)),
    "log2": (np.log2, anp.log2, (0.2, 3.0)),
    "log10": (np.log10, anp.log10, (0.2, 3.0)),
    "log1p": (np.log1p, anp.log1p, (-0.5, 2.0)),
    "expm1": (np.expm1, anp.expm1, (-2.0, 2.0)),
    "exp2": (np.exp2, anp.exp2, (-2.0, 2.0)),
    "square": (np.square, anp.square, (-2.0, 2.0)),
    "reciprocal": (np.reciprocal, anp.reciprocal, (0.3, 2.0)),
    "deg2rad": (np.deg2rad, anp.deg2rad, (-90.0, 90.0)),
    "radians": (np.radians, anp.radians, (-90.0, 90.0)),
    "rad2deg": (np.rad2deg, anp.rad2deg, (-2.0, 2.0)),
    "degrees": (np.degrees, anp.degrees, (-2.0, 2.0)),
    "sinc": (np.sinc, anp.sinc, (-2.5, 2.5)),
}
BINARY = {
    "arctan2": (np.arctan2, anp.arctan2, (-2.0, 2.0)),
    "hypot": (np.hypot, anp.hypot, (-2.0, 2.0)),
    "logaddexp": (np.logaddexp, anp.logaddexp, (-2.0, 2.0)),
    "logaddexp2": (np.logaddexp2, anp.logaddexp2, (-2.0, 2.0)),
    "fmax": (np.fmax, anp.fmax, (-2.0, 2.0)),
    "fmin": (np.fmin, anp.fmin, (-2.0, 2.0)),
}
UNARY_SHAPES = {"0d": (), "4": (4,), "2x3": (2, 3), "empty": (0,), "2x0": (2, 0)}
BINARY_SHAPES = {
    "0d-0d": ((), ()),
    "3-3": ((3,), (3,)),
    "2x3-3": ((2, 3), (3,)),
    "3x1-1x4": ((3, 1), (1, 4)),
    "0d-2x3": ((), (2, 3)),
    "empty": ((0,), (0,)),
    "2x0-0": ((2, 0), (0,)),
}


def points(name: str, shape: tuple[int, ...], low: float, high: float, k: int = 0) -> np.ndarray:
    return rng_for(name, shape, k).uniform(low, high, shape)


# ---------------------------------------------------------------------------
# Against autograd: values, gradients and Hessians


@pytest.mark.parametrize("shape", UNARY_SHAPES.values(), ids=UNARY_SHAPES.keys())
@pytest.mark.parametrize("name", UNARY)
def test_unary_agrees_with_autograd(name, shape):
    fn, oracle, domain = UNARY[name]
    compare(fn, oracle, [points(name, shape, *domain)])


@pytest.mark.parametrize("shapes", BINARY_SHAPES.values(), ids=BINARY_SHAPES.keys())
@pytest.mark.parametrize("name", BINARY)
def test_binary_agrees_with_autograd(name, shapes):
    fn, oracle, domain = BINARY[name]
    compare(fn, oracle, [points(name, s, *domain, k) for k, s in enumerate(shapes)])


def autograd_clip(x, low, high):
    return anp.minimum(anp.maximum(x, low), high)  # autograd splits their ties evenly, too


CLIP_SHAPES = {
    "2x3-0d-3": ((2, 3), (), (3,)),
    "4-4-0d": ((4,), (4,), ()),
    "0d-0d-0d": ((), (), ()),
    "3x1-1x2-0d": ((3, 1), (1, 2), ()),
    "empty": ((0,), (), ()),
}


@pytest.mark.parametrize("shapes", CLIP_SHAPES.values(), ids=CLIP_SHAPES.keys())
def test_clip_agrees_with_autograd_in_x_and_in_both_bounds(shapes):
    x = points("clip", shapes[0], -2.0, 2.0)
    low, high = points("low", shapes[1], -1.2, -0.2), points("high", shapes[2], 0.2, 1.2)
    compare(np.clip, autograd_clip, [x, low, high])


@pytest.mark.parametrize("shape", [(), (5,)], ids=["0d", "5"])
def test_sinc_near_zero_agrees_with_autograd(shape):
    # both sides of |x| = 0.1, where adlab's partial switches to its Taylor series
    compare(np.sinc, anp.sinc, [points("sinc0", shape, -0.3, 0.3)], rtol=1e-9)


# ---------------------------------------------------------------------------
# check_rule: every new rule against finite differences, forward against reverse

RULES = {
    **{name: (getattr(ad, name), [domain]) for name, (_, _, domain) in UNARY.items()
       if hasattr(ad, name)},
    **{name: (getattr(ad, name), [domain, domain]) for name, (_, _, domain) in BINARY.items()},
    "clip": (S.clip, [(-2.0, 2.0), (-1.2, -0.2), (0.2, 1.2)]),
    "div_or_zero": (S.div_or_zero, [(-2.0, 2.0), (0.5, 2.0)]),
}  # fmt: skip


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=["0d", "3", "2x3"])
@pytest.mark.parametrize("name", RULES)
def test_check_rule(name, shape):
    prim, domains = RULES[name]
    args = [points(f"rule-{name}", shape, *d, k) for k, d in enumerate(domains)]
    assert check_rule(prim, *args).ok


def test_check_rule_with_broadcasting_operands():
    x, y = points("b", (2, 3), -2.0, 2.0), points("b", (3,), 0.5, 2.0, 1)
    for prim in (ad.hypot, ad.arctan2, ad.logaddexp, ad.logaddexp2, S.div_or_zero):
        assert check_rule(prim, x, y).ok
    assert check_rule(S.clip, x, np.array(-0.5), np.full(3, 0.7)).ok


def test_the_aliases_are_the_same_primitives():
    assert np.radians in ad.deg2rad.stands_for and np.degrees in ad.rad2deg.stands_for
    assert ad.grad(lambda x: np.radians(x))(30.0) == ad.grad(ad.deg2rad)(30.0) == math.pi / 180


# ---------------------------------------------------------------------------
# Python floats: every engine, and sct over sct and symbolic mode to second order

# Python floats, through every engine: named functions, so sct reads their source (and sct
# over sct differentiates code without calls of other functions of the user's)


def sinh_x(x):
    return np.sinh(x) * x


def cosh_x(x):
    return np.cosh(x) * x


def arcsin_x(x):
    return np.arcsin(x) * x


def arccos_x(x):
    return np.arccos(x) * x


def arctan_x(x):
    return np.arctan(x) * x


def arcsinh_x(x):
    return np.arcsinh(x) * x


def arccosh_x(x):
    return np.arccosh(x) * x


def arctanh_x(x):
    return np.arctanh(x) * x


def log2_x(x):
    return np.log2(x) * x


def log10_x(x):
    return np.log10(x) * x


def exp2_x(x):
    return np.exp2(x) * x


def square_x(x):
    return np.square(x) * x


def reciprocal_x(x):
    return np.reciprocal(x) * x * x * x


def sin_deg2rad(x):
    return np.sin(np.deg2rad(x))


def rad2deg_x(x):
    return np.rad2deg(x) * x


def sinc_x(x):
    return np.sinc(x) * x


def sinc(x):
    return np.sinc(x)


def arctan2_x(x):
    return np.arctan2(x, x * x + 0.5)


def hypot_x(x):
    return np.hypot(x, 2.0 * x + 1.0)


def logaddexp_x(x):
    return np.logaddexp(x, x * x)


def logaddexp2_x(x):
    return np.logaddexp2(x, x * x)


def fmax_x(x):
    return np.fmax(x * x, 0.2) * x


def fmin_x(x):
    return np.fmin(x * x, 0.2) * x


def clip_x(x):
    return np.clip(x * x, 0.1, 0.4) * x


SCALAR = {
    sinh_x: 0.7, cosh_x: 0.7, arcsin_x: 0.4, arccos_x: 0.4, arctan_x: 0.7, arcsinh_x: 0.7,
    arccosh_x: 1.7, arctanh_x: 0.4, log2_x: 0.7, log10_x: 0.7, exp2_x: 0.7, square_x: 0.7,
    reciprocal_x: 0.7, sin_deg2rad: 30.0, rad2deg_x: 0.7, sinc_x: 0.7, sinc: 0.0,
    arctan2_x: 0.7, hypot_x: 0.7, logaddexp_x: 0.7, logaddexp2_x: 0.7, fmax_x: 0.7,
    fmin_x: 0.7, clip_x: 0.5,
}  # fmt: skip


@pytest.mark.parametrize("f", SCALAR, ids=lambda f: f.__name__)
def test_every_engine_agrees_on_python_floats(f):
    x = SCALAR[f]
    want = ad.grad(f, mode="reverse")(x)
    assert type(want) is float
    for mode in ("symbolic", "forward", "sct"):
        assert ad.grad(f, mode=mode)(x) == pytest.approx(want, rel=1e-12, abs=1e-15), mode
    assert ad.grad(f, mode="numeric")(x) == pytest.approx(want, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("f", SCALAR, ids=lambda f: f.__name__)
def test_second_derivatives_of_python_floats_in_every_nesting(f):
    x = SCALAR[f]
    want = ad.hessian(f, mode=("forward", "reverse"))(x)
    for mode in ("reverse", "forward", "symbolic", "sct", ("reverse", "sct"), ("forward", "sct")):
        if mode == "sct" and f is clip_x:
            continue  # below
        got = ad.hessian(f, mode=mode)(x)
        assert got == pytest.approx(want, rel=1e-10, abs=1e-12), mode
    by_differences = ad.derivative(ad.grad(f), mode="numeric")(x)
    assert want == pytest.approx(by_differences, rel=1e-5, abs=1e-6)


def test_sct_over_sct_refuses_clip_as_it_refuses_array_functions():
    # np.clip is a function of the table with numpy's signature (None bounds, min=/max=):
    # sct applies its rule at run time, which sct over sct cannot follow, and says so
    with pytest.raises(ad.DifferentiationError, match=r"sct over sct.*mode=\('reverse', 'sct'\)"):
        ad.hessian(clip_x, mode="sct")(0.5)


def test_sinc_at_zero_has_its_limits_as_derivatives():
    assert ad.grad(np.sinc)(0.0) == 0.0
    want = -(math.pi**2) / 3  # sinc(x) = 1 − (πx)²/6 + …
    for mode in ("forward", "reverse", "symbolic", ("forward", "reverse")):
        assert ad.hessian(np.sinc, mode=mode)(0.0) == pytest.approx(want, rel=1e-14)
    third = ad.derivative(ad.derivative(ad.derivative(np.sinc)))(0.0)
    assert third == 0.0  # sinc is even
    fourth = ad.derivative(ad.derivative(ad.derivative(ad.derivative(np.sinc))))(0.0)
    assert fourth == pytest.approx(math.pi**4 / 5, rel=1e-12)


def by_math(x):
    return math.asinh(x) + math.atan2(x, 2.0) + math.hypot(x, 1.0) + math.log2(x) + math.degrees(x)


def by_numpy(x):
    return np.arcsinh(x) + np.arctan2(x, 2.0) + np.hypot(x, 1.0) + np.log2(x) + np.degrees(x)


def test_sct_reads_math_functions_as_the_table():
    # (on traced values math.* would drop the value: only sct, which reads the source, maps them)
    g = ad.sct.grad(by_math)
    assert g(0.7) == pytest.approx(ad.grad(by_numpy)(0.7), rel=1e-14)
    assert "ad.arcsinh(x)" in g.source and "div_or_zero(2.0, 4.0 + x * x)" in g.source


# ---------------------------------------------------------------------------
# Symbolic mode: names and LaTeX are data on the primitive

LATEX = {
    "sinh": r"\sinh\left(x\right)",
    "cosh": r"\cosh\left(x\right)",
    "arcsin": r"\arcsin\left(x\right)",
    "arccos": r"\arccos\left(x\right)",
    "arctan": r"\arctan\left(x\right)",
    "arcsinh": r"\operatorname{arcsinh}\left(x\right)",
    "log2": r"\log_{2}\left(x\right)",
    "log10": r"\log_{10}\left(x\right)",
    "exp2": "2^{x}",
    "square": r"\left(x\right)^{2}",
    "reciprocal": r"\dfrac{1}{x}",
    "sinc": r"\operatorname{sinc}\left(x\right)",
}


@pytest.mark.parametrize("name", LATEX)
def test_symbolic_mode_prints_and_typesets_each_function(name):
    x = ad.symbols("x")
    e = getattr(np, name)(x)
    assert str(e) == f"{name}(x)" and e.latex() == LATEX[name]


def test_symbolic_derivatives_read_as_the_textbook():
    x, y = ad.symbols("x y")
    assert str(np.sinh(x).diff(x)) == "cosh(x)"
    assert str(np.square(x).diff(x)) == "2.0 * x"
    assert str(np.arctan(x).diff(x)) == "1.0 / (1.0 + x * x)"
    assert str(np.hypot(x, y).diff(x)) == "div_or_zero(x, hypot(x, y))"
    assert str(np.clip(x, 0.0, 1.0).diff(x)) == "step(1.0, maximum(x, 0.0)) * step(x, 0.0)"
    assert str(np.logaddexp(x, y).diff(y)) == "exp(y - logaddexp(x, y))"


def test_symbolic_mode_refuses_numpy_keywords_clearly():
    x = ad.symbols("x")
    with pytest.raises(ad.DifferentiationError, match=r"np\.clip\(\.\.\., a_min=\.\.\., a_max="):
        np.clip(x, a_min=0.0, a_max=1.0)
    assert str(ad.clip(x, None, 1.0)) == "clip(x, float('-inf'), 1.0)"


# ---------------------------------------------------------------------------
# numpy's keywords and spellings for clip; dtypes


def test_clip_takes_numpy_spellings():
    x = np.array([-2.0, 0.3, 0.9, 3.0])
    grads = {
        "np.clip": ad.grad(lambda v: ad.sum(np.clip(v, 0.0, 1.0)))(x),
        "a_min=": ad.grad(lambda v: ad.sum(np.clip(v, a_min=0.0, a_max=1.0)))(x),
        "min=": ad.grad(lambda v: ad.sum(np.clip(v, min=0.0, max=1.0)))(x),
        "method": ad.grad(lambda v: ad.sum(v.clip(0.0, 1.0)))(x),
        "method min=": ad.grad(lambda v: ad.sum(v.clip(min=0.0, max=1.0)))(x),
    }
    for how, g in grads.items():
        np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 0.0], err_msg=how)
    only_low = ad.grad(lambda v: ad.sum(np.clip(v, 0.0, None)))(x)
    np.testing.assert_array_equal(only_low, [0.0, 1.0, 1.0, 1.0])
    only_high = ad.grad(lambda v: ad.sum(v.clip(max=1.0)))(x)
    np.testing.assert_array_equal(only_high, [1.0, 1.0, 1.0, 0.0])


def clip_by_method(x):
    return ad.sum(x.clip(0.0, 1.0) * x)


def test_sct_reaches_clip_as_a_method_and_as_numpy():
    x = np.array([-2.0, 0.3, 0.9, 3.0])
    want = ad.grad(clip_by_method)(x)
    np.testing.assert_array_equal(ad.sct.grad(clip_by_method)(x), want)
    assert "ad.clip" in ad.sct.grad(clip_by_method).source


def test_clip_refuses_a_bound_given_twice_and_out():
    x = np.array([0.5])
    with pytest.raises(ValueError, match="a_min or min, not both"):
        ad.grad(lambda v: ad.sum(np.clip(v, a_min=0.0, min=0.0)))(x)
    with pytest.raises(ad.DifferentiationError, match=r"np\.clip\(\.\.\., out=\.\.\.\).*assign"):
        ad.grad(lambda v: ad.sum(np.clip(v, 0.0, 1.0, out=np.empty(1))))(x)
    with pytest.raises(ad.DifferentiationError, match=r"x\.clip\(\.\.\., out=\.\.\.\)"):
        ad.grad(lambda v: ad.sum(v.clip(0.0, 1.0, out=np.empty(1))))(x)


FLOAT32 = {
    **{name: fn for name, (fn, _, _) in UNARY.items()},
    **{name: (lambda x, fn=fn: fn(x, np.float32(0.4) + x * x))
       for name, (fn, _, _) in BINARY.items()},
    "clip": lambda x: np.clip(x, 0.1, 0.3),
    "clip-array-bounds": lambda x: np.clip(x, np.zeros(3, np.float32), x * x),
}  # fmt: skip


def float32_points(name):
    x = np.array([0.2, 0.35, 0.5], dtype=np.float32)
    if name == "arccosh":
        return x + np.float32(1.5)
    return x * np.float32(90) if name in ("deg2rad", "radians") else x


@pytest.mark.parametrize("name", FLOAT32)
def test_float32_stays_float32(name):
    assert_float32_kept(FLOAT32[name], float32_points(name))


def float32_by_sct(v):
    return ad.sum(np.arcsinh(v) * np.hypot(v, 0.5) + np.clip(v, 0.3, 0.4) * np.sinc(v))


def test_float32_stays_float32_in_sct():
    x = np.array([0.2, 0.35, 0.5], dtype=np.float32)
    assert ad.grad(float32_by_sct, mode="sct")(x).dtype == np.float32
    assert ad.hessian(float32_by_sct, mode=("forward", "sct"))(x).dtype == np.float32


def test_python_ints_become_python_floats():
    assert type(ad.arctan2(1, 2)) is float and type(ad.hypot(3, 4)) is float
    assert type(ad.clip(5, 0, 1)) is float and type(ad.sinc(0)) is float


# ---------------------------------------------------------------------------
# Kinks: second order at the tips, no nan; a function still missing


def hypot(x, y):
    return np.hypot(x, y)


def arctan2(y, x):
    return np.arctan2(y, x)


@pytest.mark.parametrize("mode", [("forward", "reverse"), "reverse", "forward", "sct"], ids=str)
def test_hypot_and_arctan2_at_the_origin_have_zero_derivatives_to_second_order(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (hypot, arctan2):
            h = np.array(ad.hessian(f, argnums=(0, 1), mode=mode)(0.0, 0.0))
            np.testing.assert_array_equal(h, np.zeros((2, 2)))


def test_clip_splits_at_the_bounds_on_arrays():
    x = np.array([0.0, 0.5, 1.0, 2.0])
    low, high = np.zeros(4), np.ones(4)
    gx, gl, gh = ad.grad(lambda x, a, b: ad.sum(np.clip(x, a, b)), argnums=(0, 1, 2))(x, low, high)
    np.testing.assert_array_equal(gx, [0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(gl, [0.5, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gh, [0.0, 0.0, 0.5, 1.0])


def test_fmax_and_fmin_take_the_number_where_the_other_is_nan():
    x, y = np.array([1.0, np.nan, 3.0]), np.array([np.nan, 2.0, 1.0])
    gx, gy = ad.grad(lambda x, y: ad.sum(np.fmax(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [0.0, 1.0, 0.0])
    gx, gy = ad.grad(lambda x, y: ad.sum(np.fmin(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(gy, [0.0, 1.0, 1.0])


@pytest.mark.parametrize("mode", ["forward", "reverse", "sct", "symbolic"])
def test_sign_and_steps_have_zero_derivative(mode):
    def f(x):
        return x * np.sign(x) + np.floor(x) * x + np.heaviside(x, 0.5) * x

    x = 1.5
    assert ad.grad(f, mode=mode)(x) == 1.0 + 1.0 + 1.0


def cube_root(x):
    return np.cbrt(x)


@pytest.mark.parametrize("mode", ["forward", "reverse", "sct", "symbolic"])
def test_a_function_still_missing_gets_the_clear_error(mode):
    with pytest.raises(ad.DifferentiationError, match=r"np\.cbrt"):
        ad.grad(cube_root, mode=mode)(8.0)
