"""What every engine promises through the one protocol (adlab/core/engine.py, transform.py).

Per-context transformation state (``no_grad`` honoured by every tracing engine, and only
in its own thread), values that become inert when their derivative ends, hashing that
takes the plain program's branch, repeated argnums, tangent shapes, outputs that are not
real numbers, and the one derivation's strong zero under nesting.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import adlab as ad
from adlab.core.engine import Engine, Function

TRACING = ("forward", "reverse", "symbolic")
ALL = ad.MODES


# -- the protocol ---------------------------------------------------------------------------


def test_every_mode_is_an_explicit_engine_object():
    for mode in ALL:
        engine = ad.api.engine(mode)
        assert isinstance(engine, Engine) and engine.name == mode
        assert engine.jvp is not None or engine.vjp is not None
    assert ad.api.engine("forward").vjp is None and ad.api.engine("forward").jvp_chunk
    assert ad.api.engine("sct").grad_function is not None


def test_an_engine_without_a_rule_of_either_kind_is_refused():
    with pytest.raises(ValueError, match="neither a jvp nor a vjp"):
        Engine("nothing")


def test_engines_see_the_users_function_and_argnums_explicitly():
    seen = {}

    def spy_vjp(f, primals):
        seen["f"] = f
        return ad.api.engine("reverse").vjp(f, primals)

    def loss(weights, scale):
        return ad.sum(weights * weights) * scale

    spy = Engine("spy", vjp=spy_vjp)
    fn = Function(loss, (np.ones(2), 3.0), {}, (0,))
    _, pullback = spy.vjp(fn, fn.leaves)
    assert seen["f"].fn is loss and seen["f"].argnums == (0,) and fn.names() == ["weights"]
    np.testing.assert_array_equal(pullback((1.0,))[0], [6.0, 6.0])


def test_forward_grad_takes_one_plain_pass_per_input_and_chunks_only_when_asked():
    def f(x, y):
        return x * x * y

    with ad.counting() as cost:
        assert ad.grad(f, argnums=(0, 1), mode="forward")(3.0, 2.0) == (12.0, 9.0)
    assert cost.passes == 2
    seen = []
    tangent_types = ad.Dual.__mul__

    def spy(self, other, fallback=True):  # record the tangents the fast path sees
        seen.append(type(self.tangent))
        return tangent_types(self, other, fallback)

    ad.Dual.__mul__ = spy
    try:
        ad.grad(f, argnums=(0, 1), mode="forward")(3.0, 2.0)
        assert seen and all(t is float for t in seen)  # no one-direction chunks
        seen.clear()
        ad.jacobian(f, argnums=(0, 1), mode="forward", chunk=2)(3.0, 2.0)
        assert any(t is ad.engines.forward.Partials for t in seen)
    finally:
        ad.Dual.__mul__ = tangent_types


# -- (a) no_grad: per context, honoured by every tracing engine ---------------------------


def scaled_square(x):
    with ad.no_grad():
        scale = x * 2.0  # a constant as far as derivatives go
    return scale * x


@pytest.mark.parametrize("mode", TRACING)
def test_no_grad_gives_its_documented_answer_in_every_tracing_mode(mode):
    assert ad.grad(scaled_square, mode=mode)(3.0) == 6.0
    assert ad.value_and_grad(scaled_square, mode=mode)(3.0) == (18.0, 6.0)


@pytest.mark.parametrize("mode", TRACING)
def test_what_no_grad_computes_is_constant_at_every_order(mode):
    assert ad.hessian(scaled_square, mode=mode)(3.0) == 0.0  # d/dx of the constant 2x0


def test_no_grad_outside_a_symbolic_derivative_leaves_formulas_as_written():
    x = ad.symbols("x")
    with ad.no_grad():
        assert str(x * 2.0) == "x * 2.0"


def test_a_derivative_started_inside_no_grad_differentiates():
    with ad.no_grad():
        for mode in TRACING:
            assert ad.grad(lambda x: x * x * x, mode=mode)(3.0) == 27.0


@pytest.mark.parametrize("mode", TRACING)
def test_no_grad_in_another_thread_leaves_this_threads_derivatives_alone(mode):
    stop = threading.Event()

    def pausing_thread() -> None:
        while not stop.is_set():
            ad.grad(scaled_square, mode=mode)(1.0)  # enters no_grad over and over

    worker = threading.Thread(target=pausing_thread)
    worker.start()
    try:
        answers = [ad.grad(lambda x: (x * x) * x, mode=mode)(3.0) for _ in range(60)]
    finally:
        stop.set()
        worker.join()
    assert answers == [27.0] * 60


def test_counters_are_per_thread_too():
    def busy() -> None:
        for _ in range(20):
            ad.grad(lambda x: x * x)(1.0)

    with ad.counting() as cost:
        worker = threading.Thread(target=busy)
        worker.start()
        worker.join()
        ad.grad(lambda x: x * x)(1.0)
    assert (cost.calls, cost.passes, cost.sweeps) == (1, 1, 1)


# -- (b) traced values are inert once their derivative has finished -----------------------


def keeping(cache):
    def f(x):
        if not cache:
            cache.append(x * x)  # a traced value kept beyond this call
        return x * cache[0] + x

    return f


@pytest.mark.parametrize("mode", TRACING)
def test_a_value_kept_from_an_earlier_derivative_is_refused_in_a_later_one(mode):
    cache = []
    f = keeping(cache)
    assert ad.value_and_grad(f, mode=mode)(3.0) == (30.0, 28.0)
    with pytest.raises(ad.DifferentiationError, match=r"earlier|finished"):
        ad.value_and_grad(f, mode=mode)(1.0)


@pytest.mark.parametrize("mode", TRACING)
def test_a_finished_value_shows_and_converts_as_its_number(mode):
    cache = []
    ad.grad(keeping(cache), mode=mode)(3.0)
    (kept,) = cache
    assert float(kept) == 9.0 and repr(kept) == "9.0" and str(kept) == "9.0"
    assert np.asarray(kept) == 9.0 and bool(kept) and f"{kept:.1f}" == "9.0"
    if mode != "symbolic":
        assert kept == 9.0 and hash(kept) == hash(9.0)  # comparisons still compare


def test_a_kept_dual_cannot_be_returned_as_a_value():
    cache = []
    ad.jvp(lambda x: cache.append(x * 2.0) or x, (1.0,), (1.0,))
    with pytest.raises(ad.DifferentiationError, match="finished"):
        ad.jvp(lambda x: cache[0], (1.0,), (1.0,))


def test_hand_made_duals_never_finish():
    d = ad.Dual(2.0, 1.0)
    assert repr(d * d) == "Dual(4.0, 4.0)" and (d * d).tangent == 4.0


# -- (c) hashing takes the branch the plain program takes --------------------------------


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_a_dict_lookup_of_a_traced_value_finds_its_number(mode):
    table = {3.0: 2.0}

    def g(x):
        return x * table.get(x, 5.0)

    assert g(3.0) == 6.0
    assert ad.value_and_grad(g, mode=mode)(3.0) == (6.0, 2.0)
    assert ad.value_and_grad(g, mode=mode)(4.0) == (20.0, 5.0)
    assert {ad.Dual(3.0, 1.0)} and len({3.0, ad.Dual(3.0, 1.0)}) == 1


def test_a_traced_array_says_why_it_cannot_be_hashed():
    def f(v):
        return ad.sum(v) * {(1.0, 2.0): 3.0}.get(v, 1.0)

    with pytest.raises(ad.DifferentiationError, match="holding an array cannot be hashed"):
        ad.grad(f)(np.array([1.0, 2.0]))


# -- (d) an argument named twice gets its gradient twice, in every mode ---------------------


@pytest.mark.parametrize("mode", ALL)
def test_repeated_argnums_repeat_the_gradient(mode):
    g = ad.grad(lambda x, y: x * x * y, argnums=(0, 0, 1), mode=mode)(3.0, 2.0)
    np.testing.assert_allclose(g, (12.0, 12.0, 9.0), rtol=1e-6)


def test_repeated_argnums_give_arrays_of_their_own():
    ga, gb = ad.grad(lambda v: ad.sum(v * v), argnums=(0, 0))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(ga, gb)
    assert not np.shares_memory(ga, gb)
    jac = ad.jacobian(lambda v: v * 2.0, argnums=(0, 0))(np.array([1.0, 2.0]))
    assert len(jac) == 2 and not np.shares_memory(*jac)


# -- (e) tangents have their primal's shape, in every mode ---------------------------------


@pytest.mark.parametrize("mode", ALL)
def test_a_tangent_of_the_wrong_shape_is_refused(mode):
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(3,\).*\(2,\)"):
        ad.jvp(lambda v: v * 2.0, (np.ones(2),), (np.ones(3),), mode=mode)


# -- (f) outputs that are not real numbers ---------------------------------------------------


def complex_output(x):
    return x * (1 + 0.2j)


def generator_output(x):
    yield x * x


def set_output(x):
    return {x * 2}


@pytest.mark.parametrize("mode", ALL)
@pytest.mark.parametrize(
    "f, what",
    [(complex_output, "complex"), (generator_output, "generator"), (set_output, "set")],
    ids=["complex", "generator", "set"],
)
def test_outputs_that_are_not_real_numbers_are_refused(mode, f, what):
    with pytest.raises(ad.DifferentiationError, match=what):
        ad.grad(f, mode=mode)(1.0)


# -- (g) the strong zero, the same nested or not ---------------------------------------------


def test_nested_forward_at_a_kink_equals_single_forward():
    # d/dy (x / y) along [0, 1] at y = [0, 2]: the zero tangent of y[0] meets the infinite
    # partial -x/y² there; a strong zero, whether x is a number or carries an outer tag
    y, along = np.array([0.0, 2.0]), np.array([0.0, 1.0])

    def inner(x):
        return ad.jvp(lambda v: x / v, (y,), (along,))[1]

    with np.errstate(divide="ignore", invalid="ignore"):
        single = inner(1.0)
        nested, _ = ad.jvp(inner, (1.0,), (1.0,))
        by_derivative = ad.derivative(lambda x: ad.sum(inner(x) * np.array([0.0, 1.0])))(1.0)
    np.testing.assert_array_equal(single, [0.0, -0.25])
    np.testing.assert_array_equal(nested, single)
    assert by_derivative == -0.25


def test_a_scalar_zero_tangent_is_a_strong_zero_too():
    with np.errstate(divide="ignore"):
        _, out_dot = ad.jvp(lambda x, y: ad.sqrt(x) + y, (0.0, 1.0), (0.0, 1.0))
    assert out_dot == 1.0 and not math.isnan(out_dot)


# -- the rule is data on its primitive -------------------------------------------------------


def test_a_rule_declared_again_is_the_one_every_path_uses(monkeypatch):
    monkeypatch.setattr(ad.mul, "rule", ad.mul.rule)  # restored after the test

    @ad.mul.defjvp
    def mul_jvp_twice(out, args, tangents):  # a deliberately wrong rule, to be noticed
        (x, y), (x_dot, y_dot) = args, tangents
        return 2.0 * ((0.0 if x_dot is None else x_dot * y) + (0.0 if y_dot is None else x * y_dot))

    assert ad.grad(lambda x: x * x, mode="forward")(3.0) == 12.0  # the fast paths see it too
    assert ad.grad(lambda x: x * x)(3.0) == 6.0  # the reverse rule derived from partials stays
    row = next(r for r in ad.rule_table().rows if r[0] == "mul")
    assert row[1:3] == ("jvp+vjp", "jvp: mul_jvp_twice, vjp: derived from partials")


def test_the_rule_table_views_read_the_primitives():
    from adlab.core import rules

    assert rules.partials[ad.sin] is ad.sin.rule.fns and ad.sin in rules.jvps
    assert rules.kinks[ad.abs] == ad.abs.kink == "abs'(0) = 0"
    assert ad.sin.rule.kind == "partials" and ad.sin.stands_for == (np.sin, math.sin)
