"""The symbolic engine: expression trees, their derivatives, and expression swell.

Symbolic differentiation is forward mode run on expression trees: a tree's
derivative is the tree of tangents the table's rules build when they are
applied to expressions instead of numbers (:mod:`.diff`). Around it, the tools
of the lecture's chapter on symbolic differentiation:

* :func:`symbols` and :func:`parse` make expressions (:mod:`.parse`);
* :func:`diff` differentiates, :meth:`Expr.simplify` applies the trivial rules,
  ``Expr.size`` counts the tree's nodes;
* :func:`wengert` turns a tree into a Wengert list, equal subexpressions shared
  (:mod:`.wengert`); :func:`latex` typesets it (:mod:`.latex`);
* :func:`compile_expr` makes a Python function of it (:mod:`.compile`);
* :mod:`.protocol` is ``mode="symbolic"`` of the API (``jvp``/``vjp``).

Importing the engine gives :class:`~adlab.core.expr.Expr` its methods ``diff``,
``wengert``, ``latex`` and ``compile`` (core cannot import an engine, so it
keeps a registry that this module fills).

>>> x = symbols("x")
>>> t = x * x
>>> d = (t * t).diff(x)
>>> print(d)
x * x * (x + x) + (x + x) * (x * x)
>>> d.size, len(d.wengert()), d.evaluate(x=2.0)
(15, 5, 32.0)
"""

from adlab.core.expr import Call, Const, Expr, Sym, register_symbolic
from adlab.engines.symbolic.compile import compile_expr
from adlab.engines.symbolic.diff import diff
from adlab.engines.symbolic.latex import latex
from adlab.engines.symbolic.parse import parse, symbols
from adlab.engines.symbolic.wengert import Row, Wengert, wengert

register_symbolic(diff=diff, wengert=wengert, latex=latex, compile=compile_expr)

__all__ = [
    "Call", "Const", "Expr", "Row", "Sym", "Wengert", "compile_expr", "diff", "latex", "parse",
    "symbols", "wengert",
]  # fmt: skip
