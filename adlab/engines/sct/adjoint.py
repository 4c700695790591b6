"""Pass 5 (reverse mode), adjoint: generate the derivative code that sweeps backwards.

The generated function runs in two sweeps. The *forward sweep* is the
normalised program, plus the pushes the :mod:`~adlab.engines.sct.tape` plan
asks for. The *reverse sweep* visits the statements in reverse order, one
block per primal statement headed ``# adjoint of line N: ...``, accumulating
adjoints (``x_bar``)::

    # adjoint of line 2: z = x * y
    x_bar = x_bar + z_bar * y
    y_bar = y_bar + z_bar * x

Each block comes from the one rule table: an elementwise primitive's partial
derivatives applied to names and printed as Python (``printing``); array
operations and calls of other user functions record a pullback in the forward
sweep and call it in the reverse sweep. Control flow is not unrolled: an ``if``
keeps its decision, a loop its trip count, and the reverse sweep replays them
backwards, so a loop's adjoint is a loop.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from adlab.core.expr import Const, Expr, Sym, as_expr
from adlab.core.rules import cotangent
from adlab.engines.sct.activity import ARRAY, CONTAINER, SCALAR, SCALARS, Analysed
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
    Origin,
    Push,
    Return,
    Stmt,
    While,
    names_in,
    walk,
)  # fmt: skip
from adlab.engines.sct.printing import Printer, Scope, atom_expr, may_broadcast, partials_of
from adlab.engines.sct.tape import (
    active_stacks,
    enclosing,
    groups,
    plan,
    python_operator,
    spans,
    touches,
)
from adlab.ops import scalar as S


def generate(analysed: Analysed, form: str, callees: Callees, single: bool = False,
             dead: tuple[int, ...] = ()) -> Generated:  # fmt: skip
    """Pass ``adjoint``: the reverse-mode derivative of the analysed function, as Python source.

    ``form`` is ``"grad"`` (one function: forward sweep, then reverse sweep from
    a seed of 1, returning the gradient) or ``"vjp"`` (returns the output and a
    pullback closure running the reverse sweep on any cotangent). ``single``: the
    grad form returns one gradient rather than a tuple (``argnums`` was an int).
    ``dead``: the items of a returned tuple, list or dict (by position) whose cotangent
    is None: their adjoint blocks are left out, as a reverse sweep that starts only
    from the other outputs would (an infinite partial times a zero would be nan), where
    :func:`left_out` allows it; elsewhere they get a zero cotangent.
    """
    return _Adjoint(analysed, form, callees, single, dead).run()


class Adjoints:
    """The adjoint variables as the reverse sweep is written, with two simplifications:

    * an adjoint known to be zero is not written until needed (its first
      contribution becomes ``x_bar = c`` instead of ``x_bar = 0.0; x_bar = x_bar + c``);
    * a temporary's adjoint that is just another adjoint (``t1_bar = t2_bar``) is
      not written at all: its one reader uses ``t2_bar`` directly.
    """

    def __init__(self, code: Code, printer: Printer, runtime: str, names: set[str]) -> None:
        self.code = code
        self.printer = printer
        self.runtime = runtime
        self.names = names  # every adjoint's name (grows as adjoints are named)
        self.zero: set[str] = set()  # adjoints known to be zero, not written yet
        self.alias: dict[str, Expr] = {}  # temporary's adjoint -> its value, not written

    def read(self, name: str) -> Expr:
        if name in self.alias:
            return self.alias.pop(name)
        return Const(0.0) if name in self.zero else Sym(name)

    def set_temp(self, name: str, value: Expr, text: str | None = None,
                 safe: tuple[Expr, ...] = ()) -> None:  # fmt: skip
        """The adjoint of a temporary with a single use: assigned, never accumulated."""
        if text is None and self._cheap(value):
            self.alias[name] = value
            return
        self.assign(name, text if text is not None else self.printer.text(value, safe))

    def accumulate(self, name: str, value: Expr, text: str | None = None,
                   container: bool = False, safe: tuple[Expr, ...] = ()) -> None:  # fmt: skip
        """``name += value`` (the code ``text`` if given, else ``value`` printed)."""
        if name in self.zero and text is None and value.same(Sym(name)):
            self.zero.discard(name)  # x_bar = x_bar: the pending reset is cancelled
            return
        rhs = text if text is not None else self.printer.text(value, safe)
        if name in self.zero:
            self.assign(name, rhs)
        elif container:
            self.assign(name, f"{self.runtime}.add({name}, {rhs})")
        elif text is None and _negated(value) is not None:
            negated = _negated(value)
            self.assign(name, f"{name} - {_paren(self.printer.text(negated, safe), negated)}")
        else:
            self.assign(name, f"{name} + {rhs if text is not None else _paren(rhs, value)}")

    def reset(self, name: str) -> None:
        """The adjoint is zero from here on (its variable was just assigned, going backwards)."""
        self.zero.add(name)

    def assign(self, name: str, text: str) -> None:
        """``name = text``, after writing out the pending values that still read ``name``."""
        for temp, value in list(self.alias.items()):
            if any(s.name == name for s in value.free_symbols):
                del self.alias[temp]
                self.code.add(f"{temp} = {self.printer.text(value)}")
        self.zero.discard(name)
        self.code.add(f"{name} = {text}")

    def flush(self, names: set[str]) -> None:
        """Write out pending values before control flow (their paths diverge), and the
        zeros among ``names``."""
        for temp, value in list(self.alias.items()):
            del self.alias[temp]
            self.code.add(f"{temp} = {self.printer.text(value)}")
        for name in sorted(self.zero & names):
            self.code.add(f"{name} = 0.0")
            self.zero.discard(name)

    def _cheap(self, value: Expr) -> bool:
        """A value that may stand in for a temporary's adjoint unwritten: a constant or
        another adjoint (never a primal name, which a restore could change), maybe negated."""
        inner = _negated(value)
        inner = value if inner is None else inner
        return isinstance(inner, Const) or (isinstance(inner, Sym) and inner.name in self.names)


def left_out(a: Analysed, dead: tuple[int, ...]) -> tuple[int, ...]:
    """The items of ``dead`` (see :func:`generate`) whose adjoint blocks the code for ``a``
    leaves out: all of them where the returned variable is read by nothing but the return,
    so its adjoint is the output's cotangent alone; else none, as another reader may send a
    cotangent into any item. There a None cotangent counts as zero, and zero times an
    infinite partial is nan: ``t = (ad.sqrt(x), 2 * x); s = t[1] + 0.0; return t`` gives
    the jacobian ``(inf, nan)`` at 0 where the reverse engine gives ``(inf, 2.0)``."""
    return dead if dead and _only_returned(a) else ()


def _only_returned(a: Analysed) -> bool:
    """Whether the returned variable is read by nothing but the return (so its adjoint is
    the cotangent of the output and nothing else)."""
    out = Name(a.output)
    return not any(isinstance(s, Assign) and out in s.op.reads for s in walk(a.body)) and not any(
        isinstance(s, For | Push) and a.output in touches(s) for s in walk(a.body)
    )


def _negated(value: Expr) -> Expr | None:
    return value.args[0] if getattr(value, "prim", None) is S.neg else None  # type: ignore[attr-defined]


def _paren(text: str, value: Expr) -> str:
    prim = getattr(value, "prim", None)
    if prim is not None and prim.symbol in ("+", "-") and len(value.args) == 2:  # type: ignore[attr-defined]
        return f"({text})"
    return text


class _Adjoint:
    def __init__(self, a: Analysed, form: str, callees: Callees, single: bool,
                 dead: tuple[int, ...]) -> None:  # fmt: skip
        self.a, self.form, self.callees, self.single = a, form, callees, single
        self.dead = left_out(a, dead)
        self.n = n = a.normalised
        self.spelling = n.spelling
        self.scope = Scope(set(n.names), n.free)
        self.printer = Printer(self.spelling.table, self.scope)
        self.bar: dict[str, str] = {}
        self.stmts = list(walk(n.body))
        self.stacks = active_stacks(a, self.stmts)
        self.tape = plan(a, form, self.scope)
        self.position = spans(n.body)
        self.parent = enclosing(n.body)
        self.cts: dict[int, str] = {}  # id(Assign) -> the name of its pullback's result
        self.assumed: dict[int, set[str]] = {}  # id(loop) -> adjoints zero every iteration
        self.callee_fns: dict[int, str] = {}  # id(Assign) -> spelling of the callee's vjp
        self.adjoints = Adjoints(Code(), self.printer, self.spelling.runtime, set())

    def adj(self, name: str) -> str:
        """The name of ``name``'s adjoint: ``x_bar``."""
        if name not in self.bar:
            self.bar[name] = self.scope.fresh(f"{name}_bar")
            self.adjoints.names.add(self.bar[name])
        return self.bar[name]

    def rt(self, helper: str) -> str:
        return f"{self.spelling.runtime}.{helper}"

    def stack(self, name: str) -> str:
        return self.tape.stacks[name]

    # -- the function -----------------------------------------------------------------------
    def run(self) -> Generated:
        a, n, tape = self.a, self.n, self.tape
        name = self.scope.fresh(f"{n.name}_{self.form}")
        code = Code()
        code.add(f"def {name}({n.signature()}):")
        with code.block():
            code.comment("forward sweep: the primal program, saving what the reverse sweep needs")
            for t in tape.none_init:
                code.add(f"{t} = None", "not assigned yet (saved or bound below)")
            for s in tape.stacks.values():
                code.add(f"{s} = []")
            self.forward(n.body, code)
            active = a.output in a.active
            if self.form == "grad":
                self.reverse_sweep(code, seed=True, active=active)
            else:
                pullback = self.scope.fresh(f"{n.name}_pullback")
                stacks = list(tape.stacks.values())
                bound = ", ".join(f"{c}={c}" for c in (*dict.fromkeys(tape.captured), *stacks))
                head = f"def {pullback}({self.adj(a.output)}"
                code.add(head + (f", *, {bound}):" if bound else "):"))
                with code.block():
                    if stacks:
                        copies = ", ".join(f"list({s})" for s in stacks)
                        code.add(f"{', '.join(stacks)} = {copies}", "copies: it can run again")
                    if self.dead:
                        code.comment(f"items {', '.join(map(str, self.dead))} of {a.output} "
                                     "have no cotangent: nothing flows back from them")  # fmt: skip
                    self.reverse_sweep(code, seed=False, active=active)
                code.add(f"return {a.output}, {pullback}")
        return Generated(name, str(code), self.scope.namespace, a, self.form,
                         callees=tuple(self.callees.compiled))  # fmt: skip

    # -- forward sweep ----------------------------------------------------------------------
    def forward(self, body: list[Stmt], code: Code) -> None:
        tape = self.tape
        last: Origin | None = None
        for s in body:
            comment = s.origin.comment() if s.origin is not last and s.origin.line else ""
            last = s.origin
            for t in tape.before.get(id(s), ()):
                code.add(f"{self.stack(t)}.append({t})", comment)
                comment = ""
            if isinstance(s, Assign):
                code.add(self.forward_assign(s), comment)
            elif isinstance(s, If):
                flag = tape.flags.get(id(s))
                if flag is None:
                    code.add(s.text(), comment)
                else:
                    code.add(f"{flag} = {ast.unparse(s.test)}", comment)
                    for t in tape.after.get(id(s), ()):
                        code.add(f"{self.stack(t)}.append({t})")
                    code.add(f"if {flag}:")
                with code.block():
                    self.forward(s.body or [Jump("pass", s.origin)], code)
                if s.orelse:
                    code.add("else:")
                    with code.block():
                        self.forward(s.orelse, code)
                last = None
                continue
            elif isinstance(s, For | While):
                trips = tape.trips.get(id(s))
                if trips is not None:
                    code.add(f"{trips} = 0", comment)
                    comment = ""
                code.add(s.text(), comment)
                with code.block():
                    if trips is not None:
                        code.add(f"{trips} += 1")
                    for t in tape.loop_pops.get(id(s), ()):
                        code.add(f"{self.stack(t)}.append({t})")
                    self.forward(s.body or [Jump("pass", s.origin)], code)
                last = None
            elif not isinstance(s, Return):
                code.add(s.text(), comment)
            for t in tape.after.get(id(s), ()):
                if not isinstance(s, If):
                    code.add(f"{self.stack(t)}.append({t})")

    def forward_assign(self, s: Assign) -> str:
        """The statement, or for an array operation or a user call: value and pullback."""
        op = s.op
        pullback = self.tape.pullbacks.get(id(s))
        if pullback is None:
            return s.text()
        args = ", ".join(str(x) for x in op.args)
        kwargs = "".join(f", {k}={v}" for k, v in op.kwargs)
        if op.kind == "user":
            return f"{s.target}, {pullback} = {self.callee(s)}({args}{kwargs})"
        python = python_operator(s, self.a)
        if op.form == "subscript":
            fn = f"{self.spelling.table}.getitem"
            args += f", {self.spelling.numpy}.s_[{op.index}]"
        elif python is not None:  # joins or repeats tuples and lists
            fn = self.rt(python)
        elif op.form in ("infix", "unary"):  # a @ b, or a rule that is not symbolic
            fn = self.printer.name(op.fn) if op.kind == "prim" else f"{self.spelling.table}.matmul"
        else:
            fn = op.spelling
        return f"{s.target}, {pullback} = {self.rt('vjp')}({fn}, {args}{kwargs})"

    def callee(self, s: Assign) -> str:
        if id(s) not in self.callee_fns:
            op = s.op
            active = tuple(i for i, x in enumerate(op.args) if self.a.is_active(x))
            kinds = tuple(self.a.kind(x) for x in op.args)
            fn = self.callees.function(op.fn, active, kinds, "vjp")
            self.callee_fns[id(s)] = self.scope.bind(fn, fn.__name__)
        return self.callee_fns[id(s)]

    # -- reverse sweep ----------------------------------------------------------------------
    def reverse_sweep(self, code: Code, seed: bool, active: bool) -> None:
        a = self.a
        code.comment("reverse sweep: adjoints in reverse order, popping the saved values")
        self.adjoints.code = code
        if active:
            out = a.output
            stacks = self.stacks
            for stack in sorted(stacks):  # one adjoint per element the list ends with
                code.add(f"{self.adj(stack)} = [0.0] * len({stack})")
            others = {self.adj(x) for x in a.active if x not in self.tape.linear | stacks}
            self.adjoints.zero |= others - {self.adj(out)}
            if seed:
                value = "1.0" if a.kind(Name(out)) == SCALAR else f"{self.rt('seed')}({out})"
                code.add(f"{self.adj(out)} = {value}")
            self.reverse(self.n.body, code)
        results = []
        for x in a.wrt:
            value = self.adjoints.read(self.adj(x)) if active and x in a.active else Const(0.0)
            text = self.printer.text(value)
            exact = a.kind(Name(x)) == SCALAR  # a Python number's cotangent is a number
            results.append(text if exact else f"{self.rt('result')}({text}, {x})")
        if self.form == "grad" and self.single:
            code.add(f"return {results[0]}")
        else:
            code.add(f"return ({', '.join(results)}{',' if len(results) == 1 else ''})")

    def reverse(self, body: list[Stmt], code: Code) -> None:
        """The blocks of ``body``, last statement first, one commented block per user line."""
        tape = self.tape
        for group in reversed(groups(body)):
            head = group[0]
            for s in group:  # adjoints a loop accumulates into must exist before it
                if id(s) in tape.trips:
                    self.assumed[id(s)] = self.zero_every_iteration(s)  # type: ignore[arg-type]
                    self.adjoints.flush(self.touched(s) - self.assumed[id(s)])
            buffer = Code(depth=code.depth)
            outer, self.adjoints.code = self.adjoints.code, buffer
            for name in tape.group_pops.get(id(head), ()):
                buffer.add(f"{name} = {self.stack(name)}.pop()")
            for s in reversed(group):
                self.reverse_stmt(s, buffer)
            self.adjoints.code = outer
            if buffer.lines:
                code.comment(f"adjoint of {head.origin.comment()}")
                code.lines += buffer.lines

    def reverse_stmt(self, s: Stmt, code: Code) -> None:
        if isinstance(s, Assign):
            if any(t in self.a.active for t in s.targets):
                self.assign_adjoint(s, code)
            else:  # read without a derivative (a comparison): nothing flows back
                self.zero_temporaries(s.op.reads)
            for t in self.tape.restore.get(id(s), ()):
                code.add(f"{t} = {self.stack(t)}.pop()")
                if t in self.stacks:  # the list it replaced: its adjoint is as long as it
                    zeros = f"[0.0] * len({t}) if {t} is not None else 0.0"
                    self.adjoints.assign(self.adj(t), zeros)
        elif isinstance(s, If) and id(s) in self.tape.flags:
            self.reverse_if(s, code)
        elif isinstance(s, For | While) and id(s) in self.tape.trips:
            self.reverse_loop(s, code)
        elif isinstance(s, Push) and s.stack in self.a.active:
            # the adjoint of a push is a pop of the adjoint stack (and the other way round)
            pop = f"{self.adj(s.stack)}.pop()"
            if self.a.is_active(s.value):
                self.contribute(s.value, Sym(pop))
            else:
                code.add(pop)
        # Return, Jump, Effect: nothing to undo

    def reverse_if(self, s: If, code: Code) -> None:
        """``if flag:`` with each branch's blocks. An adjoint known to be zero on entry stays
        unwritten in a branch that does not touch it, and gets ``= 0.0`` only on the paths
        where the other branch wrote it and code after the if reads it."""
        adjoints = self.adjoints
        adjoints.flush(set())
        entry = set(adjoints.zero)
        after = self.after(s)
        header = len(code.lines)
        code.add(f"if {self.tape.flags[id(s)]}:")
        ends: list[tuple[set[str], int, int]] = []  # (zero at the end, insert at, depth)
        for k, branch in enumerate((s.body, s.orelse)):
            if k == 1 and not branch:
                ends.append((entry, header, code.depth))  # the implicit else: nothing ran
                break
            if k == 1:
                code.add("else:")
            adjoints.zero = set(entry)
            with code.block():
                start = len(code.lines)
                self.reverse(branch, code)
                adjoints.flush(set())
                if len(code.lines) == start:
                    code.add("pass")
                ends.append((set(adjoints.zero), len(code.lines), code.depth))
        (zero_a, at_a, depth_a), (zero_b, at_b, depth_b) = ends
        fixes = sorted([(at_a, depth_a, (zero_a - zero_b) & after),
                        (at_b, depth_b, (zero_b - zero_a) & after)], reverse=True)  # fmt: skip
        for at, depth, names in fixes:  # the later position first: the earlier stays valid
            code.lines[at:at] = ["    " * depth + f"{n} = 0.0" for n in sorted(names)]
        adjoints.zero = zero_a & zero_b

    def reverse_loop(self, s: For | While, code: Code) -> None:
        """``for _ in range(trips):`` around the body's blocks.

        An adjoint that is zero on entry and that the body sets back to zero (the
        adjoint of a variable the body assigns) is zero at the top of every
        iteration: it stays unwritten, and its first contribution is an assignment.
        """
        adjoints = self.adjoints
        inside = self.touched(s)
        entry = set(adjoints.zero)
        assumed = self.assumed.pop(id(s), None)
        if assumed is None:
            assumed = self.zero_every_iteration(s)
        adjoints.flush(inside - assumed)
        index = self.tape.index.get(id(s))
        trips = self.tape.trips[id(s)]
        code.add(f"for {index} in reversed(range({trips})):" if index else
                 f"for _ in range({trips}):")  # fmt: skip
        with code.block():
            adjoints.zero = (entry - inside) | assumed
            self.loop_body(s, code)
            # written for the next iteration and what follows (untouched ones stay pending)
            adjoints.flush((inside | self.after(s)) - (entry - inside) - assumed)
        adjoints.zero = (entry - inside) | assumed

    def loop_body(self, s: For | While, code: Code) -> None:
        adjoints = self.adjoints
        for t in self.tape.loop_pops.get(id(s), ()):
            code.add(f"{t} = {self.stack(t)}.pop()")
        self.reverse(s.body, code)
        index = self.tape.index.get(id(s))
        if not isinstance(s, For) or index is None:
            return
        for t, seq in s.sequences:  # the loop read seq[index]: its adjoint goes back there
            if not self.a.is_active(seq):
                continue
            value = adjoints.read(self.adj(t))
            adjoints.reset(self.adj(t))
            if isinstance(value, Const) and value.value == 0:
                continue
            seq_bar = self.adj(seq.id)  # type: ignore[union-attr]
            total = self.printer.text(adjoints.read(seq_bar))
            ct = self.printer.text(value)
            adjoints.assign(seq_bar, f"{self.rt('add_at')}({total}, {seq}, {index}, {ct})")

    def zero_every_iteration(self, s: For | While) -> set[str]:
        """The adjoints zero at the top of every reverse iteration of ``s`` (found by writing
        the body on scratch paper until the assumption holds)."""
        adjoints = self.adjoints
        inside = self.touched(s)
        entry = set(adjoints.zero)
        assumed = entry & inside
        saved = (adjoints.code, set(adjoints.zero), dict(adjoints.alias))
        while assumed:
            adjoints.code, adjoints.alias = Code(depth=saved[0].depth + 1), {}
            adjoints.zero = (entry - inside) | assumed
            self.loop_body(s, adjoints.code)
            end = set(adjoints.zero)
            if assumed <= end:
                break
            assumed &= end
        adjoints.code, adjoints.zero, adjoints.alias = saved
        return assumed

    def touched(self, s: Stmt) -> set[str]:
        """Adjoints the blocks of ``s`` (and of the statements inside it) read or write."""
        lo, hi = self.position[id(s)]
        return {self.adj(x) for stmt in self.stmts[lo : hi + 1] for x in touches(stmt)
                if x in self.a.active}  # fmt: skip

    def after(self, s: Stmt) -> set[str]:
        """Adjoints the reverse sweep may still touch once the blocks of ``s`` are done:
        those of earlier statements, of every loop around ``s``, and the results."""
        lo = self.position[id(s)][0]
        names = {self.adj(x) for stmt in self.stmts[:lo] for x in touches(stmt)
                 if x in self.a.active}  # fmt: skip
        for first, last in self.loops_around(s):
            names |= {self.adj(x) for stmt in self.stmts[first : last + 1]
                      for x in touches(stmt) if x in self.a.active}  # fmt: skip
        return names | {self.adj(x) for x in self.a.wrt if x in self.a.active}

    def loops_around(self, s: Stmt) -> Iterator[tuple[int, int]]:
        parent = self.parent.get(id(s))
        while parent is not None:
            if isinstance(parent, For | While):
                yield self.position[id(parent)]
            parent = self.parent.get(id(parent))

    # -- one assignment's block --------------------------------------------------------------
    def assign_adjoint(self, s: Assign, code: Code) -> None:
        a, op, adjoints = self.a, s.op, self.adjoints
        if len(s.targets) > 1:
            self.unpack_adjoint(s)
            return
        t = s.target
        g = adjoints.read(self.adj(t))
        if t not in self.tape.linear:
            adjoints.reset(self.adj(t))
        if op.kind == "pop":  # even a zero goes back on the stack, to keep it aligned
            code.add(f"{self.adj(op.args[0].id)}.append({self.printer.text(g)})")  # type: ignore[union-attr]
            return
        if isinstance(g, Const) and g.value == 0:  # nothing flows back
            self.zero_temporaries(op.args)
            return
        if id(s) in self.tape.pullbacks:  # array operations, user calls, non-symbolic rules
            self.pullback_adjoint(s, g, code)
        elif op.kind == "copy":
            self.contribute(op.args[0], g)
        elif op.kind == "prim":
            self.prim_adjoint(s, g)
        elif op.kind == "display":
            display = op.args[0]
            assert isinstance(display, Display)
            g = self.read_once(s, g, [x for x in display.names if x.id in a.active])
            keys = display.keys if display.kind is dict else range(len(display.items))
            dead = self.dead if t == a.output else ()
            for k, (key, item) in enumerate(zip(keys, display.items)):
                if k in dead:  # an output with no cotangent: nothing flows back from it
                    if isinstance(item, Name) and item.id in self.tape.linear:
                        adjoints.zero.add(self.adj(item.id))  # read only here: it stays zero
                    continue
                item_ct = f"{self.rt('item')}({self.printer.text(g)}, {key!r})"
                self.contribute(item, Const(0.0), text=item_ct)

    def zero_temporaries(self, args: Any) -> None:
        """The temporaries read here (and nowhere else) get a zero adjoint: nothing flows
        back to them."""
        for x in names_in(args):
            if x.id in self.tape.linear:
                self.adjoints.zero.add(self.adj(x.id))

    def unpack_adjoint(self, s: Assign) -> None:
        """``a, b = t``: the adjoint of ``t`` is ``(a_bar, b_bar)``."""
        a, adjoints = self.a, self.adjoints
        values = [adjoints.read(self.adj(t)) if t in a.active else Const(0.0) for t in s.targets]
        for t in s.targets:
            if t in a.active and t not in self.tape.linear:
                adjoints.reset(self.adj(t))
        src = s.op.args[0]
        if all(isinstance(v, Const) and v.value == 0 for v in values) or not a.is_active(src):
            return
        items = ", ".join(self.printer.text(v) for v in values)
        pair = f"({items}{',' if len(values) == 1 else ''})"
        if a.kind(src) not in (CONTAINER, SCALARS):  # maybe an array: stack the rows back
            pair = f"{self.rt('pack')}({pair}, {src})"
        self.contribute(src, Const(0.0), text=pair)

    def read_once(self, s: Assign, g: Expr, targets: list[Any]) -> Expr:
        """``g``, written to a variable first if a contribution would change what it reads."""
        refs = {sym.name for sym in g.free_symbols}
        if sum(self.adj(x.id) in refs for x in targets) <= (1 if s.op.kind == "prim" else 0):
            return g
        name = self.scope.fresh(f"{s.target}_bar")
        self.adjoints.code.add(f"{name} = {self.printer.text(g)}")
        return Sym(name)

    def prim_adjoint(self, s: Assign, g: Expr) -> None:
        """``x_bar += g * ∂out/∂x`` for each differentiated operand, from the table's partials."""
        op = s.op
        args = tuple(atom_expr(x) for x in op.args)
        parts = partials_of(op.fn, args, Sym(s.target))
        assert parts is not None, f"{op.fn} has partials"
        safe = (args[1],) if op.fn is S.truediv else ()
        totals: dict[str, tuple[Any, Expr, int]] = {}  # x * x: one contribution, 2x
        self.zero_temporaries([x for x, d in zip(op.args, parts) if d is None])
        for i, x in enumerate(op.args):
            if self.a.is_active(x) and parts[i] is not None:
                atom, total, first = totals.get(x.id, (x, Const(0.0), i))  # type: ignore[union-attr]
                totals[x.id] = (atom, (total + parts[i]).simplify(), first)  # type: ignore[union-attr]
        # a contribution to an adjoint g reads goes last, so g is read before it changes
        refs = {sym.name for sym in g.free_symbols}
        order = sorted(totals.values(), key=lambda e: self.adj(e[0].id) in refs)
        g = self.read_once(s, g, [x for x, _, _ in order])
        for x, total, i in order:
            contribution = as_expr(cotangent(g, total)).simplify()
            if may_broadcast(self.a, op.args, i):
                text = f"{self.rt('unbroadcast')}({self.printer.text(contribution, safe)}, {x})"
                self.contribute(x, contribution, text=text)
            else:
                self.contribute(x, contribution, safe=safe)

    def pullback_adjoint(self, s: Assign, g: Expr, code: Code) -> None:
        """``t_cts = t_pullback(t_bar)``, then each differentiated operand's share."""
        op = s.op
        if id(s) not in self.cts:
            self.cts[id(s)] = self.scope.fresh(f"{s.target}_cts")
        cts = self.cts[id(s)]
        code.add(f"{cts} = {self.tape.pullbacks[id(s)]}({self.printer.text(g)})")
        position = 0
        for i, x in enumerate(op.args):
            if op.kind == "user":  # the callee's pullback returns its active operands' only
                if not self.a.is_active(x):
                    continue
                slot, position = f"{cts}[{position}]", position + 1
            else:
                slot = f"{cts}[{i}]"
            if isinstance(x, Display):
                for j, item in enumerate(x.items):
                    self.contribute(item, Sym(f"{slot}[{j}]"))
            else:
                self.contribute(x, Sym(slot))

    def contribute(self, x: Any, value: Expr, text: str | None = None,
                   safe: tuple[Expr, ...] = ()) -> None:  # fmt: skip
        """Add ``value`` (or the code ``text``) to the adjoint of atom ``x``."""
        if not isinstance(x, Name) or x.id not in self.a.active:
            return
        name = self.adj(x.id)
        if x.id in self.tape.linear:
            self.adjoints.set_temp(name, value, text, safe)
            return
        container = self.a.kind(x) not in (SCALAR, ARRAY)
        self.adjoints.accumulate(name, value, text, container=container, safe=safe)


__all__ = ["Adjoints", "Generated", "generate", "left_out"]
