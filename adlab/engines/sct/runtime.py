"""What generated code calls at run time (spelled ``sct.`` in it).

Elementwise operations are differentiated in the generated code itself, from
their partial derivatives printed as Python. Array operations (``ad.sum``,
``ad.matmul``, ``x[1:]``, ...) have rules that need run-time shapes, so
generated code calls :func:`vjp` / :func:`jvp` here, which apply the table's own
rule (``prim.rule.vjp`` / ``prim.rule.jvp``) of the primitive the operation applies: no
formula is restated; ``+`` and ``*`` that may join or repeat tuples and lists
run the same way (:func:`plus`, :func:`times`). The rest is bookkeeping: sum a
cotangent back over broadcast axes, accumulate cotangents of tuples and lists,
seed a gradient, and return input cotangents with the input's shape, dtype and
structure.

>>> import adlab as ad, numpy as np
>>> out, pullback = vjp(ad.sum, np.array([1.0, 2.0]))
>>> float(out), pullback(1.0)
(3.0, (array([1., 1.]),))
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adlab import ops
from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Box, Primitive
from adlab.core.tangents import broadcast_like, dtype_of, fit, shape_of, sum_to_shape, zeros_like
from adlab.core.transform import new_level
from adlab.core.tree import flatten, unflatten
from adlab.core.values import like_primal
from adlab.ops import array as A
from adlab.ops.operators import ArrayOperators

__all__ = [
    "add", "add_at", "broadcast", "item", "jvp", "numbers", "pack", "plus", "result", "seed",
    "times", "unbroadcast", "vjp", "zero",
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
        for name, value in ops.NAMESPACE.items():
            elementwise = isinstance(value, Primitive) and (
                isinstance(value.rule, rules.Partials) or not value.differentiable
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
    ``0.0`` stands for a zero of any structure, and so does ``None`` (the cotangent of
    an element that carries no derivative, an int in a list)."""
    if a is None or _is_zero(a):
        return b
    if b is None or _is_zero(b):
        return a
    if isinstance(a, dict):
        return {k: add(a[k], b[k]) for k in a}
    if isinstance(a, list | tuple):
        out = [add(x, y) for x, y in zip(a, b)]
        return type(a)(out) if isinstance(a, tuple) else out
    return a + b


def plus(a: Any, b: Any) -> Any:
    """``a + b`` as Python computes it: numbers and arrays add, tuples and lists join.
    Generated code runs it through :func:`vjp` / :func:`jvp` where an operand may be a
    tuple or a list, so the cotangent of a join is split between its parts."""
    return a + b


def times(a: Any, b: Any) -> Any:
    """``a * b`` as Python computes it: ``[x] * 3`` repeats the list (see :func:`plus`), so
    the cotangent of a repetition is the sum of its copies'."""
    return a * b


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
    (contribution,) = A.getitem_p.rule.vjp(None, (seq,), (0,), index=index)(ct)
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
# Run-time rules: the table's vjp / jvp rule of the one primitive an operation applies
#
# A table operation (``ad.sum(x, axis=0)``, ``x[1:]``, ``np.where(c, x, y)``) turns
# its arguments and settings into one primitive call (``sum_p(x, axis=(0,),
# keepdims=False)``), with settings that depend on the values' shapes. So the
# operation runs once on stand-ins for its arguments, which catch that call; its
# rule from the table (``prim.rule.vjp`` or ``prim.rule.jvp``) is applied
# to it, no formula restated.


def _differentiable(x: Any) -> bool:
    if isinstance(x, Box | float | np.floating):
        return not isinstance(x, bool)
    return isinstance(x, np.ndarray) and x.dtype.kind in "fc"


class _Stand(ArrayOperators, Box):
    """An argument (or the result) of the operation :func:`vjp` / :func:`jvp` runs: it
    catches the primitive the operation applies to it."""

    __slots__ = ("_level", "index", "run", "value")
    _what = "value of an sct run-time rule"

    def __init__(self, value: Any, level: int, run: _Run, index: int) -> None:
        self.value, self._level, self.run, self.index = value, level, run, index

    def _finished(self) -> bool:
        return False

    def _process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        mine = [type(a) is _Stand and a._level == self._level for a in args]
        vals = [a.value if m else a for a, m in zip(args, mine)]
        out = prim(*vals, **params)
        if not prim.differentiable:
            return out
        run = self.run
        if run.prim is not None or any(m and a.index == _RESULT for a, m in zip(args, mine)):
            raise DifferentiationError(
                f"{run.name} applies more than one primitive of the table ({run.prim.name}, "
                f"then {prim.name}); sct applies the rule of one primitive per operation. "
                "Differentiate this code with the reverse engine: ad.grad(...) or ad.jacobian(...)"
            )
        run.prim, run.vals, run.params, run.out = prim, vals, params, out
        run.sources = tuple(a.index if m else None for a, m in zip(args, mine))
        return _Stand(out, self._level, run, _RESULT)


_RESULT = -1  # the index of the stand-in for the primitive's result


class _Run:
    """One run of an operation on stand-ins: the primitive it applied, and where each of
    the primitive's arguments (``sources``: an argument's leaf index or None) and each
    leaf of its output came from."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        self.name = getattr(fn, "__name__", repr(fn))
        self.prim: Primitive | None = None
        self.vals: list = []
        self.params: dict = {}
        self.out: Any = None
        self.sources: tuple[int | None, ...] = ()
        level = new_level()
        self.leaves, self.tree = flatten(args)
        stands = [_Stand(x, level, self, i) if _differentiable(x) else x
                  for i, x in enumerate(self.leaves)]  # fmt: skip
        out_leaves, self.out_tree = flatten(fn(*unflatten(self.tree, stands), **kwargs))
        self.origins = [o.index if type(o) is _Stand and o._level == level else None
                        for o in out_leaves]  # fmt: skip
        self.values = [o.value if origin is not None else o
                       for o, origin in zip(out_leaves, self.origins)]  # fmt: skip

    def output(self, leaves: list[Any]) -> Any:
        return unflatten(self.out_tree, leaves)


def vjp(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Callable]:
    """``(fn(*args, **kwargs), pullback)`` by the table's vjp rule of the primitive ``fn``
    applies.

    Floats and float arrays among ``args`` (also inside tuples and lists) are
    differentiated; ``pullback(out_bar)`` returns one cotangent per positional
    argument, in its structure.
    """
    run = _Run(fn, args, kwargs)
    prim_pullback = None
    if run.prim is not None and _RESULT in run.origins:
        rule = run.prim.rule
        if rule is None:
            raise rules.missing_rule(run.prim, "reverse")
        wrt = tuple(k for k, i in enumerate(run.sources) if i is not None)
        prim_pullback = rule.vjp(run.out, run.vals, wrt, **run.params)

    origins, leaves, tree = run.origins, run.leaves, run.tree
    sources = [i for i in run.sources if i is not None]  # one per cotangent of the rule

    def run_time_pullback(out_bar: Any) -> tuple:
        cts: dict[int, Any] = {}
        for origin, g in zip(origins, flatten(out_bar)[0]):
            if origin is None or _is_zero(g):
                continue
            pairs = zip(sources, prim_pullback(g)) if origin == _RESULT else [(origin, g)]
            for i, ct in pairs:  # type: ignore[misc]
                if ct is not None:
                    cts[i] = add(cts[i], ct) if i in cts else ct
        arg_cts = [cts[i] if i in cts else (zeros_like(x) if _differentiable(x) else None)
                   for i, x in enumerate(leaves)]  # fmt: skip
        return tuple(unflatten(tree, arg_cts))

    return run.output(run.values), run_time_pullback


def jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
        **kwargs: Any) -> tuple[Any, Any]:  # fmt: skip
    """``(fn(*primals, **kwargs), out_dot)`` by the table's jvp rule of the primitive ``fn``
    applies.

    ``tangents`` has one entry per primal (in its structure); ``None`` or ``0.0``
    is a zero tangent.
    """
    run = _Run(fn, tuple(primals), kwargs)
    dots = _tangent_leaves(tangents, primals)
    out_dots = []
    for origin, o in zip(run.origins, run.values):
        dot = None
        if origin == _RESULT:
            rule = run.prim.rule  # type: ignore[union-attr]
            if rule is None:
                raise rules.missing_rule(run.prim, "forward")  # type: ignore[arg-type]
            arg_dots = [None if i is None else dots[i] for i in run.sources]
            dot = rule.jvp(run.out, run.vals, arg_dots, **run.params)
        elif origin is not None:
            dot = dots[origin]
        out_dots.append(zero(o) if dot is None else broadcast(dot, o))
    return run.output(run.values), run.output(out_dots)


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
