"""Which values adlab differentiates with respect to, and in what form results come back."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Box
from adlab.core.tree import LEAF, TreeDef, flatten


def one_argnum(argnums: Any) -> bool:
    """Whether ``argnums`` names one argument: an int (numpy's too), not a bool."""
    return isinstance(argnums, int | np.integer) and not isinstance(argnums, bool | np.bool_)


def argnum_list(argnums: Any) -> tuple:
    """``argnums`` as a tuple of what it names (not yet checked against a function): an int
    is one; a bool, float or string is refused, naming ``argnums``."""
    if one_argnum(argnums):
        return (argnums,)
    if isinstance(argnums, str | bytes | float | bool) or not hasattr(argnums, "__iter__"):
        raise TypeError(f"argnums={argnums!r}: give an int, or a tuple of ints")
    return tuple(argnums)


def as_primal(x: Any, what: str = "the input") -> Any:
    """``x`` as a differentiable input: floats and float arrays as they are (dtype kept),
    ints promoted to float; boxes of other transformations pass through.

    Anything else raises :class:`DifferentiationError` naming ``what``.
    """
    if isinstance(x, Box | float):
        return x
    if isinstance(x, bool | np.bool_):
        raise DifferentiationError(f"{what} is a bool; differentiate with respect to numbers")
    if isinstance(x, int | np.integer) and not isinstance(x, np.timedelta64):
        return float(x)
    if isinstance(x, np.floating):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "iub":
            return x.astype(np.float64)
        if x.dtype.kind == "f":
            return x
    if isinstance(x, complex | np.complexfloating) or getattr(x, "dtype", None) is not None:
        raise DifferentiationError(
            f"{what} has type {getattr(x, 'dtype', type(x).__name__)}; adlab differentiates "
            "real functions of floats and float arrays"
        )
    raise DifferentiationError(
        f"{what} is a {type(x).__name__}; adlab differentiates with respect to floats, "
        "numpy arrays, and tuples/lists/dicts of them"
    )


def like_primal(ct: Any, primal: Any) -> Any:
    """A derivative for a Python-float input is a Python float, not a 0-d numpy value; one
    for a 0-d array input is a 0-d array of its dtype, not a numpy scalar."""
    if type(primal) is float:
        if type(ct) is not float and isinstance(ct, np.floating | np.ndarray) and np.ndim(ct) == 0:
            return float(ct)
        return ct
    if isinstance(primal, np.ndarray) and primal.ndim == 0 and isinstance(ct, float | np.floating):
        return np.asarray(ct, dtype=primal.dtype)
    return ct


def output_leaves(out: Any) -> tuple[list[Any], TreeDef]:
    """The leaves of a function's output, and its structure; a leaf that is not a real
    number or array raises :class:`DifferentiationError` (a string, None, a set, a
    generator, a complex number, or a value kept from a derivative that has finished)."""
    if not isinstance(out, dict | tuple | list):  # one leaf, as flatten() would find
        check_output(out)
        return [out], LEAF
    leaves, tree = flatten(out)
    for o in leaves:
        check_output(o)
    return leaves, tree


def check_output(o: Any) -> None:
    """Refuse an output leaf that is not a real number or array (see :func:`output_leaves`)."""
    if isinstance(o, Box):
        if o._finished():
            raise DifferentiationError(
                f"the function returned a {type(o).__name__} from a derivative that has "
                "already finished (kept in a list, a cache or a global by an earlier call?); "
                "it is only a number now: return a value computed from this call's inputs"
            )
        value = getattr(o, "value", None)  # the number it carries, if it shows one
        if value is None:
            return
        o = value
    if isinstance(o, float | int | np.floating | np.integer | np.bool_):
        return
    if isinstance(o, np.ndarray) and o.dtype.kind in "fiub":
        return
    if isinstance(o, Box):  # a value of an outer transformation
        return
    if isinstance(o, complex | np.complexfloating) or getattr(o, "dtype", None) is not None:
        what = f"a value of type {getattr(o, 'dtype', type(o).__name__)}"
        fix = "adlab differentiates real functions: return the real part, or abs(z) ** 2"
    elif isinstance(o, set | frozenset):
        what, fix = "a set", "a set has no order for its derivatives; return a tuple or a list"
    elif inspect.isgenerator(o) or isinstance(o, Iterator):
        what = "a generator (or another iterator)"
        fix = "its values are computed later, outside the derivative; return a list or an array"
    else:
        what = type(o).__name__
        fix = "it must return a float, an array, or a tuple/list/dict of them"
    raise DifferentiationError(f"the function returned {what}; {fix}")


def _buffer(a: np.ndarray) -> int:
    """The identity of the buffer an array (or a view of it) looks into."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return id(a if a.base is None else a.base)


def unshared(results: Sequence[Any], given: Sequence[Any]) -> list[Any]:
    """``results``, with copies of the arrays that share memory with another result or
    with one of ``given`` (the seeds the caller passed in).

    A backward sweep passes adjoints on without copying them where a partial is ±1
    (``a + b`` gives ``a`` and ``b`` the same array) and views them where a rule
    reshapes; engines copy here, once, where they hand results out, so the
    caller may update them in place (``g *= lr``).

    >>> g = np.ones(2)
    >>> a, b = unshared([g, g], given=[])
    >>> a is g, b is g, np.shares_memory(a, b)
    (True, False, False)
    """
    taken = {_buffer(g) for g in given if isinstance(g, np.ndarray)}
    out = list(results)
    for i, r in enumerate(out):
        if isinstance(r, np.ndarray):
            m = _buffer(r)
            if m in taken:
                out[i] = r = r.copy()
                m = id(r)
            taken.add(m)
    return out


def argument_names(f: Callable[..., Any], n: int) -> list[str]:
    """Names for the first ``n`` positional arguments of ``f``: its parameters' names
    (``args0, args1 ...`` for ``*args``), then ``x0, x1 ...`` where it has none.

    >>> argument_names(lambda x, y, *rest: None, 4)
    ['x', 'y', 'rest0', 'rest1']
    """
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names: list[str] = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            names += [f"{p.name}{i}" for i in range(n - len(names))]
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    names = names[:n]
    return names + [f"x{i}" for i in range(len(names), n)]
