"""The JAX-style user API, written once over the engines' protocol.

Every engine is an :class:`~adlab.core.engine.Engine`: ``vjp(f, primals)`` and/or
``jvp(f, primals, tangents)`` on flat tuples of floats/arrays (``f`` returns a
tuple of outputs; ``None`` holds an input constant or gives an output no
cotangent). Everything a user calls — ``grad``, ``value_and_grad``, ``jacobian``,
``hessian``, ``derivative`` — is derived here from those two, once, for every
engine: an engine with only a jvp gets its pullbacks from Jacobian columns (one
plain forward pass per input component; several per pass only when a ``chunk`` is
asked for), one with only a vjp its jvps by transposing the pullback. The mode is
looked up once, when the derivative function is made. This module also handles
argument structures (tuples, lists, dicts) and ``argnums``; engines count their own
passes and sweeps (:func:`counting`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from adlab.core.engine import Cost, Engine, Function, counting
from adlab.core.errors import DifferentiationError
from adlab.core.tangents import ones_like, shape_of, zeros_like
from adlab.core.tree import flatten, unflatten
from adlab.core.values import argnum_list, as_primal, check_output, like_primal, one_argnum
from adlab.engines import forward, numeric, reverse
from adlab.engines.sct import protocol as sct_protocol
from adlab.engines.symbolic import protocol as symbolic_protocol
from adlab.ops import array as A
from adlab.ops import scalar as S

__all__ = [
    "MODES", "Cost", "available_modes", "counting", "derivative", "engine", "grad",
    "grad_to_transform", "hessian", "jacobian", "jvp", "value_and_grad", "vjp",
]  # fmt: skip

MODES = ("numeric", "symbolic", "forward", "reverse", "sct")
"""Every differentiation mode adlab knows, in the order of the lecture."""

_ENGINES: dict[str, Engine] = {
    "numeric": numeric.ENGINE,
    "symbolic": symbolic_protocol.ENGINE,
    "forward": forward.ENGINE,
    "reverse": reverse.ENGINE,
    "sct": sct_protocol.ENGINE,
}

Argnums = int | Sequence[int]


def available_modes() -> tuple[str, ...]:
    """The modes whose engines this version has, in the order of :data:`MODES`."""
    return tuple(m for m in MODES if m in _ENGINES)


def engine(mode: str) -> Engine:
    """The engine of ``mode`` (a clear error for an unknown one)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(map(repr, MODES))}")
    found = _ENGINES.get(mode)
    if found is None:
        raise NotImplementedError(
            f"mode={mode!r} is not available in this version of adlab: its engine has not been "
            f"built yet. Available: {', '.join(map(repr, _ENGINES))}"
        )
    return found


# ---------------------------------------------------------------------------
# Argument structures


def _check_argnums(argnums: Argnums, nargs: int) -> tuple[int, ...]:
    """``argnums`` as non-negative positions (repeats kept: each gets its own result)."""
    nums = argnum_list(argnums)
    if not nums:
        raise ValueError("argnums is empty: name at least one argument to differentiate")
    for a in nums:
        if not one_argnum(a) or not -nargs <= a < nargs:
            raise ValueError(
                f"argnums={argnums!r}, but the function was called with {nargs} positional "
                "argument(s)"
            )
    return tuple(int(a) % nargs for a in nums)


def _function(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...]) -> Function:
    """``f`` at ``args`` as a function of the leaves of the arguments ``nums`` names (each
    once, however often it is named)."""
    return Function(f, args, kwargs, nums if len(nums) == 1 else tuple(dict.fromkeys(nums)))


def _pick(results: list[Any], argnums: Argnums, nums: tuple[int, ...], fn: Function) -> Any:
    """The result for ``argnums``: one for an int, a tuple for a sequence; an argument named
    twice gets the same result twice (as JAX gives), in memory of its own."""
    if one_argnum(argnums):
        return results[0]
    if fn.argnums == nums:
        return tuple(results)
    picked, seen = [], set()
    for n in nums:
        result = results[fn.argnums.index(n)]
        if n in seen:
            leaves, tree = flatten(result)
            result = unflatten(tree, [np.copy(x) if isinstance(x, np.ndarray) else x
                                      for x in leaves])  # fmt: skip
        seen.add(n)
        picked.append(result)
    return tuple(picked)


def _real(outs: Sequence[Any]) -> None:
    """Every output an engine computed is a real number or array (not complex)."""
    for o in outs:
        check_output(o)


# ---------------------------------------------------------------------------
# The engine protocol, completed


def _vjp(eng: Engine, f: Callable, primals: Sequence[Any]) -> tuple[tuple, Callable]:
    if eng.vjp is not None:
        return eng.vjp(f, primals)
    return _vjp_from_jacobian(eng, f, primals)


def _jvp(eng: Engine, f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    if eng.jvp is not None:
        return eng.jvp(f, primals, tangents)
    return _jvp_by_transposing_vjp(eng, f, primals, tangents)


def _jvps(eng: Engine, f: Callable, primals: Sequence, directions: Sequence) -> tuple[tuple, list]:
    """``(outs, [out_dots per direction])``: one pass carrying all of them where several are
    asked for and the engine carries chunks (forward mode), else one plain jvp each."""
    if eng.jvp_chunk is not None and len(directions) > 1:
        return eng.jvp_chunk(f, primals, directions)
    results = [_jvp(eng, f, primals, d) for d in directions]
    return results[0][0], [r[1] for r in results]


def _jvp_by_transposing_vjp(eng: Engine, f: Callable, primals: Sequence, tangents: Sequence):
    """J·t from a reverse engine alone: the pullback u ↦ uᵀJ is linear in u, and the
    pullback of *that* map, applied to t, is J·t (the "double vjp" trick)."""
    outs, pullback = _vjp(eng, f, primals)
    zero_cts = tuple(zeros_like(o) for o in outs)
    _, pullback_of_pullback = _vjp(eng, lambda *u: pullback(u), zero_cts)
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


def _columns(eng: Engine, f: Callable, primals: Sequence, chunk: int) -> tuple[tuple, list]:
    """The outputs and every column of the Jacobian (``d out / d input component``), by
    forward passes carrying ``chunk`` directions each: ⌈n / chunk⌉ passes."""
    directions = list(_basis(primals))
    if not directions:
        return tuple(f(*primals)), []
    columns: list[tuple] = []
    outs: tuple = ()
    for start in range(0, len(directions), chunk):
        outs, dots = _jvps(eng, f, primals, directions[start : start + chunk])
        columns += dots
    return outs, columns


def _vjp_from_jacobian(eng: Engine, f: Callable, primals: Sequence) -> tuple[tuple, Callable]:
    """A pullback for an engine that only pushes forward: the whole Jacobian, one column per
    input component (n plain passes), contracted with each cotangent."""
    outs, columns = _columns(eng, f, primals, 1)

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
    fn = Function(f, primals, {}, tuple(range(len(primals))))
    outs, flat_pullback = _vjp(engine(mode), fn, fn.leaves)
    _real(outs)
    out_tree = fn.out_tree

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
        return tuple(fn.split(flat_pullback(tuple(bars))))

    return unflatten(out_tree, outs), pullback


def jvp(
    f: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, mode: str = "forward"
) -> tuple[Any, Any]:
    """``(out, out_dot)``: ``f(*primals)`` and its directional derivative along ``tangents``
    (one per primal, in its structure and shape).

    >>> import adlab as ad
    >>> ad.jvp(lambda x: x ** 3, (2.0,), (1.0,), mode="reverse")
    (8.0, 12.0)
    """
    eng = engine(mode)
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"{len(primals)} primals but {len(tangents)} tangents")
    fn = Function(f, primals, {}, tuple(range(len(primals))))
    flat_tangents = []
    for i, (tan, tree) in enumerate(zip(tangents, fn.trees)):
        leaves, tan_tree = flatten(tan)
        if tan_tree != tree:
            raise ValueError(
                f"tangent {i} is a {type(tan).__name__}, but its primal is a "
                f"{type(primals[i]).__name__}: tangents must have the same structure as primals"
            )
        flat_tangents += [as_primal(t, "a tangent") for t in leaves]
    for i, (x, t) in enumerate(zip(fn.leaves, flat_tangents)):
        if shape_of(t) != shape_of(x):
            raise ValueError(
                f"tangent {i} has shape {shape_of(t)}, but its primal has shape {shape_of(x)}: "
                "a tangent has its primal's shape"
            )
    outs, out_dots = _jvp(eng, fn, fn.leaves, flat_tangents)
    _real(outs)
    return unflatten(fn.out_tree, outs), unflatten(fn.out_tree, out_dots)


def _gradient_at(f: Callable, argnums: Argnums, mode: str) -> Callable[[tuple, dict], tuple]:
    """``(args, kwargs) -> (f(*args, **kwargs), gradient)``, with what does not depend on the
    call (the engine, ``argnums`` as positions for a number of arguments) looked up once."""
    eng = engine(mode)
    vjp_of = eng.vjp or functools.partial(_vjp_from_jacobian, eng)
    checked: dict[int, tuple[int, ...]] = {}  # argnums as positions, per number of arguments

    def value_and_gradient(args: tuple, kwargs: dict) -> tuple[Any, Any]:
        nums = checked.get(len(args))
        if nums is None:
            nums = checked[len(args)] = _check_argnums(argnums, len(args))
        fn = _function(f, args, kwargs, nums)
        outs, pullback = vjp_of(fn, fn.leaves)
        (out,) = _scalar_output(outs, "grad")
        seed = 1.0 if type(out) is float else ones_like(out)
        return out, _pick(fn.split(pullback((seed,))), argnums, nums, fn)

    return value_and_gradient


def value_and_grad(f: Callable, argnums: Argnums = 0, *, mode: str = "reverse") -> Callable:
    """A function returning ``(f(*args), gradient)``; see :func:`grad`."""
    at = _gradient_at(f, argnums, mode)

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return at(args, kwargs)

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_grad_f


def grad(f: Callable, argnums: Argnums = 0, *, mode: str = "reverse") -> Callable:
    """The gradient of a scalar function, as a function of the same arguments.

    ``argnums`` picks the argument(s) to differentiate (an int gives one
    gradient, a tuple a tuple of them; an argument named twice gets its gradient
    twice); each gradient has its argument's shape and structure (floats, arrays,
    tuples/lists/dicts of them). Forward-only modes take one pass per input component.

    >>> import adlab as ad
    >>> ad.grad(lambda x, y: x * x * y)(3.0, 2.0)
    12.0
    >>> ad.grad(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    (12.0, 9.0)
    """
    at = _gradient_at(f, argnums, mode)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return at(args, kwargs)[1]

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return grad_f


def _scalar_output(outs: tuple, who: str) -> tuple:
    if len(outs) == 1 and type(outs[0]) is float:  # real and scalar: nothing to check
        return outs
    _real(outs)
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
    component); forward mode column by column, one plain forward pass per input
    component, or ``chunk`` input directions per pass (⌈n / chunk⌉ passes for n input
    components; count them with :func:`counting`; row-building modes take no chunks).
    Structured outputs (a tuple of arrays, say) give a Jacobian per output, in the
    output's structure; so ``hessian(f, argnums=(0, 1))`` gives the blocks.

    >>> import adlab as ad, numpy as np
    >>> ad.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    eng = engine(mode)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise ValueError(f"chunk must be a positive int (directions per pass), got {chunk!r}")

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        nums = _check_argnums(argnums, len(args))
        fn = _function(f, args, kwargs, nums)
        outs, blocks_of = (_by_rows if eng.vjp is not None else _by_columns)(eng, fn, chunk)
        _real(outs)
        per_output = []
        for i, out in enumerate(outs):
            blocks = [
                np.reshape(block, shape_of(out) + shape_of(leaf))
                if block is not None
                else np.zeros(shape_of(out) + shape_of(leaf), getattr(leaf, "dtype", np.float64))
                for block, leaf in zip(blocks_of(i), fn.leaves)
            ]
            per_output.append(_pick(fn.split(blocks), argnums, nums, fn))
        return unflatten(fn.out_tree, per_output)

    jacobian_f.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jacobian_f


def _by_rows(eng: Engine, fn: Function, chunk: int) -> tuple[tuple, Callable[[int], list]]:
    """The outputs, and per output its Jacobian blocks (one per input leaf) from one pullback
    per output component."""
    outs, pullback = _vjp(eng, fn, fn.leaves)

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
        return [np.stack([r[j] for r in rows]) if rows else None for j in range(len(fn.leaves))]

    return outs, blocks_of


def _by_columns(eng: Engine, fn: Function, chunk: int) -> tuple[tuple, Callable[[int], list]]:
    """The outputs, and per output its Jacobian blocks from forward passes (columns)."""
    outs, columns = _columns(eng, fn, fn.leaves, chunk)

    def blocks_of(i: int) -> list:
        blocks, start = [], 0
        for leaf in fn.leaves:
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
    eng = engine(mode)
    if eng.grad_function is not None:
        return eng.grad_function(f, argnums)
    return grad(f, argnums, mode=mode)


def derivative(f: Callable, *, mode: str = "forward") -> Callable:
    """The derivative of a function of one scalar: ``f'(x)`` (any output shape).

    >>> import adlab as ad
    >>> ad.derivative(lambda x: x ** 2 + 4 * x, mode="reverse")(2.0)
    8.0
    """
    engine(mode)

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
