"""The JAX-style user API, written once over the engines' small protocol.

Every engine offers ``vjp(f, primals)`` and/or ``jvp(f, primals, tangents)`` on
flat tuples of floats/arrays (``f`` returns a tuple of outputs; a pullback takes
``None`` for an output's zero cotangent). Everything a user calls — ``grad``,
``value_and_grad``, ``jacobian``, ``hessian``, ``derivative`` — is derived here
from those two, once, for every engine; this module also handles argument
structures (tuples, lists, dicts) and ``argnums``.
An engine that transforms functions may also offer ``grad_function(f, argnums)``:
the gradient as a function it can transform again (:func:`grad_to_transform`, for
``hessian`` and second-order checks in one mode).
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Primitive
from adlab.core.tangents import ones_like, shape_of, zeros_like
from adlab.core.tree import LEAF, TreeDef, flatten, unflatten
from adlab.core.values import as_primal, like_primal, output_leaves
from adlab.engines import reverse
from adlab.engines.sct import protocol as sct_protocol
from adlab.ops.scalar import KINKS
from adlab.viz.tables import Table

MODES = ("numeric", "symbolic", "forward", "reverse", "sct")
"""Every differentiation mode adlab knows, in the order of the lecture."""

_ENGINES: dict[str, ModuleType] = {"reverse": reverse, "sct": sct_protocol}

Argnums = int | Sequence[int]


def available_modes() -> tuple[str, ...]:
    """The modes whose engines this version has, in the order of :data:`MODES`."""
    return tuple(m for m in MODES if m in _ENGINES)


def _engine(mode: str) -> ModuleType:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(map(repr, MODES))}")
    engine = _ENGINES.get(mode)
    if engine is None:
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


def _vjp(mode: str, f: Callable, primals: Sequence[Any]) -> tuple[tuple, Callable]:
    engine = _engine(mode)
    if hasattr(engine, "vjp"):
        return engine.vjp(f, primals)
    raise NotImplementedError(f"mode={mode!r} offers no vjp")  # pragma: no cover


def _jvp(mode: str, f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    engine = _engine(mode)
    if hasattr(engine, "jvp"):
        return engine.jvp(f, primals, tangents)
    return _jvp_by_transposing_vjp(mode, f, primals, tangents)


def _jvp_by_transposing_vjp(mode: str, f: Callable, primals: Sequence, tangents: Sequence):
    """J·t from a reverse engine alone: the pullback u ↦ uᵀJ is linear in u, and the
    pullback of *that* map, applied to t, is J·t (the "double vjp" trick)."""
    outs, pullback = _vjp(mode, f, primals)
    zero_cts = tuple(zeros_like(o) for o in outs)
    _, pullback_of_pullback = _vjp(mode, lambda *u: pullback(u), zero_cts)
    return outs, pullback_of_pullback(tuple(tangents))


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


def jacobian(f: Callable, argnums: Argnums = 0, *, mode: str = "reverse") -> Callable:
    """The Jacobian, shaped ``out.shape + arg.shape`` for each differentiated argument.

    Reverse-type modes build it row by row (one pullback per output element).
    Structured outputs (a tuple of arrays, say) give a Jacobian per output, in
    the output's structure; so ``hessian(f, argnums=(0, 1))`` gives the blocks.

    >>> import adlab as ad, numpy as np
    >>> ad.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        flat = _Flat(f, args, kwargs, _check_argnums(argnums, len(args)))
        outs, pullback = _vjp(mode, flat, flat.leaves)
        # None, not zeros, for the other outputs: a zero cotangent times an infinite
        # partial of another output (sqrt at 0) would make this row nan.
        no_cts = [None] * len(outs)
        per_output = []
        for i, out in enumerate(outs):
            out_shape = shape_of(out)
            rows = []
            for k in range(int(np.prod(out_shape))):
                basis = np.zeros(out_shape, dtype=getattr(out, "dtype", np.float64))
                basis.flat[k] = 1
                cts = list(no_cts)
                cts[i] = basis if out_shape else float(basis)
                rows.append(pullback(tuple(cts)))
            blocks = [
                np.reshape(np.stack([r[j] for r in rows]), out_shape + shape_of(leaf))
                if rows
                else np.zeros(out_shape + shape_of(leaf), dtype=getattr(leaf, "dtype", np.float64))
                for j, leaf in enumerate(flat.leaves)
            ]
            per_output.append(_pick(flat.split(blocks), argnums))
        return unflatten(flat.out_tree, per_output)

    jacobian_f.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jacobian_f


def hessian(f: Callable, argnums: Argnums = 0, *, mode: str | tuple[str, str] = "reverse"):
    """The matrix of second derivatives: the Jacobian of the gradient.

    ``mode`` is one mode for both levels, or ``(outer, inner)`` (the inner one
    computes the gradient, the outer one differentiates it again).

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
        return jvp(lambda u: f(u, *args, **kwargs), (x,), (1.0,), mode=mode)[1]

    derivative_f.__name__ = f"derivative({getattr(f, '__name__', 'f')})"
    return derivative_f


# ---------------------------------------------------------------------------
# The rule table, as a table


def rule_table() -> Table:
    """Every primitive of the table with how its derivative is declared, and its kink convention.

    In a notebook it shows as an HTML table; ``.rows`` has the data.
    """
    rows = []
    for p in _all_primitives():
        rows.append((p.name, rules.rule_kind(p), _rule_text(p), KINKS.get(p.name, "")))
    return Table(
        ("primitive", "rule", "derivative as declared", "at kinks"),
        rows,
        title="adlab's rule table",
        note="Elementwise partials are functions of (arguments..., out); jvp and vjp are "
        "derived from them.",
    )


def _all_primitives() -> list[Primitive]:
    seen: dict[Primitive, None] = {}
    for registry in (rules.partials, rules.jvps, rules.vjps):
        for p in registry:
            seen.setdefault(p, None)
    return list(seen)


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
