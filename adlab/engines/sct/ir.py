"""The program representation the passes share: A-normal form, printable as Python.

After the ``ssa`` pass a function body is a list of statements in which every
operation has its own line and works on *atoms* (names and constants)::

    t1 = x ** 2          # line 2: return 3 * x ** 2
    out = 3 * t1
    return out

Compound statements (``if``, ``for``, ``while``) stay compound: control flow is
never unrolled. Every statement remembers the line of the user's source it came
from (:class:`Origin`), so generated code can point back at it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------------------
# Atoms


@dataclass(frozen=True)
class Name:
    """A variable of the program (a parameter, a user variable or a temporary)."""

    id: str

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True, eq=False)
class Lit:
    """A constant: a literal (``2.0``) or a value read from outside (``np.pi``, a global).

    ``text`` is how generated code spells it; ``value`` is the value itself.
    """

    value: Any
    text: str

    def __str__(self) -> str:
        return self.text


Atom = Name | Lit


@dataclass(frozen=True)
class Display:
    """A tuple, list or dict of atoms as an argument: ``[a, b]`` in ``ad.stack([a, b])``."""

    kind: type  # tuple, list or dict
    items: tuple[Atom, ...]
    keys: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.keys, self.items)) + "}"
        inner = ", ".join(map(str, self.items))
        if self.kind is tuple:
            return f"({inner},)" if len(self.items) == 1 else f"({inner})"
        return f"[{inner}]"

    @property
    def names(self) -> tuple[Name, ...]:
        return tuple(a for a in self.items if isinstance(a, Name))


Arg = Atom | Display

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_UNSIGNED = re.compile(r"\d[\w.]*")


def operand(atom: Arg, number: bool = True) -> str:
    """An atom where it binds tighter than a unary minus: the base of ``**``, the operand
    of ``-``, and (``number=False``) before ``.`` or ``[``. A constant that is not a name or
    an unsigned number is parenthesised: ``(-0.19) ** 2`` is not ``-0.19 ** 2``, which
    Python reads as ``-(0.19 ** 2)``; ``(2).real`` is not the syntax error ``2.real``."""
    text = str(atom)
    if isinstance(atom, Name) or _DOTTED.fullmatch(text) or (number and _UNSIGNED.fullmatch(text)):
        return text
    return f"({text})"


def names_in(args: Any) -> Iterator[Name]:
    """Every :class:`Name` among atoms and displays (in order, repeats included)."""
    for a in args:
        if isinstance(a, Name):
            yield a
        elif isinstance(a, Display):
            yield from a.names


# ---------------------------------------------------------------------------
# Operations: the right-hand side of an assignment


@dataclass(frozen=True, eq=False)
class Op:
    """One operation on atoms.

    ``kind`` says how it is differentiated:

    ``prim``     an elementwise primitive with partial derivatives (``fn`` is the
                 Primitive): the adjoint applies the partials to names;
    ``table``    any other operation of the table (``fn`` is the callable, e.g.
                 ``ad.sum`` or ``ad.getitem``): run time applies its vjp/jvp rule;
    ``user``     a call of another user function (``fn``): transformed recursively;
    ``copy``     ``v = a``;  ``const`` ``v = 2.0``;  ``display`` ``v = (a, b)``;
    ``pop``      ``v = stack.pop()`` (the other half of :class:`Push`);
    ``other``    anything with no derivative (``len(x)``, ``x.shape``, ``a < b``,
                 ``np.zeros(3)``): run as it is.

    ``text`` prints it (given the text of its arguments); ``args`` and
    ``kwargs`` hold the atoms it reads.
    """

    kind: str
    fn: Any
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...] = ()
    form: str = (
        "call"  # call | infix | unary | subscript | attribute | method | literal | display | raw
    )
    spelling: str = ""  # the callee as printed ("ad.sum", "g"), the operator ("+"), the attribute
    index: str = ""  # a subscript's index, as printed (atoms inside)
    raw: ast.expr | None = None  # form == "raw": an inactive expression kept as it was

    @property
    def reads(self) -> tuple[Name, ...]:
        names = list(names_in(self.args)) + list(names_in(v for _, v in self.kwargs))
        if self.raw is not None:
            names += [Name(n.id) for n in ast.walk(self.raw) if isinstance(n, ast.Name)]
        return tuple(names)

    def text(self) -> str:
        """The operation as Python source."""
        args = [str(a) for a in self.args]
        kwargs = [f"{k}={v}" for k, v in self.kwargs]
        if self.form == "infix":
            left = operand(self.args[0]) if self.spelling == "**" else args[0]
            return f"{left} {self.spelling} {args[1]}"
        if self.form == "unary":
            return f"{self.spelling}{operand(self.args[0])}"
        if self.form in ("subscript", "attribute", "method"):
            receiver = operand(self.args[0], number=False)
            if self.form == "subscript":
                return f"{receiver}[{self.index}]"
            if self.form == "attribute":
                return f"{receiver}.{self.spelling}"
            return f"{receiver}.{self.spelling}({', '.join(args[1:] + kwargs)})"
        if self.form in ("literal", "display"):
            return args[0]
        if self.form == "raw":
            assert self.raw is not None
            return ast.unparse(self.raw)
        return f"{self.spelling}({', '.join(args + kwargs)})"


# ---------------------------------------------------------------------------
# Statements


@dataclass(frozen=True)
class Origin:
    """The user's statement an IR statement comes from: its line in the file, and its text."""

    line: int
    text: str

    def comment(self) -> str:
        return f"line {self.line}: {self.text}"


@dataclass(eq=False)
class Assign:
    """``targets = op``; several targets unpack a tuple (``a, b = t``, with ``op`` a copy)."""

    targets: tuple[str, ...]
    op: Op
    origin: Origin

    @property
    def target(self) -> str:
        return self.targets[0]

    def text(self) -> str:
        return f"{', '.join(self.targets)} = {self.op.text()}"


@dataclass(eq=False)
class If:
    test: ast.expr
    body: list
    orelse: list
    origin: Origin

    def text(self) -> str:
        return f"if {ast.unparse(self.test)}:"


@dataclass(eq=False)
class For:
    """``for targets in iter``: ``iter`` is ``range(...)``, ``zip(...)``, ``enumerate(s)``
    or a sequence atom (``kind`` says which), or an inactive expression (``other``)."""

    targets: tuple[str, ...]
    kind: str  # range | seq | zip | enumerate | other
    args: tuple[Atom, ...]
    body: list
    origin: Origin
    raw: ast.expr | None = None  # kind == "other"

    @property
    def sequences(self) -> tuple[tuple[str, Atom], ...]:
        """``(target, sequence)`` for each target that reads an element of a sequence."""
        if self.kind == "seq":
            return ((self.targets[0], self.args[0]),)
        if self.kind == "zip":
            return tuple(zip(self.targets, self.args))
        if self.kind == "enumerate":
            return ((self.targets[1], self.args[0]),)
        return ()

    def iter_text(self) -> str:
        if self.kind == "seq":
            return str(self.args[0])
        if self.kind == "other":
            assert self.raw is not None
            return ast.unparse(self.raw)
        return f"{self.kind}({', '.join(map(str, self.args))})"

    def text(self) -> str:
        return f"for {', '.join(self.targets)} in {self.iter_text()}:"


@dataclass(eq=False)
class While:
    test: ast.expr
    body: list
    origin: Origin

    def text(self) -> str:
        return f"while {ast.unparse(self.test)}:"


@dataclass(eq=False)
class Return:
    value: Atom
    origin: Origin

    def text(self) -> str:
        return f"return {self.value}"


@dataclass(eq=False)
class Jump:
    """``break``, ``continue`` or ``pass``."""

    word: str
    origin: Origin

    def text(self) -> str:
        return self.word


@dataclass(eq=False)
class Push:
    """``stack.append(value)`` on a local list used as a stack (with ``v = stack.pop()``)."""

    stack: str
    value: Atom
    origin: Origin

    def text(self) -> str:
        return f"{self.stack}.append({self.value})"


@dataclass(eq=False)
class Effect:
    """An expression statement run for its effect (``print(x)``, ``assert ...``): no derivative."""

    node: ast.stmt
    origin: Origin

    def text(self) -> str:
        return ast.unparse(self.node)


Stmt = Assign | If | For | While | Return | Jump | Push | Effect


def walk(body: list) -> Iterator[Stmt]:
    """Every statement of a body, nested ones included, in program order (no recursion)."""
    stack = [iter(body)]
    while stack:
        for stmt in stack[-1]:
            yield stmt
            if isinstance(stmt, If):
                stack.append(iter(stmt.body + stmt.orelse))
                break
            if isinstance(stmt, For | While):
                stack.append(iter(stmt.body))
                break
        else:
            stack.pop()


def children(stmt: Stmt) -> list[list]:
    """The blocks directly inside a statement."""
    if isinstance(stmt, If):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, For | While):
        return [stmt.body]
    return []


# ---------------------------------------------------------------------------
# Printing


@dataclass
class Code:
    """Lines of Python being generated, with indentation and trailing comments."""

    lines: list[str] = field(default_factory=list)
    depth: int = 0

    def add(self, text: str, comment: str = "") -> None:
        line = "    " * self.depth + text
        if comment:
            line = f"{line}  # {comment}"
        self.lines.append(line)

    def comment(self, text: str) -> None:
        self.lines.append("    " * self.depth + f"# {text}")

    def block(self) -> _Indent:
        return _Indent(self)

    def __str__(self) -> str:
        return "\n".join(self.lines) + "\n"


class _Indent:
    def __init__(self, code: Code) -> None:
        self.code = code

    def __enter__(self) -> None:
        self.code.depth += 1

    def __exit__(self, *exc: Any) -> None:
        self.code.depth -= 1


def listing(body: list, code: Code, note: Callable[[Stmt], str] | None = None) -> None:
    """Print a body, one statement a line; the first statement from each user line
    carries ``# line N: text`` (and ``note(stmt)`` if given)."""
    last: Origin | None = None
    for stmt in body:
        comment = ""
        if stmt.origin != last and stmt.origin.line > 0:
            comment = stmt.origin.comment()
        extra = note(stmt) if note is not None else ""
        if extra:
            comment = f"{comment}; {extra}" if comment else extra
        last = stmt.origin
        code.add(stmt.text(), comment)
        if isinstance(stmt, If):
            with code.block():
                listing(stmt.body or [Jump("pass", stmt.origin)], code, note)
            if stmt.orelse:
                code.add("else:")
                with code.block():
                    listing(stmt.orelse, code, note)
                    last = None
        elif isinstance(stmt, For | While):
            with code.block():
                listing(stmt.body or [Jump("pass", stmt.origin)], code, note)
        if isinstance(stmt, If | For | While):
            last = None


# ---------------------------------------------------------------------------
# What the code generators produce


@dataclass(frozen=True, eq=False)
class Generated:
    """Generated source, ready to compile: what the ``adjoint`` and ``tangent`` passes produce."""

    name: str  # the generated function's name
    source: str
    namespace: dict[str, Any]  # the globals it runs with
    analysed: Any  # the activity pass's result it was generated from
    form: str  # "grad" | "vjp" | "jvp"
    tangents: tuple[str, ...] = ()  # jvp: the keyword names of the tangent parameters
    callees: tuple[Any, ...] = ()  # the compiled code of the user functions it calls

    def __str__(self) -> str:
        return self.source


class Callees:
    """How generated code reaches the derivatives of the user functions it calls."""

    def __init__(self, derive: Callable[[Any, tuple[int, ...], tuple[str, ...], str], Any]) -> None:
        self.derive = derive  # (fn, active positions, argument kinds, "vjp"|"jvp") -> Compiled
        self.compiled: list[Any] = []  # what was derived, in order

    def function(self, fn: Any, active: tuple[int, ...], kinds: tuple[str, ...], form: str) -> Any:
        """The compiled ``form`` code of ``fn`` for arguments of these kinds."""
        compiled = self.derive(fn, active, kinds, form)
        self.compiled.append(compiled)
        return compiled.function
