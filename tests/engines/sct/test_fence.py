"""What sct rejects: every construct outside the subset, with its line and a fix.

Each error is raised when the function is transformed (``ad.sct.grad(f)``),
before any code is generated, and names the construct and the line.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import math

import numpy as np
import pytest

import adlab as ad

# -- functions outside the subset (module level: sct reads their source) ---------------


def uses_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_with(x):
    with np.errstate(all="ignore"):
        y = x * 2.0
    return y


def uses_yield(x):
    yield x


async def uses_async(x):
    return x * 2.0


def uses_class(x):
    class Box:
        pass

    return x


def uses_nested_def(x):
    def inner(u):
        return u * 2.0

    return inner(x)


def uses_lambda(x):
    double = lambda u: u * 2.0  # noqa: E731
    return double(x)


def uses_global(x):
    global GLOBAL_STATE
    GLOBAL_STATE = x
    return x


def uses_nonlocal_maker():
    total = 0.0

    def uses_nonlocal(x):
        nonlocal total
        total = x
        return x

    return uses_nonlocal


def uses_item_assignment(x):
    y = np.zeros(3)
    y[0] = x
    return ad.sum(y)


def uses_attribute_assignment(x):
    uses_attribute_assignment.last = x
    return x


def uses_comprehension(xs):
    return ad.sum(ad.stack([x * x for x in xs]))


def uses_generator(xs):
    return sum(x * x for x in xs)


def uses_walrus(x):
    if (y := x * 2.0) > 1.0:
        return y
    return x


def uses_del(x):
    y = x * 2.0
    del y
    return x


def uses_import(x):
    import math as m

    return m.sin(x)


def uses_for_else(x):
    for _ in range(3):
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def uses_return_in_loop(x):
    for _ in range(3):
        x = x * 2.0
        if x > 10.0:
            return x
    return x


def exits_everywhere(x):
    for i in range(9):
        if i > 6:  # noqa: SIM102 - nested on purpose
            if x > 5.0:
                break
        if i > 4:  # noqa: SIM102
            if x > 2.0:
                continue
        if i > 2:  # noqa: SIM102
            if x < 0.0:
                break
        x = x * 1.1
    return x


def no_return_on_some_path(x):
    if x > 0:
        return x


def calls_itself(x):
    if x < 1.0:
        return x
    return calls_itself(x / 2.0)


def ping(x):
    return pong(x * 0.5) if x > 1.0 else x


def pong(x):
    return ping(x - 0.1)


def star_args(*xs):
    return xs[0]


def star_kwargs(x, **kw):
    return x


def undefined_name(x):
    return x * not_defined_anywhere  # noqa: F821


def uses_float(x):
    return float(x) * 2.0


def uses_floordiv(x):
    return x // 2.0


def uses_unknown_function(x):
    return np.fft.rfft(x)


def uses_variable_function(x, fns):
    tanh = fns[0]
    return tanh(x)


def uses_builtin_max(x, y):
    return max(x, y)


def uses_np_array(x, y):
    return ad.sum(np.array([x, y]))


def indexes_with_a_value(x, xs):
    return xs[x]


def mutates_a_list(x):
    parts = [1.0]
    parts.extend([x])
    return parts[1]


REJECTED = [
    (uses_try, "try/except at line", "outside the function"),
    (uses_with, "a with block at line", "outside"),
    (uses_yield, r"yield \(a generator\) at line", "return it"),
    (uses_async, "async def at line", "define it with def"),
    (uses_class, "a class definition at line", "define classes outside"),
    (uses_nested_def, "a nested function definition at line", "module level"),
    (uses_lambda, "a lambda at line", "named function"),
    (uses_global, "a global statement at line", "argument"),
    (uses_nonlocal_maker(), "a nonlocal statement at line", "argument"),
    (uses_item_assignment, r"item assignment \(x\[i\] = \.\.\.\) at line", "ad.where"),
    (uses_attribute_assignment, "attribute assignment", "local variable"),
    (uses_comprehension, "a list comprehension at line", "for loop"),
    (uses_generator, "a generator expression at line", "for loop"),
    (uses_walrus, "the walrus operator", "line of its own"),
    (uses_del, "del at line", "remove the del"),
    (uses_import, "an import at line", "module level"),
    (uses_for_else, r"for \.\.\. else at line", "flag"),
    (uses_return_in_loop, "return inside a loop at line", "break"),
    (exits_everywhere, "break in deeply nested ifs", "combine the conditions"),
    (no_return_on_some_path, "a path without return", "end every path with return"),
    (calls_itself, r"recursion \(calls_itself calls itself\)", "loop"),
    (star_args, r"\*xs in the signature", "name each parameter"),
    (star_kwargs, r"\*\*kw in the signature", "name each parameter"),
    (undefined_name, "the name 'not_defined_anywhere'", "not defined"),
    (uses_float, r"float\(\.\.\.\) of a differentiated value at line", "drops the value"),
    (uses_floordiv, "the operator // on a differentiated value", "no derivative rule"),
    (uses_unknown_function, r"np\.fft\.rfft\(\.\.\.\) of a differentiated value",
     "@ad.primitive"),
    (uses_variable_function, "a function held in a variable", "call the table"),
    (uses_builtin_max, r"max\(\.\.\.\) of a differentiated value", "ad.maximum"),
    (uses_np_array, r"np\.array\(\.\.\.\) of a differentiated value", "ad.stack"),
    (indexes_with_a_value, "indexing with a differentiated value", "integer"),
    (mutates_a_list, "with a differentiated value", "list.append"),
]  # fmt: skip


@pytest.mark.parametrize("fn, construct, fix", REJECTED, ids=[f.__name__ for f, *_ in REJECTED])
def test_the_fence_names_construct_line_and_fix(fn, construct, fix):
    with pytest.raises(ad.DifferentiationError, match=construct) as info:
        ad.sct.grad(fn)  # at transformation time: nothing is generated or run
    message = str(info.value)
    assert fix in message or pytest.fail(f"no fix in: {message}")
    if "line" in construct:
        line = int(message.split(" at line ")[1].split()[0])
        source, first = inspect.getsourcelines(fn)
        assert first <= line < first + len(source), message
        assert f"of {fn.__name__}" in message


def test_mutual_recursion_is_found_when_the_callee_is_transformed():
    line = inspect.getsourcelines(pong)[1] + 1
    where = rf"at line {line} \(return ping\(x - 0\.1\)\) of pong"
    with pytest.raises(ad.DifferentiationError, match=rf"through pong {where}: .*as a loop"):
        ad.sct.grad(ping)


def counts_with_n(x, n):
    s = 0.0
    for _ in range(n):
        s = s + x
    return s


def test_a_differentiated_trip_count_is_named_with_the_fix():
    line = inspect.getsourcelines(counts_with_n)[1] + 2
    for n in (3, 3.0):
        with pytest.raises(ad.DifferentiationError) as info:
            ad.sct.grad(counts_with_n, argnums=1)(0.7, n)
        message = str(info.value)
        assert f"for _ in range(n):` with the differentiated n at line {line}" in message
        assert "trip count cannot depend on a differentiated input" in message
        assert "argnums=" in message
    assert ad.sct.grad(counts_with_n)(0.7, 3) == 3.0  # n not differentiated: fine


def test_functions_without_source():
    with pytest.raises(ad.DifferentiationError, match="builtin sin"):
        ad.sct.grad(math.sin)
    with pytest.raises(ad.DifferentiationError, match="partial"):
        ad.sct.grad(functools.partial(uses_float, 1.0))
    namespace: dict = {}
    exec("def typed_at_the_prompt(x):\n    return x * 2.0\n", namespace)
    with pytest.raises(ad.DifferentiationError, match="source code"):
        ad.sct.grad(namespace["typed_at_the_prompt"])


def test_inactive_values_may_use_anything():
    """Constructs without a derivative are fine on values that are not differentiated."""

    def f(x, n):
        steps = int(n) // 2 + len([1, 2])
        scale = float(max(n, 1.0))
        table = np.linalg.norm(np.array([3.0, 4.0]))
        for _ in range(steps):
            x = x * 0.9
        return x * scale / table

    assert ad.sct.grad(f)(2.0, 3.0) == pytest.approx(ad.grad(f)(2.0, 3.0))


def test_the_api_operators_are_not_transformed_by_sct():
    reverse_gradient = ad.grad(lambda x: x**3)  # adlab's own code, not the user's
    one_mode_per_level = r"from adlab itself.*mode=\('reverse', 'sct'\)"
    with pytest.raises(ad.DifferentiationError, match=one_mode_per_level):
        ad.jacobian(reverse_gradient, mode="sct")(1.0)


# -- regressions -----------------------------------------------------------------------


def _defined(source: str):
    """The function ``f`` defined by ``source``, with its source registered (as a cell's)."""
    filename = f"<test_fence {abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"ad": ad, "np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["f"]


NOT_IN_THE_TABLE = ["astype(float)", "tolist()", "copy()", "item()"]


@pytest.mark.parametrize("call", NOT_IN_THE_TABLE)
def test_methods_outside_the_table_on_differentiated_values_are_refused(call):
    method = call.split("(")[0]
    for body in (f"ad.sum(x.{call})", f"x[0].{call} * x[1]", f"(x.{call} * x).sum()"):
        f = _defined(f"def f(x):\n    y = x * 2.0\n    return {body}\n")
        with pytest.raises(ad.DifferentiationError) as info:
            ad.sct.grad(f)(np.array([1.0, 2.0, 4.0]))
        message = str(info.value)
        assert f"the method .{method}() of a differentiated value at line 3" in message
        assert ".sum() .mean() .max()" in message  # what the table offers instead


def test_methods_of_the_table_and_methods_of_inactive_values_work():
    f = _defined(
        "def f(x, w, names):\n"
        "    k = names.index('b')\n"
        "    m = x.reshape(2, 2).T.dot(w).sum() + x.mean(axis=0) * x.max()\n"
        "    return m * names.count('a') + x.transpose().sum() * k\n"
    )
    x, w = np.array([1.0, 2.0, 4.0, 3.0]), np.array([0.5, -1.0])
    got = ad.sct.grad(f, argnums=(0, 1))(x, w, ["a", "b"])
    want = ad.grad(f, argnums=(0, 1))(x, w, ["a", "b"])
    for g, v in zip(got, want):
        np.testing.assert_allclose(g, v, rtol=1e-12)
