"""adlab.core: trees, graph walks, tangents, values, events, the registry."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import adlab as ad
from adlab.core import events, graph, rules, tangents, tree, values
from adlab.core.primitive import Box, Primitive, new_level

# -- tree ----------------------------------------------------------------------

Point = namedtuple("Point", "x y")


@pytest.mark.parametrize(
    "obj",
    [
        1.0,
        np.ones(3),
        (1.0, 2.0),
        [1.0, (2.0, [3.0])],
        {"b": 1.0, "a": (2.0, 3.0)},
        Point(1.0, np.zeros(2)),
        (),
    ],
    ids=["float", "array", "tuple", "nested", "dict", "namedtuple", "empty"],
)
def test_flatten_then_unflatten_is_the_identity(obj):
    leaves, td = tree.flatten(obj)
    assert td.num_leaves == len(leaves)
    rebuilt = tree.unflatten(td, leaves)
    assert type(rebuilt) is type(obj)
    assert repr(rebuilt) == repr(obj)


def test_flatten_order_is_left_to_right_and_dicts_keep_insertion_order():
    leaves, _ = tree.flatten({"b": 1.0, "a": (2.0, 3.0)})
    assert leaves == [1.0, 2.0, 3.0]
    assert tree.leaf_paths({"b": 1.0, "a": (2.0, 3.0)}, "p") == ["p['b']", "p['a'][0]", "p['a'][1]"]


def test_unflatten_rejects_the_wrong_number_of_leaves():
    _, td = tree.flatten((1.0, 2.0))
    with pytest.raises(ValueError, match="too few"):
        tree.unflatten(td, [1.0])
    with pytest.raises(ValueError, match="too many"):
        tree.unflatten(td, [1.0, 2.0, 3.0])


# -- graph ---------------------------------------------------------------------


class N:
    def __init__(self, name, *parents):
        self.name, self.parents = name, parents

    def __repr__(self):
        return self.name


def test_topological_order_puts_parents_first_deterministically():
    x, y = N("x"), N("y")
    t = N("t", x, y)
    z = N("z", x, t)
    order = graph.topological_order([z], lambda n: n.parents)
    assert order == [x, y, t, z]
    assert graph.generations(order, lambda n: n.parents) == {x: 0, y: 0, t: 1, z: 2}


def test_topological_order_is_iterative():
    node = N("0")
    for i in range(200_000):  # far beyond the recursion limit
        node = N(str(i + 1), node)
    order = graph.topological_order([node], lambda n: n.parents)
    assert len(order) == 200_001 and order[-1] is node


# -- tangents ------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, target, expected",
    [
        ((2, 3), (3,), [2.0, 2.0, 2.0]),
        ((2, 3), (2, 1), [[3.0], [3.0]]),
        ((2, 3), (1, 3), [[2.0, 2.0, 2.0]]),
        ((2, 3), (), 6.0),
        ((4,), (4,), [1.0] * 4),
    ],
)
def test_sum_to_shape_undoes_broadcasting(shape, target, expected):
    out = tangents.sum_to_shape(np.ones(shape), target)
    assert np.shape(out) == target
    np.testing.assert_array_equal(out, expected)


def test_sum_to_shape_refuses_to_grow():
    with pytest.raises(ValueError, match="larger shape"):
        tangents.sum_to_shape(np.ones(3), (2, 3))


def test_fit_keeps_the_primal_dtype():
    ct = tangents.fit(np.ones((2, 3), np.float64), (3,), np.dtype(np.float32))
    assert ct.dtype == np.float32 and ct.shape == (3,)


@pytest.mark.parametrize(
    "x, zero", [(2.0, 0.0), (np.float32(2), np.float32(0)), (np.ones((2, 2)), np.zeros((2, 2)))]
)
def test_zeros_like_matches_type_shape_and_dtype(x, zero):
    z = tangents.zeros_like(x)
    assert type(z) is type(zero) and np.shape(z) == np.shape(zero)
    assert getattr(z, "dtype", None) == getattr(zero, "dtype", None)


# -- values --------------------------------------------------------------------


def test_as_primal_promotes_ints_and_keeps_float_dtypes():
    assert values.as_primal(3) == 3.0 and type(values.as_primal(3)) is float
    assert values.as_primal(np.arange(3)).dtype == np.float64
    assert values.as_primal(np.ones(2, np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "bad, words",
    [
        (True, "bool"),
        (1j, "complex"),
        (np.ones(2, complex), "complex128"),
        ("x", "str"),
        (None, "NoneType"),
    ],
)
def test_as_primal_names_what_cannot_be_differentiated(bad, words):
    with pytest.raises(ad.DifferentiationError, match=words):
        values.as_primal(bad, "the input")


# -- primitives and the registry -------------------------------------------------


def test_levels_only_grow():
    a, b = new_level(), new_level()
    assert b > a


def test_the_highest_level_box_handles_a_call():
    seen = []

    class Probe(Box):
        def __init__(self, level):
            self._level = level

        def _process(self, prim, args, params):
            seen.append(self._level)
            return "handled"

    p = Primitive("probe", lambda *a: "plain")
    assert p(1.0, 2.0) == "plain"
    assert p(Probe(3), Probe(7), 1.0) == "handled" and seen == [7]


def test_a_user_rule_declared_jointly_becomes_partials():
    p = Primitive("twice_product", lambda x, y: 2 * x * y)

    @p.defrule
    def twice_product_partials(x, y):
        return (2 * y, 2 * x)

    assert rules.rule_kind(p) == "partials"
    assert ad.grad(lambda a, b: p(a, b), argnums=(0, 1))(3.0, 5.0) == (10.0, 6.0)


def test_a_joint_rule_of_the_wrong_length_is_reported():
    p = Primitive("bad", lambda x, y: x * y)

    @p.defrule
    def bad_partials(x, y):
        return (y,)

    with pytest.raises(ad.DifferentiationError, match="returned 1 partial"):
        ad.grad(lambda a: p(a, 2.0))(1.0)


def test_a_primitive_without_rule_names_itself_and_the_fix():
    @ad.primitive
    def mystery(x):
        return x * 3.0

    with pytest.raises(ad.DifferentiationError, match=r"'mystery'.*defrule"):
        ad.grad(mystery)(1.0)


def test_lambda_partials_are_named_after_what_they_compute():
    names = [getattr(d, "__name__", None) for d in rules.partials[ad.mul]]
    assert names == ["mul_dx", "mul_dy"]


# -- events ----------------------------------------------------------------------


def test_format_value_is_short_and_stable():
    assert events.format_value(2.0) == "2.0"
    assert events.format_value(13 / 24) == "0.541667"
    assert events.format_value(np.array([1.0, 2.0])) == "[1, 2]"
    assert events.format_value(np.zeros((30, 4), np.float32)) == "[0, 0, 0, …] (30, 4) float32"


def test_adjoint_and_tangent_names():
    assert events.bar("x") == "x\u0305" and events.bar("t1") == "t\u03051\u0305"
    assert events.dot("x") == "x\u0307"


def test_a_backward_step_explains_itself_with_numbers():
    step = events.BackwardStep(3, 0, "x", 2, "z", 1.0, 2.0, 2.0, 5.0, first=False)
    x_bar, z_bar = events.bar("x"), events.bar("z")
    assert step.explain() == f"{x_bar} += {z_bar} · ∂z/∂x = 1.0 · 2.0 = 2.0  →  {x_bar} = 5.0"
