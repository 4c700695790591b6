"""adlab.core.wengert: Expr.wengert() and Expr.compile(), DESIGN.md's contract, in core.

The symbolic engine's ``wengert`` / ``compile_expr`` are the same functions (their
behaviour is tested in tests/engines/test_symbolic.py); here: the methods exist on every
expression, agree with the engine's names, and core reaches nothing above itself for them.
"""

from __future__ import annotations

import pytest

import adlab as ad
from adlab.core import wengert as core_wengert
from adlab.core.errors import DifferentiationError
from adlab.core.expr import Call, Const, Sym
from adlab.engines import symbolic
from adlab.ops import array

x, y = Sym("x"), Sym("y")


def squarings(k):
    t = x
    for _ in range(k):
        t = t * t
    return t


def test_the_methods_are_the_engines_functions():
    assert symbolic.wengert is core_wengert.wengert
    assert symbolic.compile_expr is core_wengert.compile_expr
    assert symbolic.Wengert is core_wengert.Wengert


def test_an_expression_is_its_own_wengert_list():
    d = squarings(3).diff(x)
    assert (d.size, len(d.wengert()), len(d.wengert(share="identity"))) == (47, 9, 9)
    parsed = symbolic.parse("x**2 + 2*x**2")
    assert parsed.wengert().lines() == ["y1 = x ** 2", "y2 = 2 * y1", "y3 = y1 + y2"]
    assert len(parsed.wengert(share="identity")) == 4  # x**2 twice: two objects
    assert (x * y).wengert(prefix="t").lines() == ["t1 = x * y"]
    assert Const(2.0).wengert().lines() == ["return 2.0"]


def test_a_row_prints_negative_constants_and_parameters_as_python():
    w = symbolic.parse("x ** -1.0 + (-2) ** x").wengert()
    assert w.lines() == ["y1 = x ** -1.0", "y2 = (-2) ** x", "y3 = y1 + y2"]
    v = Sym("v")
    summed = Call(array.sum_p, (v * v,), (("axis", 0),))
    assert str(summed.wengert()[-1]) == "y2 = sum(y1, axis=0)"


def test_an_expression_compiles_to_its_wengert_list():
    d = squarings(3).diff(x)
    f = d.compile()
    assert f.source.count("\n") == 1 + 9 + 1 and f.wengert.lines() == d.wengert().lines()
    assert f(2.0) == d.evaluate(x=2.0) == 1024.0
    g = (x / y).compile("y x", name="ratio")
    assert g.source.startswith("def ratio(y, x):") and g(2.0, 1.0) == 0.5
    assert (ad.sin(x) * y).compile(dispatch=True)(x, 2.0).same(ad.sin(x) * 2.0)


def test_the_list_shows_itself_as_a_table_once_adlab_is_imported():
    w = (x * x + x * x).wengert()
    assert "<table" in w._repr_html_() and "y2 = y1 + y1" in repr(w.table())


def test_only_expressions_make_lists():
    with pytest.raises(DifferentiationError, match="not an expression"):
        core_wengert.wengert(3.0)
    with pytest.raises(DifferentiationError, match="not an expression"):
        core_wengert.compile_expr([x, "x + 1"])


def test_core_wengert_reads_trees_without_importing_the_tree_module():
    # expr.py imports wengert.py for the methods; the reverse import would be a cycle
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(core_wengert))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "adlab.core.expr" not in imported
