"""Forward mode: dual numbers, carried through the program alongside its values.

A :class:`Dual` is a value with a *tangent*, ``x + ẋ·ε`` where ``ε² = 0``:
arithmetic on duals computes ``f(x) + f'(x)·ẋ·ε``, the value and the directional
derivative in one pass. Every primitive applied to a Dual takes its forward rule
from the table (``out_dot = Σ ∂out/∂xᵢ · ẋᵢ`` for elementwise primitives, the
declared jvp for the others); nothing here restates a derivative.

Tags keep nested derivatives apart. Each :func:`jvp` gets a fresh tag (a level
of :mod:`adlab.core.primitive`), and a primitive sees only the tangents of the
innermost tag among its arguments; the duals of an outer derivative are just
values to it. Without tags, ``d/dx [x · d/dy (x + y)]`` at x = 1 gives 2 instead
of 1 ("perturbation confusion"): ``jvp(..., tagged=False)`` and the default tag
of a hand-made ``Dual(x, 1.0)`` reproduce the bug for teaching.

One pass can carry several directions at once (``Partials``, as ForwardDiff's
chunks): :func:`jvp_chunk` evaluates the program once and every direction's
tangent alongside, so a Jacobian of f: Rⁿ → Rᵐ costs ⌈n/k⌉ passes with chunk k.

>>> d = Dual(2.0, 1.0)
>>> d * d + 4.0 * d           # x² + 4x at 2, and its derivative
Dual(12.0, 8.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from adlab.core import rules
from adlab.core.primitive import Box, Primitive, new_level
from adlab.core.tangents import broadcast_like, shape_of, zeros_like
from adlab.core.values import unshared
from adlab.ops import scalar as S
from adlab.ops.operators import Operators

__all__ = ["UNTAGGED", "Dual", "Partials", "derivative", "jvp", "jvp_chunk"]

UNTAGGED = new_level()
"""The one tag shared by every hand-made ``Dual(x, t)`` and by ``jvp(..., tagged=False)``:
textbook dual numbers, which confuse the perturbations of nested derivatives."""

TAKES_NONE_TANGENTS = True
"""A tangent of None holds its input constant: the input stays a plain value (no dual)."""

_PARTIALS = rules.partials


class Partials(tuple):
    """The tangents of several directions carried by one dual (a "chunk"), one per direction."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Partials{tuple.__repr__(self)}"


def _is_plain(x: Any) -> bool:
    return type(x) is float or not isinstance(x, Box)


def _binary(prim: Primitive, reflected: bool = False) -> Callable[..., Any]:
    """The operator method ``self <op> other`` (``other <op> self`` if ``reflected``) of an
    elementwise primitive: the hot path of scalar programs, the arithmetic of
    ``Dual._process`` unrolled for one direction. Where it does not apply it falls back to
    the general dispatch ``prim(a, b)``, or returns None with ``fallback=False``."""

    def binary_operator(self: Any, other: Any, fallback: bool = True) -> Any:
        a, b = (other, self) if reflected else (self, other)
        if type(a) is Dual and type(b) is Dual and a._level == b._level:  # the commonest case
            level = a._level
            x, x_dot, y, y_dot = a.value, a.tangent, b.value, b.tangent
        elif type(a) is Dual:
            if isinstance(b, Box):  # a dual of another tag, or another engine's box
                return prim(a, b) if fallback else None
            level = a._level
            x, x_dot, y, y_dot = a.value, a.tangent, b, None
        elif isinstance(a, Box) or type(b) is not Dual:
            return prim(a, b) if fallback else None
        else:
            level = b._level
            x, x_dot, y, y_dot = a, None, b.value, b.tangent
        fns = _PARTIALS.get(prim)
        if (
            fns is None
            or type(x_dot) is Partials  # chunks take the general path, direction by direction
            or type(y_dot) is Partials
            or (x_dot is not None and fns[0] is None)
            or (y_dot is not None and fns[1] is None)
        ):
            return prim(a, b) if fallback else None
        dx, dy = fns
        if type(x) is float and type(y) is float:
            out = prim.impl(x, y)
        elif isinstance(x, Box) or isinstance(y, Box):  # values of an outer transformation:
            out = prim(x, y)  # let it see this primitive too
        else:
            out = prim.impl(x, y)
        if type(out) is float:
            if x_dot is None:
                out_dot = (dy if type(dy) is float else dy(x, y, out)) * y_dot
            else:
                out_dot = (dx if type(dx) is float else dx(x, y, out)) * x_dot
                if y_dot is not None:
                    out_dot = out_dot + (dy if type(dy) is float else dy(x, y, out)) * y_dot
            return Dual(out, out_dot, level)
        terms = [
            _times(d if type(d) is float else d(x, y, out), t)
            for d, t in ((dx, x_dot), (dy, y_dot)) if t is not None
        ]  # fmt: skip
        return Dual(out, broadcast_like(_sum(terms), out), level)

    name = f"Dual.{'r' if reflected else ''}{prim.name}"
    binary_operator.__name__ = binary_operator.__qualname__ = name
    return binary_operator


_binaries: dict[Primitive, Callable[..., Any]] = {}
"""The fast path of each elementwise primitive met so far, for ``Dual._process``."""


def _unary(prim: Primitive, a: Any) -> Any:
    """``prim(a)`` for an elementwise primitive of one single-direction Dual, or None."""
    fns = _PARTIALS.get(prim)
    if fns is None or type(a) is not Dual or type(a.tangent) is Partials or fns[0] is None:
        return None
    x = a.value
    out = prim.impl(x) if type(x) is float or not isinstance(x, Box) else prim(x)
    d = fns[0]
    d = d if type(d) is float else d(x, out)
    if type(out) is float:
        return Dual(out, d * a.tangent, a._level)
    return Dual(out, broadcast_like(_times(d, a.tangent), out), a._level)


def _times(d: Any, t: Any) -> Any:
    """``d · t`` off the scalar hot path, where an exactly zero tangent component stays zero
    even if the partial there is infinite or nan (a "strong zero"): forward mode seeds one
    input component at a time, and 0 · inf = nan would spoil the other components of a
    gradient."""
    plain = (float, np.floating, np.ndarray)
    if not (isinstance(t, plain) and isinstance(d, plain)) or np.all(np.isfinite(d)):
        return d * t
    with np.errstate(invalid="ignore"):  # the 0 · inf products are replaced just below
        out_dot = d * t
    if isinstance(out_dot, np.ndarray) and out_dot.ndim:
        out_dot = np.where(t == 0, np.zeros_like(out_dot), out_dot)
    elif t == 0:  # a scalar tangent (a chunk seeds a scalar input's other directions with 0.0)
        out_dot = zeros_like(out_dot)
    return out_dot


class Dual(Operators, Box):
    """A value and its tangent: ``Dual(x, x_dot)`` stands for ``x + x_dot·ε`` with ε² = 0.

    ``tag`` says which derivative the tangent belongs to; leave it out for a
    textbook dual number (all hand-made duals share one tag), or let
    :func:`jvp` / ``ad.derivative`` pick a fresh one. The tangent may be a
    :class:`Partials` of several directions.

    >>> ad_sin = S.sin
    >>> ad_sin(Dual(0.0, 1.0))
    Dual(0.0, 1.0)
    """

    __slots__ = ("_level", "tangent", "value")
    _what = "dual number"

    def __init__(self, value: Any, tangent: Any, tag: int = UNTAGGED) -> None:
        self.value = value
        self.tangent = tangent
        self._level = tag

    @property
    def tag(self) -> int:
        """Which derivative this dual belongs to (a transformation level)."""
        return self._level

    def __repr__(self) -> str:
        return f"Dual({self.value!r}, {self.tangent!r})"

    def __format__(self, spec: str) -> str:
        return f"Dual({format(self.value, spec)}, {format(self.tangent, spec)})"

    # The operators of scalar programs take the fast path directly.
    __add__, __radd__ = _binary(S.add), _binary(S.add, reflected=True)
    __sub__, __rsub__ = _binary(S.sub), _binary(S.sub, reflected=True)
    __mul__, __rmul__ = _binary(S.mul), _binary(S.mul, reflected=True)
    __truediv__, __rtruediv__ = _binary(S.truediv), _binary(S.truediv, reflected=True)
    __pow__, __rpow__ = _binary(S.pow), _binary(S.pow, reflected=True)

    def _process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        __tracebackhide__ = True
        if not params and len(args) <= 2:
            if len(args) == 1:
                fast = _unary(prim, args[0])
            elif prim in _PARTIALS:
                fast = _binaries.get(prim) or _binaries.setdefault(prim, _binary(prim))
                fast = fast(*args, False)
            else:
                fast = None
            if fast is not None:
                return fast
        level = self._level
        vals = list(args)
        tangents: list[Any] = [None] * len(args)
        plain = True
        for i, a in enumerate(args):
            if type(a) is Dual and a._level == level:
                vals[i], tangents[i] = a.value, a.tangent
            if plain and not _is_plain(vals[i]):
                plain = False
        out = prim.impl(*vals, **params) if plain else prim(*vals, **params)
        if not prim.differentiable:
            return out
        rule = rules.jvps.get(prim)
        if rule is None:
            raise rules.missing_rule(prim, "forward")
        chunk = next((len(t) for t in tangents if type(t) is Partials), None)
        if chunk is None:
            out_dot = rule(out, vals, tangents, **params)
            return out if out_dot is None else Dual(out, out_dot, level)
        fns = _PARTIALS.get(prim)
        if fns is not None and not params:  # each partial once, then every direction
            ds = [
                (d if type(d) is float else d(*vals, out), t)
                for d, t in zip(fns, tangents) if d is not None and t is not None
            ]  # fmt: skip
            if not ds:  # only non-differentiable arguments (where's condition) vary
                return out
            directions = [[(d, t[j] if type(t) is Partials else t) for d, t in ds]
                          for j in range(chunk)]  # fmt: skip
            out_dots = [broadcast_like(_sum(_times(d, t) for d, t in terms), out)
                        for terms in directions]  # fmt: skip
        else:
            out_dots = [
                rule(out, vals, [t[j] if type(t) is Partials else t for t in tangents], **params)
                for j in range(chunk)
            ]
        if all(t is None for t in out_dots):
            return out
        return Dual(out, Partials(zeros_like(out) if t is None else t for t in out_dots), level)


def _sum(terms: Iterable[Any]) -> Any:
    total = None
    for term in terms:
        total = term if total is None else total + term
    return total


# ---------------------------------------------------------------------------
# The engine protocol: jvp


def _check_tangent(x: Any, x_dot: Any, i: int) -> None:
    if x_dot is not None and shape_of(x_dot) != shape_of(x):
        raise ValueError(
            f"the tangent of input {i} has shape {shape_of(x_dot)}, but the input has shape "
            f"{shape_of(x)}: a tangent has its primal's shape"
        )


def _read(outs: Any, level: int, zero: Callable[[Any], Any]) -> tuple[tuple, tuple]:
    values, dots = [], []
    for o in outs:
        if type(o) is Dual and o._level == level:
            values.append(o.value)
            dots.append(o.tangent)
        else:  # the output does not depend on the inputs
            values.append(o)
            dots.append(zero(o))
    return tuple(values), tuple(dots)


def jvp(
    f: Callable[..., Sequence[Any]],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    tagged: bool = True,
) -> tuple[tuple, tuple]:
    """Run ``f(*primals)`` (returning a tuple of outputs) on duals: ``(outs, out_dots)``.

    ``tagged=False`` reuses the one textbook tag instead of a fresh one: nested
    derivatives then confuse their perturbations (for teaching only).

    >>> jvp(lambda x, y: (x * y,), (2.0, 3.0), (1.0, 0.0))
    ((6.0,), (3.0,))
    """
    level = new_level() if tagged else UNTAGGED
    for i, (x, x_dot) in enumerate(zip(primals, tangents)):
        _check_tangent(x, x_dot, i)
    outs = f(
        *[x if x_dot is None else Dual(x, x_dot, level) for x, x_dot in zip(primals, tangents)]
    )
    values, dots = _read(outs, level, zeros_like)
    return values, tuple(unshared(dots, tangents))


def jvp_chunk(
    f: Callable[..., Sequence[Any]], primals: Sequence[Any], directions: Sequence[Sequence[Any]]
) -> tuple[tuple, list[tuple]]:
    """One pass of ``f`` carrying ``k = len(directions)`` tangent directions at once.

    ``directions[j]`` holds one tangent per primal; the result is ``(outs,
    out_dots)`` with ``out_dots[j]`` the tangents of the outputs along direction j.

    >>> outs, dots = jvp_chunk(lambda x, y: (x * y,), (2.0, 3.0), [(1.0, 0.0), (0.0, 1.0)])
    >>> outs, dots
    ((6.0,), [(3.0,), (2.0,)])
    """
    if not directions:
        raise ValueError("jvp_chunk needs at least one direction")
    level = new_level()
    seeds = []
    for i, x in enumerate(primals):
        column = [d[i] for d in directions]
        if all(x_dot is None for x_dot in column):  # held constant in every direction
            seeds.append(x)
            continue
        for x_dot in column:
            if x_dot is not None:
                _check_tangent(x, x_dot, i)
        seeds.append(Dual(x, Partials(zeros_like(x) if t is None else t for t in column), level))
    k = len(directions)
    values, dots = _read(f(*seeds), level, lambda o: Partials([zeros_like(o)] * k))
    per_direction = [tuple(d[j] for d in dots) for j in range(k)]
    return values, [tuple(unshared(d, ())) for d in per_direction]


def derivative(f: Callable[[Any], Any], *, tagged: bool = True) -> Callable[[Any], Any]:
    """``f'`` for ``f`` of one scalar, by one forward pass (``tagged=False``: textbook duals).

    >>> derivative(lambda x: x * x + 4.0 * x)(2.0)
    8.0
    """

    def derivative_f(x: Any) -> Any:
        _, (out_dot,) = jvp(lambda u: (f(u),), (x,), (1.0,), tagged=tagged)
        return out_dot

    derivative_f.__name__ = f"derivative({getattr(f, '__name__', 'f')})"
    return derivative_f
