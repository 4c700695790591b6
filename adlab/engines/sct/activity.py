"""Pass 4, activity: which values carry a derivative, and what kind of value each name holds.

A name is *active* when its value depends on a differentiated parameter; only
active values get adjoints (``x_bar``) or tangents (``x_dot``). The analysis
is flow-insensitive (a name is active if any of its assignments is) and runs to
a fixed point, so values carried around loops are found.

Each name also gets a *kind*, from the kinds of the arguments of the call
being transformed (generated code is specialised on them, as Julia
specialises on types): ``scalar`` (a Python number), ``array`` (anything with a
shape: numpy values, traced values), ``scalars`` (a tuple or list of Python
numbers), ``container`` (tuples, lists, dicts) or ``any``. Where every operand
of an operation is a scalar, the adjoint needs no broadcasting bookkeeping.

Differentiated values reaching something without a derivative (``float(x)``,
``x // 2``, a function with no rule) raise :class:`~adlab.DifferentiationError`
here, before any code is generated.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adlab.core.primitive import Box
from adlab.engines.sct import runtime
from adlab.engines.sct.fence import Callee, Unplaced, _Error, _hashable
from adlab.engines.sct.ir import (
    Assign,
    Code,
    Display,
    Effect,
    For,
    Lit,
    Name,
    Op,
    Push,
    Return,
    Stmt,
    listing,
    walk,
)  # fmt: skip
from adlab.engines.sct.ssa import Normalised
from adlab.ops import array as A
from adlab.ops import scalar as S
from adlab.ops.operators import ARRAY_METHODS_INSTEAD

SCALAR, ARRAY, SCALARS, CONTAINER, ANY, OTHER = (
    "scalar", "array", "scalars", "container", "any", "other"
)  # fmt: skip


def kind_of(value: Any) -> str:
    """The kind of a value (see the module docstring)."""
    if isinstance(value, bool | int | float):
        return SCALAR
    if isinstance(value, list | tuple):
        if all(isinstance(v, int | float) for v in value):
            return SCALARS
        return CONTAINER
    if isinstance(value, dict):
        return CONTAINER
    if isinstance(value, np.ndarray | np.generic | Box):
        return ARRAY
    if value is None or isinstance(value, str):
        return OTHER
    return ANY


def join(a: str | None, b: str) -> str:
    if a is None or a == b:
        return b
    pair = {a, b}
    if pair <= {SCALAR, ARRAY}:
        return ARRAY
    if pair <= {SCALARS, CONTAINER}:
        return CONTAINER
    if OTHER in pair:  # e.g. None first, a number later
        return ANY
    return ANY


@dataclass(frozen=True, eq=False)
class Analysed:
    """The normalised function with its activity and kinds, for one specialisation."""

    normalised: Normalised
    argnums: tuple[int, ...]
    param_kinds: tuple[str, ...]  # one per parameter (positional, then keyword-only)
    active: frozenset[str]
    kinds: dict[str, str]
    output: str  # the returned name
    scalar: bool  # every parameter a Python number: table calls may skip dispatch
    user_results: dict[int, str] = field(default_factory=dict)  # id(op) -> callee's output kind

    @property
    def name(self) -> str:
        return self.normalised.name

    @property
    def body(self) -> list[Stmt]:
        return self.normalised.body

    @property
    def wrt(self) -> tuple[str, ...]:
        """The differentiated parameters, in argnums order."""
        return tuple(self.normalised.params[i] for i in self.argnums)

    def is_active(self, atom: Any) -> bool:
        return isinstance(atom, Name) and atom.id in self.active

    def kind(self, atom: Any) -> str:
        if isinstance(atom, Name):
            return self.kinds.get(atom.id, ANY)
        if isinstance(atom, Lit):
            return kind_of(atom.value)
        return CONTAINER

    def __str__(self) -> str:
        n = self.normalised
        code = Code()
        wrt = ", ".join(self.wrt) or "nothing"
        code.comment(f"differentiating with respect to {wrt}; kinds: " + ", ".join(
            f"{p}: {k}" for p, k in zip((*n.params, *n.kwonly), self.param_kinds)))  # fmt: skip
        code.add(f"def {n.name}({n.signature()}):")

        def note(stmt: Stmt) -> str:
            if isinstance(stmt, Assign):
                t = stmt.targets[0]
                return f"{'active' if t in self.active else 'inactive'} {self.kinds.get(t, ANY)}"
            return ""

        with code.block():
            listing(n.body, code, note)
        return str(code)


ReturnKind = Callable[[Any, tuple[str, ...]], str]


def analyse(normalised: Normalised, argnums: Sequence[int], param_kinds: Sequence[str],
            return_kind: ReturnKind | None = None) -> Analysed:  # fmt: skip
    """Pass ``activity``: active names and kinds for differentiating with respect to ``argnums``.

    ``return_kind(fn, arg_kinds)`` gives the kind a user function returns (the
    pipeline transforms callees with the kinds of their arguments).
    """
    n = normalised
    params = (*n.params, *n.kwonly)
    kinds: dict[str, str] = dict(zip(params, param_kinds))
    active = {n.params[i] for i in argnums}
    user_results: dict[int, str] = {}
    stmts = list(walk(n.body))
    changed = True
    while changed:
        changed = False
        for stmt in stmts:
            try:
                effects = list(_effects(stmt, active, kinds, return_kind, user_results))
            except Unplaced as e:  # found in a function this statement calls
                raise _Error(n.source)(_node(stmt), e.construct, e.fix) from None
            for name, is_active, kind in effects:
                if is_active and name not in active:
                    active.add(name)
                    changed = True
                new = join(kinds.get(name), kind)
                if kinds.get(name) != new:
                    kinds[name] = new
                    changed = True
    output = _output(n.body)
    scalar = all(k == SCALAR for k in param_kinds) and not any(
        isinstance(v, Box) for v in n.free.values()
    )
    analysed = Analysed(n, tuple(argnums), tuple(param_kinds), frozenset(active), kinds, output,
                        scalar, user_results)  # fmt: skip
    _check(analysed, stmts)
    return analysed


def _output(body: list[Stmt]) -> str:
    last = body[-1]
    assert isinstance(last, Return) and isinstance(last.value, Name)
    return last.value.id


def _effects(stmt: Stmt, active: set[str], kinds: dict[str, str],
             return_kind: ReturnKind | None, user_results: dict[int, str]):  # fmt: skip
    """``(name, active, kind)`` for each name ``stmt`` assigns."""

    def kind(atom: Any) -> str:
        if isinstance(atom, Name):
            return kinds.get(atom.id, OTHER)
        if isinstance(atom, Lit):
            return kind_of(atom.value)
        if isinstance(atom, Display):
            items = [kind(a) for a in atom.items]
            return (
                SCALARS if atom.kind is not dict and all(k == SCALAR for k in items) else CONTAINER
            )
        return ANY

    def is_active(atoms: Any) -> bool:
        for a in atoms:
            if isinstance(a, Name) and a.id in active:
                return True
            if isinstance(a, Display) and any(x.id in active for x in a.names):
                return True
        return False

    if isinstance(stmt, Assign):
        op = stmt.op
        if len(stmt.targets) > 1:  # a, b = t
            src = op.args[0]
            k = kind(src)
            element = SCALAR if k == SCALARS else (ARRAY if k == ARRAY else ANY)
            for t in stmt.targets:
                yield t, is_active(op.args), element
            return
        yield stmt.target, _op_active(op, is_active), _op_kind(op, kind, return_kind, user_results)
    elif isinstance(stmt, Push):  # the stack holds what is pushed: its elements' kind
        yield stmt.stack, is_active([stmt.value]), CONTAINER
        yield stmt.stack + "[]", False, kind(stmt.value)
    elif isinstance(stmt, For):
        seq_targets = dict(stmt.sequences)
        for t in stmt.targets:
            seq = seq_targets.get(t)
            if seq is None:
                yield t, False, SCALAR if stmt.kind in ("range", "enumerate") else ANY
            else:
                k = kind(seq)
                element = SCALAR if k == SCALARS else (ARRAY if k == ARRAY else ANY)
                yield t, is_active([seq]), element


def joins_or_repeats(op: Op) -> bool:
    """Whether ``op`` is ``u + v`` or ``u * v``, which join or repeat tuples and lists
    (rather than add or multiply) where an operand is one."""
    return op.kind == "prim" and op.form == "infix" and op.fn in (S.add, S.mul)


def _op_active(op: Op, is_active: Callable[[Any], bool]) -> bool:
    if op.kind in ("prim", "table", "user", "copy", "display", "pop"):
        return is_active(op.args)
    return False


def _op_kind(op: Op, kind: Callable[[Any], str], return_kind: ReturnKind | None,
             user_results: dict[int, str]) -> str:  # fmt: skip
    args = [kind(a) for a in op.args]
    if op.kind == "pop":
        return kind(Name(op.args[0].id + "[]"))  # type: ignore[union-attr]
    if op.kind in ("copy", "const"):
        return args[0]
    if op.kind == "display":
        return args[0]
    if op.kind == "prim":
        if joins_or_repeats(op):
            sequences = [k for k in args if k in (SCALARS, CONTAINER)]
            if sequences:
                return SCALARS if all(k == SCALARS for k in sequences) else CONTAINER
            if any(k not in (SCALAR, ARRAY) for k in args):
                return ANY
        return SCALAR if all(k == SCALAR for k in args) else ARRAY
    if op.kind == "table":
        if op.fn is A.getitem:
            return {SCALARS: SCALAR, ARRAY: ARRAY}.get(args[0], ANY)
        return ARRAY
    if op.kind == "user":
        if return_kind is None:
            return ANY
        result = return_kind(op.fn, tuple(args))
        user_results[id(op)] = result
        return result
    if op.form == "raw" and isinstance(op.raw, ast.Compare):
        operands = [n for n in ast.walk(op.raw) if isinstance(n, ast.Name)]
        return SCALAR if all(kind(Name(o.id)) == SCALAR for o in operands) else ARRAY
    callee = op.fn if isinstance(op.fn, Callee) else None
    if callee is not None and callee.fn in (len, builtins.int, builtins.float, builtins.round):
        return SCALAR
    return OTHER


# ---------------------------------------------------------------------------
# Differentiated values where they cannot go

_ATTRIBUTES = ("shape", "ndim", "size", "dtype")

_FIXES = {
    builtins.float: "float() drops the value out of the computation (and its derivative); "
    "keep it as it is, or use .value of a traced value if you want a constant",
    builtins.int: "int() has no derivative; keep the value as a float",
    builtins.round: "round() has no derivative",
    builtins.bool: "bool() has no derivative; compare with a number instead",
    builtins.min: "use ad.minimum(a, b) (or ad.min over an array) instead of min()",
    builtins.max: "use ad.maximum(a, b), or ad.max(x) for the largest element, instead of max()",
    builtins.sum: "use ad.sum(ad.stack([...])) or a for loop instead of sum()",
    np.array: "build arrays of differentiated values with ad.stack([...]) or ad.concatenate",
    np.asarray: "build arrays of differentiated values with ad.stack([...])",
}

_SCT_OVER_SCT = (
    "sct over sct: the derivative code calls {name}, which handles arrays or containers at "
    "run time (an array rule's pullback closes over values sct cannot follow); sct "
    "differentiates its own code for Python numbers. Differentiate the derivative with the "
    "reverse engine instead: ad.grad(ad.sct.grad(f)), or ad.hessian(f, mode=('reverse', 'sct'))"
)

_METHOD_FIXES = {
    "astype": "drop .astype(...): differentiated values stay floats",
    "round": "rounding has no derivative in sct (round(x) is refused too); keep the value as it is",
    "item": "index the element instead: x[0] is a number, and keeps its derivative",
    "tolist": "iterate over the array itself, or index it",
}
"""sct's own advice for array methods with no rule in the table, where the advice to
traced values (``ARRAY_METHODS_INSTEAD``, which the others follow) does not hold."""


def _method_fix(name: str) -> str:
    """What to write instead of the array method ``name``, which has no rule in the table."""
    if name in _METHOD_FIXES:
        return _METHOD_FIXES[name]
    instead = ARRAY_METHODS_INSTEAD.get(name)
    if instead is None or "x.value" in instead:  # reads a traced value's number: not here
        return "write it with table operations (ad.*)"
    return "use " + instead.format(name=name, call="()")


def _may_change_in_place(call: ast.expr, a: Analysed) -> bool:
    """Whether an expression statement with a differentiated value in it may change an array
    in place or keep the value where the function reads it again: a numpy call (np.copyto,
    np.put, np.add.at), any call with ``out=``, or a method of an object the function reads
    elsewhere (``cache.append(x)`` then ``cache[0]``). A function called for its effect
    (``record(x)``, ``print(x)``, ``log.append(x)``) keeps the number, as it should."""
    if not isinstance(call, ast.Call):
        return False
    if not any(isinstance(x, ast.Name) and x.id in a.active for x in ast.walk(call)):
        return False
    if any(k.arg == "out" for k in call.keywords):
        return True
    root = call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root is call.func:
        return False
    spelled = {v: k for k, v in a.normalised.spelling.aliases.items()}.get(root.id, root.id)
    value = a.normalised.checked.free.get(spelled)
    if getattr(value, "__name__", "").partition(".")[0] == "numpy":  # np.copyto, np.add.at
        return True
    if root.id == a.normalised.spelling.runtime or not isinstance(call.func.value, ast.Name):
        return False
    uses = [x for x in ast.walk(a.normalised.checked.source.tree)
            if isinstance(x, ast.Name) and x.id == spelled]  # fmt: skip
    return len(uses) > 1  # the object is read elsewhere: the kept value would come back


def _check(a: Analysed, stmts: list[Stmt]) -> None:
    error = _Error(a.normalised.source)
    for stmt in stmts:
        node = _node(stmt)
        if isinstance(stmt, Effect) and isinstance(stmt.node, ast.Expr):
            call = stmt.node.value
            local = a.normalised.checked.locals | a.normalised.temps
            if (
                isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.value.id in local
                and any(isinstance(x, ast.Name) and x.id in a.active for x in ast.walk(call))
            ):  # fmt: skip
                raise error(node, f"`{ast.unparse(call)}` with a differentiated value", "sct "
                            "follows values through assignments, not through methods that "
                            "change an object in place; only list.append/list.pop used as a "
                            "stack are supported. Build the value and assign it")  # fmt: skip
            if _may_change_in_place(call, a):
                raise error(node, f"`{ast.unparse(call)}` with a differentiated value", "a "
                            "call whose result is not used is run for what it changes (np.copyto, "
                            "np.put, np.add.at, out=...), and sct follows values through "
                            "assignments, not changes in place. Compute the new value and "
                            "assign it: y = x * 2.0, y = ad.where(mask, new, y)")  # fmt: skip
            continue
        if isinstance(stmt, For):
            counts = [x.id for x in stmt.args if stmt.kind == "range" and a.is_active(x)]
            if stmt.raw is not None:
                counts += [x.id for x in ast.walk(stmt.raw)
                           if isinstance(x, ast.Name) and x.id in a.active]  # fmt: skip
            if counts:
                names = " and ".join(dict.fromkeys(counts))
                raise error(node, f"the loop `{stmt.text()}` with the differentiated {names}",
                            "a loop's trip count cannot depend on a differentiated input: "
                            f"{names} counts iterations (an integer) and has no derivative. "
                            "Pass the count as an argument that is not differentiated "
                            "(argnums=... naming only the others), or iterate over a "
                            "differentiated sequence itself (for v in xs, zip(...), "
                            "enumerate(...))")  # fmt: skip
            continue
        if not isinstance(stmt, Assign):
            continue
        op = stmt.op
        reads = [r.id for r in op.reads]
        if not any(r in a.active for r in reads):
            continue
        if op.kind == "other":
            _other_error(a, op, node, error)
        elif op.kind in ("table", "user"):
            if (
                op.form == "subscript"
                and op.raw is not None
                and any(isinstance(x, ast.Name) and x.id in a.active for x in ast.walk(op.raw))
            ):
                raise error(node, "indexing with a differentiated value", "indices have no "
                            "derivative; index with an integer")  # fmt: skip
            for i in A.setting_positions(op.fn, len(op.args)) if op.kind == "table" else ():
                if a.is_active(op.args[i]):
                    raise error(node, f"a differentiated setting of {op.spelling}", f"argument "
                                f"{i + 1} of {op.spelling} is a setting, a number without a "
                                "derivative; pass a constant")  # fmt: skip
            for key, value in op.kwargs:
                names = value.names if isinstance(value, Display) else [value]
                if any(a.is_active(v) for v in names):
                    what = "a table operation" if op.kind == "table" else op.spelling
                    raise error(node, f"a differentiated keyword argument {key}= of {what}",
                                "pass differentiated values as positional arguments")  # fmt: skip


def _other_error(a: Analysed, op: Op, node: Any, error: _Error) -> None:
    if op.form == "raw":
        raw = op.raw
        if isinstance(raw, ast.Compare) or (
            isinstance(raw, ast.UnaryOp) and isinstance(raw.op, ast.Not)
        ):
            return  # a condition: no derivative needed
        if isinstance(raw, ast.JoinedStr):
            return
        raise error(node, f"`{ast.unparse(raw)}` on a differentiated value", "this expression "
                    "has no derivative rule; write it with table operations")  # fmt: skip
    if op.form == "attribute":
        if op.spelling in _ATTRIBUTES:
            return
        raise error(
            node,
            f"the attribute .{op.spelling} of a differentiated value",
            "use table operations (ad.*) on it; .shape, .ndim, .size and .dtype are fine",
        )
    if op.form == "infix":
        raise error(
            node,
            f"the operator {op.spelling} on a differentiated value",
            "it has no derivative rule; write it with + - * / ** @ and table operations",
        )
    callee: Callee | None = op.fn if isinstance(op.fn, Callee) else None
    if callee is None:  # pragma: no cover
        return
    if callee.kind == "result":
        return
    if callee.kind == "dynamic" and op.form == "method":
        hint = _method_fix(op.spelling)
        methods = " ".join(f".{m}()" for m in A.METHODS)
        raise error(node, f"the method .{op.spelling}() of a differentiated value", "sct "
                    f"differentiates the array methods of the table ({methods} and .T); "
                    f"{hint}")  # fmt: skip
    if callee.kind == "dynamic":
        raise error(node, f"a call of {op.spelling}, a function held in a variable", "sct must "
                    "know the function when it transforms the code; call the table (e.g. "
                    "ad.tanh) or a module-level function by its name")  # fmt: skip
    fix = _FIXES.get(callee.fn) if _hashable(callee.fn) else None
    if getattr(callee.fn, "__module__", None) == runtime.__name__:
        fix = _SCT_OVER_SCT.format(name=callee.name)
    if fix is None:
        fix = (f"{callee.name} has no derivative rule in adlab's table; use an operation of the "
               "table (see ad.rule_table()) or declare a rule with @ad.primitive")  # fmt: skip
    raise error(node, f"{callee.name}(...) of a differentiated value", fix)


def _node(stmt: Stmt) -> ast.AST:
    """A placeholder node at the statement's line, for error messages."""
    return ast.Pass(lineno=stmt.origin.line, col_offset=0)
