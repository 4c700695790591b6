"""``ad.rule_table()``: the table of primitives and their rules, as a table.

One row per primitive with a rule (the library's and the user's): its name, how
its derivative is declared (partials, a jvp/vjp pair, linear with a transpose),
the derivative as written (each partial's expression read back from its source),
and its convention at kinks.
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from adlab.core import rules
from adlab.core.primitive import Primitive
from adlab.ops import LIBRARY
from adlab.viz.tables import Table

__all__ = ["rule_table"]


def rule_table() -> Table:
    """Every primitive of the table with how its derivative is declared, and its kink convention.

    In a notebook it shows as an HTML table; ``.rows`` has the data (user primitives with a
    rule included).

    >>> import adlab as ad
    >>> abs_row = next(row for row in ad.rule_table().rows if row[0] == "abs")
    >>> abs_row[1], abs_row[3]
    ('partials', "abs'(0) = 0")
    """
    rows = [(p.name, rules.rule_kind(p), _rule_text(p), p.kink or "") for p in _all_primitives()]
    return Table(
        ("primitive", "rule", "derivative as declared", "at kinks"),
        rows,
        title="adlab's rule table",
        note="Elementwise partials are functions of (arguments..., out); jvp and vjp are "
        "derived from them.",
    )


def _all_primitives() -> list[Primitive]:
    """Every primitive with a rule, one per name: a user primitive defined again (a notebook
    cell run twice) shows its newest definition; the library's own names are never replaced."""
    by_name: dict[str, Primitive] = {}
    for p in sorted((p for p in rules.table() if p.rule is not None), key=lambda p: p.rule.seq):
        first = by_name.get(p.name)
        if first is None or not _in_the_library(first):
            by_name[p.name] = p
    return list(by_name.values())


def _in_the_library(prim: Primitive) -> bool:
    return prim in LIBRARY


def _rule_text(prim: Primitive) -> str:
    rule = prim.rule
    if not isinstance(rule, rules.Partials) or rule.joint is not None:
        return rule.text()
    fns = rule.fns
    args = _lambda_args(fns)
    texts = [
        f"∂/∂{a} = {_source_of(fn, fns, i) if callable(fn) else repr(fn)}"
        for i, (a, fn) in enumerate(zip(args, fns))
        if fn is not None
    ]
    return ";  ".join(texts)


def _lambda_args(fns: Sequence[Any]) -> list[str]:
    for fn in fns:
        code = getattr(fn, "__code__", None)
        if code is not None:
            return list(code.co_varnames[: code.co_argcount - 1])
    return ["x", "y", "z"][: len(fns)]


@functools.cache
def _module_lambdas(filename: str) -> dict[int, list[ast.Lambda]]:
    with open(filename, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    by_line: dict[int, list[ast.Lambda]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            by_line.setdefault(node.lineno, []).append(node)
    for nodes in by_line.values():
        nodes.sort(key=lambda n: n.col_offset)
    return by_line


def _source_of(fn: Callable, fns: Sequence[Any], i: int) -> str:
    """The expression of a partial written as a lambda, read back from its source."""
    code = fn.__code__
    try:
        on_line = _module_lambdas(inspect.getsourcefile(fn))[code.co_firstlineno]
    except (OSError, TypeError, KeyError):
        return fn.__name__
    # several partials of one primitive may share a line: count the earlier ones
    same_line = [
        j for j, g in enumerate(fns[:i])
        if callable(g) and g.__code__.co_firstlineno == code.co_firstlineno
    ]  # fmt: skip
    k = len(same_line)
    return ast.unparse(on_line[k].body) if k < len(on_line) else fn.__name__
