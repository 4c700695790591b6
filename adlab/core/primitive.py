"""Primitive operations, and the boxes that intercept them.

A :class:`Primitive` is one entry of adlab's table: a name, an implementation on
plain values (floats and numpy arrays), and derivative rules registered in
:mod:`adlab.core.rules`. Calling a primitive dispatches on its arguments:

* only plain values  -> the implementation runs;
* some :class:`Box`  -> the box with the highest level handles the call.

A box wraps a value for one transformation: a reverse-mode ``Variable``, a
forward-mode ``Dual``, a symbolic expression. Every transformation gets a fresh
level from :func:`new_level`, and levels only grow, so the innermost (most
recent) transformation always handles a call first and sees the boxes of outer
transformations as ordinary values. That single rule keeps nested derivatives
apart (no perturbation confusion) for every combination of engines.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from adlab.core import rules

_levels = itertools.count(1)

PRIMITIVES: dict[str, Primitive] = {}
"""The library's primitives by name (the first one registered under a name keeps it),
for value types that build expressions and need ``add`` or ``mul`` without importing
``adlab.ops``."""


def new_level() -> int:
    """A fresh, never reused transformation level (higher = more recent)."""
    return next(_levels)


class Box:
    """Base class of every value that intercepts primitive calls.

    Subclasses set ``_level`` (per instance or per class) and implement
    ``_process(prim, args, params)``, which receives the full argument tuple of
    the call and must return the call's result.
    """

    __slots__ = ()
    _level: int = 0

    def _process(self, prim: Primitive, args: tuple, params: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


class Primitive:
    """One operation of the table: ``prim(*args, **params)``.

    ``args`` are the operands (the things one differentiates with respect to);
    ``params`` are static settings such as ``axis`` or ``shape``. ``symbol`` is
    an infix operator (``"+"``) used when programs and expressions are printed.
    A primitive with ``differentiable=False`` (comparisons, ``sign``) has zero
    derivative everywhere it is defined: engines pass its result through as a
    plain value.

    >>> import adlab as ad
    >>> ad.sin(0.0)
    0.0
    """

    __slots__ = ("__weakref__", "differentiable", "doc", "impl", "name", "symbol")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        symbol: str | None = None,
        differentiable: bool = True,
        doc: str | None = None,
    ) -> None:
        self.name = name
        self.impl = impl
        self.symbol = symbol
        self.differentiable = differentiable
        self.doc = doc if doc is not None else impl.__doc__
        PRIMITIVES.setdefault(name, self)

    def __call__(self, *args: Any, **params: Any) -> Any:
        __tracebackhide__ = True  # IPython and pytest hide this frame
        top = None
        for a in args:
            if isinstance(a, Box) and (top is None or a._level > top._level):
                top = a
        if top is None:
            return self.impl(*args, **params)
        return top._process(self, args, params)

    def __repr__(self) -> str:
        return f"<adlab primitive {self.name}>"

    def defrule(self, partials: Callable[..., tuple]) -> Callable[..., tuple]:
        """Declare this primitive's partial derivatives (a decorator).

        ``partials`` takes the primitive's arguments (and, optionally, a keyword
        ``out`` for its result) and returns one partial derivative per argument,
        written with adlab operations so every engine can use it::

            @softplus.defrule
            def softplus_partials(x):
                return (ad.sigmoid(x),)
        """
        return rules.defrule(self, partials)


def primitive(fn: Callable[..., Any]) -> Primitive:
    """Turn a function on plain values into a primitive of the table (a decorator).

    Declare its derivative with ``.defrule``; until then, differentiating it
    raises :class:`~adlab.DifferentiationError` naming it::

        @ad.primitive
        def softplus(x):
            return np.logaddexp(0.0, x)

        @softplus.defrule
        def softplus_partials(x):
            return (ad.sigmoid(x),)
    """
    return Primitive(fn.__name__, fn, doc=fn.__doc__)
