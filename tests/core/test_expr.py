"""adlab.core.expr: expression trees built by applying the table's primitives to symbols."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adlab as ad
from adlab.core import expr as expr_module
from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.expr import Call, Const, Expr, Sym, as_expr
from adlab.core.primitive import Box
from adlab.engines import symbolic  # the engine behind Expr.diff, .wengert, .latex, .compile
from adlab.ops import scalar as S

x, y, out = Sym("x"), Sym("y"), Sym("out")


def same(a: object, b: object) -> bool:
    """Whether ``a`` and ``b`` are the same tree (``==`` compares values)."""
    return as_expr(a).same(b)


def test_an_expression_is_a_box_below_every_transformation():
    assert isinstance(x, Box) and x._level == 0
    assert isinstance(ad.sin(x), Call) and ad.sin(x).prim is S.sin
    assert (x * y).prim is S.mul and (x * y).args == (x, y)


def test_python_operators_route_to_the_table():
    cases = [
        (x + y, S.add), (x - y, S.sub), (x * y, S.mul), (x / y, S.truediv), (x**y, S.pow),
        (-x, S.neg), (2.0 + x, S.add), (2.0 - x, S.sub), (2.0 * x, S.mul),
        (2.0 / x, S.truediv), (2.0**x, S.pow), (abs(x), S.abs),
    ]  # fmt: skip
    for expr, prim in cases:
        assert isinstance(expr, Call) and expr.prim is prim, expr
    assert same((2.0 * x).args[0], Const(2.0)) and (2.0 * x).args[1] is x
    assert +x is x


def test_numpy_scalars_defer_to_the_expression():
    assert isinstance(np.float64(2.0) * x, Call)
    assert str(np.float64(2.0) * x) == "2.0 * x"


def test_structural_equality_is_same_and_equality_compares_values():
    assert same(x * y, Sym("x") * Sym("y"))
    assert not same(x * y, y * x)  # trees, not algebra
    assert same(Const(1.0), 1.0) and same(Const(1.0), Const(1))
    assert len({(x + 1.0).structure, (x + 1.0).structure, (x + 2.0).structure}) == 2
    assert same(Const(float("nan")), Const(float("nan")))  # same tree
    assert same(Const(np.array([1.0, 2.0])), Const(np.array([1.0, 2.0])))
    # == and != compare values, as in every engine: a comparison, decided at a point
    assert same(x == y, S.equal(x, y)) and same(x != 1.0, S.not_equal(x, 1.0))
    assert (x == 1.0).evaluate(x=1.0) and not (x != 1.0).evaluate(x=1.0)
    assert Const(1.0) == 1.0 and Const(2.0) != Const(1)  # constants: decided
    with pytest.raises(DifferentiationError, match="cannot decide x == x"):
        bool(x == x)  # x may be nan
    with pytest.raises(DifferentiationError, match=r"cannot be hashed.*mode='reverse'"):
        hash(x)  # a lookup by x would compare trees, not values
    assert x != "x" and x not in ["x", None]  # not values: no comparison


def test_expressions_are_immutable():
    with pytest.raises(AttributeError):
        x.name = "z"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        (x * y).args = ()  # type: ignore[misc]


def test_comparisons_are_expressions_but_cannot_be_decided_symbolically():
    assert (x > 0).prim is S.greater and (x > 0).args == (x, Const(0))
    reflected = 0.5 < x  # noqa: SIM300 - the float defers to the expression
    assert reflected.prim is S.greater and reflected.args == (x, Const(0.5))
    assert str(x <= y) == "x <= y" and str(x >= 1.0) == "x >= 1.0"
    assert ad.where(x > 0.0, x, -x).evaluate(x=-2.0) == 2.0  # a formula with a choice
    with pytest.raises(DifferentiationError, match="cannot decide x > 0 symbolically"):
        if x > 0:
            pass
    with pytest.raises(DifferentiationError, match="mode='reverse'"):
        max(x, 0.0)
    with pytest.raises(DifferentiationError, match=r"truth of x \+ 1.*ad\.where"):
        bool(x + 1)
    with pytest.raises(DifferentiationError, match="evaluate"):
        float(x)


def test_rules_applied_to_names_give_their_formulas():
    (d_mul_x, d_mul_y) = rules.partials[S.mul]
    assert d_mul_x(x, y, out) is y and d_mul_y(x, y, out) is x
    (d_sin,) = rules.partials[S.sin]
    assert str(d_sin(x, out)) == "cos(x)"
    (d_tanh,) = rules.partials[S.tanh]
    assert str(d_tanh(x, out)) == "1.0 - out * out"


def test_calls_on_constants_fold():
    assert same(Call.make(S.add, (Const(2.0), Const(3.0))), Const(5.0))
    assert same(S.equal(Const(2), Const(0.0)), Const(False))
    with np.errstate(divide="ignore"):
        assert isinstance(Call.make(S.truediv, (Const(1.0), Const(0.0))), Call)  # inf: a call


def test_simplify_applies_only_identities_that_always_hold():
    (d_pow_x, _) = rules.partials[S.pow]
    # constants folded (the guard of x = 0 stays: its condition is symbolic)
    assert str(d_pow_x(x, Const(2), out)) == "2 * x ** where(x == 0.0, 1.0, 1.0)"
    assert str(d_pow_x(x, Const(2), out).simplify()) == "2 * x"
    assert (x * 1.0).simplify() is x and (1.0 * x).simplify() is x
    assert str((x * -1.0).simplify()) == "-x"
    assert str((y + -x).simplify()) == "y - x"
    assert str((y - -x).simplify()) == "y + x"
    minus_x = -x
    assert (-minus_x).simplify() is x
    assert str((y * (1.0 / x)).simplify()) == "y / x"
    assert str((0.0 * x).simplify()) == "0.0 * x"  # 0 * inf is nan: not simplified


def test_simplify_the_trivial_rules_and_the_finite_switch():
    assert same((x**0).simplify(), Const(1)) and same((x**0.0).simplify(), 1.0)  # nan**0 = 1
    assert (x**1 / 1 + 0).simplify() is x
    assert str((0 * x + y).simplify()) == "0 * x + y"  # 0 * inf is nan: kept by default
    assert (0 * x + y).simplify(assume_finite=True) is y
    assert same((x * 0.0).simplify(assume_finite=True), Const(0.0))
    assert same((0.0 / x).simplify(assume_finite=True), Const(0.0))
    assert same((x + x).simplify(), x + x)  # no collecting of terms: a heuristic
    assert ad.where(Const(True), x, y).simplify() is x
    # (x > 0) * 1 is a number, x > 0 a bool (and numpy's True + True is True): kept
    assert str(((x > 0) * 1 + (y > 0) * 1).simplify()) == "(x > 0) * 1 + (y > 0) * 1"


def test_size_counts_shared_subtrees_at_each_occurrence():
    t = x * x
    assert (t + t).size == 7 and (t * t * (t * t)).size == 15
    assert Const(1.0).size == 1 and x.size == 1


def test_numpy_ufuncs_call_the_table():
    assert same(np.sin(x), ad.sin(x)) and same(np.exp(x) + 1, ad.exp(x) + 1)
    assert same(np.negative(x), -x) and same(np.power(x, 2), x**2)
    assert same(np.absolute(x), abs(x))
    with pytest.raises(DifferentiationError, match=r"np\.add\.reduce"):
        np.add.reduce(x)
    with pytest.raises(DifferentiationError, match=r"np\.cbrt"):
        np.cbrt(x)


def test_expressions_differentiate_and_typeset_themselves_in_core():
    # forward mode on trees and the LaTeX printer need only the table's data, so they are
    # core's: no registry reaches up to the symbolic engine
    assert same((x * x).diff(x), symbolic.diff(x * x, x))
    assert same((x * x).diff(x), expr_module.diff(x * x, x))
    assert (x**2 / 2).latex() == symbolic.latex(x**2 / 2) == "\\dfrac{x^{2}}{2}"
    assert len(symbolic.wengert(x * x)) == 1
    assert not hasattr(expr_module, "register_symbolic")


def test_printing_keeps_the_tree_with_few_parentheses():
    a, b, c = Sym("a"), Sym("b"), Sym("c")
    cases = [
        (a - (b - c), "a - (b - c)"),
        ((a - b) - c, "a - b - c"),
        (a * (b + c), "a * (b + c)"),
        ((-a) ** 2, "(-a) ** 2"),
        (-(a**2), "-a ** 2"),
        (a ** (b**c), "a ** b ** c"),
        ((a**b) ** c, "(a ** b) ** c"),
        (a / (b * c), "a / (b * c)"),
        (S.neg(-a), "-(-a)"),
        (a**-b, "a ** -b"),
        (ad.sin(a + b), "sin(a + b)"),
        (S.greater(a, 0.0), "a > 0.0"),
    ]
    for expr, text in cases:
        assert str(expr) == text
        assert ast_equal(text, expr)
    assert str(Const(-1.0) ** a) == "(-1.0) ** a"


def test_negative_constants_are_parenthesised_where_unary_minus_binds_looser():
    a = Sym("a")
    cases = [
        (Call(S.pow, (Const(-0.19), Const(2))), "(-0.19) ** 2"),
        (Call(S.pow, (Const(-0.0), Const(2))), "(-0.0) ** 2"),
        (Call(S.pow, (Const(-2), a)), "(-2) ** a"),
        (Call(S.sub, (a, Const(-1.0))), "a - -1.0"),
        (Call(S.pow, (Const(2.0), Call(S.neg, (a,)))), "2.0 ** -a"),
        (Call(S.neg, (Const(-0.0),)), "-(-0.0)"),
    ]
    for expr, text in cases:
        assert str(expr) == text
        assert _outcome(text) == _outcome(_parenthesised(expr))


_LEAVES = st.sampled_from([Sym("a"), Sym("b"), Const(-0.19), Const(-2.0), Const(-0.0),
                           Const(-1), Const(3), Const(0.5)])  # fmt: skip
_OPERATORS = st.sampled_from([S.add, S.sub, S.mul, S.truediv, S.pow])


def _trees(children: st.SearchStrategy) -> st.SearchStrategy:
    """A call of an operator on subtrees, built unfolded: (-2.0) ** 2 stays a call."""
    binary = st.tuples(_OPERATORS, children, children).map(lambda t: Call(t[0], t[1:]))
    return binary | children.map(lambda c: Call(S.neg, (c,)))


@settings(deadline=None, derandomize=True, database=None, max_examples=300)
@given(st.recursive(_LEAVES, _trees, max_leaves=8))
def test_printed_code_evaluates_like_the_fully_parenthesised_tree(expr: Expr):
    text = str(expr)
    assert _outcome(text) == _outcome(_parenthesised(expr)), text


def _parenthesised(expr: Expr) -> str:
    """The tree as Python with every call and constant in parentheses: no precedence."""
    done: dict[int, str] = {}
    for node in expr.walk():
        if isinstance(node, Call):
            args = [done[id(a)] for a in node.args]
            symbol = node.prim.symbol
            text = f"-{args[0]}" if len(args) == 1 else f"{args[0]} {symbol} {args[1]}"
        else:
            text = node.name if isinstance(node, Sym) else repr(node.value)
        done[id(node)] = f"({text})"
    return done[id(expr)]


def _outcome(text: str) -> str:
    """What Python makes of the text at a = 1.3, b = -0.7: the value's repr (so -0.0 is not
    0.0), or the exception it raises."""
    try:
        return repr(eval(text, {"a": 1.3, "b": -0.7}))
    except (ArithmeticError, ValueError) as e:
        return type(e).__name__


def ast_equal(text: str, expr: Expr) -> bool:
    """The printed text evaluates like the tree (checked at a point)."""
    env = {"a": 1.3, "b": 0.7, "c": 2.1, "sin": math.sin}
    return math.isclose(eval(text, env), expr.evaluate(a=1.3, b=0.7, c=2.1))


def test_printing_with_custom_names_and_constants():
    e = ad.cos(x) * Const(np.inf)
    assert e.code() == "cos(x) * float('inf')"
    assert e.code(name=lambda p: f"ad.{p.name}") == "ad.cos(x) * float('inf')"
    assert (x / y).code(infix=lambda call: False) == "truediv(x, y)"
    assert Const(np.array([1.0])).code(constant=lambda v: "ONES") == "ONES"


def test_evaluate_with_any_value_type():
    e = x * y + ad.sin(x)
    assert e.evaluate(x=2.0, y=3.0) == 6.0 + math.sin(2.0)
    assert e.evaluate({"x": 2.0}, y=3.0) == 6.0 + math.sin(2.0)
    np.testing.assert_allclose(e.evaluate(x=np.array([0.0, 1.0]), y=2.0), [0.0, 2.0 + math.sin(1)])
    g = ad.grad(lambda v: e.evaluate(x=v, y=3.0))(2.0)  # traced values flow through
    assert g == pytest.approx(3.0 + math.cos(2.0))
    assert same((x * y).evaluate(x=Sym("a"), y=2.0), Sym("a") * 2.0)  # and other expressions
    with pytest.raises(DifferentiationError, match="no value for the symbol 'y'"):
        e.evaluate(x=1.0)


def test_free_symbols_in_order_of_appearance():
    assert (y * x + ad.sin(y)).free_symbols == (y, x)
    assert Const(1.0).free_symbols == ()


def test_deep_expressions_need_no_recursion():
    e: Expr = x
    for _ in range(5_000):  # far beyond Python's recursion limit
        e = e + 1.0
    assert e.evaluate(x=0.0) == 5_000.0
    assert len(str(e)) > 5_000
    assert same(e.simplify(), e) and same(e, e.simplify())


def test_as_expr():
    assert as_expr(x) is x and same(as_expr(2.0), Const(2.0))
    with pytest.raises(DifferentiationError, match="str"):
        as_expr("x")
    with pytest.raises(ValueError):
        Sym("")
