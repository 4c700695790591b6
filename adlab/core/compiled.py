"""The one derivation written as Python statements for Python floats: forward mode's hot path.

A scalar program spends its time in ``+ - * /`` of Python floats, where calling each
partial (a lambda) and the generic derivation per operation costs more than the
arithmetic. So :func:`~adlab.core.rules.elementwise_tangent` is applied to *names*
instead of numbers (as sct does for whole programs): its terms come back as expressions
(``y * x_dot``, ``y_dot * x``), printed as statements with the strong zero written out
after each term whose partial is computed::

    t0 = y * x_dot
    if t0 != t0 and x_dot == 0.0:
        t0 = 0.0
    t1 = y_dot * x
    if t1 != t1 and y_dot == 0.0:
        t1 = 0.0
    # the tangent: t0 + t1

Forward mode writes them into the operator methods of its duals. Primitives in them
are their implementations on floats (``x / y`` is the table's ``truediv``, which gives
inf where Python's ``/`` raises), so they give exactly what the generic derivation gives
on floats; a rule whose partials cannot be applied to names (a partial that branches on
its argument's value) has none.
"""

from __future__ import annotations

import keyword
import operator
from typing import Any

from adlab.core.expr import Call, Expr, Sym
from adlab.core.primitive import Primitive
from adlab.core.rules import Partials, Rule, elementwise_tangent

__all__ = ["TangentCode", "infix_text", "tangent_code"]

_INFIX = {operator.add, operator.sub, operator.mul, operator.neg, operator.gt, operator.ge,
          operator.lt, operator.le, operator.eq, operator.ne}  # fmt: skip
"""Implementations that are Python's own operators on floats: printed as the operator."""


class TangentCode:
    """The derivation for ``moving`` arguments as Python statements: ``lines`` compute the
    terms ``t0, t1 ...`` from the arguments (``x, y, z, a3 ...``), ``out`` and their
    tangents (``x_dot ...``), each followed by its strong zero; ``total`` sums them."""

    def __init__(self, lines: list[str], total: str) -> None:
        self.lines = lines
        self.total = total


def tangent_code(rule: Rule, moving: tuple[bool, ...],
                 namespace: dict[str, Any]) -> TangentCode | None:  # fmt: skip
    """The :class:`TangentCode` of ``rule`` (the implementations and constants it needs are
    bound in ``namespace``), or None when the rule is not declared by partials or its
    partials cannot be applied to names."""
    if not isinstance(rule, Partials):
        return None
    names = [_name(i) for i in range(len(rule.fns))]
    args = [Sym(n) for n in names]
    out = Sym("out")
    dots = [Sym(f"{n}_dot") for n in names]
    terms: list[tuple[Expr | Any, bool, str]] = []  # (term, guarded, its tangent's name)
    try:
        for i, d in enumerate(rule.fns):
            if d is None or not moving[i]:
                continue
            alone = [dots[i] if j == i else None for j in range(len(names))]
            term = elementwise_tangent(rule.fns, args, out, alone)
            if term is not None:
                terms.append((term, callable(d), dots[i].name))
    except Exception:  # a partial that cannot be applied to names
        return None
    taken = {*names, "out", *(d.name for d in dots), *namespace}

    def spell(p: Primitive) -> str:
        for name, value in namespace.items():
            if value is p.impl:
                return name
        name = p.name
        while name in taken or keyword.iskeyword(name):
            name += "_"
        taken.add(name)
        namespace[name] = p.impl
        return name

    def infix(call: Call) -> bool:
        return call.prim.impl in _INFIX and not call.params

    def constant(value: Any) -> str | None:
        if type(value) in (int, float, bool):
            return None
        name = f"c{len(namespace)}"
        namespace[name] = value
        return name

    lines = []
    for k, (term, guarded, dot) in enumerate(terms):
        text = term.code(name=spell, constant=constant, infix=infix) if isinstance(
            term, Expr) else repr(term)  # fmt: skip
        lines.append(f"t{k} = {text}")
        if guarded:  # the strong zero: an exactly zero tangent keeps the term exactly zero
            lines += [f"if t{k} != t{k} and {dot} == 0.0:", f"    t{k} = 0.0"]
    return TangentCode(lines, " + ".join(f"t{k}" for k in range(len(terms))) or "None")


def infix_text(prim: Primitive) -> str | None:
    """The operator that is ``prim``'s implementation on floats (``+``), or None."""
    return prim.symbol if prim.impl in _INFIX and prim.symbol else None


def _name(i: int) -> str:
    return "xyz"[i] if i < 3 else f"a{i}"
