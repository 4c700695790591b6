"""What generated code calls at run time (spelled ``sct.`` in it).

Elementwise operations are differentiated in the generated code itself, from
their partial derivatives printed as Python. Array operations (``ad.sum``,
``ad.matmul``, ``x[1:]``, ...) have rules that need run-time shapes, so
generated code calls :func:`vjp` / :func:`jvp` here, which apply the table's own
rules (``rules.vjps`` / ``rules.jvps``) to the primitives the call runs: no
formula is restated. The rest is bookkeeping: sum a cotangent back over
broadcast axes, accumulate cotangents of tuples and lists, seed a gradient,
and return input cotangents with the input's shape, dtype and structure.

>>> import adlab as ad, numpy as np
>>> out, pullback = vjp(ad.sum, np.array([1.0, 2.0]))
>>> float(out), pullback(1.0)
(3.0, (array([1., 1.]),))
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from adlab import ops
from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Box, Primitive, new_level
from adlab.core.tangents import broadcast_like, dtype_of, fit, shape_of, sum_to_shape, zeros_like
from adlab.core.tree import flatten, unflatten
from adlab.core.values import like_primal
from adlab.ops import array as A
from adlab.ops.operators import Operators

__all__ = [
    "add", "add_at", "broadcast", "item", "jvp", "numbers", "pack", "result", "seed",
    "unbroadcast", "vjp", "zero",
]  # fmt: skip


# ---------------------------------------------------------------------------
# The table for code specialised on Python numbers

_numbers: types.SimpleNamespace | None = None


def numbers() -> types.SimpleNamespace:
    """adlab's table for code whose values are all plain numbers: each elementwise
    primitive is its implementation (no box can reach it, so the dispatch on
    argument types is resolved once, when the code is generated), every other
    operation is the table's own.
    """
    global _numbers
    if _numbers is None:
        table = {}
        for name in ops.__all__:
            value = getattr(ops, name)
            elementwise = isinstance(value, Primitive) and (
                value in rules.partials or not value.differentiable
            )
            table[name] = value.impl if elementwise else value
        _numbers = types.SimpleNamespace(**table)
    return _numbers


# ---------------------------------------------------------------------------
# Shapes


def unbroadcast(ct: Any, like: Any) -> Any:
    """``ct`` summed over the axes that broadcasting added to ``like`` (the adjoint of a
    broadcast). A smaller ``ct`` is a zero that broadcasts, and is kept."""
    shape = shape_of(like)
    have = shape_of(ct)
    if have == shape or isinstance(like, list | tuple | dict):
        return ct
    if len(have) < len(shape) or any(h < s for h, s in zip(have[len(have) - len(shape) :],
                                                            shape)):  # fmt: skip
        return ct
    return sum_to_shape(ct, shape)


def broadcast(t: Any, like: Any) -> Any:
    """A tangent broadcast to the shape of ``like`` (tangents of outputs are exact)."""
    if isinstance(like, list | tuple | dict) or shape_of(t) == shape_of(like):
        return t
    return broadcast_like(t, like)


def zero(like: Any) -> Any:
    """An exact zero shaped like ``like``: a float, an array, or a tuple/list/dict of zeros."""
    if isinstance(like, list | tuple | dict):
        leaves, tree = flatten(like)
        return unflatten(tree, [zero(x) for x in leaves])
    z = zeros_like(like)
    return z


def _is_zero(ct: Any) -> bool:
    return type(ct) is float and ct == 0.0


def add(a: Any, b: Any) -> Any:
    """``a + b`` for cotangents that may be tuples, lists or dicts (added per element);
    ``0.0`` stands for a zero of any structure."""
    if _is_zero(a):
        return b
    if _is_zero(b):
        return a
    if isinstance(a, dict):
        return {k: add(a[k], b[k]) for k in a}
    if isinstance(a, list | tuple):
        out = [add(x, y) for x, y in zip(a, b)]
        return type(a)(out) if isinstance(a, tuple) else out
    return a + b


def item(ct: Any, key: Any) -> Any:
    """``ct[key]``, where ``0.0`` (a zero of any structure) gives ``0.0``."""
    return 0.0 if _is_zero(ct) else ct[key]


def pack(cts: Sequence[Any], like: Any) -> Any:
    """The cotangent of ``like`` from the cotangents of its elements (``a, b = like``)."""
    if isinstance(like, tuple | list):
        return type(like)(cts)
    if all(_is_zero(c) for c in cts):
        return 0.0
    rows = [zeros_like(like[i]) if _is_zero(c) else c for i, c in enumerate(cts)]
    return A.stack(rows)


def add_at(seq_bar: Any, seq: Any, index: int, ct: Any) -> Any:
    """The cotangent of ``seq`` plus ``ct`` at ``index`` (the adjoint of reading ``seq[index]``)."""
    if _is_zero(ct):
        return seq_bar
    if isinstance(seq, list | tuple):
        out = [0.0] * len(seq) if _is_zero(seq_bar) else list(seq_bar)
        out[index] = add(out[index], ct)
        return type(seq)(out) if isinstance(seq, tuple) else out
    if isinstance(seq, dict):
        out = dict.fromkeys(seq, 0.0) if _is_zero(seq_bar) else dict(seq_bar)
        out[index] = add(out[index], ct)
        return out
    getitem_vjp = rules.vjps[A.getitem_p]
    (contribution,) = getitem_vjp(None, (seq,), (0,), index=index)(ct)
    return contribution if _is_zero(seq_bar) else seq_bar + contribution


# ---------------------------------------------------------------------------
# Seeds and results


def seed(out: Any) -> Any:
    """The cotangent 1 for a scalar output; a clear error for anything else."""
    shape = shape_of(out)
    if isinstance(out, list | tuple | dict) or shape != ():
        what = f"shape {shape}" if shape else type(out).__name__
        raise DifferentiationError(
            f"grad needs a scalar output, got {what}; reduce it with .sum() or use "
            "ad.sct.vjp / ad.jacobian"
        )
    return 1.0 if dtype_of(out) is None else np.ones((), dtype_of(out))[()]


def result(ct: Any, primal: Any) -> Any:
    """``ct`` as the cotangent of ``primal``: its shape, dtype and structure (zeros filled in)."""
    if isinstance(primal, list | tuple | dict):
        leaves, tree = flatten(primal)
        cts = [0.0] * len(leaves) if _is_zero(ct) else _leaves_like(ct, primal)
        return unflatten(tree, [result(c, p) for c, p in zip(cts, leaves)])
    if _is_zero(ct):
        return zeros_like(primal)
    shape = shape_of(primal)
    if shape_of(ct) != shape:
        ct = unbroadcast(ct, primal)
        if shape_of(ct) != shape:
            ct = ct + zeros_like(primal)  # a zero of a smaller shape, broadcast
    return like_primal(fit(ct, shape, dtype_of(primal)), primal)


def _leaves_like(ct: Any, primal: Any) -> list[Any]:
    if isinstance(primal, dict):
        return [c for k in primal for c in _leaves_like(item(ct, k), primal[k])]
    if isinstance(primal, list | tuple):
        return [c for i, p in enumerate(primal) for c in _leaves_like(item(ct, i), p)]
    return [ct]


# ---------------------------------------------------------------------------
# Run-time rules: a table operation applied to values, recording its primitives


def _differentiable(x: Any) -> bool:
    if isinstance(x, Box | float | np.floating):
        return not isinstance(x, bool)
    return isinstance(x, np.ndarray) and x.dtype.kind in "fc"


class _Traced(Operators, Box):
    """A value inside one run-time :func:`vjp` call; its primitives are recorded on a tape."""

    __slots__ = ("_level", "index", "tape", "value")
    _what = "value of an sct run-time rule"

    def __init__(self, value: Any, level: int, tape: list, index: int) -> None:
        self.value, self._level, self.tape, self.index = value, level, tape, index

    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.value)

    @property
    def dtype(self) -> Any:
        return dtype_of(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def _process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        level = self._level
        vals, wrt = list(args), []
        for i, a in enumerate(args):
            if type(a) is _Traced and a._level == level:
                vals[i] = a.value
                wrt.append(i)
        out = prim(*vals, **params)
        if not prim.differentiable:
            return out
        vjp_rule = rules.vjps.get(prim)
        if vjp_rule is None:
            _missing(prim, "reverse")
        pullback = vjp_rule(out, vals, tuple(wrt), **params)
        index = len(self.tape)  # operations count up from 0, inputs down from -1
        self.tape.append((index, pullback, tuple(args[i].index for i in wrt)))
        return _Traced(out, level, self.tape, index)


def _missing(prim: Primitive, mode: str) -> NoReturn:
    raise DifferentiationError(
        f"the primitive '{prim.name}' has no {mode}-mode rule. Declare its partial derivatives "
        f"with @{prim.name}.defrule, or its rules with adlab.core.rules.defvjp / defjvp"
    )


def vjp(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Callable]:
    """``(fn(*args, **kwargs), pullback)``: the table's vjp rules applied at run time.

    Floats and float arrays among ``args`` (also inside tuples and lists) are
    differentiated; ``pullback(out_bar)`` returns one cotangent per positional
    argument, in its structure.
    """
    level = new_level()
    tape: list = []
    leaves, tree = flatten(args)
    inputs = [
        _Traced(x, level, tape, -1 - i) if _differentiable(x) else x for i, x in enumerate(leaves)
    ]
    out = fn(*unflatten(tree, inputs), **kwargs)
    out_leaves, out_tree = flatten(out)
    out_index = [o.index if type(o) is _Traced and o._level == level else None for o in out_leaves]
    plain = [o.value if type(o) is _Traced and o._level == level else o for o in out_leaves]

    def run_time_pullback(out_bar: Any) -> tuple:
        cts: dict[int, Any] = {}
        for k, g in zip(out_index, flatten(out_bar)[0] if out_leaves else ()):
            if k is not None and not _is_zero(g):
                cts[k] = add(cts[k], g) if k in cts else g
        for index, pullback, parents in reversed(tape):
            g = cts.pop(index, None)
            if g is None:
                continue
            for p, c in zip(parents, pullback(g)):
                if c is not None:
                    cts[p] = cts[p] + c if p in cts else c
        arg_cts = [
            cts[-1 - i] if -1 - i in cts else (zeros_like(x) if _differentiable(x) else None)
            for i, x in enumerate(leaves)
        ]
        return tuple(unflatten(tree, arg_cts))

    return unflatten(out_tree, plain), run_time_pullback


class _Dual(Operators, Box):
    """A value with a tangent inside one run-time :func:`jvp` call."""

    __slots__ = ("_level", "dot", "value")
    _what = "value of an sct run-time rule"

    def __init__(self, value: Any, dot: Any, level: int) -> None:
        self.value, self.dot, self._level = value, dot, level

    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.value)

    @property
    def dtype(self) -> Any:
        return dtype_of(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def _process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        level = self._level
        vals, dots = list(args), [None] * len(args)
        for i, a in enumerate(args):
            if type(a) is _Dual and a._level == level:
                vals[i], dots[i] = a.value, a.dot
        out = prim(*vals, **params)
        if not prim.differentiable:
            return out
        jvp_rule = rules.jvps.get(prim)
        if jvp_rule is None:
            _missing(prim, "forward")
        out_dot = jvp_rule(out, vals, dots, **params)
        return out if out_dot is None else _Dual(out, out_dot, level)


def jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
        **kwargs: Any) -> tuple[Any, Any]:  # fmt: skip
    """``(fn(*primals, **kwargs), out_dot)``: the table's jvp rules applied at run time.

    ``tangents`` has one entry per primal (in its structure); ``None`` or ``0.0``
    is a zero tangent.
    """
    level = new_level()
    leaves, tree = flatten(tuple(primals))
    dot_leaves = _tangent_leaves(tangents, primals)
    inputs = [
        _Dual(x, d, level) if d is not None and _differentiable(x) else x
        for x, d in zip(leaves, dot_leaves)
    ]
    out = fn(*unflatten(tree, inputs), **kwargs)
    out_leaves, out_tree = flatten(out)
    values, dots = [], []
    for o in out_leaves:
        if type(o) is _Dual and o._level == level:
            values.append(o.value)
            dots.append(broadcast(o.dot, o.value))
        else:
            values.append(o)
            dots.append(zero(o))
    return unflatten(out_tree, values), unflatten(out_tree, dots)


def _tangent_leaves(tangents: Sequence[Any], primals: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for t, p in zip(tangents, primals):
        p_leaves, _ = flatten(p)
        if t is None or (_is_zero(t) and isinstance(p, list | tuple | dict)):
            out += [None] * len(p_leaves)
            continue
        t_leaves = _leaves_like(t, p) if isinstance(p, list | tuple | dict) else [t]
        out += [None if d is None or (_is_zero(d) and shape_of(x) != ()) else d
                for d, x in zip(t_leaves, p_leaves)]  # fmt: skip
    return out
