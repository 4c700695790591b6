"""What a drawing shows, independent of how it is drawn: a small generic graph model.

A :class:`Graph` is a list of :class:`GraphNode` and :class:`GraphEdge`. A node
is a value with a name and lines of text under it (its value, tangent,
adjoint), optionally computed by an operation drawn as a badge on its left
(``op``); a node with an ``op`` and no name is a bare operation (an expression
tree's inner node). Edges run from an operand to the node that uses it, in
argument order, and may carry a label (a local partial derivative, a
contribution).

Adapters turn adlab's objects into graphs. They read those objects by their
attributes (``viz`` never imports the engines), and :func:`as_graph` picks the
first adapter whose test accepts the object; :func:`register_adapter` adds one,
which is how a new drawable type (the symbolic engine's expressions, say) joins
``ad.draw`` without touching the renderer.

>>> import adlab as ad
>>> g = as_graph(ad.trace(lambda x, y: x * (x + y), 2.0, 3.0))
>>> [(n.name, n.op, n.kind) for n in g.nodes]
[('x', None, 'input'), ('y', None, 'input'), ('v1', '+', 'value'), ('out', '×', 'output')]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adlab.core.events import bar, dot, format_value

#: Line roles, each drawn in its own colour: the value, the tangent ẋ, the adjoint x̄, a note.
ROLES = ("value", "tangent", "adjoint", "note")
#: Node states: a normal node, one not computed yet (faded), the current step's node
#: (highlighted), and the node the current step reads from (outlined).
STATES = ("normal", "pending", "current", "source")


@dataclass(frozen=True)
class GraphNode:
    """A value (``name`` over its ``lines``), optionally with the ``op`` that computed it.

    ``kind`` is ``"input"``, ``"value"``, ``"output"``, ``"const"`` or ``"op"`` (a bare
    operation); ``lines`` are ``(role, text)`` pairs; ``title`` is the hover text.
    """

    id: str
    name: str
    op: str | None = None
    lines: tuple[tuple[str, str], ...] = ()
    kind: str = "value"
    state: str = "normal"
    title: str = ""
    #: lines shown only for a while, on a timeline (the Stepper's): ``(slot, role, text,
    #: start, end)`` is shown at line ``slot`` while ``start <= step < end``
    timed: tuple[tuple[int, str, str, int, int], ...] = ()
    #: the step from which the node is computed; it is faded before (the Stepper's timeline)
    since: int | None = None


@dataclass(frozen=True)
class GraphEdge:
    """An operand flowing into the node that uses it; ``active`` edges are highlighted."""

    source: str
    target: str
    label: str = ""
    active: bool = False
    #: labels shown only for a while: ``(text, start, end)``, as :attr:`GraphNode.timed`
    timed: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class Graph:
    """Nodes and edges to draw, in a deterministic order (operands before their users)."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    title: str = ""
    _by_id: dict[str, GraphNode] = field(default=None, init=False, repr=False, compare=False)
    _into: dict[str, list[int]] = field(default=None, init=False, repr=False, compare=False)

    def node(self, id: str) -> GraphNode:
        by_id = self._by_id
        if by_id is None:
            by_id = {n.id: n for n in self.nodes}
            object.__setattr__(self, "_by_id", by_id)
        return by_id[id]

    def edges_into(self, target: str) -> list[int]:
        """Indices of the edges into ``target``, in argument order."""
        into = self._into
        if into is None:  # one pass over the edges, not one per node
            into = {}
            for i, e in enumerate(self.edges):
                into.setdefault(e.target, []).append(i)
            object.__setattr__(self, "_into", into)
        return into.get(target, [])

    def restyled(
        self,
        *,
        lines: Mapping[str, tuple[tuple[str, str], ...]] | None = None,
        states: Mapping[str, str] | None = None,
        edges: Mapping[int, tuple[str, bool]] | None = None,
    ) -> Graph:
        """A copy with some nodes' lines or states, and some edges' (label, active), replaced."""
        lines, states, edges = lines or {}, states or {}, edges or {}
        nodes = tuple(
            dataclasses.replace(
                n, lines=lines.get(n.id, n.lines), state=states.get(n.id, n.state)
            ) if n.id in lines or n.id in states else n
            for n in self.nodes
        )  # fmt: skip
        new_edges = tuple(
            dataclasses.replace(e, label=edges[i][0], active=edges[i][1]) if i in edges else e
            for i, e in enumerate(self.edges)
        )
        return Graph(nodes, new_edges, self.title)


# ---------------------------------------------------------------------------
# Adapters


Adapter = Callable[..., Graph]
_ADAPTERS: list[tuple[str, Callable[[Any], bool], Adapter]] = []


def register_adapter(kind: str, accepts: Callable[[Any], bool], adapter: Adapter) -> None:
    """Teach :func:`as_graph` (and so ``ad.draw``) a new kind of object.

    ``accepts(obj)`` says whether ``adapter(obj, **options)`` can turn ``obj`` into a
    :class:`Graph`; adapters registered later are tried first.
    """
    _ADAPTERS.insert(0, (kind, accepts, adapter))


def as_graph(obj: Any, **options: Any) -> Graph:
    """The :class:`Graph` of a Trace, a Wengert list (Tape), a GradResult, or a Graph."""
    if isinstance(obj, Graph):
        return obj
    for _, accepts, adapter in _ADAPTERS:
        if accepts(obj):
            return adapter(obj, **options)
    kinds = ", ".join(kind for kind, _, _ in reversed(_ADAPTERS))
    raise TypeError(f"cannot draw a {type(obj).__name__}; ad.draw knows: Graph, {kinds}")


def _is_trace(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("nodes", "input_nodes", "output_node", "tape"))


_PRETTY = {"*": "×", "/": "÷", "-": "−", "+": "+", "@": "@", "**": "**"}
_BADGE_MAX = 16


def op_badge(op: Any, args: Sequence[Any], is_traced: Callable[[Any], bool]) -> str:
    """The short text of an operation's badge: ``×``, ``sin``, ``÷2.0``, ``maximum(·, 0.1)``."""
    name, symbol = op.name, getattr(op, "symbol", None)
    consts = [None if is_traced(a) else format_value(a, 4) for a in args]
    if symbol in _PRETTY and len(args) == 2:
        s = _PRETTY[symbol]
        a, b = consts
        text = s if a is None and b is None else f"{s}{b}" if a is None else f"{a}{s}"
    elif symbol and len(args) == 1:
        text = _PRETTY.get(symbol, symbol)
    elif any(c is not None for c in consts):
        text = f"{name}({', '.join('·' if c is None else c for c in consts)})"
    else:
        text = name
    return text if len(text) <= _BADGE_MAX else text[: _BADGE_MAX - 1] + "…"


def trace_graph(
    trace: Any,
    *,
    values: bool = True,
    adjoints: bool = False,
    tangents: bool = False,
    seed: Any = None,
    partials: bool = False,
) -> Graph:
    """The computation graph of a recorded trace (``ad.trace``, ``%%grad``).

    Every node shows its name and value; ``adjoints=True`` adds each node's
    adjoint x̄ (the backward sweep from out̅ = 1), ``tangents=True`` its tangent ẋ
    (the forward-mode sweep seeded by ``seed``: an input's name or index, see
    ``Trace.tangent_events``), and ``partials=True`` labels each edge with its
    local partial derivative.
    """
    lines: dict[int, list[tuple[str, str]]] = {n.index: [] for n in trace.nodes}
    if values:
        for n in trace.nodes:
            lines[n.index].append(("value", format_value(n.value)))
    if tangents:
        for e in trace.tangent_events(seed):
            lines[e.node].append(("tangent", f"{dot(e.name)} = {format_value(e.tangent)}"))
    if adjoints:
        total = {}
        for e in trace.backward_events():
            total[e.node] = (e.name, e.total)
        for i, (name, t) in total.items():
            lines[i].append(("adjoint", f"{bar(name)} = {format_value(t)}"))
    graph = _trace_structure(trace, {i: tuple(v) for i, v in lines.items()})
    if not partials:
        return graph
    labels = {}
    for e in trace.tangent_events(seed):
        for k, term in edges_of_terms(graph, f"n{e.node}", e.terms):
            if term.partial is not None:
                labels[k] = (f"∂ {format_value(term.partial, 4)}", False)
    return graph.restyled(edges=labels)


def edges_of_terms(graph: Graph, target: str, terms: Sequence[Any]) -> list[tuple[int, Any]]:
    """Pair the edges into ``target`` with a tangent step's terms, by operand name and in
    order (an operand without a derivative has no term; ``x * x`` has two)."""
    pairs, left = [], list(terms)
    for i in graph.edges_into(target):
        name = graph.node(graph.edges[i].source).name
        k = next((k for k, t in enumerate(left) if t.input == name), None)
        if k is not None:
            pairs.append((i, left.pop(k)))
    return pairs


def _trace_structure(trace: Any, lines: Mapping[int, tuple[tuple[str, str], ...]]) -> Graph:
    out = trace.output_node
    nodes, edges = [], []

    def traced(a: Any) -> bool:
        return hasattr(a, "index") and hasattr(a, "parents")

    for n in trace.nodes:
        kind = "input" if n.is_input else "output" if n is out else "value"
        op = None if n.is_input else op_badge(n.op, n.args, traced)
        title = f"{n.name} (input)" if n.is_input else f"{n.name} = {n.text()}"
        nodes.append(GraphNode(f"n{n.index}", n.name, op, lines.get(n.index, ()), kind,
                               title=title))  # fmt: skip
        edges += [GraphEdge(f"n{a.index}", f"n{n.index}") for a in n.args if traced(a)]
    name = out.name if out is not None else "the output"
    return Graph(tuple(nodes), tuple(edges), f"computation graph of {name}")


def _is_tape(obj: Any) -> bool:
    return hasattr(obj, "trace") and hasattr(obj, "lines") and _is_trace(obj.trace)


def _is_result(obj: Any) -> bool:
    return hasattr(obj, "grads") and hasattr(obj, "trace")


def _result_graph(result: Any, **options: Any) -> Graph:
    if not _is_trace(result.trace):
        raise TypeError(
            f"this GradResult has no trace to draw: mode={result.mode!r} computed its gradient, "
            "and the reverse engine could not record the cell; draw ad.trace(f, ...) of a "
            "function it can trace"
        )
    return trace_graph(result.trace, **{"adjoints": True, **options})


def _is_expr(obj: Any) -> bool:
    """An expression tree of ``adlab.core.expr``: a Sym, a Const or a Call of a primitive."""
    return (
        hasattr(type(obj), "children")
        and hasattr(type(obj), "free_symbols")
        and (hasattr(obj, "prim") or hasattr(obj, "name") or hasattr(obj, "value"))
    )


def expr_graph(
    expr: Any, *, shared: bool = False, values: Mapping[str, Any] | None = None
) -> Graph:
    """The tree of a symbolic expression: operations as badges, symbols as inputs on the left,
    constants next to their use.

    Each symbol is drawn once; with ``shared=True`` equal subexpressions are drawn once too
    (the DAG that a Wengert list computes), otherwise every occurrence is drawn, which
    shows expression swell. ``values`` (symbol name -> number) adds each node's value.
    """
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    ids: dict[Any, str] = {}  # shared nodes: symbols always, subexpressions when shared

    def evaluate(e: Any) -> tuple[tuple[str, str], ...]:
        if values is None:
            return ()
        try:
            return (("value", format_value(e.evaluate(dict(values)))),)
        except Exception:  # a value the picture cannot show is left out
            return ()

    # an explicit post-order walk (never recursion on depth); each finished node pushes its
    # id on `results`, and a parent pops its children's ids from there
    stack: list[tuple[Any, bool]] = [(expr, False)]
    results: list[str] = []
    while stack:
        e, expanded = stack.pop()
        is_call = hasattr(e, "prim")
        key = ("symbol", e.name) if hasattr(e, "name") and not is_call else (
            e.structure if shared else None)  # fmt: skip
        if key is not None and key in ids:
            results.append(ids[key])
            continue
        kids = e.children
        if kids and not expanded:
            stack.append((e, True))
            stack += [(k, False) for k in reversed(kids)]
            continue
        nid = f"e{len(nodes)}"
        if is_call:
            args = results[len(results) - len(kids) :]
            del results[len(results) - len(kids) :]
            badge = op_badge(e.prim, kids, lambda a: True)
            nodes.append(GraphNode(nid, "", badge, evaluate(e), "op", title=e.prim.name))
            edges += [GraphEdge(a, nid) for a in args]
        elif hasattr(e, "name"):
            nodes.append(GraphNode(nid, e.name, None, evaluate(e), "input", title=e.name))
        else:
            text = format_value(e.value)
            nodes.append(GraphNode(nid, text, None, (), "const", title=f"constant {text}"))
        if key is not None:
            ids[key] = nid
        results.append(nid)
    if nodes and nodes[-1].kind == "op":  # the root is the output
        nodes[-1] = dataclasses.replace(nodes[-1], kind="output")
    return Graph(tuple(nodes), tuple(edges), f"expression tree of {_short(str(expr))}")


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


register_adapter("Trace", _is_trace, trace_graph)
register_adapter("Wengert list (Tape)", _is_tape, lambda tape, **o: trace_graph(tape.trace, **o))
register_adapter("Expr", _is_expr, expr_graph)
register_adapter(
    "GradResult",
    _is_result,
    _result_graph,
)
