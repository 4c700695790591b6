"""Property tests: random programs over the primitive table, checked against finite differences.

The programs come from ``tests/programs.py``: straight-line adlab code built
as a random DAG with fan-out, safe domains and bounded magnitudes (see its
docstring). The finite-difference properties check the reverse engine;
``tests/test_oracle.py`` compares every engine of ``ad.MODES`` with an independent
AD system (autograd), so a new engine is covered as soon as it is registered.
Within the reverse engine, the two paths (``ad.grad`` and a
recorded ``ad.trace``) and the two sweeps over a trace (reverse adjoints and
forward tangents) are compared with each other.

A failing example prints as ``Program.from_source(\"\"\"def f(...): ...\"\"\", args=...)``,
which can be pasted into a regression test as it is.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, assume, event, given, settings
from hypothesis import strategies as st

import adlab as ad
from adlab.core import rules
from adlab.engines import numeric
from adlab.ops import array as A
from adlab.ops import scalar as S
from adlab.testing import GradientCheckError
from tests.programs import ARRAY, ELEMENTWISE, Program, array_programs, programs, scalar_programs

SOAK = float(os.environ.get("ADLAB_SOAK", "0"))
"""``ADLAB_SOAK=20 pytest tests/test_properties.py`` runs 20 times the examples, with fresh
random seeds each run, to hunt for bugs; without it the run is fast and deterministic."""


def _examples(n: int) -> int:
    return int(n * SOAK) if SOAK else n


PROPERTY = settings(deadline=None, derandomize=not SOAK, database=None, max_examples=100)
"""Deterministic in CI: the same examples on every run (derandomize, no example database)."""


def _kinks_clear(program: Program) -> None:
    """Skip points within a finite-difference step of a kink (|x| at 0 for abs, ties ...)."""
    clear = program.kinks_are_clear()
    event("kinks: clear" if clear else "kinks: too close, skipped")
    assume(clear)


def _describe(program: Program) -> None:
    event(f"fan-out {min(program.fanout, 4)}{'+' if program.fanout >= 4 else ''}")
    for op in set(program.ops):
        event(f"op {op}")


# ---------------------------------------------------------------------------
# 1-2. Gradients (and second derivatives) against central differences


@settings(PROPERTY, max_examples=_examples(200))
@given(scalar_programs())
def test_scalar_program_gradients_match_finite_differences(program: Program) -> None:
    _describe(program)
    _kinks_clear(program)
    ad.testing.check_grads(program.fn, *program.args, order=1)


@settings(PROPERTY, max_examples=_examples(200))
@given(array_programs())
def test_array_program_gradients_match_finite_differences(program: Program) -> None:
    _describe(program)
    _kinks_clear(program)
    ad.testing.check_grads(program.fn, *program.args, order=1)


@settings(PROPERTY, max_examples=_examples(150))
@given(scalar_programs(max_ops=6))
def test_scalar_program_second_derivatives_match_finite_differences(program: Program) -> None:
    _kinks_clear(program)
    ad.testing.check_grads(program.fn, *program.args, order=2)


@settings(PROPERTY, max_examples=_examples(80))
@given(array_programs(max_ops=4, max_size=8))
def test_array_program_second_derivatives_match_finite_differences(program: Program) -> None:
    _kinks_clear(program)
    ad.testing.check_grads(program.fn, *program.args, order=2)


@settings(PROPERTY, max_examples=_examples(80))
@given(scalar_programs(max_ops=6))
def test_hessian_is_symmetric_and_matches_differences_of_the_gradient(program: Program) -> None:
    _kinks_clear(program)
    n = len(program.args)

    def packed(v: Any) -> Any:  # the program as a function of one vector (0-d array values)
        return program.fn(*[v[i] for i in range(n)])

    x = np.array(program.args)
    hess = ad.hessian(packed)(x)
    assert hess.shape == (n, n)
    scale = 1.0 + np.max(np.abs(hess))
    np.testing.assert_allclose(hess, hess.T, rtol=0, atol=1e-9 * scale, err_msg="not symmetric")
    by_differences = numeric.jacobian(ad.grad(packed), x)
    np.testing.assert_allclose(hess, by_differences, rtol=1e-4, atol=1e-5)


PRIMITIVES = [
    *((op, "scalar") for op in ELEMENTWISE),
    *((op, "array") for op in [*ELEMENTWISE, *ARRAY]),
]


@pytest.mark.parametrize(
    ("op", "kind"), PRIMITIVES, ids=[f"{op}-{kind}" for op, kind in PRIMITIVES]
)
def test_every_primitive_on_programs_built_around_it(op: str, kind: str) -> None:
    """Programs of one primitive (plus the templates' helpers), whatever the random mix does;
    on arrays the elementwise primitives broadcast."""
    strategy = (
        scalar_programs(ops=(op,), max_ops=3)
        if kind == "scalar"
        else array_programs(ops=(op,), max_ops=3, max_size=12)
    )

    @settings(PROPERTY, max_examples=_examples(8))
    @given(strategy)
    def check(program: Program) -> None:
        assert op in program.ops
        _kinks_clear(program)
        ad.testing.check_grads(program.fn, *program.args, order=2)

    check()


# ---------------------------------------------------------------------------
# 3-4. One engine, several paths: ad.grad, ad.trace().backward(), and the sweeps' events


def _assert_identical(got: Any, want: Any, what: str) -> None:
    """Same type, shape, dtype and bits (nan equal to nan)."""
    assert type(got) is type(want), f"{what}: {type(got).__name__} vs {type(want).__name__}"
    assert np.shape(got) == np.shape(want), f"{what}: shape {np.shape(got)} vs {np.shape(want)}"
    assert getattr(got, "dtype", None) == getattr(want, "dtype", None), f"{what}: dtype"
    assert np.array_equal(got, want, equal_nan=True), f"{what}: {got!r} != {want!r}"


ANY_DTYPE = programs(dtypes=(np.float64, np.float32))


@settings(PROPERTY, max_examples=_examples(150))
@given(ANY_DTYPE)
def test_trace_backward_equals_grad_exactly_and_is_idempotent(program: Program) -> None:
    argnums = tuple(range(len(program.args)))
    grads = ad.grad(program.fn, argnums=argnums)(*program.args)
    trace = ad.trace(program.fn, *program.args)
    first = trace.backward()
    second = trace.backward()
    assert len(first) == len(grads) == len(program.args)
    for i, (g, b1, b2, x) in enumerate(zip(grads, first, second, program.args)):
        _assert_identical(b1, g, f"trace.backward()[{i}] vs ad.grad")
        _assert_identical(b2, b1, f"second trace.backward()[{i}] vs first")
        assert np.shape(g) == np.shape(x)
        assert getattr(g, "dtype", None) == getattr(x, "dtype", None), "dtype not kept"
    value = ad.value_and_grad(program.fn)(*program.args)[0]
    _assert_identical(trace.output, value, "trace.output vs value_and_grad")


@settings(PROPERTY, max_examples=_examples(150))
@given(ANY_DTYPE)
def test_backward_events_accumulate_to_the_gradient(program: Program) -> None:
    trace = ad.trace(program.fn, *program.args)
    grads = trace.backward()
    events = trace.backward_events()
    seed, *steps = events
    assert seed.source is None and seed.node == trace.output_node.index
    totals = {seed.node: seed.total}
    for e in steps:
        prev = totals.get(e.node)
        assert e.first == (prev is None), f"step {e.step}: first={e.first}"
        # fan-out is visible as += steps: each total is the previous total plus this contribution
        want = e.contribution if prev is None else prev + e.contribution
        assert np.array_equal(e.total, want), f"step {e.step} ({e.name}): total is not prev + ct"
        totals[e.node] = e.total
    for i, node in enumerate(trace.input_nodes):
        final = totals.get(node.index, np.zeros_like(grads[i]))
        assert np.array_equal(np.asarray(final), np.asarray(grads[i])), (
            f"input {node.name}: last backward event total {final!r} != backward() {grads[i]!r}"
        )
    for b, g in zip(trace.backward(), grads):  # recording the events changed nothing
        _assert_identical(b, g, "backward() after backward_events()")


def _output_tangent(trace: ad.Trace, seed: Any) -> Any:
    events = trace.tangent_events(seed=seed)
    (out,) = [e for e in events if e.node == trace.output_node.index]
    return out.tangent


@settings(PROPERTY, max_examples=_examples(100))
@given(ANY_DTYPE)
def test_tangent_sweep_over_a_trace_matches_the_reverse_sweep(program: Program) -> None:
    trace = ad.trace(program.fn, *program.args)
    grads = trace.backward()
    single = all(getattr(x, "dtype", np.float64) == np.float32 for x in program.args)
    rtol, atol = (1e-4, 1e-5) if single else (1e-9, 1e-10)
    for i, (x, g) in enumerate(zip(program.args, grads)):
        scale = 1.0 + float(np.max(np.abs(g), initial=0.0))
        # seed=i: all-ones tangent on input i, so the output tangent is the sum of its gradient
        np.testing.assert_allclose(
            _output_tangent(trace, i),
            np.sum(g),
            rtol=rtol,
            atol=atol * scale * np.size(g),
            err_msg=f"seed={i}",
        )
        for k in range(np.size(x)):  # one-hot seeds: each gradient component in turn
            np.testing.assert_allclose(
                _output_tangent(trace, _one_hot(program.args, i, k)),
                np.ravel(g)[k],
                rtol=rtol,
                atol=atol * scale,
                err_msg=f"input {i}, component {k}",
            )


def _one_hot(args: tuple, i: int, k: int) -> list[Any]:
    """Tangent seeds: zero for every input except component ``k`` of input ``i``."""
    seeds = [np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0 for a in args]
    if isinstance(args[i], np.ndarray):
        seeds[i].flat[k] = 1.0
    else:
        seeds[i] = 1.0
    return seeds


@settings(PROPERTY, max_examples=_examples(80))
@given(programs())
def test_every_derived_operator_gives_the_same_derivative(program: Program) -> None:
    """value_and_grad, vjp, jacobian and jvp are all derived from the engine's vjp (jvp by
    transposing it): on a scalar output they must agree with each other."""
    args = program.args
    argnums = tuple(range(len(args)))
    value, grads = ad.value_and_grad(program.fn, argnums=argnums)(*args)
    out, pullback = ad.vjp(program.fn, *args)
    _assert_identical(out, value, "vjp's output vs value_and_grad's")
    for i, (ct, g) in enumerate(zip(pullback(1.0), grads)):
        _assert_identical(ct, g, f"vjp pullback(1.0)[{i}] vs grad")
    for i, (jac, g) in enumerate(zip(ad.jacobian(program.fn, argnums=argnums)(*args), grads)):
        assert np.shape(jac) == np.shape(g) and np.array_equal(jac, g), f"jacobian[{i}] vs grad"
    rng = np.random.default_rng(0)
    tangents = tuple(
        rng.standard_normal(np.shape(a))
        if isinstance(a, np.ndarray)
        else float(rng.standard_normal())
        for a in args
    )
    out_jvp, out_dot = ad.jvp(program.fn, args, tangents, mode="reverse")
    assert np.array_equal(out_jvp, value)
    terms = [np.sum(np.asarray(g) * t) for g, t in zip(grads, tangents)]
    scale = 1.0 + sum(np.sum(np.abs(np.asarray(g) * t)) for g, t in zip(grads, tangents))
    np.testing.assert_allclose(out_dot, sum(terms), rtol=1e-9, atol=1e-10 * scale)


# ---------------------------------------------------------------------------
# 5. The generator itself


@settings(PROPERTY, max_examples=_examples(100))
@given(programs())
def test_programs_fan_out_and_print_as_source_that_rebuilds_them(program: Program) -> None:
    assert program.fanout >= 2, program.uses
    rebuilt = eval(repr(program), {"Program": Program, "np": np})
    assert rebuilt.source == program.source
    _assert_identical(rebuilt.fn(*rebuilt.args), program.fn(*program.args), "rebuilt program")


# ---------------------------------------------------------------------------
# The properties can fail: break one rule of the table and they notice


def _break_sin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S.sin, "rule", S.sin.rule)  # restored after the test
    rules.defpartials(S.sin, lambda x, out: S.cos(out))  # a plausible slip: cos(sin x)


def _break_scatter_add(monkeypatch: pytest.MonkeyPatch) -> None:
    def overwriting_scatter_add(values: Any, *, index: Any, shape: tuple) -> Any:
        out = np.zeros(shape)
        out[index] = values  # repeated indices overwrite instead of accumulating
        return out

    monkeypatch.setattr(A.scatter_add_p, "impl", overwriting_scatter_add)


@pytest.mark.parametrize(
    ("breakage", "strategy"),
    [
        (_break_sin, scalar_programs(ops=("sin", "mul", "add"), max_ops=4)),
        (_break_scatter_add, array_programs(ops=("getitem", "exp"), max_ops=3)),
    ],
    ids=["sin-rule", "scatter-add-overwrites"],
)
def test_the_gradient_property_catches_a_broken_rule(
    breakage: Any, strategy: st.SearchStrategy, monkeypatch: pytest.MonkeyPatch
) -> None:
    breakage(monkeypatch)

    @settings(PROPERTY, max_examples=100, phases=[Phase.generate])
    @given(strategy)
    def gradients_match(program: Program) -> None:
        assume(program.kinks_are_clear())
        ad.testing.check_grads(program.fn, *program.args, order=1)

    with pytest.raises(GradientCheckError):
        gradients_match()


# ---------------------------------------------------------------------------
# Regressions found by the properties above, pinned as plain tests.
#
# Nested reverse mode (grad of grad, hessian, check_grads(order=2)): the inner Variable's value
# is a Variable of the outer transformation. reverse.py's fast paths used to call ``prim.impl``
# on that unwrapped value, so the outer level differentiated the numpy code of the
# implementation instead of the primitive's rule (fixed in 183a6f9; these keep it fixed).


def test_nested_derivatives_use_the_rule_not_the_implementation() -> None:
    # sigmoid's implementation computes exp(-|x|); differentiating that at x = 0 used abs'(0) = 0
    # and lost sigmoid'(0) = 1/4. (sigmoid²)'' = 2 (sigmoid'² + sigmoid sigmoid'') = 1/8 at 0.
    def f(x):
        return ad.sigmoid(x) * ad.sigmoid(x)

    assert ad.grad(ad.grad(f))(1e-300) == pytest.approx(0.125, rel=1e-12)  # right next to 0
    assert ad.grad(ad.grad(f))(0.0) == pytest.approx(0.125, rel=1e-12)
    hess = ad.hessian(lambda x: ad.sum(ad.sigmoid(x) ** 2))(np.array([0.0, 1.0]))
    assert hess[0, 0] == pytest.approx(0.125, rel=1e-12)


def test_logsumexp_has_a_second_derivative() -> None:
    # logsumexp's implementation calls np.squeeze, which has no rule: on an outer box it raised
    x = np.array([1.0, 2.0, 0.5])
    p = np.exp(x - np.log(np.sum(np.exp(x))))  # the softmax; the Hessian is diag(p) - p pᵀ
    hess = ad.hessian(lambda x: ad.logsumexp(x))(x)
    np.testing.assert_allclose(hess, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)


def test_custom_primitive_has_a_second_derivative() -> None:
    # DESIGN.md's own example: a rule added with defrule must give higher derivatives too;
    # the implementation's np.logaddexp used to be called on an outer Variable and raised.
    @ad.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)

    @softplus.defrule
    def softplus_partials(x):
        return (ad.sigmoid(x),)

    s = 1.0 / (1.0 + np.exp(-0.5))
    assert ad.grad(ad.grad(softplus))(0.5) == pytest.approx(s * (1.0 - s), rel=1e-12)


def test_mixed_second_derivative_of_a_power_at_exponent_zero() -> None:
    # pow's partial ∂/∂x = y * x ** where(y == 0, 1, y - 1) guarded x ** -1 at x = 0, but it also
    # replaced the exponent whenever y == 0, so d/dy of that partial was x instead of
    # x ** (y - 1) * (1 + y log x) = 1/x. The other order of differentiation was right.
    def f(x, y):
        return x**y

    d_dy_of_df_dx = ad.grad(ad.grad(f, argnums=0), argnums=1)
    d_dx_of_df_dy = ad.grad(ad.grad(f, argnums=1), argnums=0)
    assert d_dx_of_df_dy(2.0, 0.0) == pytest.approx(0.5, rel=1e-12)
    assert d_dy_of_df_dx(2.0, 1e-12) == pytest.approx(0.5, rel=1e-9)  # right next to y = 0
    assert d_dy_of_df_dx(2.0, 0.0) == pytest.approx(0.5, rel=1e-12)
