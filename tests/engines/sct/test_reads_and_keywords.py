"""sct: values read only without a derivative, and keyword arguments of the table's functions.

Regressions found by issue 15's numpy functions (whose rules use comparisons and numpy's
keywords): a temporary read only by a comparison (``ad.abs(x) < 0.1``) has a zero adjoint
(it was read from an adjoint never written: NameError); ``x.var(**kw)`` expands ``**kw``
as ``np.var(x, **kw)`` does (it printed ``None=kw``); a differentiated value passed by
keyword to a function of the table (``np.average(x, weights=w)``, ``ad.dot(a, y=x)``) is
an operand.
"""

from __future__ import annotations

import numpy as np
import pytest

import adlab as ad


def only_compared(x):
    return ad.where(ad.abs(x) < 0.1, x, 2.0 * x)


def compared_and_used(x):
    a = ad.abs(x)
    return ad.where(a < 0.1, x, 2.0 * x) * ad.sin(x)


@pytest.mark.parametrize("x", [0.05, 0.5, -0.5])
def test_a_value_read_only_by_a_comparison_has_a_zero_adjoint(x):
    assert ad.sct.grad(only_compared)(x) == ad.grad(only_compared)(x)
    assert ad.sct.grad(compared_and_used)(x) == pytest.approx(ad.grad(compared_and_used)(x))
    # and in sct over sct, where the rules of where and abs become code with comparisons
    want = ad.hessian(compared_and_used, mode=("forward", "reverse"))(x)
    assert ad.hessian(compared_and_used, mode="sct")(x) == pytest.approx(want, rel=1e-14)


KEYWORDS = {"axis": 0, "keepdims": True}


def method_with_double_star(x):
    return ad.sum(x.sum(**KEYWORDS) ** 2)


def function_with_double_star(x):
    return ad.sum(np.sum(x, **KEYWORDS) ** 2)


def test_double_star_keywords_of_a_method_are_expanded():
    x = np.array([[1.0, 2.0], [4.0, 3.0], [0.5, 1.5]])
    want = ad.grad(function_with_double_star)(x)
    np.testing.assert_array_equal(ad.sct.grad(method_with_double_star)(x), want)
    np.testing.assert_array_equal(ad.sct.grad(function_with_double_star)(x), want)


W = np.array([[1.0, -2.0], [0.5, 3.0]])


def by_keyword(x):
    return ad.sum(ad.dot(W, y=x * x))


def by_position(x):
    return ad.sum(ad.dot(W, x * x))


def test_a_differentiated_keyword_argument_of_the_table_is_an_operand():
    x = np.array([[1.0, 2.0], [4.0, 3.0]])
    g = ad.sct.grad(by_keyword)
    np.testing.assert_array_equal(g(x), ad.grad(by_keyword)(x))
    np.testing.assert_array_equal(g(x), ad.sct.grad(by_position)(x))
    assert "sct.vjp(ad.dot, W, t1)" in g.source  # bound as its signature binds it


def constant_keywords(x):
    return ad.sum(np.sum(x, axis=0, keepdims=True))


def test_constant_keywords_stay_keywords_in_the_code():
    assert "axis=0, keepdims=True" in ad.sct.grad(constant_keywords).source
