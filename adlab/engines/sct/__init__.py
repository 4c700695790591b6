"""Source-code transformation: derivative code generated from your function's source.

``ad.sct.grad(f)`` reads ``f``'s source and writes a new Python function that
computes the gradient, readable as ``.source``: the primal program (the
*forward sweep*) followed by the adjoint statements in reverse order (the
*reverse sweep*), each block pointing at the line it differentiates. Loops
stay loops: the forward sweep pushes what a loop overwrites onto stacks and
the reverse sweep pops it (Zygote and Tapenade work this way; the Python
system that did it, Google's tangent, no longer runs on current Python).

>>> import adlab as ad
>>> def f(x):
...     return 3 * x ** 2
>>> df = ad.sct.grad(f)
>>> df(2.0)
12.0
>>> len(ad.sct.ssa(f))  # two operations, as in Zygote's IR for 3x^2
2

The transformation is a pipeline of named passes, listed in
:func:`~adlab.engines.sct.pipeline.passes`::

    parse -> fence -> ssa -> activity -> adjoint | tangent -> compile

``show=True`` prints the program after every pass. Derivative statements come
from the one rule table (partials applied to symbolic names, printed as
Python); array operations apply the table's vjp/jvp rules at run time.
``mode="sct"`` in every API function (``ad.grad(f, mode="sct")``) uses the
same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adlab.engines.sct import pipeline, protocol
from adlab.engines.sct.pipeline import Transformed, normalised
from adlab.engines.sct.protocol import jvp as engine_jvp
from adlab.engines.sct.protocol import vjp as engine_vjp
from adlab.engines.sct.ssa import Normalised

__all__ = [
    "Normalised", "Transformed", "engine_jvp", "engine_vjp", "grad", "jvp", "pipeline",
    "protocol", "ssa", "vjp",
]  # fmt: skip


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
         show: bool = False) -> Transformed:  # fmt: skip
    """The gradient of a scalar function, as generated Python code.

    Returns a function of the same arguments as ``f`` returning the gradient
    with respect to ``argnums`` (one value for an int, a tuple for a tuple),
    with the generated code in ``.source``.

    >>> import adlab as ad
    >>> def loss(c):
    ...     loss = 0.0
    ...     for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
    ...         loss = loss + (y - c * x) ** 2
    ...     return loss
    >>> ad.sct.grad(loss)(1.0)
    -28.0
    """
    return Transformed(f, "grad", argnums, show)


def vjp(f: Callable[..., Any], argnums: int | Sequence[int] | None = None, *,
        show: bool = False) -> Transformed:  # fmt: skip
    """The adjoint code of ``f``: a function returning ``(out, pullback)``.

    ``pullback(out_bar)`` returns a tuple with one cotangent per differentiated
    parameter (``argnums``; default: every positional parameter) and may be
    called any number of times.

    >>> import adlab as ad
    >>> out, pullback = ad.sct.vjp(lambda x, y: x * y)(2.0, 3.0)
    >>> out, pullback(1.0)
    (6.0, (3.0, 2.0))
    """
    return Transformed(f, "vjp", argnums, show)


def jvp(f: Callable[..., Any], argnums: int | Sequence[int] | None = None, *,
        show: bool = False) -> Transformed:  # fmt: skip
    """The tangent code of ``f``: a function returning ``(out, out_dot)``.

    It takes ``f``'s arguments and, as keywords, one tangent per differentiated
    parameter named after it (``x_dot=...``).

    >>> import adlab as ad
    >>> ad.sct.jvp(lambda x, y: x * y)(2.0, 3.0, x_dot=1.0, y_dot=0.0)
    (6.0, 3.0)
    """
    return Transformed(f, "jvp", argnums, show)


def ssa(f: Callable[..., Any], *, show: bool = False) -> Normalised:
    """The normalised program sct differentiates: one operation per line (A-normal form).

    ``len(listing)`` counts the operations; ``print(listing)`` shows them with
    the line of ``f`` each comes from.

    >>> import adlab as ad
    >>> print(ad.sct.ssa(lambda x: 3 * x ** 2))
    def f(x):
        t1 = x ** 2  # line 1: return 3 * x ** 2
        out = 3 * t1
        return out
    <BLANKLINE>
    """
    return normalised(f, show=show)
