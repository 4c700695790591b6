"""The engine protocol of ``mode="symbolic"``: ``jvp(f, primals, tangents)``, ``vjp(f, primals)``.

Symbolic mode differentiates the *formula* of a function, not a run of it:

1. every scalar input becomes a symbol, named after the user's parameter
   (``x``, ``y``; ``p[0]`` for the items of a tuple argument);
2. ``f`` is called once on the symbols, which builds one expression per output
   (a Python branch on an input cannot be decided and raises);
3. each output is differentiated with respect to each symbol (:func:`diff`,
   simplified);
4. outputs and derivatives are compiled together into one Python function
   (:func:`compile_expr`, sharing their common subexpressions) and run at the
   inputs' values.

Compiled derivative programs are cached by their expressions (which are
immutable and compare by structure), so calling a gradient again at another
point only rebuilds the formula and looks it up. Inputs are scalars; an array
input raises :class:`~adlab.DifferentiationError` (mode='forward' or 'reverse'
handle arrays). Outputs may be array-valued expressions (``ad.stack([x, y])``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.expr import Const, Expr, Sym, as_expr
from adlab.core.primitive import Box
from adlab.core.tangents import broadcast_like, dtype_of, fit, shape_of, zeros_like
from adlab.core.tree import leaf_paths, unflatten
from adlab.core.values import argument_names
from adlab.engines.symbolic.compile import compile_expr
from adlab.engines.symbolic.diff import diff

__all__ = ["Program", "jvp", "program", "vjp"]

_depth = [0]
"""How many symbolic derivatives are being taken around the current one: a nested one
names its symbols apart (``x_2``), so it never differentiates an outer symbol."""

_CACHE_SIZE = 128
_programs: OrderedDict[tuple, Program] = OrderedDict()


class Program:
    """The outputs of a function as expressions, their derivatives, and the compiled
    function that computes all of them: ``run(values) -> (outs, jacobian)``.

    ``derivatives[j][i]`` is ∂out_j/∂x_i as an expression (``None`` when it is zero),
    ``jacobian[j][i]`` its value.

    >>> from adlab.engines.symbolic import symbols
    >>> x, y = symbols("x y")
    >>> p = program([x * y + y], [x, y])
    >>> [str(d) for d in p.derivatives[0]]
    ['y', 'x + 1']
    >>> p.run([2.0, 3.0])
    ([9.0], [[3.0, 3.0]])
    """

    def __init__(self, outputs: tuple[Expr, ...], symbols: tuple[Sym, ...]) -> None:
        self.outputs = outputs
        self.symbols = symbols
        self.derivatives: list[list[Expr | None]] = []
        entries: list[Expr] = []
        self._where: list[tuple[int, int]] = []
        for j, out in enumerate(outputs):
            free = {s.name for s in out.free_symbols}
            row: list[Expr | None] = []
            for i, s in enumerate(symbols):
                d = diff(out, s) if s.name in free else None
                if d is not None and isinstance(d, Const) and type(d.value) is int and d.value == 0:
                    d = None  # no dependence: a zero, not a computation
                row.append(d)
                if d is not None:
                    entries.append(d)
                    self._where.append((j, i))
            self.derivatives.append(row)
        self._all = (*outputs, *entries)
        inputs = {s.name for s in symbols}
        free = {s.name: s for e in self._all for s in e.free_symbols if s.name not in inputs}
        self.free = tuple(free.values())
        """Symbols of enclosing symbolic derivatives (closed over by ``f``): they stay
        symbols in the results, which are then expressions for the outer derivative."""
        self._compiled: dict[bool, Callable[..., tuple]] = {}

    def compiled(self, dispatch: bool = False) -> Callable[..., tuple]:
        """The outputs and nonzero derivatives as one compiled function of the symbols."""
        if dispatch not in self._compiled:
            self._compiled[dispatch] = compile_expr(
                self._all, self.symbols + self.free, name="symbolic_derivative", dispatch=dispatch
            )
        return self._compiled[dispatch]

    def run(self, values: Sequence[Any]) -> tuple[list[Any], list[list[Any]]]:
        plain = not self.free and all(_is_number(v) for v in values)
        results = self.compiled(dispatch=not plain)(*values, *self.free)
        m = len(self.outputs)
        jac: list[list[Any]] = [[None] * len(self.symbols) for _ in range(m)]
        for (j, i), value in zip(self._where, results[m:]):
            jac[j][i] = value
        return list(results[:m]), jac


def program(outputs: Sequence[Expr], symbols: Sequence[Sym]) -> Program:
    """The derivative :class:`Program` of ``outputs`` (cached by structure)."""
    key = (tuple(outputs), tuple(s.name for s in symbols))
    found = _programs.get(key)
    if found is not None:
        _programs.move_to_end(key)
        return found
    made = Program(tuple(outputs), tuple(symbols))
    _programs[key] = made
    if len(_programs) > _CACHE_SIZE:
        _programs.popitem(last=False)
    return made


def _is_number(v: Any) -> bool:
    return isinstance(v, float | int | np.floating | np.integer) or (
        isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "fiu"
    )


# ---------------------------------------------------------------------------
# The protocol


def vjp(f: Callable[..., Sequence[Any]], primals: Sequence[Any]) -> tuple[tuple, Callable]:
    """``(outs, pullback)``: ``f``'s outputs at ``primals`` and the map from one cotangent
    per output (``None`` for zero) to one cotangent per primal, both from the derivative
    expressions of ``f``'s formula.

    >>> outs, pullback = vjp(lambda a, b: (a * b,), (2.0, 3.0))
    >>> outs, pullback((1.0,))
    ((6.0,), (3.0, 2.0))
    """
    outs, jac = _evaluate(f, primals)

    def symbolic_pullback(out_bars: Sequence[Any]) -> tuple:
        cts = []
        for i, x in enumerate(primals):
            total = None
            for j, out_bar in enumerate(out_bars):
                d = jac[j][i]
                if out_bar is None or d is None:
                    continue
                term = fit(out_bar * d, shape_of(x), dtype_of(x))
                total = term if total is None else total + term
            cts.append(zeros_like(x) if total is None else total)
        return tuple(cts)

    return tuple(outs), symbolic_pullback


def jvp(f: Callable[..., Sequence[Any]], primals: Sequence[Any],
        tangents: Sequence[Any]) -> tuple[tuple, tuple]:  # fmt: skip
    """``(outs, out_dots)``: ``f``'s outputs at ``primals`` and their directional derivatives
    along ``tangents`` (``None`` for zero), from the derivative expressions.

    >>> jvp(lambda a, b: (a * b, a + b), (2.0, 3.0), (1.0, 0.0))
    ((6.0, 5.0), (3.0, 1.0))
    """
    outs, jac = _evaluate(f, primals)
    out_dots = []
    for j, out in enumerate(outs):
        total = None
        for i, x_dot in enumerate(tangents):
            d = jac[j][i]
            if x_dot is None or d is None:
                continue
            term = d * x_dot
            total = term if total is None else total + term
        out_dots.append(zeros_like(out) if total is None else broadcast_like(total, out))
    return tuple(outs), tuple(out_dots)


def _evaluate(f: Callable[..., Sequence[Any]], primals: Sequence[Any]) -> tuple[list, list]:
    """Build ``f``'s formula on symbols, differentiate it, and run it at ``primals``."""
    names = _input_names(f, primals)
    for name, x in zip(names, primals):
        shape = shape_of(x)
        if shape:
            raise DifferentiationError(
                f"symbolic mode differentiates functions of scalars, but the input {name} is "
                f"an array of shape {shape}: a formula would need one symbol per element. Use "
                "mode='forward' or mode='reverse' for array inputs, or pass the elements as "
                "separate scalar arguments"
            )
    symbols = tuple(Sym(n) for n in names)
    _depth[0] += 1
    try:
        leaves = tuple(f(*symbols))
    finally:
        _depth[0] -= 1
    outputs = tuple(_output(o, k) for k, o in enumerate(leaves))
    prog = program(outputs, symbols)
    values, jac = prog.run(list(primals))
    # an output that is not an expression (a constant) keeps its own value and type
    outs = [v if isinstance(o, Expr) else o for v, o in zip(values, leaves)]
    return outs, jac


def _output(o: Any, k: int) -> Expr:
    if isinstance(o, Expr):
        return o
    if isinstance(o, np.ndarray) and o.dtype == object:
        raise DifferentiationError(
            f"symbolic mode: output {k} is a numpy array of expressions; return a tuple of "
            "them, or build the array with ad.stack([...])"
        )
    if isinstance(o, Box):
        raise DifferentiationError(
            f"symbolic mode: output {k} is a {type(o).__name__}, a value traced by an outer "
            "transformation: the function uses a value that an enclosing derivative traces. "
            "Symbolic expressions sit below every transformation, so this inner derivative "
            "cannot be symbolic; take it with mode='forward' or mode='reverse'"
        )
    try:
        return as_expr(o)  # a constant output: zero derivatives
    except DifferentiationError:
        raise DifferentiationError(
            f"symbolic mode: output {k} is a {type(o).__name__}; a function must return "
            "numbers or expressions"
        ) from None


def _input_names(f: Any, primals: Sequence[Any]) -> list[str]:
    """Symbol names for the inputs: the user's parameter names where ``f`` is the API's
    wrapper of a user function (``.f``, ``.args``, ``.argnums``, ``.trees``), else ``x0, x1``."""
    names: list[str] = []
    user = getattr(f, "f", None)
    if user is not None and all(hasattr(f, a) for a in ("args", "argnums", "trees")):
        params = argument_names(user, len(f.args))
        start = 0
        for i, tree in zip(f.argnums, f.trees):
            k = tree.num_leaves
            if tree.kind is None:
                names.append(params[i])
            else:
                names += leaf_paths(unflatten(tree, primals[start : start + k]), params[i])
            start += k
    if len(names) != len(primals):
        names = [f"x{i}" for i in range(len(primals))]
    if _depth[0]:  # nested in another symbolic derivative: keep apart from its symbols
        names = [f"{n}_{_depth[0] + 1}" for n in names]
    seen: set[str] = set()
    for i, n in enumerate(names):
        while n in seen:
            n += "'"
        seen.add(n)
        names[i] = n
    return names
