"""Making expressions: symbols to compute with, or a formula read from text.

Two ways to get an expression tree. Call a Python function on symbols: the
operators and the table's primitives (``ad.sin``, ...) build calls on
expressions, so ``f(*symbols("x y"))`` is ``f``'s formula. Or read a formula
with :func:`parse`, which walks Python's own parse tree (:mod:`ast`, never
``eval``): numbers, names, ``+ - * / **``, unary minus and calls of the
table's elementwise primitives by name. Integer literals stay ints, so ``2*x``
prints as ``2 * x``. Every occurrence in the text becomes its own node (so
identity-keyed caching sees ``x**2`` twice where structural caching sees it once).
"""

from __future__ import annotations

import ast
import inspect
import re

from adlab.core import operators as O
from adlab.core.errors import DifferentiationError
from adlab.core.expr import Call, Const, Expr, Sym
from adlab.core.primitive import Primitive
from adlab.core.rules import Partials, table

__all__ = ["parse", "symbols"]


def symbols(names: str) -> Sym | tuple[Sym, ...]:
    """Symbols named by a string of names separated by spaces or commas.

    One name gives one symbol, several a tuple.

    >>> x, y = symbols("x y")
    >>> print(x * y + 1)
    x * y + 1
    >>> symbols("t")
    Expr('t')
    """
    if not isinstance(names, str):
        raise TypeError(f"symbols takes a string of names, e.g. symbols('x y'), got {names!r}")
    parts = [p for p in re.split(r"[\s,]+", names) if p]
    if not parts:
        raise ValueError("symbols needs at least one name, e.g. symbols('x y')")
    for p in parts:
        if not p.isidentifier():
            raise ValueError(f"symbols: {p!r} is not a name (letters, digits and _)")
    syms = tuple(Sym(p) for p in parts)
    return syms[0] if len(syms) == 1 else syms


_BINARY: dict[type, Primitive] = {
    ast.Add: O.add, ast.Sub: O.sub, ast.Mult: O.mul, ast.Div: O.truediv, ast.Pow: O.pow,
}  # fmt: skip

_HINTS: dict[type, str] = {
    ast.BitXor: "^ is Python's exclusive or; write x ** 2 for a power",
    ast.FloorDiv: "// has no derivative; write /",
    ast.Mod: "% has no derivative rule",
    ast.MatMult: "@ needs arrays; a parsed formula is scalar",
    ast.Compare: "a comparison has no derivative; write the formula without it",
    ast.BoolOp: "and/or decide on values, which a formula does not have",
    ast.IfExp: "an if-expression decides on values, which a formula does not have",
    ast.Attribute: "write the table's function by its name, e.g. sin(x) for np.sin(x)",
    ast.Lambda: "write the formula itself",
    ast.Subscript: "indexing needs arrays; a parsed formula is scalar",
}


def parse(text: str) -> Expr:
    """The expression tree of a formula written in Python syntax.

    Allowed: int and float literals, names (which become symbols), ``+ - * / **``,
    unary ``-`` and ``+``, and calls of the table's elementwise primitives by name
    (``sin``, ``exp``, ``log``, ``sqrt``, ``tanh``, ``maximum`` ...). Anything else
    raises :class:`~adlab.DifferentiationError` naming the construct and its column.

    >>> e = parse("(1 + x)/(2*x**2)")
    >>> print(e)
    (1 + x) / (2 * x ** 2)
    >>> e.evaluate(x=1.0)
    1.0
    """
    if not isinstance(text, str):
        raise TypeError(f"parse takes the formula as a string, got {type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise DifferentiationError(
            f"parse: {_short(text)!r} is not a Python expression ({e.msg} at column {e.offset})"
        ) from None
    except RecursionError:  # Python's own parser recurses on nesting
        raise DifferentiationError(
            f"parse: the formula {_short(text)!r} is nested too deeply for Python's parser; "
            "build it by calling a function on symbols(...) instead"
        ) from None
    done: dict[int, Expr] = {}
    # post-order over the ast with an explicit stack: a long formula is deep
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    while stack:
        node, expanded = stack.pop()
        kids = _operands(node, text)
        if kids and not expanded:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
            continue
        done[id(node)] = _build(node, [done[id(k)] for k in kids], text)
    return done[id(tree.body)]


def _where(node: ast.AST, text: str) -> str:
    col = getattr(node, "col_offset", 0) + 1
    snippet = ast.get_source_segment(text.strip(), node) or type(node).__name__
    return f"{_short(snippet)!r} at column {col}"


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _refuse(node: ast.AST, text: str, what: str) -> DifferentiationError:
    hint = _HINTS.get(type(node)) or _HINTS.get(type(getattr(node, "op", None)))
    return DifferentiationError(
        f"parse: {what} {_where(node, text)} is not supported in a formula"
        + (f": {hint}" if hint else "; use numbers, names, + - * / ** and the table's functions")
    )


def _operands(node: ast.AST, text: str) -> list[ast.AST]:
    """The sub-expressions of an allowed node (a refusal for anything else)."""
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise _refuse(node, text, f"the operator {type(node.op).__name__}")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise _refuse(node, text, f"the operator {type(node.op).__name__}")
        return [node.operand]
    if isinstance(node, ast.Call):
        _function(node, text)  # refuse early, before reading the arguments
        return list(node.args)
    if isinstance(node, ast.Name | ast.Constant):
        return []
    raise _refuse(node, text, _describe(node))


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "attribute access", ast.Compare: "the comparison",
        ast.BoolOp: "the boolean operation", ast.Lambda: "the lambda",
        ast.Subscript: "indexing", ast.IfExp: "the if-expression",
    }  # fmt: skip
    return names.get(type(node), f"the construct {type(node).__name__}")


def _function(node: ast.Call, text: str) -> Primitive:
    if not isinstance(node.func, ast.Name):
        raise _refuse(node.func, text, _describe(node.func))
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise _refuse(node, text, "a call with keyword or * arguments")
    functions = _functions()
    prim = functions.get(node.func.id)
    if prim is None:
        known = ", ".join(sorted(functions))
        raise DifferentiationError(
            f"parse: unknown function {node.func.id!r} at column {node.col_offset + 1}; a "
            f"formula calls the table's elementwise primitives: {known}"
        )
    return prim


def _functions() -> dict[str, Primitive]:
    """The table's elementwise primitives by name (the first alive under a name keeps it)."""
    found: dict[str, Primitive] = {}
    for prim in table():
        if isinstance(prim.rule, Partials) or not prim.differentiable:
            found.setdefault(prim.name, prim)
    return found


def _build(node: ast.AST, operands: list[Expr], text: str) -> Expr:
    if isinstance(node, ast.Constant):
        value = node.value
        if type(value) not in (int, float):
            raise _refuse(node, text, f"the {type(value).__name__} literal")
        return Const(value)
    if isinstance(node, ast.Name):
        return Sym(node.id)
    if isinstance(node, ast.BinOp):
        return Call.make(_BINARY[type(node.op)], operands)
    if isinstance(node, ast.UnaryOp):
        (operand,) = operands
        return operand if isinstance(node.op, ast.UAdd) else Call.make(O.neg, operands)
    assert isinstance(node, ast.Call)
    prim = _function(node, text)
    arity = _arity(prim)
    if arity is not None and arity != len(operands):
        raise DifferentiationError(
            f"parse: {_where(node, text)}: {prim.name} takes {arity} argument(s), "
            f"got {len(operands)}"
        )
    return Call.make(prim, operands)


def _arity(prim: Primitive) -> int | None:
    """How many arguments ``prim`` takes, where the table or its signature says."""
    if isinstance(prim.rule, Partials):
        return len(prim.rule.fns)
    try:
        params = inspect.signature(prim.impl).parameters.values()
    except (TypeError, ValueError):  # a builtin or ufunc without a signature
        return getattr(prim.impl, "nin", None)
    if any(p.kind in (p.VAR_POSITIONAL, p.KEYWORD_ONLY) for p in params):
        return None
    return len(params)
