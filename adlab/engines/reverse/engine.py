"""Trace-based reverse mode: run the program once, record, sweep backwards.

A :class:`Variable` boxes a value for one reverse-mode transformation. Every
primitive applied to Variables computes its result *and* a node that points back
to its inputs' nodes and holds what the backward sweep needs (the local partial
derivatives, or the rule's pullback) and nothing more. A node does not keep its
own value: as in PyTorch's "no tape" design, a value that no rule needs is freed
as soon as the program drops it.

The backward sweep visits nodes in reverse topological order with an explicit
stack and accumulates adjoints (``x̅ += out̅ · ∂out/∂x``) in a dict, so a graph a
million operations deep is fine, and sweeping twice gives the same answer.

Rules are evaluated with adlab operations on whatever values they see, so when
the values are themselves traced (by an outer transformation), the backward
sweep is recorded too: ``grad(grad(f))`` works.

Recording every node with its value and a name, for drawings and stepping, is
the teaching trace's job (:mod:`adlab.engines.reverse.trace`): a tracer that
records gets each operation through :meth:`_Tracer.record`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from adlab.core import rules
from adlab.core.engine import Engine, count
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Box, Primitive
from adlab.core.rules import cotangent, partials_at
from adlab.core.tangents import shape_of, zeros_like
from adlab.core.transform import FINISHED, PAUSED, Transformation, no_grad, running
from adlab.core.values import unshared
from adlab.ops import scalar as S
from adlab.ops.operators import ArrayOperators

__all__ = ["ENGINE", "Node", "Variable", "backward", "no_grad", "parents_and_partials", "vjp"]


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
_BY_PARTIALS = rules.Partials  # the kind of rule the fast paths take


def _aval(x: Any) -> tuple | None:
    if type(x) is float:
        return None
    return (shape_of(x), getattr(x, "dtype", None))


class _Tracer(Transformation):
    """One reverse-mode transformation: its level and state and, when recording, its tape.

    ``tape`` is ``None`` unless the teaching trace records
    (:mod:`adlab.engines.reverse.trace`): every operation on a Variable checks
    ``tape is not None`` anyway, and checks the state (``no_grad``, finished) the same
    way: one attribute read each on the hot path.
    """

    __slots__ = ("index", "tape")

    def __init__(self) -> None:
        super().__init__("reverse")
        self.tape: list | None = None

    def record(self, prim: Primitive, args: tuple, params: dict, var: Variable) -> None:
        """Called for every operation while ``tape is not None`` (see the teaching trace)."""


def escaped(prim: Primitive) -> DifferentiationError:
    """The error for an operation on a Variable whose computation has finished."""
    return DifferentiationError(
        f"{prim.name}() of a traced Variable whose computation has already finished: it "
        "escaped from ad.grad / ad.trace / %%grad (kept in a global, an attribute, a list "
        "or a default argument?). Keep its number instead: x.value"
    )


def _unary(prim: Primitive, a: Any) -> Variable | None:
    """``prim(a)`` for an elementwise primitive of one traced argument, or None when the
    general path is needed (no partials declared, no_grad, other boxes)."""
    rule = prim.rule
    if type(rule) is not _BY_PARTIALS or type(a) is not Variable:
        return None
    tracer = a._trans
    (d,) = rule.fns
    if d is None or tracer.state:
        return None
    x = a.value
    out = prim.impl(x) if type(x) is float or not isinstance(x, Box) else prim(x)
    aval = None if type(out) is float else _aval(out)
    node = (next(_seq), aval, None, a._node, d if type(d) is float else d(x, out))
    var = Variable(out, node, tracer)
    if tracer.tape is not None:
        tracer.record(prim, (a,), {}, var)
    return var


def _binary(prim: Primitive, a: Any, b: Any) -> Variable | None:
    """``prim(a, b)`` for an elementwise primitive, or None when the general path is needed.

    Scalar programs are mostly +, -, *, /: this unrolled path records them
    with the same nodes as the general path of ``Variable._process``, faster.
    """
    ta = type(a) is Variable
    tb = type(b) is Variable
    if ta and tb:
        tracer = a._trans
        if b._trans is not tracer:
            return None
    elif ta and not isinstance(b, Box):
        tracer = a._trans
    elif tb and not isinstance(a, Box):
        tracer = b._trans
    else:
        return None
    rule = prim.rule
    if type(rule) is not _BY_PARTIALS or tracer.state:
        return None
    dx, dy = rule.fns
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
        tracer.record(prim, (a, b), {}, var)
    return var


def _operator(prim: Primitive, reflected: bool = False) -> Callable[[Any, Any], Any]:
    """A Python operator method of Variable: the fast path, else the general dispatch."""

    def method(self: Variable, other: Any) -> Any:
        a, b = (other, self) if reflected else (self, other)
        out = _binary(prim, a, b)
        return out if out is not None else prim(a, b)

    method.__name__ = method.__qualname__ = f"Variable.{'r' if reflected else ''}{prim.name}"
    return method


class Variable(ArrayOperators, Box):
    """A value traced by the reverse engine: ``value`` plus the node that produced it.

    Arithmetic, ``@``, indexing and numpy functions on Variables are recorded;
    ``float(v)`` and ``math.sin(v)`` raise (they would lose the derivative);
    ``v.value`` reads the number.
    """

    __slots__ = ("_level", "_node", "_trans", "value")
    _what = "traced Variable"

    def __init__(self, value: Any, node: Node, tracer: _Tracer) -> None:
        self.value = value
        self._node = node
        self._trans = tracer
        self._level = tracer.level

    def __str__(self) -> str:  # print(v) shows the number, as format(v, spec) does
        return str(self.value)

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
        tracer = self._trans
        if tracer.state == FINISHED and prim.differentiable:  # comparisons still compare
            raise escaped(prim)
        vals = list(args)
        traced = []  # positions of the arguments traced by this transformation
        plain = True  # no box of another transformation among the arguments
        for i, a in enumerate(args):
            if type(a) is Variable and a._trans is tracer:
                a = vals[i] = a.value  # may itself be a value of an outer transformation
                traced.append(i)
            if plain and isinstance(a, Box):
                plain = False
        out = prim.impl(*vals, **params) if plain else prim(*vals, **params)
        if tracer.state == PAUSED or not prim.differentiable:
            return out
        rule = prim.rule
        if type(rule) is _BY_PARTIALS and not params:
            # elementwise: keep each parent with its partial, evaluated now
            node = [next(_seq), None if type(out) is float else _aval(out), None]
            for i, d in zip(traced, partials_at(rule.fns, vals, out, traced)):
                if d is not None:
                    node += (args[i]._node, d)
            if len(node) == 3:  # only non-differentiable arguments were traced
                return out
            node = tuple(node)
        else:
            if rule is None:
                raise rules.missing_rule(prim, "reverse")
            pullback = rule.vjp(out, vals, tuple(traced), **params)
            node = (next(_seq), _aval(out), pullback, *[args[i]._node for i in traced])
        var = Variable(out, node, tracer)
        if tracer.tape is not None:
            tracer.record(prim, args, params, var)
        return var


# ---------------------------------------------------------------------------
# The backward sweep


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
    get = grads.get
    heap: list[tuple[int, Node]] = []  # (-seq, node): the newest node first
    for node, seed in zip(roots, seeds):
        s = node[0]
        if type(seed) is not float or node[1] is not None:  # cotangent() of a float is itself
            seed = cotangent(seed, 1.0, node[1])
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
                if type(g) is float and type(d) is float and p[1] is None:
                    c = g * d  # cotangent()'s scalar case, inline
                else:
                    c = cotangent(g, d, p[1])
                ps = p[0]
                prev = get(ps)
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
                    _deposit(grads, heap, node, p, g, c, emit)
    return grads


def _deposit(grads: dict, heap: list, node: Node, p: Node, g: Any, c: Any,
             emit: Callable | None) -> None:  # fmt: skip
    """Add the contribution ``c`` of a rule's pullback to the adjoint of ``p`` (see
    :func:`backward`; a module function, not a closure, so that the sweep's own variables
    stay plain locals on its hot path)."""
    c = cotangent(c, 1.0, p[1])  # fitted to the parent's shape and dtype
    ps = p[0]
    prev = grads.get(ps)
    if prev is None:
        grads[ps] = total = c
        heappush(heap, (-ps, p))
    else:
        grads[ps] = total = prev + c
    if emit is not None:
        emit(node, p, g, None, c, total, prev is None)


heappop, heappush = heapq.heappop, heapq.heappush


# ---------------------------------------------------------------------------
# The engine protocol: vjp


def _watch(tracer: _Tracer, primals: Sequence[Any]) -> list[Variable]:
    return [Variable(x, (next(_seq), _aval(x), None), tracer) for x in primals]


def _unbox(x: Any, tracer: _Tracer) -> Any:
    return x.value if type(x) is Variable and x._trans is tracer else x


def vjp(f: Callable[..., Sequence[Any]], primals: Sequence[Any]) -> tuple[tuple, Callable]:
    """Run ``f(*primals)`` (returning a tuple of outputs) and return ``(outs, pullback)``.

    ``pullback(out_bars)`` takes one cotangent per output (``None`` for zero) and
    returns one cotangent per primal, with the primal's shape and dtype.
    """
    count("passes")
    with running(_Tracer()) as tracer:  # when f returns or raises, its Variables are inert
        inputs = _watch(tracer, primals)
        outs = tuple(f(*inputs))
    out_nodes = [o._node if type(o) is Variable and o._trans is tracer else None for o in outs]
    in_nodes = [v._node for v in inputs]
    del inputs

    def reverse_pullback(out_bars: Sequence[Any]) -> tuple:
        count("sweeps")
        roots, seeds = [], []
        for n, g in zip(out_nodes, out_bars):
            if n is not None and g is not None:
                roots.append(n)
                seeds.append(g)
        grads = backward(roots, seeds) if roots else {}
        cts = [grads[n[0]] if n[0] in grads else zeros_like(p) for n, p in zip(in_nodes, primals)]
        return tuple(unshared(cts, out_bars))

    return tuple([_unbox(o, tracer) for o in outs]), reverse_pullback


ENGINE = Engine("reverse", vjp=vjp)
