"""Every engine on the same functions: the ZOO through every mode, and ad.compare."""

from __future__ import annotations

import math

import numpy as np
import pytest

import adlab as ad
from adlab.core.tree import flatten
from adlab.testing import ZOO

MODES = ad.api.available_modes()
EXACT = [m for m in MODES if m != "numeric"]

# (mode, zoo function) pairs an engine declines, with the reason it must give
DECLINED = {
    ("symbolic", "rosenbrock"): "symbolic",
    ("symbolic", "softmax_xent"): "symbolic",
    ("symbolic", "mlp"): "symbolic",
    ("symbolic", "broadcasting"): "symbolic",
    ("symbolic", "joins"): "symbolic",
    ("symbolic", "matmul_chain"): "symbolic",
    ("symbolic", "dict_args"): "symbolic",
}


def _leaves(tree):
    return [np.ravel(np.asarray(leaf, dtype=float)) for leaf in flatten(tree)[0]]


def _gradient(z, mode):
    argnums = tuple(range(len(z.args)))
    return ad.value_and_grad(z.f, argnums, mode=mode)(*z.args)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("z", ZOO, ids=[z.name for z in ZOO])
def test_every_mode_agrees_with_reverse_mode(z, mode):
    want_value, want = _gradient(z, "reverse")
    if (mode, z.name) in DECLINED:
        with pytest.raises(ad.DifferentiationError, match=DECLINED[mode, z.name]):
            _gradient(z, mode)
        return
    value, got = _gradient(z, mode)
    rtol, atol = (1e-6, 1e-7) if mode == "numeric" else (1e-11, 1e-12)
    assert value == pytest.approx(want_value, rel=1e-13)
    assert flatten(got)[1] == flatten(want)[1], "the gradient has the arguments' structure"
    for g, w in zip(_leaves(got), _leaves(want)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * (1 + np.abs(w).max()))


SECOND_ORDER = [
    pytest.param(z, mode, id=f"{z.name}-{mode}")
    for mode in EXACT if mode not in ("reverse", "sct")  # those two: in their own tests
    for z in ZOO if (mode, z.name) not in DECLINED
]  # fmt: skip


@pytest.mark.parametrize(("z", "mode"), SECOND_ORDER)
def test_every_exact_mode_against_finite_differences_to_second_order(z, mode):
    ad.testing.check_grads(z.f, *z.args, order=2, mode=mode)


# -- the lecture's checkable facts, in every mode --------------------------------------


@pytest.mark.parametrize("mode", EXACT)
def test_facts_1_18_29_30_are_exact_in_every_exact_mode(mode):
    assert ad.grad(lambda x, y: x**2 + x * y, (0, 1), mode=mode)(1.0, 2.0) == (4.0, 1.0)
    df = ad.grad(lambda x: x**2, mode=mode)
    assert (df(2.0), df(3.0)) == (4.0, 6.0)
    assert ad.grad(lambda u, v: (u + v) * (u - v), (0, 1), mode=mode)(3.0, 2.0) == (6.0, -4.0)
    assert ad.grad(lambda x, y: x * (x + y), (0, 1), mode=mode)(2.0, 3.0) == (7.0, 2.0)


@pytest.mark.parametrize("mode", EXACT)
def test_fact_2_within_1e_15_and_fact_27_exactly_minus_28(mode):
    talk = next(z for z in ZOO if z.name == "talk_f").f
    gx, gy = ad.grad(talk, (0, 1), mode=mode)(0.5, -0.5)
    assert abs(gx + 17 / 18) < 1e-15 and abs(gy - 25 / 36) < 1e-15
    loss = next(z for z in ZOO if z.name == "regression_loop").f
    assert ad.grad(loss, mode=mode)(1.0) == -28.0


@pytest.mark.parametrize("mode", EXACT)
def test_fact_22_and_33_in_every_exact_mode(mode):
    x8 = next(z for z in ZOO if z.name == "x_to_the_8").f
    assert [ad.grad(x8, mode=mode)(x) for x in (1.0, 2.0, 3.0)] == [8.0, 1024.0, 17496.0]
    assert ad.grad(lambda x: 2.0 * x * x + 3.0 * x + 1.0, mode=mode)(2.0) == 11.0


def test_fact_27_by_forward_difference_is_not_minus_28():
    loss = next(z for z in ZOO if z.name == "regression_loop").f
    assert ad.numeric.forward_difference(loss, 1.0, h=1e-8) == -27.999999474559445


# -- ad.compare ------------------------------------------------------------------------


def test_compare_tabulates_every_mode():
    talk = next(z for z in ZOO if z.name == "talk_f")
    table = ad.compare(talk.f, *talk.args)
    assert [r.mode for r in table] == list(MODES)
    for r in table:
        assert r.failure is None, r.failure
        assert r.value == pytest.approx(13 / 24, rel=1e-15)
        assert r.seconds > 0
        assert r.error < (1e-6 if r.mode == "numeric" else 1e-15)
    assert table["reverse"].error == 0.0
    assert (table["reverse"].cost.passes, table["reverse"].cost.sweeps) == (1, 1)
    assert (table["forward"].cost.passes, table["forward"].cost.sweeps) == (2, 0)
    html = table._repr_html_()
    assert "<table" in html and "max error vs reverse" in html and "time per call" in html


def test_compare_without_timing_is_deterministic_text():
    f = lambda x, y: x * x * y  # noqa: E731
    first = repr(ad.compare(f, 3.0, 2.0, time=False))
    assert first == repr(ad.compare(f, 3.0, 2.0, time=False))
    assert "time per call" not in first and "(12.0, 9.0)" in first


def test_compare_shows_an_engine_that_declines_instead_of_failing():
    def branchy(x):
        return x * x if x > 0 else -x

    modes = [m for m in ("symbolic", "forward", "reverse") if m in MODES]
    table = ad.compare(branchy, 2.0, modes=modes, time=False)
    assert table["forward"].gradient == 4.0 and table["forward"].error == 0.0
    if "symbolic" in modes:
        assert "cannot decide" in table["symbolic"].failure
        assert "cannot decide" in repr(table)


def test_compare_against_another_reference_and_bad_modes():
    table = ad.compare(lambda x: ad.sin(x), 1.0, modes=("numeric", "forward"), reference="forward",
                       time=False)  # fmt: skip
    assert table["forward"].error == 0.0 and 0 < table["numeric"].error < 1e-8
    assert table.reference == "forward"
    with pytest.raises(ValueError, match="unknown mode 'quantum'"):
        ad.compare(lambda x: x, 1.0, modes=("quantum",))
    with pytest.raises(KeyError, match="no row for mode 'sct'"):
        table["sct"]


def test_counting_counts_calls_passes_and_sweeps_per_mode():
    f = lambda x: ad.sum(x**3)  # noqa: E731
    x = np.arange(4.0)
    with ad.counting() as cost:
        ad.grad(f, mode="forward")(x)
    assert (cost.calls, cost.passes, cost.sweeps) == (4, 4, 0)
    with ad.counting() as cost:
        ad.grad(f, mode="numeric")(x)
    # the value, then central differences; differences make no passes or sweeps
    assert (cost.calls, cost.passes, cost.sweeps) == (1 + 2 * 4, 0, 0)
    with ad.counting() as outer:
        with ad.counting() as inner:
            ad.grad(f)(x)
        ad.grad(f)(x)
    assert (inner.passes, outer.passes) == (1, 2)
    assert math.isclose(ad.grad(f, mode="numeric")(x)[3], 27.0, rel_tol=1e-7)
