"""The trace-based reverse engine: Variables, the backward sweep, ad.trace and its events."""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest

import adlab as ad
from adlab.core.events import bar
from adlab.engines import reverse

# -- the sweep -------------------------------------------------------------------


def test_backward_is_idempotent():
    t = ad.trace(lambda x, y: x * y + ad.sin(x), 2.0, 3.0)
    first, second = t.backward(), t.backward()
    assert first == second == (3.0 + math.cos(2.0), 2.0)
    _, pullback = ad.vjp(lambda x: x**3, 2.0)
    assert pullback(1.0) == pullback(1.0) == (12.0,)


def test_fan_out_accumulates_every_path():
    def f(a):
        b = a + a
        return b * b  # c = 4a², dc/da = 8a

    assert ad.grad(f)(3.0) == 24.0
    t = ad.trace(f, 3.0)
    into_a = [e for e in t.backward_events() if e.name == "a"]
    assert [e.contribution for e in into_a] == [12.0, 12.0]
    assert [e.total for e in into_a] == [12.0, 24.0]
    assert [e.first for e in into_a] == [True, False]
    assert "+=" in into_a[1].explain() and f"{bar('a')} = 24.0" in into_a[1].explain()


def test_a_value_used_twice_in_one_operation():
    assert ad.grad(lambda x: x * x)(5.0) == 10.0
    assert ad.grad(lambda x: x / x)(5.0) == 0.0


def test_inputs_that_do_not_reach_the_output_get_zero():
    g = ad.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, np.ones(3, np.float32))
    assert g[0] == 2.0
    assert g[1].dtype == np.float32 and not g[1].any()
    assert ad.grad(lambda x: 7.0)(1.0) == 0.0


def _chain(x):
    for _ in range(500_000):
        x = x * 1.000001 + 0.0  # 10⁶ operations
    return x


@pytest.mark.parametrize(
    "run", [lambda: ad.grad(_chain)(1.0), lambda: ad.trace(_chain, 1.0).backward()[0]],
    ids=["grad", "trace"],
)  # fmt: skip
def test_a_million_operation_chain_traces_differentiates_and_frees(run):
    gc.collect()
    before = len(gc.get_objects())
    g = run()  # no RecursionError and no crash while a million nodes are freed...
    gc.collect()
    assert g == pytest.approx(1.000001**500_000, rel=1e-9)
    assert len(gc.get_objects()) - before < 1000  # ...and nothing of them is left


def test_values_no_rule_needs_are_not_kept_alive():
    refs = {}

    def f(x):
        a = x * 2.0  # mul keeps the *other* factor (the constant 2.0), not a
        b = ad.exp(a)  # exp keeps its output: its derivative is the output
        c = b + 1.0  # add keeps nothing (its partials are constants)
        d = ad.sin(c)  # sin keeps cos(c), not c
        for name, v in (("a", a), ("b", b), ("c", c), ("d", d)):
            refs[name] = weakref.ref(v.value)
        return ad.sum(d)

    _, pullback = ad.vjp(f, np.linspace(0.0, 1.0, 1000))
    gc.collect()
    alive = {name: ref() is not None for name, ref in refs.items()}
    assert alive == {"a": False, "b": True, "c": False, "d": False}
    assert pullback(1.0)[0].shape == (1000,)  # and the gradient still works


def test_float32_stays_float32_forward_and_backward():
    x = np.linspace(0.1, 1.0, 4, dtype=np.float32)
    w = np.ones((4, 2), np.float32)

    def f(x, w):
        h = ad.tanh(x @ w) * 2.0 + ad.exp(x)[:2] / 3.0
        assert h.dtype == np.float32
        return ad.sum(h**2)

    gx, gw = ad.grad(f, argnums=(0, 1))(x, w)
    assert gx.dtype == np.float32 and gw.dtype == np.float32


# -- higher order ------------------------------------------------------------------


def test_grad_of_grad_differentiates_the_backward_pass():
    assert ad.grad(ad.grad(lambda x: x**3))(2.0) == 12.0
    third = ad.grad(ad.grad(ad.grad(ad.sin)))(0.3)
    assert third == pytest.approx(-math.cos(0.3), abs=1e-15)


def test_perturbation_confusion_does_not_happen():
    # d/dx [ x · (d/dy (x + y))(y=1) ] = 1 at x = 1; an engine that confuses the
    # two derivatives answers 2
    def outer(x):
        return x * ad.grad(lambda y: x + y)(1.0)

    assert ad.grad(outer)(1.0) == 1.0


def test_hessian_by_reverse_over_reverse():
    h = ad.hessian(lambda v: v[0] ** 2 * v[1] + ad.sin(v[1]))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, [[4.0, 2.0], [2.0, -math.sin(2.0)]], rtol=1e-14)


# -- what a Variable lets you do, and what it refuses ----------------------------------


def test_branches_record_the_path_taken():
    def f(x):
        if x > 0:
            return x * x
        return -x

    assert ad.grad(f)(3.0) == 6.0 and ad.grad(f)(-3.0) == -1.0


def test_formatting_shows_the_value():
    seen = []

    def f(x):
        seen.append((f"{x:.3f}", repr(x), str(x)))
        return x

    ad.grad(f)(2.0)
    assert seen == [("2.000", "Variable(2.0)", "Variable(2.0)")]


def test_no_grad_makes_constants():
    def f(x):
        with ad.no_grad():
            scale = x * 2.0
        assert not isinstance(scale, ad.Variable)
        return scale * x

    assert ad.grad(f)(3.0) == 6.0


def test_no_grad_pauses_only_the_transformations_already_running():
    with ad.no_grad():  # like torch.func.grad under torch.no_grad: a new grad works
        assert ad.grad(lambda x: x * x)(3.0) == 6.0
        assert ad.trace(lambda x: x * x, 3.0).backward() == (6.0,)
        assert ad.vjp(lambda x: ad.sin(x), 0.0)[1](1.0) == (1.0,)

    def f(x):
        with ad.no_grad():
            inner = ad.grad(lambda y: y * y * x)(2.0)  # y is differentiated, x is not
            with ad.no_grad():
                pass  # leaving a nested block leaves the outer one in force
            scale = x * 2.0
        assert not isinstance(inner, ad.Variable) and not isinstance(scale, ad.Variable)
        return inner * x + scale  # recorded again: d/dx = inner = 4x

    assert ad.grad(f)(3.0) == 12.0


@pytest.mark.parametrize(
    "f, words",
    [
        (lambda x: math.sin(x), "math"),
        (lambda x: float(x), "float"),
        (lambda x: int(x), "int"),
        (lambda x: [0.0, 1.0][x], "index"),
        (lambda x: np.asarray(x), "np.asarray"),
        (lambda x: np.array([x, x]), "ad.stack"),
        (lambda x: np.linalg.norm(x), "numpy.linalg.norm"),
        (lambda x: np.cumsum(x), "np.cumsum"),
        (lambda x: np.arctan(x), "np.arctan"),
        (lambda x: np.add.reduce(x), "ad.sum"),
        (lambda x: np.sin(x, out=np.empty(3)), "out="),
        (lambda x: np.sum(x, dtype=np.float32), "dtype"),
        (lambda x: x // 2.0, "floor division"),
        (lambda x: x % 2.0, "modulo"),
        (lambda x: x[np.array([True, False, True])], "ad.where"),
        (lambda x: x[x[0]], "indices are not differentiable"),
        (lambda x: np.where(x), "np.where(condition, x, y)"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_constructs_that_would_drop_the_derivative_raise_clearly(f, words):
    with pytest.raises(ad.DifferentiationError) as err:
        ad.grad(lambda x: ad.sum(f(x)))(np.array([0.5, 1.0, 2.0]))
    assert words in str(err.value)


def test_item_assignment_is_refused_with_the_fix():
    def f(x):
        x[0] = 0.0
        return ad.sum(x)

    with pytest.raises(ad.DifferentiationError, match=r"ad\.where"):
        ad.grad(f)(np.ones(3))


def test_float_message_points_to_value():
    with pytest.raises(ad.DifferentiationError, match=r"x\.value"):
        ad.grad(lambda x: float(x))(1.0)


def test_results_never_contain_variables():
    def leaks(x):
        return ad.grad(lambda y: y * x)(1.0)

    assert type(leaks(2.0)) is float
    g = ad.grad(lambda p: p["a"] * p["b"][1])({"a": 2.0, "b": [1.0, 3.0]})
    assert g == {"a": 3.0, "b": [0.0, 2.0]}


def test_comparisons_and_rounding_give_plain_answers():
    def f(x):
        assert (x > 1.0) is True and (x == 2.0) is True
        assert round(x) == 2.0 and not isinstance(round(x), ad.Variable)
        assert np.floor(x) == 2.0 and not isinstance(np.floor(x), ad.Variable)
        return x

    ad.grad(f)(2.0)


# -- ad.trace ------------------------------------------------------------------------


def _talk_f(x, y):
    t = x * x
    s = x * x + y * y + 1.0
    return t * y + 1.0 / s


def test_trace_names_inputs_and_locals_and_numbers_the_rest():
    t = ad.trace(_talk_f, 0.5, -0.5)
    assert [n.name for n in t.input_nodes] == ["x", "y"]
    names = [n.name for n in t.nodes]
    assert "t" in names and "s" in names and names[-1] == "out"
    assert len(names) == len(set(names))
    assert all(name.startswith("v") for name in names if name not in {"x", "y", "t", "s", "out"})


def test_trace_is_deterministic():
    a, b = ad.trace(_talk_f, 0.5, -0.5), ad.trace(_talk_f, 0.5, -0.5)
    assert a.tape.lines() == b.tape.lines()
    assert [e.explain() for e in a.backward_events()] == [e.explain() for e in b.backward_events()]


def test_trace_gradient_is_the_talks_number():
    assert ad.trace(_talk_f, 0.5, -0.5).backward() == pytest.approx((-17 / 18, 25 / 36), abs=1e-15)


def test_tape_is_the_wengert_list():
    t = ad.trace(lambda x, y: x * (x + y), 2.0, 3.0)
    assert t.tape.lines() == ["v1 = x + y", "out = x * v1"]
    assert t.tape[2] == ("v1", "add", ("x", "y"), 5.0)
    assert len(t.tape) == 4 and t.tape.columns == ("name", "op", "inputs", "value")
    assert "<table" in t._repr_html_() and "v1" in repr(t.tape)


def test_generations_layer_the_graph():
    t = ad.trace(lambda x, y: x * (x + y), 2.0, 3.0)
    assert [t.generations()[n] for n in t.nodes] == [0, 0, 1, 2]


def test_forward_events_show_values_appearing():
    t = ad.trace(lambda x, y: x * (x + y), 2.0, 3.0)
    steps = t.forward_events()
    assert [s.value for s in steps] == [2.0, 3.0, 5.0, 10.0]
    assert steps[3].explain() == "out = x * v1  with x = 2.0, v1 = 5.0  →  out = 10.0"


def test_backward_events_end_with_the_gradient():
    t = ad.trace(lambda x, y: x * (x + y), 2.0, 3.0)
    steps = t.backward_events()
    assert steps[0].source is None and "seed" in steps[0].explain()
    final = {s.name: s.total for s in steps}
    assert (final["x"], final["y"]) == t.backward() == (7.0, 2.0)


@pytest.mark.parametrize("seed, expected", [(None, 7.0), ("y", 2.0), (1, 2.0), ((1.0, 1.0), 9.0)])
def test_tangent_events_sweep_forward_mode_over_the_trace(seed, expected):
    t = ad.trace(lambda x, y: x * (x + y), 2.0, 3.0)
    steps = t.tangent_events(seed)
    assert steps[-1].tangent == expected
    assert steps[0].seed and "seed" in steps[0].explain()
    assert "∂out/∂x" in steps[-1].explain()


def test_trace_of_arrays_and_pytrees():
    def loss(params, x):
        w, b = params
        return ad.sum(ad.tanh(x @ w + b) ** 2)

    params, x = (np.ones((3, 2)) * 0.1, np.zeros(2)), np.arange(6.0).reshape(2, 3)
    t = ad.trace(loss, params, x)
    assert [n.name for n in t.input_nodes] == ["params[0]", "params[1]", "x"]
    (gw, gb), gx = t.backward()
    expected = ad.grad(loss, argnums=(0, 1))(params, x)
    np.testing.assert_array_equal(gw, expected[0][0])
    np.testing.assert_array_equal(gb, expected[0][1])
    np.testing.assert_array_equal(gx, expected[1])
    assert t.tangent_events(seed=0)[-1].tangent == pytest.approx(np.sum(gw))


def test_set_name_renames_a_node():
    t = ad.trace(lambda x: ad.sin(x) * x, 1.0)
    t.set_name("v1", "s")
    assert t.tape.lines() == ["s = sin(x)", "out = s * x"]
    with pytest.raises(KeyError, match="no node named"):
        t.node("nope")


def test_backward_of_an_array_output_needs_a_seed():
    t = ad.trace(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ad.DifferentiationError, match="seed"):
        t.backward()
    np.testing.assert_array_equal(t.backward(seed=np.arange(3.0))[0], [0.0, 2.0, 4.0])


def test_trace_of_a_constant_function():
    t = ad.trace(lambda x: 3.0, 1.0)
    assert t.output == 3.0 and t.output_node is None
    assert t.backward() == (0.0,) and t.backward_events() == []


def test_trace_needs_one_output():
    with pytest.raises(ad.DifferentiationError, match="one output"):
        ad.trace(lambda x: (x, x), 1.0)


def test_trace_inputs_and_output_are_plain_values():
    t = ad.trace(lambda x: x * 2.0, 3.0)
    assert t.inputs == (3.0,) and t.output == 6.0 and type(t.output) is float


def test_operations_on_other_levels_are_constants_to_this_one():
    # a Variable of an outer trace inside an inner trace is a constant there
    def outer(x):
        inner = ad.trace(lambda y: x * y, 3.0)
        assert inner.backward() == (2.0,)
        return inner.output_node.value

    assert ad.grad(outer)(2.0) == 3.0


def test_fast_and_general_paths_record_the_same_graph():
    # x * y takes the operator fast path; ad.mul(x, y) through a numpy ufunc does not
    t1 = ad.trace(lambda x, y: x * y - y / x, 2.0, 3.0)
    t2 = ad.trace(lambda x, y: np.subtract(np.multiply(x, y), np.divide(y, x)), 2.0, 3.0)
    assert t1.tape.lines() == t2.tape.lines()
    assert t1.backward() == t2.backward()


def test_the_node_layout():
    tracer = reverse.engine._Tracer()
    x, y = reverse.engine._watch(tracer, [2.0, 3.0])
    z = x * y
    seq, aval, pullback, *pairs = z._node
    assert aval is None and pullback is None and pairs == [x._node, 3.0, y._node, 2.0]
    assert seq > x._node[0] and seq > y._node[0]
    assert reverse.parents_and_partials(z._node) == ((x._node, y._node), (3.0, 2.0))
    s = ad.sum(x * np.ones(2))
    parents, partials = reverse.parents_and_partials(s._node)
    assert callable(s._node[2]) and partials is None and len(parents) == 1


def test_higher_order_keeps_the_kink_conventions():
    # the inner trace's value is an outer Variable: the primitive must reach the outer
    # trace as itself (relu'(0) = 0), not as its implementation (maximum's tie gives 1/2)
    assert ad.grad(ad.grad(lambda x: ad.relu(x) * x))(0.0) == 0.0
    assert ad.grad(ad.grad(lambda x: ad.abs(x) * x))(0.0) == 0.0
    assert ad.grad(ad.grad(lambda x: ad.relu(x) * x))(1.0) == 2.0


def test_a_variable_that_escapes_its_computation_refuses_to_compute():
    kept = {}

    def f(x):
        kept["w"] = x * 2.0  # escapes: stored outside f
        return x * x

    assert ad.grad(f)(3.0) == 6.0
    with pytest.raises(ad.DifferentiationError, match=r"already finished.*x\.value"):
        ad.grad(lambda t: t * kept["w"])(2.0)
    with pytest.raises(ad.DifferentiationError, match="already finished"):
        kept["w"] + 1.0
    assert kept["w"].value == 6.0  # its number is still there to read


@pytest.mark.parametrize("transform", [ad.grad, lambda f: lambda x: ad.trace(f, x)])
def test_a_variable_that_escapes_a_failed_computation_refuses_to_compute(transform):
    kept = []

    def fails(x):
        kept.append(x)
        raise RuntimeError("the program fails after keeping x")

    with pytest.raises(RuntimeError, match="fails"):
        transform(fails)(1.0)
    with pytest.raises(ad.DifferentiationError, match=r"already finished.*x\.value"):
        ad.grad(lambda y: y * kept[0])(1.0)


def test_gradients_never_share_memory_with_each_other_or_the_seed():
    # + and - pass the adjoint on uncopied and reshape views it; every array handed out
    # must still be the caller's own, safe to update in place (g *= lr)
    x, y = np.ones(3), np.full(3, 2.0)
    gx, gy = ad.grad(lambda a, b: ad.sum(a + b), argnums=(0, 1))(x, y)
    assert not np.shares_memory(gx, gy)
    gx *= 0.5
    np.testing.assert_array_equal(gy, np.ones(3))

    ct = np.arange(3.0)
    for f, out_bar in [(lambda a: a - 1.0, ct), (lambda a: a.reshape(3, 1), ct.reshape(3, 1))]:
        (g,) = ad.vjp(f, x)[1](out_bar)
        np.testing.assert_array_equal(g, ct)
        assert not np.shares_memory(g, ct)

    seed = np.arange(3.0)
    ga, gb = ad.trace(lambda a, b: a + b, x, y).backward(seed=seed)
    np.testing.assert_array_equal(ga, seed)
    assert not np.shares_memory(ga, seed)
    assert not np.shares_memory(gb, seed)
    assert not np.shares_memory(ga, gb)


def test_trace_names_stay_unique_when_a_local_rebinds_an_input():
    def f(x):
        x = x * 2.0
        y = x + 1.0
        x = y * y
        return x

    assert [n.name for n in ad.trace(f, 1.0).nodes] == ["x", "v1", "y", "out"]


def test_tangent_events_name_a_primitive_without_a_jvp_rule():
    from adlab.core.rules import defvjp

    cube = ad.Primitive("cube_vjp_only", lambda x: x**3)
    defvjp(cube, lambda out, args, wrt: lambda g: (g * 3.0 * args[0] ** 2,))
    t = ad.trace(lambda x: cube(x), 2.0)
    assert t.backward() == (12.0,)
    with pytest.raises(
        ad.DifferentiationError,
        match=r"'cube_vjp_only' has no forward-mode rule.*it has a reverse-mode rule",
    ):
        t.tangent_events()


def test_tape_lines_leave_out_default_parameters():
    t = ad.trace(lambda x: ad.sum(x * x), np.ones(3))
    assert t.tape.lines() == ["v1 = x * x", "out = sum(v1)"]
