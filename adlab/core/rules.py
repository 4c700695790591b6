"""Derivative rules as data on their primitive, and the one derivation every engine uses.

A primitive's ``rule`` (see :class:`~adlab.core.primitive.Primitive`) is one of:

:class:`Partials`
    The partial derivatives of an elementwise primitive, one per argument: a
    function ``d_i(*args, out)`` returning ∂out/∂args[i] (broadcastable to the
    output), a constant (``1.0`` for each argument of ``add``), or ``None`` when
    the primitive is not differentiable in that argument (the condition of
    ``where``). Both the forward and the reverse rule are *derived* from them, here
    and nowhere else (as ChainRules' ``@scalar_rule`` does): the tangent by
    :func:`elementwise_tangent`, the cotangents by :func:`partials_at` (evaluated when
    the primitive runs, so its arguments need not stay alive) and :func:`cotangent`.
:class:`Custom`
    A forward rule ``jvp(out, args, tangents, **params) -> out_dot`` and/or a reverse
    rule ``vjp(out, args, wrt, **params) -> pullback``, for array primitives.
    ``tangents[i] is None`` means a zero tangent; a ``None`` result means the output
    tangent is zero. ``wrt`` lists the argument positions that need a cotangent;
    ``pullback(out_bar)`` returns one cotangent per position in ``wrt`` (``None`` for
    a zero).
:class:`Linear`
    A primitive linear in all its arguments: its jvp is the primitive itself applied
    to the tangents, its vjp the declared ``transpose``.

Every rule offers the same two methods, ``rule.jvp(out, args, tangents, **params)``
and ``rule.vjp(out, args, wrt, **params)``, so an engine never asks what kind of
rule it holds (the hot paths of forward and reverse mode do, to skip work). Rule
bodies use adlab operations only, so the rules are themselves differentiable: every
engine can run them on its own value type, and higher derivatives come for free.

A primitive's ``nondiff_argnums`` (settings passed positionally, such as an
iteration count) get no derivative: their partial is ``None``, their tangent is
never handed to a jvp and no cotangent is asked of a vjp. Its ``kink`` note is the
documented derivative at its non-differentiable points: a fixed subgradient,
never an exception (``ad.rule_table()`` shows them).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.tangents import broadcast_like, dtype_of, fit, shape_of, zeros_like

if TYPE_CHECKING:
    from adlab.core.primitive import Primitive

Partial = Callable[..., Any] | float

_TABLE: weakref.WeakKeyDictionary[Primitive, None] = weakref.WeakKeyDictionary()
"""Every primitive alive, in order of creation (the library's and the user's)."""


def register(prim: Primitive) -> None:
    """Enter a new primitive in the table (its constructor does)."""
    _TABLE[prim] = None


def table() -> list[Primitive]:
    """Every primitive alive, in order of creation."""
    return list(_TABLE)


# ---------------------------------------------------------------------------
# The one derivation: partials -> tangent, partials -> cotangents

_PLAIN = (float, int, bool, np.floating, np.ndarray, np.bool_)


def times(d: Any, t: Any, first: bool = True) -> Any:
    """The term ``∂ · ẋ`` of a tangent (``ẋ · ∂`` for an argument after the first, the
    textbook's spelling when the values are expressions), or None for no term.

    A tangent that is exactly zero keeps the term exactly zero even where the partial is
    infinite or nan (a "strong zero"): a zero tangent holds its direction constant, and
    0 · inf = nan would spoil the other components of a gradient, or the other columns of
    a Jacobian. An expression tangent that is the constant 0 gives no term at all. A traced
    tangent (a box) multiplies plainly: it is zero only at this point, not in its
    derivatives.
    """
    if type(t) is float:  # the scalar fast path
        if type(d) is float:
            p = d * t
            return 0.0 if p != p and t == 0.0 else p
        if t == 0.0:
            return zeros_like(d)
    elif not isinstance(t, _PLAIN):  # a box: traced by another transformation, or a formula
        structural_zero = getattr(t, "_structural_zero", None)
        if structural_zero is not None and structural_zero():
            return None
        return d * t if first else t * d
    elif isinstance(d, _PLAIN):
        if np.isfinite(d).all() if isinstance(d, np.ndarray) else math.isfinite(d):
            return d * t
        with np.errstate(invalid="ignore"):  # the 0 · inf products are replaced just below
            p = d * t
        return np.where(t == 0, np.zeros_like(p), p) if np.ndim(p) else (
            zeros_like(p) if t == 0 else p)  # fmt: skip
    elif hasattr(d, "_times_held") and np.any(t == 0):  # a traced partial, maybe infinite
        return d._times_held(t, first)
    return d * t if first else t * d


def elementwise_tangent(fns: Sequence[Partial | None], args: Sequence[Any], out: Any,
                        tangents: Sequence[Any]) -> Any:  # fmt: skip
    """``out_dot = Σᵢ ∂out/∂xᵢ · ẋᵢ`` from declared partials, or None when no term is left
    (every tangent None: the inputs are held constant).

    A partial declared as the number 1 passes its tangent through (no ``1 *``); every
    other term is :func:`times`, so a zero tangent is a strong zero. The terms are summed
    left to right, the first argument's as ``∂₀ · ẋ₀`` and later ones as ``ẋᵢ · ∂ᵢ``, so on
    expressions this is the textbook's product rule, ``d(x·x) = x * 1 + 1 * x``.
    """
    total = None
    for i, (d, t) in enumerate(zip(fns, tangents)):
        if d is None or t is None:
            continue
        if callable(d):
            term = times(d(*args, out), t, i == 0)
        elif (type(d) is float or type(d) is int) and d == 1:  # declared as 1: no product
            term = t
        else:
            term = times(d, t, i == 0)
        if term is not None:
            total = term if total is None else total + term
    return total


def cotangent(out_bar: Any, d: Any, aval: tuple | None = None) -> Any:
    """``out̅ · ∂``, summed back to the argument's shape and cast to its dtype (``aval`` is
    ``(shape, dtype)``, or None for a Python float). A partial of ±1 passes ``out̅`` on
    without a multiplication. No strong zero here: a zero cotangent meeting an infinite
    partial is the "where trap" (``where(x > 0, sqrt(x), 0)`` at 0), nan in every mode."""
    c = out_bar * d if type(d) is not float or (d != 1.0 and d != -1.0) else (
        out_bar if d > 0 else -out_bar)  # fmt: skip
    if aval is None:
        return c if type(c) is float else fit(c, (), None)
    return fit(c, aval[0], aval[1])


def partials_at(fns: Sequence[Partial | None], args: Sequence[Any], out: Any,
                positions: Sequence[int]) -> list[Any]:  # fmt: skip
    """The declared partials at ``args`` for each of ``positions`` (None where there is none)."""
    return [d(*args, out) if callable(d := fns[i]) else d for i in positions]


def aval_of(x: Any) -> tuple | None:
    """``(shape, dtype)`` of a value, or None for a Python float: what a cotangent must fit."""
    return None if type(x) is float else (shape_of(x), dtype_of(x))


# ---------------------------------------------------------------------------
# The kinds of rule


_declarations = itertools.count()


class Rule:
    """What every rule offers: ``jvp(out, args, tangents, **params)`` and ``vjp(out, args,
    wrt, **params)``, a ``kind`` and a ``text`` for the rule table. ``seq`` orders the
    table: when the primitive first got a rule."""

    __slots__ = ("prim", "seq")
    kind = "none"

    def __init__(self, prim: Primitive) -> None:
        self.prim = prim
        self.seq = prim.rule.seq if prim.rule is not None else next(_declarations)

    def jvp(self, out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        raise missing_rule(self.prim, "forward")

    def vjp(self, out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        raise missing_rule(self.prim, "reverse")

    @property
    def has_jvp(self) -> bool:
        return True

    @property
    def has_vjp(self) -> bool:
        return True

    def text(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"<{self.kind} rule of {self.prim.name}>"


class Partials(Rule):
    """Partial derivatives, one per argument (see the module docstring); ``joint`` is the
    function they were declared with by ``.defrule``, if they were."""

    __slots__ = ("fns", "joint")
    kind = "partials"

    def __init__(self, prim: Primitive, fns: tuple[Partial | None, ...],
                 joint: Callable[..., Any] | None = None) -> None:  # fmt: skip
        super().__init__(prim)
        self.fns = fns
        self.joint = joint

    def jvp(self, out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        if params:
            raise _settings_error(self, params)
        out_dot = elementwise_tangent(self.fns, args, out, tangents)
        if out_dot is None or type(out) is float:
            return out_dot
        return broadcast_like(out_dot, out)

    def vjp(self, out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        if params:
            raise _settings_error(self, params)
        ds = partials_at(self.fns, args, out, wrt)  # now: the inputs need not stay alive
        avals = [aval_of(args[i]) for i in wrt]

        def partials_pullback(out_bar: Any) -> tuple:
            return tuple(cotangent(out_bar, d, aval) for d, aval in zip(ds, avals))

        partials_pullback.__qualname__ = f"{self.prim.name}_pullback"
        return partials_pullback

    def text(self) -> str:
        if self.joint is not None:
            return f"partials: {self.joint.__name__}"
        return ""  # the rule table reads each partial's source


class Custom(Rule):
    """A forward rule and/or a reverse rule written by hand (either may be None)."""

    __slots__ = ("jvp_rule", "vjp_rule")

    def __init__(self, prim: Primitive, jvp: Callable[..., Any] | None,
                 vjp: Callable[..., Any] | None) -> None:  # fmt: skip
        super().__init__(prim)
        self.jvp_rule = jvp
        self.vjp_rule = vjp

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "+".join(k for k, r in (("jvp", self.jvp_rule), ("vjp", self.vjp_rule)) if r)

    @property
    def has_jvp(self) -> bool:
        return self.jvp_rule is not None

    @property
    def has_vjp(self) -> bool:
        return self.vjp_rule is not None

    def jvp(self, out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        if self.jvp_rule is None:
            raise missing_rule(self.prim, "forward")
        nondiff = self.prim.nondiff_argnums
        if nondiff:
            tangents = [None if i in nondiff else t for i, t in enumerate(tangents)]
            if all(t is None for t in tangents):
                return None
        return self.jvp_rule(out, args, tangents, **params)

    def vjp(self, out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        if self.vjp_rule is None:
            raise missing_rule(self.prim, "reverse")
        nondiff = self.prim.nondiff_argnums
        if not nondiff:
            return self.vjp_rule(out, args, wrt, **params)
        operands = tuple(i for i in wrt if i not in nondiff)
        pullback = self.vjp_rule(out, args, operands, **params) if operands else None

        def operands_pullback(out_bar: Any) -> tuple:
            cts = iter(pullback(out_bar) if pullback is not None else ())
            return tuple(None if i in nondiff else next(cts) for i in wrt)

        return operands_pullback

    def text(self) -> str:
        return ", ".join(f"{k}: {_rule_name(r)}" for k, r in
                         (("jvp", self.jvp_rule), ("vjp", self.vjp_rule)) if r)  # fmt: skip


def _rule_name(fn: Callable[..., Any]) -> str:
    """A half of a rule by its name, or by where it came from when it is derived."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, Rule):
        return f"derived from {owner.kind.split(' ')[0]}"
    return getattr(fn, "__name__", repr(fn))


class Linear(Rule):
    """A primitive linear in all its arguments: ``transpose(out_bar, avals, wrt, **params)``
    gives the cotangents from the arguments' ``(shape, dtype)`` only, so nothing but shapes
    is kept alive."""

    __slots__ = ("transpose",)
    kind = "linear (jvp = itself, vjp = transpose)"

    def __init__(self, prim: Primitive, transpose: Callable[..., Any]) -> None:
        super().__init__(prim)
        self.transpose = transpose

    def jvp(self, out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        if all(t is None for t in tangents):
            return None
        filled = [t if t is not None else zeros_like(a) for a, t in zip(args, tangents)]
        return self.prim(*filled, **params)

    def vjp(self, out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        avals = [(shape_of(a), dtype_of(a)) for a in args]
        transpose = self.transpose

        def linear_pullback(out_bar: Any) -> tuple:
            return transpose(out_bar, avals, wrt, **params)

        linear_pullback.__qualname__ = f"{self.prim.name}_pullback"
        return linear_pullback

    def text(self) -> str:
        return f"transpose: {self.transpose.__name__}"


# ---------------------------------------------------------------------------
# Declaring rules


def defpartials(prim: Primitive, *fns: Partial | None) -> None:
    """Declare ``prim``'s partial derivatives, one function ``d_i(*args, out)`` per argument.

    Anonymous functions are renamed after what they compute (``mul_dy`` is
    ∂mul/∂y), so a traceback through a rule reads like the mathematics.
    """
    nondiff = prim.nondiff_argnums
    prim.rule = Partials(
        prim, tuple(None if i in nondiff else _named(prim, i, fn) for i, fn in enumerate(fns))
    )


def defjvp(prim: Primitive, jvp: Callable[..., Any], checked: bool = False) -> None:
    """Declare ``prim``'s forward rule ``jvp(out, args, tangents, **params) -> out_dot``.

    It replaces declared partials; the reverse rule they gave stays until a vjp is declared.
    ``checked`` (a user's rule) refuses a tangent whose shape is not the output's.
    """
    prim.rule = Custom(prim, _checked_jvp(prim, jvp) if checked else jvp, _half(prim, "vjp"))


def defvjp(prim: Primitive, vjp: Callable[..., Any], checked: bool = False) -> None:
    """Declare ``prim``'s reverse rule ``vjp(out, args, wrt, **params) -> pullback``.

    It replaces declared partials; the forward rule they gave stays until a jvp is declared.
    ``checked`` (a user's rule) refuses a cotangent whose shape is not its argument's.
    """
    prim.rule = Custom(prim, _half(prim, "jvp"), _checked_vjp(prim, vjp) if checked else vjp)


# A user's rule is checked where its results come back, so that a result of the wrong shape
# is named instead of used (a (3,) gradient for a (2,) input, or a tangent summed away). The
# library's rules are trusted: they are declared unchecked and pay nothing.


def _checked_jvp(prim: Primitive, jvp: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(jvp)
    def checked_jvp(out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        out_dot = jvp(out, args, tangents, **params)
        if out_dot is not None:
            _check_shape(prim, jvp, "the tangent of its output", out_dot, shape_of(out))
        return out_dot

    return checked_jvp


def _checked_vjp(prim: Primitive, vjp: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(vjp)
    def checked_vjp(out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        pullback = vjp(out, args, wrt, **params)
        shapes = [shape_of(args[i]) for i in wrt]

        def checked_pullback(out_bar: Any) -> Any:
            cts = pullback(out_bar)
            if not isinstance(cts, tuple | list) or len(cts) != len(wrt):
                raise DifferentiationError(
                    f"the pullback of the rule {vjp.__name__} of {prim.name} must return a "
                    f"tuple of {len(wrt)} cotangent(s), one for each position in wrt="
                    f"{tuple(wrt)}, got {type(cts).__name__} {cts!r:.60}"
                )
            for i, shape, ct in zip(wrt, shapes, cts):
                if ct is not None:
                    _check_shape(prim, vjp, f"a cotangent for {_argument(prim, i)}", ct, shape)
            return cts

        checked_pullback.__qualname__ = getattr(pullback, "__qualname__", "pullback")
        return checked_pullback

    return checked_vjp


def _check_shape(prim: Primitive, rule: Callable[..., Any], what: str, got: Any,
                 want: tuple[int, ...]) -> None:  # fmt: skip
    if shape_of(got) != want:
        raise DifferentiationError(
            f"the rule {rule.__name__} of {prim.name} returned {what} with shape "
            f"{shape_of(got)}, but it must have shape {want}: a tangent or cotangent has the "
            "shape of the value it belongs to"
        )


def _argument(prim: Primitive, i: int) -> str:
    """Argument ``i`` of ``prim``, by its name when its function has one (for messages)."""
    try:
        names = list(inspect.signature(prim.impl).parameters)
    except (TypeError, ValueError):  # a builtin without a signature
        names = []
    return f"argument {i} ({names[i]})" if i < len(names) else f"argument {i}"


def _half(prim: Primitive, which: str) -> Callable[..., Any] | None:
    """The jvp or vjp of ``prim``'s rule so far, to keep beside a newly declared other half."""
    rule = prim.rule
    if rule is None:
        return None
    if isinstance(rule, Custom):
        return rule.jvp_rule if which == "jvp" else rule.vjp_rule
    return rule.jvp if which == "jvp" else rule.vjp


def deflinear(prim: Primitive, transpose: Callable[..., Any]) -> None:
    """Declare a primitive that is linear in all its arguments (see :class:`Linear`)."""
    prim.rule = Linear(prim, transpose)


def defkink(prim: Primitive, note: str) -> None:
    """Document the derivative ``prim``'s rule gives at its kinks (shown by ``ad.rule_table()``)."""
    prim.kink = note


def defrule(prim: Primitive, joint: Callable[..., Any]) -> Callable[..., Any]:
    """Declare partials with one function returning a tuple (the user-facing form).

    ``joint(*args)`` (or ``joint(*args, out=...)`` if it has a parameter named
    ``out``) returns one partial derivative per argument. For a one-argument
    primitive a bare value is accepted as well as a 1-tuple. Arguments in the
    primitive's ``nondiff_argnums`` may be left out of the tuple (or given as ``None``).
    """
    sig = inspect.signature(joint)
    takes_out = "out" in sig.parameters
    positional = [
        p
        for name, p in sig.parameters.items()
        if name != "out" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values()):
        raise DifferentiationError(
            f"{joint.__name__} takes *args; a rule for {prim.name} must name one parameter "
            "per argument of the primitive so adlab knows how many partials to expect"
        )
    nargs = len(positional)
    nondiff = prim.nondiff_argnums
    operands = tuple(i for i in range(nargs) if i not in nondiff)
    comps = tuple(
        None if i in nondiff else _component(prim, joint, i, operands, nargs, takes_out)
        for i in range(nargs)
    )
    prim.rule = Partials(prim, comps, joint)
    return joint


def _named(prim: Primitive, i: int, fn: Partial | None) -> Partial | None:
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name != "<lambda>":
        return fn
    arg = code.co_varnames[i] if i < code.co_argcount else str(i)
    name = f"{prim.name}_d{arg}"
    try:
        fn.__code__ = code.replace(co_name=name, co_qualname=name)
    except TypeError:  # Python 3.10 has no co_qualname
        fn.__code__ = code.replace(co_name=name)
    fn.__name__ = fn.__qualname__ = name
    return fn


def _component(
    prim: Primitive, joint: Callable, i: int, operands: tuple[int, ...], nargs: int,
    takes_out: bool,
) -> Partial:  # fmt: skip
    def partial_component(*args_and_out: Any) -> Any:
        *args, out = args_and_out
        result = joint(*args, out=out) if takes_out else joint(*args)
        if not isinstance(result, tuple):
            if len(operands) == 1:
                return _fits_output(prim, joint, i, result, out)
            raise DifferentiationError(
                f"the rule {joint.__name__} for {prim.name} must return a tuple of {nargs} "
                f"partial derivatives (one per argument), got {type(result).__name__}"
            )
        if len(result) == nargs:
            return _fits_output(prim, joint, i, result[i], out)
        if len(result) == len(operands):  # the non-differentiable arguments left out
            return _fits_output(prim, joint, i, result[operands.index(i)], out)
        raise DifferentiationError(
            f"the rule {joint.__name__} for {prim.name} returned {len(result)} partial "
            f"derivatives, but {prim.name} takes {nargs} argument(s)"
            + (f", {len(operands)} of them differentiable" if len(operands) < nargs else "")
        )

    partial_component.__qualname__ = f"{joint.__name__}[{i}]"
    return partial_component


def _fits_output(prim: Primitive, joint: Callable, i: int, d: Any, out: Any) -> Any:
    """A user's partial ``d`` of ``prim`` in argument ``i``, refused unless it broadcasts to
    the output's shape (a partial of an elementwise primitive has the output's shape or less:
    a larger one was summed back to the argument, a silent wrong gradient)."""
    got, want = shape_of(d), shape_of(out)
    if got != want and (len(got) > len(want) or any(
            g != 1 and g != w for g, w in zip(reversed(got), reversed(want)))):  # fmt: skip
        raise DifferentiationError(
            f"the rule {joint.__name__} of {prim.name} returned a partial derivative for "
            f"{_argument(prim, i)} with shape {got}, but it must have the output's shape "
            f"{want} (or one that broadcasts to it): a partial of an elementwise primitive "
            "is one number per element of the output"
        )
    return d


def _settings_error(rule: Partials, params: dict) -> DifferentiationError:
    named = next((fn.__qualname__ for fn in rule.fns if callable(fn)), "its partials")
    return DifferentiationError(
        f"a primitive declared by partial derivatives ({named}) was called with the keyword "
        f"setting(s) {', '.join(params)}, which partials cannot see; pass them positionally "
        "and list them in nondiff_argnums, or declare the rule with .defjvp and .defvjp, "
        "which receive settings as **params"
    )


# ---------------------------------------------------------------------------
# Reading the table

_HOW = {
    "forward": ("forward mode, symbolic differentiation and sct's tangent code", "defjvp",
                "jvp(out, args, tangents, **params) -> out_dot", "reverse"),
    "reverse": ("reverse mode and sct's adjoint code", "defvjp",
                "vjp(out, args, wrt, **params) -> pullback", "forward"),
}  # fmt: skip


def missing_rule(prim: Primitive, mode: str) -> DifferentiationError:
    """The error for differentiating ``prim`` in ``mode`` ("reverse" or "forward") when
    the table has no rule for it; every engine raises this one.

    >>> from adlab.core.primitive import Primitive
    >>> print(missing_rule(Primitive("cube_without_rule", lambda x: x**3), "forward"))
    the primitive 'cube_without_rule' has no forward-mode rule, which forward mode, symbolic
    differentiation and sct's tangent code need. Declare its partial derivatives with
    @cube_without_rule.defrule (one per argument, written with adlab operations), or its
    forward rule with @cube_without_rule.defjvp: jvp(out, args, tangents, **params) -> out_dot
    """
    users, decorator, signature, other = _HOW[mode]
    name = prim.name
    message = (
        f"the primitive '{name}' has no {mode}-mode rule, which {users} need. Declare its "
        f"partial derivatives with @{name}.defrule (one per argument, written with adlab "
        f"operations), or its {mode} rule with @{name}.{decorator}: {signature}"
    )
    rule = prim.rule
    if rule is not None and (rule.has_vjp if mode == "forward" else rule.has_jvp):
        message += f" (it has a {other}-mode rule: mode='{other}' differentiates it as it is)"
    return DifferentiationError(message)


def rule_kind(prim: Primitive) -> str:
    """How ``prim``'s derivative is declared: 'partials', 'linear', 'jvp+vjp', ..., or 'none'."""
    if not prim.differentiable:
        return "zero (not differentiable)"
    return "none" if prim.rule is None else prim.rule.kind


class _View(Mapping):
    """A live, read-only view of the table: primitive -> what ``read(prim)`` gives (primitives
    for which it gives None are left out). For inspection and display; engines read the
    rule on the primitive."""

    def __init__(self, read: Callable[[Primitive], Any]) -> None:
        self._read = read

    def _items(self) -> list[tuple[Primitive, Any]]:
        return [(p, v) for p in table() if (v := self._read(p)) is not None]

    def __getitem__(self, prim: Primitive) -> Any:
        value = self._read(prim) if hasattr(prim, "rule") else None
        if value is None:
            raise KeyError(prim)
        return value

    def __iter__(self) -> Iterator[Primitive]:
        return iter([p for p, _ in self._items()])

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._items())!r})"


def _written(half: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """A half of a rule as its author wrote it (without the check of a user's rule)."""
    return half if half is None else inspect.unwrap(half)


def _declared(prim: Primitive) -> Any:
    rule = prim.rule
    if isinstance(rule, Partials):
        return rule.joint or rule.fns
    if isinstance(rule, Custom):
        return (_written(rule.jvp_rule), _written(rule.vjp_rule))
    if isinstance(rule, Linear):
        return ("linear", rule.transpose)
    return None


partials: Mapping[Primitive, tuple] = _View(
    lambda p: p.rule.fns if isinstance(p.rule, Partials) else None
)
"""Primitives declared by partials -> their partials (a view of the table)."""
jvps: Mapping[Primitive, Callable] = _View(lambda p: _written(_half(p, "jvp")))
"""Primitives with a forward rule -> it (a view of the table)."""
vjps: Mapping[Primitive, Callable] = _View(lambda p: _written(_half(p, "vjp")))
"""Primitives with a reverse rule -> it (a view of the table)."""
declared: Mapping[Primitive, Any] = _View(_declared)
"""What was written for each primitive: its partials, its defrule function, its (jvp, vjp)
pair, or ``("linear", transpose)`` (a view of the table)."""
kinks: Mapping[Primitive, str] = _View(lambda p: p.kink)
"""The documented subgradient choice at each primitive's kinks (a view of the table)."""


class ByName(Mapping[str, Any]):
    """A live, read-only view of a view keyed by primitive, by primitive name (the first
    primitive registered under a name keeps it).

    >>> from adlab.ops import scalar
    >>> ByName(kinks)["abs"]
    "abs'(0) = 0"
    """

    def __init__(self, registry: Mapping[Primitive, Any]) -> None:
        self._registry = registry

    def _by_name(self) -> dict[str, Any]:
        named: dict[str, Any] = {}
        for prim, value in self._registry.items():
            named.setdefault(prim.name, value)
        return named

    def __getitem__(self, name: str) -> Any:
        return self._by_name()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name())

    def __len__(self) -> int:
        return len(self._by_name())

    def __repr__(self) -> str:
        return f"ByName({self._by_name()!r})"
