"""Primitive operations: each one an entry of adlab's table, with its rule as data.

A :class:`Primitive` is a name, an implementation on plain values (floats and numpy
arrays) and what adlab knows about it: its derivative ``rule`` (see
:mod:`adlab.core.rules`), its ``kink`` note, the numpy ufuncs and Python functions it
``stands_for`` (``np.sin`` and ``math.sin`` are ``ad.sin``), and its ``latex``
spelling. Maps such as numpy's ufunc table are generated from this data, never kept
by hand. Calling a primitive dispatches on its arguments:

* only plain values  -> the implementation runs;
* some :class:`Box`  -> the box with the highest level handles the call.

A box wraps a value for one transformation (a reverse-mode ``Variable``, a
forward-mode ``Dual``, a symbolic expression). Every transformation gets a fresh
level (:mod:`adlab.core.transform`), and levels only grow, so the innermost (most
recent) transformation always handles a call first and sees the boxes of outer
transformations as ordinary values. That single rule keeps nested derivatives
apart (no perturbation confusion) for every combination of engines.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, overload

from adlab.core import rules

_levels = itertools.count(1)


def new_level() -> int:
    """A fresh, never reused transformation level (higher = more recent)."""
    return next(_levels)


_STANDS_FOR: dict[Any, Primitive] = {}
"""numpy ufuncs and Python functions -> the primitive declared to stand for them."""


def standing_for(fn: Any) -> Primitive | None:
    """The primitive declared to stand for ``fn`` (``np.sin``, ``math.sin`` -> ``ad.sin``)."""
    try:
        return _STANDS_FOR.get(fn)
    except TypeError:  # an unhashable callable
        return None


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

    def _finished(self) -> bool:
        """Whether the transformation this value belongs to has finished (it is inert)."""
        return False


class Primitive:
    """One operation of the table: ``prim(*args, **params)``.

    ``args`` are the operands (the things one differentiates with respect to);
    ``params`` are static settings such as ``axis`` or ``shape``. ``symbol`` is
    an infix operator (``"+"``) used when programs and expressions are printed.
    A primitive with ``differentiable=False`` (comparisons, ``sign``) has zero
    derivative everywhere it is defined: engines pass its result through as a
    plain value. Positions in ``nondiff_argnums`` are settings passed positionally
    (an iteration count): they get no derivative. ``rule`` is its derivative (None
    until declared), ``kink`` the documented derivative at its non-differentiable
    points, ``stands_for`` the numpy ufuncs and Python functions it implements, and
    ``latex`` its LaTeX command (``\\sin``; for an operator the glyph, ``\\geq``; a pair
    of brackets around the argument for ``\\sqrt{x}`` and ``|x|``).

    >>> import adlab as ad
    >>> ad.sin(0.0), ad.sin.rule.kind, ad.sin.latex
    (0.0, 'partials', '\\\\sin')
    """

    __slots__ = (
        "__weakref__", "differentiable", "doc", "impl", "kink", "latex", "name",
        "nondiff_argnums", "rule", "stands_for", "symbol",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        symbol: str | None = None,
        differentiable: bool = True,
        doc: str | None = None,
        nondiff_argnums: Sequence[int] = (),
        kink: str | None = None,
        stands_for: Sequence[Any] = (),
        latex: str | tuple[str, str] | None = None,
    ) -> None:
        self.name = name
        self.impl = impl
        self.symbol = symbol
        self.differentiable = differentiable
        self.doc = doc if doc is not None else impl.__doc__
        self.nondiff_argnums = tuple(sorted({int(i) for i in nondiff_argnums}))
        if any(i < 0 for i in self.nondiff_argnums):
            raise ValueError(
                f"nondiff_argnums of {name} must be non-negative positions, got {nondiff_argnums}"
            )
        self.rule: rules.Rule | None = None
        self.kink = kink
        self.stands_for = tuple(stands_for)
        self.latex = latex
        for fn in self.stands_for:
            _STANDS_FOR.setdefault(fn, self)
        rules.register(self)

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
        written with adlab operations so every engine can use it; from them adlab
        derives both the forward and the reverse rule::

            @softplus.defrule
            def softplus_partials(x):
                return (ad.sigmoid(x),)

        Partials suit elementwise primitives; give an array primitive a jvp and a vjp.
        """
        return rules.defrule(self, partials)

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Declare this primitive's forward rule (a decorator): ``jvp(out, args, tangents,
        **params) -> out_dot``.

        ``out`` is the primitive's result, ``args`` its arguments, ``tangents`` one
        tangent per argument (``None`` for a zero tangent) and ``params`` its keyword
        settings; it returns the tangent of ``out`` (``None`` for zero), computed with
        adlab operations so every engine, and higher derivatives, can use it.

        >>> import adlab as ad, numpy as np
        >>> @ad.primitive
        ... def squared_norm(x):
        ...     return np.sum(x * x)
        >>> @squared_norm.defjvp
        ... def squared_norm_jvp(out, args, tangents):
        ...     (x,), (x_dot,) = args, tangents
        ...     return ad.sum(2.0 * x * x_dot)
        >>> float(ad.derivative(lambda t: squared_norm(np.array([1.0, 2.0]) * t))(1.0))
        10.0
        """
        rules.defjvp(self, jvp, checked=True)
        return jvp

    def defvjp(self, vjp: Callable[..., Any]) -> Callable[..., Any]:
        """Declare this primitive's reverse rule (a decorator): ``vjp(out, args, wrt,
        **params) -> pullback``.

        ``wrt`` lists the positions of the arguments that need a cotangent;
        ``pullback(out_bar)`` returns one cotangent per position in ``wrt``, each
        shaped like its argument (``None`` for a zero). Compute in the rule what the
        pullback needs, so the arguments need not stay alive.

        >>> import adlab as ad, numpy as np
        >>> @ad.primitive
        ... def sum_of_squares(x):
        ...     return np.sum(x * x)
        >>> @sum_of_squares.defvjp
        ... def sum_of_squares_vjp(out, args, wrt):
        ...     twice_x = 2.0 * args[0]
        ...
        ...     def sum_of_squares_pullback(out_bar):
        ...         return (out_bar * twice_x,)
        ...
        ...     return sum_of_squares_pullback
        >>> ad.grad(sum_of_squares)(np.array([1.0, 2.0]))
        array([2., 4.])
        """
        rules.defvjp(self, vjp, checked=True)
        return vjp


@overload
def primitive(fn: Callable[..., Any], /) -> Primitive: ...


@overload
def primitive(
    *, nondiff_argnums: Sequence[int] = (), kink: str | None = None, name: str | None = None
) -> Callable[[Callable[..., Any]], Primitive]: ...


def primitive(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    nondiff_argnums: Sequence[int] = (),
    kink: str | None = None,
    name: str | None = None,
) -> Any:
    """Turn a function on plain values into a primitive of the table (a decorator).

    Declare its derivative with ``.defrule`` (partials) or ``.defjvp`` / ``.defvjp``;
    until then, differentiating it raises :class:`~adlab.DifferentiationError` naming
    it. ``@ad.primitive(nondiff_argnums=(1,))`` marks positional settings that get no
    derivative; ``kink="..."`` documents the derivative the rule gives where the
    function is not differentiable (``ad.rule_table()`` shows it).

    >>> import adlab as ad, numpy as np
    >>> @ad.primitive
    ... def softplus(x):
    ...     return np.logaddexp(0.0, x)
    >>> @softplus.defrule
    ... def softplus_partials(x):
    ...     return (ad.sigmoid(x),)
    >>> ad.grad(softplus)(1000.0)
    1.0
    """

    def make(f: Callable[..., Any]) -> Primitive:
        return Primitive(
            _name_of(f, name), f, doc=f.__doc__, nondiff_argnums=nondiff_argnums, kink=kink
        )

    return make if fn is None else make(fn)


def nondifferentiable(fn: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """A primitive whose derivative is zero by definition (rounding, ``argmax``, comparisons).

    Every engine computes it on plain values and passes its result through as a
    constant, so code that uses it differentiates around it. Works as a decorator too.

    >>> import adlab as ad, numpy as np
    >>> floor = ad.nondifferentiable(np.floor)
    >>> ad.grad(lambda x: x * floor(x))(2.5)  # d/dx x·⌊x⌋ = ⌊x⌋ (almost everywhere)
    2.0
    """

    def make(f: Callable[..., Any]) -> Primitive:
        return Primitive(_name_of(f, name), f, differentiable=False, doc=f.__doc__)

    return make if fn is None else make(fn)


def _name_of(f: Callable[..., Any], name: str | None) -> str:
    name = name if name is not None else getattr(f, "__name__", None)
    if not isinstance(name, str):
        raise ValueError(f"{f!r} has no __name__ to name its primitive; pass name='...'")
    return name
