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
the tree, as in sympy). Ordering comparisons are expressions too (``x > 0`` is
the call ``greater(x, 0)``), so ``ad.where(x > 0, a, b)`` is a formula; but a
Python branch on one (``if x > 0:``) raises, because a symbol has no value to
decide it with.

Every walk over a tree (printing, evaluation, simplification, equality, size) uses
an explicit stack, so deep expressions never hit Python's recursion limit.

Differentiating, Wengert lists, LaTeX and compilation belong to the symbolic
engine (:mod:`adlab.engines.symbolic`); core imports no engine, so the engine
registers them with :func:`register_symbolic` when it is imported, and
``Expr.diff``, ``.wengert``, ``.latex`` and ``.compile`` reach them through that
registry. numpy's ufuncs call the table's primitive of the same name
(``np.sin(x)`` is ``ad.sin(x)``).

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


_UFUNC_ALIASES = {
    "subtract": "sub", "multiply": "mul", "divide": "truediv", "true_divide": "truediv",
    "power": "pow", "float_power": "pow", "negative": "neg", "absolute": "abs", "fabs": "abs",
}  # fmt: skip
"""numpy ufuncs whose primitive in the table has another name; the others share theirs."""


def _table(name: str) -> Primitive:
    try:
        return PRIMITIVES[name]
    except KeyError:  # pragma: no cover - adlab.ops registers them on import
        raise DifferentiationError(
            f"the primitive {name!r} is not registered; import adlab (or adlab.ops) first"
        ) from None


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a constant or a parameter (slices and arrays are not hashable)."""
    if type(value) in (int, float, str) and value == value:
        return value  # the common case, first
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


#: The operations of the symbolic engine behind ``Expr.diff``, ``.wengert``, ``.latex`` and
#: ``.compile``, by name (filled by :func:`register_symbolic`).
_symbolic: dict[str, Callable[..., Any]] = {}

_SYMBOLIC_NAMES = ("diff", "wengert", "latex", "compile")


def register_symbolic(**operations: Callable[..., Any]) -> None:
    """Install the symbolic engine's operations on expressions, by name: ``diff``,
    ``wengert``, ``latex`` and ``compile``, each called with the expression first."""
    unknown = set(operations) - set(_SYMBOLIC_NAMES)
    if unknown:
        raise ValueError(f"unknown symbolic operations {sorted(unknown)}; known: {_SYMBOLIC_NAMES}")
    _symbolic.update(operations)


def _engine_op(name: str) -> Callable[..., Any]:
    try:
        return _symbolic[name]
    except KeyError:
        raise DifferentiationError(
            f"Expr.{name} is provided by the symbolic engine; import adlab (or "
            "adlab.engines.symbolic) first"
        ) from None


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

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.sin(x)``, ``np.float64(2.0) * x``: the table's primitive of the same name."""
        name = _UFUNC_ALIASES.get(ufunc.__name__, ufunc.__name__)
        prim = PRIMITIVES.get(name)
        if method != "__call__" or kwargs or prim is None:
            call = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
            raise DifferentiationError(
                f"np.{call}(...) on a symbolic expression: adlab's table has no primitive for it"
                f"{' with keyword arguments' if kwargs and prim is not None else ''}; use the "
                "table's functions (ad.sin, ad.sum, ...) or Python's operators"
            )
        return prim(*inputs)

    # -- comparisons are expressions; a branch on one cannot be decided ----------
    # ``x > 0`` is the call greater(x, 0), so ``ad.where(x > 0, a, b)`` is a formula;
    # ``if x > 0:`` asks for its truth, which a symbol does not have (``__bool__``).
    def __lt__(self, other: Any) -> Any:
        return _table("less")(self, other)

    def __le__(self, other: Any) -> Any:
        return _table("less_equal")(self, other)

    def __gt__(self, other: Any) -> Any:
        return _table("greater")(self, other)

    def __ge__(self, other: Any) -> Any:
        return _table("greater_equal")(self, other)

    def __bool__(self) -> NoReturn:
        comparison = isinstance(self, Call) and self.prim.symbol in _COMPARISONS
        what = f"{self}" if comparison else f"the truth of {self}"
        raise DifferentiationError(
            f"cannot decide {what} symbolically: the expression has no value, so symbolic "
            "mode cannot follow a Python branch (if, while, and/or, max) on it. "
            "Differentiate with mode='reverse' (or 'forward'), which follow the branch the "
            "values take, or write the choice as a formula: ad.where(x > 0.0, a, b)"
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
        # a node is pushed bare to be expanded, and as (node,) to be yielded after its children
        stack: list[Any] = [self]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            if type(node) is tuple:
                node = node[0]
                if id(node) not in seen:
                    seen.add(id(node))
                    yield node
                continue
            if id(node) in seen:
                continue
            args = node.args if isinstance(node, Call) else ()
            if not args:
                seen.add(id(node))
                yield node
                continue
            push((node,))
            for c in reversed(args):
                if id(c) not in seen:
                    push(c)

    @property
    def free_symbols(self) -> tuple[Sym, ...]:
        """The symbols in the expression, in order of first appearance (left to right)."""
        out: dict[Sym, None] = {}
        for node in self.walk():
            if isinstance(node, Sym):
                out.setdefault(node, None)
        return tuple(out)

    @property
    def size(self) -> int:
        """The number of nodes of the tree, a shared subtree counted at each occurrence
        (what a printed formula shows; the Wengert list counts each distinct one once).

        >>> x = Sym("x")
        >>> t = x * x
        >>> (t * t).size
        7
        """
        sizes: dict[int, int] = {}
        for node in self.walk():
            n = 1
            for c in node.children:
                n += sizes[id(c)]
            sizes[id(node)] = n
        return sizes[id(self)]

    # -- the symbolic engine's operations (registered by adlab.engines.symbolic) ---
    def diff(self, x: Sym | str, simplify: bool = True) -> Expr:
        """The derivative with respect to the symbol ``x``: forward mode run on the tree
        with the table's rules (see :func:`adlab.engines.symbolic.diff`).

        >>> import adlab.engines.symbolic
        >>> x = Sym("x")
        >>> print((x * x + 3).diff(x))
        x + x
        """
        return _engine_op("diff")(self, x, simplify=simplify)

    def wengert(self, share: str = "structure") -> Any:
        """The Wengert list that computes the expression, equal subexpressions computed
        once (see :func:`adlab.engines.symbolic.wengert`).

        >>> import adlab.engines.symbolic
        >>> x = Sym("x")
        >>> print((x * x + x * x).wengert())
        y1 = x * x
        y2 = y1 + y1
        """
        return _engine_op("wengert")(self, share=share)

    def latex(self) -> str:
        """The expression as LaTeX (see :func:`adlab.engines.symbolic.latex`).

        >>> import adlab.engines.symbolic
        >>> print((Sym("x") ** 2 / 2).latex())
        \\dfrac{x^{2}}{2}
        """
        return _engine_op("latex")(self)

    def compile(self, args: Any = None, **options: Any) -> Callable[..., Any]:
        """A Python function computing the expression from ``args`` (symbol names, in
        order; default: the free symbols), with its ``.source`` (see
        :func:`adlab.engines.symbolic.compile_expr`).

        >>> import adlab.engines.symbolic
        >>> f = (Sym("x") * Sym("y") + 1).compile(("x", "y"))
        >>> f(2.0, 3.0)
        7.0
        """
        return _engine_op("compile")(self, args, **options)

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
    def simplify(self, assume_finite: bool = False) -> Expr:
        """The expression with constants folded and trivial identities applied, bottom up.

        The identities are the textbook's trivial rules: ``x + 0``, ``x * 1``,
        ``x / 1``, ``x ** 1`` become ``x``, ``x ** 0`` becomes ``1``, plus sign
        bookkeeping (``a + -b -> a - b``, ``x * -1 -> -x`` ...); calls on constants
        are folded. By default only rewrites that hold for *every* value are used,
        never ``0 * x -> 0``, which is wrong for ``x = inf`` or ``nan`` (the
        source-transformation engine relies on that). ``assume_finite=True`` adds
        ``0 * x -> 0`` and ``0 / x -> 0``: right wherever ``x`` is finite (and, for
        the division, non-zero), as in a textbook.

        This is a heuristic, not a normal form: like terms are not collected
        (``x + x`` stays) and no algorithm could do much better in general, since
        deciding whether an expression of x, +, ·, exp, sin and ``|·|`` is
        identically zero is undecidable (Richardson's theorem).

        >>> (2.0 * Sym("x") ** 1.0 * 1.0).simplify()
        Expr('2.0 * x')
        >>> (0 * Sym("x") + 1).simplify(assume_finite=True)
        Expr('1')
        """
        rules = _FINITE_RULES if assume_finite else _RULES
        done: dict[int, Expr] = {}
        for node in self.walk():
            if isinstance(node, Call):
                args = tuple(done[id(a)] for a in node.args)
                same = all(a is b for a, b in zip(args, node.args))
                new = node if same else Call.make(node.prim, args, node.params)
                done[id(node)] = _rewrite(new, rules)
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
        key = ("Call", prim, args, _freeze(params)) if params else ("Call", prim, args)
        object.__setattr__(self, "_hash", hash(key))

    def __setattr__(self, key: str, value: Any) -> NoReturn:
        raise AttributeError("expressions are immutable")

    @classmethod
    def make(cls, prim: Primitive, args: tuple | list, params: Mapping | tuple = ()) -> Expr:
        """``prim(*args, **params)`` as an expression; calls on constants are folded."""
        exprs = tuple(a if isinstance(a, Expr) else as_expr(a) for a in args)
        if not params:
            params = ()
        elif isinstance(params, Mapping):
            params = tuple(sorted(params.items()))
        else:
            params = tuple(params)
        for a in exprs:
            if not isinstance(a, Const):
                return cls(prim, exprs, params)
        if exprs:  # a call on constants only: fold it
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


def _rewrite(e: Expr, rules: Mapping[str, tuple[Callable[..., Expr | None], ...]]) -> Expr:
    """Apply the first matching identity, repeatedly, at the root of ``e``."""
    while isinstance(e, Call) and not e.params:
        for rule in rules.get(e.prim.name, ()):
            new = rule(*e.args)
            if new is not None:
                break
        else:
            return e
        if _boolean(new) and not _boolean(e):
            return e  # (x > 0) * 1 is a number; x > 0 a bool, and numpy's bool + bool is "or"
        e = new
    return e


def _boolean(e: Expr) -> bool:
    """Whether ``e``'s value is a bool: a comparison, a logical operation or a bool constant."""
    if isinstance(e, Const):
        return isinstance(e.value, bool | np.bool_)
    return isinstance(e, Call) and (
        e.prim.symbol in _COMPARISONS or e.prim.name.startswith("logical_")
    )


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
    if _is_const(b, 1):
        return a
    if _is_const(b, 0):  # IEEE: pow(x, 0) = 1 for every x, nan and inf included
        return Const(type(b.value)(1))  # type: ignore[attr-defined]
    return None


def _where_rules(condition: Expr, a: Expr, b: Expr) -> Expr | None:
    if a == b:  # both branches agree: the condition does not matter
        return a
    if isinstance(condition, Const) and isinstance(condition.value, bool | np.bool_):
        return a if condition.value else b
    return None


def _zero_like(e: Expr) -> Const:
    return Const(type(e.value)(0))  # type: ignore[attr-defined]


def _finite_mul_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(a, 0):
        return _zero_like(a)
    if _is_const(b, 0):
        return _zero_like(b)
    return _mul_rules(a, b)


def _finite_truediv_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(a, 0) and not isinstance(b, Const):
        return Const(0.0)
    return _truediv_rules(a, b)


_RULES: dict[str, tuple[Callable[..., Expr | None], ...]] = {
    "mul": (_mul_rules,),
    "add": (_add_rules,),
    "sub": (_sub_rules,),
    "neg": (_neg_rules,),
    "truediv": (_truediv_rules,),
    "pow": (_pow_rules,),
    "where": (_where_rules,),
}
"""Identities that hold for every value (shapes aside: ``x * 1.0`` keeps ``x``'s shape,
``x ** 0`` becomes a scalar 1)."""

_FINITE_RULES = {**_RULES, "mul": (_finite_mul_rules,), "truediv": (_finite_truediv_rules,)}
"""The identities, plus ``0 * x -> 0`` and ``0 / x -> 0``: right for finite (non-zero) x."""


# ---------------------------------------------------------------------------
# Printing as Python

_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_BINARY = {"+": 10, "-": 10, "*": 11, "/": 11, "@": 11, "**": 13,
           "<": 5, "<=": 5, ">": 5, ">=": 5, "==": 5, "!=": 5}  # fmt: skip
_UNARY, _ATOM = 12, 16


#: Text built from pieces: a string, or a tuple of pieces joined once at the end (so a
#: deep tree prints in time linear in its text, not quadratic).
Rope = str | tuple


def join_rope(rope: Rope) -> str:
    """The text of a :data:`Rope`, flattened with an explicit stack (no recursion)."""
    out: list[str] = []
    stack = [rope]
    while stack:
        piece = stack.pop()
        if isinstance(piece, str):
            out.append(piece)
        else:
            stack.extend(reversed(piece))
    return "".join(out)


class _Printer:
    """Python source for an expression, with the fewest parentheses that keep its tree."""

    def __init__(self, name: Callable[[Primitive], str] | None,
                 constant: Callable[[Any], str | None] | None,
                 infix: Callable[[Call], bool] | None) -> None:  # fmt: skip
        self.name = name or (lambda prim: prim.name)
        self.constant = constant
        self.infix = infix or (lambda call: True)

    def text(self, expr: Expr) -> str:
        # per node: (its text as a rope, its precedence, whether the text starts with "-")
        done: dict[int, tuple[Rope, int, bool]] = {}
        for node in expr.walk():
            done[id(node)] = self._node(node, done)
        return join_rope(done[id(expr)][0])

    def _node(self, node: Expr, done: dict[int, tuple[Rope, int, bool]]) -> tuple[Rope, int, bool]:
        if isinstance(node, Sym):
            return node.name, _ATOM, False
        if isinstance(node, Const):
            text, prec = self._const(node.value)
            return text, prec, text.startswith("-")
        assert isinstance(node, Call)
        args = [done[id(a)] for a in node.args]
        symbol = node.prim.symbol
        if symbol is not None and not node.params and self.infix(node):
            if len(args) == 2 and symbol in _BINARY:
                return self._binary(symbol, *args)
            if len(args) == 1 and symbol == "-":
                text, prec, minus = args[0]
                nested = prec < _UNARY or minus  # -(a + b), -(-a)
                return ("-(", text, ")") if nested else ("-", text), _UNARY, True
        parts: list[Rope] = []
        for i, (t, _, _) in enumerate(args):
            parts += [", ", t] if i else [t]
        parts += [f"{', ' if parts else ''}{k}={v!r}" for k, v in node.params]
        return (f"{self.name(node.prim)}(", *parts, ")"), _ATOM, False

    @staticmethod
    def _binary(symbol: str, left: tuple[Rope, int, bool],
                right: tuple[Rope, int, bool]) -> tuple[Rope, int, bool]:  # fmt: skip
        prec = _BINARY[symbol]
        (lt, lp, lminus), (rt, rp, _) = left, right
        if symbol == "**":  # right-associative; -x ** 2 is -(x ** 2)
            left_ok, right_ok = lp > prec, rp >= _UNARY
        elif prec == 5:  # comparisons do not chain the way trees do
            left_ok, right_ok = lp > prec, rp > prec
        else:
            left_ok, right_ok = lp >= prec, rp > prec
        lt = lt if left_ok else ("(", lt, ")")
        rt = rt if right_ok else ("(", rt, ")")
        return (lt, f" {symbol} ", rt), prec, lminus and left_ok

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
