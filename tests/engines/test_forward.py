"""Forward mode: dual numbers with tags, chunks of directions, nesting with every engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

import adlab as ad
from adlab.core import rules
from adlab.engines import forward
from adlab.engines.forward import Dual, Partials
from adlab.testing import ZOO

# -- dual numbers by hand ---------------------------------------------------------------


def test_a_dual_computes_value_and_derivative_together():
    d = Dual(2.0, 1.0)
    out = d * d + 4.0 * d  # x² + 4x: the talk's ForwardDiff example (fact 16)
    assert (out.value, out.tangent) == (12.0, 8.0)
    assert repr(out) == "Dual(12.0, 8.0)"


def test_fact_17_dual_sine_is_bit_identical_to_the_cosine():
    out = ad.sin(Dual(math.pi / 3, 1.0))
    assert out.tangent == math.cos(math.pi / 3) == 0.5000000000000001


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "cos", "tan", "sigmoid"])
def test_f_of_a_plus_epsilon_is_f_a_plus_f_prime_a_epsilon(name):
    f = getattr(ad, name)
    x = 0.7
    out = f(Dual(x, 1.0))
    assert out.value == f(x)
    assert out.tangent == pytest.approx(ad.numeric.central_difference(f, x), rel=1e-8)


def test_real_and_integer_powers_and_division():
    x = Dual(1.5, 1.0)
    for out, want in [
        (x**3, 3 * 1.5**2),
        (x**0.5, 0.5 / math.sqrt(1.5)),
        (2.0**x, math.log(2.0) * 2.0**1.5),
        (1.0 / x, -1 / 1.5**2),
        (x**x, 1.5**1.5 * (math.log(1.5) + 1)),
    ]:
        assert out.tangent == pytest.approx(want, rel=1e-14)


def test_duals_work_with_numpy_and_keep_the_dtype():
    x = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    d = Dual(x, np.ones(3, np.float32), tag=ad.core.primitive.new_level())
    out = np.sum(np.sin(d) * d.T) + (d @ d)
    assert out.dtype == np.float32 and out.tangent.dtype == np.float32
    want = np.sum(np.cos(x) * x + np.sin(x)) + 2 * np.sum(x)
    assert out.tangent == pytest.approx(want, rel=1e-6)
    assert d[1:].tangent.tolist() == [1.0, 1.0]


def test_constructs_that_would_drop_the_tangent_are_refused():
    d = Dual(0.5, 1.0)
    with pytest.raises(ad.DifferentiationError, match="dual number"):
        math.sin(d)
    with pytest.raises(ad.DifferentiationError, match=r"x\.value"):
        float(d)
    with pytest.raises(ad.DifferentiationError, match="item assignment"):
        Dual(np.ones(2), np.ones(2))[0] = 1.0


def test_a_primitive_without_a_forward_rule_names_itself():
    only_reverse = ad.Primitive("only_reverse", lambda x: 2.0 * x)
    rules.defvjp(only_reverse, lambda out, args, wrt: lambda g: (2.0 * g,))
    with pytest.raises(ad.DifferentiationError, match="'only_reverse' has no forward-mode rule"):
        ad.derivative(only_reverse, mode="forward")(1.0)
    assert ad.grad(only_reverse)(1.0) == 2.0


def test_branches_on_a_dual_follow_its_value():
    def f(x):
        return x * x if x > 0 else -x

    assert ad.derivative(f)(3.0) == 6.0 and ad.derivative(f)(-3.0) == -1.0


def test_the_tangent_must_have_the_primal_shape():
    with pytest.raises(ValueError, match="a tangent has its primal's shape"):
        forward.jvp(lambda x: (x,), (np.ones(3),), (np.ones(2),))


# -- nesting and perturbation confusion --------------------------------------------------

ENGINES = ["forward", "reverse"]


@pytest.mark.parametrize("outer", ENGINES)
@pytest.mark.parametrize("inner", ENGINES)
def test_perturbation_confusion_does_not_happen(outer, inner):
    """d/dx [x · (d/dy (x + y))(y = 1)] = 1 at x = 1: the inner derivative is 1, whatever x is."""

    def f(x):
        return x * ad.derivative(lambda y: x + y, mode=inner)(1.0)

    assert ad.derivative(f, mode=outer)(1.0) == 1.0
    assert ad.grad(f, mode=outer)(1.0) == 1.0


def test_without_tags_the_perturbations_are_confused():
    """Textbook duals share one tag: the inner derivative sees x's perturbation too."""

    def d(f):
        return forward.derivative(f, tagged=False)

    assert d(lambda x: x * d(lambda y: x + y)(1.0))(1.0) == 2.0  # wrong: the answer is 1
    by_hand = (lambda x: x * (x + Dual(1.0, 1.0)).tangent)(Dual(1.0, 1.0))
    assert by_hand.tangent == 2.0


def test_second_derivatives_in_every_combination():
    f = next(z for z in ZOO if z.name == "five_well")
    want = ad.hessian(f.f, argnums=(0, 1), mode="reverse")(*f.args)
    for mode in [("forward", "forward"), ("forward", "reverse"), ("reverse", "forward")]:
        got = ad.hessian(f.f, argnums=(0, 1), mode=mode)(*f.args)
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-10, err_msg=str(mode))


def test_third_derivative_forward_over_forward_over_forward():
    d = ad.derivative
    assert d(d(d(ad.sin)))(0.3) == pytest.approx(-math.cos(0.3), rel=1e-15)


# -- chunks: several directions per pass -------------------------------------------------


def test_one_pass_carries_a_chunk_of_directions():
    outs, dots = forward.jvp_chunk(
        lambda x, y: (x * y, ad.sin(x)), (2.0, 3.0), [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    )
    assert outs == (6.0, math.sin(2.0))
    assert dots == [(3.0, math.cos(2.0)), (2.0, 0.0), (5.0, math.cos(2.0))]


def test_a_partials_tangent_goes_through_array_rules():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    d = Dual(x, Partials([np.eye(2), np.ones((2, 2))]), tag=ad.core.primitive.new_level())
    out = ad.sum(d @ d, axis=0)
    for t, direction in zip(out.tangent, (np.eye(2), np.ones((2, 2)))):
        np.testing.assert_allclose(t, np.sum(direction @ x + x @ direction, axis=0))


@pytest.mark.parametrize("chunk", [1, 3, 8, 20])
def test_forward_jacobians_take_ceil_n_over_chunk_passes(chunk):
    n = 20
    x = np.linspace(-1.0, 1.0, n)
    f = lambda v: ad.sin(v) * ad.sum(v**2)  # noqa: E731
    with ad.counting() as cost:
        got = ad.jacobian(f, mode="forward", chunk=chunk)(x)
    assert cost.passes == math.ceil(n / chunk) == cost.calls
    np.testing.assert_allclose(got, ad.jacobian(f)(x), rtol=1e-13)


def test_fact_32_forward_needs_n_passes_and_reverse_m_sweeps():
    x = np.linspace(0.0, 1.0, 1000)
    sum_of_squares = lambda v: ad.sum(v**2)  # noqa: E731  R^1000 -> R
    with ad.counting() as fwd:
        g_fwd = ad.jacobian(sum_of_squares, mode="forward")(x)
    with ad.counting() as rev:
        g_rev = ad.jacobian(sum_of_squares, mode="reverse")(x)
    assert (fwd.passes, fwd.sweeps) == (1000, 0)
    assert (rev.passes, rev.sweeps) == (1, 1)
    np.testing.assert_array_equal(g_fwd, g_rev)

    spread = lambda t: t * x  # noqa: E731  R -> R^1000
    with ad.counting() as fwd:
        ad.jacobian(spread, mode="forward")(2.0)
    with ad.counting() as rev:
        ad.jacobian(spread, mode="reverse")(2.0)
    assert (fwd.passes, rev.sweeps) == (1, 1000)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("chunk", [0, 1.5, True])
def test_bad_chunks_are_refused_in_every_mode(mode, chunk):
    with pytest.raises(ValueError, match="chunk must be a positive int"):
        ad.jacobian(lambda x: x, mode=mode, chunk=chunk)


# -- the lecture's facts ---------------------------------------------------------------


def test_fact_2_the_talks_gradient_to_one_ulp():
    g = ad.grad(lambda x, y: x * x * y + 1 / (x * x + y * y + 1), (0, 1), mode="forward")
    gx, gy = g(0.5, -0.5)
    assert abs(gx - (-17 / 18)) <= math.ulp(17 / 18) and abs(gy - 25 / 36) <= math.ulp(25 / 36)


def test_fact_16_forwarddiff_example():
    assert ad.derivative(lambda x: x**2 + 4 * x)(2.0) == 8.0


def test_fact_27_the_regression_loop_is_exactly_minus_28():
    loss = next(z for z in ZOO if z.name == "regression_loop").f
    assert ad.derivative(loss)(1.0) == -28.0 and ad.grad(loss, mode="forward")(1.0) == -28.0


@pytest.mark.parametrize("chunk", [1, 2])
def test_a_zero_tangent_meets_an_infinite_partial_as_zero(chunk):
    """sqrt'(0) = inf must not leak into the other input's column (0 · inf would be nan)."""
    jac = ad.jacobian(lambda x, y: ad.sqrt(x) + y, argnums=(0, 1), mode="forward", chunk=chunk)
    assert jac(0.0, 1.0) == (math.inf, 1.0)
    with np.errstate(divide="ignore"):
        g = ad.grad(lambda v: ad.sum(ad.sqrt(v)), mode="forward")(np.array([0.0, 4.0]))
    np.testing.assert_array_equal(g, [math.inf, 0.25])
