"""numpy's protocols and Python's operators on traced values route to the table.

The oracle is numpy itself: ``check_grads`` differentiates a function written
with numpy calls on Variables and compares with finite differences of the very
same function run by numpy on plain arrays. Also: ``ad.rule_table()`` shows
every primitive of the table once, with its partials as written.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

import adlab as ad
from adlab.core import rules
from adlab.ops.operators import ARRAY_METHODS_INSTEAD, UFUNCS
from adlab.ops.scalar import KINKS
from adlab.testing import check_grads

X = np.array([[0.35, 0.95, 1.15], [0.65, 0.45, 0.8]])
Y = np.array([0.55, 0.75, 1.05])
CONDITION = X > 0.7

DIFFERENTIABLE = {uf: fn for uf, fn in UFUNCS.items() if getattr(fn, "differentiable", True)}
ZERO_DERIVATIVE = {uf: fn for uf, fn in UFUNCS.items() if not getattr(fn, "differentiable", True)}


def ufunc_args(ufunc: np.ufunc) -> tuple:
    if ufunc is np.matmul:
        return X, X.T
    if ufunc in (np.arcsin, np.arccos, np.arctanh):  # inside their domain, (-1, 1)
        return (X / 2,)
    if ufunc is np.arccosh:  # inside (1, inf)
        return (X + 1,)
    return (X,) if ufunc.nin == 1 else (X, Y)


@pytest.mark.parametrize("ufunc", DIFFERENTIABLE, ids=lambda uf: f"np.{uf.__name__}")
def test_differentiable_ufunc_on_variables_matches_finite_differences(ufunc):
    check_grads(lambda *args: ufunc(*args), *ufunc_args(ufunc), order=2)


@pytest.mark.parametrize("ufunc", DIFFERENTIABLE, ids=lambda uf: f"np.{uf.__name__}")
def test_differentiable_ufunc_gives_the_gradient_of_its_adlab_function(ufunc):
    args = ufunc_args(ufunc)
    argnums = tuple(range(len(args)))
    via_numpy = ad.grad(lambda *a: ad.sum(ufunc(*a)), argnums)(*args)
    via_adlab = ad.grad(lambda *a: ad.sum(DIFFERENTIABLE[ufunc](*a)), argnums)(*args)
    for g_np, g_ad in zip(via_numpy, via_adlab):
        np.testing.assert_allclose(g_np, g_ad, rtol=1e-14)


@pytest.mark.parametrize("ufunc", ZERO_DERIVATIVE, ids=lambda uf: f"np.{uf.__name__}")
def test_zero_derivative_ufunc_passes_its_value_through(ufunc):
    """d/dx [x · u(x)] = u(x) when u is piecewise constant (comparisons, floor, sign ...)."""

    def u(v):
        if ufunc.nin == 1:
            return ufunc(3.0 * v)
        if ufunc.__name__.startswith("logical"):
            return ufunc(v > 0.5, v < 1.0)
        return ufunc(v, 0.5)

    x = np.array([0.2, 0.9, -0.7, 1.6, 0.5])
    g = ad.grad(lambda v: ad.sum(v * u(v)))(x)
    np.testing.assert_array_equal(g, u(x).astype(np.float64))


NUMPY_CALLS = {
    "np.sum(v,axis=0)": lambda v, w: np.sum(v, axis=0),
    "np.sum(v,axis=-1,keepdims)": lambda v, w: np.sum(v, axis=-1, keepdims=True),
    "np.sum(v)": lambda v, w: np.sum(v),
    "np.mean(v)": lambda v, w: np.mean(v),
    "np.mean(v,axis=1)": lambda v, w: np.mean(v, axis=1),
    "np.max(v,axis=1)": lambda v, w: np.max(v, axis=1),
    "np.max(v)": lambda v, w: np.max(v),
    "np.amax(v,axis=0)": lambda v, w: np.amax(v, axis=0),
    "np.reshape(v,(3,2))": lambda v, w: np.reshape(v, (3, 2)),
    "np.reshape(v,-1)": lambda v, w: np.reshape(v, -1),
    "np.transpose(v)": lambda v, w: np.transpose(v),
    "np.transpose(v,(1,0))": lambda v, w: np.transpose(v, (1, 0)),
    "np.broadcast_to": lambda v, w: np.broadcast_to(w, (4, 3)),
    "np.dot(v,w)": lambda v, w: np.dot(v, w),
    "np.dot(w,w)": lambda v, w: np.dot(w, w),
    "np.dot(v,v.T)": lambda v, w: np.dot(v, v.T),
    "np.concatenate": lambda v, w: np.concatenate([v, v * 2.0, X], axis=0),
    "np.concatenate(axis=-1)": lambda v, w: np.concatenate([v, w[:2, None]], axis=-1),
    "np.stack": lambda v, w: np.stack([w, Y, w * w]),
    "np.stack(axis=-1)": lambda v, w: np.stack([v, X], axis=-1),
    "np.where(c,v,w)": lambda v, w: np.where(CONDITION, v, w),
    "np.where(c,v,0)": lambda v, w: np.where(CONDITION, v, 0.0),
    "np.matmul": lambda v, w: np.matmul(v, w),
    "v@w": lambda v, w: v @ w,
    "ndarray@v": lambda v, w: X.T @ v,
    "v@ndarray": lambda v, w: v @ Y,
    "v.T": lambda v, w: v.T,
    "v[1:]": lambda v, w: v[1:],
    "v[:,::-1]": lambda v, w: v[:, ::-1],
    "v[[0,0,1]]": lambda v, w: v[[0, 0, 1]],
    "ndarray*v": lambda v, w: X * v,
    "ndarray*w": lambda v, w: X * w,
    "v*ndarray": lambda v, w: v * Y,
    "ndarray+v": lambda v, w: Y + v,
    "ndarray-v": lambda v, w: Y - v,
    "ndarray/v": lambda v, w: Y / v,
    "ndarray**w": lambda v, w: Y**w,
    "np.float64*v": lambda v, w: np.float64(2.5) * v,
    "0d-ndarray*v": lambda v, w: np.array(2.5) * v,
    "python-float-ops": lambda v, w: (2.0 - v) / (1.0 + w) ** 2.0,
    "-v,+v,abs(v)": lambda v, w: -v + (+v) * abs(v - 0.7),
    "v.sum(axis=0)": lambda v, w: v.sum(axis=0),
    "v.mean(1)": lambda v, w: v.mean(1),
    "v.max()": lambda v, w: v.max(),
    "v.reshape(3,-1)": lambda v, w: v.reshape(3, -1),
    "v.transpose(1,0)": lambda v, w: v.transpose(1, 0),
    "v.dot(w)": lambda v, w: v.dot(w),
    "iterating v": lambda v, w: np.stack([row * k for k, row in enumerate(v)]),
}


@pytest.mark.parametrize("f", NUMPY_CALLS.values(), ids=NUMPY_CALLS.keys())
def test_numpy_call_on_variables_matches_finite_differences(f):
    check_grads(f, X, Y, order=2)


# ---------------------------------------------------------------------------
# The rule table, as a table


def registered() -> list:
    zero_with_kinks = [p for p in rules.kinks if not p.differentiable]
    return list(dict.fromkeys(
        p for reg in (rules.partials, rules.jvps, rules.vjps, zero_with_kinks) for p in reg
    ))  # fmt: skip


def test_rule_table_lists_every_registered_primitive_exactly_once():
    table = ad.rule_table()
    names = table.column("primitive")
    assert collections.Counter(names) == collections.Counter(p.name for p in registered())
    for name in ["add", "pow", "where", "sum", "max", "getitem", "scatter_add", "matmul", "stack"]:
        assert names.count(name) == 1


def test_rule_table_says_how_each_rule_is_declared():
    rows = {row[0]: row for row in ad.rule_table().rows}
    for name in ["mul", "sin", "where", "maximum"]:
        assert rows[name][1] == "partials"
    for name in ["sum", "reshape", "getitem", "concatenate"]:
        assert rows[name][1].startswith("linear")
    for name in ["max", "matmul", "logsumexp"]:
        assert rows[name][1] == "jvp+vjp"
    for name, text in KINKS.items():
        assert rows[name][3] == text


def test_rule_table_shows_each_partial_as_written():
    rows = {row[0]: row[2] for row in ad.rule_table().rows}
    for prim, fns in rules.partials.items():
        if rules.declared.get(prim) is not fns:
            continue  # declared with .defrule: shown by the rule's name
        text = rows[prim.name]
        assert text.count("∂/∂") == sum(fn is not None for fn in fns), text
        for fn in fns:
            if callable(fn):  # the lambda's body, not its generated name (sin_dx)
                assert fn.__name__ not in text, text
    expected = {
        "sin": ["∂/∂x = cos(x)"],
        "cos": ["∂/∂x = -sin(x)"],
        "exp": ["∂/∂x = out"],
        "mul": ["∂/∂x = y", "∂/∂y = x"],
        "add": ["∂/∂x = 1.0", "∂/∂y = 1.0"],
        "sub": ["∂/∂y = -1.0"],
        "where": ["∂/∂x = condition"],
    }
    for name, parts in expected.items():
        for part in parts:
            assert part in rows[name]


# -- numpy array methods a traced value does not have ---------------------------------

IMPLEMENTED = {"T", "clip", "cumprod", "cumsum", "diagonal", "dot", "dtype", "flatten", "item",
               "max", "mean", "min", "ndim", "prod", "ravel", "repeat", "reshape", "shape",
               "size", "squeeze", "std", "sum", "swapaxes", "tolist", "trace", "transpose",
               "var"}  # fmt: skip
MISSING = sorted(n for n in dir(np.ndarray) if not n.startswith("_") and n not in IMPLEMENTED)


def _on_a_variable(check):
    """Run ``check(v)`` on a traced Variable (inside ad.grad) and return what it returns."""
    seen = []

    def f(x):
        seen.append(check(x))
        return ad.sum(x)

    ad.grad(f)(X)
    return seen[0]


@pytest.mark.parametrize("name", ["item", "tolist"])
def test_item_and_tolist_say_they_drop_the_value(name):
    with pytest.raises(ad.DifferentiationError, match=r"drop it out of the computation.*x\.value"):
        _on_a_variable(lambda v: getattr(v, name)())


@pytest.mark.parametrize("name", MISSING)
def test_a_missing_array_method_is_an_attribute_error_naming_the_fix(name):
    def check(v):
        with pytest.raises(AttributeError) as info:
            getattr(v, name)
        return str(info.value)

    message = _on_a_variable(check)
    assert f"x.{name}" in message and "use " in message, message
    assert name in ARRAY_METHODS_INSTEAD or f"x.value.{name}" in message, message


@pytest.mark.parametrize(
    "name, fix",
    [
        ("astype", "x.value.astype"),
        ("copy", "x itself"),
        ("resize", "a new value"),
        ("sort", "x = np.sort(x)"),
        ("take", "indexing: x[indices]"),
        ("round", "round(x)"),
        ("argsort", "np.argsort(x.value)"),
        ("argmax", "np.argmax(x.value)"),
        ("tobytes", "x.value.tobytes()"),
    ],
)
def test_a_missing_array_method_names_what_to_write_instead(name, fix):
    def check(v):
        with pytest.raises(AttributeError, match=rf"x\.{name}\(\): a traced Variable") as info:
            getattr(v, name)()
        return str(info.value)

    assert fix in _on_a_variable(check)


def test_hasattr_probes_still_answer():
    expected = {
        "_repr_html_": False, "__array_interface__": False, "ravel": True, "flat": False,
        "real": False, "shape": True, "dtype": True, "T": True, "sum": True, "item": True,
    }  # fmt: skip
    probes = _on_a_variable(lambda v: {name: hasattr(v, name) for name in expected})
    assert probes == expected
