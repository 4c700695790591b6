"""Control flow through sct: branches, loops, break/continue, calls, arrays, containers.

Every function is checked against the reverse engine (which unrolls what ran)
and against finite differences, for the gradient (adjoint code) and the
tangent (forward code); the shape of the generated code is checked where it
is the point (loops stay loops, stacks are named after what they hold).
"""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

import adlab as ad
from adlab.core.tree import flatten
from adlab.testing import check_grads


def newton_sqrt(a):
    x = a
    i = 0
    while True:
        x = 0.5 * (x + a / x)
        i += 1
        if i >= 6:
            break
    return x


def skip_odd_powers(x):
    s = 0.0
    for i in range(6):
        if i % 2 == 1:
            continue
        s = s + x**i
    return s


def nested_loops(x, y):
    s = 0.0
    for i in range(3):
        t = x
        for _ in range(i + 1):
            t = t * y + math.sin(t)
        s = s + t
    return s


def helper(a, b):
    c = a * b
    for _ in range(2):
        c = c + ad.sin(a)
    return c, a - b


def calls_a_helper(x, y):
    u, v = helper(x, y)
    w = helper(u, 2.0)[0]
    return u * v + w


def broadcasting(a, b):
    c = a * b
    d = c + a
    return ad.sum(d * d) + ad.sum(a)


def over_rows(X, w):
    s = 0.0
    for row in X:
        s = s + ad.sum(row * w) ** 2
    return s


def over_a_list(ws, x):
    s = 0.0
    for i, w in enumerate(ws):
        s = s + w * x**i
    return s


def zipped(xs, ys):
    s = 0.0
    for a, b in zip(xs, ys):
        s = s + a * ad.sin(b)
    return s


def conditional_expressions(x):
    y = x * x if x > 0 else -x
    return y + (2.0 if y > 1 else 3.0) * x


def keywords(x, scale=2.0, *, shift=1.0):
    return scale * x**2 + shift * x


def calls_with_keywords(x):
    return keywords(x, scale=3.0, shift=0.5) + keywords(x)


def fibonacci_like(a, b):
    for _ in range(4):
        a, b = b, a + b
    return a * b


def augmented(x):
    y = 1.0
    y *= x
    y += x**2
    y /= 1.0 + x
    y -= 0.5
    return y


def early_returns(x):
    if x < 0:
        return -x
    if x > 10:
        return x / 10
    y = x * 2
    return y * y


def while_condition(x):
    n = 0
    while x < 100.0:
        x = x * 1.5 + 1.0
        n += 1
    return x * n


def matrices(W, x):
    h = ad.tanh(W @ x)
    return ad.sum(h * h) + x @ x + (W.T @ W).sum() + W.mean(axis=0).max()


def numpy_spelling(x):
    return np.sum(np.exp(x) * np.sin(x)) + np.dot(x, x) + np.sum(np.where(x > 0, x**2, -x))


def tuple_output(x, y):
    return x * y, x + y


def stack_of_values(x, y):
    parts = []
    parts.append(x * y)
    parts.append(ad.sin(x))
    a = parts.pop()
    b = parts.pop()
    return a * b


def inactive_loop_changes_a_read_value(x):
    s = 2.0
    y = x * s
    for _ in range(3):
        s = s + 1.0
    return y * s


CASES = [
    (newton_sqrt, (2.0,)),
    (skip_odd_powers, (1.3,)),
    (nested_loops, (0.7, 0.9)),
    (calls_a_helper, (0.5, 1.5)),
    (broadcasting, (np.array([0.1, -0.2, 0.3]), np.array([[0.5, 1.0, 2.0], [-1.0, 0.3, 0.2]]))),
    (over_rows, (np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]]), np.array([0.3, -0.7]))),
    (over_a_list, ([0.5, -1.0, 2.0], 1.3)),
    (zipped, (np.array([0.5, -1.0]), [0.3, 0.9])),
    (conditional_expressions, (0.8,)),
    (conditional_expressions, (1.5,)),
    (conditional_expressions, (-0.5,)),
    (calls_with_keywords, (1.2,)),
    (fibonacci_like, (1.0, 2.0)),
    (augmented, (0.7,)),
    (early_returns, (-2.0,)),
    (early_returns, (20.0,)),
    (early_returns, (3.0,)),
    (while_condition, (2.0,)),
    (matrices, (np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0.3, -0.4]))),
    (numpy_spelling, (np.array([0.1, 0.5, -0.3]),)),
    (stack_of_values, (0.4, 1.7)),
    (inactive_loop_changes_a_read_value, (1.5,)),
]
IDS = [f"{f.__name__}{args if len(str(args)) < 20 else ''}" for f, args in CASES]


def _close(got, want, rtol=1e-10):
    for g, w in zip(flatten(got)[0], flatten(want)[0], strict=True):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_gradient_matches_finite_differences(f, args):
    check_grads(f, *args, mode=("reverse", "sct"))  # order 2: the reverse engine over sct's code
    try:  # sct over sct, where the derivative code is for numbers: else a clear refusal
        check_grads(f, *args, mode="sct")
    except ad.DifferentiationError as refusal:
        assert "sct over sct" in str(refusal) and "mode=('reverse', 'sct')" in str(refusal)


TRACEABLE = [(f, args) for f, args in CASES if f is not nested_loops]


@pytest.mark.parametrize(
    "f, args", TRACEABLE, ids=[i for i, c in zip(IDS, CASES) if c in TRACEABLE]
)
def test_gradient_matches_the_reverse_engine(f, args):
    argnums = tuple(range(len(args)))
    _close(ad.sct.grad(f, argnums=argnums)(*args), ad.grad(f, argnums=argnums)(*args))


def test_math_functions_are_mapped_by_sct_but_refused_by_tracing():
    # in source, math.sin is just a name sct maps to the table; a traced value reaching
    # math.sin at run time would silently lose its derivative, so tracing refuses it
    args = dict(CASES)[nested_loops]
    check_grads(nested_loops, *args, mode="sct", order=1)
    with pytest.raises(ad.DifferentiationError, match="math"):
        ad.grad(nested_loops)(*args)


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_tangent_code_matches_the_adjoint_code(f, args):
    directions = tuple(_ones_like(a) for a in args)
    out, out_dot = ad.jvp(f, args, directions, mode="sct")
    grads = ad.sct.grad(f, argnums=tuple(range(len(args))))(*args)
    want = sum(float(np.sum(g * d)) for g, d in zip(flatten(grads)[0], flatten(directions)[0]))
    np.testing.assert_allclose(out_dot, want, rtol=1e-10)
    _close(out, f(*args))


def _ones_like(a):
    if isinstance(a, list | tuple):
        return type(a)(_ones_like(v) for v in a)
    return np.ones_like(a) if isinstance(a, np.ndarray) else 1.0


def test_tuple_outputs_through_vjp_and_jvp():
    out, pullback = ad.sct.vjp(tuple_output)(2.0, 3.0)
    assert out == (6.0, 5.0)
    assert pullback((1.0, 0.0)) == (3.0, 2.0) and pullback((0.0, 1.0)) == (1.0, 1.0)
    assert ad.sct.jvp(tuple_output)(2.0, 3.0, x_dot=1.0, y_dot=0.0) == ((6.0, 5.0), (3.0, 1.0))

    def stacked(v):
        a, b = tuple_output(v[0], v[1])
        return ad.stack([a, b])

    np.testing.assert_allclose(
        ad.jacobian(stacked, mode="sct")(np.array([2.0, 3.0])), [[3.0, 2.0], [1.0, 1.0]]
    )


def test_break_and_continue_leave_structured_code():
    source = ad.sct.grad(skip_odd_powers).source
    assert "continue" in source  # the forward sweep runs the user's own loop
    lines = [line.strip() for line in source.splitlines()]
    assert sum(line.startswith("for ") for line in lines) == 2


def test_loops_save_only_what_the_reverse_sweep_reads():
    def f(x, y, n):
        z = x
        for _ in range(n):
            z = (z * x - y) / y + x
        return z

    source = ad.sct.grad(f, argnums=(0, 1)).source
    pushed = sorted(line.strip().split(".append")[0] for line in source.splitlines()
                    if ".append(" in line)  # fmt: skip
    assert pushed == ["t3_stack", "z_stack"]  # z (z * x reads it) and t3 (the quotient)


def test_while_loops_record_their_trip_count():
    g = ad.sct.grad(while_condition)
    assert "loop" in g.source and "_trips += 1" in g.source
    assert g(2.0) == pytest.approx(ad.grad(while_condition)(2.0))
    assert g(150.0) == ad.grad(while_condition)(150.0) == 0.0  # zero trips: x * 0


def test_user_functions_are_transformed_once_per_kind():
    g = ad.sct.grad(calls_a_helper, argnums=(0, 1))
    assert "helper_vjp(" in g.source
    assert g(0.5, 1.5) == pytest.approx(ad.grad(calls_a_helper, argnums=(0, 1))(0.5, 1.5))


def test_a_million_iterations_need_no_recursion():
    def chain(x):
        for _ in range(500_000):
            x = x * 1.000001 + 0.0
        return x

    assert ad.sct.grad(chain)(1.0) == pytest.approx(1.000001**500_000, rel=1e-9)


# -- regressions ---------------------------------------------------------------------------


def default_or(x, w=None):
    w = w or x
    return w * x


def and_or_chain(x, y):
    a = x > 0 and y
    b = a or x or y
    return b * (a and x) + (0.0 or y) * x


@pytest.mark.parametrize("args", [(3.0,), (3.0, 2.0), (-1.0, 2.0), (2.0, 0.0)])
def test_and_or_carry_the_value_they_return(args):
    f = default_or if len(args) == 1 else and_or_chain
    argnums = tuple(range(len(args)))
    want = ad.grad(f, argnums=argnums)(*args)
    _close(ad.sct.grad(f, argnums=argnums)(*args), want)
    _close(ad.grad(f, argnums=argnums, mode="sct")(*args), want)
    directions = tuple(1.0 for _ in args)
    _close(ad.jvp(f, args, directions, mode="sct"), ad.jvp(f, args, directions, mode="reverse"))
    assert ad.sct.grad(default_or)(3.0, 2.0) == 2.0  # w given: d(w * x)/dx = w


def test_and_or_short_circuit_as_python_does():
    def f(x, items):
        return (len(items) > 0 and items[0] * x) or x

    assert ad.sct.grad(f)(2.0, []) == 1.0  # items[0] is never evaluated
    assert ad.sct.grad(f)(2.0, [3.0]) == 3.0


def appends_then_indexes(x):
    a = []
    for i in range(3):
        a.append(x * i)
    return a[2] * a[1]


def appends_then_iterates(x):
    a = [x]
    for i in range(3):
        a.append(x * i)
    s = 0.0
    for v in a:
        s = s + v * v
    return s


def appends_pops_and_indexes(x):
    a = []
    a.append(x)
    a.append(x * 2.0)
    b = a.pop()
    return b * a[0]


def pops_then_builds_another(x):
    a = [x]
    b = a.pop()
    a = [x * 3.0, x]
    return b * a[0] * a[1]


def a_new_list_every_iteration(x):
    s = 0.0
    for j in range(1, 3):
        a = []
        a.append(x * j)
        a.append(x)
        s = s + a.pop() * a.pop()
    return s


@pytest.mark.parametrize("f", [appends_then_indexes, appends_then_iterates,
                               appends_pops_and_indexes, pops_then_builds_another,
                               a_new_list_every_iteration])  # fmt: skip
def test_a_list_built_by_append_can_be_read_afterwards(f):
    want = ad.grad(f)(3.0)
    assert ad.sct.grad(f)(3.0) == pytest.approx(want)
    _, pullback = ad.sct.vjp(f)(3.0)
    assert pullback(1.0) == pytest.approx((want,)) == pullback(1.0)  # it runs again
    assert ad.grad(f, mode="sct")(3.0) == pytest.approx(want)
    assert ad.value_and_grad(f, mode="sct")(3.0)[1] == pytest.approx(want)  # as %%grad does
    assert ad.jvp(f, (3.0,), (1.0,), mode="sct")[1] == pytest.approx(want)


def appends_to_a_parameter(x, acc):
    acc.append(x * 2.0)
    return acc[0] * x


def sorts_then_appends_to_a_parameter(x, acc):
    acc.sort()
    acc.append(x * 2.0)
    return acc[0] * x


@pytest.mark.parametrize("f", [appends_to_a_parameter, sorts_then_appends_to_a_parameter])
def test_appending_to_a_parameter_is_refused(f):
    with pytest.raises(ad.DifferentiationError, match=r"acc\.append\(\.\.\.\) on the parameter"
                       r" acc at line \d+.*caller's list"):  # fmt: skip
        ad.sct.grad(f)


def joins_lists(x):
    w = [x * x] + [x, 5.0]  # noqa: RUF005 - the join is what is tested
    return w[1] + w[0] * w[2]


def joins_in_place(x):
    a = [x]
    a += [x * x]
    return a[1] * a[0]


def repeats_a_list(x):
    n = 2
    v = [x, 1.0] * n
    return v[2] * 4.0 + v[0] * v[3]


def joins_and_repeats_tuples(x):
    t = (1.0,) + (x, x * x)  # noqa: RUF005
    u = 2 * (t[2], x)
    return t[1] + t[2] * u[2] + u[3]


def joins_in_a_loop(x):
    v = [x]
    for _ in range(3):
        v = v + [v[-1] * x]  # noqa: RUF005
    return v[-1] + v[1]


@pytest.mark.parametrize("f", [joins_lists, joins_in_place, repeats_a_list,
                               joins_and_repeats_tuples, joins_in_a_loop])  # fmt: skip
def test_lists_and_tuples_join_and_repeat_they_do_not_add(f):
    """``+`` joins tuples and lists and ``*`` repeats them: the cotangent of a join is
    split between its parts, that of a repetition is the sum of its copies'."""
    for x in (0.7, -1.3):
        want = ad.grad(f)(x)
        assert ad.sct.grad(f)(x) == pytest.approx(want, rel=1e-12)
        _, pullback = ad.sct.vjp(f)(x)
        assert pullback(1.0) == pytest.approx((want,), rel=1e-12)
        assert ad.sct.jvp(f)(x, x_dot=1.0) == pytest.approx((f(x), want), rel=1e-12)


def appends_through_an_alias(x):
    a = [x]
    b = a
    b.append(x * x)
    return a[1] + a[0]


def appends_through_an_alias_in_a_loop(x):
    acc = []
    ref = acc
    for i in range(3):
        ref.append(x * i)
    return acc[2] + acc[1]


def joins_in_place_through_an_alias(x):
    a = b = [x]
    a += [x * x]
    return b[1]


@pytest.mark.parametrize("f, alias, line, changed", [
    (appends_through_an_alias, "b = a", 2, r"b\.append\(\.\.\.\)"),
    (appends_through_an_alias_in_a_loop, "ref = acc", 2, r"ref\.append\(\.\.\.\)"),
    (joins_in_place_through_an_alias, "b = a", 1, r"a \+= \[\.\.\.\]"),
])  # fmt: skip
def test_a_list_changed_through_an_alias_is_refused(f, alias, line, changed):
    """The change shows through both names; sct follows values through assignments, so
    the other name's derivative would be lost (silently: 1.0 instead of 2x + 1)."""
    target, source = alias.split(" = ")
    first = inspect.getsourcelines(f)[1]
    with pytest.raises(ad.DifferentiationError) as info:
        ad.sct.grad(f)
    message = str(info.value)
    assert f"the alias {alias} of a list changed in place at line {first + line}" in message
    assert re.search(changed + r" at line \d+ changes it", message), message
    assert f"Use {source} itself wherever {target} is used, or use mode='reverse'" in message
