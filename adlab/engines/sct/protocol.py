"""The engine protocol the API calls: ``vjp(f, primals)``, ``jvp(f, primals, tangents)``
and ``grad_function(f, argnums)``.

``f`` is the API's wrapper of a user function over flat leaves; a source
transformation needs the user's function itself, so it is read from the
wrapper by duck typing (``.f .args .kwargs .argnums .trees``). Registered in
``adlab.api`` as ``mode="sct"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adlab.core.tangents import zeros_like
from adlab.core.tree import TreeDef, flatten, unflatten
from adlab.core.values import output_leaves
from adlab.engines.sct.adjoint import left_out
from adlab.engines.sct.pipeline import Recent, Transformed

RUNS_GENERATED_CODE = True
"""vjp and jvp run code generated from ``f``'s source instead of calling ``f`` (for counting)."""

_transformed = Recent()  # fn -> {(form, argnums, dead): Transformed}


def _derivative(fn: Callable[..., Any], form: str, argnums: int | Sequence[int],
                dead: tuple[int, ...] = ()) -> Transformed:  # fmt: skip
    cache = _transformed.entry(fn)
    key = (form, argnums, dead)
    if key not in cache:
        cache[key] = Transformed(fn, form, argnums, dead=dead)
    return cache[key]


def grad_function(f: Callable[..., Any], argnums: int | Sequence[int]) -> Transformed:
    """The gradient of ``f`` as generated code: ``ad.grad(f, mode="sct")`` is a function sct
    can transform again, so ``ad.hessian(f, mode="sct")`` is sct over sct."""
    return _derivative(f, "grad", argnums if isinstance(argnums, int) else tuple(argnums))


def _unpack(f: Any, primals: Sequence[Any]) -> tuple[Any, list, dict, tuple[int, ...]]:
    """The user's function, its arguments with the primals in place, and argnums."""
    if all(hasattr(f, a) for a in ("f", "args", "kwargs", "argnums", "trees")):
        args, start = list(f.args), 0
        for i, tree in zip(f.argnums, f.trees):
            args[i] = unflatten(tree, primals[start : start + tree.num_leaves])
            start += tree.num_leaves
        return f.f, args, dict(f.kwargs), tuple(f.argnums)
    return f, list(primals), {}, tuple(range(len(primals)))


def _outputs(f: Any, out: Any) -> tuple[list[Any], Any]:
    leaves, tree = output_leaves(out)
    if hasattr(f, "out_tree"):
        f.out_tree = tree
    return leaves, tree


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
    transformed = _derivative(fn, "vjp", argnums)
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
            pullbacks[dead] = _derivative(fn, "vjp", argnums, dead)(*args, **kwargs)[1]
        out_bar = unflatten(tree, [0.0 if b is None else b for b in out_bars])
        cts = pullbacks[dead](out_bar)
        return tuple(leaf for ct in cts for leaf in flatten(ct)[0])

    return tuple(leaves), sct_pullback


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
    """Run the generated tangent code: ``(outs, out_dots)`` over flat tuples of leaves."""
    fn, args, kwargs, argnums = _unpack(f, primals)
    _, dot_args, _, _ = _unpack(f, tangents)
    transformed = _derivative(fn, "jvp", argnums)
    names = transformed.tangent_names(transformed.kinds(tuple(args), kwargs))
    dots = {name: dot_args[i] for name, i in zip(names, argnums)}
    out, out_dot = transformed(*args, **kwargs, **dots)
    leaves, _ = _outputs(f, out)
    return tuple(leaves), tuple(flatten(out_dot)[0])
