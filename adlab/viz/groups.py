"""Big graphs, grouped: what repeats (a loop's iterations, a layer applied again and again)
is found in the graph and its middle repetitions collapse into one box.

A *block* is a run of consecutive nodes (in the graph's order, which for a trace is
execution order) whose operations and wiring repeat with a fixed period: node ``i``
and node ``i + period`` have the same operation badge and read their operands from
the same relative positions (or from the very same node outside the run, a weight
matrix say). :func:`find_repeat` finds the repeat that covers most nodes;
:func:`collapse` keeps its first and last block and replaces the blocks in between by
one node, "⋯ 168 more × 6 operations", wired to whatever the hidden blocks read and
fed. Like TensorBoard's name scopes, the box stands for its contents; the notebook
display of a drawing (:class:`~adlab.viz.svg.Drawing`) shows the grouped picture with a
switch to the full one.

>>> import adlab as ad
>>> def chain(x):
...     for _ in range(50):
...         x = ad.sin(x) * 1.01
...     return x
>>> from adlab.viz.graph import as_graph
>>> g = as_graph(ad.trace(chain, 0.3))
>>> r = find_repeat(g)
>>> (r.period, r.count)
(2, 50)
>>> len(collapse(g, r).nodes)
6
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from adlab.viz.graph import Graph, GraphEdge, GraphNode

MIN_NODES = 60  #: graphs smaller than this are drawn whole
MIN_COUNT = 4  #: a repeat needs at least this many blocks to be worth a box
MAX_PERIOD = 64  #: the longest block looked for (operations)


@dataclass(frozen=True)
class Repeat:
    """``count`` blocks of ``period`` nodes, the first starting at node ``start``."""

    start: int
    period: int
    count: int

    def block(self, k: int) -> range:
        """The node positions of block ``k`` (0-based)."""
        first = self.start + k * self.period
        return range(first, first + self.period)


def _operands(graph: Graph) -> list[list[int]]:
    """Each node's operands, as positions in ``graph.nodes``, in argument order."""
    where = {n.id: i for i, n in enumerate(graph.nodes)}
    operands: list[list[int]] = [[] for _ in graph.nodes]
    for e in graph.edges:
        operands[where[e.target]].append(where[e.source])
    return operands


def find_repeat(graph: Graph) -> Repeat | None:
    """The repeat covering most nodes, or ``None`` when nothing repeats at least
    :data:`MIN_COUNT` times (or the graph is small)."""
    n = len(graph.nodes)
    if n < MIN_NODES:
        return None
    operands = _operands(graph)
    badge = [(node.kind if node.kind != "output" else "value", node.op) for node in graph.nodes]
    best: Repeat | None = None
    for period in range(1, min(MAX_PERIOD, n // MIN_COUNT) + 1):

        def same(i: int, period: int = period) -> bool:
            j = i + period
            if badge[i] != badge[j] or len(operands[i]) != len(operands[j]):
                return False
            for a, b in zip(operands[i], operands[j]):
                near_a, near_b = i - a <= period, j - b <= period
                if near_a != near_b or (near_a and i - a != j - b) or (not near_a and a != b):
                    return False
            return True

        i = 0
        while i + period < n:
            if not same(i):
                i += 1
                continue
            run = i
            while i + period < n and same(i):
                i += 1
            count = (i - run) // period + 1
            if count >= MIN_COUNT and (best is None or count * period > best.count * best.period):
                best = Repeat(run, period, count)
    return best


def collapse(graph: Graph, repeat: Repeat) -> Graph:
    """``graph`` with blocks 2 … count-1 of ``repeat`` replaced by one box."""
    hidden = range(repeat.block(1).start, repeat.block(repeat.count - 1).start)
    box_id = "group"
    ops = [graph.nodes[i] for i in repeat.block(0)]
    names = ", ".join(dict.fromkeys(n.op or n.name for n in ops if n.op or n.name))
    box = GraphNode(
        box_id,
        f"⋯ {repeat.count - 2} more",
        None,
        (("note", f"× {repeat.period} operation{'s' * (repeat.period != 1)}"),
         ("note", _short(names))),
        "group",
        title=f"blocks 2 to {repeat.count - 1} of {repeat.count}, each like the first: {names}",
    )  # fmt: skip
    index = {n.id: i for i, n in enumerate(graph.nodes)}

    def where(node_id: str) -> str:
        return box_id if index[node_id] in hidden else node_id

    nodes = [n for i, n in enumerate(graph.nodes) if i not in hidden]
    nodes.insert(hidden.start, box)
    edges: list[GraphEdge] = []
    into_box: set[tuple[str, str]] = set()  # one edge per pair through the box
    for e in graph.edges:
        s, t = where(e.source), where(e.target)
        if box_id in (s, t):
            if s == t or (s, t) in into_box:
                continue
            into_box.add((s, t))
            e = dataclasses.replace(e, label="", active=False)
        edges.append(dataclasses.replace(e, source=s, target=t))
    title = f"{graph.title} (grouped: {repeat.count} repeats of {repeat.period} operations)"
    return Graph(tuple(nodes), tuple(edges), title)


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def grouped(graph: Graph) -> Graph | None:
    """The grouped picture of ``graph``, or ``None`` when nothing is worth grouping."""
    repeat = find_repeat(graph)
    return collapse(graph, repeat) if repeat is not None else None
