"""A library primitive is one declaration in one file (CONTRIBUTING.md, "Adding a primitive").

The proof: declare ``cosh`` and ``sinh`` here as ``adlab/ops/scalar.py`` would, one
``elementwise(...)`` call each, and nothing else: every engine differentiates them, to
second order; ``np.cosh`` and ``math.cosh`` reach them on traced values; sct prints their
partials as code; LaTeX typesets them; the rule table lists them. (The fixture removes
them from the table's indexes afterwards, so the library's own cosh, when it comes, is
not shadowed.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import adlab as ad
from adlab.core import primitive
from adlab.ops import scalar


@pytest.fixture(scope="module")
def cosh():
    """``cosh`` and its partner ``sinh``, declared the way the library declares them."""
    sinh = scalar.elementwise("sinh_declared", math.sinh, np.sinh, "hyperbolic sine",
                              partial=lambda x, out: cosh(x), latex=r"\sinh")  # fmt: skip
    cosh = scalar.elementwise("cosh_declared", math.cosh, np.cosh, "hyperbolic cosine",
                              partial=lambda x, out: sinh(x), latex=r"\cosh")  # fmt: skip
    yield cosh
    for fn in (np.sinh, np.cosh, math.sinh, math.cosh):
        if primitive._STANDS_FOR.get(fn) in (sinh, cosh):
            del primitive._STANDS_FOR[fn]
    for name in ("sinh_declared", "cosh_declared"):
        scalar.PUBLIC.pop(name, None)


def with_cosh(x):
    return np.cosh(x) * x


@pytest.mark.parametrize("mode", ad.MODES)
def test_every_engine_differentiates_it(cosh, mode):
    want = math.sinh(0.7) * 0.7 + math.cosh(0.7)
    assert ad.grad(lambda x: cosh(x) * x, mode=mode)(0.7) == pytest.approx(want, rel=1e-8)


@pytest.mark.parametrize("mode", ["forward", "reverse", "sct", "symbolic"])
def test_to_second_order(cosh, mode):
    want = 2 * math.sinh(0.7) + 0.7 * math.cosh(0.7)  # (x cosh x)'' = 2 sinh x + x cosh x
    assert ad.hessian(lambda x: cosh(x) * x, mode=mode)(0.7) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("mode", ["forward", "reverse", "sct", "symbolic"])
def test_numpy_and_math_reach_it(cosh, mode):
    want = math.sinh(0.7) * 0.7 + math.cosh(0.7)
    assert ad.grad(with_cosh, mode=mode)(0.7) == pytest.approx(want, rel=1e-12)
    if mode in ("forward", "reverse"):
        g = ad.grad(lambda v: ad.sum(np.cosh(v)), mode=mode)(np.array([0.0, 1.0]))
        np.testing.assert_allclose(g, np.sinh([0.0, 1.0]))


def cosh_by_math(x):
    return math.cosh(x) * x


def test_sct_prints_its_partial(cosh):
    g = ad.sct.grad(cosh_by_math)
    assert "sinh_declared" in g.source and "cosh_declared" in g.source
    assert g(0.7) == pytest.approx(math.sinh(0.7) * 0.7 + math.cosh(0.7), rel=1e-12)


def test_latex_and_the_rule_table_read_the_declaration(cosh):
    x = ad.symbols("x")
    assert cosh(x).latex() == r"\cosh\left(x\right)"
    assert cosh(x).diff(x).latex() == r"\sinh\left(x\right)"
    row = next(r for r in ad.rule_table().rows if r[0] == "cosh_declared")
    assert row[1:3] == ("partials", "∂/∂x = sinh(x)")
