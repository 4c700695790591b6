"""Forward mode: dual numbers, carried through the program alongside its values.

A :class:`Dual` is a value with a *tangent*, ``x + ẋ·ε`` where ``ε² = 0``:
arithmetic on duals computes ``f(x) + f'(x)·ẋ·ε``, the value and the directional
derivative in one pass. Every primitive applied to a Dual takes its forward rule
from the table (``rule.jvp``; for elementwise primitives the one derivation
``Σ ∂out/∂xᵢ · ẋᵢ`` of :mod:`adlab.core.rules`, with its strong zero); nothing
here restates a derivative.

Tags keep nested derivatives apart. Each :func:`jvp` is a fresh transformation
(:mod:`adlab.core.transform`), and a primitive sees only the tangents of the
innermost one among its arguments; the duals of an outer derivative are just
values to it. Without tags, ``d/dx [x · d/dy (x + y)]`` at x = 1 gives 2 instead
of 1 ("perturbation confusion"): ``jvp(..., tagged=False)`` and the default tag
of a hand-made ``Dual(x, 1.0)`` reproduce the bug for teaching. Once a jvp has
returned, its duals are only their values: they show and convert as numbers and
refuse to take part in another computation.

One pass can carry several directions at once (``Partials``, as ForwardDiff's
chunks): :func:`jvp_chunk` evaluates the program once and every direction's
tangent alongside, so a Jacobian of f: Rⁿ → Rᵐ costs ⌈n/k⌉ passes with chunk k.
A single direction is a plain tangent, which scalar programs run fastest.

>>> d = Dual(2.0, 1.0)
>>> d * d + 4.0 * d           # x² + 4x at 2, and its derivative
Dual(12.0, 8.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adlab.core import rules
from adlab.core.compiled import infix_text, tangent_code
from adlab.core.engine import Engine, count
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Box, Primitive
from adlab.core.rules import elementwise_tangent, missing_rule, partials_at
from adlab.core.source import compile_source
from adlab.core.tangents import broadcast_like, shape_of, zeros_like
from adlab.core.transform import FINISHED, PAUSED, Transformation, running
from adlab.core.values import unshared
from adlab.ops import scalar as S
from adlab.ops.operators import ArrayOperators

__all__ = ["ENGINE", "UNTAGGED", "Dual", "Partials", "derivative", "jvp", "jvp_chunk"]


class Tag(Transformation):
    """A forward-mode transformation: what a Dual's tangent belongs to."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("forward")


_TEXTBOOK = Tag()
"""The one transformation of every hand-made ``Dual(x, t)`` and of ``jvp(..., tagged=False)``:
textbook dual numbers, which confuse the perturbations of nested derivatives (it never
finishes)."""
UNTAGGED = _TEXTBOOK.level
"""The tag (level) of textbook dual numbers: ``Dual(1.0, 1.0).tag == UNTAGGED``."""


class Partials(tuple):
    """The tangents of several directions carried by one dual (a "chunk"), one per direction
    (ForwardDiff's name for them)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Partials{tuple.__repr__(self)}"


_BY_PARTIALS = rules.Partials  # the kind of rule the fast paths take
_X1, _X, _Y, _XY = (True,), (True, False), (False, True), (True, True)  # the moving arguments


def _escaped(prim: Primitive) -> DifferentiationError:
    return DifferentiationError(
        f"{prim.name}() of a dual number whose derivative has already finished: it escaped "
        "from ad.jvp / ad.grad / %%grad (kept in a global, a list, a cache or a default "
        "argument?). Keep its number instead: x.value"
    )


def _binary(prim: Primitive, reflected: bool = False) -> Callable[..., Any]:
    """``self <op> other`` (``other <op> self`` if ``reflected``) for an elementwise primitive
    of one direction: the general ``Dual._process`` unrolled, the one derivation on whatever
    values the duals hold. Where it does not apply it falls back to the general dispatch
    ``prim(a, b)``, or returns None with ``fallback=False``."""
    impl = prim.impl

    def binary_operator(self: Any, other: Any, fallback: bool = True) -> Any:
        a, b = (other, self) if reflected else (self, other)
        if type(a) is Dual:
            tag, x, x_dot = a._trans, a.value, a.tangent
            if type(b) is Dual:
                if b._trans is not tag:  # another derivative's dual: the general dispatch
                    return prim(a, b) if fallback else None
                y, y_dot = b.value, b.tangent
            elif isinstance(b, Box):  # another engine's box
                return prim(a, b) if fallback else None
            else:
                y, y_dot = b, None
        elif type(b) is Dual and not isinstance(a, Box):
            tag, x, x_dot, y, y_dot = b._trans, a, None, b.value, b.tangent
        else:
            return prim(a, b) if fallback else None
        rule = prim.rule
        if tag.state:  # paused by no_grad, or finished: the general path says what happens
            return prim(a, b) if fallback else None
        if type(rule) is not _BY_PARTIALS or type(x_dot) is Partials or type(y_dot) is Partials:
            return prim(a, b) if fallback else None  # other rules and chunks: the general path
        # values of an outer transformation: let it see this primitive too
        out = prim(x, y) if isinstance(x, Box) or isinstance(y, Box) else impl(x, y)
        out_dot = elementwise_tangent(rule.fns, (x, y), out, (x_dot, y_dot))
        if type(out) is not float and out_dot is not None:
            out_dot = broadcast_like(out_dot, out)
        return Dual(out, out_dot, tag) if out_dot is not None else out

    name = f"Dual.{'r' if reflected else ''}{prim.name}"
    binary_operator.__name__ = binary_operator.__qualname__ = name
    return binary_operator


def _inline(prim: Primitive, reflected: bool = False) -> Callable[..., Any] | None:
    """The hot path of scalar programs, written out: for a Dual whose value and tangent are
    Python floats (and a float or a Dual of the same derivative as the other operand), the
    derivation compiled for floats (:func:`adlab.core.compiled.tangent_code`) inline, in
    an operator method ``self <op> other`` (``other <op> self`` if ``reflected``) or, for
    one argument, a function of the Dual. Anything else goes on to the general path (the
    operator method returns :func:`_binary`'s answer, the function None). The code is
    generated from the rule the primitive has now, and checks that it still has it;
    None where the rule has no compiled form."""
    rule = prim.rule
    unary = isinstance(rule, _BY_PARTIALS) and len(rule.fns) == 1
    namespace: dict[str, Any] = {"Dual": Dual, "new": object.__new__, "prim": prim,
                                 "rule": rule, "impl": prim.impl}  # fmt: skip
    codes = [tangent_code(rule, m, namespace) for m in ((_X1,) if unary else (
        _XY, _Y if reflected else _X))]  # fmt: skip
    if any(code is None for code in codes):
        return None
    op = infix_text(prim)
    out = "impl(x)" if unary else f"x {op} y" if op else "impl(x, y)"

    def block(code: Any, depth: int) -> str:
        lines = [f"out = {out}", *code.lines, "made = new(Dual)", "made.value = out",
                 f"made.tangent = {code.total}", "made._trans = tag", "made._level = tag.level",
                 "return made"]  # fmt: skip
        return "".join("    " * depth + line + "\n" for line in lines)

    name = f"Dual_{'r' if reflected else ''}{prim.name}"
    head = (f"def {name}(self):\n" if unary else f"def {name}(self, other, fallback=True):\n") + (
        "    tag = self._trans\n    if not tag.state and prim.rule is rule:\n"
    )
    if unary:
        body = (
            "        x, x_dot = self.value, self.tangent\n"
            "        if type(x) is float and type(x_dot) is float:\n" + block(codes[0], 3)
        )
        tail = "    return None\n"
    else:
        namespace["general"] = _binary(prim, reflected)
        me, it = ("y", "x") if reflected else ("x", "y")  # self's and other's role in the rule
        body = (
            "        if type(other) is Dual:\n"
            "            if other._trans is tag:\n"
            f"                {me}, {me}_dot = self.value, self.tangent\n"
            f"                {it}, {it}_dot = other.value, other.tangent\n"
            "                if (type(x) is float and type(y) is float and type(x_dot) is float\n"
            "                        and type(y_dot) is float):\n"
            + block(codes[0], 5)
            + "        elif type(other) is float:\n"
            f"            {me}, {me}_dot, {it} = self.value, self.tangent, other\n"
            f"            if type({me}) is float and type({me}_dot) is float:\n"
            + block(codes[1], 4)
        )
        tail = "    return general(self, other, fallback)\n"
    made = compile_source(head + body + tail, f"<adlab.forward {name}>", namespace, name)
    made.__qualname__ = f"Dual.{'r' if reflected else ''}{prim.name}"
    return made


def _operator(prim: Primitive, reflected: bool = False) -> Callable[..., Any]:
    """The operator method of Dual for an elementwise primitive (see :func:`_inline`)."""
    return _inline(prim, reflected) or _binary(prim, reflected)


_unaries: dict[Primitive, Any] = {}
"""The inline path of each elementwise primitive of one argument met so far (False: none)."""


_binaries: dict[Primitive, Callable[..., Any]] = {}
"""The fast path of each elementwise binary primitive met so far, for ``Dual._process``."""


def _unary(prim: Primitive, a: Any) -> Any:
    """``prim(a)`` for an elementwise primitive of one single-direction Dual, or None."""
    rule = prim.rule
    if type(a) is not Dual or type(rule) is not _BY_PARTIALS:
        return None
    tag = a._trans
    if tag.state or type(a.tangent) is Partials:
        return None
    x = a.value
    out = prim.impl(x) if type(x) is float or not isinstance(x, Box) else prim(x)
    out_dot = elementwise_tangent(rule.fns, (x,), out, (a.tangent,))
    if out_dot is None:
        return out
    return Dual(out, out_dot if type(out) is float else broadcast_like(out_dot, out), tag)


class Dual(ArrayOperators, Box):
    """A value and its tangent: ``Dual(x, x_dot)`` stands for ``x + x_dot·ε`` with ε² = 0.

    ``tag`` says which derivative the tangent belongs to; leave it out for a
    textbook dual number (all hand-made duals share one tag), or let
    :func:`jvp` / ``ad.derivative`` pick a fresh one. The tangent may be a
    :class:`Partials` of several directions.

    >>> ad_sin = S.sin
    >>> ad_sin(Dual(0.0, 1.0))
    Dual(0.0, 1.0)
    """

    __slots__ = ("_level", "_trans", "tangent", "value")
    _what = "dual number"

    def __init__(self, value: Any, tangent: Any, tag: Any = _TEXTBOOK) -> None:
        self.value = value
        self.tangent = tangent
        if type(tag) is not Tag:
            tag = _as_tag(tag)
        self._trans = tag
        self._level = tag.level

    @property
    def tag(self) -> int:
        """Which derivative this dual belongs to (a transformation level)."""
        return self._level

    def _repr(self) -> str:
        return f"Dual({self.value!r}, {self.tangent!r})"

    def __format__(self, spec: str) -> str:
        if self._finished():
            return format(self.value, spec)
        return f"Dual({format(self.value, spec)}, {format(self.tangent, spec)})"

    def _process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        __tracebackhide__ = True
        if not params and len(args) <= 2:
            if len(args) == 1:
                inline = _unaries.get(prim)
                fast = inline(args[0]) if inline else None  # None also once the rule changed
                if fast is None:
                    if inline is None or (inline and inline.__globals__["rule"] is not prim.rule):
                        inline = _unaries[prim] = _inline(prim) or False
                        fast = inline(args[0]) if inline else None
                    if fast is None:
                        fast = _unary(prim, args[0])
            elif type(prim.rule) is _BY_PARTIALS:
                fast = _binaries.get(prim) or _binaries.setdefault(prim, _binary(prim))
                fast = fast(*args, False)
            else:
                fast = None
            if fast is not None:
                return fast
        tag = self._trans
        if tag.state == FINISHED and prim.differentiable:  # comparisons still compare
            raise _escaped(prim)
        vals = list(args)
        tangents: list[Any] = [None] * len(args)
        plain = True
        for i, a in enumerate(args):
            if type(a) is Dual and a._trans is tag:
                vals[i], tangents[i] = a.value, a.tangent
            if plain and isinstance(vals[i], Box):
                plain = False
        out = prim.impl(*vals, **params) if plain else prim(*vals, **params)
        if tag.state == PAUSED or not prim.differentiable:
            return out
        rule = prim.rule
        if rule is None:
            raise missing_rule(prim, "forward")
        chunk = next((len(t) for t in tangents if type(t) is Partials), None)
        if chunk is None:
            out_dot = rule.jvp(out, vals, tangents, **params)
            return out if out_dot is None else Dual(out, out_dot, tag)
        return _chunk_of(prim, rule, out, vals, tangents, params, chunk, tag)


# The operators of scalar programs: the derivation compiled for floats, inline.
for _prim, _name in ((S.add, "add"), (S.sub, "sub"), (S.mul, "mul"), (S.truediv, "truediv"),
                     (S.pow, "pow")):  # fmt: skip
    setattr(Dual, f"__{_name}__", _operator(_prim))
    setattr(Dual, f"__r{_name}__", _operator(_prim, reflected=True))


def _chunk_of(prim: Primitive, rule: Any, out: Any, vals: list, tangents: list, params: dict,
              chunk: int, tag: Tag) -> Any:  # fmt: skip
    """``prim``'s output with the tangents of every direction of a chunk: declared partials
    are evaluated once, then each direction takes the one derivation; other rules run once
    per direction."""
    if type(rule) is _BY_PARTIALS and not params:
        moving = [i for i, t in enumerate(tangents) if t is not None]
        ds: list[Any] = [None] * len(vals)
        for i, d in zip(moving, partials_at(rule.fns, vals, out, moving)):
            ds[i] = d
        directions = [[t[j] if type(t) is Partials else t for t in tangents]
                      for j in range(chunk)]  # fmt: skip
        out_dots = [elementwise_tangent(ds, vals, out, d) for d in directions]
        out_dots = [None if d is None else broadcast_like(d, out) for d in out_dots]
    else:
        out_dots = [rule.jvp(out, vals, [t[j] if type(t) is Partials else t for t in tangents],
                             **params) for j in range(chunk)]  # fmt: skip
    if all(t is None for t in out_dots):
        return out
    return Dual(out, Partials(zeros_like(out) if t is None else t for t in out_dots), tag)


def _as_tag(tag: Any) -> Tag:
    """A hand-made dual's tag: the textbook one, or a level it names."""
    if isinstance(tag, Tag):
        return tag
    if tag == UNTAGGED:
        return _TEXTBOOK
    if isinstance(tag, int) and not isinstance(tag, bool):
        made = Tag()
        made.level = tag
        return made
    raise TypeError(f"a Dual's tag is a transformation level (an int), got {tag!r}")


# ---------------------------------------------------------------------------
# The engine protocol: jvp


def _check_tangent(x: Any, x_dot: Any, i: int) -> None:
    if x_dot is not None and shape_of(x_dot) != shape_of(x):
        raise ValueError(
            f"the tangent of input {i} has shape {shape_of(x_dot)}, but the input has shape "
            f"{shape_of(x)}: a tangent has its primal's shape"
        )


def _read(outs: Any, tag: Tag, zero: Callable[[Any], Any]) -> tuple[tuple, tuple]:
    values, dots = [], []
    for o in outs:
        if type(o) is Dual and o._trans is tag:
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

    A ``None`` tangent holds its input constant (it stays a plain value). ``tagged=False``
    reuses the one textbook tag instead of a fresh one: nested derivatives then confuse
    their perturbations (for teaching only).

    >>> jvp(lambda x, y: (x * y,), (2.0, 3.0), (1.0, 0.0))
    ((6.0,), (3.0,))
    """
    for i, (x, x_dot) in enumerate(zip(primals, tangents)):
        _check_tangent(x, x_dot, i)
    count("passes")
    if not tagged:
        outs = f(*[x if t is None else Dual(x, t, _TEXTBOOK) for x, t in zip(primals, tangents)])
        values, dots = _read(outs, _TEXTBOOK, zeros_like)
        return values, tuple(unshared(dots, tangents))
    with running(Tag()) as tag:
        outs = f(*[x if t is None else Dual(x, t, tag) for x, t in zip(primals, tangents)])
        values, dots = _read(outs, tag, zeros_like)
    return values, tuple(unshared(dots, tangents))


def jvp_chunk(
    f: Callable[..., Sequence[Any]], primals: Sequence[Any], directions: Sequence[Sequence[Any]]
) -> tuple[tuple, list[tuple]]:
    """One pass of ``f`` carrying ``k = len(directions)`` tangent directions at once.

    ``directions[j]`` holds one tangent per primal (``None``: held constant); the result is
    ``(outs, out_dots)`` with ``out_dots[j]`` the tangents of the outputs along direction j.

    >>> outs, dots = jvp_chunk(lambda x, y: (x * y,), (2.0, 3.0), [(1.0, 0.0), (0.0, 1.0)])
    >>> outs, dots
    ((6.0,), [(3.0,), (2.0,)])
    """
    if not directions:
        raise ValueError("jvp_chunk needs at least one direction")
    count("passes")
    k = len(directions)
    with running(Tag()) as tag:
        seeds = []
        for i, x in enumerate(primals):
            column = [d[i] for d in directions]
            if all(x_dot is None for x_dot in column):  # held constant in every direction
                seeds.append(x)
                continue
            for x_dot in column:
                _check_tangent(x, x_dot, i)
            seeds.append(Dual(x, Partials(zeros_like(x) if t is None else t for t in column), tag))
        values, dots = _read(f(*seeds), tag, lambda o: Partials([zeros_like(o)] * k))
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


ENGINE = Engine("forward", jvp=jvp, jvp_chunk=jvp_chunk)
