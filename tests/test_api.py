"""The user API (adlab/api.py): argument structures, shapes, errors, and the lecture's facts."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import adlab as ad
from adlab.testing import ZOO

# -- argnums and structures ---------------------------------------------------------


def test_argnums_int_and_tuple():
    f = lambda x, y, z: x * y * z  # noqa: E731
    assert ad.grad(f)(2.0, 3.0, 4.0) == 12.0
    assert ad.grad(f, argnums=2)(2.0, 3.0, 4.0) == 6.0
    assert ad.grad(f, argnums=(0, 2))(2.0, 3.0, 4.0) == (12.0, 6.0)
    assert ad.grad(f, argnums=-1)(2.0, 3.0, 4.0) == 6.0


def test_bad_argnums_are_reported():
    with pytest.raises(ValueError, match="argnums=3"):
        ad.grad(lambda x: x, argnums=3)(1.0)
    with pytest.raises(ValueError, match="empty"):
        ad.grad(lambda x: x, argnums=())(1.0)


def test_gradients_have_the_structure_of_their_argument():
    params = {"w": np.array([1.0, 2.0]), "b": (0.5, [3.0])}

    def f(p, x):
        return ad.sum(p["w"] * x) + p["b"][0] * p["b"][1][0]

    g = ad.grad(f)(params, np.array([3.0, 4.0]))
    assert set(g) == {"w", "b"} and isinstance(g["b"], tuple) and isinstance(g["b"][1], list)
    np.testing.assert_array_equal(g["w"], [3.0, 4.0])
    assert g["b"] == (3.0, [0.5])


def test_keyword_arguments_pass_through_undifferentiated():
    assert ad.grad(lambda x, scale=1.0: x * x * scale)(3.0, scale=2.0) == 12.0


def test_ints_are_promoted_and_python_floats_come_back():
    g = ad.grad(lambda x: x * x)(3)
    assert g == 6.0 and type(g) is float
    np.testing.assert_array_equal(ad.grad(lambda x: ad.sum(x * x))(np.arange(3)), [0, 2, 4])


def test_value_and_grad():
    value, g = ad.value_and_grad(lambda x: ad.sum(x**2))(np.array([1.0, 2.0]))
    assert value == 5.0
    np.testing.assert_array_equal(g, [2.0, 4.0])


# -- errors --------------------------------------------------------------------------


def test_grad_of_a_non_scalar_suggests_jacobian():
    with pytest.raises(ad.DifferentiationError, match=r"shape \(3,\); use ad.jacobian or reduce"):
        ad.grad(lambda x: x * 2.0)(np.ones(3))


def test_grad_of_several_outputs_is_refused():
    with pytest.raises(ad.DifferentiationError, match="returned 2 values"):
        ad.grad(lambda x: (x, x))(1.0)


@pytest.mark.parametrize("bad", [lambda x: None, lambda x: "x"])
def test_a_non_numeric_output_is_named(bad):
    with pytest.raises(ad.DifferentiationError, match="must return a float"):
        ad.grad(bad)(1.0)


def test_unknown_modes():
    with pytest.raises(ValueError, match="unknown mode 'backward'"):
        ad.grad(lambda x: x, mode="backward")(1.0)
    assert ad.MODES == ("numeric", "symbolic", "forward", "reverse", "sct")


# -- vjp, jvp, jacobian, hessian, derivative ----------------------------------------------


def test_vjp_with_structured_primals():
    out, pullback = ad.vjp(lambda p: p[0] * p[1], (2.0, 3.0))
    assert out == 6.0 and pullback(1.0) == ((3.0, 2.0),)
    with pytest.raises(ValueError, match="same structure"):
        pullback((1.0, 1.0))
    _, pullback = ad.vjp(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(2,\), but the output .* shape \(3,\)"):
        pullback(np.ones(2))


def test_jvp_by_transposing_the_vjp_equals_jacobian_times_tangent():
    f = ZOO[[z.name for z in ZOO].index("matmul_chain")].f
    rng = np.random.default_rng(1)
    A, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    tA, tx = rng.standard_normal((3, 3)), rng.standard_normal(3)
    _, out_dot = ad.jvp(f, (A, x), (tA, tx), mode="reverse")
    gA, gx = ad.grad(f, argnums=(0, 1))(A, x)
    assert out_dot == pytest.approx(np.sum(gA * tA) + gx @ tx, rel=1e-12)


@pytest.mark.parametrize(
    "f, x, shape",
    [
        (lambda x: x**2, 3.0, ()),
        (lambda x: x * np.arange(3.0), 2.0, (3,)),
        (lambda x: ad.sum(x**2), np.ones(4), (4,)),
        (lambda x: ad.tanh(x) @ np.ones((2, 3)), np.ones((4, 2)), (4, 3, 4, 2)),
    ],
)
def test_jacobian_shape_is_out_shape_plus_in_shape(f, x, shape):
    jac = ad.jacobian(f)(x)
    assert np.shape(jac) == shape
    ad.testing.check_grads(f, x, order=1)


def test_jacobian_of_several_arguments():
    ja, jb = ad.jacobian(lambda a, b: a * b, argnums=(0, 1))(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_array_equal(ja, [[3.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(jb, [1.0, 2.0])


def test_hessian_is_symmetric_and_right():
    rosen = ZOO[[z.name for z in ZOO].index("rosenbrock")]
    (p,) = rosen.args
    h = ad.hessian(rosen.f)(p)
    np.testing.assert_allclose(h, h.T, rtol=1e-12)
    fd = ad.engines.numeric.jacobian(ad.grad(rosen.f), p)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # sqrt'(0) = 0.5 / 0, 0 * inf
def test_jacobian_pulls_each_output_back_alone():
    # the other outputs get no cotangent at all, not zero: 0 * sqrt'(0) = 0 * inf is nan
    assert ad.jacobian(lambda x: (x * 2.0, ad.sqrt(x)))(0.0) == (2.0, math.inf)
    jac = ad.jacobian(lambda x: (x * 2.0, ad.sqrt(x)))(np.zeros(2))
    np.testing.assert_array_equal(jac[0], [[2.0, 0.0], [0.0, 2.0]])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # log of x < 0
def test_hessian_blocks_keep_a_nan_to_their_own_block():
    def f(x, y):
        return x**y

    x, y = -1.5, 2.0  # x < 0: every derivative in y is nan (log x), H_xx = 2 is not
    h = ad.hessian(f, argnums=(0, 1))(x, y)
    jac = ad.engines.numeric.jacobian
    fd = [
        [jac(lambda u, i=i: ad.grad(f, i)(u, y), x), jac(lambda v, i=i: ad.grad(f, i)(x, v), y)]
        for i in (0, 1)
    ]  # fd[i][j] = d(∂f/∂arg_i)/d arg_j
    assert h[0][0] == pytest.approx(2.0)
    np.testing.assert_allclose(np.array(h), np.array(fd, dtype=float), rtol=1e-6)  # nan == nan


def test_derivative_of_a_scalar_function():
    assert ad.derivative(lambda x: x**2 + 4.0 * x, mode="reverse")(2.0) == 8.0
    with pytest.raises(ad.DifferentiationError, match="one scalar"):
        ad.derivative(lambda x: x, mode="reverse")(np.ones(2))


# -- every ZOO function, first and second order -----------------------------------------


@pytest.mark.parametrize("z", ZOO, ids=[z.name for z in ZOO])
def test_zoo_against_finite_differences(z):
    ad.testing.check_grads(z.f, *z.args, order=2)


def test_check_grads_names_the_failing_component():
    wrong = ad.Primitive("wrong_square", lambda x: x * x)

    @wrong.defrule
    def wrong_square_partials(x):
        return (3.0 * x,)  # should be 2x

    with pytest.raises(ad.testing.GradientCheckError) as err:
        ad.testing.check_grads(lambda v: wrong(v), np.array([1.0, 2.0]), order=1)
    message = str(err.value)
    # the worst component is named, with both numbers
    assert "d out[1] / d x0[1] is 6.0 but finite differences give 3.99999" in message
    assert "2 of 4 components disagree" in message


# -- the lecture's checkable facts that the reverse engine can assert (CURRICULUM.md §8) ----


def test_fact_1_gradient_of_x2_plus_xy():
    assert ad.grad(lambda x, y: x**2 + x * y, argnums=(0, 1))(1.0, 2.0) == (4.0, 1.0)


def test_fact_2_the_talks_gradient():
    x, y = Fraction(1, 2), Fraction(-1, 2)
    s = x * x + y * y + 1
    exact = (2 * x * y - 2 * x / s**2, x * x - 2 * y / s**2)
    assert exact == (Fraction(-17, 18), Fraction(25, 36))
    g = ad.grad(lambda x, y: x * x * y + 1 / (x * x + y * y + 1), argnums=(0, 1))(0.5, -0.5)
    assert g == pytest.approx((float(exact[0]), float(exact[1])), abs=1e-15)


def test_fact_18_the_toy_api():
    df = ad.grad(lambda x: x**2)
    assert (df(2.0), df(3.0)) == (4.0, 6.0)


def test_fact_22_nested_x8():
    def x8(x):
        t1 = x * x
        t2 = t1 * t1
        return t2 * t2

    assert [ad.grad(x8)(x) for x in (1.0, 2.0, 3.0)] == [8.0, 1024.0, 17496.0]


def test_fact_27_linear_regression_loop_is_exactly_minus_28():
    def loss(c):
        xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
        total = 0.0
        for x, y in zip(xs, ys):
            total = total + (y - c * x) ** 2
        return total

    assert ad.grad(loss)(1.0) == -28.0


def test_fact_29_30_the_chain_rule_examples():
    uv = lambda u, v: (u + v) * (u - v)  # noqa: E731
    assert ad.grad(uv, argnums=(0, 1))(3.0, 2.0) == (6.0, -4.0)
    assert ad.grad(lambda x, y: x * (x + y), argnums=(0, 1))(2.0, 3.0) == (7.0, 2.0)


def test_fact_33_wengert_steps_of_2x2_3x_1():
    t = ad.trace(lambda x: 2.0 * x * x + 3.0 * x + 1.0, 2.0)
    assert len(t.operations) == 5 and t.backward() == (11.0,)
    assert ad.grad(lambda x: 2.0 * x * x + 3.0 * x + 1.0)(2.0) == 11.0


# -- the rule table ----------------------------------------------------------------------


def test_rule_table_lists_every_primitive_once():
    table = ad.rule_table()
    names = table.column("primitive")
    assert len(names) == len(set(names)) and {"sin", "matmul", "logsumexp", "where"} <= set(names)
    row = dict(zip(names, table.rows))
    assert "cos(x)" in row["sin"][2] and row["abs"][3] == "abs'(0) = 0"
    assert row["sum"][1].startswith("linear") and row["matmul"][1] == "jvp+vjp"
    assert "<table" in table._repr_html_()


def test_jacobian_of_structured_outputs_and_hessian_blocks():
    jac = ad.jacobian(lambda x: (x * 2.0, ad.sum(x**2)))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(jac[0], [[2.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(jac[1], [2.0, 4.0])
    blocks = ad.hessian(lambda x, y: x**2 * y + y**3, argnums=(0, 1))(2.0, 3.0)
    assert blocks == ((6.0, 4.0), (4.0, 18.0))


def _returns_text(x):
    return "text"


def _returns_pair(x):
    return x, 2.0 * x


@pytest.mark.parametrize("mode", ad.api.available_modes())
def test_grad_checks_the_output_the_same_way_in_every_mode(mode):
    with pytest.raises(ad.DifferentiationError, match="returned str"):
        ad.grad(_returns_text, mode=mode)(1.0)
    with pytest.raises(ad.DifferentiationError, match=r"single scalar output.*ad\.jacobian"):
        ad.grad(_returns_pair, mode=mode)(1.0)


def test_compare_shows_every_row_when_the_reference_mode_cannot_differentiate():
    def branchy(x):
        return x * x if x > 0 else -x  # symbolic mode cannot follow the branch

    table = ad.compare(branchy, 2.0, modes=("symbolic", "forward"), reference="symbolic",
                       time=False)  # fmt: skip
    assert table["symbolic"].failure and "symbolically" in table["symbolic"].failure
    assert table["forward"].gradient == 4.0 and table["forward"].error is None
