"""The symbolic engine: expression trees, their derivatives, and expression swell.

Symbolic differentiation is forward mode run on expression trees: a tree's
derivative is the tree of tangents the table's rules build when they are
applied to expressions instead of numbers (:func:`diff`). Around it, the tools
of the lecture's chapter on symbolic differentiation:

* :func:`symbols` and :func:`parse` make expressions (:mod:`.parse`);
* :func:`diff` differentiates (forward mode on trees, in :mod:`adlab.core.expr` since
  it is the table's derivation applied to expressions), :meth:`Expr.simplify`
  applies the trivial rules, ``Expr.size`` counts the tree's nodes;
* :func:`wengert` turns a tree into a Wengert list, equal subexpressions shared, and
  :func:`compile_expr` makes a Python function of it (both in :mod:`adlab.core.wengert`,
  as ``Expr.wengert()`` and ``Expr.compile()``; :mod:`.wengert` shows the lists);
  :func:`latex` typesets a tree (:mod:`.latex`);
* :mod:`.protocol` is ``mode="symbolic"`` of the API (``jvp``/``vjp``).

>>> x = symbols("x")
>>> t = x * x
>>> d = (t * t).diff(x)
>>> print(d)
x * x * (x + x) + (x + x) * (x * x)
>>> d.size, len(wengert(d)), d.evaluate(x=2.0)
(15, 5, 32.0)
"""

from adlab.core.expr import Call, Const, Expr, Sym, diff
from adlab.engines.symbolic.latex import latex
from adlab.engines.symbolic.parse import parse, symbols
from adlab.engines.symbolic.wengert import Row, Wengert, compile_expr, wengert

__all__ = [
    "Call", "Const", "Expr", "Row", "Sym", "Wengert", "compile_expr", "diff", "latex", "parse",
    "symbols", "wengert",
]  # fmt: skip
