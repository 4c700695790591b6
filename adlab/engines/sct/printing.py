"""Rules applied to names, printed as Python: what the adjoint and tangent passes share.

An elementwise primitive's partial derivatives are called with symbols for its
operands (``Sym("x")``), so they return expression trees (``cos(x)``), which
are printed as code of the generated function (``ad.cos(x)``). No derivative
formula is written here: every one comes from the primitive's rule, through the
derivation every engine uses (:mod:`adlab.core.rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from adlab.core import rules
from adlab.core.expr import Call, Const, Expr, Sym
from adlab.core.primitive import Primitive
from adlab.engines.sct.activity import SCALAR, Analysed
from adlab.engines.sct.fence import table_name
from adlab.engines.sct.ir import Atom, Name
from adlab.ops import scalar as S


class Scope:
    """The names of one generated function: fresh ones, and the values they are bound to."""

    def __init__(self, taken: set[str], namespace: dict[str, Any]) -> None:
        self.taken = set(taken)
        self.namespace = dict(namespace)

    def fresh(self, base: str) -> str:
        """``base``, or ``base2``, ``base3`` ... whichever is free; now taken."""
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}{k}"
        self.taken.add(name)
        return name

    def bind(self, value: Any, base: str) -> str:
        """A name for ``value`` in the generated function's globals (reused if bound already)."""
        for name, v in self.namespace.items():
            if v is value:
                return name
        name = self.fresh(base)
        self.namespace[name] = value
        return name


def atom_expr(atom: Atom) -> Expr:
    """An atom as an expression: names as symbols, numbers as constants, other values by name."""
    if isinstance(atom, Name):
        return Sym(atom.id)
    value = atom.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Const(value)
    return Sym(atom.text)


def partials_of(prim: Primitive, args: Sequence[Expr], out: Expr) -> list[Expr | None] | None:
    """The partial derivatives of ``prim`` applied to expressions; None when it has none or
    they cannot be applied to names (a rule that branches on values), so the run-time rule
    is used instead."""
    rule = prim.rule
    if not isinstance(rule, rules.Partials):
        return None
    try:
        values = rules.partials_at(rule.fns, tuple(args), out, range(len(rule.fns)))
    except Exception:
        return None
    partials = [None if v is None else v if isinstance(v, Expr) else Const(v) for v in values]
    if any(isinstance(n, Const) and np.ndim(n.value) for p in partials if p is not None
           for n in p.walk()):  # fmt: skip
        return None  # an array constant (a rule's np.array([2.0, 3.0])) has no literal
    return partials


def may_broadcast(a: Analysed, args: Sequence[Any], i: int) -> bool:
    """Whether argument ``i`` of an elementwise operation may be smaller than its result
    (another argument may be an array), so its cotangent must be summed back to its
    shape and its tangent broadcast. Never when every operand is a Python number."""
    me = args[i]
    return any(
        a.kind(x) != SCALAR and not (isinstance(x, Name) and x == me)
        for j, x in enumerate(args) if j != i
    )  # fmt: skip


class Printer:
    """Python for derivative expressions: table calls as ``ad.<name>``, and operators only
    where they mean what the table means.

    Python's ``/`` raises on a zero divisor and ``**`` raises or turns complex where
    the table gives ``inf`` or ``nan``. A rule's division is printed as ``/`` only when
    its divisor is one the primal statement already divided by (``-out / y`` for
    ``x / y``: nonzero, or the primal raised first); a power only with a
    non-negative integer exponent. Otherwise the table is called (``ad.truediv``).
    """

    def __init__(self, table: str, scope: Scope) -> None:
        self.table = table
        self.scope = scope

    def name(self, prim: Primitive) -> str:
        name = table_name(prim)
        return f"{self.table}.{name}" if name else self.scope.bind(prim, prim.name)

    def text(self, expr: Expr, safe_divisors: tuple[Expr, ...] = ()) -> str:
        def infix(call: Call) -> bool:
            if call.prim is S.truediv:
                return any(call.args[1].same(d) for d in safe_divisors)
            if call.prim is S.pow:
                e = call.args[1]
                return isinstance(e, Const) and float(e.value).is_integer() and e.value >= 0
            return True

        return expr.code(name=self.name, infix=infix)
