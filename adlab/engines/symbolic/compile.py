"""Compiling expressions into Python functions, one line per Wengert row.

Evaluating a tree walks it node by node through the table's dispatch;
compiling writes the expression's Wengert list (equal subexpressions shared
by structure) as the body of a ``def`` and lets Python run it:

.. code-block:: python

    def f(x):
        y1 = x * x
        y2 = y1 + y1
        return y2

``+ - *`` and unary ``-`` (and comparisons) are Python's operators, which is
what the table's implementations of them are. Every other primitive is called
by its name, bound to the table's implementation on plain numbers (so
``truediv(1.0, 0.0)`` is ``inf`` as in the table, where Python's ``/`` would
raise), or, with ``dispatch=True``, to the primitive itself (so the function
also accepts traced values of any engine, or expressions). The source is
registered with :mod:`linecache` while the function lives: tracebacks show its
lines and ``inspect.getsource`` finds it.
"""

from __future__ import annotations

import itertools
import keyword
import math
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from adlab.core.errors import DifferentiationError
from adlab.core.expr import Expr, Sym, as_expr
from adlab.core.primitive import Primitive
from adlab.core.source import compile_source
from adlab.engines.symbolic.wengert import wengert

__all__ = ["compile_expr"]

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
    """A Python function of ``args`` that returns the value of ``exprs``.

    ``exprs`` is an expression (the function returns its value) or a sequence of
    them (it returns a tuple). ``args`` names the parameters, in order: symbols,
    their names, or one string ``"x y"``; by default the free symbols in order of
    first appearance. The function has ``.source`` (its text) and ``.args`` (the
    symbols' names; a name that is not a Python identifier, like ``x[0]``, becomes
    one, like ``x_0``, in the source).

    >>> from adlab.engines.symbolic import parse
    >>> f = compile_expr(parse("x*x + x*x"))
    >>> print(f.source, end="")
    def f(x):
        y1 = x * x
        y2 = y1 + y1
        return y2
    >>> f(3.0)
    18.0
    """
    single = isinstance(exprs, Expr) or not isinstance(exprs, Sequence)
    roots = (as_expr(exprs),) if single else tuple(as_expr(e) for e in exprs)
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
        return symbol_ident[ref.name] if isinstance(ref, Sym) else literal(ref.value)

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


def _arg_names(roots: tuple[Expr, ...], args: Any) -> list[str]:
    if args is None:
        seen: dict[str, None] = {}
        for r in roots:
            for s in r.free_symbols:
                seen.setdefault(s.name, None)
        return list(seen)
    if isinstance(args, str):
        args = [a for a in re.split(r"[\s,]+", args) if a]
    names = [a.name if isinstance(a, Sym) else a for a in args]
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
