"""Symbolic differentiation IS forward mode, run on expression trees.

:func:`diff` walks the tree children first and gives every node a tangent, an
expression: the variable's tangent is ``1``; every other node's comes from the
table's forward rule, applied to expressions instead of numbers. No derivative
formula is written here; they all come from :mod:`adlab.ops` through
:mod:`adlab.core.rules`:

* a primitive declared by its partial derivatives (all elementwise ones) gets
  ``out_dot = Σᵢ ∂ᵢ · ẋᵢ``, the derivation :mod:`adlab.core.rules` uses for
  every engine, with each partial ``∂ᵢ`` evaluated on the node's arguments;
* any other primitive calls its registered jvp, ``jvps[prim](out, args, tangents)``.

Notation (fixed, so printed derivatives and their sizes are reproducible):

* the term of the first argument is written ``∂₀ · ẋ₀``, the terms of later
  arguments ``ẋᵢ · ∂ᵢ``, summed left to right: ``d(x·x) = x * 1 + 1 * x``, the
  textbook's spelling of the product rule. Its two terms are different trees, so
  the Wengert list of a derivative keeps both (a symmetric spelling would let
  common-subexpression elimination merge them);
* a partial *declared* as the constant 1 (both of ``add``'s, the first of
  ``sub``'s) passes the tangent through, with no ``1 *`` factor;
* arguments that are constants are handed to the rules as plain numbers, as in
  numeric code (so ``pow``'s rule takes its fast path for ``x ** 2``: ``2 * x ** 1.0``).

Zero tangents: with ``simplify=False`` (the *naive* derivative, for teaching)
every leaf has an explicit tangent, ``1`` for the variable and ``0`` (the
textbook's "the derivative of a constant is 0") for other symbols and
constants, and nothing is simplified: ``d(x·x + 3) = x * 1 + 1 * x + 0``. A zero
tangent is passed through where a partial is declared as 1 (so the sum rule
shows its ``+ 0``), but it never multiplies a partial: ``∂ · 0`` is not 0 when
the partial is infinite or nan (``x ** 2``'s partial in its exponent,
``x² · log x``, is nan for ``x < 0``), so such a term is left out, as forward
mode leaves it out. With ``simplify=True`` a zero tangent is absent (``None``)
from the start, and the result is simplified with the trivial rules of
:meth:`~adlab.core.expr.Expr.simplify` (the safe ones): ``x + x``. Calls on
constants are folded in both modes (``1 * 2`` is built as ``2``).
"""

from __future__ import annotations

import math
from typing import Any

from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.expr import Call, Const, Expr, Sym, as_expr

__all__ = ["diff"]


def diff(expr: Any, x: Sym | str, simplify: bool = True) -> Expr:
    """The derivative of ``expr`` with respect to the symbol ``x`` (a Sym or its name).

    Forward mode on the tree, the table's rules applied to expressions (see the
    module docstring for the notation). ``simplify=False`` gives the naive
    derivative, explicit zeros and ones included.

    >>> from adlab.engines.symbolic import parse
    >>> e = parse("x*x + 3")
    >>> print(diff(e, "x", simplify=False))
    x * 1 + 1 * x + 0
    >>> print(diff(e, "x"))
    x + x
    """
    expr = as_expr(expr)
    var = _symbol(x)
    one = Const(1)
    zero = None if simplify else Const(0)
    tangents: dict[int, Expr | None] = {}
    for node in expr.walk():
        if isinstance(node, Sym):
            tangents[id(node)] = one if node == var else zero
        elif isinstance(node, Const):
            tangents[id(node)] = zero
        else:
            assert isinstance(node, Call)
            arg_dots = [tangents[id(a)] for a in node.args]
            if all(t is None for t in arg_dots):
                tangents[id(node)] = None
            elif not node.prim.differentiable:
                tangents[id(node)] = zero  # comparisons, sign: zero wherever defined
            else:
                tangents[id(node)] = _tangent(node, arg_dots, zero)
    out_dot = tangents[id(expr)]
    if out_dot is None:
        return Const(0)
    return out_dot.simplify() if simplify else out_dot


def _symbol(x: Sym | str) -> Sym:
    if isinstance(x, str):
        return Sym(x)
    if isinstance(x, Sym):
        return x
    raise DifferentiationError(
        f"diff differentiates with respect to a symbol (a Sym or its name), got {x!r}"
    )


def _tangent(node: Call, arg_dots: list[Expr | None], zero: Expr | None) -> Expr | None:
    """The tangent of one call, from the table's rule for its primitive."""
    prim = node.prim
    # constants as plain numbers: rules take fast paths for them (x ** 2 -> 2 * x ** 1.0)
    args = [a.value if isinstance(a, Const) else a for a in node.args]
    partials = rules.partials.get(prim)
    if partials is not None and not node.params:  # (with settings, the jvp says what is wrong)
        out_dot = None
        for i, (d, arg_dot) in enumerate(zip(partials, arg_dots)):
            if d is None or arg_dot is None:
                continue
            if not callable(d) and _is_one(d):
                term = arg_dot  # declared as the number 1: the tangent passes through
            elif _is_zero(arg_dot):
                continue  # never ∂ · 0: 0 · inf would be nan, and forward mode skips it too
            else:
                term = _times(rules.partial_value(d, args, node), arg_dot, first=i == 0)
            out_dot = term if out_dot is None else out_dot + term
        return zero if out_dot is None else out_dot
    jvp = rules.jvps.get(prim)
    if jvp is None:
        raise rules.missing_rule(prim, "forward")
    arg_dots = [None if t is not None and _is_zero(t) else t for t in arg_dots]
    if all(t is None for t in arg_dots):
        return zero
    out_dot = jvp(node, args, arg_dots, **dict(node.params))
    return zero if out_dot is None else as_expr(out_dot)


def _times(partial: Any, arg_dot: Expr, first: bool) -> Expr:
    """``∂ · ẋ`` for the first argument, ``ẋ · ∂`` for later ones, folded at once when both are
    numbers (as building the call would fold it, only faster: long chains have many)."""
    if isinstance(arg_dot, Const) and type(partial) in _NUMBERS and type(arg_dot.value) in _NUMBERS:
        value = partial * arg_dot.value if first else arg_dot.value * partial
        if math.isfinite(value):
            return Const(value)
    return partial * arg_dot if first else arg_dot * partial  # type: ignore[no-any-return]


_NUMBERS = (int, float)


def _is_one(value: Any) -> bool:
    return type(value) in (int, float) and value == 1


def _is_zero(t: Expr) -> bool:
    return isinstance(t, Const) and type(t.value) in (int, float) and t.value == 0
