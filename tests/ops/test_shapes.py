"""numpy's functions of shape and assembly (adlab/ops/shapes.py) against autograd.

Every case runs through :mod:`tests.ops.numpy_cases`: the value against numpy's, the gradient
in every array engine, the Hessian in each engine and over the others, Hessian-vector products
through nested modes, float32 kept; autograd is the oracle. Shapes include 0-d and empty
arrays, axes as numpy takes them (negative, tuples, None). Then ``sort``'s rule by
``check_rule`` and its ties, the array methods, and the refusals.
"""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

import adlab as ad
from adlab import ops
from adlab.ops.shapes import sort_p
from tests.ops.numpy_cases import (
    FIRST_ORDER,
    HVP,
    SECOND_ORDER,
    Case,
    check_float32,
    check_gradient,
    check_hessian,
    check_hvp,
    check_value,
    distinct,
    normal,
)


def m(*shape: int, seed: int = 0) -> np.ndarray:
    return normal(*shape, seed=seed)


def s(x: float) -> np.ndarray:
    return np.array(x)


R3 = "anp.arange(3)"
GATHER = "a[np.pad(np.arange({2}), {1}, '{0}')][:, np.pad(np.arange({3}), {1}, '{0}')]"
"""An oracle of np.pad for a gathering mode: rows, then columns, by numpy's padding of indices."""


CASES = [
    # new shapes
    Case("squeeze", "np.squeeze(a)", (m(1, 3, 1),)),
    Case("squeeze-axis", "np.squeeze(a, axis=-1)", (m(2, 1),)),
    Case("squeeze-axes", "np.squeeze(a, (0, 2))", (m(1, 3, 1),)),
    Case("squeeze-method", "a.squeeze()", (m(1, 3, 1),), "anp.squeeze(a)"),
    Case("squeeze-0d", "np.squeeze(a)", (s(0.3),)),
    Case("expand_dims", "np.expand_dims(a, 1)", (m(2, 3),)),
    Case("expand_dims-axes", "np.expand_dims(a, (0, -1))", (m(2, 3),)),
    Case("expand_dims-0d", "np.expand_dims(a, 0)", (s(0.3),)),
    Case("ravel", "np.ravel(a)", (m(2, 3, 2),)),
    Case("ravel-method", "a.ravel()", (m(2, 3),), "anp.ravel(a)"),
    Case("flatten-method", "a.flatten()", (m(2, 3),), "anp.ravel(a)"),
    Case("ravel-0d", "np.ravel(a)", (s(0.3),)),
    Case("ravel-empty", "np.ravel(a)", (m(0, 3),)),
    Case("atleast_1d-0d", "np.atleast_1d(a)", (s(0.3),)),
    Case("atleast_2d", "np.atleast_2d(a)", (m(3),)),
    Case("atleast_3d", "np.atleast_3d(a)", (m(2, 3),)),
    Case("atleast_2d-two", "np.atleast_2d(a, b)[1]", (m(3), s(0.3)),
         "anp.atleast_2d(b) + 0.0 * anp.sum(a)"),
    # moved axes
    Case("moveaxis", "np.moveaxis(a, 0, -1)", (m(2, 3, 4),)),
    Case("moveaxis-lists", "np.moveaxis(a, [0, 1], [-1, 0])", (m(2, 3, 4),)),
    Case("swapaxes", "np.swapaxes(a, 0, 2)", (m(2, 3, 4),)),
    Case("swapaxes-method", "a.swapaxes(1, -1)", (m(2, 3, 4),), "anp.swapaxes(a, 1, -1)"),
    # selections (where autograd has no rule, or a wrong one, the oracle indexes)
    Case("flip", "np.flip(a)", (m(2, 3),), "a[::-1, ::-1]"),
    Case("flip-axis", "np.flip(a, 1)", (m(2, 3),), "a[:, ::-1]"),
    Case("flip-axes", "np.flip(a, (0, 2))", (m(2, 3, 4),), "a[::-1, :, ::-1]"),
    Case("fliplr", "np.fliplr(a)", (m(2, 3),)),
    Case("flipud", "np.flipud(a)", (m(2, 3),)),
    Case("roll", "np.roll(a, 2)", (m(2, 3),)),
    Case("roll-axis", "np.roll(a, -1, axis=1)", (m(2, 3),)),
    Case("roll-axes", "np.roll(a, (1, 2), axis=(0, 1))", (m(2, 3),),
         "anp.roll(anp.roll(a, 1, axis=0), 2, axis=1)"),
    Case("roll-past-the-length", "np.roll(a, 5, axis=0)", (m(2, 3),)),
    Case("roll-empty", "np.roll(a, 1)", (m(0),)),
    Case("repeat", "np.repeat(a, 2)", (m(2, 3),)),
    Case("repeat-counts", "np.repeat(a, [1, 0, 2], axis=1)", (m(2, 3),),
         "anp.concatenate([a[:, 0:1], a[:, 2:3], a[:, 2:3]], axis=1)"),
    Case("repeat-method", "a.repeat(3, axis=0)", (m(2, 3),), "anp.repeat(a, 3, axis=0)"),
    Case("repeat-0d", "np.repeat(a, 3)", (s(0.3),), "anp.ones(3) * a"),
    Case("split", "np.split(a, 3)[1]", (m(6),)),
    Case("split-at", "np.split(a, [1, 3], axis=1)[2]", (m(2, 4),)),
    Case("split-every-part", "np.stack(np.split(a, 3))", (m(6),)),
    Case("split-empty-parts", "np.split(a, [0, 5])[1]", (m(5),)),
    Case("array_split", "np.array_split(a, 3, axis=1)[0]", (m(2, 4),)),
    Case("hsplit", "np.hsplit(a, 2)[1]", (m(2, 4),)),
    Case("vsplit", "np.vsplit(a, [1])[1]", (m(3, 2),)),
    Case("diagonal", "np.diagonal(a)", (m(3, 4),), f"a[{R3}, {R3}]"),
    Case("diagonal-axes", "np.diagonal(a, 1, 0, 2)", (m(3, 2, 4),),
         f"anp.transpose(a[{R3}, :, anp.arange(1, 4)])"),
    Case("diagonal-method", "a.diagonal(-1, -1, 0)", (m(3, 4),), f"a[{R3}, anp.arange(1, 4)]"),
    Case("diagonal-empty", "np.diagonal(a, 5)", (m(3, 4),), "a[0, :0]"),
    Case("trace", "np.trace(a)", (m(3, 3),)),
    Case("trace-offset", "np.trace(a, -1)", (m(3, 4),)),
    Case("trace-axes", "np.trace(a, 0, 1, 2)", (m(2, 3, 3),),
         f"anp.sum(a[:, {R3}, {R3}], axis=-1)"),
    Case("trace-method", "a.trace()", (m(3, 3),), "anp.trace(a)"),
    # copies and placements
    Case("tile", "np.tile(a, 2)", (m(3),)),
    Case("tile-more-reps", "np.tile(a, (2, 1, 2))", (m(2, 3),)),
    Case("tile-fewer-reps", "np.tile(a, (2,))", (m(2, 3),), "anp.concatenate([a, a], axis=1)"),
    Case("tile-0d", "np.tile(a, 3)", (s(0.3),)),
    Case("diag-vector", "np.diag(a)", (m(3),)),
    Case("diag-vector-above", "np.diag(a, 1)", (m(3),)),
    Case("diag-vector-below", "np.diag(a, -2)", (m(3),)),
    Case("diag-matrix", "np.diag(a)", (m(3, 4),), f"a[{R3}, {R3}]"),
    Case("diag-matrix-below", "np.diag(a, -1)", (m(3, 4),), "a[anp.arange(1, 3), anp.arange(2)]"),
    # (autograd pads with zeros only, and not in every version: these oracles place the array
    # with products of shifted identities, or gather it by numpy's padding of its indices)
    Case("pad", "np.pad(a, 1)", (m(2, 3),), "np.eye(4, 2, -1) @ a @ np.eye(3, 5, 1)"),
    Case("pad-constant", "np.pad(a, ((1, 0), (2, 1)), constant_values=0.5)", (m(2, 3),),
         "np.eye(3, 2, -1) @ a @ np.eye(3, 6, 2)"
         " + np.pad(np.zeros((2, 3)), ((1, 0), (2, 1)), constant_values=0.5)"),
    Case("pad-constants", "np.pad(a, (1, 2), constant_values=((1.0, 2.0), (3.0, 4.0)))",
         (m(2, 3),), "np.eye(5, 2, -1) @ a @ np.eye(3, 6, 1)"
         " + np.pad(np.zeros((2, 3)), (1, 2), constant_values=((1.0, 2.0), (3.0, 4.0)))"),
    Case("pad-edge", "np.pad(a, 2, mode='edge')", (m(2, 3),), GATHER.format("edge", 2, 2, 3)),
    Case("pad-reflect", "np.pad(a, (2, 1), mode='reflect')", (m(3, 4),),
         GATHER.format("reflect", (2, 1), 3, 4)),
    Case("pad-symmetric", "np.pad(a, 3, mode='symmetric')", (m(2, 3),),
         GATHER.format("symmetric", 3, 2, 3)),
    Case("pad-wrap", "np.pad(a, 4, mode='wrap')", (m(3),), "a[np.pad(np.arange(3), 4, 'wrap')]"),
    Case("pad-0d", "np.pad(a, 1)", (s(0.3),), "a"),
    Case("triu", "np.triu(a)", (m(3, 4),)),
    Case("triu-above", "np.triu(a, 1)", (m(3, 4),)),
    Case("triu-vector", "np.triu(a)", (m(3),), "anp.triu(anp.ones((3, 1)) * a)"),
    Case("tril-below", "np.tril(a, -1)", (m(4, 3),)),
    Case("tril-stack", "np.tril(a)", (m(2, 3, 3),)),
    # joins
    Case("concatenate", "np.concatenate([a, b], axis=1)", (m(2, 3), m(2, 1, seed=1))),
    Case("concatenate-none", "np.concatenate([a, b], axis=None)", (m(2, 3), m(4, seed=1)),
         "anp.concatenate([anp.ravel(a), b])"),
    Case("concatenate-empty", "np.concatenate((a, b))", (m(0, 3), m(2, 3, seed=1))),
    Case("append", "np.append(a, b)", (m(2, 3), m(4, seed=1))),
    Case("append-axis", "np.append(a, b, axis=0)", (m(2, 3), m(1, 3, seed=1))),
    Case("vstack-vectors", "np.vstack([a, b])", (m(3), m(3, seed=1))),
    Case("vstack", "np.vstack([a, b])", (m(2, 3), m(3, seed=1))),
    Case("hstack-vectors", "np.hstack([a, b])", (m(2), m(3, seed=1))),
    Case("hstack", "np.hstack([a, b])", (m(2, 3), m(2, 1, seed=1))),
    Case("hstack-0d", "np.hstack([a, b])", (s(0.3), s(-0.5))),
    Case("dstack", "np.dstack([a, b])", (m(2, 3), m(2, 3, seed=1)),
         "anp.concatenate([a[:, :, None], b[:, :, None]], axis=2)"),
    Case("column_stack", "np.column_stack([a, b])", (m(3), m(3, 2, seed=1))),
    Case("stack-axis", "np.stack([a, b], axis=-1)", (m(2, 3), m(2, 3, seed=1))),
    # sorting (no ties; autograd sorts vectors only)
    Case("sort", "np.sort(a)", (distinct(5),)),
    Case("sort-axis", "np.sort(a, axis=0)", (distinct(3, 4),),
         "anp.stack([anp.sort(a[:, j]) for j in range(4)], axis=1)"),
    Case("sort-none", "np.sort(a, axis=None)", (distinct(3, 4),), "anp.sort(anp.ravel(a))"),
    Case("sort-kind", "np.sort(a, kind='stable')", (distinct(2, 4),),
         "anp.stack([anp.sort(a[i]) for i in range(2)])"),
    Case("sort-empty", "np.sort(a)", (m(0),)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_value_is_numpys(case):
    check_value(case)


@pytest.mark.parametrize("mode", FIRST_ORDER)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradient_against_autograd(case, mode):
    check_gradient(case, mode)


@pytest.mark.parametrize("mode", SECOND_ORDER, ids=str)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_hessian_against_autograd(case, mode):
    check_hessian(case, mode)


@pytest.mark.parametrize("inner", HVP)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_hessian_vector_product_through_nested_modes(case, inner):
    check_hvp(case, inner)


@pytest.mark.parametrize("case", [c for c in CASES if "0d" not in c.name], ids=repr)
def test_float32_stays_float32(case):
    check_float32(case)


# ---------------------------------------------------------------------------
# Linear, by the table's linear primitives


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c.name.startswith(("sort", "triu", "tril"))], ids=repr
)
def test_each_is_written_with_linear_primitives(case):
    """Every primitive these functions record is declared linear (a transpose, no partials),
    except ``add`` of a constant border (pad) and ``sort``, ``triu``, ``tril`` (see below)."""
    t = ad.trace(lambda *args: case.fn()(*args), *case.args)
    kinds = {node.op.name: node.op.rule.kind for node in t.operations}
    assert all(k.startswith("linear") for name, k in kinds.items() if name != "add"), kinds


def test_triangles_are_where_of_a_constant_mask_and_sort_a_permutation():
    x = m(3, 3)
    assert [n.op.name for n in ad.trace(np.triu, x).operations] == ["where"]
    assert [n.op.name for n in ad.trace(np.sort, x).operations] == ["sort"]


# ---------------------------------------------------------------------------
# sort: its rule, and its ties

SORTS = {"vector": ((5,), 0), "rows": ((3, 4), 1), "columns": ((3, 4), 0), "3d": ((2, 3, 2), 1)}


@pytest.mark.parametrize("case", SORTS.values(), ids=SORTS.keys())
def test_sort_rule_passes_check_rule(case):
    shape, axis = case
    ad.testing.check_rule(sort_p, distinct(*shape), params={"axis": axis})


@pytest.mark.parametrize("mode", ["reverse", "forward", "sct"])
def test_sort_ties_follow_a_stable_sort(mode):
    """x = [2, 1, 2]: the stable order is x1, x0, x2, so x0 takes the weight of the second
    place and x2 of the third, as the kink note says."""
    w = np.array([10.0, 20.0, 30.0])
    g = ad.grad(lambda x: np.sum(np.sort(x) * w), mode=mode)(np.array([2.0, 1.0, 2.0]))
    np.testing.assert_array_equal(g, [20.0, 10.0, 30.0])
    assert "stable" in ad.rule_table().rows[[r[0] for r in ad.rule_table().rows].index("sort")][3]


def test_sort_method_is_refused_because_numpys_sorts_in_place():
    def f(x):
        x.sort()
        return np.sum(x)

    with pytest.raises(AttributeError, match=r"x = np.sort\(x\)"):
        ad.grad(f)(m(3))


# ---------------------------------------------------------------------------
# The array methods of the issue, generated from the declarations


METHODS = ("dot", "ravel", "flatten", "squeeze", "repeat", "trace", "diagonal", "swapaxes")


@pytest.mark.parametrize("cls", [ad.Variable, ad.Dual], ids=lambda c: c.__name__)
def test_traced_values_have_the_array_methods(cls):
    from adlab.ops.array import METHODS as DECLARED

    for name in METHODS:
        assert getattr(cls, name).__name__ == DECLARED[name].__name__


def test_sct_reads_the_methods_from_the_table():
    def f(x):
        return x.ravel().sum() + x.trace() + x.diagonal().sum() + x.swapaxes(0, 1).flatten()[1]

    g = ad.sct.grad(f)
    assert "ad.ravel" in g.source and "ad.matrix_trace" in g.source
    np.testing.assert_allclose(g(m(3, 3)), ad.grad(f)(m(3, 3)), rtol=1e-14)


def test_no_table_function_shadows_the_api():
    """adlab/__init__ exports the table after its own names: a table function named like one
    of them (``trace``, the tracer) would replace it."""
    import adlab

    tree = ast.parse(inspect.getsource(adlab))
    imported = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for a in node.names}  # fmt: skip
    assert not imported & set(ops.PUBLIC)
    assert ad.trace.__module__ == "adlab.engines.reverse.trace"


# ---------------------------------------------------------------------------
# Errors as numpy's, and refusals


ERRORS = {
    "squeeze a long axis": (lambda x: np.squeeze(x, 1), (1, 3)),
    "expand_dims repeated": (lambda x: np.expand_dims(x, (0, 0)), (2,)),
    "expand_dims out of range": (lambda x: np.expand_dims(x, 3), (2,)),
    "split unequally": (lambda x: np.split(x, 4), (6,)),
    "diagonal of a vector": (lambda x: np.diagonal(x), (3,)),
    "diagonal on one axis": (lambda x: np.diagonal(x, 0, 1, 1), (3, 3)),
    "diag of 3d": (lambda x: np.diag(x), (2, 2, 2)),
    "moveaxis twice": (lambda x: np.moveaxis(x, (0, 0), (1, 2)), (2, 3, 4)),
    "swapaxes out of range": (lambda x: np.swapaxes(x, 0, 3), (2, 3)),
    "roll out of range": (lambda x: np.roll(x, 1, axis=2), (2, 3)),
    "pad negative": (lambda x: np.pad(x, -1), (2, 3)),
    "vsplit of a vector": (lambda x: np.vsplit(x, 2), (4,)),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_bad_arguments_raise_as_numpy(case):
    f, shape = case
    x = m(*shape)
    with pytest.raises(ValueError) as by_numpy:
        f(x)
    with pytest.raises(type(by_numpy.value)):
        ad.grad(lambda x: np.sum(f(x)))(x)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.pad(x, 1, mode="mean"),
        lambda x: np.pad(x, 1, mode="reflect", reflect_type="odd"),
        lambda x: np.pad(x, 1, mode="linear_ramp", end_values=1.0),
    ],
    ids=["mean", "odd", "linear_ramp"],
)
def test_pad_modes_that_compute_values_are_refused(call):
    with pytest.raises((ValueError, ad.DifferentiationError), match="not supported on traced"):
        ad.grad(lambda x: np.sum(call(x)))(m(2, 3))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.trace(x, out=np.empty(())),
        lambda x: np.concatenate([x, x], out=np.empty((4, 2))),
    ],
    ids=["trace", "concatenate"],
)
def test_out_is_refused(call):
    with pytest.raises(ad.DifferentiationError, match=r"out=\.\.\.\) would overwrite"):
        ad.grad(lambda x: np.sum(call(x)))(m(2, 2))


def test_other_keywords_are_refused_by_name():
    with pytest.raises(ad.DifferentiationError, match=r"np.trace\(\.\.\., dtype=\.\.\.\)"):
        ad.grad(lambda x: np.trace(x, dtype=np.float32))(m(2, 2))


def test_symbolic_mode_refuses_arrays_with_its_message():
    with pytest.raises(ad.DifferentiationError, match="symbolic mode differentiates functions"):
        ad.grad(lambda a: np.trace(np.tile(a, (2, 2))), mode="symbolic")(m(2, 2))


def test_split_gives_every_part_its_gradient():
    g = ad.grad(lambda x: sum(np.sum(p) * (k + 1) for k, p in enumerate(np.split(x, 3))))(m(6))
    np.testing.assert_array_equal(g, [1.0, 1.0, 2.0, 2.0, 3.0, 3.0])


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.hstack([[1.0], x]),
        lambda x: np.vstack([[1.0, 2.0], x]),
        lambda x: np.column_stack([[1.0, 2.0], x]),
        lambda x: np.append([1.0], x),
    ],
    ids=["hstack", "vstack", "column_stack", "append"],
)
def test_a_list_beside_a_traced_value_is_an_array(f):
    x = np.array([0.5, -1.0])
    np.testing.assert_array_equal(ad.grad(lambda x: np.sum(f(x) * 2.0))(x), [2.0, 2.0])
    np.testing.assert_array_equal(ad.vjp(f, x)[0], f(x))
