"""Derivatives of derivatives: sct over sct, the reverse engine over sct, sct's tangent code
over its adjoint code. Generated code is itself in the supported subset (stacks included:
the adjoint of a push is a pop), except that it cannot see through the pullback closures of
array rules and of calls of other functions: those raise, naming the alternative."""

from __future__ import annotations

import math

import numpy as np
import pytest

import adlab as ad
from adlab.testing import ZOO

SCALAR_ZOO = [z for z in ZOO if all(isinstance(a, float) for a in z.args)]


@pytest.mark.parametrize("zoo", SCALAR_ZOO, ids=[z.name for z in SCALAR_ZOO])
def test_second_derivatives_in_every_combination(zoo):
    for i in range(len(zoo.args)):
        want = ad.grad(ad.grad(zoo.f, argnums=i), argnums=i)(*zoo.args)
        sct_sct = ad.sct.grad(ad.sct.grad(zoo.f, argnums=i), argnums=i)(*zoo.args)
        rev_sct = ad.grad(ad.sct.grad(zoo.f, argnums=i), argnums=i)(*zoo.args)
        fwd_sct = ad.sct.jvp(ad.sct.grad(zoo.f, argnums=i), argnums=i)
        tangents = {fwd_sct.tangent_names(fwd_sct.kinds(zoo.args, {}))[0]: 1.0}
        for got in (sct_sct, rev_sct, fwd_sct(*zoo.args, **tangents)[1]):
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_sct_over_sct_through_loops_uses_the_stacks():
    loss = next(z for z in ZOO if z.name == "regression_loop").f
    second = ad.sct.grad(ad.sct.grad(loss))
    assert second(1.0) == 28.0  # L(c) = 14 (2 - c)^2
    assert "t2_stack_bar.append(" in second.source  # the adjoint of a pop is a push


def test_third_derivative():
    def f(x):
        return ad.sin(x) * x

    third = ad.sct.grad(ad.sct.grad(ad.sct.grad(f)))
    assert third(0.7) == pytest.approx(-3 * math.sin(0.7) - 0.7 * math.cos(0.7))


def test_perturbation_confusion_does_not_happen():
    """d/dx [x * d/dy (x + y)] = 1, with the inner derivative by sct and the outer by either."""

    def inner_sct(x):
        return x * ad.sct.grad(lambda y: x + y)(1.0)

    assert ad.grad(inner_sct)(2.0) == 1.0
    assert ad.grad(inner_sct)(ad.grad(lambda u: u * u)(1.0)) == 1.0


def test_sct_does_not_transform_calls_of_other_engines():
    def inner_reverse(x):
        return x * ad.grad(lambda y: x + y)(1.0)

    with pytest.raises(ad.DifferentiationError, match="a lambda at line"):
        ad.sct.grad(inner_reverse)


def test_reverse_over_sct_works_for_arrays_and_calls():
    for zoo in ZOO:
        if len(zoo.args) == 1 and isinstance(zoo.args[0], np.ndarray):
            np.testing.assert_allclose(
                ad.jacobian(ad.sct.grad(zoo.f), mode="reverse")(*zoo.args),
                ad.hessian(zoo.f)(*zoo.args),
                rtol=1e-9,
            )
    np.testing.assert_allclose(
        ad.hessian(lambda x: ad.sum(x**3), mode=("reverse", "sct"))(np.array([1.0, 2.0])),
        np.diag([6.0, 12.0]),
    )


def helper(a):
    return a * a


def calls_helper(x):
    return helper(x) * x


def test_sct_over_sct_stops_at_closures_with_a_clear_error():
    with pytest.raises(ad.DifferentiationError, match=r"sct over sct.*ad\.grad\(ad\.sct\.grad"):
        ad.sct.grad(ad.sct.grad(calls_helper))
    rosenbrock = next(z for z in ZOO if z.name == "rosenbrock")
    with pytest.raises(ad.DifferentiationError, match=r"sct over sct.*sct\.vjp"):
        ad.sct.grad(ad.sct.grad(rosenbrock.f))
    assert ad.grad(ad.sct.grad(calls_helper))(2.0) == 12.0  # the reverse engine can


def test_the_api_hessian_with_sct_inside():
    f = next(z for z in ZOO if z.name == "five_well").f
    want = ad.hessian(lambda x: f(x, 10.0))(10.0)
    assert ad.hessian(lambda x: f(x, 10.0), mode=("reverse", "sct"))(10.0) == pytest.approx(want)


def test_the_api_hessian_in_sct_alone_is_sct_over_sct():
    f = next(z for z in ZOO if z.name == "five_well").f
    want = ad.hessian(f, argnums=(0, 1))(10.0, 10.0)
    np.testing.assert_allclose(ad.hessian(f, argnums=(0, 1), mode="sct")(10.0, 10.0), want)
    with pytest.raises(ad.DifferentiationError, match=r"sct over sct.*mode=\('reverse', 'sct'\)"):
        ad.hessian(lambda x: ad.sum(x**3), mode="sct")(np.array([1.0, 2.0]))  # array rules
