"""Trace-based reverse mode: run the program once, record, sweep backwards.

A :class:`Variable` boxes a value for one reverse-mode transformation. Every
primitive applied to Variables computes its result *and* a :class:`Node` that
points back to its inputs' nodes and holds what the backward sweep needs (the
local partial derivatives, or the rule's pullback) and nothing more. A node
does not keep its own value: as in PyTorch's "no tape" design, a value that no
rule needs is freed as soon as the program drops it.

The backward sweep visits nodes in reverse topological order with an explicit
stack and accumulates adjoints (``x̅ += out̅ · ∂out/∂x``) in a dict, so a graph a
million operations deep is fine, and sweeping twice gives the same answer.

Rules are evaluated with adlab operations on whatever values they see, so when
the values are themselves traced (by an outer transformation), the backward
sweep is recorded too: ``grad(grad(f))`` works.

:func:`trace` additionally records every node with its value and a name, in
execution order (the Wengert list), for drawings, stepping and teaching.
"""

from __future__ import annotations

import heapq
import html
import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.events import BackwardStep, ForwardStep, TangentStep, TangentTerm, format_value
from adlab.core.graph import generations
from adlab.core.primitive import Box, Primitive, new_level
from adlab.core.tangents import fit, ones_like, shape_of, zeros_like
from adlab.core.tree import flatten, leaf_paths, unflatten
from adlab.core.values import argument_names, as_primal, like_primal, unshared
from adlab.ops import scalar as S
from adlab.ops.operators import Operators
from adlab.viz.svg import draw, scroll_box
from adlab.viz.tables import Table

__all__ = [
    "Node", "Trace", "TraceNode", "Variable", "backward", "no_grad", "plain", "record", "trace",
    "vjp",
]  # fmt: skip


# A node is a plain tuple:
#   (seq, aval, None, parent, partial, parent, partial, ...)  an elementwise operation
#   (seq, aval, pullback, parent, parent, ...)                 an operation with a vjp rule
#   (seq, aval, None)                                          an input
# seq is the node's creation number. Parents are always older than their children,
#     so visiting nodes by decreasing seq is a reverse topological order.
# aval is the output's (shape, dtype), or None for a Python float.
# The parents are the nodes of the arguments that were traced; each is followed by
#     its partial derivative, evaluated when the operation ran, or the rule's
#     pullback (out_bar -> one cotangent per parent) is kept instead.
# Tuples rather than objects: one allocation per operation and little for the cyclic
# garbage collector to chase. ad.trace adds a readable view (TraceNode).
Node = tuple
_seq = itertools.count()
_PARTIALS = rules.partials


def _aval(x: Any) -> tuple | None:
    if type(x) is float:
        return None
    return (shape_of(x), getattr(x, "dtype", None))


class _Tracer:
    """The state of one reverse-mode transformation: its level and, when recording, its tape.

    ``tape`` is ``None`` (not recording), a list of rows (recording), or
    :data:`FINISHED` once the transformed function has returned: every operation
    on a Variable checks ``tape is not None`` anyway (to record), so a Variable
    that escaped its computation is caught there, at no cost to the others.
    """

    __slots__ = ("index", "level", "tape")

    def __init__(self, record: bool) -> None:
        self.level = new_level()
        self.tape: list[TraceNode] | object | None = [] if record else None
        self.index: dict[int, TraceNode] = {}  # seq -> its row, when recording

    def finish(self) -> None:
        """The transformed function has returned: its Variables may not compute any more."""
        self.tape = FINISHED


FINISHED = object()


_no_grad_ceiling = 0
"""Operations of transformations at or below this level record nothing (inside no_grad)."""


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block, operations on Variables give plain values and record nothing.

    Only the transformations already running when the block starts are paused:
    an ``ad.grad`` or ``ad.trace`` started inside the block differentiates as usual.

    >>> import adlab as ad
    >>> def f(x):
    ...     with ad.no_grad():
    ...         scale = x * 2.0  # a constant as far as derivatives go
    ...     return scale * x
    >>> ad.grad(f)(3.0)
    6.0
    """
    global _no_grad_ceiling
    outer = _no_grad_ceiling
    # Levels only grow: a fresh one is above every transformation alive now and
    # below every transformation started inside the block.
    _no_grad_ceiling = new_level()
    try:
        yield
    finally:
        _no_grad_ceiling = outer


def _unary(prim: Primitive, a: Any) -> Variable | None:
    """``prim(a)`` for an elementwise primitive of one traced argument, or None when the
    general path is needed (no partials declared, no_grad, other boxes)."""
    fns = _PARTIALS.get(prim)
    if fns is None or type(a) is not Variable or a._level <= _no_grad_ceiling:
        return None
    (d,) = fns
    if d is None:
        return None
    x = a.value
    out = prim.impl(x) if type(x) is float or not isinstance(x, Box) else prim(x)
    aval = None if type(out) is float else _aval(out)
    node = (next(_seq), aval, None, a._node, d if type(d) is float else d(x, out))
    tracer = a._tracer
    var = Variable(out, node, tracer)
    if tracer.tape is not None:
        _record(tracer, prim, (a,), {}, var)
    return var


def _binary(prim: Primitive, a: Any, b: Any) -> Variable | None:
    """``prim(a, b)`` for an elementwise primitive, or None when the general path is needed.

    Scalar programs are mostly +, -, *, /: this unrolled path records them
    with the same nodes as the general path of ``Variable._process``, faster.
    """
    ta = type(a) is Variable
    tb = type(b) is Variable
    if ta and tb:
        if a._level != b._level:
            return None
        tracer = a._tracer
    elif ta and not isinstance(b, Box):
        tracer = a._tracer
    elif tb and not isinstance(a, Box):
        tracer = b._tracer
    else:
        return None
    fns = _PARTIALS.get(prim)
    if fns is None or tracer.level <= _no_grad_ceiling:
        return None
    dx, dy = fns
    if (ta and dx is None) or (tb and dy is None):
        return None
    x = a.value if ta else a
    y = b.value if tb else b
    if (type(x) is float or not isinstance(x, Box)) and (
        type(y) is float or not isinstance(y, Box)
    ):
        out = prim.impl(x, y)
    else:  # values of an outer transformation: let it record this primitive too
        out = prim(x, y)
    aval = None if type(out) is float else _aval(out)
    if ta and tb:
        node = (
            next(_seq), aval, None,
            a._node, dx if type(dx) is float else dx(x, y, out),
            b._node, dy if type(dy) is float else dy(x, y, out),
        )  # fmt: skip
    elif ta:
        node = (next(_seq), aval, None, a._node, dx if type(dx) is float else dx(x, y, out))
    else:
        node = (next(_seq), aval, None, b._node, dy if type(dy) is float else dy(x, y, out))
    var = Variable(out, node, tracer)
    if tracer.tape is not None:
        _record(tracer, prim, (a, b), {}, var)
    return var


def _operator(prim: Primitive, reflected: bool = False) -> Callable[[Any, Any], Any]:
    """A Python operator method of Variable: the fast path, else the general dispatch."""

    def method(self: Variable, other: Any) -> Any:
        a, b = (other, self) if reflected else (self, other)
        out = _binary(prim, a, b)
        return out if out is not None else prim(a, b)

    method.__name__ = method.__qualname__ = f"Variable.{'r' if reflected else ''}{prim.name}"
    return method


class Variable(Operators, Box):
    """A value traced by the reverse engine: ``value`` plus the node that produced it.

    Arithmetic, ``@``, indexing and numpy functions on Variables are recorded;
    ``float(v)`` and ``math.sin(v)`` raise (they would lose the derivative);
    ``v.value`` reads the number.
    """

    __slots__ = ("_level", "_node", "_tracer", "value")
    _what = "traced Variable"

    def __init__(self, value: Any, node: Node, tracer: _Tracer) -> None:
        self.value = value
        self._node = node
        self._tracer = tracer
        self._level = tracer.level

    def __repr__(self) -> str:
        return f"Variable({self.value!r})"

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    # The arithmetic operators of scalar programs take the fast path directly.
    __add__, __radd__ = _operator(S.add), _operator(S.add, reflected=True)
    __sub__, __rsub__ = _operator(S.sub), _operator(S.sub, reflected=True)
    __mul__, __rmul__ = _operator(S.mul), _operator(S.mul, reflected=True)
    __truediv__, __rtruediv__ = _operator(S.truediv), _operator(S.truediv, reflected=True)
    __pow__, __rpow__ = _operator(S.pow), _operator(S.pow, reflected=True)

    def _process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        __tracebackhide__ = True
        if not params:
            n = len(args)
            fast = _binary(prim, *args) if n == 2 else _unary(prim, args[0]) if n == 1 else None
            if fast is not None:
                return fast
        level = self._level
        vals = list(args)
        traced = []  # positions of the arguments traced at this level
        plain = True  # no box of another transformation among the arguments
        for i, a in enumerate(args):
            if type(a) is Variable and a._level == level:
                a = vals[i] = a.value  # may itself be a value of an outer transformation
                traced.append(i)
            if plain and isinstance(a, Box):
                plain = False
        out = prim.impl(*vals, **params) if plain else prim(*vals, **params)
        if level <= _no_grad_ceiling or not prim.differentiable:
            return out
        fns = _PARTIALS.get(prim)
        if fns is not None:  # elementwise: keep each parent with its partial, evaluated now
            node = [next(_seq), None if type(out) is float else _aval(out), None]
            for i in traced:
                d = fns[i]
                if d is not None:
                    node += (args[i]._node, d if type(d) is float else d(*vals, out))
            if len(node) == 3:  # only non-differentiable arguments were traced
                return out
            node = tuple(node)
        else:
            vjp_rule = rules.vjps.get(prim)
            if vjp_rule is None:
                raise rules.missing_rule(prim, "reverse")
            pullback = vjp_rule(out, vals, tuple(traced), **params)
            node = (next(_seq), _aval(out), pullback, *[args[i]._node for i in traced])
        tracer = self._tracer
        var = Variable(out, node, tracer)
        if tracer.tape is not None:
            _record(tracer, prim, args, params, var)
        return var


# ---------------------------------------------------------------------------
# The backward sweep


def _fit(ct: Any, aval: tuple | None) -> Any:
    """``ct`` summed to the shape of the node's value and cast to its dtype."""
    if aval is None:
        return ct if type(ct) is float else fit(ct, (), None)
    return fit(ct, aval[0], aval[1])


def parents_and_partials(node: Node) -> tuple[tuple[Node, ...], tuple[Any, ...] | None]:
    """A node's parents, and their partials (None for a node with a pullback)."""
    if node[2] is None:
        return node[3::2], node[4::2]
    return node[3:], None


def backward(roots: Sequence[Node], seeds: Sequence[Any], emit: Callable | None = None) -> dict:
    """Sweep adjoints back from ``roots`` (seeded with ``seeds``) to the inputs.

    Returns ``{seq: adjoint}`` for the input nodes that were reached. Nodes are
    visited by decreasing creation number, taken from a heap that holds only
    the nodes that have received an adjoint so far (seqs are unique, so the heap
    never compares two nodes): no recursion, no separate graph search, and each
    intermediate adjoint is dropped once it is used.
    ``emit(node, parent, out_bar, partial, contribution, total, first)`` is
    called for every contribution when given (the Stepper's backward events).
    """
    grads: dict[int, Any] = {}
    heap: list[tuple[int, Node]] = []  # (-seq, node): the newest node first

    def deposit(node: Node, p: Node, g: Any, d: Any, c: Any) -> None:
        if type(c) is not float or p[1] is not None:
            c = _fit(c, p[1])
        ps = p[0]
        prev = grads.get(ps)
        if prev is None:
            grads[ps] = total = c
            heappush(heap, (-ps, p))
        else:
            grads[ps] = total = prev + c
        if emit is not None:
            emit(node, p, g, d, c, total, prev is None)

    for node, seed in zip(roots, seeds):
        s = node[0]
        seed = _fit(seed, node[1])
        if s in grads:
            grads[s] = grads[s] + seed
        else:
            grads[s] = seed
            heappush(heap, (-s, node))
    while heap:
        node = heappop(heap)[1]
        n = len(node)
        if n == 3:  # an input: its adjoint is a result
            continue
        g = grads.pop(node[0])
        pullback = node[2]
        if pullback is None:  # out_bar times each partial; deposit() inlined: the hot path
            for i in range(3, n, 2):
                p = node[i]
                d = node[i + 1]
                # ±1 partials (add, sub, neg) pass out_bar on without a multiplication
                c = g * d if type(d) is not float or d not in (1.0, -1.0) else g if d > 0 else -g
                if type(c) is not float or p[1] is not None:
                    c = _fit(c, p[1])
                ps = p[0]
                prev = grads.get(ps)
                if prev is None:
                    grads[ps] = total = c
                    heappush(heap, (-ps, p))
                else:
                    grads[ps] = total = prev + c
                if emit is not None:
                    emit(node, p, g, d, c, total, prev is None)
        else:
            for p, c in zip(node[3:], pullback(g)):
                if c is not None:
                    deposit(node, p, g, None, c)
    return grads


heappop, heappush = heapq.heappop, heapq.heappush


# ---------------------------------------------------------------------------
# The engine protocol: vjp


def _watch(tracer: _Tracer, primals: Sequence[Any]) -> list[Variable]:
    return [Variable(x, (next(_seq), _aval(x), None), tracer) for x in primals]


def _unbox(x: Any, level: int) -> Any:
    return x.value if type(x) is Variable and x._level == level else x


def vjp(f: Callable[..., Sequence[Any]], primals: Sequence[Any]) -> tuple[tuple, Callable]:
    """Run ``f(*primals)`` (returning a tuple of outputs) and return ``(outs, pullback)``.

    ``pullback(out_bars)`` takes one cotangent per output (``None`` for zero) and
    returns one cotangent per primal, with the primal's shape and dtype.
    """
    tracer = _Tracer(record=False)
    inputs = _watch(tracer, primals)
    try:
        outs = tuple(f(*inputs))
    finally:  # also when f raises: a Variable it stored somewhere must not compute on
        tracer.finish()
    level = tracer.level
    out_nodes = [o._node if type(o) is Variable and o._level == level else None for o in outs]
    in_nodes = [v._node for v in inputs]
    del inputs

    def reverse_pullback(out_bars: Sequence[Any]) -> tuple:
        roots = [(n, g) for n, g in zip(out_nodes, out_bars) if n is not None and g is not None]
        grads = backward([n for n, _ in roots], [g for _, g in roots]) if roots else {}
        cts = [grads[n[0]] if n[0] in grads else zeros_like(p) for n, p in zip(in_nodes, primals)]
        return tuple(unshared(cts, out_bars))

    return tuple(_unbox(o, level) for o in outs), reverse_pullback


# ---------------------------------------------------------------------------
# Recording: ad.trace


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


def _record(tracer: _Tracer, prim: Primitive, args: tuple, params: dict, var: Variable) -> None:
    __tracebackhide__ = True
    if tracer.tape is FINISHED:
        raise DifferentiationError(
            f"{prim.name}() of a traced Variable whose computation has already finished: it "
            "escaped from ad.grad / ad.trace / %%grad (kept in a global, an attribute, a list "
            "or a default argument?). Keep its number instead: x.value"
        )
    index = tracer.index
    level = tracer.level
    operands = tuple(
        index[a._node[0]] if type(a) is Variable and a._level == level else a for a in args
    )
    tn = TraceNode(len(tracer.tape), prim, operands, params, var.value, var._node)
    tracer.tape.append(tn)
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

    def __init__(self, tracer: _Tracer, tape: list[TraceNode], args: tuple, arg_trees: list,
                 inputs: list[Variable], output: Any) -> None:  # fmt: skip
        self._tracer = tracer
        self._args = args
        self._arg_trees = arg_trees
        self.nodes: list[TraceNode] = tape
        self.input_nodes: list[TraceNode] = [tracer.index[v._node[0]] for v in inputs]
        level = tracer.level
        self.output_node: TraceNode | None = (
            tracer.index.get(output._node[0])
            if type(output) is Variable and output._level == level
            else None
        )
        self.output = _unbox(output, level)

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
            jvp_rule = rules.jvps.get(n.op)
            if jvp_rule is None:
                raise rules.missing_rule(n.op, "forward")
            out_dot = jvp_rule(n.value, arg_vals, arg_dots, **n.params)
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
    tracer = _Tracer(record=True)
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
    try:
        out, named = run(structured)
    finally:  # also when the program raises: its Variables must not compute on
        tracer.finish()
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
        if type(value) is Variable and value._level == tracer.level and name not in taken:
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
