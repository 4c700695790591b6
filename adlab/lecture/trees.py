"""Drawable trees and lists for chapters 04 and 05: a formula's parse tree, a Wengert list as a DAG.

adlab draws its own expressions (``ad.draw(expr)``, symbols drawn once). Chapter 04
also compares *parse trees*, where every occurrence of ``x`` is a leaf of its own,
as the talk's ``to_graph`` drew them:

* :func:`ast_tree` draws Python's parse tree of a formula (:mod:`ast`: strictly
  binary, left-associative), or with ``nary=True`` the tree Julia's parser builds
  from the same text, where a chain ``a * b * c`` or ``a + b + c`` is one call with
  several arguments;
* :func:`wengert_graph` draws a Wengert list of the symbolic engine as the DAG it
  computes, one node per line, named ``y1, y2, ...``, constants on the badges;
* :func:`rows_graph` draws a Wengert list written by hand as rows
  ``(name, operation, operands)`` — chapter 05's — with values and edge partials.

Both return an :class:`adlab.viz.graph.Graph`, which ``ad.draw`` renders; its
``nodes`` and ``edges`` are the counts the chapter states.

>>> binary, nary = ast_tree("2*x*x + 3*x + 1"), ast_tree("2*x*x + 3*x + 1", nary=True)
>>> (len(binary.nodes), len(binary.edges)), (len(nary.nodes), len(nary.edges))
((11, 10), (9, 8))
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from adlab.core.events import format_value
from adlab.core.expr import Const, Sym
from adlab.viz.graph import Graph, GraphEdge, GraphNode, op_badge

__all__ = ["ast_tree", "rows_graph", "wengert_graph"]

_OPERATORS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷", ast.Pow: "**",
              ast.USub: "−", ast.UAdd: "+"}  # fmt: skip
_CHAINS = (ast.Add, ast.Mult)
"""The operators whose chains Julia parses as one n-ary call (``a*b*c`` is ``*(a, b, c)``)."""


def _operands(node: ast.expr, nary: bool) -> list[ast.expr]:
    """The children of a parse-tree node; with ``nary``, a chain of ``+`` or ``*`` flattened."""
    if isinstance(node, ast.BinOp):
        rights = [node.right]
        # walk down the left spine while it continues the chain; an unparenthesised left
        # operand starts where its parent starts: ``a*b*c`` is a chain, ``(a*b)*c`` is not
        # (the parentheses move the parent's start before ``a``)
        while (
            nary
            and isinstance(node.op, _CHAINS)
            and isinstance(node.left, ast.BinOp)
            and type(node.left.op) is type(node.op)
            and (node.left.lineno, node.left.col_offset) == (node.lineno, node.col_offset)
        ):
            node = node.left
            rights.append(node.right)
        return [node.left, *reversed(rights)]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _label(node: ast.expr) -> str:
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return _OPERATORS.get(type(node.op), type(node.op).__name__)
    if isinstance(node, ast.Call):
        return ast.unparse(node.func)
    return ast.unparse(node)


def ast_tree(source: str, *, nary: bool = False) -> Graph:
    """The parse tree of a formula, every node drawn once per occurrence.

    ``nary=False``: Python's :mod:`ast`, binary and left-associative, so
    ``2*x*x`` is ``(2*x)*x``. ``nary=True``: the tree Julia's parser builds, where
    an unparenthesised chain of ``+`` or ``*`` is one node with several children.

    >>> g = ast_tree("4*x + 3")
    >>> [n.op or n.name for n in g.nodes], len(g.edges)
    (['4', 'x', '×', '3', '+'], 4)
    >>> len(ast_tree("(a*b)*c", nary=True).nodes), len(ast_tree("a*b*c", nary=True).nodes)
    (5, 4)
    """
    root = ast.parse(source.strip(), mode="eval").body
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    # post-order with an explicit stack: operands are added before the node that uses them
    stack: list[tuple[ast.expr, bool]] = [(root, False)]
    done: list[str] = []  # ids of finished subtrees, the newest last
    while stack:
        node, expanded = stack.pop()
        kids = _operands(node, nary)
        if kids and not expanded:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
            continue
        nid = f"a{len(nodes)}"
        title = ast.unparse(node)
        if kids:
            args = done[len(done) - len(kids) :]
            del done[len(done) - len(kids) :]
            nodes.append(GraphNode(nid, "", _label(node), (), "op", title=title))
            edges += [GraphEdge(a, nid) for a in args]
        else:
            kind = "input" if isinstance(node, ast.Name) else "const"
            nodes.append(GraphNode(nid, _label(node), None, (), kind, title=title))
        done.append(nid)
    if nodes[-1].kind == "op":
        last = nodes[-1]
        nodes[-1] = GraphNode(last.id, last.name, last.op, last.lines, "output", title=last.title)
    what = "n-ary (Julia)" if nary else "binary (Python ast)"
    return Graph(tuple(nodes), tuple(edges), f"parse tree of {source.strip()}, {what}")


_SLOT = object()
"""Stands for an argument that is another line or a symbol, in a badge (drawn as an edge)."""


def wengert_graph(w: Any, values: Mapping[str, Any] | None = None) -> Graph:
    """The DAG of a Wengert list (:func:`adlab.engines.symbolic.wengert`): a node per line,
    named ``y1, y2, ...``, each symbol once, constants written on the operation's badge.

    ``values`` (symbol name -> number) adds each line's value under its name.

    >>> from adlab.engines.symbolic import parse, wengert
    >>> g = wengert_graph(wengert(parse("x**2 + 2*x**2")), values={"x": 3.0})
    >>> [(n.name, n.op, n.lines) for n in g.nodes]  # doctest: +NORMALIZE_WHITESPACE
    [('x', None, (('value', '3.0'),)), ('y1', '**2', (('value', '9.0'),)),
     ('y2', '2×', (('value', '18.0'),)), ('y3', '+', (('value', '27.0'),))]
    """
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    symbols: dict[str, str] = {}

    def lines(expr: Any) -> tuple[tuple[str, str], ...]:
        if values is None:
            return ()
        return (("value", format_value(expr.evaluate(dict(values)))),)

    for i, (row, (node, refs)) in enumerate(zip(w.rows, w.steps)):
        sources: list[str] = []
        badge_args: list[Any] = []
        for ref in refs:
            if isinstance(ref, int):
                sources.append(f"y{ref}")
                badge_args.append(_SLOT)
            elif isinstance(ref, Sym):
                if ref.name not in symbols:
                    symbols[ref.name] = f"s{len(symbols)}"
                    nodes.append(GraphNode(symbols[ref.name], ref.name, None, lines(ref),
                                           "input", title=ref.name))  # fmt: skip
                sources.append(symbols[ref.name])
                badge_args.append(_SLOT)
            else:
                assert isinstance(ref, Const)
                badge_args.append(ref.value)
        badge = op_badge(node.prim, badge_args, lambda a: a is _SLOT)
        kind = "output" if i == len(w.rows) - 1 else "value"
        nodes.append(GraphNode(f"y{i}", row.name, badge, lines(node), kind, title=str(row)))
        edges += [GraphEdge(s, f"y{i}") for s in sources]
    return Graph(tuple(nodes), tuple(edges), f"Wengert list, {len(w)} lines")


_ROW_SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "square": "²", "neg": "−"}


def rows_graph(
    rows: Any,
    *,
    values: Mapping[str, Any] | None = None,
    partials: Any = None,
    title: str = "",
) -> Graph:
    """A Wengert list written by hand as rows ``(name, operation, operands)`` — an operand
    is an earlier row's name, an input's name, or a number (a constant) — drawn as the
    computation graph it computes, inputs first.

    ``values`` (name -> number) writes each node's value under its name; ``partials``,
    triples ``(source, target, ∂target/∂source)`` in the rows' operand order, label
    the edges, each with the partial it is (``∂v1/∂t = -1/2``), so that two labels
    that meet at one operation still say which edge is which.

    >>> rows = [("t", "square", ["x"]), ("out", "add", ["t", 1])]
    >>> g = rows_graph(rows, values={"x": 2, "t": 4, "out": 5})
    >>> [(n.name, n.op, n.lines[0][1]) for n in g.nodes]
    [('x', None, '2'), ('t', '²', '4'), ('out', '· + 1', '5')]
    >>> [(e.source, e.target) for e in g.edges]
    [('x', 't'), ('t', 'out')]
    """
    defined = {name for name, _, _ in rows}
    inputs = [a for _, _, args in rows for a in args if isinstance(a, str) and a not in defined]

    def lines(name: str) -> tuple[tuple[str, str], ...]:
        if values is None or name not in values:
            return ()
        return (("value", format_value(values[name])),)

    nodes = [GraphNode(a, a, None, lines(a), "input", title=a) for a in dict.fromkeys(inputs)]
    edges: list[GraphEdge] = []
    labels = list(partials or ())
    for i, (name, op, args) in enumerate(rows):
        symbol = _ROW_SYMBOLS.get(op, op)
        constants = [a for a in args if not isinstance(a, str)]
        if constants and len(args) == 2:
            left, right = (format_value(a) if not isinstance(a, str) else "·" for a in args)
            symbol = f"{left} {symbol} {right}"
        kind = "output" if i == len(rows) - 1 else "value"
        text = f"{name} = {op}({', '.join(map(str, args))})"
        nodes.append(GraphNode(name, name, symbol, lines(name), kind, title=text))
        for a in args:
            if not isinstance(a, str):
                continue
            label = ""
            k = next((k for k, (s, t, _) in enumerate(labels) if (s, t) == (a, name)), None)
            if k is not None:
                label = f"∂{name}/∂{a} = {format_value(labels.pop(k)[2], 4)}"
            edges.append(GraphEdge(a, name, label))
    return Graph(tuple(nodes), tuple(edges), title or f"Wengert list, {len(rows)} rows")
