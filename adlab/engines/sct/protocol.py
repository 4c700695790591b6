"""The engine protocol of ``mode="sct"``: ``vjp(f, primals)``, ``jvp(f, primals, tangents)``
and ``grad_function(f, argnums)``.

A source transformation needs the user's function itself, not a function of flat
leaves: when the API passes a :class:`~adlab.core.engine.Function`, its ``fn``,
arguments and ``argnums`` are read from it (any other ``f`` is transformed as it is,
every argument differentiated). Generated code runs instead of ``f``, so each run
counts as a call and a pass; each pullback as a sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adlab.core.engine import Engine, Function, count, counted_pullback
from adlab.core.tangents import zeros_like
from adlab.core.tree import TreeDef, flatten, unflatten
from adlab.core.values import output_leaves
from adlab.engines.sct.adjoint import left_out
from adlab.engines.sct.pipeline import Transformed

__all__ = ["ENGINE", "grad_function", "jvp", "vjp"]


def grad_function(f: Callable[..., Any], argnums: int | Sequence[int]) -> Transformed:
    """The gradient of ``f`` as generated code: ``ad.grad(f, mode="sct")`` is a function sct
    can transform again, so ``ad.hessian(f, mode="sct")`` is sct over sct."""
    return Transformed(f, "grad", argnums)


def _unpack(f: Any, primals: Sequence[Any]) -> tuple[Any, list, dict, tuple[int, ...]]:
    """The user's function, its arguments with the primals in place, and argnums."""
    if isinstance(f, Function):
        return f.fn, f.arguments(primals), dict(f.kwargs), tuple(f.argnums)
    return f, list(primals), {}, tuple(range(len(primals)))


def _outputs(f: Any, out: Any) -> tuple[list[Any], Any]:
    leaves, tree = output_leaves(out)
    if isinstance(f, Function):
        f.out_tree = tree
    return leaves, tree


def _run() -> None:
    count("calls")
    count("passes")


def vjp(f: Any, primals: Sequence[Any]) -> tuple[tuple, Callable]:
    """Run the generated adjoint code: ``(outs, pullback)`` over flat tuples of leaves.

    Where the items of a returned tuple (list, dict) with a None cotangent can be left out
    (:func:`~adlab.engines.sct.adjoint.left_out`: the returned variable is read by
    nothing but the return), the pullback is the one of code generated without their
    adjoint blocks (the function runs again for it), so an infinite partial of one output
    cannot make the others' rows nan (zero times inf). Elsewhere a None cotangent counts
    as zero, and such rows can be nan where the reverse engine's are not.
    """
    fn, args, kwargs, argnums = _unpack(f, primals)
    transformed = Transformed(fn, "vjp", argnums)
    _run()
    out, pullback = transformed(*args, **kwargs)
    analysed = transformed.compiled.generated.analysed
    leaves, tree = _outputs(f, out)
    pullbacks = {(): pullback}

    def sct_pullback(out_bars: Sequence[Any]) -> tuple:
        dead = _dead_items(tree, out_bars)
        if dead is None:  # no cotangent at all
            return tuple(zeros_like(p) for p in primals)
        dead = left_out(analysed, dead)  # (): the plain pullback's code is the same
        if dead not in pullbacks:
            count("calls")
            pullbacks[dead] = Transformed(fn, "vjp", argnums, dead=dead)(*args, **kwargs)[1]
        out_bar = unflatten(tree, [0.0 if b is None else b for b in out_bars])
        cts = pullbacks[dead](out_bar)
        return tuple(leaf for ct in cts for leaf in flatten(ct)[0])

    return tuple(leaves), counted_pullback(sct_pullback, "sct")


def _dead_items(tree: TreeDef, out_bars: Sequence[Any]) -> tuple[int, ...] | None:
    """The items of the output (positions in a tuple, list or dict) whose leaves all have a
    None cotangent; None when no leaf has a cotangent."""
    if all(b is None for b in out_bars):
        return None
    if tree.kind is None:
        return ()
    dead, start = [], 0
    for k, child in enumerate(tree.children):
        if all(b is None for b in out_bars[start : start + child.num_leaves]):
            dead.append(k)
        start += child.num_leaves
    return tuple(dead)


def jvp(f: Any, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[tuple, tuple]:
    """Run the generated tangent code: ``(outs, out_dots)`` over flat tuples of leaves (a
    ``None`` tangent holds its input constant: the code gets an exact zero for it)."""
    fn, args, kwargs, argnums = _unpack(f, primals)
    tangents = [zeros_like(x) if t is None else t for x, t in zip(primals, tangents)]
    _, dot_args, _, _ = _unpack(f, tangents)
    transformed = Transformed(fn, "jvp", argnums)
    names = transformed.tangent_names(transformed.kinds(tuple(args), kwargs))
    dots = {name: dot_args[i] for name, i in zip(names, argnums)}
    _run()
    out, out_dot = transformed(*args, **kwargs, **dots)
    leaves, _ = _outputs(f, out)
    return tuple(leaves), tuple(flatten(out_dot)[0])


ENGINE = Engine("sct", jvp=jvp, vjp=vjp, grad_function=grad_function)
