"""Wengert lists: an expression tree as a straight-line program, shared parts named once.

A tree cannot say "the same value as over there": it has no names, so a
derivative copies shared subtrees again and again (expression swell). A
Wengert list is the same computation as a list of assignments
``y1 = x ** 2; y2 = 2 * y1; ...``, one per operation, where a repeated
subexpression is computed once and referred to by name. Which repeats count
as "the same" is the cache key: ``share="structure"`` merges every pair of equal
subtrees (common-subexpression elimination, CSE), ``share="identity"`` only
the same Python object used twice (a tree built by a program that reuses a
variable, not a formula parsed from text). Leaves (symbols and constants) are
not lines.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from adlab.core.errors import DifferentiationError
from adlab.core.expr import Call, Const, Expr, Sym, as_expr
from adlab.core.primitive import Primitive
from adlab.viz.graph import expr_graph, register_adapter
from adlab.viz.tables import Table

__all__ = ["Row", "Wengert", "wengert"]

SHARES = ("structure", "identity")


class Row(NamedTuple):
    """One line ``name = prim(*args, **params)`` of a Wengert list; ``args`` are the
    names of earlier lines, symbol names, or constants as Python literals."""

    name: str
    prim: Primitive
    args: tuple[str, ...]
    params: tuple = ()

    def __str__(self) -> str:
        return f"{self.name} = {self.code()}"

    def code(self) -> str:
        """The right-hand side, as Python."""
        return Call(self.prim, tuple(_placeholder(a) for a in self.args), self.params).code()


def _placeholder(text: str) -> Expr:
    """An argument of a row back as a leaf to print: a number as a constant (so ``-1.0`` is
    parenthesised where it must be), anything else as a name printed as it is."""
    if not text.isidentifier():
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if type(value) in (int, float, bool):
            return Const(value)
    return Sym(text)


class Wengert:
    """The Wengert list of one or more expressions (see :func:`wengert`).

    ``rows`` are the lines in evaluation order (:class:`Row`: name, primitive,
    argument names); ``outputs`` name what each expression evaluates to (a
    line's name, or a leaf's text when an expression is a single symbol or
    constant). ``len`` is the number of lines; iteration yields the rows.
    """

    def __init__(self, exprs: tuple[Expr, ...], share: str, rows: tuple[Row, ...],
                 outputs: tuple[str, ...], steps: tuple[tuple[Call, tuple[Any, ...]], ...],
                 output_refs: tuple[Any, ...]) -> None:  # fmt: skip
        self.exprs = exprs
        self.share = share
        self.rows = rows
        self.outputs = outputs
        self.steps = steps
        """Per row, a node it computes and its arguments, each a row index or a leaf Expr."""
        self.output_refs = output_refs
        """Per expression, the index of the row that computes it, or the leaf it is."""

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> Row:
        return self.rows[i]

    def lines(self) -> list[str]:
        """The rows as Python assignments, ``y1 = x ** 2``, then a ``return`` line when the
        outputs are not simply the last row."""
        lines = [str(r) for r in self.rows]
        if not self.rows or self.outputs != (self.rows[-1].name,):
            lines.append(f"return {', '.join(self.outputs)}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return f"<Wengert list: {len(self)} lines, shared by {self.share}>"

    def table(self) -> Table:
        """The rows as a :class:`~adlab.viz.tables.Table`."""
        last = self.rows[-1].name if self.rows else None
        return Table(
            ("name", "primitive", "arguments", "line"),
            [(r.name, r.prim.name, ", ".join(r.args), str(r)) for r in self.rows],
            title=f"Wengert list: {len(self)} lines, equal subexpressions shared by {self.share}",
            note=None if self.outputs == (last,) else f"outputs: {', '.join(self.outputs)}",
        )

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


def wengert(exprs: Any, share: str = "structure", prefix: str = "y") -> Wengert:
    """The Wengert list of an expression (or a sequence of them, sharing one list).

    Lines are named ``y1, y2, ...`` (``prefix``) in evaluation order: children
    before parents, left to right. ``share="structure"`` computes equal
    subexpressions once (CSE); ``share="identity"`` only repeated uses of the
    same node object.

    >>> from adlab.engines.symbolic import parse
    >>> w = wengert(parse("x**2 + 2*x**2"))
    >>> print(w)
    y1 = x ** 2
    y2 = 2 * y1
    y3 = y1 + y2
    >>> len(wengert(parse("x**2 + 2*x**2"), share="identity"))
    4
    """
    if share not in SHARES:
        raise ValueError(f"share must be one of {SHARES}, got {share!r}")
    roots = (as_expr(exprs),) if not isinstance(exprs, Sequence) else tuple(map(as_expr, exprs))
    line_name = re.compile(rf"{re.escape(prefix)}[0-9]+")
    by_id: dict[int, str] = {}  # node -> its line's name or its leaf text
    # structural sharing by hash-consing: each distinct structure gets a small number, a
    # call's key is (primitive, params, its arguments' numbers), so keys stay flat
    canon: dict[Any, int] = {}
    number: dict[int, int] = {}  # node -> the number of its structure
    by_number: dict[int, str] = {}  # structure -> line name
    rows: list[Row] = []
    steps: list[tuple[Call, tuple[Any, ...]]] = []
    index: dict[str, int] = {}
    for node in _walk(roots):
        if not isinstance(node, Call):
            text = _leaf_text(node)
            if isinstance(node, Sym) and line_name.fullmatch(text):
                raise DifferentiationError(
                    f"wengert: the symbol {text!r} looks like a line's name; pass another "
                    "prefix=, e.g. prefix='t'"
                )
            by_id[id(node)] = text
            number[id(node)] = canon.setdefault(_leaf_key(node, text), len(canon))
            continue
        key = (node.prim, _params_key(node.params), tuple(number[id(a)] for a in node.args))
        n = number[id(node)] = canon.setdefault(key, len(canon))
        if share == "structure" and n in by_number:
            by_id[id(node)] = by_number[n]
            continue
        name = f"{prefix}{len(rows) + 1}"
        args = tuple(by_id[id(a)] for a in node.args)
        rows.append(Row(name, node.prim, args, node.params))
        refs = tuple(a if isinstance(a, Sym | Const) else index[by_id[id(a)]] for a in node.args)
        steps.append((node, refs))
        index[name] = len(rows) - 1
        by_id[id(node)] = by_number[n] = name
    outputs = tuple(by_id[id(r)] for r in roots)
    refs = tuple(r if isinstance(r, Sym | Const) else index[by_id[id(r)]] for r in roots)
    return Wengert(roots, share, tuple(rows), outputs, tuple(steps), refs)


def _walk(roots: tuple[Expr, ...]) -> Iterator[Expr]:
    """Every node of several trees, each (by identity) once, children before parents."""
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in seen:
                continue
            if expanded or not node.children:
                seen.add(id(node))
                yield node
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.children))


def _leaf_text(node: Expr) -> str:
    if isinstance(node, Sym):
        return node.name
    value = node.value  # type: ignore[attr-defined]
    if type(value) in (int, float) and value == value and abs(value) != float("inf"):
        return repr(value)
    return node.code()


def _leaf_key(node: Sym | Const, text: str) -> Any:
    """Leaves are equal when they print the same (so 0.0 and -0.0 stay apart) and have
    the same type (2 and 2.0 too); arrays only when they are the same object."""
    if isinstance(node, Const) and not isinstance(node.value, int | float | bool):
        return ("Const", id(node))
    return (type(node).__name__, type(getattr(node, "value", None)), text)


def _params_key(params: tuple) -> Any:
    try:
        hash(params)
    except TypeError:  # slices, arrays: compare by their text
        return ("repr", repr(params))
    return params


register_adapter(
    "Wengert list (symbolic)",
    lambda obj: isinstance(obj, Wengert) and obj.share == "structure" and len(obj.exprs) == 1,
    lambda w, **options: expr_graph(w.exprs[0], shared=True, **options),
)
