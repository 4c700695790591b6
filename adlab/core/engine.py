"""The engine protocol: what every differentiation engine offers the API, and what it counts.

An :class:`Engine` is a small explicit object, one per mode::

    Engine(name, jvp=..., vjp=..., jvp_chunk=None, grad_function=None)

``jvp(f, primals, tangents) -> (outs, out_dots)`` pushes tangents forward;
``vjp(f, primals) -> (outs, pullback)`` returns a pullback from one cotangent per
output to one cotangent per primal. ``f`` takes the flat tuple of primals and
returns a tuple of outputs. ``None`` means "held constant" everywhere: a ``None``
tangent leaves its input a plain value, a ``None`` cotangent gives its output no
derivative. An engine offers at least one of the two; the API derives everything
else (``grad``, ``jacobian``, ``hessian`` ...) once, for every engine. Optional:
``jvp_chunk(f, primals, directions)`` carries several directions in one pass;
``grad_function(f, argnums)`` gives a gradient the same engine can transform again.

When the API differentiates a user's function it passes a :class:`Function`: the
user's callable, its arguments and ``argnums`` stay readable, so an engine that
reads source code (sct) or names symbols after parameters (symbolic) gets them
explicitly instead of guessing.

Engines count their own work with :func:`count` (``calls`` of the function or of
code generated from it, forward ``passes``, reverse ``sweeps``); ``ad.counting()``
reads the counters, which are per context like all transformation state.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from adlab.core.tree import LEAF, TreeDef, flatten, leaf_paths, unflatten
from adlab.core.values import argument_names, as_primal, like_primal, output_leaves


@dataclass(frozen=True)
class Engine:
    """One differentiation mode: its name and its protocol functions (see the module
    docstring); ``None`` for a part it does not offer."""

    name: str
    jvp: Callable[..., tuple[tuple, tuple]] | None = None
    vjp: Callable[..., tuple[tuple, Callable]] | None = None
    jvp_chunk: Callable[..., tuple[tuple, list]] | None = None
    grad_function: Callable[..., Callable] | None = None

    def __post_init__(self) -> None:
        if self.jvp is None and self.vjp is None:
            raise ValueError(f"the engine {self.name!r} offers neither a jvp nor a vjp")

    def __repr__(self) -> str:
        parts = [k for k in ("jvp", "vjp", "jvp_chunk", "grad_function") if getattr(self, k)]
        return f"<adlab engine {self.name!r}: {', '.join(parts)}>"


# ---------------------------------------------------------------------------
# Counting


class Cost:
    """What differentiating cost, counted by ``ad.counting()``: ``calls`` of the function (or
    runs of the code an engine generated for it; with nested derivatives, the calls of the
    inner derivative functions count too), forward ``passes`` (one per jvp, carrying one
    chunk of directions, and one per vjp's recording run) and reverse ``sweeps`` (one per
    pullback call)."""

    __slots__ = ("calls", "passes", "sweeps")

    def __init__(self) -> None:
        self.calls = self.passes = self.sweeps = 0

    def __repr__(self) -> str:
        return f"Cost(calls={self.calls}, passes={self.passes}, sweeps={self.sweeps})"


_counters: contextvars.ContextVar[tuple[Cost, ...]] = contextvars.ContextVar(
    "adlab_counters", default=()
)


@contextmanager
def counting() -> Iterator[Cost]:
    """Count the calls, forward passes and reverse sweeps of the derivatives taken inside
    (in this thread or task).

    >>> import adlab as ad, numpy as np
    >>> with ad.counting() as cost:
    ...     _ = ad.jacobian(lambda x: ad.sum(x ** 2), mode="forward")(np.ones(5))
    >>> cost.passes
    5
    """
    cost = Cost()
    token = _counters.set((*_counters.get(), cost))
    try:
        yield cost
    finally:
        _counters.reset(token)


def count(what: str, n: int = 1) -> None:
    """Add ``n`` to ``what`` ("calls", "passes" or "sweeps") of every counter running here."""
    for cost in _counters.get():
        setattr(cost, what, getattr(cost, what) + n)


def counted_pullback(pullback: Callable[[Sequence[Any]], tuple], name: str) -> Callable:
    """``pullback``, counting one reverse sweep per call."""

    def engine_pullback(out_bars: Sequence[Any]) -> tuple:
        count("sweeps")
        return pullback(out_bars)

    engine_pullback.__name__ = engine_pullback.__qualname__ = f"{name}_pullback"
    return engine_pullback


# ---------------------------------------------------------------------------
# The user's function, as engines see it


class Function:
    """``fn(*args, **kwargs)`` as a function of the flat leaves of the arguments at
    ``argnums`` (``self(*leaves) -> tuple of output leaves``), with everything about the
    user's call kept readable: ``fn``, ``args``, ``kwargs``, ``argnums``, ``trees`` (the
    structure of each differentiated argument), ``leaves`` (the primals, ints promoted to
    floats) and, after a call, ``out_tree``. Calls are counted.
    """

    def __init__(self, fn: Callable, args: tuple, kwargs: dict,
                 argnums: tuple[int, ...]) -> None:  # fmt: skip
        self.fn, self.args, self.kwargs, self.argnums = fn, args, kwargs, argnums
        self.trees: list[TreeDef] = []
        self.leaves: list[Any] = []
        self.all_leaves = True  # no structures to rebuild
        for i in argnums:
            if type(args[i]) is float:  # the common case: a leaf already, as as_primal keeps it
                self.trees.append(LEAF)
                self.leaves.append(args[i])
                continue
            leaves, tree = flatten(args[i])
            self.trees.append(tree)
            self.leaves += [as_primal(x, f"argument {i}") for x in leaves]
            self.all_leaves = self.all_leaves and tree is LEAF
        self.out_tree: TreeDef | None = None

    def __call__(self, *leaves: Any) -> tuple:
        count("calls")
        out_leaves, self.out_tree = output_leaves(self.fn(*self.arguments(leaves), **self.kwargs))
        return tuple(out_leaves)

    def arguments(self, leaves: Sequence[Any]) -> list[Any]:
        """The user's positional arguments with ``leaves`` in place of the differentiated ones."""
        args = list(self.args)
        if self.all_leaves:
            for i, leaf in zip(self.argnums, leaves):
                args[i] = leaf
            return args
        start = 0
        for i, tree in zip(self.argnums, self.trees):
            args[i] = unflatten(tree, leaves[start : start + tree.num_leaves])
            start += tree.num_leaves
        return args

    def names(self) -> list[str]:
        """A name per leaf: the parameter's name (``x``), or its path (``p[0]``, ``p['w']``)."""
        from_params = argument_names(self.fn, len(self.args))
        names: list[str] = []
        start = 0
        for i, tree in zip(self.argnums, self.trees):
            leaves = self.leaves[start : start + tree.num_leaves]
            start += tree.num_leaves
            names += leaf_paths(unflatten(tree, leaves), from_params[i])
        return names

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
