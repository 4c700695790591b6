"""Pass 3, ssa: normalise the function to A-normal form (three-address code).

Every operation gets a statement of its own, on atoms (names and constants),
and every intermediate value a fresh name ``t1, t2, ...``; the returned value
is called ``out`` when it has no name of its own. ``3 * x ** 2`` becomes two
operations, as in Zygote's SSA IR::

    t1 = x ** 2          # line 2: return 3 * x ** 2
    out = 3 * t1
    return out

Straight-line temporaries are assigned exactly once (static single assignment);
the user's own variables keep their names even when a loop reassigns them: the
adjoint saves the values a loop overwrites instead of renaming them (no phi
nodes). Operations never read the variable they assign (``z = z * x`` becomes
``t1 = z * x; z = t1``), augmented assignment becomes plain assignment, ``a if c
else b`` an ``if`` (and so do ``a or b`` and ``a and b``, which return one of
their operands), and code after a branch that returns, breaks or
continues moves into the other branch, so control flow is structured.
``math.sin``, ``np.sin`` and ``ad.sin`` all become ``ad.sin``: names are mapped
to the one table here, once.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adlab import ops
from adlab.core.primitive import Primitive
from adlab.engines.sct import runtime
from adlab.engines.sct.fence import Callee, Checked, _Error, structure, table_name
from adlab.engines.sct.ir import (
    Assign,
    Atom,
    Code,
    Display,
    Effect,
    For,
    If,
    Jump,
    Lit,
    Name,
    Op,
    Origin,
    Push,
    Return,
    Stmt,
    While,
    listing,
    walk,
)
from adlab.ops import array as A
from adlab.ops import scalar as S

_BINOPS = {ast.Add: S.add, ast.Sub: S.sub, ast.Mult: S.mul, ast.Div: S.truediv, ast.Pow: S.pow}
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
              ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&",
              ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}  # fmt: skip


@dataclass
class Spelling:
    """How generated code names adlab's table, sct's run-time helpers and numpy."""

    table: str = "ad"
    runtime: str = "sct"
    numpy: str = "np"
    aliases: dict[str, str] = field(default_factory=dict)  # user free name -> its name in code

    def reserved(self) -> dict[str, Any]:
        return {self.table: ops, self.runtime: runtime, self.numpy: np}


@dataclass(frozen=True, eq=False)
class Normalised:
    """The function in A-normal form: what the ``ssa`` pass produces."""

    checked: Checked
    params: tuple[str, ...]  # positional parameters, in order
    kwonly: tuple[str, ...]
    body: list[Stmt]
    temps: frozenset[str]  # the names this pass introduced
    names: frozenset[str]  # every name in use (parameters, variables, temporaries, free names)
    spelling: Spelling
    free: dict[str, Any]  # free name (as spelled in code) -> value

    @property
    def name(self) -> str:
        return self.checked.name

    @property
    def source(self) -> Any:
        return self.checked.source

    @property
    def operations(self) -> list[Assign]:
        """The statements that compute something (copies, constants and displays excluded)."""
        return [
            s
            for s in walk(self.body)
            if isinstance(s, Assign) and s.op.kind in ("prim", "table", "user", "other")
        ]

    def __len__(self) -> int:
        return len(self.operations)

    def signature(self) -> str:
        params = list(self.params)
        if self.kwonly:
            params += ["*", *self.kwonly]
        return ", ".join(params)

    def __str__(self) -> str:
        code = Code()
        code.add(f"def {self.name}({self.signature()}):")
        with code.block():
            listing(self.body, code)
        return str(code)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def normalise(checked: Checked) -> Normalised:
    """Pass ``ssa``: the function in A-normal form (see the module docstring)."""
    return _Lowering(checked).run()


class _Lowering:
    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        self.source = checked.source
        self.error = _Error(self.source)
        tree = self.source.tree
        args = tree.args
        self.params = tuple(a.arg for a in (*args.posonlyargs, *args.args))
        self.kwonly = tuple(a.arg for a in args.kwonlyargs)
        self.locals = set(checked.locals)
        stores = Counter(
            n.id for n in ast.walk(ast.Module(body=tree.body, type_ignores=[]))
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        )  # fmt: skip
        self.stores = stores
        self.taken = set(self.locals) | set(checked.free) | set(self.params) | set(self.kwonly)
        self.temps: set[str] = set()
        self.counter = itertools.count(1)
        self.spelling = self._spelling()
        self.free = {self.spelling.aliases.get(k, k): v for k, v in checked.free.items()}
        self.out_name: str | None = None

    # -- names ------------------------------------------------------------------------
    def _spelling(self) -> Spelling:
        spelling = Spelling()
        for attr in ("table", "runtime", "numpy"):
            base = getattr(spelling, attr)
            if base in self.locals:
                setattr(spelling, attr, self.fresh(base))
            self.taken.add(getattr(spelling, attr))
        reserved = spelling.reserved()
        for name, value in self.checked.free.items():
            if name in reserved and reserved[name] is not value:
                spelling.aliases[name] = self.fresh(f"{name}_")
        return spelling

    def fresh(self, base: str = "t") -> str:
        if base == "t":
            while True:
                name = f"t{next(self.counter)}"
                if name not in self.taken:
                    break
        else:
            name, k = base, 1
            while name in self.taken:
                k += 1
                name = f"{base}{k}"
        self.taken.add(name)
        self.temps.add(name)
        self.locals.add(name)
        return name

    # -- the pass -----------------------------------------------------------------------
    def run(self) -> Normalised:
        tree = self.source.tree
        body = [s for s in tree.body if not _is_docstring(s)]
        body = structure(body, (ast.Return,), self.error)
        single = len(body) > 0 and isinstance(body[-1], ast.Return) and not any(
            isinstance(n, ast.Return) for s in body[:-1] for n in ast.walk(s)
        )  # fmt: skip
        if not single:
            self.out_name = self.fresh("out")
        lowered = self.block(body)
        if not single:
            origin = self._origin(body[-1]) if body else Origin(0, "")
            lowered.append(Return(Name(self.out_name), origin))
        names = frozenset(self.taken | self.temps)
        return Normalised(self.checked, self.params, self.kwonly, lowered,
                          frozenset(self.temps), names, self.spelling, self.free)  # fmt: skip

    def block(self, stmts: list[ast.stmt]) -> list[Stmt]:
        out: list[Stmt] = []
        for stmt in stmts:
            self.stmt(stmt, out)
        return out

    def _origin(self, node: ast.stmt) -> Origin:
        line = node.lineno
        if isinstance(node, ast.If):
            text = f"{'elif' if _is_elif(node, self.source) else 'if'} {ast.unparse(node.test)}:"
        elif isinstance(node, ast.For):
            text = f"for {_index_text(node.target)} in {ast.unparse(node.iter)}:"
        elif isinstance(node, ast.While):
            text = f"while {ast.unparse(node.test)}:"
        else:
            text = ast.unparse(node)
        text = " ".join(text.split())
        return Origin(line, text if len(text) <= 76 else text[:73] + "...")

    # -- statements -------------------------------------------------------------------------
    def stmt(self, node: ast.stmt, out: list[Stmt]) -> None:
        origin = self._origin(node)
        if isinstance(node, ast.Assign):
            for target in node.targets[1:]:  # a = b = expr: compute once, copy
                self.assign(node.targets[0], node.value, origin, out)
                self.assign(target, node.targets[0], origin, out)
                return
            self.assign(node.targets[0], node.value, origin, out)
        elif isinstance(node, ast.AnnAssign):
            self.assign(node.target, node.value, origin, out)
        elif isinstance(node, ast.AugAssign):
            # numpy changes an array in place (and every name bound to it): refused at run time
            guard = ast.Call(ast.Attribute(ast.Name(self.spelling.runtime, ast.Load()),
                                           "in_place", ast.Load()),
                             [ast.Name(node.target.id, ast.Load()),
                              ast.Constant(" ".join(ast.unparse(node).split()))], [])  # fmt: skip
            out.append(Effect(ast.copy_location(ast.Expr(guard), node), origin))
            value = ast.BinOp(left=ast.Name(node.target.id, ast.Load()), op=node.op,
                              right=node.value)  # fmt: skip
            ast.copy_location(value, node)
            self.assign(node.target, value, origin, out)
        elif isinstance(node, ast.Return):
            self.ret(node, origin, out)
        elif isinstance(node, ast.If):
            out.append(If(self.raw(node.test), self.block(node.body), self.block(node.orelse),
                          origin))  # fmt: skip
        elif isinstance(node, ast.For):
            self.for_loop(node, origin, out)
        elif isinstance(node, ast.While):
            body = structure(node.body, (ast.Break, ast.Continue), self.error)
            out.append(While(self.raw(node.test), self.block(body), origin))
        elif isinstance(node, ast.Break | ast.Continue | ast.Pass):
            out.append(Jump({ast.Break: "break", ast.Continue: "continue",
                             ast.Pass: "pass"}[type(node)], origin))  # fmt: skip
        elif isinstance(node, ast.Expr) and self._list_method(node.value, "append", 1):
            stack = node.value.func.value.id  # type: ignore[attr-defined]
            value = self.atom(node.value.args[0], origin, out)  # type: ignore[attr-defined]
            out.append(Push(stack, value, origin))
        elif isinstance(node, ast.Expr | ast.Assert | ast.Raise):
            if not _is_docstring(node):
                out.append(Effect(self.raw(node), origin))
        else:  # pragma: no cover - the fence rejects everything else
            raise self.error(node, type(node).__name__, "not supported")

    def ret(self, node: ast.Return, origin: Origin, out: list[Stmt]) -> None:
        if self.out_name is None:  # the single return at the end
            atom = self.atom(node.value, origin, out, name="out")
            if isinstance(atom, Lit):
                name = self.fresh("out")
                out.append(Assign((name,), _copy(atom), origin))
                atom = Name(name)
            out.append(Return(atom, origin))
        else:
            self.assign(ast.Name(self.out_name, ast.Store()), node.value, origin, out)

    def assign(self, target: ast.expr, value: ast.expr, origin: Origin, out: list[Stmt]) -> None:
        if isinstance(target, ast.Name):
            op = self.op(value, origin, out, name=target.id)
            if op.kind == "copy" and isinstance(op.args[0], Name) and op.args[0].id == target.id:
                return  # x = x
            if Name(target.id) in op.reads:  # z = z * x  ->  t = z * x; z = t
                temp = self.fresh()
                out.append(Assign((temp,), op, origin))
                op = _copy(Name(temp))
            out.append(Assign((target.id,), op, origin))
            return
        assert isinstance(target, ast.Tuple | ast.List)
        elts = target.elts
        if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(elts):
            # a, b = b, a + b: evaluate every right-hand side first, then assign
            targets = {n.id for e in elts for n in ast.walk(e) if isinstance(n, ast.Name)}
            ops = []
            for v in value.elts:
                op = self.op(v, origin, out)
                if any(r.id in targets for r in op.reads):
                    temp = self.fresh()
                    out.append(Assign((temp,), op, origin))
                    op = _copy(Name(temp))
                ops.append(op)
            for e, op in zip(elts, ops):
                if isinstance(e, ast.Name):
                    out.append(Assign((e.id,), op, origin))
                else:
                    temp = self.fresh()
                    out.append(Assign((temp,), op, origin))
                    self.assign(e, ast.Name(temp, ast.Load()), origin, out)
            return
        atom = self.atom(value, origin, out)
        names = []
        nested: list[tuple[ast.expr, str]] = []
        for e in elts:
            if isinstance(e, ast.Name):
                names.append(e.id)
            else:  # (a, b), c = ...: unpack into a temporary first
                temp = self.fresh()
                names.append(temp)
                nested.append((e, temp))
        if isinstance(atom, Name) and atom.id in names:
            temp = self.fresh()
            out.append(Assign((temp,), _copy(atom), origin))
            atom = Name(temp)
        out.append(Assign(tuple(names), _copy(atom), origin))
        for e, temp in nested:
            self.assign(e, ast.Name(temp, ast.Load()), origin, out)

    def for_loop(self, node: ast.For, origin: Origin, out: list[Stmt]) -> None:
        it, target = node.iter, node.target
        callee = self.checked.callees.get(it) if isinstance(it, ast.Call) else None
        fn = callee.fn if callee is not None else None
        prefix: list[Stmt] = []
        if fn is builtins.range and not it.keywords:
            kind, args = "range", tuple(self.atom(a, origin, out) for a in it.args)
            wanted = 1
        elif fn is builtins.zip and not it.keywords and it.args:
            kind, args = "zip", tuple(self.atom(a, origin, out) for a in it.args)
            wanted = len(it.args)
        elif fn is builtins.enumerate and len(it.args) == 1 and not it.keywords:
            kind, args = "enumerate", (self.atom(it.args[0], origin, out),)
            wanted = 2
        elif isinstance(it, ast.Call) and (callee is None or callee.kind != "table"):
            kind, args, wanted = "other", (), 0
        else:
            kind, args, wanted = "seq", (self.atom(it, origin, out),), 1
        if kind in ("zip", "enumerate") and not (
            isinstance(target, ast.Tuple | ast.List) and len(target.elts) == wanted
        ):  # for pair in zip(a, b): a loop over tuples, run as it is
            kind, args = "other", ()
        if kind in ("zip", "enumerate", "other") and isinstance(target, ast.Tuple | ast.List):
            parts = list(target.elts)
        else:
            parts = [target]
        targets = []
        for part in parts:
            if isinstance(part, ast.Name) and self._private(part.id):
                targets.append(part.id)
            else:  # a loop variable must belong to the loop alone: read it through a temporary
                temp = self.fresh()
                targets.append(temp)
                self.assign(part, ast.Name(temp, ast.Load()), origin, prefix)
        raw = self.raw(it) if kind == "other" else None
        body = structure(node.body, (ast.Break, ast.Continue), self.error)
        lowered = prefix + self.block(body)
        out.append(For(tuple(targets), kind, args, lowered, origin, raw))

    def _private(self, name: str) -> bool:
        """Whether the only assignment to ``name`` in the function is this loop's target."""
        return self.stores[name] == 1 and name not in self.params and name not in self.kwonly

    # -- expressions -----------------------------------------------------------------------------
    def atom(self, node: ast.expr, origin: Origin, out: list[Stmt], name: str = "") -> Atom:
        """Statements computing ``node`` appended to ``out``; the atom holding its value."""
        op = self.op(node, origin, out, name)
        if op.kind in ("copy", "const"):
            return op.args[0]  # type: ignore[return-value]
        temp = self.fresh(name) if name == "out" and name not in self.locals else self.fresh()
        out.append(Assign((temp,), op, origin))
        return Name(temp)

    def op(self, node: ast.expr, origin: Origin, out: list[Stmt], name: str = "") -> Op:
        """The operation computing ``node`` (its operands first lowered to atoms)."""
        if isinstance(node, ast.Constant):
            return Op("const", None, (Lit(node.value, repr(node.value)),), form="literal")
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                return _copy(Name(node.id))
            value = self.checked.free[node.id]
            return Op("const", None, (self.lit(value, node),), form="literal")
        if isinstance(node, ast.Attribute):
            return self.attribute(node, origin, out)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                if isinstance(node.operand, ast.Constant) and isinstance(node.operand.value,
                                                                          int | float):  # fmt: skip
                    value = -node.operand.value
                    return Op("const", None, (Lit(value, repr(value)),), form="literal")
                operand = self.atom(node.operand, origin, out)
                return Op("prim", S.neg, (operand,), form="unary", spelling="-")
            if isinstance(node.op, ast.UAdd):
                return self.op(node.operand, origin, out, name)
            operand = self.atom(node.operand, origin, out)
            return self.raw_op(ast.UnaryOp(op=node.op, operand=_atom_ast(operand)))
        if isinstance(node, ast.BinOp):
            left = self.atom(node.left, origin, out)
            right = self.atom(node.right, origin, out)
            symbol = _OPERATORS[type(node.op)]
            prim = _BINOPS.get(type(node.op))
            if prim is not None:
                return Op("prim", prim, (left, right), form="infix", spelling=symbol)
            if isinstance(node.op, ast.MatMult):
                return Op("table", A.matmul, (left, right), form="infix", spelling="@")
            return Op("other", None, (left, right), form="infix", spelling=symbol)
        if isinstance(node, ast.Compare):
            atoms = [self.atom(e, origin, out) for e in (node.left, *node.comparators)]
            raw = ast.Compare(left=_atom_ast(atoms[0]), ops=node.ops,
                              comparators=[_atom_ast(a) for a in atoms[1:]])  # fmt: skip
            return self.raw_op(raw)
        if isinstance(node, ast.BoolOp):  # a value, maybe active: `a or b` is `a if a else b`
            first = ast.BoolOp(node.op, node.values[:-1]) if len(node.values) > 2 else (
                node.values[0])  # fmt: skip
            atom = self.atom(first, origin, out)
            if isinstance(atom, Lit):
                out.append(Assign((temp := self.fresh(),), _copy(atom), origin))
                atom = Name(temp)
            a, b = _atom_ast(atom), node.values[-1]
            pick = ast.IfExp(a, a, b) if isinstance(node.op, ast.Or) else ast.IfExp(a, b, a)
            return self.op(pick, origin, out, name)
        if isinstance(node, ast.IfExp):
            temp = self.fresh()
            body: list[Stmt] = []
            orelse: list[Stmt] = []
            self.assign(ast.Name(temp, ast.Store()), node.body, origin, body)
            self.assign(ast.Name(temp, ast.Store()), node.orelse, origin, orelse)
            out.append(If(self.raw(node.test), body, orelse, origin))
            return _copy(Name(temp))
        if isinstance(node, ast.Call):
            return self.call(node, origin, out)
        if isinstance(node, ast.Subscript):
            value = self.atom(node.value, origin, out)
            index = self.index(node.slice, origin, out)
            return Op("table", A.getitem, (value,), form="subscript", index=_index_text(index),
                      raw=index)  # fmt: skip
        if isinstance(node, ast.Tuple | ast.List):
            items = tuple(self.atom(e, origin, out) for e in node.elts)
            kind = tuple if isinstance(node, ast.Tuple) else list
            display = Display(kind, items)
            return Op("display", kind, (display,), form="display")
        if isinstance(node, ast.Dict):
            if any(k is None or not isinstance(k, ast.Constant) for k in node.keys):
                return self.raw_op(self.raw(node))
            items = tuple(self.atom(v, origin, out) for v in node.values)
            display = Display(dict, items, tuple(k.value for k in node.keys))  # type: ignore[union-attr]
            return Op("display", dict, (display,), form="display")
        return self.raw_op(self.raw(node))  # f-strings, sets, ...: no derivative

    def attribute(self, node: ast.Attribute, origin: Origin, out: list[Stmt]) -> Op:
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id not in self.locals:  # np.pi, math.e, cfg.scale
            value = self.checked.free[root.id]
            for attr in _attrs(node):
                value = getattr(value, attr)
            return Op("const", None, (self.lit(value, node),), form="literal")
        value = self.atom(node.value, origin, out)
        if node.attr == "T":
            return Op("table", A.transpose, (value,), form="call", spelling=self.table("transpose"))
        return Op("other", None, (value,), form="attribute", spelling=node.attr)

    def _list_method(self, node: ast.expr, method: str, nargs: int) -> bool:
        """``name.method(...)`` with ``nargs`` arguments, on a local variable."""
        return (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == method and isinstance(node.func.value, ast.Name)
            and node.func.value.id in self.locals and len(node.args) == nargs
            and not node.keywords
        )  # fmt: skip

    def call(self, node: ast.Call, origin: Origin, out: list[Stmt]) -> Op:
        if self._list_method(node, "pop", 0):  # v = stack.pop()
            stack = Name(node.func.value.id)  # type: ignore[attr-defined]
            return Op("pop", None, (stack,), form="method", spelling="pop")
        callee: Callee = self.checked.callees[node]
        if callee.kind == "method":  # x.sum(axis=0) -> ad.sum(x, axis=0)
            receiver = self.atom(node.func.value, origin, out)  # type: ignore[attr-defined]
            args = [self.atom(a, origin, out) for a in node.args]
            if callee.fn in (A.reshape, A.transpose) and len(args) > 1:
                args = [Display(tuple, tuple(args))]  # x.reshape(2, 3) -> shape (2, 3)
            kwargs = self.keywords(node, origin, out)
            return Op("table", callee.fn, (receiver, *args), kwargs,  # type: ignore[arg-type]
                      spelling=self.table(table_name(callee.fn) or ""))  # fmt: skip
        if callee.kind == "dynamic" and isinstance(node.func, ast.Attribute):  # x.prod()
            receiver = self.atom(node.func.value, origin, out)  # read by the call
            args, kwargs = self.arguments(node, origin, out)
            return Op("other", callee, (receiver, *args), kwargs, form="method",
                      spelling=node.func.attr)  # fmt: skip
        # a user function gets a tuple or list display as a value of its own (t = (a, b)),
        # whose cotangent flows back to its items; a table function reads the items
        args, kwargs = self.arguments(node, origin, out, displays=callee.kind != "user")
        if callee.kind == "prim":
            prim: Primitive = callee.fn
            if kwargs:
                raise self.error(node, f"{callee.name}(..., {kwargs[0][0]}=...)",
                                 "elementwise operations take no keyword arguments")  # fmt: skip
            if prim.symbol is not None and len(args) == 2 and prim.symbol in ("+", "-", "*", "/",
                                                                             "**"):  # fmt: skip
                return Op("prim", prim, tuple(args), form="infix", spelling=prim.symbol)
            name = table_name(prim)
            spelling = self.table(name) if name else self.bind(prim, prim.name)
            return Op("prim", prim, tuple(args), spelling=spelling)
        if callee.kind == "table" and not all(isinstance(v, Lit) for _, v in kwargs):
            args, kwargs = self.bind_arguments(node, callee.fn, args, kwargs, defaults=True)
        if callee.kind == "table":
            name = table_name(callee.fn)
            spelling = self.table(name) if name else self.spelled(node.func, callee.fn)
            return Op("table", callee.fn, tuple(args), kwargs, spelling=spelling)
        if callee.kind == "user":
            args, kwargs = self.bind_arguments(node, callee.fn, args, kwargs)
            spelling = self.spelled(node.func, callee.fn)
            return Op("user", callee.fn, tuple(args), kwargs, spelling=spelling)
        spelling = ast.unparse(node.func) if callee.kind == "dynamic" else (
            self.spelled(node.func, callee.fn))  # fmt: skip
        return Op("other", callee, tuple(args), kwargs, spelling=spelling)

    def arguments(self, node: ast.Call, origin: Origin, out: list[Stmt],
                  displays: bool = True) -> tuple[list, tuple]:  # fmt: skip
        """A call's arguments as atoms; ``*args`` and ``**kwargs`` of free values (read-only,
        known now) are expanded into constants."""
        args: list = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                values = self.checked.free[a.value.id]  # type: ignore[attr-defined]
                args += [self.lit(v, ast.Constant(v)) if _literal(v) else self.bound(v)
                         for v in values]  # fmt: skip
            else:
                args.append(self.arg(a, origin, out) if displays else self.atom(a, origin, out))
        return args, self.keywords(node, origin, out, displays)

    def keywords(self, node: ast.Call, origin: Origin, out: list[Stmt],
                 displays: bool = True) -> tuple:  # fmt: skip
        """A call's keyword arguments as ``(name, atom)`` pairs; ``**kwargs`` of a free value
        (read-only, known now) expanded into constants."""
        kwargs: list = []
        for k in node.keywords:
            if k.arg is None:
                for key, v in self.checked.free[k.value.id].items():  # type: ignore[attr-defined]
                    kwargs.append((key, self.lit(v, ast.Constant(v)) if _literal(v) else
                                   self.bound(v)))  # fmt: skip
            else:
                value = (
                    self.arg(k.value, origin, out) if displays else self.atom(k.value, origin, out)
                )
                kwargs.append((k.arg, value))
        return tuple(kwargs)

    def bound(self, value: Any) -> Lit:
        """A constant without a literal, bound to a name in the generated code."""
        return Lit(value, self.bind(value, "const"))

    def bind_arguments(self, node: ast.Call, fn: Any, args: list, kwargs: tuple,
                       defaults: bool = False) -> tuple:  # fmt: skip
        """A call with keywords turned into positions where possible (so a differentiated
        value passed by keyword, ``np.average(x, weights=w)``, is an operand). With
        ``defaults``, a parameter left out before one given by keyword gets its default,
        where that is a literal (``np.average(x, None, w)``)."""
        if not kwargs:
            return args, kwargs
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):  # pragma: no cover
            return args, kwargs
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        by_name = dict(kwargs)
        new_args, skipped = list(args), []
        for p in positional[len(args) :]:
            if p.name in by_name:
                new_args += skipped
                new_args.append(by_name.pop(p.name))
                skipped = []
            elif defaults and p.default is not p.empty and _literal(p.default):
                skipped.append(self.lit(p.default, ast.Constant(p.default)))
            else:
                break
        return new_args, tuple((k, v) for k, v in kwargs if k in by_name)

    def arg(self, node: ast.expr, origin: Origin, out: list[Stmt]) -> Atom | Display:
        """An argument of a call: an atom, or a tuple/list display of atoms."""
        if isinstance(node, ast.Tuple | ast.List):
            items = tuple(self.atom(e, origin, out) for e in node.elts)
            return Display(tuple if isinstance(node, ast.Tuple) else list, items)
        return self.atom(node, origin, out)

    def index(self, node: ast.expr, origin: Origin, out: list[Stmt]) -> ast.expr:
        """A subscript's index with every computed part lowered to an atom."""
        if isinstance(node, ast.Slice):
            parts = [None if p is None else _atom_ast(self.atom(p, origin, out))
                     for p in (node.lower, node.upper, node.step)]  # fmt: skip
            return ast.Slice(*parts)
        if isinstance(node, ast.Tuple):
            return ast.Tuple([self.index(e, origin, out) for e in node.elts], ast.Load())
        if isinstance(node, ast.Constant):
            return node
        return _atom_ast(self.atom(node, origin, out))

    def raw(self, node: Any) -> Any:
        """An expression or statement kept as it is (no derivative), its free names spelled."""
        if not self.spelling.aliases:
            return node
        aliases = self.spelling.aliases

        class _Respell(ast.NodeTransformer):
            def visit_Name(self, n: ast.Name) -> ast.Name:
                return ast.copy_location(ast.Name(aliases.get(n.id, n.id), n.ctx), n)

        return _Respell().visit(_deep_copy(node))

    def raw_op(self, node: ast.expr) -> Op:
        return Op("other", None, (), form="raw", raw=self.raw(node))

    # -- spellings -----------------------------------------------------------------------------
    def table(self, name: str) -> str:
        return f"{self.spelling.table}.{name}"

    def lit(self, value: Any, node: ast.expr) -> Lit:
        """A free value read by the function: spelled as in the source (or as a literal)."""
        text = ast.unparse(self.raw(node))
        if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
            if isinstance(node, ast.Attribute) and _attrs(node)[-1:] in (["pi"], ["e"], ["tau"]):
                return Lit(value, text)  # keep np.pi readable
            return Lit(value, text if isinstance(node, ast.Name) else repr(value))
        return Lit(value, text)

    def spelled(self, func: ast.expr, value: Any) -> str:
        text = ast.unparse(self.raw(func))
        return text

    def bind(self, value: Any, base: str) -> str:
        for name, v in self.free.items():
            if v is value:
                return name
        name = self.fresh(base)
        self.free[name] = value
        return name


def _literal(value: Any) -> bool:
    if isinstance(value, bool | int | str | type(None)):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _copy(atom: Atom) -> Op:
    kind = "copy" if isinstance(atom, Name) else "const"
    return Op(kind, None, (atom,), form="literal")


def _atom_ast(atom: Atom) -> ast.expr:
    if isinstance(atom, Name):
        return ast.Name(atom.id, ast.Load())
    return ast.parse(atom.text, mode="eval").body


def _index_text(node: ast.expr) -> str:
    """An index as written between brackets: ``:, None`` (ast.unparse would add parentheses)."""
    if isinstance(node, ast.Tuple):
        parts = [ast.unparse(e) for e in node.elts]
        return ", ".join(parts) + ("," if len(parts) == 1 else "")
    return ast.unparse(node)


def _attrs(node: ast.expr) -> list[str]:
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return attrs[::-1]


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_elif(node: ast.If, source: Any) -> bool:
    return source.line_text(node.lineno).startswith("elif")


def _deep_copy(node: Any) -> Any:
    return (
        ast.parse(ast.unparse(node), mode="exec").body[0]
        if isinstance(node, ast.stmt)
        else ast.parse(ast.unparse(node), mode="eval").body
    )
