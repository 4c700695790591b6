"""The chain rule as a sum over paths of a recorded computation graph.

Label every edge of a computation graph with its local partial derivative
(``∂target/∂operand``, evaluated where the program ran). Then the derivative of
the output with respect to an input is the sum, over every path from the input to
the output, of the product of the partials along the path: the *path-sum*
form of the chain rule. Enumerating the paths is the naive algorithm; a reverse
(or forward) sweep computes the same sum while sharing the common parts of the
paths, which is why AD is fast. On ``x ↦ x^(2^k)`` by repeated squaring each step
is a double edge, so there are ``2^k`` paths, against ``2k`` contributions of one
reverse sweep (:func:`count_paths` counts them without enumerating).

The partials come from the trace's own tangent sweep (``Trace.tangent_events``),
so nothing here restates a derivative. Every walk uses an explicit stack.

>>> import adlab as ad
>>> def f(u, v):
...     x = u + v
...     y = u - v
...     return x * y
>>> t = ad.trace(f, 3.0, 2.0)
>>> for p in paths(t, "u"):
...     print(p)
u → x → out: 1.0 · 1.0 = 1.0
u → y → out: 1.0 · 5.0 = 5.0
>>> path_sum(t, "u"), path_sum(t, "v"), t.backward()
(6.0, -4.0, (6.0, -4.0))
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adlab.core.events import format_value
from adlab.viz.graph import trace_graph
from adlab.viz.svg import Drawing, draw
from adlab.viz.tables import Table

__all__ = ["Edge", "Path", "count_paths", "draw_path", "edges", "path_sum", "path_table", "paths"]


@dataclass(frozen=True)
class Edge:
    """An operand flowing into the node that uses it, labelled with ``∂target/∂source``.

    ``source`` and ``target`` are indices of trace nodes (``trace.nodes[i]``);
    ``operand`` says which of the target's traced operands the edge is (``x * x``
    has two edges from ``x``: operands 0 and 1).
    """

    source: int
    target: int
    operand: int
    partial: Any


@dataclass(frozen=True)
class Path:
    """A path from an input to the output: its node names, edges and partials."""

    names: tuple[str, ...]
    edges: tuple[Edge, ...]

    @property
    def partials(self) -> tuple[Any, ...]:
        return tuple(e.partial for e in self.edges)

    @property
    def product(self) -> Any:
        """The product of the partials along the path (1.0 for the empty path)."""
        return functools.reduce(operator.mul, self.partials, 1.0)

    def __str__(self) -> str:
        factors = " · ".join(format_value(d) for d in self.partials) or "1.0"
        return f"{' → '.join(self.names)}: {factors} = {format_value(self.product)}"


def edges(trace: Any) -> list[Edge]:
    """Every edge of ``trace`` (an ``ad.trace``) with its local partial, in execution order.

    Raises ``ValueError`` for an operation whose rule is not a list of partials
    (an array primitive such as ``matmul``, whose Jacobian is no single number).

    >>> import adlab as ad
    >>> [(e.source, e.target, e.partial) for e in edges(ad.trace(lambda x: x * x, 3.0))]
    [(0, 1, 3.0), (0, 1, 3.0)]
    """
    by_index = {e.node: e for e in trace.tangent_events()}
    found = []
    for node in trace.operations:
        parents = list(node.parents)
        used = [False] * len(parents)
        for term in by_index[node.index].terms:
            if term.partial is None:
                raise ValueError(
                    f"{node.name} = {node.text()}: the rule of '{node.op.name}' is a jvp, not a "
                    "list of partials, so its edges carry no single number; the path sum "
                    "needs a program of elementwise operations"
                )
            k = next(
                (i for i, p in enumerate(parents) if not used[i] and p.name == term.input), None
            )
            if k is None:  # the trace's operands and the engine's parents must agree
                raise RuntimeError(
                    f"{node.name}: no operand named {term.input!r} left for its edge"
                )
            used[k] = True
            found.append(Edge(parents[k].index, node.index, k, term.partial))
    return found


def _input_index(trace: Any, wrt: int | str) -> int:
    """The trace-node index of an input given by its position among the inputs or its name."""
    inputs = trace.input_nodes
    if isinstance(wrt, str):
        for n in inputs:
            if n.name == wrt:
                return n.index
        raise KeyError(f"no input named {wrt!r}; inputs: {[n.name for n in inputs]}")
    return inputs[wrt].index


def _out_edges(trace: Any) -> dict[int, list[Edge]]:
    out: dict[int, list[Edge]] = {}
    for e in edges(trace):
        out.setdefault(e.source, []).append(e)
    return out


def paths(trace: Any, wrt: int | str = 0, *, limit: int = 100_000) -> list[Path]:
    """Every path from input ``wrt`` (a name or a position) to the output of ``trace``.

    Paths are listed depth first, operands in their order; more than ``limit``
    paths raise ``ValueError`` (count them with :func:`count_paths` instead).

    >>> import adlab as ad
    >>> [str(p) for p in paths(ad.trace(lambda x: x * x, 3.0))]
    ['x → out: 3.0 = 3.0', 'x → out: 3.0 = 3.0']
    """
    out = trace.output_node
    if out is None:  # the output does not depend on the inputs
        return []
    names = {n.index: n.name for n in trace.nodes}
    children = _out_edges(trace)
    start = _input_index(trace, wrt)
    found: list[Path] = []
    stack: list[tuple[int, tuple[Edge, ...]]] = [(start, ())]
    while stack:
        node, route = stack.pop()
        if node == out.index:
            found.append(Path(tuple(names[i] for i in (start, *(e.target for e in route))), route))
            if len(found) > limit:
                raise ValueError(
                    f"more than {limit} paths from {names[start]} to {out.name}: enumerating "
                    "them all is the exponential algorithm; count them with count_paths"
                )
            continue
        for e in reversed(children.get(node, [])):  # popped in operand order
            stack.append((e.target, (*route, e)))
    return found


def path_sum(trace: Any, wrt: int | str = 0) -> Any:
    """``∂out/∂wrt`` as the sum over all paths of the products of their partials.

    The naive algorithm: it enumerates every path (see :func:`paths`).
    """
    return functools.reduce(operator.add, (p.product for p in paths(trace, wrt)), 0.0)


def count_paths(trace: Any, wrt: int | str = 0) -> int:
    """How many paths lead from input ``wrt`` to the output, without enumerating them.

    One pass over the nodes in execution order (a topological order): a node is
    reached along as many paths as all its incoming edges together bring, an
    exact integer however many there are.

    >>> import adlab as ad
    >>> def squarings(x):
    ...     for _ in range(60):
    ...         x = x * x
    ...     return x
    >>> count_paths(ad.trace(squarings, 1.0)) == 2**60
    True
    """
    out = trace.output_node
    if out is None:
        return 0
    count = {_input_index(trace, wrt): 1}
    for e in edges(trace):  # in execution order: a source is finished before it is used
        if e.source in count:
            count[e.target] = count.get(e.target, 0) + count[e.source]
    return count.get(out.index, 0)


def path_table(found: Sequence[Path], *, title: str = "paths") -> Table:
    """The paths as a table: the route, its partials and their product, and the total."""
    rows = [
        (" → ".join(p.names), " · ".join(format_value(d) for d in p.partials),
         format_value(p.product))
        for p in found
    ]  # fmt: skip
    total = functools.reduce(operator.add, (p.product for p in found), 0.0)
    return Table(("path", "partials", "product"), rows, title=title,
                 note=f"sum over the {len(found)} paths: {format_value(total)}")  # fmt: skip


def draw_path(trace: Any, path: Path) -> Drawing:
    """The computation graph with every edge labelled by its partial, and ``path`` highlighted.

    >>> import adlab as ad
    >>> t = ad.trace(lambda u, v: (u + v) * (u - v), 3.0, 2.0)
    >>> draw_path(t, paths(t, "v")[1])
    <Drawing: computation graph of out, 5 nodes, 6 edges>
    """
    graph = trace_graph(trace, partials=True)
    active = {}
    for e in path.edges:
        k = graph.edges_into(f"n{e.target}")[e.operand]
        active[k] = (graph.edges[k].label, True)
    on_path = [e.source for e in path.edges[:1]] + [e.target for e in path.edges]
    states = {f"n{i}": "source" for i in on_path}
    return draw(graph.restyled(states=states, edges=active))
