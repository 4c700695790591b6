"""Transformations: levels that keep nested derivatives apart, and their per-context state.

Every derivative being taken is a :class:`Transformation`. Its ``level`` orders it
among the others: levels only grow, so the innermost (most recent) transformation
always handles a primitive call first and sees the boxes of outer ones as plain
values (see :mod:`adlab.core.primitive`). Its ``state`` says whether its boxes
compute: while ``RUNNING`` they do; ``PAUSED`` (inside :func:`no_grad`) they give
plain values and record nothing; once ``FINISHED`` (the transformed function has
returned) they refuse to take part in any new computation, and only show and
convert as the plain numbers they hold.

Which transformations are running is per context (:mod:`contextvars`): a thread or
a task that enters :func:`no_grad` pauses its own transformations only. Boxes
check their transformation's ``state`` on every operation, one attribute read, so
no global switch is ever consulted on the hot path.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Primitive, new_level

__all__ = [
    "FINISHED", "PAUSED", "RUNNING", "Transformation", "new_level", "no_grad", "running",
    "running_now", "stop_gradient",
]  # fmt: skip

RUNNING, PAUSED, FINISHED = 0, 1, 2


class Transformation:
    """One derivative being taken: its ``level`` and its ``state`` (RUNNING, PAUSED or
    FINISHED). Engines subclass it for their own bookkeeping (the reverse engine's tape)."""

    __slots__ = ("kind", "level", "state")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # the engine's name: "forward", "reverse", "symbolic" ...
        self.level = new_level()
        self.state = RUNNING

    def __repr__(self) -> str:
        state = ("running", "paused", "finished")[self.state]
        return f"<{self.kind} transformation {self.level}, {state}>"


_running: contextvars.ContextVar[tuple[Transformation, ...]] = contextvars.ContextVar(
    "adlab_running_transformations", default=()
)


class running:  # used as a function: ``with running(t):``
    """Run ``t`` for the duration of the block (in this context), then finish it: from then
    on its boxes refuse to compute, also when the block raises. (A class rather than a
    generator: a derivative of a small function pays for this on every call.)"""

    __slots__ = ("token", "transformation")

    def __init__(self, t: Transformation) -> None:
        self.transformation = t

    def __enter__(self) -> Transformation:
        self.token = _running.set((*_running.get(), self.transformation))
        return self.transformation

    def __exit__(self, kind: object, exc: object, tb: Any) -> None:
        _running.reset(self.token)
        self.transformation.state = FINISHED
        if (
            isinstance(exc, ValueError)
            and isinstance(exc.__cause__, DifferentiationError)
            and str(exc) == "setting an array element with a sequence."
        ):
            # numpy reports a box stored into a plain array (out[i] = x) as "setting an array
            # element with a sequence", caused by the box's refusal: the refusal names the fix
            raise exc.__cause__.with_traceback(tb) from None


def running_now(kind: str | None = None) -> tuple[Transformation, ...]:
    """The transformations running in this context, outermost first (of one ``kind``)."""
    now = _running.get()
    return now if kind is None else tuple(t for t in now if t.kind == kind)


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block, the transformations running in this context compute plain values and
    record nothing: what is computed here is a constant for their derivatives.

    Only the transformations already running when the block starts are paused (in this
    thread or task; another thread's derivatives are untouched): a derivative started inside
    the block differentiates as usual. Forward, reverse and symbolic mode honour it; sct
    refuses a ``with`` block inside the function it transforms, and numeric mode, which
    only evaluates the function at nearby points and so cannot hold the block constant,
    refuses it too (both say so).

    >>> import adlab as ad
    >>> def f(x):
    ...     with ad.no_grad():
    ...         scale = x * 2.0  # a constant as far as derivatives go
    ...     return scale * x
    >>> ad.grad(f)(3.0), ad.grad(f, mode="forward")(3.0), ad.grad(f, mode="symbolic")(3.0)
    (6.0, 6.0, 6.0)
    """
    paused = [t for t in _running.get() if t.state == RUNNING]
    if any(t.kind == "numeric" for t in paused):
        raise DifferentiationError(
            "numeric mode cannot hold an ad.no_grad() block constant: it differentiates by "
            "evaluating the whole function at nearby points. Differentiate this function with "
            "mode='reverse', 'forward' or 'symbolic'"
        )
    for t in paused:
        t.state = PAUSED
    try:
        yield
    finally:
        for t in paused:
            if t.state == PAUSED:
                t.state = RUNNING


def _identity(x: Any) -> Any:
    return x


stop_gradient = Primitive(
    "stop_gradient", _identity, differentiable=False,
    doc="x itself, held constant: what a formula built inside no_grad computes",
)  # fmt: skip
