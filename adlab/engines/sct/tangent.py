"""Pass 5 (forward mode), tangent: generate code that carries a tangent beside every value.

Each active statement of the normalised program is followed by its tangent
statement, the partial derivatives of the table applied to names::

    t1 = ad.sin(x)              # line 2: return ad.sin(x) * y
    t1_dot = ad.cos(x) * x_dot
    out = t1 * y
    out_dot = y * t1_dot + t1 * y_dot

Forward mode needs no stacks: control flow is the primal's own, and a loop
over a differentiated sequence walks its tangent alongside
(``for x, x_dot in zip(xs, xs_dot)``). Array operations and calls of other
user functions return ``(value, tangent)`` pairs at run time.
"""

from __future__ import annotations

from typing import Any

from adlab.core.expr import Sym, as_expr
from adlab.core.rules import elementwise_tangent
from adlab.engines.sct.activity import SCALAR, Analysed
from adlab.engines.sct.ir import (
    Assign,
    Callees,
    Code,
    Display,
    For,
    Generated,
    If,
    Jump,
    Name,
    Push,
    Return,
    Stmt,
    While,
)  # fmt: skip
from adlab.engines.sct.printing import Printer, Scope, atom_expr, may_broadcast
from adlab.engines.sct.tape import python_operator, runs_a_rule
from adlab.ops import scalar as S


def generate(analysed: Analysed, callees: Callees) -> Generated:
    """Pass ``tangent``: the forward-mode derivative of the analysed function, as Python source.

    The generated function takes the primal arguments, then one keyword-only
    tangent per differentiated parameter (``x_dot=...``), and returns
    ``(out, out_dot)``.
    """
    return _Tangent(analysed, callees).run()


class _Tangent:
    def __init__(self, a: Analysed, callees: Callees) -> None:
        self.a = a
        self.n = a.normalised
        self.callees = callees
        self.spelling = self.n.spelling
        self.scope = Scope(set(self.n.names), self.n.free)
        self.printer = Printer(self.spelling.table, self.scope)
        self.dots: dict[str, str] = {}

    def dot(self, name: str) -> str:
        """The name of ``name``'s tangent: ``x_dot``."""
        if name not in self.dots:
            self.dots[name] = self.scope.fresh(f"{name}_dot")
        return self.dots[name]

    def rt(self, helper: str) -> str:
        return f"{self.spelling.runtime}.{helper}"

    def zero(self, atom: Any) -> str:
        """An exact zero tangent for ``atom``."""
        if self.a.kind(atom) == SCALAR:
            return "0.0"
        return f"{self.rt('zero')}({atom})"

    def tangent_of(self, atom: Any) -> str:
        if isinstance(atom, Display):
            items = ", ".join(self.tangent_of(x) for x in atom.items)
            return f"({items},)" if atom.kind is tuple and len(atom.items) == 1 else (
                f"({items})" if atom.kind is tuple else f"[{items}]")  # fmt: skip
        if self.a.is_active(atom):
            return self.dot(atom.id)
        return self.zero(atom)

    # -- the pass -------------------------------------------------------------------------------
    def run(self) -> Generated:
        a, n = self.a, self.n
        name = self.scope.fresh(f"{n.name}_jvp")
        tangents = [self.dot(x) for x in a.wrt]
        params = n.signature()
        extra = ", ".join(tangents)
        if tangents:
            params = f"{params}, {extra}" if n.kwonly else (
                f"{params}, *, {extra}" if params else f"*, {extra}")  # fmt: skip
        code = Code()
        code.add(f"def {name}({params}):")
        with code.block():
            code.comment("each value, then its tangent: its derivative along the given *_dot")
            for p in (
                *n.params,
                *n.kwonly,
            ):  # not differentiated, but later assigned values that are
                if p in a.active and p not in a.wrt:
                    code.add(f"{self.dot(p)} = {self.zero(Name(p))}")
            self.block(n.body, code)
            out = a.output
            out_dot = self.tangent_of(Name(out))
            if a.kind(Name(out)) != SCALAR and a.is_active(Name(out)):
                out_dot = f"{self.rt('broadcast')}({out_dot}, {out})"
            code.add(f"return {out}, {out_dot}")
        return Generated(name, str(code), self.scope.namespace, a, "jvp", tuple(tangents),
                         tuple(self.callees.compiled))  # fmt: skip

    def block(self, body: list[Stmt], code: Code) -> None:
        last = None
        for s in body:
            comment = s.origin.comment() if s.origin is not last and s.origin.line else ""
            last = s.origin
            if isinstance(s, Assign):
                self.assign(s, code, comment)
            elif isinstance(s, If):
                code.add(s.text(), comment)
                with code.block():
                    self.block(s.body or [Jump("pass", s.origin)], code)
                if s.orelse:
                    code.add("else:")
                    with code.block():
                        self.block(s.orelse, code)
                last = None
            elif isinstance(s, For):
                code.add(self.loop_header(s), comment)
                with code.block():
                    self.block(s.body or [Jump("pass", s.origin)], code)
                last = None
            elif isinstance(s, While):
                code.add(s.text(), comment)
                with code.block():
                    self.block(s.body or [Jump("pass", s.origin)], code)
                last = None
            elif isinstance(s, Return):
                continue
            elif isinstance(s, Push) and s.stack in self.a.active:
                code.add(s.text(), comment)
                code.add(f"{self.dot(s.stack)}.append({self.tangent_of(s.value)})")
            else:
                code.add(s.text(), comment)

    def loop_header(self, s: For) -> str:
        """``for x in xs`` becomes ``for x, x_dot in zip(xs, xs_dot)`` when xs is differentiated."""
        active = [(t, seq) for t, seq in s.sequences if self.a.is_active(seq)]
        if not active:
            return s.text()
        dots = [self.dot(t) for t, _ in active]
        seqs = [self.tangent_of(seq) for _, seq in active]
        if s.kind == "seq":
            return f"for {s.targets[0]}, {dots[0]} in zip({s.args[0]}, {seqs[0]}):"
        if s.kind == "zip":
            targets = ", ".join((*s.targets, *dots))
            return f"for {targets} in zip({', '.join(map(str, (*s.args, *seqs)))}):"
        i, x = s.targets  # enumerate
        return f"for {i}, ({x}, {dots[0]}) in enumerate(zip({s.args[0]}, {seqs[0]})):"

    def assign(self, s: Assign, code: Code, comment: str) -> None:
        a, op = self.a, s.op
        targets = s.targets
        if not any(t in a.active for t in targets):
            code.add(s.text(), comment)
            return
        if len(targets) > 1:  # a, b = t
            code.add(s.text(), comment)
            dots = ", ".join(self.dot(t) for t in targets)
            code.add(f"{dots} = {self.tangent_of(op.args[0])}")
            return
        t = s.target
        if runs_a_rule(s, a):
            code.add(self.pair_call(s), comment)
            return
        code.add(s.text(), comment)
        if op.kind == "prim":
            code.add(f"{self.dot(t)} = {self.prim_tangent(s)}")
        elif op.kind == "pop":
            code.add(f"{self.dot(t)} = {self.dot(op.args[0].id)}.pop()")  # type: ignore[union-attr]
        elif op.kind == "copy" or op.kind == "display":
            code.add(f"{self.dot(t)} = {self.tangent_of(op.args[0])}")
        else:  # a constant, or something without a derivative, assigned to an active name
            code.add(f"{self.dot(t)} = {self.zero(Name(t))}")

    def prim_tangent(self, s: Assign) -> str:
        """The tangent of an elementwise operation: the table's derivation applied to names
        (``∂₀ · ẋ₀ + ẋ₁ · ∂₁ ...``, as symbolic mode writes it), printed."""
        op = s.op
        args = tuple(atom_expr(x) for x in op.args)
        fns = op.fn.rule.fns
        active = [self.a.is_active(x) and fns[i] is not None for i, x in enumerate(op.args)]
        tangents = [Sym(self.dot(x.id)) if a else None for x, a in zip(op.args, active)]
        total = elementwise_tangent(fns, args, Sym(s.target), tangents)
        if total is None:  # only the condition of a where is differentiated: no tangent
            return self.zero(Name(s.target))
        safe = (args[1],) if op.fn is S.truediv else ()
        text = self.printer.text(as_expr(total).simplify(), safe)
        grows = any(a and may_broadcast(self.a, op.args, i) for i, a in enumerate(active))
        return f"{self.rt('broadcast')}({text}, {s.target})" if grows else text

    def pair_call(self, s: Assign) -> str:
        """``t, t_dot = ...`` for an array operation or a call of a user function."""
        op, t = s.op, s.target
        if op.kind == "user":
            active = tuple(i for i, x in enumerate(op.args) if self.a.is_active(x))
            kinds = tuple(self.a.kind(x) for x in op.args)
            fn = self.callees.function(op.fn, active, kinds, "jvp")
            name = self.scope.bind(fn, fn.__name__)
            names = getattr(fn, "__sct_tangents__", ())
            args = [str(x) for x in op.args] + [f"{k}={v}" for k, v in op.kwargs]
            args += [f"{names[k]}={self.dot(op.args[i].id)}" for k, i in enumerate(active)]
            return f"{t}, {self.dot(t)} = {name}({', '.join(args)})"
        if op.form == "subscript":
            fn = f"{self.spelling.table}.getitem"
            primals = f"({op.args[0]}, {self.spelling.numpy}.s_[{op.index}])"
            tangents = f"({self.tangent_of(op.args[0])}, None)"
        else:
            fn = op.spelling
            python = python_operator(s, self.a)
            if python is not None:  # joins or repeats tuples and lists
                fn = self.rt(python)
            elif op.form in ("infix", "unary"):  # a @ b, or a rule that is not symbolic
                fn = self.printer.name(op.fn) if op.kind == "prim" else (
                    f"{self.spelling.table}.matmul")  # fmt: skip
            primals = ", ".join(str(x) for x in op.args)
            primals = f"({primals},)" if len(op.args) == 1 else f"({primals})"
            dots = [self.tangent_of(x) if self._differentiable(x) else "None" for x in op.args]
            tangents = f"({dots[0]},)" if len(dots) == 1 else f"({', '.join(dots)})"
        kwargs = "".join(f", {k}={v}" for k, v in op.kwargs)
        return f"{t}, {self.dot(t)} = {self.rt('jvp')}({fn}, {primals}, {tangents}{kwargs})"

    def _differentiable(self, x: Any) -> bool:
        if isinstance(x, Display):
            return any(self.a.is_active(i) for i in x.items)
        return self.a.is_active(x)
