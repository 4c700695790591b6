"""Expression trees: symbols, constants and calls of table primitives.

An :class:`Expr` is what a rule of the table returns when it is applied to
names instead of numbers: ``partials[mul][0](Sym("x"), Sym("y"), Sym("out"))``
is ``Sym("y")``, and sin's partial applied to ``Sym("x")`` is the tree
``cos(x)``. The source-transformation engine prints such trees as Python code;
the symbolic engine differentiates them (forward mode on Expr values).

An Expr is a :class:`~adlab.core.primitive.Box` of level 0, below every
transformation, so calling any primitive on it builds a :class:`Call` node
instead of computing; Python's arithmetic operators route to the same
primitives (found by name in :data:`~adlab.core.primitive.PRIMITIVES`).
Expressions are immutable and compare structurally (``==`` and ``hash`` look at
the tree, as in sympy); ordering comparisons raise, because a symbol has no
value to compare: write ``ad.where(ad.greater(x, 0.0), a, b)`` instead of an
``if``.

Every walk over a tree (printing, evaluation, simplification, equality) uses an
explicit stack, so deep expressions never hit Python's recursion limit.

>>> x, y = Sym("x"), Sym("y")
>>> e = x * y + 3.0
>>> print(e)
x * y + 3.0
>>> e.evaluate(x=2.0, y=4.0)
11.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.primitive import PRIMITIVES, Box, Primitive

__all__ = ["Call", "Const", "Expr", "Sym", "as_expr"]


def _table(name: str) -> Primitive:
    try:
        return PRIMITIVES[name]
    except KeyError:  # pragma: no cover - adlab.ops registers them on import
        raise DifferentiationError(
            f"the primitive {name!r} is not registered; import adlab (or adlab.ops) first"
        ) from None


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a constant or a parameter (slices and arrays are not hashable)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, slice):
        return ("slice", _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if isinstance(value, tuple | list):
        return (type(value).__name__, *(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, float) and value != value:
        return ("nan",)  # hash(nan) differs between nan objects
    return value


#: How a notebook shows an expression: its tree, drawn. :mod:`adlab.viz` registers the
#: drawing function (core imports nothing of viz); without it an Expr shows as text.
_drawer: list[Callable[[Expr], Any]] = []


def register_drawer(draw: Callable[[Expr], Any]) -> None:
    """Use ``draw(expr)`` (an object with ``_repr_svg_``/``_repr_html_``) in notebooks."""
    _drawer[:] = [draw]


class Expr(Box):
    """An immutable expression tree; see the module docstring."""

    __slots__ = ("_hash",)
    _level = 0

    # -- primitives applied to expressions build calls -----------------------
    def _process(self, prim: Primitive, args: tuple, params: dict) -> Expr:
        return Call.make(prim, args, params)

    def __add__(self, other: Any) -> Any:
        return _table("add")(self, other)

    def __radd__(self, other: Any) -> Any:
        return _table("add")(other, self)

    def __sub__(self, other: Any) -> Any:
        return _table("sub")(self, other)

    def __rsub__(self, other: Any) -> Any:
        return _table("sub")(other, self)

    def __mul__(self, other: Any) -> Any:
        return _table("mul")(self, other)

    def __rmul__(self, other: Any) -> Any:
        return _table("mul")(other, self)

    def __truediv__(self, other: Any) -> Any:
        return _table("truediv")(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _table("truediv")(other, self)

    def __pow__(self, other: Any) -> Any:
        return _table("pow")(self, other)

    def __rpow__(self, other: Any) -> Any:
        return _table("pow")(other, self)

    def __matmul__(self, other: Any) -> Any:
        return _table("matmul")(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return _table("matmul")(other, self)

    def __neg__(self) -> Any:
        return _table("neg")(self)

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Any:
        return _table("abs")(self)

    __array_ufunc__ = None  # numpy defers to our reflected operators: 2.0 * x is an Expr

    # -- a symbol has no value to decide a branch with ------------------------
    def _undecidable(self, op: str, other: Any) -> NoReturn:
        raise DifferentiationError(
            f"cannot decide {self} {op} {as_expr(other)} symbolically: the expression has no "
            "value. Write the choice with table operations instead of an if, e.g. "
            "ad.where(ad.greater(x, 0.0), a, b), or evaluate the expression first"
        )

    def __lt__(self, other: Any) -> NoReturn:
        self._undecidable("<", other)

    def __le__(self, other: Any) -> NoReturn:
        self._undecidable("<=", other)

    def __gt__(self, other: Any) -> NoReturn:
        self._undecidable(">", other)

    def __ge__(self, other: Any) -> NoReturn:
        self._undecidable(">=", other)

    def __bool__(self) -> NoReturn:
        raise DifferentiationError(
            f"cannot decide the truth of {self} symbolically: the expression has no value. "
            "Use ad.where(...) to choose between values, or evaluate the expression first"
        )

    def __float__(self) -> NoReturn:
        raise DifferentiationError(
            f"float({self}): a symbolic expression has no number; call .evaluate(...) first"
        )

    # -- structure ----------------------------------------------------------------
    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        """Structural equality: the same tree (constants compared by value)."""
        if not isinstance(other, Expr):
            if isinstance(other, int | float | np.number):
                other = Const(other)
            else:
                return NotImplemented
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if a._hash != b._hash or type(a) is not type(b) or not a._same_node(b):
                return False
            stack.extend(zip(a.children, b.children))
        return True

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def _same_node(self, other: Expr) -> bool:  # the node itself, children aside
        raise NotImplementedError  # pragma: no cover

    @property
    def children(self) -> tuple[Expr, ...]:
        """The sub-expressions this node is built from (none for symbols and constants)."""
        return ()

    def walk(self) -> Iterator[Expr]:
        """Every node, each distinct one once, children before their parents."""
        seen: set[int] = set()
        stack: list[tuple[Expr, bool]] = [(self, False)]
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

    @property
    def free_symbols(self) -> tuple[Sym, ...]:
        """The symbols in the expression, in order of first appearance (left to right)."""
        out: dict[Sym, None] = {}
        for node in self.walk():
            if isinstance(node, Sym):
                out.setdefault(node, None)
        return tuple(out)

    # -- evaluation -----------------------------------------------------------------
    def evaluate(self, env: Mapping[str, Any] | None = None, **values: Any) -> Any:
        """The value of the expression with symbols replaced by ``values`` (by name).

        Primitives are called with full dispatch, so values may be traced
        values of any engine (or other expressions).

        >>> (Sym("x") ** 2).evaluate(x=3.0)
        9.0
        """
        env = {**(env or {}), **values}
        result: dict[int, Any] = {}
        for node in self.walk():
            if isinstance(node, Sym):
                if node.name not in env:
                    raise DifferentiationError(
                        f"evaluate: no value for the symbol {node.name!r}; pass {node.name}=..."
                    )
                result[id(node)] = env[node.name]
            elif isinstance(node, Const):
                result[id(node)] = node.value
            else:
                args = [result[id(a)] for a in node.args]
                result[id(node)] = node.prim(*args, **dict(node.params))
        return result[id(self)]

    # -- printing ---------------------------------------------------------------------
    def code(self, name: Callable[[Primitive], str] | None = None,
             constant: Callable[[Any], str | None] | None = None,
             infix: Callable[[Call], bool] | None = None) -> str:  # fmt: skip
        """The expression as Python source.

        ``name(prim)`` spells a primitive called as a function (default: its
        name); ``constant(value)`` may spell a constant that has no literal
        (return None to use ``repr``); ``infix(call)`` says whether a call of a
        primitive with an operator symbol is printed with the operator
        (default: always).

        >>> (Sym("x") * 2.0 + Sym("y")).code()
        'x * 2.0 + y'
        """
        return _Printer(name, constant, infix).text(self)

    def __str__(self) -> str:
        return self.code()

    def __repr__(self) -> str:
        return f"Expr({self.code()!r})"

    def _repr_html_(self) -> str | None:
        """In a notebook: the expression tree, drawn (an HTML page shows its SVG inline)."""
        if not _drawer:
            return None
        drawing = _drawer[0](self)
        return drawing._repr_html_() or drawing._repr_svg_()

    # -- simplification ---------------------------------------------------------------
    def simplify(self) -> Expr:
        """The expression with constants folded and the identities of :data:`_RULES` applied.

        Only rewrites that hold for every value are used (``x * 1.0 -> x``,
        ``x ** 1.0 -> x``, ``a + -b -> a - b`` ...), never ``0 * x -> 0``,
        which is wrong for ``x = inf``.

        >>> (2.0 * Sym("x") ** 1.0 * 1.0).simplify()
        Expr('2.0 * x')
        """
        done: dict[int, Expr] = {}
        for node in self.walk():
            if isinstance(node, Call):
                args = tuple(done[id(a)] for a in node.args)
                new = node if args == node.args else Call.make(node.prim, args, node.params)
                done[id(node)] = _rewrite(new)
            else:
                done[id(node)] = node
        return done[id(self)]


class Sym(Expr):
    """A named symbol: ``Sym("x")``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a symbol needs a non-empty name, got {name!r}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_hash", hash(("Sym", name)))

    def __setattr__(self, key: str, value: Any) -> NoReturn:
        raise AttributeError("expressions are immutable")

    def _same_node(self, other: Expr) -> bool:
        return self.name == other.name  # type: ignore[attr-defined]


class Const(Expr):
    """A constant: a number, a bool or an array."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        if isinstance(value, Expr):
            raise TypeError("Const wraps a plain value, not an expression")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "_hash", hash(("Const", _freeze(value))))

    def __setattr__(self, key: str, value: Any) -> NoReturn:
        raise AttributeError("expressions are immutable")

    def _same_node(self, other: Expr) -> bool:
        a, b = self.value, other.value  # type: ignore[attr-defined]
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return _freeze(np.asarray(a)) == _freeze(np.asarray(b))
        return bool(a == b) or (a != a and b != b)  # nan equals nan structurally


class Call(Expr):
    """A primitive applied to argument expressions, with static parameters."""

    __slots__ = ("args", "params", "prim")

    def __init__(self, prim: Primitive, args: tuple[Expr, ...], params: tuple = ()) -> None:
        object.__setattr__(self, "prim", prim)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "_hash", hash(("Call", prim, args, _freeze(params))))

    def __setattr__(self, key: str, value: Any) -> NoReturn:
        raise AttributeError("expressions are immutable")

    @classmethod
    def make(cls, prim: Primitive, args: tuple | list, params: Mapping | tuple = ()) -> Expr:
        """``prim(*args, **params)`` as an expression; calls on constants are folded."""
        exprs = tuple(as_expr(a) for a in args)
        params = tuple(sorted(params.items())) if isinstance(params, Mapping) else tuple(params)
        if exprs and all(isinstance(a, Const) for a in exprs):
            value = prim(*(a.value for a in exprs), **dict(params))
            if _foldable(value):
                return Const(value)
        return cls(prim, exprs, params)

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.args

    def _same_node(self, other: Expr) -> bool:
        return (
            self.prim is other.prim  # type: ignore[attr-defined]
            and len(self.args) == len(other.args)  # type: ignore[attr-defined]
            and _freeze(self.params) == _freeze(other.params)  # type: ignore[attr-defined]
        )


def _foldable(value: Any) -> bool:
    """Fold a call on constants only into a finite number or a bool (never inf or an array)."""
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, int | float | np.integer | np.floating):
        return math.isfinite(value)
    return False


def as_expr(value: Any) -> Expr:
    """``value`` as an expression: expressions as they are, numbers and arrays as constants."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool | int | float | complex | np.number | np.bool_ | np.ndarray):
        return Const(value)
    raise DifferentiationError(
        f"cannot use a {type(value).__name__} in a symbolic expression; use numbers, arrays "
        "and expressions"
    )


# ---------------------------------------------------------------------------
# Simplification: local rewrites of one call whose arguments are already simple


def _is_const(e: Expr, *values: float) -> bool:
    if not isinstance(e, Const) or isinstance(e.value, np.ndarray | bool | np.bool_):
        return False
    return any(e.value == v for v in values)


def _named(e: Expr, name: str) -> bool:
    return isinstance(e, Call) and e.prim.name == name and not e.params


def _rewrite(e: Expr) -> Expr:
    """Apply the first matching identity, repeatedly, at the root of ``e``."""
    while isinstance(e, Call) and not e.params:
        for rule in _RULES.get(e.prim.name, ()):
            new = rule(*e.args)
            if new is not None:
                break
        else:
            return e
        e = new
    return e


def _call(name: str, *args: Expr) -> Expr:
    return Call.make(_table(name), args)


def _negated(e: Expr) -> Expr | None:
    """``-e`` without a new negation, if ``e`` is a negation or a constant."""
    if _named(e, "neg"):
        return e.args[0]  # type: ignore[attr-defined]
    if isinstance(e, Const) and isinstance(e.value, int | float) and not isinstance(e.value, bool):
        return Const(-e.value)
    return None


def _mul_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 1):
        return a
    if _is_const(a, 1):
        return b
    if _is_const(b, -1):
        return _call("neg", a)
    if _is_const(a, -1):
        return _call("neg", b)
    if _named(b, "neg"):
        return _call("neg", _call("mul", a, b.args[0]))  # type: ignore[attr-defined]
    if _named(a, "neg"):
        return _call("neg", _call("mul", a.args[0], b))  # type: ignore[attr-defined]
    if _named(b, "truediv") and _is_const(b.args[0], 1):  # type: ignore[attr-defined]
        return _call("truediv", a, b.args[1])  # type: ignore[attr-defined]
    return None


def _add_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 0):
        return a
    if _is_const(a, 0):
        return b
    if _named(b, "neg"):
        return _call("sub", a, b.args[0])  # type: ignore[attr-defined]
    if _named(a, "neg"):
        return _call("sub", b, a.args[0])  # type: ignore[attr-defined]
    return None


def _sub_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 0):
        return a
    if _is_const(a, 0):
        return _call("neg", b)
    if _named(b, "neg"):
        return _call("add", a, b.args[0])  # type: ignore[attr-defined]
    return None


def _neg_rules(a: Expr) -> Expr | None:
    return _negated(a)


def _truediv_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 1):
        return a
    if _named(a, "neg"):
        return _call("neg", _call("truediv", a.args[0], b))  # type: ignore[attr-defined]
    return None


def _pow_rules(a: Expr, b: Expr) -> Expr | None:
    return a if _is_const(b, 1) else None


def _where_rules(condition: Expr, a: Expr, b: Expr) -> Expr | None:
    return a if a == b else None  # both branches agree: the condition does not matter


_RULES: dict[str, tuple[Callable[..., Expr | None], ...]] = {
    "mul": (_mul_rules,),
    "add": (_add_rules,),
    "sub": (_sub_rules,),
    "neg": (_neg_rules,),
    "truediv": (_truediv_rules,),
    "pow": (_pow_rules,),
    "where": (_where_rules,),
}
"""Identities that hold for every value (shapes aside: ``x * 1.0`` keeps ``x``'s shape)."""


# ---------------------------------------------------------------------------
# Printing as Python

_BINARY = {"+": 10, "-": 10, "*": 11, "/": 11, "@": 11, "**": 13,
           "<": 5, "<=": 5, ">": 5, ">=": 5, "==": 5, "!=": 5}  # fmt: skip
_UNARY, _ATOM = 12, 16


class _Printer:
    """Python source for an expression, with the fewest parentheses that keep its tree."""

    def __init__(self, name: Callable[[Primitive], str] | None,
                 constant: Callable[[Any], str | None] | None,
                 infix: Callable[[Call], bool] | None) -> None:  # fmt: skip
        self.name = name or (lambda prim: prim.name)
        self.constant = constant
        self.infix = infix or (lambda call: True)

    def text(self, expr: Expr) -> str:
        done: dict[int, tuple[str, int]] = {}
        for node in expr.walk():
            done[id(node)] = self._node(node, done)
        return done[id(expr)][0]

    def _node(self, node: Expr, done: dict[int, tuple[str, int]]) -> tuple[str, int]:
        if isinstance(node, Sym):
            return node.name, _ATOM
        if isinstance(node, Const):
            return self._const(node.value)
        assert isinstance(node, Call)
        args = [done[id(a)] for a in node.args]
        symbol = node.prim.symbol
        if symbol is not None and not node.params and self.infix(node):
            if len(args) == 2 and symbol in _BINARY:
                return self._binary(symbol, *args)
            if len(args) == 1 and symbol == "-":
                text, prec = args[0]
                nested = prec < _UNARY or text.startswith("-")  # -(a + b), -(-a)
                return f"-({text})" if nested else f"-{text}", _UNARY
        parts = [t for t, _ in args]
        parts += [f"{k}={v!r}" for k, v in node.params]
        return f"{self.name(node.prim)}({', '.join(parts)})", _ATOM

    @staticmethod
    def _binary(symbol: str, left: tuple[str, int], right: tuple[str, int]) -> tuple[str, int]:
        prec = _BINARY[symbol]
        (lt, lp), (rt, rp) = left, right
        if symbol == "**":  # right-associative; -x ** 2 is -(x ** 2)
            left_ok, right_ok = lp > prec, rp >= _UNARY
        elif prec == 5:  # comparisons do not chain the way trees do
            left_ok, right_ok = lp > prec, rp > prec
        else:
            left_ok, right_ok = lp >= prec, rp > prec
        lt = lt if left_ok else f"({lt})"
        rt = rt if right_ok else f"({rt})"
        return f"{lt} {symbol} {rt}", prec

    def _const(self, value: Any) -> tuple[str, int]:
        if self.constant is not None:
            text = self.constant(value)
            if text is not None:
                return text, _ATOM
        if isinstance(value, bool | np.bool_):
            return repr(bool(value)), _ATOM
        if isinstance(value, int | float | np.integer | np.floating):
            v = value.item() if isinstance(value, np.generic) else value
            if isinstance(v, float) and not math.isfinite(v):
                return f"float('{v}')", _ATOM
            text = repr(v)  # -0.0 is negative too: -0.0 ** 2 is -(0.0 ** 2)
            return text, (_UNARY if text.startswith("-") else _ATOM)
        return repr(value), _ATOM
