"""Expression trees: symbols, constants and calls of table primitives.

An :class:`Expr` is what a rule of the table returns when it is applied to
names instead of numbers: ``mul``'s partials applied to ``Sym("x")``, ``Sym("y")``
are ``Sym("y")`` and ``Sym("x")``, and sin's partial applied to ``Sym("x")`` is the
tree ``cos(x)``. The source-transformation engine prints such trees as Python
code; the symbolic engine differentiates them.

An Expr is a :class:`~adlab.core.primitive.Box` of level 0, below every
transformation, so calling any primitive on it builds a :class:`Call` node
instead of computing; Python's operators come from the one operator mixin every
value type shares (:class:`~adlab.core.operators.Operators`), and numpy's ufuncs
call the primitive declared to stand for them (``np.sin(x)`` is ``ad.sin(x)``).
Expressions are immutable. Comparisons are expressions, as they are values in
every engine (``x > 0`` is the call ``greater(x, 0)``, ``x == 1.0`` the call
``equal(x, 1.0)``), so ``ad.where(x == 1.0, a, b)`` is a formula that takes the
branch its value takes; but a Python branch on one (``if x > 0:``) raises, because
a symbol has no value to decide it with, and so does hashing one (a dict lookup
would compare trees, not values). Whether two trees are the same is
:meth:`Expr.same` (sympy's ``==``); :attr:`Expr.structure` is a tree as a dict key.

Differentiating a tree (:meth:`Expr.diff`) is forward mode on trees: the table's
forward rules, applied to expressions, through the same derivation every engine
uses (:mod:`adlab.core.rules`). Printing as Python and as LaTeX is
:mod:`adlab.core.printing`. Every walk over a tree (printing, evaluation,
simplification, differentiation, equality, size) uses an explicit stack, so deep
expressions never hit Python's recursion limit.

A symbol the symbolic engine makes for one derivative belongs to that derivative
(its ``owner``): once the derivative has finished, an expression of its symbols is
only the number it had there (it shows and converts as that number) and takes
part in no new derivative.

>>> x, y = Sym("x"), Sym("y")
>>> e = x * y + 3.0
>>> print(e)
x * y + 3.0
>>> e.evaluate(x=2.0, y=4.0)
11.0
>>> print(e.diff(x))
y
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

import numpy as np

from adlab.core import operators as O
from adlab.core.errors import DifferentiationError, storing_into_an_array
from adlab.core.operators import Operators
from adlab.core.primitive import Box, Primitive, standing_for
from adlab.core.printing import COMPARISONS, PythonPrinter, latex_text
from adlab.core.rules import Partials, missing_rule
from adlab.core.transform import FINISHED, PAUSED, Transformation, running_now, stop_gradient
from adlab.core.wengert import Wengert, compile_expr, wengert

__all__ = ["Call", "Const", "Expr", "Sym", "as_expr", "diff"]


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


_VALUES = bool | int | float | complex | np.number | np.bool_ | np.ndarray
"""What an expression may hold as a constant (and compare with)."""

#: How a notebook shows an expression: its tree, drawn. :mod:`adlab.viz` registers the
#: drawing function (core imports nothing of viz); without it an Expr shows as text.
_drawer: list[Callable[[Expr], Any]] = []


def register_drawer(draw: Callable[[Expr], Any]) -> None:
    """Use ``draw(expr)`` (an object with ``_repr_svg_``/``_repr_html_``) in notebooks."""
    _drawer[:] = [draw]


class Expr(Operators, Box):
    """An immutable expression tree; see the module docstring."""

    __slots__ = ("_hash",)
    _level = 0
    _what = "symbolic expression"

    # -- primitives applied to expressions build calls -----------------------
    def _process(self, prim: Primitive, args: tuple, params: dict) -> Expr:
        call = Call.make(prim, args, params)
        symbolic = running_now("symbolic")
        if symbolic and symbolic[-1].state == PAUSED and isinstance(call, Call):
            return Call.make(stop_gradient, (call,))  # computed inside no_grad: a constant
        return call

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.sin(x)``, ``np.float64(2.0) * x``: the primitive that stands for the ufunc."""
        prim = standing_for(ufunc)
        if method != "__call__" or kwargs or prim is None:
            call = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
            raise DifferentiationError(
                f"np.{call}(...) on a symbolic expression: adlab's table has no primitive for it"
                f"{' with keyword arguments' if kwargs and prim is not None else ''}; use the "
                "table's functions (ad.sin, ad.sum, ...) or Python's operators"
            )
        return prim(*inputs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """``np.sinc(x)``, ``np.clip(x, 0.0, 1.0)``: the primitive that stands for a numpy
        function; any other numpy function runs as it would without this protocol."""
        prim = standing_for(func)
        if prim is None:
            return func._implementation(*args, **kwargs)
        if kwargs:
            raise DifferentiationError(
                f"np.{func.__name__}(..., {'=..., '.join(kwargs)}=...) on a symbolic expression: "
                f"pass the arguments positionally, or call ad.{prim.name}"
            )
        if func is np.where and len(args) != 3:
            raise DifferentiationError(
                "np.where(condition) returns indices, which have no derivative; "
                "use np.where(condition, x, y) to choose values"
            )
        return prim(*args)

    # -- a branch on an expression cannot be decided ------------------------------
    # ``x > 0`` is the call greater(x, 0), so ``ad.where(x > 0, a, b)`` is a formula;
    # ``if x > 0:`` asks for its truth, which a symbol does not have (``__bool__``).
    def __bool__(self) -> bool:
        if isinstance(self, Const):  # a comparison of constants folds to one: decided
            return bool(self.value)
        if self._finished():
            return bool(self._number())
        comparison = isinstance(self, Call) and self.prim.symbol in COMPARISONS
        what = f"{self}" if comparison else f"the truth of {self}"
        raise DifferentiationError(
            f"cannot decide {what} symbolically: the expression has no value, so symbolic "
            "mode cannot follow a Python branch (if, while, and/or, max) on it. "
            "Differentiate with mode='reverse' (or 'forward'), which follow the branch the "
            "values take, or write the choice as a formula: ad.where(x > 0.0, a, b)"
        )

    def __float__(self) -> float:
        if self._finished():
            return float(self._number())
        stored = storing_into_an_array("symbolic expression")
        if stored is not None:
            raise stored
        raise DifferentiationError(
            f"float({self}): a symbolic expression has no number; call .evaluate(...) first"
        )

    def __format__(self, spec: str) -> str:
        if self._finished():
            return format(self._number(), spec)
        try:
            return format(str(self), spec)
        except ValueError:  # a number's spec (f"{e:.2f}"): an expression shows its formula
            return str(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._finished():
            return np.asarray(self._number(), dtype=dtype)
        raise DifferentiationError(
            f"np.asarray({self}): a symbolic expression has no number; call .evaluate(...) "
            "first, or build arrays of expressions with ad.stack([...])"
        )

    # -- a derivative's symbols: only numbers once it has finished -----------------
    def _owners(self) -> list[SymbolicTransformation]:
        return [n.owner for n in self.walk() if isinstance(n, Sym) and n.owner is not None]

    def _finished(self) -> bool:
        return any(owner.state == FINISHED for owner in self._owners())

    def _number(self) -> Any:
        """The value a finished derivative's expression had (its symbols at their values)."""
        env: dict[str, Any] = {}
        for owner in self._owners():
            env.update(owner.values)
        return self.evaluate(env)

    # -- comparisons are of values, as in every engine -----------------------------
    # ``x == 1.0`` is the call equal(x, 1.0), like ``x > 0``: ad.where(x == 1.0, a, b) is a
    # formula that takes the branch its value takes. Whether two trees are the same is
    # :meth:`same`; an expression is not hashable (a lookup would compare trees, not
    # values), unless its derivative has finished and it is only its number.
    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return O.equal(self, other) if isinstance(other, Expr | _VALUES) else NotImplemented

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return O.not_equal(self, other) if isinstance(other, Expr | _VALUES) else NotImplemented

    def __hash__(self) -> int:
        __tracebackhide__ = True
        if self._finished():
            return hash(self._number())
        raise DifferentiationError(
            f"the symbolic expression {self} cannot be hashed (used as a dict key, in a set, "
            "or as the argument of a cache such as functools.lru_cache): it has no number to "
            "look up, and a lookup by its formula would not compare values. Differentiate "
            "with mode='reverse' (or 'forward'), which look up the value's number, or write "
            "the choice as a formula: ad.where(x == 3.0, a, b)"
        )

    # -- structure ----------------------------------------------------------------
    @property
    def structure(self) -> Structure:
        """The tree as a dict key: keys are equal when the trees are the same (:meth:`same`)."""
        return Structure(self)

    def same(self, other: Any) -> bool:
        """Whether ``other`` is the same tree (constants compared by value, a number as its
        constant): structural equality, what ``==`` is in sympy. ``==`` compares values.

        >>> x = Sym("x")
        >>> (x * 2).same(x * 2.0), (x * 2).same(2 * x)
        (True, False)
        """
        if not isinstance(other, Expr):
            if not isinstance(other, int | float | np.number):
                return False
            other = Const(other)
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if a._hash != b._hash or type(a) is not type(b) or not a._same_node(b):
                return False
            stack.extend(zip(a.children, b.children))
        return True

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
        out: dict[str, Sym] = {}
        for node in self.walk():
            if isinstance(node, Sym):
                out.setdefault(node.name, node)
        return tuple(out.values())

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

    # -- differentiation and LaTeX -----------------------------------------------------
    def diff(self, x: Sym | str, simplify: bool = True) -> Expr:
        """The derivative with respect to the symbol ``x``: forward mode run on the tree with
        the table's rules (see :func:`diff`).

        >>> x = Sym("x")
        >>> print((x * x + 3).diff(x))
        x + x
        """
        return diff(self, x, simplify=simplify)

    def latex(self) -> str:
        """The expression as LaTeX (see :mod:`adlab.core.printing`).

        >>> print((Sym("x") ** 2 / 2).latex())
        \\dfrac{x^{2}}{2}
        """
        return latex_text(self)

    # -- as a program ---------------------------------------------------------------
    def wengert(self, share: str = "structure", prefix: str = "y") -> Wengert:
        """The expression as a Wengert list: one line per operation, equal subexpressions
        named once (see :func:`adlab.core.wengert.wengert`).

        >>> x = Sym("x")
        >>> print((x * x + x * x).wengert())
        y1 = x * x
        y2 = y1 + y1
        """
        return wengert(self, share=share, prefix=prefix)

    def compile(self, args: Any = None, *, name: str = "f",
                dispatch: bool = False) -> Callable[..., Any]:  # fmt: skip
        """The expression as a Python function of ``args`` (default: its symbols in order of
        appearance), one line per row of its Wengert list; ``.source`` is its text (see
        :func:`adlab.core.wengert.compile_expr`).

        >>> f = (Sym("x") * Sym("y") + 1).compile(("x", "y"))
        >>> f(2.0, 3.0)
        7.0
        """
        return compile_expr(self, args, name=name, dispatch=dispatch)

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
        return PythonPrinter(name, constant, infix).text(self)

    def __str__(self) -> str:
        return str(self._number()) if self._finished() else self.code()

    def __repr__(self) -> str:
        return repr(self._number()) if self._finished() else f"Expr({self.code()!r})"

    def _repr_html_(self) -> str | None:
        """In a notebook: the expression tree, drawn (an HTML page shows its SVG inline)."""
        if not _drawer or self._finished():
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


class Structure:
    """An expression's tree as a hashable key (see :attr:`Expr.structure`)."""

    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr

    def __hash__(self) -> int:
        return self.expr._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Structure) and self.expr.same(other.expr)


class Sym(Expr):
    """A named symbol: ``Sym("x")``. ``owner`` is the derivative a symbol was made for, if
    the symbolic engine made it (it takes no part in :meth:`~Expr.same`)."""

    __slots__ = ("name", "owner")
    kind = "sym"

    def __init__(self, name: str, owner: SymbolicTransformation | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a symbol needs a non-empty name, got {name!r}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "owner", owner)
        object.__setattr__(self, "_hash", hash(("Sym", name)))

    def __setattr__(self, key: str, value: Any) -> NoReturn:
        raise AttributeError("expressions are immutable")

    def _same_node(self, other: Expr) -> bool:
        return self.name == other.name  # type: ignore[attr-defined]


class Const(Expr):
    """A constant: a number, a bool or an array."""

    __slots__ = ("value",)
    kind = "const"

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

    def _structural_zero(self) -> bool:
        return type(self.value) in (int, float) and self.value == 0


class Call(Expr):
    """A primitive applied to argument expressions, with static parameters."""

    __slots__ = ("args", "params", "prim")
    kind = "call"

    def __init__(self, prim: Primitive, args: tuple[Expr, ...], params: tuple = ()) -> None:
        object.__setattr__(self, "prim", prim)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "params", params)
        hashes = tuple(a._hash for a in args)
        key = ("Call", prim, hashes, _freeze(params)) if params else ("Call", prim, hashes)
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
    if isinstance(value, _VALUES):
        return Const(value)
    raise DifferentiationError(
        f"cannot use a {type(value).__name__} in a symbolic expression; use numbers, arrays "
        "and expressions"
    )


class SymbolicTransformation(Transformation):
    """A symbolic derivative: the symbols it made own it, and ``values`` holds the point it
    is taken at (by symbol name), which its expressions show once it has finished."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__("symbolic")
        self.values = values


# ---------------------------------------------------------------------------
# Differentiation: forward mode on trees


def diff(expr: Any, x: Sym | str, simplify: bool = True) -> Expr:
    """The derivative of ``expr`` with respect to the symbol ``x`` (a Sym or its name).

    Forward mode on the tree: every node gets a tangent, an expression, from the
    table's forward rule applied to expressions (the derivation of
    :func:`~adlab.core.rules.elementwise_tangent` for partials: ``d(x·x) = x * 1 + 1 * x``,
    the first argument's term as ``∂₀ · ẋ₀``, later ones as ``ẋᵢ · ∂ᵢ``; arguments that
    are constants are handed to the rules as plain numbers). With ``simplify=False``
    (the *naive* derivative, for teaching) every leaf has an explicit tangent, 1 for
    ``x`` and 0 for the rest, and nothing is simplified; a zero tangent is passed through
    where a partial is declared as 1 (the sum rule's ``+ 0``), but never multiplies a
    partial (the strong zero: ``∂ · 0`` is not 0 when ∂ is infinite). With
    ``simplify=True`` zero tangents are absent from the start and the result is
    simplified with the safe trivial rules.

    >>> e = Sym("x") * Sym("x") + 3
    >>> print(diff(e, "x", simplify=False))
    x * 1 + 1 * x + 0
    >>> print(diff(e, "x"))
    x + x
    """
    expr = as_expr(expr)
    var = _symbol(x)
    one = Const(1)
    zero = None if simplify else Const(0)
    tangents: dict[int, Expr | None] = {}
    for node in expr.walk():
        if isinstance(node, Sym):
            tangents[id(node)] = one if node.same(var) else zero
        elif isinstance(node, Const):
            tangents[id(node)] = zero
        else:
            assert isinstance(node, Call)
            arg_dots = [tangents[id(a)] for a in node.args]
            if all(t is None for t in arg_dots):
                tangents[id(node)] = None
            elif not node.prim.differentiable:
                tangents[id(node)] = zero  # comparisons, sign: zero wherever defined
            else:
                tangents[id(node)] = _tangent(node, arg_dots, zero)
    out_dot = tangents[id(expr)]
    if out_dot is None:
        return Const(0)
    return out_dot.simplify() if simplify else out_dot


def _symbol(x: Sym | str) -> Sym:
    if isinstance(x, str):
        return Sym(x)
    if isinstance(x, Sym):
        return x
    raise DifferentiationError(
        f"diff differentiates with respect to a symbol (a Sym or its name), got {x!r}"
    )


def _tangent(node: Call, arg_dots: list[Expr | None], zero: Expr | None) -> Expr | None:
    """The tangent of one call, from the table's rule for its primitive."""
    rule = node.prim.rule
    if rule is None:
        raise missing_rule(node.prim, "forward")
    args = [a.value if isinstance(a, Const) else a for a in node.args]
    if not isinstance(rule, Partials):  # a jvp never sees a zero: it is None
        arg_dots = [None if t is not None and t._structural_zero() else t for t in arg_dots]
        if all(t is None for t in arg_dots):
            return zero
    out_dot = rule.jvp(node, args, arg_dots, **dict(node.params))
    return zero if out_dot is None else as_expr(out_dot)


# ---------------------------------------------------------------------------
# Simplification: local rewrites of one call whose arguments are already simple


def _is_const(e: Expr, *values: float) -> bool:
    if not isinstance(e, Const) or isinstance(e.value, np.ndarray | bool | np.bool_):
        return False
    return any(e.value == v for v in values)


def _is_call(e: Expr, prim: Primitive) -> bool:
    return isinstance(e, Call) and e.prim is prim and not e.params


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
        e.prim.symbol in COMPARISONS or e.prim.name.startswith("logical_")
    )


def _call(prim: Primitive, *args: Expr) -> Expr:
    return Call.make(prim, args)


def _negated(e: Expr) -> Expr | None:
    """``-e`` without a new negation, if ``e`` is a negation or a constant."""
    if _is_call(e, O.neg):
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
        return _call(O.neg, a)
    if _is_const(a, -1):
        return _call(O.neg, b)
    if _is_call(b, O.neg):
        return _call(O.neg, _call(O.mul, a, b.args[0]))  # type: ignore[attr-defined]
    if _is_call(a, O.neg):
        return _call(O.neg, _call(O.mul, a.args[0], b))  # type: ignore[attr-defined]
    if _is_call(b, O.truediv) and _is_const(b.args[0], 1):  # type: ignore[attr-defined]
        return _call(O.truediv, a, b.args[1])  # type: ignore[attr-defined]
    return None


def _add_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 0):
        return a
    if _is_const(a, 0):
        return b
    if _is_call(b, O.neg):
        return _call(O.sub, a, b.args[0])  # type: ignore[attr-defined]
    if _is_call(a, O.neg):
        return _call(O.sub, b, a.args[0])  # type: ignore[attr-defined]
    return None


def _sub_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 0):
        return a
    if _is_const(a, 0):
        return _call(O.neg, b)
    if _is_call(b, O.neg):
        return _call(O.add, a, b.args[0])  # type: ignore[attr-defined]
    return None


def _neg_rules(a: Expr) -> Expr | None:
    return _negated(a)


def _truediv_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 1):
        return a
    if _is_call(a, O.neg):
        return _call(O.neg, _call(O.truediv, a.args[0], b))  # type: ignore[attr-defined]
    return None


def _pow_rules(a: Expr, b: Expr) -> Expr | None:
    if _is_const(b, 1):
        return a
    if _is_const(b, 0):  # IEEE: pow(x, 0) = 1 for every x, nan and inf included
        return Const(type(b.value)(1))  # type: ignore[attr-defined]
    return None


def _where_rules(condition: Expr, a: Expr, b: Expr) -> Expr | None:
    if a.same(b):  # both branches agree: the condition does not matter
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
