"""The numeric engine: difference quotients, exact stencils, methods, step sizes, call counts,
and the jvp / vjp protocol. Fact numbers refer to section 8 of CURRICULUM.md."""

from __future__ import annotations

import ast
import math
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from adlab.engines import numeric
from adlab.engines.numeric import (
    EPS,
    CountingFunction,
    best_step,
    central_difference,
    count_calls,
    error_sweep,
    fdm,
    forward_difference,
    gradient,
    jacobian,
    stencil,
)

# -- difference quotients (facts 5, 6) ---------------------------------------------


def test_forward_difference_has_the_textbook_bits():
    assert forward_difference(lambda x: x**2, 2.0, h=1e-8) == 3.999999975690116  # fact 5
    assert forward_difference(np.sin, np.pi / 3, h=1e-8) == 0.4999999969612645  # fact 6
    assert math.cos(math.pi / 3) == 0.5000000000000001


def test_backward_and_central_differences_are_their_formulas():
    assert numeric.backward_difference(lambda x: x**2, 2.0, h=0.5) == (4.0 - 2.25) / 0.5
    assert central_difference(lambda x: x**3, 1.0, h=0.5) == (3.375 - 0.125) / 1.0
    assert central_difference(np.sin, 1.0) == (np.sin(1.0 + 1e-5) - np.sin(1.0 - 1e-5)) / 2e-5


# -- the error sweep (fact 7) -----------------------------------------------------------


def test_forward_error_sweep_of_sin_at_pi_over_3():
    hs, errors = error_sweep(
        np.sin, np.pi / 3, np.cos(np.pi / 3), hs=0.1 ** np.arange(4, 10.01, 0.5)
    )
    assert hs.shape == errors.shape == (13,)
    best = int(np.argmin(errors))
    assert hs[best] == pytest.approx(1e-8, rel=1e-12)
    assert errors[best] == pytest.approx(3.04e-9, rel=0.01)
    assert hs[0] == pytest.approx(1e-4) and errors[0] == pytest.approx(4.33e-5, rel=0.01)
    # truncation regime: error ≈ 0.433·h (|f''|/2 = sin(π/3)/2)
    assert errors[:5] / hs[:5] == pytest.approx(np.sin(np.pi / 3) / 2, rel=1e-3)


def test_error_sweep_has_a_default_grid_and_takes_any_method():
    hs, errors = error_sweep(np.sin, 1.0, np.cos(1.0), method=fdm(5, 1))
    assert hs[0] == 1.0 and hs[-1] < 1e-15 and np.all(np.diff(hs) < 0)
    assert errors.min() < 1e-12


# -- stencils (fact 10) ---------------------------------------------------------------

FACT_10 = {
    2: (F(-1, 2), F(0), F(1, 2)),
    4: (F(1, 12), F(-2, 3), F(0), F(2, 3), F(-1, 12)),
    6: (F(-1, 60), F(3, 20), F(-3, 4), F(0), F(3, 4), F(-3, 20), F(1, 60)),
    8: (F(1, 280), F(-4, 105), F(1, 5), F(-4, 5), F(0), F(4, 5), F(-1, 5), F(4, 105), F(-1, 280)),
    10: (F(-1, 1260), F(5, 504), F(-5, 84), F(5, 21), F(-5, 6), F(0),
         F(5, 6), F(-5, 21), F(5, 84), F(-5, 504), F(1, 1260)),
}  # fmt: skip


@pytest.mark.parametrize("n", sorted(FACT_10))
def test_central_stencil_weights_are_exact(n):
    offsets = range(-n // 2, n // 2 + 1)
    weights = stencil(offsets, 1)
    assert weights == FACT_10[n]
    assert all(type(w) is F for w in weights)
    # and numpy's floating solve of the same Vandermonde system agrees
    A = np.array([[float(r) ** i for r in offsets] for i in range(n + 1)])
    e = np.zeros(n + 1)
    e[1] = 1.0
    assert np.abs(np.linalg.solve(A, e) - np.array(weights, dtype=float)).max() < 1e-12


def test_stencils_for_other_orders_and_offsets():
    assert stencil([-1, 0, 1], 2) == (1, -2, 1)  # k! folded in: the classic second difference
    assert stencil([-2, -1, 0, 1, 2], 2) == (F(-1, 12), F(4, 3), F(-5, 2), F(4, 3), F(-1, 12))
    assert stencil([0, 1], 1) == (-1, 1)
    assert stencil([0, 1, 2], 1) == (F(-3, 2), 2, F(-1, 2))
    assert stencil([F(-1, 2), F(1, 2)], 1) == (-1, 1)
    assert stencil((np.int64(-1), np.int64(1)), 1) == (F(-1, 2), F(1, 2))
    # every stencil matches Taylor: Σ w r^i = k!·[i = k] below the point count
    for offsets, k in [([-3, -1, 0, 2, 5], 3), ([0, 1, 2, 3], 2), ([-1, F(1, 3), 2], 1)]:
        w = stencil(offsets, k)
        for i in range(len(offsets)):
            moment = sum(wj * F(r) ** i for wj, r in zip(w, offsets))
            assert moment == (math.factorial(k) if i == k else 0)


@pytest.mark.parametrize(
    "offsets, order, words",
    [
        ([-1, 0, 1], 3, "more points than the order"),
        ([-1, 1], -1, "order >= 0"),
        ([-1, 1], 1.0, "integer order"),
        ([0, 1, 1], 1, "distinct; 1 repeat"),
        ([-0.5, 0.5], 1, "Fraction(1, 2)"),
        ([], 1, "at least one offset"),
    ],
)
def test_bad_stencils_are_refused_with_the_reason(offsets, order, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        stencil(offsets, order)


# -- methods -------------------------------------------------------------------------


def test_five_point_method_on_sin(fact=15):
    method = fdm(5, 1)
    assert method.offsets == (-2, -1, 0, 1, 2)
    assert method.weights == FACT_10[4]
    assert (method.order, method.accuracy, method.kind) == (1, 4, "central")
    assert method.error_constant == F(-1, 30)
    assert abs(method(np.sin, np.pi / 3, h=5e-4) - 0.5) < 2e-13
    assert abs(method(np.sin, np.pi / 3, h=1e-3) - 0.5) < 2e-13
    assert abs(method(np.sin, np.pi / 3) - 0.5) < 2e-13  # the default step too


def test_method_layouts_and_accuracy_orders():
    assert fdm(2, 1).offsets == (-1, 1) and fdm(2, 1).accuracy == 2
    assert fdm(3, 1, kind="forward").offsets == (0, 1, 2)
    assert fdm(3, 1, kind="forward").accuracy == 2 and fdm(3, 1, kind="forward").kind == "forward"
    assert fdm(3, 1, kind="backward").offsets == (-2, -1, 0)
    assert (
        fdm(3, 2).accuracy == 2
        and fdm(4, 3).accuracy == 2
        and fdm(4, 2, kind="forward").accuracy == 2
    )
    assert fdm([-1, 0, 2], 1).kind == "custom" and fdm([-1, 0, 2], 1).accuracy == 2
    assert fdm([F(-1, 2), F(1, 2)], 1).offsets == (F(-1, 2), F(1, 2))


@pytest.mark.parametrize(
    "points, order, f, x, exact, tol",
    [
        (3, 2, np.sin, 1.0, -np.sin(1.0), 1e-7),
        (5, 2, np.sin, 1.0, -np.sin(1.0), 1e-9),
        (5, 3, np.sin, 1.0, -np.cos(1.0), 1e-6),
        (5, 3, np.exp, 0.5, np.exp(0.5), 1e-6),
        (7, 3, np.exp, 2.0, np.exp(2.0), 1e-5),
        (7, 4, np.sin, 1.0, np.sin(1.0), 1e-4),
        (4, 2, np.exp, 1.0, np.exp(1.0), 1e-6),
    ],
)
def test_higher_derivatives_are_scaled_by_k_factorial_over_h_to_the_k(
    points, order, f, x, exact, tol
):
    method = fdm(points, order)
    assert abs(method(f, x) - exact) < tol * max(1.0, abs(exact))


def test_second_derivative_by_hand_step():
    value = fdm(3, 2)(np.sin, np.pi / 3, h=1e-4)
    assert value == pytest.approx(-np.sin(np.pi / 3), abs=1e-7)
    assert fdm(3, 2)(lambda x: x**2, 3.0, h=0.5) == 2.0


def test_default_step_rule():
    # central difference: h = (k·ε·Σ|w| / (p·|C|))^(1/(p+k)) = (ε·1 / (2/6))^(1/3) = (3ε)^(1/3)
    assert fdm(3, 1).step_factor == pytest.approx((3 * EPS) ** (1 / 3), rel=1e-12)
    # second difference: Σ|w| = 4, C = 1/12, p = k = 2 → (2·4ε / (2/12))^(1/4) = (48ε)^(1/4)
    assert fdm(3, 2).step_factor == pytest.approx((48 * EPS) ** 0.25, rel=1e-12)
    method = fdm(5, 1)
    assert method.step(0.5) == method.step_factor
    assert method.step(-1000.0) == pytest.approx(1000.0 * method.step_factor)
    assert np.allclose(
        method.step(np.array([0.1, 10.0])), [method.step_factor, 10 * method.step_factor]
    )
    # scale-aware: f'(x) for x ~ 1e6 is still accurate
    assert method(np.log, 1e6) == pytest.approx(1e-6, rel=1e-8)


def test_methods_skip_points_of_zero_weight():
    _, calls = count_calls(fdm(5, 1), np.sin, 1.0)
    assert calls == 4
    _, calls = count_calls(fdm(3, 2), np.sin, 1.0)
    assert calls == 3
    _, calls = count_calls(fdm(5, 1).estimate, np.sin, 1.0)
    assert calls == 8  # steps h and 2h


def test_error_estimate_covers_the_actual_error():
    for method, f, x, exact in [
        (fdm(5, 1), np.sin, 1.0, np.cos(1.0)),
        (fdm(3, 1), np.exp, 2.0, np.exp(2.0)),
        (fdm(3, 2), np.sin, 0.3, -np.sin(0.3)),
    ]:
        value, error = method.estimate(f, x)
        assert value == method(f, x)
        assert abs(value - exact) <= error < 1e-5 * max(1, abs(exact))
    # with a too-large step the truncation dominates, and the estimate says so
    value, error = fdm(3, 1).estimate(np.sin, 1.0, h=0.1)
    assert error == pytest.approx(abs(value - np.cos(1.0)), rel=0.01)
    assert error == pytest.approx(np.cos(1.0) * 0.01 / 6, rel=0.1)
    # a wildly oscillating function: the estimate grows with it
    assert fdm(5, 1).estimate(lambda x: np.sin(50 * x), 1.0).error > 100 * error_of_sin()


def error_of_sin():
    return fdm(5, 1).estimate(np.sin, 1.0).error


def test_method_repr_shows_the_formula():
    assert repr(fdm(5, 1)) == (
        "<fdm central, 5 points: f′(x) ≈ (1/12·f(x-2h) - 2/3·f(x-h) + 2/3·f(x+h) - 1/12·f(x+2h))"
        " / h + O(h⁴)>"
    )
    assert (
        repr(fdm(3, 2))
        == "<fdm central, 3 points: f″(x) ≈ (f(x-h) - 2·f(x) + f(x+h)) / h² + O(h²)>"
    )
    assert (
        repr(fdm(2, 1, kind="forward"))
        == "<fdm forward, 2 points: f′(x) ≈ (-f(x) + f(x+h)) / h + O(h)>"
    )
    assert "f⁽⁴⁾(x)" in repr(fdm(5, 4)) and "/ h⁴" in repr(fdm(5, 4))
    assert "f(x+(1/2)h)" in repr(fdm([F(-1, 2), F(1, 2)], 1))


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: fdm(2, 2), r"fdm\(2, 2\): a derivative of order 2 needs at least 3 points"),
        (lambda: fdm(0, 1), "at least one point"),
        (lambda: fdm(3, 1, kind="sideways"), "unknown kind 'sideways'"),
        (lambda: fdm(3, 0), "order >= 1"),
        (lambda: fdm([0, 0, 1], 1), "distinct"),
        (lambda: fdm(3, 1)(np.sin, 1.0, h=0.0), "nonzero"),
    ],
)
def test_bad_methods_are_refused(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# -- best steps (facts 11, 14) and stencil sweeps (fact 12) --------------------------------------


def test_best_step_lines_of_the_lecture():
    bound = np.sin(np.pi / 4)  # the talk uses |f(x)| for sin at π/4
    code = [float(f"{best_step(n, bound, variant='code'):.1e}") for n in (2, 4, 6, 8, 10)]
    slide = [float(f"{best_step(n, bound):.1e}") for n in (2, 4, 6, 8, 10)]
    assert code == [7.6e-6, 1.3e-3, 1.4e-2, 5.5e-2, 1.4e-1]  # fact 11
    assert slide == [1.1e-5, 1.8e-3, 1.8e-2, 7.0e-2, 1.7e-1]


def test_central_best_step_is_the_n_equals_2_case():
    f3 = abs(-np.cos(np.pi / 3))  # |f'''| of sin at π/3
    h_best = best_step(2, f3)
    assert h_best == pytest.approx((3 * math.sqrt(2) * EPS / f3) ** (1 / 3), rel=1e-14)
    assert round(h_best, 7) == 1.24e-5  # fact 14
    assert abs(central_difference(np.sin, np.pi / 3, h=1e-5) - 0.5) < 1e-10


def test_best_step_refuses_nonsense():
    with pytest.raises(ValueError, match="unknown variant"):
        best_step(2, 1.0, variant="talk")
    with pytest.raises(ValueError, match="bound > 0"):
        best_step(2, 0.0)
    with pytest.raises(ValueError, match="order n >= 1"):
        best_step(0, 1.0)


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10])
def test_stencil_sweep_of_sin_at_pi_over_4(n):
    x = np.pi / 4
    hs, errors = error_sweep(
        np.sin, x, np.cos(x), hs=0.1 ** np.arange(0, 10.001, 0.1), method=fdm(n + 1, 1)
    )
    assert len(hs) == 101 and hs[10] == pytest.approx(0.1)
    assert errors.min() < 1e-12  # fact 12
    if n <= 8:  # the truncation slope: one decade of h buys n decades of error
        assert abs(np.log10(errors[0] / errors[10]) - n) < 0.3


def test_the_order_of_accuracy_is_the_slope():
    for method in [fdm(3, 1, kind="forward"), fdm(3, 2), fdm(4, 1, kind="backward")]:
        _, errors = error_sweep(np.exp, 0.0, 1.0, hs=[0.1, 0.01], method=method)
        assert np.log10(errors[0] / errors[1]) == pytest.approx(method.accuracy, abs=0.15)


# -- gradients, Jacobians and their cost (facts 8, 9) --------------------------------------------


def _f(v):
    x, y = v[0], v[1]
    return x * x * y + 1 / (x * x + y * y + 1)


def test_gradient_by_perturbing_each_coordinate():
    g = gradient(_f, np.array([0.5, -0.5]), scheme="forward", h=1e-8)
    assert g.tolist() == [-0.9444444559747467, 0.6944444463918842]  # fact 8
    assert np.abs(g - [-17 / 18, 25 / 36]).max() < 2e-8
    assert g.shape == (2,)


def test_gradient_costs_n_plus_one_or_2n_calls():
    x = np.linspace(-1, 1, 7)
    _, forward_calls = count_calls(gradient, lambda v: np.sum(v**3), x, scheme="forward")
    _, backward_calls = count_calls(gradient, lambda v: np.sum(v**3), x, scheme="backward")
    _, central_calls = count_calls(gradient, lambda v: np.sum(v**3), x, scheme="central")
    assert (forward_calls, backward_calls, central_calls) == (8, 8, 14)  # fact 9
    counted = CountingFunction(_f)
    gradient(counted, np.array([0.5, -0.5]), scheme="forward", h=1e-8)
    assert counted.calls == 3


def test_gradient_values_and_shapes():
    x = np.arange(6.0).reshape(2, 3)
    g = gradient(lambda v: np.sum(v**2), x)
    assert g.shape == (2, 3) and np.allclose(g, 2 * x, rtol=1e-9, atol=1e-9)
    assert gradient(np.sin, 1.0) == pytest.approx(np.cos(1.0), rel=1e-10)
    assert type(gradient(np.sin, 1.0)) is float
    with pytest.raises(ValueError, match=r"scalar output, got shape \(2,\); use jacobian"):
        gradient(lambda v: v * 2, np.ones(2))


def test_jacobian_schemes_and_shapes():
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = np.array([0.3, -0.2, 0.5])
    for scheme in ("forward", "backward", "central"):
        assert np.allclose(jacobian(lambda v: A @ v, x, scheme=scheme), A, rtol=1e-7, atol=1e-7)
    J = jacobian(lambda v: np.outer(v, v), x)
    assert J.shape == (3, 3, 3)
    assert (
        J[1, 2, 2] == pytest.approx(x[1])
        and J[1, 1, 1] == pytest.approx(2 * x[1])
        and J[0, 1, 2] == 0
    )
    assert jacobian(lambda t: np.array([t, t**2]), 3.0).tolist() == pytest.approx([1.0, 6.0])
    assert jacobian(np.sum, np.zeros(0)).shape == (0,)


def test_jacobian_refuses_bad_schemes_and_steps_before_calling_f():
    counted = CountingFunction(np.sin)
    with pytest.raises(ValueError, match="unknown scheme 'sideways'"):
        jacobian(counted, np.ones(3), scheme="sideways")
    with pytest.raises(ValueError, match="nonzero"):
        jacobian(counted, np.ones(3), h=0.0)
    assert counted.calls == 0


def test_jacobian_gives_f_fresh_arrays():
    seen = []
    jacobian(lambda v: (seen.append(v), float(v.sum()))[1], np.ones(3), scheme="forward")
    assert len({id(v) for v in seen}) == len(seen) == 4
    assert seen[0].tolist() == [1.0, 1.0, 1.0]  # nothing moved it afterwards


# -- the engine protocol ----------------------------------------------------------------


def test_jvp_on_scalars():
    outs, out_dots = numeric.jvp(lambda x, y: (x * np.sin(y),), (2.0, 0.5), (1.0, -2.0))
    assert outs == (2.0 * np.sin(0.5),)
    want = np.sin(0.5) - 2 * 2.0 * np.cos(0.5)
    assert type(out_dots[0]) is np.float64 and out_dots[0] == pytest.approx(want, rel=1e-9)
    _, out_dots = numeric.jvp(lambda x, y: (x * y,), (2.0, 0.5), (1.0, -2.0))
    assert type(out_dots[0]) is float and out_dots[0] == pytest.approx(0.5 - 4.0, rel=1e-9)


def test_jvp_on_arrays_with_several_outputs():
    x = np.array([1.0, 2.0, 3.0])
    t = np.array([0.5, -1.0, 2.0])
    W = np.arange(6.0).reshape(2, 3)

    def f(x, w):
        return (W @ x * w, float(np.sum(x**2)), np.float32(3.0))

    outs, out_dots = numeric.jvp(f, (x, 1.5), (t, 0.25))
    assert len(outs) == len(out_dots) == 3
    assert out_dots[0].shape == (2,) and out_dots[0].dtype == np.float64
    assert np.allclose(out_dots[0], W @ t * 1.5 + W @ x * 0.25, rtol=1e-9)
    assert out_dots[1] == pytest.approx(2 * x @ t, rel=1e-9)
    assert out_dots[2] == 0.0 and type(out_dots[2]) is np.float32


def test_jvp_is_scale_aware_and_keeps_dtypes():
    _, out_dots = numeric.jvp(lambda x: (x**2,), (1e6,), (1.0,))
    assert out_dots[0] == pytest.approx(2e6, rel=1e-8)
    _, out_dots = numeric.jvp(lambda x: (x * 1e-6,), (1.0,), (1e8,))  # a long tangent
    assert out_dots[0] == pytest.approx(100.0, rel=1e-8)
    x32 = np.ones(3, np.float32)
    _, out_dots = numeric.jvp(lambda x: (np.sin(x),), (x32,), (x32,))
    assert out_dots[0].dtype == np.float32 and np.allclose(out_dots[0], np.cos(1.0), rtol=1e-6)


def test_jvp_call_counts_and_zero_tangents():
    (_, out_dots), calls = count_calls(
        numeric.jvp, lambda x: (np.exp(x),), (np.ones(4),), (np.ones(4),)
    )
    assert calls == 3
    (_, out_dots), calls = count_calls(
        numeric.jvp, lambda x: (np.exp(x), x[0]), (np.ones(4),), (np.zeros(4),)
    )
    assert calls == 1
    assert out_dots[0].tolist() == [0.0] * 4 and out_dots[1] == 0.0


def test_jvp_refuses_mismatched_tangents():
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        numeric.jvp(lambda x, y: (x,), (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\)"):
        numeric.jvp(lambda x: (x,), (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match="finite"):
        numeric.jvp(lambda x: (x,), (1.0,), (np.inf,))


def test_vjp_on_scalars():
    outs, pullback = numeric.vjp(lambda x, y: (x * y, x + y), (2.0, 3.0))
    assert outs == (6.0, 5.0)
    x_bar, _ = pullback((1.0, 0.0))
    assert type(x_bar) is float and x_bar == pytest.approx(3.0, rel=1e-9)
    assert pullback((None, 2.0)) == pytest.approx((2.0, 2.0), rel=1e-9)
    assert pullback((None, None)) == (0.0, 0.0)
    assert pullback((1.0, 1.0)) == pullback((1.0, 1.0))  # no state carried between calls


def test_vjp_on_arrays():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    b = np.float32(0.5)

    def f(x, W, b):
        return (np.tanh(W @ x) + b, float(np.sum(x**2)))

    _, pullback = numeric.vjp(f, (x, W, b))
    u = rng.standard_normal(3)
    x_bar, W_bar, b_bar = pullback((u, None))
    s = 1 - np.tanh(W @ x) ** 2
    assert x_bar.shape == (4,) and np.allclose(x_bar, W.T @ (u * s), rtol=1e-8, atol=1e-9)
    assert W_bar.shape == (3, 4) and np.allclose(W_bar, np.outer(u * s, x), rtol=1e-8, atol=1e-9)
    assert type(b_bar) is np.float32 and b_bar == pytest.approx(u.sum(), rel=1e-5)
    x_bar2, _, _ = pullback((u, 2.0))
    assert np.allclose(x_bar2 - x_bar, 4 * x, rtol=1e-7, atol=1e-8)
    assert not np.shares_memory(x_bar, x_bar2)


def test_vjp_keeps_float_dtypes_and_shapes():
    x32 = np.ones((2, 2), np.float32)
    xi = np.arange(3)  # ints: cotangents are floats
    _, pullback = numeric.vjp(lambda a, b: (np.sum(a) * np.sum(b),), (x32, xi))
    a_bar, b_bar = pullback((1.0,))
    assert (
        a_bar.dtype == np.float32 and a_bar.shape == (2, 2) and np.allclose(a_bar, 3.0, rtol=1e-6)
    )
    assert b_bar.dtype == np.float64 and np.allclose(b_bar, 4.0, rtol=1e-8)
    _, pullback = numeric.vjp(lambda a: (a * 2.0,), (np.array(1.5),))
    assert pullback((np.array(1.0),))[0].shape == ()


def test_vjp_costs_one_plus_2n_calls_once():
    counted = CountingFunction(lambda x, y: (np.sum(x * y), x))
    _, pullback = numeric.vjp(counted, (np.ones(3), 2.0))
    assert counted.calls == 1 + 2 * 4
    pullback((1.0, np.ones(3)))
    pullback((None, np.ones(3)))
    assert counted.calls == 9


def test_vjp_refuses_bad_cotangents_and_outputs():
    _, pullback = numeric.vjp(lambda x: (x, 2 * x), (np.ones(2),))
    with pytest.raises(ValueError, match=r"one cotangent per output \(2\), got 1"):
        pullback((np.ones(2),))
    with pytest.raises(
        ValueError, match=r"cotangent 1 has shape \(3,\), but its output has shape \(2,\)"
    ):
        pullback((None, np.ones(3)))
    with pytest.raises(TypeError, match="tuple of outputs"):
        numeric.vjp(lambda x: x, (1.0,))


def test_protocol_agrees_with_itself():
    """<u, J t> from jvp equals <J^T u, t> from vjp."""
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(3), rng.standard_normal((2, 3))

    def f(x, y):
        return (np.sin(y @ x), np.exp(x).sum() * y)

    t = (rng.standard_normal(3), rng.standard_normal((2, 3)))
    u = (rng.standard_normal(2), rng.standard_normal((2, 3)))
    _, out_dots = numeric.jvp(f, (x, y), t)
    _, pullback = numeric.vjp(f, (x, y))
    bars = pullback(u)
    lhs = sum(np.sum(a * b) for a, b in zip(u, out_dots))
    rhs = sum(np.sum(a * b) for a, b in zip(bars, t))
    assert lhs == pytest.approx(rhs, rel=1e-7)


def test_the_engine_imports_no_other_part_of_adlab_but_core():
    source = Path(numeric.__file__).read_text(encoding="utf-8")
    modules = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {m for m in modules if m.startswith("adlab") and not m.startswith("adlab.core")} == set()
    assert "numpy" in modules
