"""The teaching trace: a run of the reverse engine with every node kept, named and replayable.

:func:`trace` (``ad.trace``) and :func:`record` (what ``%%grad`` uses) run a program
under the reverse engine (:mod:`adlab.engines.reverse.engine`) with a tracer that
also records every operation, in execution order: a :class:`TraceNode` with its
value, operands and a name taken from the user's variables. The :class:`Trace`
they return is the Wengert list (:class:`Tape`), the graph, and the event lists of
its forward, tangent and backward sweeps, which drawings, the Stepper and the
notebooks read.
"""

from __future__ import annotations

import html
import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.events import BackwardStep, ForwardStep, TangentStep, TangentTerm, format_value
from adlab.core.graph import generations
from adlab.core.primitive import Primitive
from adlab.core.tangents import ones_like, shape_of, zeros_like
from adlab.core.transform import running
from adlab.core.tree import flatten, leaf_paths, unflatten
from adlab.core.values import argument_names, as_primal, like_primal, unshared
from adlab.engines.reverse.engine import (
    Node,
    Variable,
    _Tracer,
    _unbox,
    _watch,
    backward,
    parents_and_partials,
)
from adlab.viz.svg import draw, scroll_box
from adlab.viz.tables import Table

__all__ = ["Tape", "Trace", "TraceNode", "plain", "record", "trace"]


class TraceNode:
    """One row of a recorded trace: an input, or an operation with its operands and value.

    ``args`` holds the operands in order: a :class:`TraceNode` for a recorded
    value, anything else is a constant. ``node`` is the engine's graph node.
    """

    __slots__ = ("args", "consts", "index", "name", "node", "op", "params", "value")

    def __init__(self, index: int, op: Primitive | None, args: tuple, params: dict,
                 value: Any, node: Node) -> None:  # fmt: skip
        self.index = index
        self.op = op
        self.args = args
        self.params = params
        self.value = value
        self.node = node
        self.name = ""
        self.consts: dict[int, str] = {}  # argument position -> the user's name of a constant

    @property
    def parents(self) -> tuple[TraceNode, ...]:
        return tuple(a for a in self.args if isinstance(a, TraceNode))

    @property
    def is_input(self) -> bool:
        return self.op is None

    def __repr__(self) -> str:
        return f"<TraceNode {self.index} {self.name} = {self.text()}>"

    def text(self) -> str:
        """The right-hand side of this node's Wengert line, e.g. ``x * t`` or ``sin(x)``."""
        if self.op is None:
            return "input"
        names = [
            a.name if isinstance(a, TraceNode) else self.consts.get(i) or format_value(a)
            for i, a in enumerate(self.args)
        ]
        op = self.op
        if op.name == "getitem":
            return f"{names[0]}[{_index_text(self.params['index'])}]"
        if op.symbol and len(names) == 2 and not self.params:
            return f"{names[0]} {op.symbol} {names[1]}"
        if op.symbol and len(names) == 1:
            return f"{op.symbol}{names[0]}"
        extra = [f"{k}={v!r}" for k, v in self.params.items() if v is not None and v is not False]
        return f"{op.name}({', '.join(names + extra)})"


def _index_text(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)

    def one(p: Any) -> str:
        if isinstance(p, slice):
            s = "" if p.start is None else str(p.start)
            s += ":" + ("" if p.stop is None else str(p.stop))
            return s + ("" if p.step is None else f":{p.step}")
        if p is None:
            return "None"
        if p is Ellipsis:
            return "..."
        if isinstance(p, np.ndarray):
            return str(p.tolist())
        return str(p)

    return ", ".join(one(p) for p in parts)


class _RecordingTracer(_Tracer):
    """A tracer that keeps a :class:`TraceNode` for every operation (its ``tape``)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[TraceNode] = []
        self.index: dict[int, TraceNode] = {}  # seq -> its row

    def record(self, prim: Primitive, args: tuple, params: dict, var: Variable) -> None:
        index = self.index
        operands = tuple(
            index[a._node[0]] if type(a) is Variable and a._trans is self else a for a in args
        )
        tn = TraceNode(len(self.tape), prim, operands, params, var.value, var._node)
        self.tape.append(tn)
        index[var._node[0]] = tn


class Trace:
    """Everything one run of ``f`` recorded under the reverse engine.

    ``output`` and ``inputs`` are plain values; ``nodes`` lists every recorded
    :class:`TraceNode` in execution order (inputs first), which is also the
    Wengert list shown by ``tape``. ``backward()`` gives the gradient and can be
    called any number of times; the ``*_events`` methods give the steps of
    each sweep for the Stepper.

    >>> import adlab as ad
    >>> t = ad.trace(lambda x, y: x * y + ad.sin(x), 2.0, 3.0)
    >>> [n.name for n in t.nodes]
    ['x', 'y', 'v1', 'v2', 'out']
    >>> t.backward()
    (2.5838531634528574, 2.0)
    """

    def __init__(self, tracer: _RecordingTracer, tape: list[TraceNode], args: tuple,
                 arg_trees: list, inputs: list[Variable], output: Any) -> None:  # fmt: skip
        self._tracer = tracer
        self._args = args
        self._arg_trees = arg_trees
        self.nodes: list[TraceNode] = tape
        self.input_nodes: list[TraceNode] = [tracer.index[v._node[0]] for v in inputs]
        self.output_node: TraceNode | None = (
            tracer.index.get(output._node[0])
            if type(output) is Variable and output._trans is tracer
            else None
        )
        self.output = _unbox(output, tracer)

    # -- structure ---------------------------------------------------------------
    @property
    def inputs(self) -> tuple:
        """The input values, as passed to :func:`trace`."""
        return self._args

    @property
    def operations(self) -> list[TraceNode]:
        """The recorded operations (every node but the inputs), in execution order."""
        return [n for n in self.nodes if not n.is_input]

    def __len__(self) -> int:
        return len(self.nodes)

    def generations(self) -> dict[TraceNode, int]:
        """Each node's depth (inputs 0), for a layered drawing."""
        return generations(self.nodes, lambda n: n.parents)

    def node(self, key: int | str) -> TraceNode:
        """A node by index or by name."""
        if isinstance(key, int):
            return self.nodes[key]
        for n in self.nodes:
            if n.name == key:
                return n
        raise KeyError(f"no node named {key!r}; names: {[n.name for n in self.nodes]}")

    def set_name(self, key: int | str | TraceNode, name: str) -> None:
        """Give a node a (new) name, used by the tape, drawings and the Stepper."""
        node = key if isinstance(key, TraceNode) else self.node(key)
        node.name = name

    @property
    def tape(self) -> Tape:
        """The Wengert list: one row per node, ``name = op(inputs)`` with its value."""
        return Tape(self)

    # -- sweeps --------------------------------------------------------------------
    def _seed(self, seed: Any) -> Any:
        if self.output_node is None:
            return None
        out = self.output_node.value
        if seed is None:
            if shape_of(out) != ():
                raise DifferentiationError(
                    f"backward() needs a seed for an output of shape {shape_of(out)}; "
                    "pass seed= with that shape, or reduce the output with .sum()"
                )
            return ones_like(out)
        if shape_of(seed) != shape_of(out):
            raise DifferentiationError(
                f"the seed has shape {shape_of(seed)} but the output has shape {shape_of(out)}"
            )
        return seed

    def _backward_grads(self, seed: Any, emit: Callable | None = None) -> dict[int, Any]:
        seed = self._seed(seed)
        if seed is None:
            return {}
        return backward([self.output_node.node], [seed], emit)

    def backward(self, seed: Any = None) -> tuple:
        """The gradient: one cotangent per argument of ``f``, in the argument's structure.

        Idempotent: each call sweeps afresh from ``seed`` (default 1 for a scalar output).
        """
        grads = self._backward_grads(seed)
        leaves = [
            like_primal(grads[n.node[0]], n.value) if n.node[0] in grads else zeros_like(n.value)
            for n in self.input_nodes
        ]
        leaves = unshared(leaves, (seed,))
        out, start = [], 0
        for tree in self._arg_trees:
            k = tree.num_leaves
            out.append(unflatten(tree, leaves[start : start + k]))
            start += k
        return tuple(out)

    def forward_events(self) -> list[ForwardStep]:
        """One step per node, in execution order: its value appears."""
        events = []
        for n in self.nodes:
            ins = tuple(
                (a.name, a.value) if isinstance(a, TraceNode) else (format_value(a), a)
                for a in n.args
            )
            text = f"{n.name} = {n.text()}"
            op = "input" if n.is_input else n.op.name
            events.append(ForwardStep(len(events), n.index, n.name, text, op, ins, n.value))
        return events

    def backward_events(self, seed: Any = None) -> list[BackwardStep]:
        """The seed, then one step per adjoint contribution, in sweep order."""
        seed_value = self._seed(seed)
        if seed_value is None:
            return []
        out = self.output_node
        events = [BackwardStep(0, out.index, out.name, None, None, None, None, seed_value,
                               seed_value)]  # fmt: skip
        index = self._tracer.index

        def emit(node: Node, parent: Node, g: Any, d: Any, ct: Any, total: Any, first: bool):
            src, dst = index[node[0]], index[parent[0]]
            events.append(BackwardStep(len(events), dst.index, dst.name, src.index, src.name,
                                       g, d, ct, total, first))  # fmt: skip

        self._backward_grads(seed, emit)
        return events

    def tangent_events(self, seed: Any = None) -> list[TangentStep]:
        """Forward-mode sweep over the recorded nodes: each node's tangent, in order.

        ``seed`` picks the direction: ``None`` (the first input), an input's
        index or name, or a sequence with one tangent per input.
        """
        seeds = self._tangent_seeds(seed)
        tangents: dict[TraceNode, Any] = {}
        events: list[TangentStep] = []
        index = self._tracer.index
        for n in self.nodes:
            if n.is_input:
                t = seeds[self.input_nodes.index(n)]
                tangents[n] = t
                events.append(TangentStep(len(events), n.index, n.name, (), t, seed=True))
                continue
            arg_vals = [a.value if isinstance(a, TraceNode) else a for a in n.args]
            arg_dots = [tangents.get(a) if isinstance(a, TraceNode) else None for a in n.args]
            rule = n.op.rule
            if rule is None:
                raise rules.missing_rule(n.op, "forward")
            out_dot = rule.jvp(n.value, arg_vals, arg_dots, **n.params)
            t = zeros_like(n.value) if out_dot is None else out_dot
            parents, partials = parents_and_partials(n.node)
            terms = tuple(
                TangentTerm(index[p[0]].name, d, tangents[index[p[0]]])
                for p, d in zip(parents, partials or itertools.repeat(None))
            )
            tangents[n] = t
            events.append(TangentStep(len(events), n.index, n.name, terms, t))
        return events

    def _tangent_seeds(self, seed: Any) -> list[Any]:
        values = [n.value for n in self.input_nodes]
        if seed is None or isinstance(seed, int | str):
            pick = 0 if seed is None else seed
            if isinstance(pick, str):
                pick = [n.name for n in self.input_nodes].index(pick)
            return [ones_like(v) if i == pick else zeros_like(v) for i, v in enumerate(values)]
        seeds = list(seed)
        if len(seeds) != len(values):
            raise ValueError(f"tangent seed needs {len(values)} entries, one per input")
        return seeds

    # -- display -------------------------------------------------------------------
    _DRAW_LIMIT = 3000  # nodes; a notebook displays bigger traces as a summary

    def __repr__(self) -> str:
        n, m = len(self.input_nodes), len(self.operations)
        return f"<Trace: {n} input{'s' * (n != 1)}, {m} operation{'s' * (m != 1)}>"

    def _repr_svg_(self) -> str | None:
        """The computation graph (``ad.draw(trace)``)."""
        return draw(self).svg if len(self.nodes) <= self._DRAW_LIMIT else None

    def _repr_html_(self) -> str:
        """The graph (scrolling when big) beside the Wengert list."""
        if len(self.nodes) > self._DRAW_LIMIT:
            return (
                f"<p>{html.escape(repr(self))}: too big to show here; "
                "ad.draw(trace) draws it, trace.tape lists it.</p>"
            )
        return (
            '<div class="adlab-trace" style="display:flex;flex-wrap:wrap;gap:18px;'
            f'align-items:flex-start">{scroll_box(draw(self).svg)}{self.tape._repr_html_()}</div>'
        )


class Tape:
    """The Wengert list of a :class:`Trace`: rows of ``(name, op, inputs, value)``."""

    columns = ("name", "op", "inputs", "value")

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def rows(self) -> list[tuple[str, str, tuple[str, ...], Any]]:
        return [
            (
                n.name,
                "input" if n.is_input else n.op.name,
                tuple(a.name if isinstance(a, TraceNode) else format_value(a) for a in n.args),
                n.value,
            )
            for n in self.trace.nodes
        ]

    def __len__(self) -> int:
        return len(self.trace.nodes)

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.rows())

    def __getitem__(self, i: int) -> tuple:
        return self.rows()[i]

    def lines(self) -> list[str]:
        """``name = expression`` lines, e.g. ``z = x * t``."""
        return [f"{n.name} = {n.text()}" for n in self.trace.nodes if not n.is_input]

    def __repr__(self) -> str:
        return repr(self._table())

    def _table(self) -> Table:
        rows = [
            (n.name, "input" if n.is_input else n.text(), format_value(n.value))
            for n in self.trace.nodes
        ]
        return Table(("name", "operation", "value"), rows, title="Wengert list")

    def _repr_html_(self) -> str:
        return self._table()._repr_html_()


# ---------------------------------------------------------------------------
# ad.trace


def _call_keeping_locals(f: Callable, args: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
    """Call ``f(*args)`` and also return the local variables of that call at its return.

    A profile hook watches only until ``f``'s own frame starts and then removes
    itself (so ``f`` runs at full speed and another profiler is undisturbed);
    the frame object, kept, still holds its locals after ``f`` returns.
    """
    code = getattr(f, "__code__", None)
    if code is None:
        return f(*args), {}
    frames: list[Any] = []
    previous = sys.getprofile()

    def on_call(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is code:
            frames.append(frame)
            sys.setprofile(previous)

    sys.setprofile(on_call)
    try:
        out = f(*args)
    finally:
        sys.setprofile(previous)
    if not frames:
        return out, {}
    frame = frames[0]  # its globals name the constant arrays it read (``X @ W1``)
    arrays = {k: v for k, v in frame.f_globals.items() if isinstance(v, np.ndarray)}
    return out, {**arrays, **frame.f_locals}


def trace(f: Callable[..., Any], *args: Any) -> Trace:
    """Run ``f(*args)`` once under the reverse engine and keep everything it did.

    Arguments are floats, arrays, or tuples/lists/dicts of them. Inputs are
    named after ``f``'s parameters, intermediate values after ``f``'s local
    variables where one still holds them at the end, the rest ``v1, v2, ...``.

    >>> import adlab as ad
    >>> t = ad.trace(lambda x: ad.sin(x) * x, 1.0)
    >>> t.tape.lines()
    ['v1 = sin(x)', 'out = v1 * x']
    """
    return record(
        lambda inputs: _call_keeping_locals(f, inputs), args, argument_names(f, len(args))
    )


def record(
    run: Callable[[list[Any]], tuple[Any, dict[str, Any]]],
    args: Sequence[Any],
    names: Sequence[str],
) -> Trace:
    """Record one run of a program under the reverse engine (what ad.trace and %%grad use).

    ``run(inputs)`` receives the arguments as traced values, in the structures
    of ``args``, and returns ``(output, named)``: the program's one output, and
    a mapping from names to values of the program (its variables at the end)
    after which recorded nodes are named. ``names`` names the arguments.
    """
    tracer = _RecordingTracer()
    arg_trees, leaves, leaf_names = [], [], []
    for name, arg in zip(names, args):
        ls, tree = flatten(arg)
        arg_trees.append(tree)
        paths = leaf_paths(arg, name)
        leaves += [as_primal(x, f"argument {p}") for x, p in zip(ls, paths)]
        leaf_names += paths
    inputs = _watch(tracer, leaves)
    for v, name in zip(inputs, leaf_names):
        tn = TraceNode(len(tracer.tape), None, (), {}, v.value, v._node)
        tn.name = name
        tracer.tape.append(tn)
        tracer.index[v._node[0]] = tn
    structured = [unflatten(t, inputs[s : s + t.num_leaves]) for t, s in _starts(arg_trees)]
    tape = tracer.tape
    with running(tracer):  # when the program returns or raises, its Variables are inert
        out, named = run(structured)
    out_leaves, _ = flatten(out)
    if len(out_leaves) != 1:
        raise DifferentiationError(
            f"ad.trace records a function with one output (a float or an array); "
            f"this one returned {len(out_leaves)} values. Trace each output separately."
        )
    result = Trace(tracer, tape, tuple(args), arg_trees, inputs, out_leaves[0])
    _name_nodes(result, named)
    return result


def plain(tree: Any) -> Any:
    """``tree`` with every Variable replaced by its number (through tuples, lists, dicts).

    For handing values back to user code: nothing traced is ever left behind.
    """
    leaves, td = flatten(tree)
    if not any(isinstance(x, Variable) for x in leaves):
        return tree
    out = []
    for x in leaves:
        while isinstance(x, Variable):
            x = x.value
        out.append(x)
    return unflatten(td, out)


def _starts(trees: list) -> Iterator[tuple[Any, int]]:
    start = 0
    for t in trees:
        yield t, start
        start += t.num_leaves


def _name_nodes(result: Trace, local_vars: dict[str, Any]) -> None:
    """Name nodes after the local variables that hold them; number the rest.

    Names stay unique: a local that re-binds an input's name (``x = x * 2``)
    leaves its value to be numbered, so ``x`` always means the input.
    """
    tracer = result._tracer
    taken = {n.name for n in result.nodes if n.name}  # the inputs
    arrays = {id(v): k for k, v in local_vars.items() if isinstance(v, np.ndarray) and v.size > 1}
    for n in result.nodes:  # constant arrays read by the user's names (``X @ W1``)
        for i, a in enumerate(n.args):
            if id(a) in arrays and not isinstance(a, TraceNode):
                n.consts[i] = arrays[id(a)]
    for name, value in local_vars.items():
        if type(value) is Variable and value._trans is tracer and name not in taken:
            tn = tracer.index.get(value._node[0])
            if tn is not None and not tn.name:
                tn.name = name
                taken.add(name)
    out = result.output_node
    if out is not None and not out.name:
        out.name = "out" if "out" not in taken else _fresh("out", taken)
        taken.add(out.name)
    k = 0
    for n in result.nodes:
        if not n.name:
            k += 1
            while f"v{k}" in taken:
                k += 1
            n.name = f"v{k}"


def _fresh(base: str, taken: set[str]) -> str:
    i = 1
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"
