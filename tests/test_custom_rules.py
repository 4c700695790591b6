"""Custom rules: user primitives that every engine differentiates with the user's rule.

Three worked rules of the lecture (CURRICULUM.md, NB10) run through all five
engines: softplus (a stable implementation, its rule σ(x); fact 44 at x = 1000),
a logsumexp declared by an explicit jvp and vjp, and a Newton-iteration square
root whose rule comes from the implicit function theorem. Then: settings that get
no derivative (``nondiff_argnums``), functions whose derivative is zero by
definition (``ad.nondifferentiable``), the error of a missing rule in every
engine, and ``ad.testing.check_rule`` with its per-component blame.

``mode="symbolic"`` is reached through ``ad.grad`` once the API offers it, and
through the symbolic engine's own protocol until then.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import adlab as ad
from adlab.core import rules
from adlab.engines.symbolic import diff, symbols
from adlab.engines.symbolic import protocol as symbolic
from adlab.testing import GradientCheckError, RuleCheck, check_rule

ENGINES = ("numeric", "symbolic", "forward", "reverse", "sct")
EXACT = ("symbolic", "forward", "reverse", "sct")


def gradient(f, args, mode):
    """The gradient of ``f`` w.r.t. every argument (a tuple), by ``mode``."""
    argnums = tuple(range(len(args)))
    if mode == "symbolic" and "symbolic" not in ad.api.available_modes():
        _, pullback = symbolic.vjp(lambda *xs: (f(*xs),), args)
        return tuple(pullback((1.0,)))
    return ad.grad(f, argnums, mode=mode)(*args)


# -- 1. softplus: a stable implementation, the rule sigmoid ------------------------------


@ad.primitive
def softplus(x):
    """log(1 + eˣ) without overflow."""
    return np.logaddexp(0.0, x)


@softplus.defrule
def softplus_partials(x):
    return (ad.sigmoid(x),)


def twice_softplus(x):
    return 2.0 * softplus(x)


@pytest.mark.parametrize("mode", ENGINES)
def test_fact_44_softplus_at_1000_is_1000_with_derivative_1_without_overflow(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would warn
        assert softplus(1000.0) == 1000.0
        (d,) = gradient(softplus if mode != "sct" else twice_softplus, (1000.0,), mode)
    want = 1.0 if mode != "sct" else 2.0
    if mode == "numeric":
        assert d == pytest.approx(want, rel=1e-9)
    else:
        assert d == want


def test_fact_44_by_the_forward_derivative():
    assert ad.derivative(softplus, mode="forward")(1000.0) == 1.0
    assert ad.derivative(softplus, mode="forward")(-1000.0) == 0.0


@pytest.mark.parametrize("mode", ENGINES)
def test_softplus_derivative_is_sigmoid_in_every_engine(mode):
    for x in (-3.0, 0.0, 0.5, 20.0):
        (d,) = gradient(twice_softplus, (x,), mode)
        assert d == pytest.approx(2.0 / (1.0 + math.exp(-x)), rel=1e-12 if mode in EXACT else 1e-7)


def test_softplus_on_arrays_in_the_array_engines():
    x = np.array([-1000.0, -1.0, 0.0, 3.0, 1000.0])
    want = 0.5 * (1.0 + np.tanh(x / 2.0))  # sigmoid, without overflow
    for mode in ("forward", "reverse", "sct"):
        g = ad.grad(lambda v: ad.sum(softplus(v)), mode=mode)(x)
        np.testing.assert_allclose(g, want, rtol=1e-15)


def test_softplus_has_higher_derivatives_because_its_rule_is_written_with_adlab_ops():
    s = 1.0 / (1.0 + math.exp(-0.5))
    want = s * (1.0 - s)
    assert ad.grad(ad.grad(softplus))(0.5) == pytest.approx(want, rel=1e-14)
    for mode in ("reverse", "forward", ("forward", "reverse"), ("reverse", "sct"), "sct"):
        assert ad.hessian(twice_softplus, mode=mode)(0.5) == pytest.approx(2 * want, rel=1e-14)


def test_the_symbolic_derivative_of_softplus_is_its_rule():
    x = symbols("x")
    assert str(softplus(x)) == "softplus(x)"
    d = diff(softplus(x), x)
    assert str(d) == "sigmoid(x)"
    assert d.evaluate(x=1000.0) == 1.0
    assert "sigmoid(x)" in str(diff(twice_softplus(x), x))


def test_sct_calls_softplus_and_prints_its_rule():
    g = ad.sct.grad(twice_softplus)
    assert "softplus(x)" in g.source  # the primal calls the user's primitive
    assert "ad.sigmoid(x)" in g.source  # the adjoint is the user's rule, printed
    assert g(1000.0) == 2.0
    j = ad.sct.jvp(twice_softplus)
    assert "ad.sigmoid(x) * x_dot" in j.source
    assert j(0.0, x_dot=1.0) == (2.0 * math.log(2.0), 1.0)


def test_softplus_is_in_the_rule_table():
    rows = {row[0]: row for row in ad.rule_table().rows}
    assert rows["softplus"][1] == "partials"
    assert rows["softplus"][2] == "partials: softplus_partials"
    assert rules.rule_kind(softplus) == "partials"


# -- 2. logsumexp by an explicit jvp and vjp --------------------------------------------


@ad.primitive
def lse(x):
    """log(sum(exp(x))) of a vector, without overflow."""
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@lse.defjvp
def lse_jvp(out, args, tangents):
    (x,), (x_dot,) = args, tangents
    return ad.sum(ad.exp(x - out) * x_dot)  # softmax · ẋ


@lse.defvjp
def lse_vjp(out, args, wrt):
    softmax = ad.exp(args[0] - out)

    def lse_pullback(out_bar):
        return (out_bar * softmax,)

    return lse_pullback


def lse_loss(v):
    return lse(v * 2.0) - v[0]


def lse_of_two(a, b):
    return lse(ad.stack([a, b]))


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def test_the_jvp_and_vjp_decorators_return_the_rule_and_fill_the_table():
    assert rules.jvps[lse] is lse_jvp and rules.vjps[lse] is lse_vjp
    assert rules.rule_kind(lse) == "jvp+vjp"
    assert rules.declared[lse] == (lse_jvp, lse_vjp)
    rows = {row[0]: row for row in ad.rule_table().rows}
    assert rows["lse"][2] == "jvp: lse_jvp, vjp: lse_vjp"


@pytest.mark.parametrize("mode", ["numeric", "forward", "reverse", "sct"])
def test_lse_gradient_is_the_softmax_in_every_array_engine(mode):
    x = np.array([0.5, -1.0, 2.0, 1000.0])
    (g,) = gradient(lse_loss, (x,), mode)
    want = 2.0 * softmax(2.0 * x) - np.array([1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(g, want, rtol=1e-7 if mode == "numeric" else 1e-14, atol=1e-12)
    assert np.isfinite(lse(x))


@pytest.mark.parametrize("mode", ENGINES)
def test_lse_of_scalars_in_every_engine_symbolic_included(mode):
    ga, gb = gradient(lse_of_two, (1.0, 2.0), mode)
    want = softmax(np.array([1.0, 2.0]))
    tol = 1e-7 if mode == "numeric" else 1e-15
    assert (ga, gb) == (pytest.approx(want[0], rel=tol), pytest.approx(want[1], rel=tol))


def test_lse_symbolic_derivative_is_its_jvp_applied_to_expressions():
    a, b = symbols("a b")
    d = diff(lse_of_two(a, b), a)
    assert str(d).startswith("sum(exp(stack(a, b, axis=0) - lse(stack(a, b, axis=0)))")
    assert float(d.evaluate(a=1.0, b=2.0)) == pytest.approx(softmax(np.array([1.0, 2.0]))[0])


def test_lse_second_derivative_differentiates_the_users_rules():
    x = np.array([1.0, 2.0, 0.5])
    p = softmax(x)
    want = np.diag(p) - np.outer(p, p)
    for mode in ("reverse", "forward", ("forward", "reverse"), ("reverse", "forward")):
        np.testing.assert_allclose(ad.hessian(lse, mode=mode)(x), want, rtol=1e-12, atol=1e-15)


def test_sct_calls_lse_through_its_run_time_rule():
    g = ad.sct.grad(lse_loss)
    assert "sct.vjp(lse, " in g.source  # the generated code hands lse to its own vjp
    x = np.array([0.3, -0.2, 1.0])
    np.testing.assert_allclose(g(x), ad.grad(lse_loss)(x), rtol=1e-15)
    _, out_dot = ad.jvp(lse_loss, (x,), (np.ones(3),), mode="sct")
    assert out_dot == pytest.approx(1.0)  # shifting every input by t shifts lse(2v) by 2t


# -- 3. Newton's square root, differentiated by the implicit function theorem -----------

STEPS = 30


def newton_loop(a):
    """sqrt(a) for a > 0 by Newton's method on F(x, a) = x² − a = 0."""
    x = a
    for _ in range(STEPS):
        x = 0.5 * (x + a / x)
    return x


@ad.primitive
def newton_sqrt(a):
    """sqrt(a) by Newton's method: the iterations are the implementation, not the rule."""
    return newton_loop(a)


@newton_sqrt.defrule
def newton_sqrt_partials(a, out):
    # F(out, a) = out² − a = 0, so dout/da = −(∂F/∂a) / (∂F/∂out) = 1 / (2·out) = 1 / (2√a)
    return (1.0 / (2.0 * out),)


def newton_sqrt_of(a):
    return newton_sqrt(a)


@pytest.mark.parametrize("mode", ENGINES)
def test_newton_sqrt_rule_is_one_over_two_root_a_in_every_engine(mode):
    for a in (0.25, 2.0, 1e4):
        (d,) = gradient(newton_sqrt_of, (a,), mode)
        want = 1.0 / (2.0 * math.sqrt(a))
        assert d == pytest.approx(want, rel=1e-15 if mode in EXACT else 1e-7)


@pytest.mark.parametrize("mode", ["forward", "reverse", "sct"])
def test_the_implicit_rule_agrees_with_differentiating_through_the_loop(mode):
    for a in (0.25, 2.0, 1e4):
        (by_rule,) = gradient(newton_sqrt_of, (a,), mode)
        (through_loop,) = gradient(newton_loop, (a,), mode)
        assert by_rule == pytest.approx(through_loop, rel=1e-14)


def test_the_rule_records_one_node_where_the_loop_records_every_iteration():
    assert len(ad.trace(newton_sqrt_of, 2.0).nodes) == 2  # a and out
    assert len(ad.trace(newton_loop, 2.0).nodes) > 3 * STEPS


def test_newton_sqrt_second_derivative_comes_from_its_own_rule():
    want = -0.25 * 2.0**-1.5  # d²/da² √a
    assert ad.grad(ad.grad(newton_sqrt))(2.0) == pytest.approx(want, rel=1e-14)
    assert ad.hessian(newton_sqrt_of, mode="forward")(2.0) == pytest.approx(want, rel=1e-14)


def test_newton_sqrt_symbolic_and_sct_print_the_implicit_rule():
    a = symbols("a")
    assert str(diff(newton_sqrt(a), a)) == "1.0 / (2.0 * newton_sqrt(a))"
    source = ad.sct.grad(newton_sqrt_of).source
    assert "newton_sqrt(a)" in source and "2.0 * out" in source


# -- settings without a derivative: nondiff_argnums -------------------------------------


@ad.primitive(nondiff_argnums=(1,))
def newton_sqrt_n(a, steps):
    """sqrt(a) by ``steps`` Newton iterations: ``steps`` is a setting, not an operand."""
    x = a
    for _ in range(steps):
        x = 0.5 * (x + a / x)
    return x


@newton_sqrt_n.defrule
def newton_sqrt_n_partials(a, steps, out):
    return 1.0 / (2.0 * out)  # the setting's partial left out


def newton_sqrt_20(a):
    return newton_sqrt_n(a, 20)


@pytest.mark.parametrize("mode", ENGINES)
def test_a_setting_passed_positionally_gets_no_derivative(mode):
    (d,) = gradient(newton_sqrt_20, (2.0,), mode)
    assert d == pytest.approx(1.0 / (2.0 * math.sqrt(2.0)), rel=1e-15 if mode in EXACT else 1e-7)
    assert rules.partials[newton_sqrt_n][1] is None
    assert newton_sqrt_n.nondiff_argnums == (1,)


def test_the_rule_may_give_none_for_the_setting_instead_of_leaving_it_out():
    @ad.primitive(nondiff_argnums=(0,))
    def scaled_square(k, x):
        return k * x * x

    @scaled_square.defrule
    def scaled_square_partials(k, x):
        return (None, 2.0 * k * x)

    assert ad.grad(lambda x: scaled_square(3.0, x))(2.0) == 12.0
    # traced anyway, the setting's cotangent is zero
    assert ad.grad(scaled_square, argnums=(0, 1))(3.0, 2.0) == (0.0, 12.0)


@ad.primitive(nondiff_argnums=(1,))
def shifted_cube(x, shift):
    return x**3 + shift


@shifted_cube.defjvp
def shifted_cube_jvp(out, args, tangents):
    assert tangents[1] is None, "a setting's tangent is never handed to the rule"
    return 3.0 * args[0] ** 2 * tangents[0]


@shifted_cube.defvjp
def shifted_cube_vjp(out, args, wrt):
    assert wrt == (0,), "no cotangent is asked for a setting"
    x = args[0]
    return lambda out_bar: (out_bar * 3.0 * x**2,)


def test_jvp_and_vjp_rules_never_see_the_settings():
    for mode in ("forward", "reverse"):
        assert ad.grad(shifted_cube, argnums=(0, 1), mode=mode)(2.0, 5.0) == (12.0, 0.0)
    check_rule(shifted_cube, 2.0, 5.0)


# -- derivative zero by definition: ad.nondifferentiable --------------------------------

floor = ad.nondifferentiable(np.floor)
argmax = ad.nondifferentiable(np.argmax)


@ad.nondifferentiable(name="half_even_round")
def half_even_round(x):
    return np.round(x)


def x_times_floor(x):
    return x * floor(x) + half_even_round(x)


def pick_largest(v):
    return v[argmax(v)] * 3.0


def test_nondifferentiable_makes_a_primitive_with_zero_derivative():
    assert isinstance(floor, ad.Primitive) and not floor.differentiable
    assert floor.name == "floor" and half_even_round.name == "half_even_round"
    assert rules.rule_kind(floor) == "zero (not differentiable)"
    assert "nondifferentiable" in ad.__all__


@pytest.mark.parametrize("mode", ENGINES)
def test_every_engine_passes_a_nondifferentiable_result_through(mode):
    (d,) = gradient(x_times_floor, (2.3,), mode)  # d/dx x·⌊x⌋ + round(x) = ⌊x⌋ = 2
    assert d == pytest.approx(2.0, rel=1e-15 if mode in EXACT else 1e-7)


@pytest.mark.parametrize("mode", ["numeric", "forward", "reverse", "sct"])
def test_a_nondifferentiable_index_picks_the_component_that_gets_the_gradient(mode):
    (g,) = gradient(pick_largest, (np.array([1.0, 5.0, 2.0]),), mode)
    np.testing.assert_allclose(g, [0.0, 3.0, 0.0], atol=1e-8)


def test_a_nondifferentiable_primitive_prints_and_stays_a_constant():
    x = symbols("x")
    assert str(diff(x_times_floor(x), x)) == "floor(x)"
    assert ad.grad(ad.grad(x_times_floor))(2.3) == 0.0
    assert "floor(x)" in ad.sct.grad(x_times_floor).source


# -- a missing rule: every engine names the primitive and the fix -----------------------


@ad.primitive
def mystery_cube(x):
    return x**3


def uses_mystery(x):
    return mystery_cube(x) * 2.0


@ad.primitive
def lse_vjp_only(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@lse_vjp_only.defvjp
def lse_vjp_only_vjp(out, args, wrt):
    softmax = ad.exp(args[0] - out)
    return lambda out_bar: (out_bar * softmax,)


def uses_lse_vjp_only(v):
    return lse_vjp_only(v) * 2.0


def lse_vjp_only_of_two(a, b):
    return lse_vjp_only(ad.stack([a, b]))


FORWARD_FIX = r"'{name}' has no forward-mode rule.*@{name}\.defrule.*@{name}\.defjvp"
REVERSE_FIX = r"'{name}' has no reverse-mode rule.*@{name}\.defrule.*@{name}\.defvjp"


def _diff_symbolically(f):
    x = symbols("x")
    return diff(f(x), x)


@pytest.mark.parametrize(
    "what, call, fix",
    [
        ("forward", lambda: ad.derivative(uses_mystery, mode="forward")(2.0), FORWARD_FIX),
        ("forward grad", lambda: ad.grad(uses_mystery, mode="forward")(2.0), FORWARD_FIX),
        ("reverse", lambda: ad.grad(uses_mystery)(2.0), REVERSE_FIX),
        ("reverse trace", lambda: ad.trace(uses_mystery, 2.0), REVERSE_FIX),
        ("hessian", lambda: ad.hessian(uses_mystery)(2.0), FORWARD_FIX),  # forward over reverse
        ("sct grad", lambda: ad.sct.grad(uses_mystery)(2.0), REVERSE_FIX),
        ("sct jvp", lambda: ad.sct.jvp(uses_mystery)(2.0, x_dot=1.0), FORWARD_FIX),
        ("symbolic mode", lambda: gradient(uses_mystery, (2.0,), "symbolic"), FORWARD_FIX),
        ("symbolic diff", lambda: _diff_symbolically(uses_mystery), FORWARD_FIX),
    ],
)
def test_a_primitive_without_a_rule_is_named_with_the_fix_in_every_engine(what, call, fix):
    with pytest.raises(ad.DifferentiationError, match=fix.format(name="mystery_cube")):
        call()


def test_the_missing_rule_message_shows_the_signature_to_write():
    forward = str(rules.missing_rule(mystery_cube, "forward"))
    reverse = str(rules.missing_rule(mystery_cube, "reverse"))
    assert "jvp(out, args, tangents, **params) -> out_dot" in forward
    assert "vjp(out, args, wrt, **params) -> pullback" in reverse
    assert "symbolic differentiation" in forward and "sct" in forward and "sct" in reverse


def test_mystery_cube_is_still_computed_and_numeric_mode_needs_no_rule():
    assert uses_mystery(2.0) == 16.0
    assert ad.grad(uses_mystery, mode="numeric")(2.0) == pytest.approx(24.0, rel=1e-8)


def test_a_vjp_only_array_primitive_works_in_reverse_modes():
    x = np.array([1.0, 2.0, 0.5])
    want = 2.0 * softmax(x)
    np.testing.assert_allclose(ad.grad(uses_lse_vjp_only)(x), want, rtol=1e-15)
    np.testing.assert_allclose(ad.sct.grad(uses_lse_vjp_only)(x), want, rtol=1e-15)


@pytest.mark.parametrize(
    "what, call",
    [
        ("forward", lambda x: ad.grad(uses_lse_vjp_only, mode="forward")(x)),
        ("sct jvp", lambda x: ad.sct.jvp(uses_lse_vjp_only)(x, v_dot=x)),
        ("sct by the api", lambda x: ad.jvp(uses_lse_vjp_only, (x,), (x,), mode="sct")),
        ("symbolic", lambda x: gradient(lse_vjp_only_of_two, (1.0, 2.0), "symbolic")),
    ],
)
def test_what_a_vjp_only_primitive_cannot_do_is_refused_naming_it_and_the_fix(what, call):
    fix = FORWARD_FIX.format(name="lse_vjp_only") + r".*mode='reverse'"
    with pytest.raises(ad.DifferentiationError, match=fix):
        call(np.array([1.0, 2.0, 0.5]))


# -- declaring rules --------------------------------------------------------------------


def test_a_jvp_replaces_declared_partials():
    @ad.primitive
    def doubled(x):
        return 2.0 * x

    @doubled.defrule
    def doubled_partials(x):
        return (3.0,)  # wrong, replaced below

    @doubled.defjvp
    def doubled_jvp(out, args, tangents):
        return 2.0 * tangents[0]

    assert doubled not in rules.partials
    assert ad.derivative(doubled, mode="forward")(1.0) == 2.0
    assert ad.grad(doubled)(1.0) == 3.0  # the vjp derived from the partials stays ...
    with pytest.raises(GradientCheckError, match="reverse rule"):  # ... and check_rule says so
        check_rule(doubled, 1.0)


def test_a_partials_rule_refuses_keyword_settings_it_cannot_see():
    @ad.primitive
    def scaled(x, factor=2.0):
        return factor * x

    @scaled.defrule
    def scaled_partials(x):
        return (2.0,)

    with pytest.raises(ad.DifferentiationError, match=r"keyword setting.*factor.*nondiff_argnums"):
        ad.derivative(lambda x: scaled(x, factor=3.0), mode="forward")(1.0)


def test_a_kink_note_of_a_user_primitive_shows_in_the_rule_table():
    @ad.primitive(kink="hinge'(1) = 0")
    def hinge(x):
        return np.maximum(0.0, 1.0 - x)

    @hinge.defrule
    def hinge_partials(x):
        return (ad.where(ad.ops.less(x, 1.0), -1.0, 0.0),)

    assert rules.kinks[hinge] == "hinge'(1) = 0"
    row = next(r for r in ad.rule_table().rows if r[0] == "hinge")
    assert row[3] == "hinge'(1) = 0"
    assert ad.grad(hinge)(1.0) == 0.0


def test_nondiff_argnums_must_be_positions_and_a_primitive_needs_a_printable_name():
    with pytest.raises(ValueError, match="non-negative"):
        ad.primitive(nondiff_argnums=(-1,), name="bad_setting")(lambda x, n: x)
    with pytest.raises(ValueError, match=r"no __name__.*name='\.\.\.'"):
        ad.nondifferentiable(functools.partial(np.round, decimals=1))
    assert ad.nondifferentiable(lambda x: np.round(x), name="rounded").name == "rounded"


# -- check_rule: the rule against finite differences, with per-component blame ----------


@pytest.mark.parametrize(
    "prim, args",
    [
        (softplus, (1000.0,)),
        (softplus, (np.array([-2.0, 0.0, 3.0]),)),
        (lse, (np.array([1.0, 2.0, 0.5]),)),
        (newton_sqrt, (2.0,)),
        (newton_sqrt_n, (2.0, 20)),
        (floor, (2.3,)),
        (ad.mul, (np.array([1.0, 2.0]), 3.0)),
        (ad.maximum, (np.array([0.5, 2.0]), np.array([1.0, -1.0]))),
        (ad.ops.array.matmul_p, (np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0, 0.5]))),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_check_rule_passes_correct_rules(prim, args):
    report = check_rule(prim, *args)
    assert isinstance(report, RuleCheck) and report.ok and not report.failures
    assert [c.status for c in report.comparisons] == ["ok", "ok", "ok"]


def test_check_rule_passes_settings_of_array_primitives():
    x = np.array([[1.0, 3.0], [2.0, 0.5]])
    report = check_rule(ad.ops.array.max_p, x, params={"axis": (1,), "keepdims": False})
    assert report.ok
    np.testing.assert_array_equal(report.jacobians["reverse"]["x"], [[[0, 1], [0, 0]],
                                                                     [[0, 0], [1, 0]]])  # fmt: skip


@ad.primitive
def wrong_product(x, y):
    return x * y


@wrong_product.defrule
def wrong_product_partials(x, y):
    return (y, 2.0 * x)  # ∂/∂y should be x


def test_a_wrong_partial_is_caught_with_the_failing_component_and_both_numbers():
    with pytest.raises(GradientCheckError) as err:
        check_rule(wrong_product, 3.0, np.array([1.0, 2.0]))
    message = str(err.value)
    assert "check_rule(wrong_product) at x=3.0, y=[1, 2]" in message
    assert "forward rule (jvp): d out[0] / d y[0] is 6.0 but finite differences give 2.9" in message
    assert "reverse rule (vjp): d out[0] / d y[0] is 6.0" in message
    assert "2 of 6 components disagree" in message  # ∂out/∂x (2) and ∂out/∂y (4): y's diagonal
    report = err.value.report
    assert not report.ok and [c.check for c in report.failures] == [
        "forward rule (jvp)", "reverse rule (vjp)"
    ]  # fmt: skip
    first = report.failures[0]
    assert (first.component, first.got, first.n_bad) == ("d out[0] / d y[0]", 6.0, 2)
    assert first.want == pytest.approx(3.0, rel=1e-9)


@ad.primitive
def cube_sum(x):
    return np.sum(x**3)


@cube_sum.defjvp
def cube_sum_jvp(out, args, tangents):
    return ad.sum(3.0 * args[0] ** 2 * tangents[0])


@cube_sum.defvjp
def cube_sum_vjp(out, args, wrt):
    x = args[0]

    def cube_sum_pullback(out_bar):
        x_bar = out_bar * 3.0 * x**2
        return (x_bar * np.array([1.0, 1.0, -1.0]),)  # a sign error in the last component

    return cube_sum_pullback


def test_a_wrong_vjp_is_blamed_on_its_component_and_on_the_jvp_vjp_identity():
    report = check_rule(cube_sum, np.array([1.0, 2.0, 0.5]), raises=False)
    forward, reverse, identity = report.comparisons
    assert forward.ok and forward.status == "ok"
    assert reverse.status == "FAILED" and reverse.component == "d out / d x[2]"
    assert reverse.got == -0.75 and reverse.want == pytest.approx(0.75, rel=1e-9)
    assert reverse.n_bad == 1 and reverse.n_components == 3
    assert identity.status == "FAILED" and "seed 0" in identity.component
    assert identity.got != pytest.approx(identity.want)
    assert "by the forward rule but ⟨Jᵀȳ, ẋ⟩ is" in identity.message()
    with pytest.raises(GradientCheckError, match=r"d out / d x\[2\] is -0.75"):
        report.assert_ok()


def test_the_report_shows_itself_and_keeps_its_data():
    report = check_rule(cube_sum, np.array([1.0, 2.0, 0.5]), raises=False)
    text = repr(report)
    assert text.startswith("check_rule(cube_sum) at x=[1, 2, 0.5]: FAILED")
    assert "reverse rule (vjp)" in text and "d out / d x[2]" in text and "-0.75" in text
    html = report._repr_html_()
    assert "<table" in html and "FAILED" in html and "d out / d x[2]" in html
    assert set(report.jacobians) == {"finite differences", "forward", "reverse"}
    np.testing.assert_allclose(report.jacobians["forward"]["x"], [3.0, 12.0, 0.75])
    ok = check_rule(softplus, 0.5)
    assert repr(ok).startswith("check_rule(softplus) at x=0.5: ok")
    assert ok.assert_ok() is ok


@ad.primitive
def wrong_shape(x):
    return np.sum(x)


@wrong_shape.defvjp
def wrong_shape_vjp(out, args, wrt):
    return lambda out_bar: (out_bar * np.ones(2),)  # x has three components


def test_a_cotangent_of_the_wrong_shape_is_reported():
    report = check_rule(wrong_shape, np.ones(3), raises=False)
    forward, reverse = report.comparisons
    assert forward.status == "not declared" and "@wrong_shape.defjvp" in forward.message()
    assert reverse.status == "FAILED"
    assert "a cotangent for argument 0 (x) with shape (2,), but it must have shape (3,)" in (
        reverse.message())  # fmt: skip


def test_check_rule_with_one_rule_checks_that_one():
    report = check_rule(lse_vjp_only, np.array([1.0, 2.0, 0.5]))
    assert [c.status for c in report.comparisons] == ["not declared", "ok"]


def test_check_rule_holds_ints_and_settings_fixed_and_refuses_what_it_cannot_check():
    assert list(check_rule(newton_sqrt_n, 2.0, 20).point) == ["a"]
    with pytest.raises(ValueError, match="no argument to differentiate"):
        check_rule(softplus, 3)
    with pytest.raises(ad.DifferentiationError, match=r"'mystery_cube'.*defrule"):
        check_rule(mystery_cube, 2.0)
    with pytest.raises(TypeError, match="check_grads"):
        check_rule(lambda x: x, 1.0)


def test_a_primitive_defined_again_replaces_its_row_in_the_rule_table():
    """Running a notebook cell twice defines the primitive twice: the table shows the newest."""
    for note in ("first note", "second note"):

        @ad.primitive(kink=note)
        def twice_defined(x):
            return np.maximum(x, 0.0)

        twice_defined.defrule(lambda x: (ad.greater(x, 0.0),))
    rows = [r for r in ad.rule_table().rows if r[0] == "twice_defined"]
    assert [r[3] for r in rows] == ["second note"]
    assert [r[0] for r in ad.rule_table().rows].count("sin") == 1


def test_check_rule_names_the_primitive_behind_a_wrapper_and_takes_empty_arrays():
    with pytest.raises(TypeError, match=r"around the primitive adlab\.ops\.array\.sum_p"):
        ad.testing.check_rule(ad.sum, np.ones(3))
    assert ad.testing.check_rule(ad.sin, np.zeros(0)).ok
