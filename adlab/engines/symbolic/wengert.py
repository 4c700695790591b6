"""Wengert lists of the symbolic engine: :mod:`adlab.core.wengert`'s, shown as tables and drawn.

Building the list and compiling it work on core's expression trees, so they live in
core (``Expr.wengert()``, ``Expr.compile()``); this module gives them their pictures:
a list shows itself as an :class:`adlab.viz.tables.Table`, and ``ad.draw`` draws the
DAG it computes (each shared subexpression once).
"""

from __future__ import annotations

from adlab.core.wengert import Row, Wengert, compile_expr, register_table, wengert
from adlab.viz.graph import expr_graph, register_adapter
from adlab.viz.tables import Table

__all__ = ["Row", "Wengert", "compile_expr", "wengert"]

register_table(Table)
register_adapter(
    "Wengert list (symbolic)",
    lambda obj: isinstance(obj, Wengert) and obj.share == "structure" and len(obj.exprs) == 1,
    lambda w, **options: expr_graph(w.exprs[0], shared=True, **options),
)
