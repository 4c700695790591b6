"""adlab.engines.symbolic: expression trees, their derivatives, swell, Wengert lists, LaTeX.

The lecture's checkable facts 19-26 (CURRICULUM.md section 8) are asserted
exactly; derivatives of random expressions are checked against finite
differences (the numeric engine is the oracle) and reverse mode.
"""

from __future__ import annotations

import inspect
import linecache
import math
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adlab as ad
from adlab import api
from adlab.core.errors import DifferentiationError
from adlab.core.expr import Const, Expr, Sym
from adlab.engines import numeric
from adlab.engines.symbolic import (
    Wengert,
    compile_expr,
    diff,
    latex,
    parse,
    protocol,
    symbols,
    wengert,
)
from adlab.ops import scalar as S

x, y = symbols("x y")

QUOTIENT = "(1 + x)/(2*x**2)"
TEXTBOOK = "(2*x**2 - (1 + x)*(2*(2*x))) / (2*x**2)**2"  # the talk's quotient-rule result
# CURRICULUM NB04: d(x⁸) simplified
X8 = "((x*x)*(x*x))*((x*x)*(x+x) + (x+x)*(x*x)) + ((x*x)*(x+x) + (x+x)*(x*x))*((x*x)*(x*x))"


def squarings(k: int) -> Expr:
    """x^(2^k) by repeated squaring: t = x; t = t*t, k times."""
    t: Expr = x
    for _ in range(k):
        t = t * t
    return t


@pytest.fixture
def symbolic_mode(monkeypatch):
    """mode='symbolic' in the API (registered here until adlab registers it itself)."""
    if "symbolic" not in api._ENGINES:
        monkeypatch.setitem(api._ENGINES, "symbolic", protocol)
    return "symbolic"


# ---------------------------------------------------------------------------
# Making expressions


def test_symbols_one_name_one_symbol():
    assert symbols("t").same(Sym("t"))
    assert [s.name for s in symbols("a, b c")] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="not a name"):
        symbols("x 2y")
    with pytest.raises(ValueError, match="at least one"):
        symbols(" ")


def test_parse_builds_the_tree_python_would_with_int_literals():
    e = parse("x*x + 3")
    assert e.same(x * x + 3) and str(e) == "x * x + 3"
    assert type(parse("2*x").args[0].value) is int
    assert str(parse("-x**2 + 2.5/y")) == "-x ** 2 + 2.5 / y"
    assert parse("sin(x) * exp(-x) + sqrt(tanh(y))").same(
        ad.sin(x) * ad.exp(-x) + ad.sqrt(ad.tanh(y))
    )
    assert parse("+x").same(x) and parse("maximum(x, 1)").same(ad.maximum(x, 1))
    # fact 26: 4x + 3 is a tree of 5 nodes; Python's binary 2·x·x + 3·x + 1 has 11
    assert parse("4*x + 3").size == 5
    assert parse("2*x*x + 3*x + 1").size == 11


def test_parse_makes_a_node_per_occurrence():
    e = parse("x**2 + x**2")
    assert e.args[0].same(e.args[1]) and e.args[0] is not e.args[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("np.sin(x)", r"attribute access 'np\.sin' at column 1.*sin\(x\)"),
        ("x > 0", r"comparison 'x > 0' at column 1"),
        ("lambda t: t", "lambda"),
        ("x[0]", "indexing"),
        ("x ^ 2", r"exclusive or; write x \*\* 2"),
        ("x if y else 1", "if-expression"),
        ("x and y", "boolean operation"),
        ("1 + foo(x)", r"unknown function 'foo' at column 5.*sin"),
        ("sin(x, y)", "sin takes 1 argument"),
        ("sin(x=1)", "keyword"),
        ("'a' + x", "str literal"),
        ("x +", "not a Python expression"),
        ("sum(x)", "unknown function 'sum'"),
    ],
)
def test_parse_refuses_what_is_not_a_formula(text, message):
    with pytest.raises(DifferentiationError, match=message):
        parse(text)


def test_parse_never_evaluates():
    with pytest.raises(DifferentiationError, match="unknown function '__import__'"):
        parse("__import__('os')")


# ---------------------------------------------------------------------------
# diff: forward mode on trees, in the textbook's notation


def test_fact_19_naive_and_simplified_derivative_of_x_x_plus_3():
    e = parse("x*x + 3")
    naive = diff(e, x, simplify=False)
    assert str(naive) == "x * 1 + 1 * x + 0"  # the talk's ((x*1 + 1*x) + 0)
    assert naive.same(parse("((x*1 + 1*x) + 0)"))
    assert naive.evaluate(x=2) == 4 and naive.evaluate(x=10) == 20
    assert str(diff(e, x)) == "x + x" and str(e.diff(x)) == "x + x"


def test_the_notation_partial_times_tangent_then_tangent_times_partial():
    assert str(diff(x * y, x, simplify=False)) == "y * 1"
    assert str(diff(x * y, "y", simplify=False)) == "1 * x"
    assert str(diff(x * x * y, x, simplify=False)) == "y * (x * 1 + 1 * x)"
    # a partial declared as the number 1 (add's) passes a tangent through, a zero one too;
    # a zero tangent never multiplies a partial (no 0 * x, no 0 * nan)
    assert str(diff(x * y + 3, x, simplify=False)) == "y * 1 + 0"
    assert str(diff(3 - x * y, x, simplify=False)) == "0 + y * 1 * -1.0"
    assert diff(x + y, x, simplify=False) == Const(1)  # 1 + 0, built folded
    # constants reach the rules as numbers: pow's rule takes its fast path
    assert str(diff(x**2, x, simplify=False)) == "2 * x ** 1.0 * 1"
    assert diff(x**2, x, simplify=False).evaluate(x=-3.0) == -6.0  # no 0 * log(-3)
    assert str(diff(x**2, x)) == "2 * x"
    assert diff(y, x) == Const(0) and diff(3, x) == Const(0)
    with pytest.raises(DifferentiationError, match="symbol"):
        diff(x * x, x * x)  # type: ignore[arg-type]


def test_facts_22_to_24_expression_swell_of_repeated_squaring():
    trees, derivatives, naive, lines = [], [], [], []
    for k in range(1, 7):
        t = squarings(k)
        d = diff(t, x)
        trees.append(t.size)
        derivatives.append(d.size)
        naive.append(diff(t, x, simplify=False).size)
        lines.append(len(wengert(d)))
        assert len(wengert(t)) == k  # the DAG: k operations
    assert trees == [2 ** (k + 1) - 1 for k in range(1, 7)]
    assert derivatives == [3, 15, 47, 127, 319, 767]
    assert naive == [7, 23, 63, 159, 383, 895]
    assert lines == [1, 5, 9, 13, 17, 21]


def test_fact_22_the_derivative_of_x_to_the_8():
    x8 = squarings(3)
    assert str(x8) == "x * x * (x * x) * (x * x * (x * x))"
    assert x8.same(parse("(((x*x)*(x*x))*((x*x)*(x*x)))"))
    d = diff(x8, x)
    assert d.same(parse(X8))  # the curriculum's string, as a tree
    assert [d.evaluate(x=v) for v in (1, 2, 3)] == [8, 1024, 17496]
    assert [d.evaluate(x=v) for v in (1, 2, 3)] == [8 * v**7 for v in (1, 2, 3)]
    assert (x8.size, diff(x8, x, simplify=False).size, len(wengert(d))) == (15, 63, 9)


def test_fact_20_the_quotient_rule_the_textbook_way_and_adlab_s_way():
    textbook = parse(TEXTBOOK)
    own = diff(parse(QUOTIENT), x)  # the table's truediv partials: 1/y and -out/y
    assert not own.same(textbook)
    for v, want in [(1.0, -1.5), (2.0, -0.25), (3.0, -0.0925926)]:
        assert textbook.evaluate(x=v) == pytest.approx(want, rel=1e-6)
        assert own.evaluate(x=v) == pytest.approx(want, rel=1e-6)
        assert own.evaluate(x=v) == pytest.approx(-(v + 2) / (2 * v**3), rel=1e-15)


def test_fact_20_agrees_with_sympy():
    sympy = pytest.importorskip("sympy")
    sx = sympy.Symbol("x")
    ns = {"x": sx, "sin": sympy.sin, "exp": sympy.exp, "log": sympy.log}
    for text in (TEXTBOOK, str(diff(parse(QUOTIENT), x))):
        assert sympy.simplify(eval(text, ns) + (sx + 2) / (2 * sx**3)) == 0


def test_higher_derivatives_are_diff_of_diff():
    assert diff(diff(ad.sin(x), x), x).same(-ad.sin(x))
    d3 = diff(diff(diff(x**3, x), x), x)
    assert isinstance(d3, Const) and d3.value == 6.0
    mixed = diff(diff(x * x * y, x), y)
    assert mixed.evaluate(x=3.0, y=5.0) == 6.0


def test_diff_uses_every_kind_of_table_rule():
    cases = [
        (ad.sqrt(x * x + 1), lambda v: v / math.sqrt(v * v + 1)),
        (
            ad.log(x) * ad.tanh(x),
            lambda v: math.tanh(v) / v + math.log(v) * (1 - math.tanh(v) ** 2),
        ),
        (x**y, lambda v: 0.5 * v**-0.5),
        (2.0**x, lambda v: math.log(2.0) * 2.0**v),
        (ad.where(x > 1.0, x**3, -x), lambda v: 3 * v * v if v > 1 else -1.0),
        (ad.maximum(x, 1.5) + ad.abs(x - 3.0), lambda v: (v > 1.5) - (v < 3.0)),
        (ad.sum(ad.stack([x, 2.0 * x])), lambda v: 3.0),
    ]
    for e, want in cases:
        d = diff(e, x)
        for v in (0.7, 1.3, 2.2):
            assert d.evaluate(x=v, y=0.5) == pytest.approx(want(v), rel=1e-12), (e, v)


def test_a_primitive_without_a_forward_rule_is_named():
    lonely = ad.primitive(lambda t: t)  # no rule declared
    with pytest.raises(DifferentiationError, match="has no forward-mode rule"):
        diff(lonely(x), x)


# -- random expressions: forward mode on trees against finite differences --------

_LEAVES = st.sampled_from([x, x, y, Const(0.5), Const(2), Const(-1.5)])


def _grow(children: st.SearchStrategy) -> st.SearchStrategy:
    binary = st.sampled_from([S.add, S.sub, S.mul])
    safe_div = children.map(lambda a: a / (1.5 + ad.sin(a)))  # never divides by zero
    unary = st.sampled_from([S.sin, S.cos, S.tanh, S.sigmoid, lambda a: ad.exp(ad.tanh(a))])
    power = st.tuples(children, st.sampled_from([2, 3])).map(lambda t: t[0] ** t[1])
    return (
        st.tuples(binary, children, children).map(lambda t: t[0](t[1], t[2]))
        | st.tuples(unary, children).map(lambda t: t[0](t[1]))
        | safe_div
        | power
    )


EXPRESSIONS = st.recursive(_LEAVES, _grow, max_leaves=10)


@settings(deadline=None, derandomize=True, database=None, max_examples=100)
@given(EXPRESSIONS, st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
def test_derivatives_of_random_expressions_match_finite_differences(e, xv, yv):
    d = diff(e, x)
    naive = diff(e, x, simplify=False)

    def f(v):
        return e.evaluate(x=v, y=yv)

    by_differences = numeric.central_difference(f, xv, 1e-5)
    got = d.evaluate(x=xv, y=yv)
    scale = 1.0 + abs(by_differences)
    assert abs(got - by_differences) < 1e-5 * scale, (str(e), got, by_differences)
    assert naive.evaluate(x=xv, y=yv) == pytest.approx(got, rel=1e-12, abs=1e-12)
    assert ad.grad(f)(xv) == pytest.approx(got, rel=1e-10, abs=1e-12)  # reverse mode agrees


# ---------------------------------------------------------------------------
# Wengert lists


def test_fact_25_the_wengert_list_of_the_quotient_derivative():
    tree = parse(TEXTBOOK)
    w = wengert(tree)
    assert isinstance(w, Wengert) and len(w) == 9
    assert w.lines() == [
        "y1 = x ** 2",
        "y2 = 2 * y1",
        "y3 = 1 + x",
        "y4 = 2 * x",
        "y5 = 2 * y4",
        "y6 = y3 * y5",
        "y7 = y2 - y6",
        "y8 = y2 ** 2",
        "y9 = y7 / y8",
    ]
    assert w.rows[0] == ("y1", S.pow, ("x", "2"), ())
    assert [r.prim.name for r in w] == [
        "pow", "mul", "add", "mul", "mul", "mul", "sub", "pow", "truediv",
    ]  # fmt: skip
    assert w.outputs == ("y9",) and str(w) == "\n".join(w.lines())
    # identity-keyed caching (diff-zoo's original): x**2 and 2*x**2 are computed twice
    assert len(wengert(tree, share="identity")) == 11 == len(wengert(tree, "identity"))


def test_wengert_shows_itself_and_handles_leaves_and_several_outputs():
    w = wengert(parse(TEXTBOOK))
    html = w._repr_html_()
    assert "<table" in html and "y9 = y7 / y8" in html and "9 lines" in html
    assert "y9 = y7 / y8" in repr(w.table())
    both = wengert([x * y, x * y + 1, y])
    assert both.lines() == ["y1 = x * y", "y2 = y1 + 1", "return y1, y2, y"]
    assert wengert(x).lines() == ["return x"] and len(wengert(Const(2.0))) == 0
    assert str(wengert(parse("x ** -1.0 + (-2) ** x"))).splitlines()[1] == "y2 = (-2) ** x"
    assert "<svg" in ad.draw(w).svg  # the DAG, equal subexpressions drawn once
    with pytest.raises(ValueError, match="share must be"):
        wengert(x, share="names")
    with pytest.raises(DifferentiationError, match="prefix="):
        wengert(Sym("y1") * x)
    assert wengert(Sym("y1") * x, prefix="t").lines() == ["t1 = y1 * x"]


# ---------------------------------------------------------------------------
# LaTeX


def test_fact_21_latex_of_the_quotient_derivative():
    assert latex(parse(TEXTBOOK)) == (
        r"\dfrac{\left(2 \cdot x^{2} - \left(1 + x\right) \cdot 2 \cdot 2 \cdot x\right)}"
        r"{\left(2 \cdot x^{2}\right)^{2}}"
    )
    assert parse(TEXTBOOK).latex() == latex(parse(TEXTBOOK))


def test_latex_rules():
    assert latex(squarings(3)) == r" \cdot ".join("x" * 8)
    cases = {
        "a + (b - c)": r"a + \left(b - c\right)",
        "a - b - c": "a - b - c",
        "-(a + b)": r"-\left(a + b\right)",
        "a * -b": r"a \cdot \left(-b\right)",
        "(a * b) ** 2": r"\left(a \cdot b\right)^{2}",
        "(a + b) ** (n + 1)": r"\left(a + b\right)^{n + 1}",
        "sin(x + 1) * exp(x)": r"\sin\left(x + 1\right) \cdot \exp\left(x\right)",
        "sqrt(x) + abs(x) + sigmoid(x)": r"\sqrt{x} + \left|x\right| + "
        r"\operatorname{sigmoid}\left(x\right)",
        "alpha_1 * x_10 * 1e-08": r"\alpha_{1} \cdot x_{10} \cdot 1 \cdot 10^{-8}",
    }  # fmt: skip
    for text, want in cases.items():
        assert latex(parse(text)) == want, text
    assert latex(ad.where(x > 0.0, x, -x)) == (r"\operatorname{where}\left(x > 0.0, x, -x\right)")
    assert latex(Sym("w[0]") * Const(float("inf"))) == r"w_{0} \cdot \infty"


# ---------------------------------------------------------------------------
# Compiling


def test_compiled_code_shares_subexpressions_and_matches_evaluate():
    d = diff(squarings(3), x)
    f = compile_expr(d)
    assert f.source.startswith("def f(x):\n    y1 = x * x\n    y2 = y1 * y1\n")
    assert f.source.count("\n") == 1 + 9 + 1  # def, the 9 Wengert lines, return
    assert [f(v) for v in (1.0, 2.0, 3.0)] == [d.evaluate(x=v) for v in (1.0, 2.0, 3.0)]
    g = compile_expr(d, name="dx8")
    assert inspect.getsource(g) == g.source and g.__name__ == "dx8"


@settings(deadline=None, derandomize=True, database=None, max_examples=60)
@given(EXPRESSIONS, st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
def test_compiled_random_expressions_equal_evaluate(e, xv, yv):
    f = compile_expr([e, diff(e, x)], ("x", "y"))
    assert f(xv, yv) == (e.evaluate(x=xv, y=yv), diff(e, x).evaluate(x=xv, y=yv))


def test_compile_names_orders_and_dispatches():
    h = compile_expr(x / y, "y x")  # argument order as given
    assert h(2.0, 1.0) == 0.5 and h(0.0, 1.0) == math.inf  # the table's division: no raise
    odd = compile_expr(Sym("w[0]") * Sym("w[1]") + 1.5)
    assert odd.args == ("w[0]", "w[1]") and "def f(w_0, w_1):" in odd.source
    assert odd(2.0, 3.0) == 7.5
    table = compile_expr(ad.sin(x) * y, dispatch=True)  # primitives: any value type
    assert table(x, 2.0).same(ad.sin(x) * 2.0)
    assert ad.grad(lambda v: table(v, 3.0))(0.5) == pytest.approx(3 * math.cos(0.5))
    with pytest.raises(DifferentiationError, match="uses y"):
        compile_expr(x * y, ("x",))


def test_compiled_code_shows_in_tracebacks():
    f = compile_expr(ad.log(x) + ad.sqrt(Sym("w")), name="f_bad")
    with pytest.raises(TypeError) as info:
        f("oops", 1.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    mine = [fr for fr in frames if fr.filename.startswith("<adlab.symbolic f_bad")]
    assert mine and mine[0].line == "y1 = log(x)"
    assert linecache.getline(mine[0].filename, 1) == "def f_bad(x, w):\n"


# ---------------------------------------------------------------------------
# mode="symbolic": the engine protocol under the API


def _talk_f(x, y):
    return x * x * y + 1 / (x * x + y * y + 1)


def _regression(c):
    loss = 0
    for xi, yi in zip([1, 2, 3], [2, 4, 6]):
        loss = loss + (yi - c * xi) ** 2
    return loss


def test_the_talk_s_functions_in_symbolic_mode(symbolic_mode):
    gx, gy = ad.grad(_talk_f, (0, 1), mode=symbolic_mode)(0.5, -0.5)
    assert abs(gx + 17 / 18) < 1e-15 and abs(gy - 25 / 36) < 1e-15
    assert ad.grad(_regression, mode=symbolic_mode)(1.0) == -28.0
    x8 = ad.grad(lambda t: (t * t * (t * t)) * (t * t * (t * t)), mode=symbolic_mode)
    assert [x8(v) for v in (1.0, 2.0, 3.0)] == [8.0, 1024.0, 17496.0]
    assert ad.value_and_grad(lambda t: ad.where(t > 0.0, t**3, -t), mode=symbolic_mode)(2.0) == (
        8.0,
        12.0,
    )


def test_symbolic_mode_cannot_follow_a_python_branch(symbolic_mode):
    def relu_by_hand(speed):
        return speed if speed > 0 else 0.0

    with pytest.raises(DifferentiationError, match=r"cannot decide speed > 0 .*mode='reverse'"):
        ad.grad(relu_by_hand, mode=symbolic_mode)(1.0)


def test_symbolic_mode_takes_scalars(symbolic_mode):
    with pytest.raises(DifferentiationError, match=r"symbolic mode .* scalars.*p .*\(3,\)"):
        ad.grad(lambda p: ad.sum(p * p), mode=symbolic_mode)(np.ones(3))
    assert ad.grad(lambda p: p[0] * p[1], mode=symbolic_mode)((2.0, 3.0)) == (3.0, 2.0)
    assert ad.grad(lambda d: d["a"] ** 2, mode=symbolic_mode)({"a": 3.0}) == {"a": 6.0}
    with pytest.raises(DifferentiationError, match=r"ad\.stack"):
        ad.jacobian(lambda t: np.array([t, t * t]), mode=symbolic_mode)(1.0)


def test_jvp_vjp_jacobian_hessian_and_array_valued_outputs(symbolic_mode):
    def f(a, b):
        return a * b, ad.stack([a, ad.sin(b)])

    out, out_dot = ad.jvp(f, (2.0, 0.5), (1.0, 2.0), mode=symbolic_mode)
    assert out[0] == 1.0 and out_dot[0] == 0.5 + 2 * 2.0
    np.testing.assert_allclose(out_dot[1], [1.0, 2 * math.cos(0.5)])
    out, pullback = ad.vjp(f, 2.0, 0.5, mode=symbolic_mode)
    assert pullback((1.0, np.array([1.0, 1.0]))) == pytest.approx((1.5, 2.0 + math.cos(0.5)))
    hess = ad.hessian(lambda a, b: a**2 * b + b**3, argnums=(0, 1), mode=symbolic_mode)
    assert hess(2.0, 3.0) == ((6.0, 4.0), (4.0, 18.0))
    assert ad.derivative(lambda t: np.sin(t) * t, mode=symbolic_mode)(1.0) == pytest.approx(
        math.cos(1.0) + math.sin(1.0), rel=1e-15
    )
    assert ad.grad(lambda t: 3.0, mode=symbolic_mode)(1.0) == 0.0  # a constant function


def test_the_protocol_directly():
    outs, out_dots = protocol.jvp(lambda a, b: (a * b, a + 1.0), (2.0, 3.0), (1.0, None))
    assert outs == (6.0, 3.0) and out_dots == (3.0, 1.0)
    outs, pullback = protocol.vjp(lambda a: (a * a, 2.0 * a), (3.0,))
    assert pullback((1.0, None)) == (6.0,) and pullback((None, None)) == (0.0,)


def test_nested_symbolic_derivatives_keep_their_symbols_apart(symbolic_mode):
    def outer(t):  # the perturbation-confusion check: d/dx [x · d/dy (x + y)] = 1
        return t * ad.derivative(lambda s: t + s, mode=symbolic_mode)(1.0)

    assert ad.derivative(outer, mode=symbolic_mode)(2.0) == 1.0

    def same_names(t):  # the inner parameter has the outer one's name
        return t * ad.derivative(lambda t2: t * t2, mode=symbolic_mode)(1.0)

    assert ad.derivative(same_names, mode=symbolic_mode)(2.0) == 4.0
    for modes in (("reverse", "symbolic"), ("symbolic", "reverse")):
        hess = ad.hessian(lambda a, b: a**2 * b, argnums=(0, 1), mode=modes)
        assert hess(2.0, 3.0) == ((6.0, 4.0), (4.0, 0.0))


def test_an_inner_symbolic_derivative_of_an_outer_traced_value_is_refused(symbolic_mode):
    def outer(t):
        return t * ad.derivative(lambda s: t + s, mode=symbolic_mode)(1.0)

    with pytest.raises(DifferentiationError, match=r"outer transformation.*mode='reverse'"):
        ad.derivative(outer, mode="reverse")(2.0)


def test_derivative_programs_are_cached_by_their_formula(symbolic_mode):
    g = ad.grad(_talk_f, (0, 1), mode=symbolic_mode)
    g(0.5, -0.5)
    key = ((_talk_f(x, y).structure,), ("x", "y"), True)  # the formula, its symbols, owned
    first = protocol._programs[key]
    assert g(1.0, 2.0) == ad.grad(_talk_f, (0, 1))(1.0, 2.0)
    assert protocol._programs[key] is first
    assert "return" in first.compiled().source


# ---------------------------------------------------------------------------
# Deep expressions: no recursion anywhere


def test_deep_chains_need_no_recursion():
    e: Expr = x
    for _ in range(100_000):  # a hundred times Python's recursion limit
        e = -e
    assert e.size == 100_001 and e.evaluate(x=1.5) == 1.5
    assert diff(e, x) == Const(1.0)
    text = str(e)
    assert text.endswith("(-x" + ")" * 99_999) and len(text) == 3 * 100_000 - 1
    e = x
    for _ in range(3_000):  # the other walks on a shorter chain, still 3 times the limit
        e = -ad.exp(e) * 1
    assert diff(e, x, simplify=False).size > 3_000 and diff(e, x).size > 3_000
    assert latex(e).count(r"\exp\left(") == 3_000
    assert len(wengert(e)) == 9_000 and e.simplify().size == e.size - 6_000
    assert parse("x" + " + x" * 500).size == 1001  # beyond the recursion limit: no recursion
    with pytest.raises(DifferentiationError, match="too deeply for Python's parser"):
        parse("x" + " + x" * 100_000)


def test_deep_derivatives_need_no_recursion():
    e: Expr = x
    n = 3_000
    for _ in range(n):
        e = ad.sin(e)
    d = diff(e, x)  # cos(e_2999) * (cos(e_2998) * ...): 4.5 million tree nodes, a DAG of 9000
    assert d.size == n * (n + 1) // 2 + 2 * n - 1
    assert len(wengert(d)) == 3 * n - 2  # sin e_1..e_(n-1), cos e_0..e_(n-1), n - 1 products
    assert d.evaluate(x=0.3) == pytest.approx(ad.grad(lambda v: e.evaluate(x=v))(0.3), rel=1e-12)
    assert compile_expr(d)(0.3) == d.evaluate(x=0.3)
