"""What the forward sweep saves for the reverse sweep (the *tape*), decided before any code.

The reverse sweep reads primal values: the operands of a partial derivative
(``x`` in ``y_bar += z_bar * x``), a branch's decision, a loop's trip count, a
pullback. Inside loops, and where a variable is assigned again, those values
are overwritten before the reverse sweep gets to them, so they are saved:

* a temporary that one statement computes and reads (inside a loop): pushed
  right after it is computed, popped at the start of its statement's block;
* a variable that is overwritten: its old value is pushed before the
  assignment and popped after the assignment's adjoint block, so every block
  sees the values its own statement saw ("restore" rather than "remember");
* a loop variable: pushed at the top of each iteration, popped at the top of
  each reverse iteration; a branch decision or an inner loop's trip count:
  pushed when known, popped where its statement's blocks begin;
* a list used as a stack (``a.append(v)``, ``v = a.pop()``): its adjoint starts
  as long as the list ends (``[0.0] * len(a)``); where ``a`` is assigned a new
  list, the one it replaced is restored, and its adjoint starts as long as it.

Only values some block reads are saved: ``t2 = y - t1`` saves nothing, the
partials of ``-`` being constants.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from adlab.core.expr import Sym
from adlab.engines.sct.activity import (
    ARRAY,
    CONTAINER,
    SCALAR,
    SCALARS,
    Analysed,
    joins_or_repeats,
)
from adlab.engines.sct.ir import (
    Assign,
    Effect,
    For,
    If,
    Name,
    Push,
    Return,
    Stmt,
    While,
    walk,
)  # fmt: skip
from adlab.engines.sct.printing import Scope, atom_expr, may_broadcast, partials_of
from adlab.ops import scalar as S


@dataclass
class Tape:
    """The names the forward sweep keeps for the reverse sweep, and where it pushes them."""

    flags: dict[int, str] = field(default_factory=dict)  # id(If) -> its decision variable
    trips: dict[int, str] = field(default_factory=dict)  # id(loop) -> its trip counter
    index: dict[int, str] = field(default_factory=dict)  # id(For) -> index of the reverse loop
    pullbacks: dict[int, str] = field(default_factory=dict)  # id(Assign) -> its pullback
    linear: set[str] = field(default_factory=set)  # temporaries read once, in their statement
    reads: set[str] = field(default_factory=set)  # primal names the reverse sweep reads
    stacks: dict[str, str] = field(default_factory=dict)  # saved name -> its stack
    before: dict[int, list[str]] = field(default_factory=dict)  # id(stmt) -> push first
    after: dict[int, list[str]] = field(default_factory=dict)  # id(stmt) -> push afterwards
    group_pops: dict[int, list[str]] = field(default_factory=dict)  # id(head) -> pop first
    restore: dict[int, list[str]] = field(default_factory=dict)  # id(stmt) -> pop after block
    loop_pops: dict[int, list[str]] = field(default_factory=dict)  # id(For) -> pop per trip
    none_init: list[str] = field(default_factory=list)  # bound to None before the sweep
    captured: list[str] = field(default_factory=list)  # restored in a pullback: bound at def


def plan(a: Analysed, form: str, scope: Scope) -> Tape:
    """The :class:`Tape` for generating ``form`` ("grad" or "vjp") code of ``a``."""
    tape = Tape()
    n = a.normalised
    stmts = list(walk(n.body))
    parents = block_of(n.body)
    defs, uses = _defs_and_uses(stmts)
    for t in n.temps:
        if len(defs.get(t, ())) == 1 and len(uses.get(t, ())) == 1 and t in a.active:
            d, u = defs[t][0], uses[t][0]
            if (
                isinstance(d, Assign) and isinstance(u, Assign) and d.origin is u.origin
                and parents.get(id(d)) is parents.get(id(u))
            ):  # fmt: skip
                tape.linear.add(t)
    for s in stmts:
        if isinstance(s, Assign) and s.target in a.active and runs_a_rule(s, a):
            tape.pullbacks[id(s)] = scope.fresh(f"{s.target}_pullback")
    reads = _reverse_reads(a, stmts, tape)
    # a compound statement is replayed backwards if it assigns an active value, or
    # overwrites a value some block reads (which must then be restored)
    for s in stmts:
        if not (isinstance(s, If | For | While) and _has_reverse(s, a, reads)):
            continue
        if isinstance(s, If):
            tape.flags[id(s)] = scope.fresh(f"branch{s.origin.line}")
            continue
        tape.trips[id(s)] = scope.fresh(f"loop{s.origin.line}_trips")
        if isinstance(s, For) and any(a.is_active(seq) for _, seq in s.sequences):
            tape.index[id(s)] = scope.fresh(f"k{s.origin.line}")
            reads |= {seq.id for _, seq in s.sequences if isinstance(seq, Name)}
    tape.reads = reads | set(tape.flags.values()) | set(tape.trips.values())
    _saves(a, form, scope, tape, stmts, parents, defs)
    return tape


def runs_a_rule(s: Assign, a: Analysed) -> bool:
    """Whether the derivative of ``s`` is the table's rule run on values (array operations,
    user functions, partials that cannot be applied to names, and ``+`` / ``*`` that may
    join or repeat tuples and lists)."""
    op = s.op
    if op.kind in ("table", "user") or python_operator(s, a) is not None:
        return True
    if op.kind == "prim":
        return partials_of(op.fn, tuple(atom_expr(x) for x in op.args), Sym(s.target)) is None
    return False


def python_operator(s: Assign, a: Analysed) -> str | None:
    """The run-time helper (``"plus"`` or ``"times"``) for ``u + v`` or ``u * v`` where an
    operand may be a tuple or a list: Python joins or repeats those, it does not add them
    element by element. The helper runs Python's operator on stand-ins for the elements,
    so the run-time rule sees where each element of the result comes from (the adjoint of
    a join splits the cotangent, that of a repetition sums the copies)."""
    op = s.op
    if not joins_or_repeats(op) or all(a.kind(x) in (SCALAR, ARRAY) for x in op.args):
        return None
    return "plus" if op.fn is S.add else "times"


def _defs_and_uses(stmts: list[Stmt]) -> tuple[dict[str, list[Stmt]], dict[str, list[Stmt]]]:
    defs: dict[str, list[Stmt]] = {}
    uses: dict[str, list[Stmt]] = {}
    for s in stmts:
        for r in reads(s):
            uses.setdefault(r, []).append(s)
        for t in writes(s):
            defs.setdefault(t, []).append(s)
    return defs, uses


def _reverse_reads(a: Analysed, stmts: list[Stmt], tape: Tape) -> set[str]:
    """Primal names the adjoint blocks read: partials' operands, pullbacks, shapes."""
    names = a.normalised.names
    found: set[str] = set(tape.pullbacks.values())
    found |= {x for x in a.wrt if a.kind(Name(x)) != SCALAR}  # sct.result(x_bar, x) reads x
    found |= active_stacks(a, stmts)  # a list's adjoint starts as long as the list
    for s in stmts:
        if not isinstance(s, Assign) or s.targets[0] not in a.active:
            continue
        op = s.op
        if op.kind == "prim" and id(s) not in tape.pullbacks:  # (a pullback reads for itself)
            parts = partials_of(op.fn, tuple(atom_expr(x) for x in op.args), Sym(s.target))
            for i, x in enumerate(op.args):
                if not a.is_active(x):
                    continue
                if parts is not None and parts[i] is not None:
                    found |= {sym.name for sym in parts[i].free_symbols if sym.name in names}
                if may_broadcast(a, op.args, i):
                    found.add(x.id)  # sct.unbroadcast(..., x) reads x's shape
        elif len(s.targets) > 1 and a.kind(op.args[0]) not in (CONTAINER, SCALARS):
            found |= {r.id for r in op.reads}  # sct.pack(..., t) reads t
    return found


def active_stacks(a: Analysed, stmts: list[Stmt]) -> set[str]:
    """Differentiated lists used as stacks (``a.append(v)``, ``v = a.pop()``): the adjoint
    of a push is a pop, and the other way round."""
    pushed = {s.stack for s in stmts if isinstance(s, Push)}
    popped = {s.op.args[0].id for s in stmts if isinstance(s, Assign) and s.op.kind == "pop"}
    return (pushed | popped) & a.active


def _saves(a: Analysed, form: str, scope: Scope, tape: Tape, stmts: list[Stmt],
           parents: dict[int, list[Stmt]], defs: dict[str, list[Stmt]]) -> None:  # fmt: skip
    """Decide, for each name the reverse sweep reads, how the forward sweep saves it."""
    n = a.normalised
    maybe, sure, final = _definedness(n.body, set(n.params) | set(n.kwonly))
    loops = in_loop(n.body)

    def stack(name: str) -> None:
        if name not in tape.stacks:
            tape.stacks[name] = scope.fresh(f"{name}_stack")

    def remember(s: Stmt, name: str) -> None:  # pushed after s, popped where its group begins
        tape.after.setdefault(id(s), []).append(name)
        tape.group_pops.setdefault(_group_head(s, parents, n.body), []).append(name)
        stack(name)

    for s in stmts:
        loop = loops.get(id(s), False)
        if isinstance(s, If) and id(s) in tape.flags and loop:
            remember(s, tape.flags[id(s)])
        if isinstance(s, For | While) and id(s) in tape.trips and loop:
            remember(s, tape.trips[id(s)])
        if isinstance(s, For) and id(s) in tape.trips:
            pops = [t for t in s.targets if t in tape.reads]
            if pops:
                tape.loop_pops[id(s)] = pops
                for t in pops:
                    stack(t)
                tape.captured += pops
        if not isinstance(s, Assign):
            continue
        pullback = tape.pullbacks.get(id(s))
        if pullback is not None and loop:
            remember(s, pullback)
        for t in s.targets:
            if t not in tape.reads:
                continue
            if t in tape.linear or (
                t in n.temps and len(defs[t]) == 1 and _group_local(t, defs, stmts)
            ):  # a temporary of this statement
                if loop:
                    remember(s, t)
                continue
            if t in maybe.get(id(s), set()):  # it may hold a value the reverse sweep needs
                tape.before.setdefault(id(s), []).append(t)
                tape.restore.setdefault(id(s), []).append(t)
                stack(t)
                if t not in tape.captured:
                    tape.captured.append(t)
                if t not in sure.get(id(s), set()) and t not in tape.none_init:
                    tape.none_init.append(t)
    if form == "vjp":  # the pullback binds these when it is defined: they must exist
        tape.none_init += [t for t in tape.captured if t not in final and t not in tape.none_init]


def _group_local(name: str, defs: dict[str, list[Stmt]], stmts: list[Stmt]) -> bool:
    """A temporary read only inside the statement group that computes it."""
    d = defs[name][0]
    return all(getattr(u, "origin", None) is d.origin for u in stmts if name in reads(u))


def _group_head(s: Stmt, parents: dict[int, list[Stmt]], body: list[Stmt]) -> int:
    """id of the first statement of ``s``'s group in its block (where its pops go)."""
    for x in parents.get(id(s), body):
        if x.origin is s.origin:
            return id(x)
    return id(s)  # pragma: no cover


def _has_reverse(s: Stmt, a: Analysed, read: set[str]) -> bool:
    """Whether a compound statement assigns an active value, or a value the reverse sweep reads."""
    inner = [s]
    while inner:
        x = inner.pop()
        if isinstance(x, Assign | For) and any(t in a.active or t in read for t in writes(x)):
            return True
        if isinstance(x, Push) and x.stack in a.active:
            return True
        if isinstance(x, If):
            inner += x.body + x.orelse
        elif isinstance(x, For | While):
            inner += x.body
    return False


def _definedness(body: list[Stmt], params: set[str]) -> tuple[dict, dict, set[str]]:
    """For each assignment, the names it assigns that may / must already hold a value;
    and the names surely bound when the body ends."""
    maybe: dict[int, set[str]] = {}
    sure: dict[int, set[str]] = {}

    def scan(block: list[Stmt], may: set[str], must: set[str]) -> tuple[set[str], set[str]]:
        for s in block:
            if isinstance(s, Assign):
                targets = set(s.targets)
                maybe[id(s)] = maybe.get(id(s), set()) | (targets & may)
                sure[id(s)] = (sure[id(s)] & targets & must) if id(s) in sure else targets & must
                may, must = may | targets, must | targets
            elif isinstance(s, If):
                m1, s1 = scan(s.body, set(may), set(must))
                m2, s2 = scan(s.orelse, set(may), set(must))
                may, must = m1 | m2, s1 & s2
            elif isinstance(s, For | While):
                entry = may | set(writes(s))
                m1, _ = scan(s.body, set(entry), set(must))
                m2, _ = scan(s.body, entry | m1, set(must))  # the second iteration sees the first
                may = may | m1 | m2 | set(writes(s))
        return may, must

    _, final = scan(body, set(params), set(params))
    return maybe, sure, final


# ---------------------------------------------------------------------------
# Reading the IR


def reads(s: Stmt) -> set[str]:
    """The names a statement reads (its own line only, not nested blocks)."""
    if isinstance(s, Assign):
        return {r.id for r in s.op.reads}
    if isinstance(s, For):
        names = {x.id for x in s.args if isinstance(x, Name)}
        if s.raw is not None:
            names |= {x.id for x in ast.walk(s.raw) if isinstance(x, ast.Name)}
        return names
    if isinstance(s, If | While):
        return {x.id for x in ast.walk(s.test) if isinstance(x, ast.Name)}
    if isinstance(s, Return):
        return {s.value.id} if isinstance(s.value, Name) else set()
    if isinstance(s, Effect):
        return {x.id for x in ast.walk(s.node) if isinstance(x, ast.Name)}
    if isinstance(s, Push):
        return {s.stack} | ({s.value.id} if isinstance(s.value, Name) else set())
    return set()


def writes(s: Stmt) -> tuple[str, ...]:
    """The names a statement assigns."""
    return s.targets if isinstance(s, Assign | For) else ()


def touches(s: Stmt) -> set[str]:
    """The names whose adjoint a statement's block reads or writes."""
    if isinstance(s, Assign):
        return set(s.targets) | {r.id for r in s.op.reads}
    if isinstance(s, For):
        return set(s.targets) | {x.id for x in s.args if isinstance(x, Name)}
    if isinstance(s, Push):
        return {s.stack} | ({s.value.id} if isinstance(s.value, Name) else set())
    return set()


def groups(body: list[Stmt]) -> list[list[Stmt]]:
    """Consecutive statements that come from the same user statement."""
    out: list[list[Stmt]] = []
    for s in body:
        if out and out[-1][0].origin is s.origin:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def block_of(body: list[Stmt]) -> dict[int, list[Stmt]]:
    """id(stmt) -> the block (list) that holds it."""
    out: dict[int, list[Stmt]] = {}
    stack = [body]
    while stack:
        block = stack.pop()
        for s in block:
            out[id(s)] = block
            if isinstance(s, If):
                stack += [s.body, s.orelse]
            elif isinstance(s, For | While):
                stack.append(s.body)
    return out


def enclosing(body: list[Stmt]) -> dict[int, Stmt]:
    """id(stmt) -> the compound statement directly around it."""
    out: dict[int, Stmt] = {}
    stack: list[tuple[list[Stmt], Stmt | None]] = [(body, None)]
    while stack:
        block, parent = stack.pop()
        for s in block:
            if parent is not None:
                out[id(s)] = parent
            if isinstance(s, If):
                stack += [(s.body, s), (s.orelse, s)]
            elif isinstance(s, For | While):
                stack.append((s.body, s))
    return out


def in_loop(body: list[Stmt]) -> dict[int, bool]:
    """id(stmt) -> whether a loop runs it (maybe more than once)."""
    out: dict[int, bool] = {}
    stack: list[tuple[list[Stmt], bool]] = [(body, False)]
    while stack:
        block, loop = stack.pop()
        for s in block:
            out[id(s)] = loop
            if isinstance(s, If):
                stack += [(s.body, loop), (s.orelse, loop)]
            elif isinstance(s, For | While):
                stack.append((s.body, True))
    return out


def spans(body: list[Stmt]) -> dict[int, tuple[int, int]]:
    """id(stmt) -> (its index in walk order, the index of its last nested statement)."""
    order = list(walk(body))
    index = {id(s): i for i, s in enumerate(order)}
    out: dict[int, tuple[int, int]] = {}
    for s in reversed(order):
        last = index[id(s)]
        blocks = [s.body, s.orelse] if isinstance(s, If) else (
            [s.body] if isinstance(s, For | While) else [])  # fmt: skip
        for block in blocks:
            for inner in block:
                last = max(last, out[id(inner)][1])
        out[id(s)] = (index[id(s)], last)
    return out
