"""The rule registry: plain dicts keyed by primitive.

``partials[prim] = (d0, d1, ...)``
    The partial derivatives of an elementwise primitive, one per argument:
    a function ``d_i(*args, out)`` returning ∂out/∂args[i] (broadcastable to
    the output), a constant (``1.0`` for each argument of ``add``), or ``None``
    when the primitive is not differentiable in that argument (the condition
    of ``where``).
``jvps[prim](out, args, tangents, **params) -> out_dot``
    Forward rule. ``tangents[i] is None`` means a zero tangent; a ``None``
    result means the output tangent is zero.
``vjps[prim](out, args, wrt, **params) -> pullback``
    Reverse rule. ``wrt`` lists the argument positions that need a cotangent;
    ``pullback(out_bar)`` returns one cotangent per position in ``wrt`` (``None``
    for a zero).
``kinks[prim] = "abs'(0) = 0"``
    The documented derivative at the primitive's non-differentiable points: a
    fixed subgradient, never an exception (``ad.rule_table()`` shows them).

Declaring partials fills all three entries: the jvp and the vjp are *derived*
from the one list of partials (as ChainRules' ``@scalar_rule`` does), so each
derivative formula is written exactly once, in :mod:`adlab.ops`. Rule bodies use
adlab operations only, so the rules are themselves differentiable: every engine
can run them on its own value type, and higher derivatives come for free.

A primitive's ``nondiff_argnums`` (settings passed positionally, such as an
iteration count) get no derivative: their partial is ``None``, their tangent is
never handed to a jvp and no cotangent is asked of a vjp.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from adlab.core.errors import DifferentiationError
from adlab.core.tangents import broadcast_like, dtype_of, fit, shape_of, zeros_like

if TYPE_CHECKING:
    from adlab.core.primitive import Primitive

Partial = Callable[..., Any]

partials: dict[Primitive, tuple[Partial | None, ...]] = {}
jvps: dict[Primitive, Callable[..., Any]] = {}
vjps: dict[Primitive, Callable[..., Any]] = {}
declared: dict[Primitive, Any] = {}
"""What was written for each primitive (its partials or its jvp/vjp pair), for display."""
kinks: dict[Primitive, str] = {}
"""The documented subgradient choice at each primitive's kinks, for display."""


def defpartials(prim: Primitive, *fns: Partial | None) -> None:
    """Declare ``prim``'s partial derivatives, one function ``d_i(*args, out)`` per argument.

    Anonymous functions are renamed after what they compute (``mul_dy`` is
    ∂mul/∂y), so a traceback through a rule reads like the mathematics.
    """
    nondiff = _nondiff(prim)
    fns = tuple(None if i in nondiff else _named(prim, i, fn) for i, fn in enumerate(fns))
    partials[prim] = fns
    jvps[prim] = _jvp_from_partials(fns)
    vjps[prim] = _vjp_from_partials(fns)
    declared[prim] = fns


def partial_value(d: Partial | float, args: Sequence, out: Any) -> Any:
    """The value of one declared partial at ``args`` (constants are their own value)."""
    return d(*args, out) if callable(d) else d


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


def defjvp(prim: Primitive, jvp: Callable[..., Any]) -> None:
    """Declare ``prim``'s forward rule ``jvp(out, args, tangents, **params) -> out_dot``.

    It replaces declared partials (the vjp derived from them stays until a vjp is declared).
    """
    partials.pop(prim, None)
    jvps[prim] = _jvp_skipping_nondiff(prim, jvp)
    declared[prim] = (jvp, _declared_half(prim, 1))


def defvjp(prim: Primitive, vjp: Callable[..., Any]) -> None:
    """Declare ``prim``'s reverse rule ``vjp(out, args, wrt, **params) -> pullback``.

    It replaces declared partials (the jvp derived from them stays until a jvp is declared).
    """
    partials.pop(prim, None)
    vjps[prim] = _vjp_skipping_nondiff(prim, vjp)
    declared[prim] = (_declared_half(prim, 0), vjp)


def defkink(prim: Primitive, note: str) -> None:
    """Document the derivative ``prim``'s rule gives at its kinks (shown by ``ad.rule_table()``)."""
    kinks[prim] = note


def _declared_half(prim: Primitive, k: int) -> Callable[..., Any] | None:
    """The jvp (k = 0) or vjp (k = 1) written for ``prim`` so far, if one was."""
    decl = declared.get(prim)
    if isinstance(decl, tuple) and len(decl) == 2 and decl[0] != "linear":
        return decl[k]
    return None


def _nondiff(prim: Primitive) -> tuple[int, ...]:
    return getattr(prim, "nondiff_argnums", ())


def _jvp_skipping_nondiff(prim: Primitive, jvp: Callable[..., Any]) -> Callable[..., Any]:
    nondiff = _nondiff(prim)
    if not nondiff:
        return jvp

    @functools.wraps(jvp)
    def jvp_of_operands(out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        tangents = [None if i in nondiff else t for i, t in enumerate(tangents)]
        if all(t is None for t in tangents):
            return None
        return jvp(out, args, tangents, **params)

    return jvp_of_operands


def _vjp_skipping_nondiff(prim: Primitive, vjp: Callable[..., Any]) -> Callable[..., Any]:
    nondiff = _nondiff(prim)
    if not nondiff:
        return vjp

    @functools.wraps(vjp)
    def vjp_of_operands(out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        operands = tuple(i for i in wrt if i not in nondiff)
        pullback = vjp(out, args, operands, **params) if operands else None

        def operands_pullback(out_bar: Any) -> tuple:
            cts = iter(pullback(out_bar) if pullback is not None else ())
            return tuple(None if i in nondiff else next(cts) for i in wrt)

        return operands_pullback

    return vjp_of_operands


def deflinear(prim: Primitive, transpose: Callable[..., Any]) -> None:
    """Declare a primitive that is linear in all its arguments.

    Its jvp is the primitive itself applied to the tangents (zeros for missing
    ones); ``transpose(out_bar, args, wrt, **params)`` gives the cotangents,
    using only the arguments' shapes, so nothing but shapes is kept alive.
    """

    def linear_jvp(out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        if all(t is None for t in tangents):
            return None
        filled = [t if t is not None else zeros_like(a) for a, t in zip(args, tangents)]
        return prim(*filled, **params)

    def linear_vjp(out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        avals = [(shape_of(a), dtype_of(a)) for a in args]

        def linear_pullback(out_bar: Any) -> tuple:
            return transpose(out_bar, avals, wrt, **params)

        return linear_pullback

    linear_jvp.__qualname__ = f"{prim.name}_jvp"
    linear_vjp.__qualname__ = f"{prim.name}_vjp"
    jvps[prim] = linear_jvp
    vjps[prim] = linear_vjp
    declared[prim] = ("linear", transpose)


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
    nondiff = _nondiff(prim)
    operands = tuple(i for i in range(nargs) if i not in nondiff)
    comps = tuple(
        None if i in nondiff else _component(prim, joint, i, operands, nargs, takes_out)
        for i in range(nargs)
    )
    defpartials(prim, *comps)
    declared[prim] = joint
    return joint


def _component(
    prim: Primitive, joint: Callable, i: int, operands: tuple[int, ...], nargs: int,
    takes_out: bool,
) -> Partial:  # fmt: skip
    def partial_component(*args_and_out: Any) -> Any:
        *args, out = args_and_out
        result = joint(*args, out=out) if takes_out else joint(*args)
        if not isinstance(result, tuple):
            if len(operands) == 1:
                return result
            raise DifferentiationError(
                f"the rule {joint.__name__} for {prim.name} must return a tuple of {nargs} "
                f"partial derivatives (one per argument), got {type(result).__name__}"
            )
        if len(result) == nargs:
            return result[i]
        if len(result) == len(operands):  # the non-differentiable arguments left out
            return result[operands.index(i)]
        raise DifferentiationError(
            f"the rule {joint.__name__} for {prim.name} returned {len(result)} partial "
            f"derivatives, but {prim.name} takes {nargs} argument(s)"
            + (f", {len(operands)} of them differentiable" if len(operands) < nargs else "")
        )

    partial_component.__qualname__ = f"{joint.__name__}[{i}]"
    return partial_component


def _jvp_from_partials(fns: tuple[Partial | None, ...]) -> Callable[..., Any]:
    def partials_jvp(out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
        if params:
            raise _settings_error(fns, params)
        out_dot = None
        for d, arg_dot in zip(fns, tangents):
            if arg_dot is None or d is None:
                continue
            term = partial_value(d, args, out) * arg_dot
            out_dot = term if out_dot is None else out_dot + term
        return None if out_dot is None else broadcast_like(out_dot, out)

    return partials_jvp


def _vjp_from_partials(fns: tuple[Partial | None, ...]) -> Callable[..., Any]:
    def partials_vjp(out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
        if params:
            raise _settings_error(fns, params)
        ds = [partial_value(fns[i], args, out) for i in wrt]  # now: inputs need not stay alive
        avals = [(shape_of(args[i]), dtype_of(args[i])) for i in wrt]

        def partials_pullback(out_bar: Any) -> tuple:
            return tuple(fit(out_bar * d, shape, dtype) for d, (shape, dtype) in zip(ds, avals))

        return partials_pullback

    return partials_vjp


def _settings_error(fns: tuple[Partial | None, ...], params: dict) -> DifferentiationError:
    named = next((fn.__qualname__ for fn in fns if callable(fn)), "its partials")
    return DifferentiationError(
        f"a primitive declared by partial derivatives ({named}) was called with the keyword "
        f"setting(s) {', '.join(params)}, which partials cannot see; pass them positionally "
        "and list them in nondiff_argnums, or declare the rule with .defjvp and .defvjp, "
        "which receive settings as **params"
    )


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
    if prim in (vjps if mode == "forward" else jvps):
        message += f" (it has a {other}-mode rule: mode='{other}' differentiates it as it is)"
    return DifferentiationError(message)


def rule_kind(prim: Primitive) -> str:
    """How ``prim``'s derivative is declared: 'partials', 'linear', 'jvp+vjp', ..., or 'none'."""
    if not prim.differentiable:
        return "zero (not differentiable)"
    if prim in partials:
        return "partials"
    decl = declared.get(prim)
    if isinstance(decl, tuple) and decl and decl[0] == "linear":
        return "linear (jvp = itself, vjp = transpose)"
    kinds = [k for k, reg in (("jvp", jvps), ("vjp", vjps)) if prim in reg]
    return "+".join(kinds) if kinds else "none"


class ByName(Mapping[str, Any]):
    """A live, read-only view of a registry keyed by primitive, by primitive name (the first
    primitive registered under a name keeps it).

    >>> from adlab.ops import scalar
    >>> ByName(kinks)["abs"]
    "abs'(0) = 0"
    """

    def __init__(self, registry: dict[Primitive, Any]) -> None:
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
