"""The JAX-style user API, written once over the engines' small protocol.

Every engine offers ``vjp(f, primals)`` and/or ``jvp(f, primals, tangents)`` on
flat tuples of floats/arrays (``f`` returns a tuple of outputs; a pullback takes
``None`` for an output's zero cotangent). Everything a user calls — ``grad``,
``value_and_grad``, ``jacobian``, ``hessian``, ``derivative``, ``compare`` — is
derived here from those two, once, for every engine: an engine with only a jvp
gets its pullbacks from Jacobian columns, one with only a vjp its jvps by
transposing the pullback. This module also handles argument structures (tuples,
lists, dicts) and ``argnums``, and counts passes and sweeps (:func:`counting`).

Optional parts of the protocol: ``jvp_chunk(f, primals, directions)`` carries
several directions in one pass (forward mode's chunks); ``TAKES_NONE_TANGENTS``
says the engine's jvp accepts ``None`` for an input held constant;
``RUNS_GENERATED_CODE`` says it runs code generated from ``f`` instead of calling
it; ``EVALUATES_ONLY`` that it only calls ``f`` (its cost is the calls: no passes or
sweeps); ``grad_function(f, argnums)`` gives the gradient as a function the engine can
transform again (:func:`grad_to_transform`, for ``hessian`` and second-order checks).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import inspect
import math
import time as time_module
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Primitive
from adlab.core.tangents import ones_like, shape_of, zeros_like
from adlab.core.tree import LEAF, TreeDef, flatten, unflatten
from adlab.core.values import as_primal, like_primal, output_leaves
from adlab.engines import forward, numeric, reverse
from adlab.engines.sct import protocol as sct_protocol
from adlab.engines.symbolic import protocol as symbolic_protocol
from adlab.ops import array as A
from adlab.ops import scalar as S
from adlab.viz.tables import Table

MODES = ("numeric", "symbolic", "forward", "reverse", "sct")
"""Every differentiation mode adlab knows, in the order of the lecture."""

_ENGINES: dict[str, ModuleType] = {
    "numeric": numeric,
    "symbolic": symbolic_protocol,
    "forward": forward,
    "reverse": reverse,
    "sct": sct_protocol,
}

Argnums = int | Sequence[int]


def available_modes() -> tuple[str, ...]:
    """The modes whose engines this version has, in the order of :data:`MODES`."""
    return tuple(m for m in MODES if m in _ENGINES)


def _engine(mode: str) -> ModuleType:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(map(repr, MODES))}")
    engine = _ENGINES.get(mode)
    if engine is None or not (hasattr(engine, "jvp") or hasattr(engine, "vjp")):
        raise NotImplementedError(
            f"mode={mode!r} is not available in this version of adlab: its engine has not been "
            f"built yet. Available: {', '.join(map(repr, _ENGINES))}"
        )
    return engine


# ---------------------------------------------------------------------------
# Argument structures


def _check_argnums(argnums: Argnums, nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError("argnums is empty: name at least one argument to differentiate")
    for a in nums:
        if not isinstance(a, int) or not -nargs <= a < nargs:
            raise ValueError(
                f"argnums={argnums!r}, but the function was called with {nargs} positional "
                "argument(s)"
            )
    return tuple(a % nargs for a in nums)


class _Flat:
    """``f`` as a function of the flat leaves of its differentiated arguments."""

    def __init__(self, f: Callable, args: tuple, kwargs: dict, argnums: tuple[int, ...]) -> None:
        self.f, self.args, self.kwargs, self.argnums = f, args, kwargs, argnums
        self.trees: list[TreeDef] = []
        self.leaves: list[Any] = []
        for i in argnums:
            leaves, tree = flatten(args[i])
            self.trees.append(tree)
            self.leaves += [as_primal(x, f"argument {i}") for x in leaves]
        self.all_leaves = all(tree is LEAF for tree in self.trees)  # no structures to rebuild
        self.out_tree: TreeDef | None = None

    def __call__(self, *leaves: Any) -> tuple:
        if _counters:
            _count("calls")
        args = list(self.args)
        if self.all_leaves:
            for i, leaf in zip(self.argnums, leaves):
                args[i] = leaf
        else:
            start = 0
            for i, tree in zip(self.argnums, self.trees):
                args[i] = unflatten(tree, leaves[start : start + tree.num_leaves])
                start += tree.num_leaves
        out_leaves, self.out_tree = output_leaves(self.f(*args, **self.kwargs))
        return tuple(out_leaves)

    def split(self, flat_cts: Sequence[Any]) -> list[Any]:
        """Per differentiated argument, its cotangent in the argument's structure."""
        if self.all_leaves:
            return [like_primal(c, p) for c, p in zip(flat_cts, self.leaves)]
        out, start = [], 0
        for tree in self.trees:
            k = tree.num_leaves
            cts = [
                like_primal(c, p) for c, p in zip(flat_cts[start : start + k], self.leaves[start:])
            ]
            out.append(unflatten(tree, cts))
            start += k
        return out


def _pick(results: list[Any], argnums: Argnums) -> Any:
    return results[0] if isinstance(argnums, int) else tuple(results)


# ---------------------------------------------------------------------------
# Engine protocol, completed


class Cost:
    """What differentiating cost, counted by :func:`counting`: ``calls`` of the function (or
    runs of the code an engine generated for it; with nested derivatives, the calls of the
    inner derivative functions count too), forward ``passes`` (one per jvp, carrying one
    chunk of directions, and one per vjp's recording run) and reverse ``sweeps`` (one per
    pullback call)."""

    __slots__ = ("calls", "passes", "sweeps")

    def __init__(self) -> None:
        self.calls = self.passes = self.sweeps = 0

    def __repr__(self) -> str:
        return f"Cost(calls={self.calls}, passes={self.passes}, sweeps={self.sweeps})"


_counters: list[Cost] = []


@contextlib.contextmanager
def counting() -> Iterator[Cost]:
    """Count the calls, forward passes and reverse sweeps of the derivatives taken inside.

    >>> import adlab as ad, numpy as np
    >>> with ad.counting() as cost:
    ...     _ = ad.jacobian(lambda x: ad.sum(x ** 2), mode="forward")(np.ones(5))
    >>> cost.passes
    5
    """
    cost = Cost()
    _counters.append(cost)
    try:
        yield cost
    finally:
        _counters.remove(cost)


def _count(what: str, n: int = 1) -> None:
    for cost in _counters:
        setattr(cost, what, getattr(cost, what) + n)


def _count_pass(engine: ModuleType) -> None:
    """One forward pass of ``engine`` (an engine that only evaluates ``f`` makes none; one that
    runs code generated from ``f`` runs it once, which counts as a call)."""
    if not getattr(engine, "EVALUATES_ONLY", False):
        _count("passes")
    if getattr(engine, "RUNS_GENERATED_CODE", False):
        _count("calls")


def _vjp(mode: str, f: Callable, primals: Sequence[Any]) -> tuple[tuple, Callable]:
    engine = _engine(mode)
    if not hasattr(engine, "vjp"):
        return _vjp_from_jacobian(mode, f, primals)
    _count_pass(engine)
    outs, pullback = engine.vjp(f, primals)
    sweeps = 0 if getattr(engine, "EVALUATES_ONLY", False) else 1

    def counted_pullback(out_bars: Sequence[Any]) -> tuple:
        _count("sweeps", sweeps)
        return pullback(out_bars)

    counted_pullback.__name__ = f"{mode}_pullback"
    return outs, counted_pullback


def _jvp(mode: str, f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    engine = _engine(mode)
    if hasattr(engine, "jvp"):
        _count_pass(engine)
        return engine.jvp(f, primals, _zeros_for_none(engine, primals, tangents))
    return _jvp_by_transposing_vjp(mode, f, primals, tangents)


def _jvps(mode: str, f: Callable, primals: Sequence, directions: Sequence) -> tuple[tuple, list]:
    """``(outs, [out_dots per direction])``: one pass for all of them where the engine carries
    chunks of directions (forward mode), else one jvp per direction."""
    engine = _engine(mode)
    if hasattr(engine, "jvp_chunk"):
        _count_pass(engine)
        return engine.jvp_chunk(f, primals, directions)  # an engine with chunks takes None
    results = [_jvp(mode, f, primals, d) for d in directions]
    return results[0][0], [r[1] for r in results]


def _zeros_for_none(engine: ModuleType, primals: Sequence, tangents: Sequence) -> Sequence:
    """Tangents for the engine: None means "held constant", and engines that cannot take None
    get zeros (forward mode leaves such inputs undualled, so that a nan partial of a constant
    input never meets a zero tangent)."""
    if getattr(engine, "TAKES_NONE_TANGENTS", False) or all(t is not None for t in tangents):
        return tangents
    return tuple(zeros_like(p) if t is None else t for p, t in zip(primals, tangents))


def _jvp_by_transposing_vjp(mode: str, f: Callable, primals: Sequence, tangents: Sequence):
    """J·t from a reverse engine alone: the pullback u ↦ uᵀJ is linear in u, and the
    pullback of *that* map, applied to t, is J·t (the "double vjp" trick)."""
    outs, pullback = _vjp(mode, f, primals)
    zero_cts = tuple(zeros_like(o) for o in outs)
    _, pullback_of_pullback = _vjp(mode, lambda *u: pullback(u), zero_cts)
    return outs, pullback_of_pullback(tuple(tangents))


def _basis(leaves: Sequence[Any]) -> Iterator[tuple]:
    """The unit directions of the inputs, one input component at a time."""
    for i, leaf in enumerate(leaves):
        shape = shape_of(leaf)
        for k in range(math.prod(shape)):
            direction: list[Any] = [None] * len(leaves)  # None: held constant
            if shape:
                e = np.zeros(shape, dtype=getattr(leaf, "dtype", np.float64))
                e.flat[k] = 1
                direction[i] = e
            else:
                direction[i] = ones_like(leaf)
            yield tuple(direction)


def _columns(mode: str, f: Callable, primals: Sequence, chunk: int) -> tuple[tuple, list]:
    """The outputs and every column of the Jacobian (``d out / d input component``), by
    forward passes carrying ``chunk`` directions each: ⌈n / chunk⌉ passes."""
    directions = list(_basis(primals))
    if not directions:
        return tuple(f(*primals)), []
    columns: list[tuple] = []
    outs: tuple = ()
    for start in range(0, len(directions), chunk):
        outs, dots = _jvps(mode, f, primals, directions[start : start + chunk])
        columns += dots
    return outs, columns


def _vjp_from_jacobian(mode: str, f: Callable, primals: Sequence) -> tuple[tuple, Callable]:
    """A pullback for an engine that only pushes forward: the whole Jacobian, one column per
    input component (n passes), contracted with each cotangent."""
    outs, columns = _columns(mode, f, primals, 1)

    def jacobian_pullback(out_bars: Sequence[Any]) -> tuple:
        # each component's cotangent is Σ over outputs of <out_bar, column>, written with
        # table operations so that the values may be traced by an outer transformation
        flat = []
        for col in columns:
            terms = [A.sum(b * c) for b, c in zip(out_bars, col) if b is not None]
            flat.append(functools.reduce(S.add, terms) if terms else 0.0)
        cts, start = [], 0
        for p in primals:
            shape = shape_of(p)
            size = math.prod(shape)
            piece = flat[start : start + size]
            start += size
            if not shape and not isinstance(p, np.ndarray):
                cts.append(like_primal(piece[0], p))
                continue
            ct = A.reshape(A.stack(piece), shape) if size else zeros_like(p)
            cts.append(ct.astype(p.dtype) if isinstance(ct, np.ndarray) else ct)
        return tuple(cts)

    return outs, jacobian_pullback


# ---------------------------------------------------------------------------
# The user API


def vjp(f: Callable, *primals: Any, mode: str = "reverse") -> tuple[Any, Callable]:
    """``(out, pullback)``: ``f(*primals)`` and the map ``out_bar -> (x_bar, ...)``.

    ``pullback`` takes a cotangent shaped like ``out`` and returns one
    cotangent per primal, each shaped like its primal (vector-Jacobian product).

    >>> import adlab as ad
    >>> out, pullback = ad.vjp(lambda x, y: x * y, 2.0, 3.0)
    >>> out, pullback(1.0)
    (6.0, (3.0, 2.0))
    """
    flat = _Flat(f, primals, {}, tuple(range(len(primals))))
    outs, flat_pullback = _vjp(mode, flat, flat.leaves)
    out_tree = flat.out_tree

    def pullback(out_bar: Any) -> tuple:
        bars, tree = flatten(out_bar)
        if tree != out_tree:
            raise ValueError("the cotangent must have the same structure as the output")
        for bar, out in zip(bars, outs):
            if shape_of(bar) != shape_of(out):
                raise ValueError(
                    f"the cotangent has shape {shape_of(bar)}, but the output it belongs to has "
                    f"shape {shape_of(out)}: a cotangent has its output's shape"
                )
        return tuple(flat.split(flat_pullback(tuple(bars))))

    return unflatten(out_tree, outs), pullback


def jvp(
    f: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, mode: str = "forward"
) -> tuple[Any, Any]:
    """``(out, out_dot)``: ``f(*primals)`` and its directional derivative along ``tangents``.

    >>> import adlab as ad
    >>> ad.jvp(lambda x: x ** 3, (2.0,), (1.0,), mode="reverse")
    (8.0, 12.0)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"{len(primals)} primals but {len(tangents)} tangents")
    flat = _Flat(f, primals, {}, tuple(range(len(primals))))
    flat_tangents = [as_primal(t, "a tangent") for tan in tangents for t in flatten(tan)[0]]
    if len(flat_tangents) != len(flat.leaves):
        raise ValueError("tangents must have the same structure as primals")
    outs, out_dots = _jvp(mode, flat, flat.leaves, flat_tangents)
    return unflatten(flat.out_tree, outs), unflatten(flat.out_tree, out_dots)


def value_and_grad(f: Callable, argnums: Argnums = 0, *, mode: str = "reverse") -> Callable:
    """A function returning ``(f(*args), gradient)``; see :func:`grad`."""

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        flat = _Flat(f, args, kwargs, _check_argnums(argnums, len(args)))
        outs, pullback = _vjp(mode, flat, flat.leaves)
        (out,) = _scalar_output(outs, "grad")
        grads = flat.split(pullback((ones_like(out),)))
        return out, _pick(grads, argnums)

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_grad_f


def grad(f: Callable, argnums: Argnums = 0, *, mode: str = "reverse") -> Callable:
    """The gradient of a scalar function, as a function of the same arguments.

    ``argnums`` picks the argument(s) to differentiate (an int gives one
    gradient, a tuple a tuple of them); each gradient has its argument's shape
    and structure (floats, arrays, tuples/lists/dicts of them).

    >>> import adlab as ad
    >>> ad.grad(lambda x, y: x * x * y)(3.0, 2.0)
    12.0
    >>> ad.grad(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    (12.0, 9.0)
    """
    value_and_grad_f = value_and_grad(f, argnums, mode=mode)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return grad_f


def _scalar_output(outs: tuple, who: str) -> tuple:
    if len(outs) != 1:
        raise DifferentiationError(
            f"{who} needs a single scalar output, but the function returned {len(outs)} values; "
            "use ad.jacobian or ad.vjp"
        )
    shape = shape_of(outs[0])
    if shape != ():
        raise DifferentiationError(
            f"{who} needs a scalar output, got shape {shape}; use ad.jacobian or reduce with .sum()"
        )
    return outs


def jacobian(
    f: Callable, argnums: Argnums = 0, *, mode: str = "reverse", chunk: int = 1
) -> Callable:
    """The Jacobian, shaped ``out.shape + arg.shape`` for each differentiated argument.

    Modes with a pullback build it row by row (one reverse sweep per output
    component); forward mode column by column, ``chunk`` input directions per
    forward pass (⌈n / chunk⌉ passes for n input components; count them with
    :func:`counting`; row-building modes take no chunks). Structured outputs (a tuple
    of arrays, say) give a Jacobian per output, in the output's structure; so
    ``hessian(f, argnums=(0, 1))`` gives the blocks.

    >>> import adlab as ad, numpy as np
    >>> ad.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise ValueError(f"chunk must be a positive int (directions per pass), got {chunk!r}")

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        flat = _Flat(f, args, kwargs, _check_argnums(argnums, len(args)))
        by_columns = not hasattr(_engine(mode), "vjp")
        outs, blocks_of = (_by_columns if by_columns else _by_rows)(mode, flat, chunk)
        per_output = []
        for i, out in enumerate(outs):
            blocks = [
                np.reshape(block, shape_of(out) + shape_of(leaf))
                if block is not None
                else np.zeros(shape_of(out) + shape_of(leaf), getattr(leaf, "dtype", np.float64))
                for block, leaf in zip(blocks_of(i), flat.leaves)
            ]
            per_output.append(_pick(flat.split(blocks), argnums))
        return unflatten(flat.out_tree, per_output)

    jacobian_f.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jacobian_f


def _by_rows(mode: str, flat: _Flat, chunk: int) -> tuple[tuple, Callable[[int], list]]:
    """The outputs, and per output its Jacobian blocks (one per input leaf) from one pullback
    per output component."""
    outs, pullback = _vjp(mode, flat, flat.leaves)

    def blocks_of(i: int) -> list:
        out_shape = shape_of(outs[i])
        rows = []
        for k in range(math.prod(out_shape)):
            basis = np.zeros(out_shape, dtype=getattr(outs[i], "dtype", np.float64))
            basis.flat[k] = 1
            # None, not zeros, for the other outputs: a zero cotangent times an infinite
            # partial of another output (sqrt at 0) would make this row nan.
            cts: list[Any] = [None] * len(outs)
            cts[i] = basis if out_shape else float(basis)
            rows.append(pullback(tuple(cts)))
        return [np.stack([r[j] for r in rows]) if rows else None for j in range(len(flat.leaves))]

    return outs, blocks_of


def _by_columns(mode: str, flat: _Flat, chunk: int) -> tuple[tuple, Callable[[int], list]]:
    """The outputs, and per output its Jacobian blocks from forward passes (columns)."""
    outs, columns = _columns(mode, flat, flat.leaves, chunk)

    def blocks_of(i: int) -> list:
        blocks, start = [], 0
        for leaf in flat.leaves:
            size = math.prod(shape_of(leaf))
            cols = [c[i] for c in columns[start : start + size]]
            start += size
            blocks.append(np.stack(cols, axis=-1) if cols else None)
        return blocks

    return outs, blocks_of


def hessian(
    f: Callable, argnums: Argnums = 0, *, mode: str | tuple[str, str] = ("forward", "reverse")
) -> Callable:
    """The matrix of second derivatives: the Jacobian of the gradient.

    ``mode`` is one mode for both levels, or ``(outer, inner)``: the inner one
    computes the gradient, the outer one differentiates it again. The default,
    forward over reverse, takes one reverse sweep inside each forward pass.

    >>> import adlab as ad, numpy as np
    >>> ad.hessian(lambda x: (x[0] ** 2) * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    outer, inner = (mode, mode) if isinstance(mode, str) else mode
    return jacobian(grad_to_transform(f, argnums, inner), argnums, mode=outer)


def grad_to_transform(f: Callable, argnums: Argnums, mode: str) -> Callable:
    """The gradient of a scalar ``f`` as a function to differentiate again: an engine that
    writes gradients as code (sct) gives that code, so its Hessian is sct over sct; for
    the others it is :func:`grad`."""
    engine = _ENGINES.get(mode)
    if hasattr(engine, "grad_function"):
        return engine.grad_function(f, argnums)
    return grad(f, argnums, mode=mode)


def derivative(f: Callable, *, mode: str = "forward") -> Callable:
    """The derivative of a function of one scalar: ``f'(x)`` (any output shape).

    >>> import adlab as ad
    >>> ad.derivative(lambda x: x ** 2 + 4 * x, mode="reverse")(2.0)
    8.0
    """

    @functools.wraps(f)
    def derivative_f(x: Any, *args: Any, **kwargs: Any) -> Any:
        if shape_of(x) != ():
            raise DifferentiationError(
                f"derivative is for functions of one scalar, got shape {shape_of(x)}; "
                "use ad.grad or ad.jacobian"
            )

        def of_x(u: Any) -> Any:
            return f(u, *args, **kwargs)

        of_x.__wrapped__ = f  # type: ignore[attr-defined]  # engines see f's parameter names
        return jvp(of_x, (x,), (1.0,), mode=mode)[1]

    derivative_f.__name__ = f"derivative({getattr(f, '__name__', 'f')})"
    return derivative_f


# ---------------------------------------------------------------------------
# Every engine on one function


@dataclasses.dataclass
class ModeResult:
    """One row of :func:`compare`: what ``mode`` gave, and what it cost."""

    mode: str
    value: Any = None
    gradient: Any = None
    error: float | None = None  # largest |gradient - reference| over all components
    seconds: float | None = None  # per value_and_grad call
    cost: Cost | None = None  # of one value_and_grad call
    failure: str | None = None  # the engine's error message, if it could not do it


class Comparison:
    """The table :func:`compare` returns: rich HTML in a notebook, data in ``.results``
    (one :class:`ModeResult` per mode; ``comparison["forward"]`` picks one)."""

    def __init__(self, function: str, results: list[ModeResult], reference: str) -> None:
        self.function = function
        self.results = results
        self.reference = reference

    def __getitem__(self, mode: str) -> ModeResult:
        for r in self.results:
            if r.mode == mode:
                return r
        raise KeyError(f"no row for mode {mode!r}; the rows are {[r.mode for r in self.results]}")

    def __iter__(self) -> Iterator[ModeResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def table(self) -> Table:
        """The comparison as a :class:`~adlab.viz.tables.Table`."""
        timed = any(r.seconds is not None for r in self.results)
        columns = ["mode", "value", "gradient", f"max error vs {self.reference}"]
        columns += ["time per call"] * timed + ["calls of f", "passes", "sweeps"]
        rows = []
        for r in self.results:
            if r.failure is not None:
                rows.append([r.mode, "—", r.failure] + [""] * (len(columns) - 3))
                continue
            error = "" if r.error is None else f"{r.error:.1e}"
            row = [r.mode, _show(r.value), _show(r.gradient), error]
            row += [_seconds(r.seconds)] * timed
            c = r.cost
            row += [c.calls, c.passes, c.sweeps] if c is not None else ["", "", ""]
            rows.append(row)
        return Table(columns, rows, title=f"{self.function}: every mode")

    def __repr__(self) -> str:
        return repr(self.table())

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


def compare(
    f: Callable,
    *args: Any,
    modes: Sequence[str] | None = None,
    argnums: Argnums | None = None,
    reference: str = "reverse",
    time: bool = True,
) -> Comparison:
    """Differentiate ``f`` at ``args`` with every mode and tabulate value, gradient (with
    respect to ``argnums``, by default every argument), the
    largest difference from the ``reference`` mode's gradient, time per call (``time=False``
    leaves it out, for stable stored outputs) and the calls, passes and sweeps of one
    gradient. A mode that cannot differentiate ``f`` shows its error instead.

    >>> import adlab as ad
    >>> table = ad.compare(lambda x, y: x * x * y, 3.0, 2.0, modes=("forward", "reverse"),
    ...                    time=False)
    >>> table["forward"].gradient, table["forward"].cost.passes
    ((12.0, 9.0), 2)
    """
    modes = available_modes() if modes is None else tuple(modes)
    for m in modes:
        _engine(m)
    nums = (0 if len(args) == 1 else tuple(range(len(args)))) if argnums is None else argnums
    results = []
    for mode in modes:
        g = value_and_grad(f, nums, mode=mode)
        try:
            with counting() as cost:
                value, gradient = g(*args)
        except (DifferentiationError, TypeError, ValueError, ArithmeticError) as e:
            results.append(ModeResult(mode, failure=f"{type(e).__name__}: {e}"))
            continue
        seconds = _time_per_call(g, args) if time else None
        results.append(ModeResult(mode, value, gradient, seconds=seconds, cost=cost))
    ref = next((r for r in results if r.mode == reference and r.failure is None), None)
    if ref is None:
        ref = ModeResult(reference, *value_and_grad(f, nums, mode=reference)(*args))
    want = np.concatenate([np.ravel(leaf) for leaf in flatten(ref.gradient)[0]] or [np.zeros(0)])
    for r in results:
        if r.failure is None:
            got = [np.ravel(leaf) for leaf in flatten(r.gradient)[0]]
            r.error = float(np.max(np.abs(np.concatenate(got or [np.zeros(0)]) - want),
                                   initial=0.0))  # fmt: skip
    return Comparison(getattr(f, "__name__", "f"), results, reference)


def _time_per_call(g: Callable, args: tuple, budget: float = 0.05) -> float:
    """The best of a few rounds, each long enough for the clock (timeit's approach)."""
    best, number = math.inf, 1
    while True:
        start = time_module.perf_counter()
        for _ in range(number):
            g(*args)
        elapsed = time_module.perf_counter() - start
        if elapsed > budget / 10 or number >= 10**4:
            break
        number *= 10
    best = elapsed / number
    for _ in range(2):
        start = time_module.perf_counter()
        for _ in range(number):
            g(*args)
        best = min(best, (time_module.perf_counter() - start) / number)
    return best


def _seconds(t: float | None) -> str:
    if t is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def _show(v: Any) -> str:
    """A result with every digit (the digits are the point of a comparison)."""
    if isinstance(v, tuple | list):
        return "(" + ", ".join(_show(x) for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, np.ndarray) and v.ndim:
        if v.size > 6:
            return f"{'×'.join(map(str, v.shape))} {v.dtype} array"
        return "[" + ", ".join(repr(float(x) + 0.0) for x in v.ravel()) + "]"
    if isinstance(v, float | np.floating | np.ndarray):
        return repr(float(v) + 0.0)
    return str(v)


# ---------------------------------------------------------------------------
# The rule table, as a table


def rule_table() -> Table:
    """Every primitive of the table with how its derivative is declared, and its kink convention.

    In a notebook it shows as an HTML table; ``.rows`` has the data (user primitives with a
    rule included).

    >>> import adlab as ad
    >>> abs_row = next(row for row in ad.rule_table().rows if row[0] == "abs")
    >>> abs_row[1], abs_row[3]
    ('partials', "abs'(0) = 0")
    """
    rows = []
    for p in _all_primitives():
        rows.append((p.name, rules.rule_kind(p), _rule_text(p), rules.kinks.get(p, "")))
    return Table(
        ("primitive", "rule", "derivative as declared", "at kinks"),
        rows,
        title="adlab's rule table",
        note="Elementwise partials are functions of (arguments..., out); jvp and vjp are "
        "derived from them.",
    )


def _all_primitives() -> list[Primitive]:
    """Every primitive with a rule, one per name: a user primitive defined again (a notebook
    cell run twice) shows its newest definition; the library's own names are never replaced."""
    by_name: dict[str, Primitive] = {}
    for registry in (rules.partials, rules.jvps, rules.vjps):
        for p in registry:
            first = by_name.get(p.name)
            if first is None or not _in_the_library(first):
                by_name[p.name] = p
    return list(by_name.values())


def _in_the_library(prim: Primitive) -> bool:
    return (getattr(prim.impl, "__module__", None) or "").startswith("adlab.")


def _rule_text(prim: Primitive) -> str:
    fns = rules.partials.get(prim)
    if fns is not None and rules.declared.get(prim) is fns:
        args = _lambda_args(fns)
        texts = [
            f"∂/∂{a} = {_source_of(fn, prim, i) if callable(fn) else repr(fn)}"
            for i, (a, fn) in enumerate(zip(args, fns))
            if fn is not None
        ]
        return ";  ".join(texts)
    decl = rules.declared.get(prim)
    if callable(decl):
        return f"partials: {decl.__name__}"
    if isinstance(decl, tuple) and decl and decl[0] == "linear":
        return f"transpose: {decl[1].__name__}"
    if isinstance(decl, tuple):
        return ", ".join(f"{k}: {fn.__name__}" for k, fn in zip(("jvp", "vjp"), decl) if fn)
    return ""


def _lambda_args(fns: Sequence[Any]) -> list[str]:
    for fn in fns:
        code = getattr(fn, "__code__", None)
        if code is not None:
            return list(code.co_varnames[: code.co_argcount - 1])
    return ["x", "y", "z"][: len(fns)]


@functools.cache
def _module_lambdas(filename: str) -> dict[int, list[ast.Lambda]]:
    with open(filename, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    by_line: dict[int, list[ast.Lambda]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            by_line.setdefault(node.lineno, []).append(node)
    for nodes in by_line.values():
        nodes.sort(key=lambda n: n.col_offset)
    return by_line


def _source_of(fn: Callable, prim: Primitive, i: int) -> str:
    """The expression of a partial written as a lambda, read back from its source."""
    code = fn.__code__
    try:
        on_line = _module_lambdas(inspect.getsourcefile(fn))[code.co_firstlineno]
    except (OSError, TypeError, KeyError):
        return fn.__name__
    # several partials of one primitive may share a line: count the earlier ones
    same_line = [
        j for j, g in enumerate(rules.partials[prim][:i])
        if callable(g) and g.__code__.co_firstlineno == code.co_firstlineno
    ]  # fmt: skip
    k = len(same_line)
    return ast.unparse(on_line[k].body) if k < len(on_line) else fn.__name__
