"""Immutable records of the steps of a forward, tangent or backward sweep.

A recorded trace turns each sweep into a list of these events; the Stepper
widget, the tests and the notebooks read them. Each event can explain itself in
one line with its numbers, e.g. ``x̅ += z̅ · ∂z/∂x = 1 · 2.0 = 2.0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

OVERLINE = "\u0305"  # combining overline: x̅ is the adjoint (cotangent) of x
DOT = "\u0307"  # combining dot above: ẋ is the tangent of x


def bar(name: str) -> str:
    """The adjoint's name: an overline over the whole name (x̅, t̅1̅)."""
    return "".join(c + OVERLINE for c in name)


def dot(name: str) -> str:
    """The tangent's name: a dot over the whole name (ẋ, ṫ1̇; drawings draw one dot)."""
    return "".join(c + DOT for c in name)


def format_value(v: Any, digits: int = 6) -> str:
    """A short, stable text for a number or array (used in explanations and tables).

    A negative zero prints as ``0.0``: ``-0.5·0.0`` is zero, whatever its IEEE sign. A
    bigger array shows its first values, then its shape (and a dtype other than float64).

    >>> format_value(2.0), format_value(13 / 24), format_value(np.arange(3.0)), format_value(-0.0)
    ('2.0', '0.541667', '[0, 1, 2]', '0.0')
    >>> format_value(np.linspace(0, 1, 8))
    '[0, 0.1429, 0.2857, …] (8,)'
    >>> format_value(np.eye(2))
    '[1, 0, 0, 1] (2, 2)'
    """
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v) + 0.0  # -0.0 + 0.0 is +0.0
        r = repr(f)
        return r if len(r) <= digits + 2 else f"{f:.{digits}g}"
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return format_value(v[()], digits)
        flat = v.ravel()
        shown = flat if v.size <= 6 else flat[:3]
        body = ", ".join(f"{float(x) + 0.0:.4g}" for x in shown) + (", …" if v.size > 6 else "")
        if v.ndim == 1 and v.size <= 6:
            return f"[{body}]"
        dtype = "" if v.dtype == np.float64 else f" {v.dtype}"
        return f"[{body}] {tuple(v.shape)}{dtype}"
    inner = getattr(v, "value", None)
    if inner is not None:
        return format_value(inner, digits)
    return str(v)


@dataclass(frozen=True)
class ForwardStep:
    """Node ``node`` was computed: ``name = op(inputs) = value``."""

    step: int
    node: int
    name: str
    text: str  # the Wengert-list line, e.g. "z = x * t"
    op: str
    inputs: tuple[tuple[str, Any], ...]  # (name, value) of each operand
    value: Any

    def explain(self) -> str:
        if self.op == "input":
            return f"input {self.name} = {format_value(self.value)}"
        vals = ", ".join(f"{n} = {format_value(v)}" for n, v in self.inputs)
        return f"{self.text}  with {vals}  →  {self.name} = {format_value(self.value)}"


@dataclass(frozen=True)
class TangentTerm:
    """One term ``∂out/∂input · input_dot`` of a tangent."""

    input: str
    partial: Any  # None when the rule is not a list of partials (array rules)
    input_tangent: Any


@dataclass(frozen=True)
class TangentStep:
    """The tangent of node ``node``: the sum of its terms (or a seed for an input)."""

    step: int
    node: int
    name: str
    terms: tuple[TangentTerm, ...]
    tangent: Any
    seed: bool = False

    def explain(self) -> str:
        n = self.name
        if self.seed:
            return f"seed {dot(n)} = {format_value(self.tangent)}"
        if not self.terms:
            return f"{dot(n)} = 0 (no input depends on the seed)"
        if all(t.partial is not None for t in self.terms):
            sym = " + ".join(f"∂{n}/∂{t.input}·{dot(t.input)}" for t in self.terms)
            num = " + ".join(
                f"{format_value(t.partial)}·{format_value(t.input_tangent)}" for t in self.terms
            )
            return f"{dot(n)} = {sym} = {num} = {format_value(self.tangent)}"
        ins = ", ".join(dot(t.input) for t in self.terms)
        return f"{dot(n)} = jvp of {n} applied to ({ins}) = {format_value(self.tangent)}"


@dataclass(frozen=True)
class BackwardStep:
    """An adjoint contribution flowing from node ``source`` to its input ``node``.

    With ``source is None`` the step is the seed of the output's adjoint.
    ``total`` is the adjoint of ``node`` after this contribution was added, so
    fan-out shows as several ``+=`` steps into the same node.
    """

    step: int
    node: int
    name: str
    source: int | None
    source_name: str | None
    source_adjoint: Any
    partial: Any  # None for array rules (a pullback, not a product)
    contribution: Any
    total: Any
    first: bool = True  # the first contribution to this node's adjoint

    def explain(self) -> str:
        n, s = self.name, self.source_name
        if self.source is None:
            return f"seed {bar(n)} = {format_value(self.total)}"
        if self.partial is not None:
            rhs = (
                f"{bar(s)} · ∂{s}/∂{n} = {format_value(self.source_adjoint)} · "
                f"{format_value(self.partial)} = {format_value(self.contribution)}"
            )
        else:
            rhs = f"pullback of {s} applied to {bar(s)} = {format_value(self.contribution)}"
        tail = "" if self.first else f"  →  {bar(n)} = {format_value(self.total)}"
        return f"{bar(n)} += {rhs}{tail}"
