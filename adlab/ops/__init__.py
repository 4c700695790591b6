"""THE table: every primitive of adlab once, with its implementation and its rule.

``scalar`` holds the elementwise primitives (declared by their partial derivatives;
Python's operators among them, whose primitives :mod:`adlab.core.operators` declares),
``array`` the array primitives (declared by jvp/vjp or, when linear, by their
transpose), ``operators`` maps numpy's protocols and array methods onto them.

This namespace is generated from the declarations: :data:`PUBLIC` (every
differentiable operation, what ``adlab`` exports) and the nondifferentiable
comparisons that rules use. Generated code (sct) calls the table as ``ad.<name>``.
"""

from typing import Any

from adlab.core.primitive import Primitive
from adlab.core.rules import table
from adlab.ops import array, operators, scalar
from adlab.ops.scalar import KINKS

LIBRARY: frozenset[Primitive] = frozenset(table())
"""Every primitive of adlab's own table (core's operators and this package's declarations)."""

PUBLIC: dict[str, Any] = {**scalar.PUBLIC, **array.PUBLIC}
"""Every differentiable operation of the table by name: what ``adlab`` exports."""

NAMESPACE: dict[str, Any] = {
    **PUBLIC,
    **{p.name: p for p in (*scalar.COMPARISONS, scalar.logical_not, scalar.sign)},
    "scatter_add": array.scatter_add,
}
"""This module's names: the public operations, the comparisons and ``sign`` that rules use,
and ``scatter_add`` (``getitem``'s transpose)."""

globals().update(NAMESPACE)

__all__ = ["KINKS", "LIBRARY", "NAMESPACE", "PUBLIC", "array", "operators", "scalar", *NAMESPACE]
