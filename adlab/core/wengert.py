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

:func:`compile_expr` writes a Wengert list as the body of a Python ``def``.
``Expr.wengert()`` and ``Expr.compile()`` call the two functions here.

Like :mod:`adlab.core.printing`, this module reads trees by their nodes' ``kind``
(``"sym"``, ``"const"``, ``"call"``), so :mod:`adlab.core.expr` can import it.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import math
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Primitive
from adlab.core.printing import PythonPrinter
from adlab.core.source import compile_source

__all__ = ["Row", "Wengert", "compile_expr", "register_table", "wengert"]

SHARES = ("structure", "identity")

#: How a notebook shows a Wengert list: as a table, made by ``make(columns, rows, title=,
#: note=)``. adlab's symbolic engine registers :class:`adlab.viz.tables.Table` (core imports
#: nothing of viz); without it a list shows as text.
_table: list[Callable[..., Any]] = []


def register_table(make: Callable[..., Any]) -> None:
    """Use ``make(columns, rows, title=..., note=...)`` for :meth:`Wengert.table`."""
    _table[:] = [make]


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
        return PythonPrinter(None, None, None).text(_Line(self))


class _Leaf(NamedTuple):
    """An argument of a row, as the printer reads a leaf: a number as a constant (so ``-1.0``
    is parenthesised where it must be), anything else as a name printed as it is."""

    kind: str
    name: str
    value: Any = None


class _Line:
    """A row's right-hand side, as the printer reads a call of leaves."""

    kind = "call"

    def __init__(self, row: Row) -> None:
        self.prim, self.params = row.prim, row.params
        self.args = tuple(_placeholder(a) for a in row.args)

    def walk(self) -> Iterator[Any]:
        yield from self.args
        yield self


def _placeholder(text: str) -> _Leaf:
    if not text.isidentifier():
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if type(value) in (int, float, bool):
            return _Leaf("const", text, value)
    return _Leaf("sym", text)


class Wengert:
    """The Wengert list of one or more expressions (see :func:`wengert`).

    ``rows`` are the lines in evaluation order (:class:`Row`: name, primitive,
    argument names); ``outputs`` name what each expression evaluates to (a
    line's name, or a leaf's text when an expression is a single symbol or
    constant). ``len`` is the number of lines; iteration yields the rows.
    """

    def __init__(self, exprs: tuple[Any, ...], share: str, rows: tuple[Row, ...],
                 outputs: tuple[str, ...], steps: tuple[tuple[Any, tuple[Any, ...]], ...],
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

    def table(self) -> Any:
        """The rows as a table (an :class:`adlab.viz.tables.Table` once adlab is imported)."""
        if not _table:
            raise DifferentiationError("Wengert.table() needs adlab's tables: import adlab first")
        last = self.rows[-1].name if self.rows else None
        return _table[0](
            ("name", "primitive", "arguments", "line"),
            [(r.name, r.prim.name, ", ".join(r.args), str(r)) for r in self.rows],
            title=f"Wengert list: {len(self)} lines, equal subexpressions shared by {self.share}",
            note=None if self.outputs == (last,) else f"outputs: {', '.join(self.outputs)}",
        )

    def _repr_html_(self) -> str | None:
        return self.table()._repr_html_() if _table else None


def wengert(exprs: Any, share: str = "structure", prefix: str = "y") -> Wengert:
    """The Wengert list of an expression (or a sequence of them, sharing one list).

    Lines are named ``y1, y2, ...`` (``prefix``) in evaluation order: children
    before parents, left to right. ``share="structure"`` computes equal
    subexpressions once (CSE); ``share="identity"`` only repeated uses of the
    same node object.

    >>> from adlab.core.expr import Sym
    >>> x = Sym("x")
    >>> w = wengert(x**2 + 2 * x**2)
    >>> print(w)
    y1 = x ** 2
    y2 = 2 * y1
    y3 = y1 + y2
    >>> len(wengert(x**2 + 2 * x**2, share="identity"))
    4
    """
    if share not in SHARES:
        raise ValueError(f"share must be one of {SHARES}, got {share!r}")
    roots = _roots(exprs, "wengert")
    line_name = re.compile(rf"{re.escape(prefix)}[0-9]+")
    by_id: dict[int, str] = {}  # node -> its line's name or its leaf text
    # structural sharing by hash-consing: each distinct structure gets a small number, a
    # call's key is (primitive, params, its arguments' numbers), so keys stay flat
    canon: dict[Any, int] = {}
    number: dict[int, int] = {}  # node -> the number of its structure
    by_number: dict[int, str] = {}  # structure -> line name
    rows: list[Row] = []
    steps: list[tuple[Any, tuple[Any, ...]]] = []
    index: dict[str, int] = {}
    for node in _walk(roots):
        if node.kind != "call":
            text = _leaf_text(node)
            if node.kind == "sym" and line_name.fullmatch(text):
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
        refs = tuple(a if a.kind != "call" else index[by_id[id(a)]] for a in node.args)
        steps.append((node, refs))
        index[name] = len(rows) - 1
        by_id[id(node)] = by_number[n] = name
    outputs = tuple(by_id[id(r)] for r in roots)
    refs = tuple(r if r.kind != "call" else index[by_id[id(r)]] for r in roots)
    return Wengert(roots, share, tuple(rows), outputs, tuple(steps), refs)


def _roots(exprs: Any, caller: str) -> tuple[Any, ...]:
    """The expressions ``exprs`` names: one expression, or a sequence of them."""
    roots = tuple(exprs) if isinstance(exprs, Sequence) else (exprs,)
    for r in roots:
        if not hasattr(r, "kind"):
            raise DifferentiationError(
                f"{caller}: {r!r} is not an expression; make one with ad.symbols or ad.parse "
                "(a constant is ad.parse('2.0'))"
            )
    return roots


def _walk(roots: tuple[Any, ...]) -> Iterator[Any]:
    """Every node of several trees, each (by identity) once, children before parents."""
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Any, bool]] = [(root, False)]
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


def _leaf_text(node: Any) -> str:
    if node.kind == "sym":
        return node.name
    value = node.value
    if type(value) in (int, float) and value == value and abs(value) != float("inf"):
        return repr(value)
    return node.code()


def _leaf_key(node: Any, text: str) -> Any:
    """Leaves are equal when they print the same (so 0.0 and -0.0 stay apart) and have
    the same type (2 and 2.0 too); arrays only when they are the same object."""
    if node.kind == "const" and not isinstance(node.value, int | float | bool):
        return ("const", id(node))
    return (node.kind, type(getattr(node, "value", None)), text)


def _params_key(params: tuple) -> Any:
    try:
        hash(params)
    except TypeError:  # slices, arrays: compare by their text
        return ("repr", repr(params))
    return params


# ---------------------------------------------------------------------------
# Compiling: the list as the body of a def

_counter = itertools.count(1)

_OPERATORS: dict[tuple[str, int], Callable[..., Any]] = {
    ("+", 2): operator.add, ("-", 2): operator.sub, ("*", 2): operator.mul,
    ("-", 1): operator.neg, ("<", 2): operator.lt, ("<=", 2): operator.le,
    (">", 2): operator.gt, (">=", 2): operator.ge, ("==", 2): operator.eq,
    ("!=", 2): operator.ne,
}  # fmt: skip
"""Infix operators, each with the function a primitive's implementation must be for the
operator to mean exactly what the primitive means."""


def compile_expr(exprs: Any, args: Any = None, *, name: str = "f",
                 dispatch: bool = False) -> Callable[..., Any]:  # fmt: skip
    """A Python function of ``args`` that returns the value of ``exprs``, one line per row
    of their Wengert list (equal subexpressions shared by structure).

    ``exprs`` is an expression (the function returns its value) or a sequence of
    them (it returns a tuple). ``args`` names the parameters, in order: symbols,
    their names, or one string ``"x y"``; by default the free symbols in order of
    first appearance. The function has ``.source`` (its text), ``.args`` (the
    symbols' names; a name that is not a Python identifier, like ``x[0]``, becomes
    one, like ``x_0``, in the source) and ``.wengert`` (the list).

    ``+ - *`` and unary ``-`` (and comparisons) are Python's operators, which is
    what the table's implementations of them are. Every other primitive is called
    by its name, bound to the table's implementation on plain numbers (so
    ``truediv(1.0, 0.0)`` is ``inf`` as in the table, where Python's ``/`` would
    raise), or, with ``dispatch=True``, to the primitive itself (so the function
    also accepts traced values of any engine, or expressions). The source is
    registered with :mod:`linecache` while the function lives: tracebacks show its
    lines and ``inspect.getsource`` finds it.

    >>> from adlab.core.expr import Sym
    >>> x = Sym("x")
    >>> f = compile_expr(x * x + x * x)
    >>> print(f.source, end="")
    def f(x):
        y1 = x * x
        y2 = y1 + y1
        return y2
    >>> f(3.0)
    18.0
    """
    single = not isinstance(exprs, Sequence)
    roots = _roots(exprs, "compile")
    names = _arg_names(roots, args)
    used = {s.name for r in roots for s in r.free_symbols}
    missing = sorted(used - set(names))
    if missing:
        raise DifferentiationError(
            f"compile: the expression uses {', '.join(missing)}, which args={tuple(names)} "
            "does not name; add them to args"
        )
    idents = _identifiers(names)
    namespace: dict[str, Any] = {}
    bound: dict[Primitive, str] = {}
    taken = set(idents)

    def bind(value: Any, wanted: str) -> str:
        text = wanted
        while text in taken or keyword.iskeyword(text):
            text += "_"
        taken.add(text)
        namespace[text] = value
        return text

    def spell(prim: Primitive) -> str:
        if prim not in bound:
            bound[prim] = bind(prim if dispatch else prim.impl, prim.name)
        return bound[prim]

    def literal(value: Any) -> str:
        if _has_literal(value):
            return repr(value)
        return bind(value, f"c{len(namespace) + 1}")  # keeps its type (np.float32, arrays)

    w = wengert(roots, share="structure", prefix=_local_prefix(idents))
    symbol_ident = dict(zip(names, idents))

    def text(ref: Any) -> str:
        if isinstance(ref, int):
            return w.rows[ref].name
        return symbol_ident[ref.name] if ref.kind == "sym" else literal(ref.value)

    lines = [f"def {name}({', '.join(idents)}):"]
    for row, (node, refs) in zip(w.rows, w.steps):
        args = [text(r) for r in refs]
        symbol = node.prim.symbol
        if not node.params and _OPERATORS.get((symbol or "", len(args))) is node.prim.impl:
            # (a unary operand is never a negative literal: -(-1.0) was folded)
            rhs = f"{args[0]} {symbol} {args[1]}" if len(args) == 2 else f"{symbol}{args[0]}"
        else:
            params = [f"{k}={literal(v)}" for k, v in node.params]
            rhs = f"{spell(node.prim)}({', '.join(args + params)})"
        lines.append(f"    {row.name} = {rhs}")
    outs = [text(r) for r in w.output_refs]
    lines.append(f"    return {outs[0] if single else '(' + ', '.join(outs) + ',)'}")
    source = "\n".join(lines) + "\n"
    filename = f"<adlab.symbolic {name} #{next(_counter)}>"
    function = compile_source(source, filename, namespace, name)
    function.source = source
    function.args = tuple(names)
    function.wengert = w
    return function


def _has_literal(value: Any) -> bool:
    """Whether ``repr(value)`` is Python source for ``value`` itself (same type, same value)."""
    if type(value) is tuple:
        return all(_has_literal(v) for v in value)
    if type(value) is float:
        return math.isfinite(value)
    return value is None or type(value) in (int, bool, str)


def _arg_names(roots: tuple[Any, ...], args: Any) -> list[str]:
    if args is None:
        seen: dict[str, None] = {}
        for r in roots:
            for s in r.free_symbols:
                seen.setdefault(s.name, None)
        return list(seen)
    if isinstance(args, str):
        args = [a for a in re.split(r"[\s,]+", args) if a]
    names = [a.name if getattr(a, "kind", None) == "sym" else a for a in args]
    for a in names:
        if not isinstance(a, str):
            raise TypeError(f"compile: args are symbols or their names, got {a!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"compile: args={tuple(names)} names a symbol twice")
    return names


def _identifiers(names: list[str]) -> list[str]:
    """Python parameter names for symbol names: ``x`` stays, ``x[0]`` becomes ``x_0``."""
    out: list[str] = []
    for n in names:
        ident = re.sub(r"\W+", "_", n).strip("_") or "arg"
        if ident[0].isdigit() or keyword.iskeyword(ident):
            ident = "_" + ident
        while ident in out:
            ident += "_"
        out.append(ident)
    return out


def _local_prefix(idents: list[str]) -> str:
    """A prefix for the local names (y1, y2 ...) that no argument uses, nor starts with, so
    a function of x and y reads ``t1 = x * y``, never ``y2 = y1 * y``."""
    for prefix in ("y", "t", "v", "w", "_y"):
        if not any(i.startswith(prefix) for i in idents):
            return prefix
    return "_local"  # pragma: no cover - five prefixes all taken by argument names
