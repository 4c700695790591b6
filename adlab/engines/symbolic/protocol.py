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

from adlab.core.engine import Engine, Function, count, counted_pullback
from adlab.core.errors import DifferentiationError
from adlab.core.expr import Const, Expr, Sym, SymbolicTransformation, as_expr, diff
from adlab.core.primitive import Box
from adlab.core.rules import aval_of, cotangent, times
from adlab.core.tangents import broadcast_like, shape_of, zeros_like
from adlab.core.transform import FINISHED, running, running_now
from adlab.core.wengert import compile_expr

__all__ = ["ENGINE", "Program", "jvp", "program", "vjp"]

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

    def run(self, values: Sequence[Any],
            free: Sequence[Sym] | None = None) -> tuple[list[Any], list[list[Any]]]:  # fmt: skip
        """The outputs and the Jacobian at ``values``; ``free`` are the symbols of enclosing
        derivatives as this call has them (default: those the program was built with)."""
        free = self.free if free is None else tuple(free)
        plain = not free and all(_is_number(v) for v in values)
        results = self.compiled(dispatch=not plain)(*values, *free)
        m = len(self.outputs)
        jac: list[list[Any]] = [[None] * len(self.symbols) for _ in range(m)]
        for (j, i), value in zip(self._where, results[m:]):
            jac[j][i] = value
        return list(results[:m]), jac


def program(outputs: Sequence[Expr], symbols: Sequence[Sym]) -> Program:
    """The derivative :class:`Program` of ``outputs`` (cached by structure; the programs of
    symbolic mode, whose symbols belong to one derivative, apart from those of symbols of
    the user's)."""
    owned = any(s.owner is not None for s in symbols)
    key = (tuple(o.structure for o in outputs), tuple(s.name for s in symbols), owned)
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
    count("passes")
    outs, jac = _evaluate(f, primals)
    avals = [aval_of(x) for x in primals]

    def symbolic_pullback(out_bars: Sequence[Any]) -> tuple:
        cts = []
        for i, x in enumerate(primals):
            total = None
            for j, out_bar in enumerate(out_bars):
                d = jac[j][i]
                if out_bar is None or d is None:
                    continue
                term = cotangent(out_bar, d, avals[i])
                total = term if total is None else total + term
            cts.append(zeros_like(x) if total is None else total)
        return tuple(cts)

    return tuple(outs), counted_pullback(symbolic_pullback, "symbolic")


def jvp(f: Callable[..., Sequence[Any]], primals: Sequence[Any],
        tangents: Sequence[Any]) -> tuple[tuple, tuple]:  # fmt: skip
    """``(outs, out_dots)``: ``f``'s outputs at ``primals`` and their directional derivatives
    along ``tangents`` (``None`` for an input held constant), from the derivative
    expressions.

    >>> jvp(lambda a, b: (a * b, a + b), (2.0, 3.0), (1.0, 0.0))
    ((6.0, 5.0), (3.0, 1.0))
    """
    count("passes")
    outs, jac = _evaluate(f, primals)
    out_dots = []
    for j, out in enumerate(outs):
        total = None
        for i, x_dot in enumerate(tangents):
            d = jac[j][i]
            if x_dot is None or d is None:
                continue
            term = times(d, x_dot)  # a strong zero, as in forward mode
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
    owner = SymbolicTransformation(dict(zip(names, primals)))
    symbols = tuple(Sym(n, owner) for n in names)
    with running(owner):  # until the derivatives are built: only then are its symbols numbers
        leaves = tuple(f(*symbols))
        outputs = tuple(_output(o, k) for k, o in enumerate(leaves))
        prog = program(outputs, symbols)
    now = {s.name: s for o in outputs for s in o.free_symbols}
    values, jac = prog.run(list(primals), [now[s.name] for s in prog.free])
    # an output that is not an expression (a constant) keeps its own value and type
    outs = [v if isinstance(o, Expr) else o for v, o in zip(values, leaves)]
    return outs, jac


def _output(o: Any, k: int) -> Expr:
    if isinstance(o, Expr):
        stale = [n.name for n in o.walk() if isinstance(n, Sym) and n.owner
                 and n.owner.state == FINISHED]  # fmt: skip
        if stale:
            raise DifferentiationError(
                f"symbolic mode: output {k} uses {', '.join(dict.fromkeys(stale))} from an "
                "earlier symbolic derivative (an expression kept in a list, a cache or a global "
                "by an earlier call?); it is only a number now, so a formula cannot contain it. "
                "Compute the value from this call's inputs"
            )
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
    :class:`~adlab.core.engine.Function`, else ``x0, x1 ...``; a derivative nested in
    another symbolic one names its symbols apart (``x_2``), so it never differentiates an
    outer symbol."""
    names = f.names() if isinstance(f, Function) else []
    if len(names) != len(primals):
        names = [f"x{i}" for i in range(len(primals))]
    depth = len(running_now("symbolic"))
    if depth:
        names = [f"{n}_{depth + 1}" for n in names]
    seen: set[str] = set()
    for i, n in enumerate(names):
        while n in seen:
            n += "'"
        seen.add(n)
        names[i] = n
    return names


ENGINE = Engine("symbolic", jvp=jvp, vjp=vjp)
