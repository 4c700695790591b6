"""Random straight-line programs over adlab's primitive table, for property tests.

A :class:`Program` is real Python source (``def f(x0, x1): v1 = ad.sin(x0) ...``)
compiled into a function that uses only adlab operations, together with the
point to differentiate it at. Any engine can run it (the source is registered
with :mod:`linecache`, so ``inspect.getsource`` works for source transformation),
and hypothesis prints it readably when a property fails.

The strategies build a random DAG: each new value applies a randomly chosen
primitive to earlier values (reused often: fan-out) or constants. Domains are
kept safe by construction so finite differences are meaningful: ``log`` and
``sqrt`` see ``x*x + c`` or ``exp``-like positive values, ``tan`` a small
argument, and every value has a static bound on its magnitude; an operand whose
bound is too large for the next operation is first squashed with ``ad.tanh``.
Kinks (``abs relu maximum minimum where max``) cannot be avoided by
construction; each program records the expressions whose zeros are its kinks,
and :meth:`Program.kinks_are_clear` says whether the point is far enough from
every kink (exact zeros are allowed when they are structural, e.g.
``ad.maximum(v1, v1)`` or ``ad.max`` over copies made by ``broadcast_to``).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import linecache
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adlab as ad

# ---------------------------------------------------------------------------
# Programs

MARGIN = 1e-2
"""How far (in absolute value) a kink's argument must stay from zero."""


def _literal(x: Any) -> str:
    """Python source for a constant or an argument value."""
    if isinstance(x, np.ndarray):
        dtype = "" if x.dtype == np.float64 else f", dtype=np.{x.dtype}"
        return f"np.array({x.tolist()!r}{dtype})"
    if isinstance(x, np.floating):
        return f"np.{type(x).__name__}({float(x)!r})"
    return repr(x)


def _compile(source: str, name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Compile ``source`` and return the function ``name`` it defines.

    The source is registered with :mod:`linecache` (as IPython does for cells),
    so tracebacks show its lines and ``inspect.getsource`` finds it.
    """
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    filename = f"<adlab-program-{digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = dict(namespace)
    exec(compile(source, filename, "exec"), scope)
    return scope[name]


def _namespace() -> dict[str, Any]:
    return {"ad": ad, "np": np}


@dataclass(frozen=True, eq=False)
class Program:
    """A straight-line adlab program and the point to run it at.

    ``fn`` is the compiled function, ``source`` its text; ``args`` the point.
    ``kinks`` are expressions (over the program's variables, evaluated on plain
    values) whose zeros are the program's kinks; ``ops`` the primitives chosen,
    in order. ``repr`` is valid Python that rebuilds the program, for pasting a
    hypothesis failure into a regression test.
    """

    params: tuple[str, ...]
    lines: tuple[str, ...]
    result: str
    args: tuple
    kinks: tuple[str, ...] = ()
    ops: tuple[str, ...] = ()
    name: str = "f"
    fn: Callable[..., Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fn", _compile(self.source, self.name, _namespace()))

    @classmethod
    def from_source(cls, source: str, args: Sequence[Any], name: str = "f") -> Program:
        """A program from the text of one function ``def name(...): ...; return ...``."""
        head, *body = [line for line in source.strip().splitlines() if line.strip()]
        match = re.fullmatch(rf"def {name}\((.*)\):", head.strip())
        if match is None:
            raise ValueError(f"the source must start with 'def {name}(...):', got {head!r}")
        params = tuple(p.strip() for p in match.group(1).split(",") if p.strip())
        *lines, last = (line.strip() for line in body)
        if not last.startswith("return "):
            raise ValueError("the last line of the source must be a return statement")
        return cls(params, tuple(lines), last[len("return ") :], tuple(args), name=name)

    @property
    def source(self) -> str:
        body = "".join(f"    {line}\n" for line in self.lines)
        return f"def {self.name}({', '.join(self.params)}):\n{body}    return {self.result}\n"

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis' reports use this, not the dataclass fields

    def __repr__(self) -> str:
        args = ", ".join(_literal(a) for a in self.args)
        args = f"({args},)" if len(self.args) == 1 else f"({args})"
        return f'Program.from_source("""\n{self.source}""", args={args})'

    # -- structure ---------------------------------------------------------------
    @functools.cached_property
    def uses(self) -> Counter:
        """How many times each variable is read (fan-out), over the whole program."""
        return _reads([*self.lines, f"_ = {self.result}"])

    @property
    def fanout(self) -> int:
        """The largest number of reads of one variable."""
        return max(self.uses.values(), default=0)

    @property
    def size(self) -> int:
        """The number of scalar inputs (the width of a Jacobian)."""
        return sum(int(np.size(a)) for a in self.args)

    # -- kinks -----------------------------------------------------------------
    def probe(self, exprs: Sequence[str], args: Sequence[Any] | None = None) -> list[np.ndarray]:
        """The values of expressions over the program's variables, run on plain values."""
        fn = self._probes.get(tuple(exprs))
        if fn is None:
            values = ", ".join(f"np.asarray({e}, dtype=np.float64)" for e in exprs)
            fn = Program(self.params, self.lines, f"[{values}]", self.args, name="probe").fn
            self._probes[tuple(exprs)] = fn
        return fn(*(self.args if args is None else args))

    @functools.cached_property
    def _probes(self) -> dict[tuple[str, ...], Callable[..., list[np.ndarray]]]:
        return {}

    def kinks_are_clear(self, margin: float = MARGIN) -> bool:
        """Whether every kink's argument is 0 (structurally) or at least ``margin`` from 0.

        A zero is structural when it stays exactly zero at randomly perturbed
        points (``x0 - x0``, ties between copies of one value); an accidental
        zero does not, and a kink there is a true kink.
        """
        if not self.kinks:
            return True
        values = self.probe(self.kinks)
        zeros = [v == 0 for v in values]
        for v, z in zip(values, zeros):
            if not np.all(np.isfinite(v)) or np.any(np.abs(v[~z]) < margin):
                return False
        rng = np.random.default_rng(0)
        for _ in range(2):
            moved = self.probe(self.kinks, [_perturb(a, rng) for a in self.args])
            if any(not np.array_equal(v == 0, z) for v, z in zip(moved, zeros)):
                return False
        return True


_VARIABLE = re.compile(r"\b[xv]\d+\b")


def _reads(lines: Sequence[str]) -> Counter:
    """How often each variable is read on the right-hand sides of ``name = expr`` lines."""
    return Counter(_VARIABLE.findall("\n".join(line.split(" = ", 1)[1] for line in lines)))


def _perturb(x: Any, rng: np.random.Generator) -> Any:
    if isinstance(x, np.ndarray):
        return x + (1e-4 * rng.standard_normal(x.shape)).astype(x.dtype)
    return x + 1e-4 * float(rng.standard_normal())


# ---------------------------------------------------------------------------
# The builder: one random program, value by value


@dataclass(frozen=True)
class Value:
    """A variable of the program being built (or a constant, with ``node=False``)."""

    text: str
    shape: tuple[int, ...]
    bound: float  # |value| <= bound, for every element, at every input in range
    node: bool = True

    @property
    def size(self) -> int:
        return math.prod(self.shape)


INPUT_BOUND = 2.0
MAX_SIZE = 24  # elements per array value
MAX_NDIM = 3
BIG = 60.0  # no value may exceed this bound: operands are squashed first

CONSTANTS = (0.5, -1.0, 1.5, 2.0, -0.5, 0.25, 3.0)
POSITIVE = (1.0, 0.5, 0.25, 2.0)

_finite = st.floats(-INPUT_BOUND, INPUT_BOUND, allow_nan=False, allow_subnormal=False)
ELEMENTS = _finite.map(lambda v: round(v, 3))
"""Input elements: numbers in [-2, 2] with at most three decimals, for readable reports."""


def _broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        out = np.broadcast_shapes(*shapes)
    except ValueError:
        return None
    return out if len(out) <= MAX_NDIM and math.prod(out) <= MAX_SIZE else None


class Builder:
    """Accumulates the lines of one program; every random choice is a hypothesis draw."""

    def __init__(
        self,
        draw: Callable[[st.SearchStrategy], Any],
        params: Sequence[Value],
        arrays: bool,
        avoid: Sequence[str] = (),
        numpy: float = 0.0,
    ) -> None:
        self.draw = draw
        self.arrays = arrays
        self.numpy = numpy  # how often a primitive is spelled the numpy way (np.sin, x.sum())
        self.avoid = frozenset(avoid)  # primitives not to use, not even as helpers
        self.values: list[Value] = list(params)
        self.lines: list[str] = []
        self.kinks: list[str] = []
        self.ops: list[str] = []
        self._names = itertools.count(1)

    # -- choices -----------------------------------------------------------------
    def choose(self, options: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def flip(self, p: float = 0.5) -> bool:
        return self.draw(st.integers(0, 99)) < 100 * p

    def fn(self, name: str) -> str:
        """How the program calls the primitive ``name``: ``ad.sin``, or (with probability
        ``numpy``, where numpy has it) ``np.sin``, which reaches adlab through numpy's dispatch."""
        if self.numpy and name in NUMPY_NAMES and self.flip(self.numpy):
            return f"np.{NUMPY_NAMES[name]}"
        return f"ad.{name}"

    def method(self) -> bool:
        """Whether an array primitive is spelled as a method (``x.sum()``, ``x.T``)."""
        return bool(self.numpy) and self.flip(self.numpy)

    def constant(self, options: Sequence[float] = CONSTANTS) -> Value:
        c = self.choose(options)
        return Value(repr(c) if c >= 0 else f"({c!r})", (), abs(c), node=False)

    def constant_array(self, shape: tuple[int, ...], limit: float = BIG) -> Value:
        options = [c for c in CONSTANTS if abs(c) <= limit] or [0.5]
        if not shape:
            return self.constant(options)
        n = math.prod(shape)
        c = np.array(self.draw(st.lists(st.sampled_from(options), min_size=n, max_size=n)))
        c = c.reshape(shape)
        return Value(_literal(c), shape, float(np.max(np.abs(c))), node=False)

    def operand(self, limit: float = BIG, ok: Callable[[Value], bool] = lambda v: True) -> Value:
        """An earlier value (fan-out happens here), squashed if its bound exceeds ``limit``."""
        candidates = [v for v in self.values if ok(v)]
        v = self.choose(candidates)
        return self.squash(v, limit)

    def squash(self, v: Value, limit: float) -> Value:
        if v.bound <= limit:
            return v
        if not v.node:
            raise AssertionError(f"constant {v.text} exceeds the limit {limit}")
        scale = min(1.0, limit)
        text = f"ad.tanh({v.text})" if scale == 1.0 else f"{scale!r} * ad.tanh({v.text})"
        return self.emit(text, v.shape, scale)

    def partner(self, x: Value, limit: float = BIG, const: float = 0.3) -> Value:
        """A second operand that broadcasts with ``x``: an earlier value or a constant."""
        candidates = [v for v in self.values if _broadcast(v.shape, x.shape) is not None]
        if candidates and not self.flip(const):
            return self.squash(self.choose(candidates), limit)
        if not self.arrays or self.flip(0.5):
            return self.constant([c for c in CONSTANTS if abs(c) <= limit] or [0.5])
        shapes = [s for s in _suffixes(x.shape) if _broadcast(s, x.shape) is not None]
        return self.constant_array(self.choose(shapes), limit)

    # -- output ------------------------------------------------------------------
    def emit(
        self, text: str, shape: tuple[int, ...], bound: float, kinks: Sequence[str] = ()
    ) -> Value:
        if not bound <= BIG * 1.01:
            raise AssertionError(f"bound {bound} of {text} exceeds {BIG}")
        if not _VARIABLE.search(text):  # every value depends on the inputs: no constant folding
            raise AssertionError(f"{text} reads no variable of the program")
        v = Value(f"v{next(self._names)}", tuple(shape), bound)
        self.lines.append(f"{v.text} = {text}")
        self.kinks += kinks
        self.values.append(v)
        return v


def _number(c: Value) -> float:
    """The number a scalar constant stands for."""
    return float(c.text.strip("()"))


def _suffixes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Shapes that broadcast against ``shape``: its trailing parts, some with 1s."""
    out = [()]
    for k in range(1, len(shape) + 1):
        tail = shape[len(shape) - k :]
        out.append(tail)
        out.append((1, *tail[1:]))
    return out


# ---------------------------------------------------------------------------
# Elementwise templates. Each emits one value whose main primitive is its name.


def _add(b: Builder) -> Value:
    x = b.operand(BIG / 2)
    y = b.partner(x, BIG / 2)
    left, right = (y, x) if b.flip(0.3) else (x, y)
    if b.flip(0.2):
        text = f"{b.fn('add')}({left.text}, {right.text})"
    else:
        text = f"{left.text} + {right.text}"
    return b.emit(text, _broadcast(x.shape, y.shape), x.bound + y.bound)


def _sub(b: Builder) -> Value:
    x = b.operand(BIG / 2)
    y = b.partner(x, BIG / 2)
    left, right = (y, x) if b.flip(0.3) else (x, y)
    if b.flip(0.2):
        text = f"{b.fn('sub')}({left.text}, {right.text})"
    else:
        text = f"{left.text} - {right.text}"
    return b.emit(text, _broadcast(x.shape, y.shape), x.bound + y.bound)


def _mul(b: Builder) -> Value:
    x = b.operand(7.0)
    if b.flip(0.25):
        return b.emit(f"{x.text} * {x.text}", x.shape, x.bound**2)
    y = b.partner(x, 7.0)
    left, right = (y, x) if b.flip(0.3) else (x, y)
    if b.flip(0.2):
        text = f"{b.fn('mul')}({left.text}, {right.text})"
    else:
        text = f"{left.text} * {right.text}"
    return b.emit(text, _broadcast(x.shape, y.shape), x.bound * y.bound)


def _truediv(b: Builder) -> Value:
    x = b.operand(BIG / 4)
    form = b.choose(["denominator", "constant", "numerator"])
    if form == "constant":
        c = b.constant([2.0, -0.5, 3.0, 0.25])
        return b.emit(f"{x.text} / {c.text}", x.shape, x.bound / abs(_number(c)))
    y = b.operand(7.0) if form == "numerator" else b.partner(x, 7.0)
    c = b.constant(POSITIVE)
    shape = _broadcast(x.shape, y.shape)
    den = f"({c.text} + {y.text} * {y.text})"
    if form == "numerator":
        d = b.constant([1.0, -2.0, 0.5])
        return b.emit(f"{d.text} / {den}", y.shape, abs(_number(d)) / _number(c))
    text = f"{b.fn('truediv')}({x.text}, {den})" if b.flip(0.2) else f"{x.text} / {den}"
    return b.emit(text, shape, x.bound / _number(c))


def _neg(b: Builder) -> Value:
    x = b.operand()
    return b.emit(f"{b.fn('neg')}({x.text})" if b.flip(0.3) else f"-{x.text}", x.shape, x.bound)


def _pow(b: Builder) -> Value:
    form = b.choose(["square", "cube", "float", "both", "base", "root"])
    if form == "square":
        x = b.operand(7.0)
        return b.emit(f"{x.text} ** 2", x.shape, x.bound**2)
    if form == "cube":
        x = b.operand(3.5)
        return b.emit(f"{x.text} ** 3", x.shape, x.bound**3)
    if form == "float":
        x = b.operand(7.0)
        return b.emit(f"{b.fn('pow')}({x.text}, 2.0)", x.shape, x.bound**2)
    if form == "both":  # x ** y with both traced: the base is kept positive
        x = b.operand(2.0)
        y = b.partner(x, 2.0)
        c = b.constant(POSITIVE)
        bound = max((x.bound**2 + _number(c)) ** y.bound, _number(c) ** -y.bound)
        return b.emit(
            f"({x.text} * {x.text} + {c.text}) ** {y.text}", _broadcast(x.shape, y.shape), bound
        )
    if form == "base":  # c ** x
        x = b.operand(4.0)
        c = b.constant([1.5, 2.0, 0.5])
        return b.emit(f"{c.text} ** {x.text}", x.shape, 2.0**x.bound)
    x = b.operand(3.5)  # (3.5**2 + 2) ** 1.5 < BIG
    c = b.constant(POSITIVE)
    e = b.choose([0.5, -0.5, 1.5])
    base = x.bound**2 + _number(c)
    return b.emit(
        f"({x.text} * {x.text} + {c.text}) ** {e!r}", x.shape, max(base**e, _number(c) ** e)
    )


def _exp(b: Builder) -> Value:
    x = b.operand(3.0)
    return b.emit(f"{b.fn('exp')}({x.text})", x.shape, math.exp(x.bound))


def _log(b: Builder) -> Value:
    if b.flip(0.3):  # softplus
        x = b.operand(20.0)
        return b.emit(f"ad.log(1.0 + ad.exp({x.text}))", x.shape, x.bound + 1.0)
    x = b.operand(7.0)
    c = b.constant(POSITIVE)
    return b.emit(
        f"{b.fn('log')}({x.text} * {x.text} + {c.text})",
        x.shape,
        max(abs(math.log(_number(c))), math.log(x.bound**2 + _number(c))),
    )


def _log1p(b: Builder) -> Value:
    if b.flip(0.5):
        x = b.operand()
        return b.emit(f"ad.log1p(0.9 * ad.tanh({x.text}))", x.shape, math.log(10.0))
    x = b.operand(7.0)
    return b.emit(f"{b.fn('log1p')}({x.text} * {x.text})", x.shape, math.log1p(x.bound**2))


def _expm1(b: Builder) -> Value:
    x = b.operand(3.0)
    return b.emit(f"{b.fn('expm1')}({x.text})", x.shape, math.expm1(x.bound))


def _unary(name: str, bound: Callable[[float], float], limit: float = BIG):
    def template(b: Builder) -> Value:
        x = b.operand(limit)
        return b.emit(f"{b.fn(name)}({x.text})", x.shape, bound(x.bound))

    template.__name__ = f"_{name}"
    return template


def _sqrt(b: Builder) -> Value:
    form = b.choose(["square", "exp"] if "sigmoid" in b.avoid else ["square", "sigmoid", "exp"])
    if form == "square":
        x = b.operand(7.0)
        c = b.constant(POSITIVE)
        bound = math.sqrt(x.bound**2 + _number(c))
        return b.emit(f"{b.fn('sqrt')}({x.text} * {x.text} + {c.text})", x.shape, bound)
    if form == "sigmoid":
        x = b.operand(6.0)  # sqrt' = 1/(2 sqrt) stays moderate
        return b.emit(f"ad.sqrt(ad.sigmoid({x.text}))", x.shape, 1.0)
    x = b.operand(6.0)
    return b.emit(f"ad.sqrt(ad.exp({x.text}))", x.shape, math.exp(x.bound / 2))


def _abs(b: Builder) -> Value:
    x = b.operand(BIG / 2)
    if b.flip(0.5):
        return b.emit(f"{b.fn('abs')}({x.text})", x.shape, x.bound, kinks=[x.text])
    y = b.partner(x, BIG / 2)
    diff = f"{x.text} - {y.text}"
    return b.emit(f"ad.abs({diff})", _broadcast(x.shape, y.shape), x.bound + y.bound, kinks=[diff])


def _relu(b: Builder) -> Value:
    x = b.operand(BIG / 2)
    c = b.constant([0.0, 0.5, -0.5])
    arg = x.text if c.text == "0.0" else f"{x.text} - {c.text}"
    return b.emit(f"ad.relu({arg})", x.shape, x.bound + abs(_number(c)), kinks=[arg])


def _extremum(name: str):
    def template(b: Builder) -> Value:
        x = b.operand()
        y = b.partner(x)
        return b.emit(
            f"{b.fn(name)}({x.text}, {y.text})",
            _broadcast(x.shape, y.shape),
            max(x.bound, y.bound),
            kinks=[f"{x.text} - {y.text}"],
        )

    template.__name__ = f"_{name}"
    return template


def _where(b: Builder) -> Value:
    p = b.operand()
    q = b.partner(p)
    cond_shape = _broadcast(p.shape, q.shape)
    x = b.operand(ok=lambda v: _broadcast(v.shape, cond_shape) is not None)
    y = b.partner(Value("", _broadcast(x.shape, cond_shape), 0.0))
    shape = _broadcast(cond_shape, x.shape, y.shape)
    cmp = b.choose([">", "<"])
    return b.emit(
        f"{b.fn('where')}({p.text} {cmp} {q.text}, {x.text}, {y.text})",
        shape,
        max(x.bound, y.bound),
        kinks=[f"{p.text} - {q.text}"],
    )


ELEMENTWISE: dict[str, Callable[[Builder], Value]] = {
    "add": _add,
    "sub": _sub,
    "mul": _mul,
    "truediv": _truediv,
    "neg": _neg,
    "pow": _pow,
    "exp": _exp,
    "log": _log,
    "log1p": _log1p,
    "expm1": _expm1,
    "sin": _unary("sin", lambda a: min(a, 1.0)),
    "cos": _unary("cos", lambda a: 1.0),
    "tan": _unary("tan", math.tan, limit=1.2),
    "tanh": _unary("tanh", lambda a: min(a, 1.0)),
    "sqrt": _sqrt,
    "abs": _abs,
    "sigmoid": _unary("sigmoid", lambda a: 1.0),
    "relu": _relu,
    "maximum": _extremum("maximum"),
    "minimum": _extremum("minimum"),
    "where": _where,
}
"""Elementwise primitives of the table -> a template applying it safely."""

NUMPY_NAMES = {
    **{n: n for n in ("add", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sqrt",
                      "abs", "maximum", "minimum", "where", "sum", "mean", "max", "reshape",
                      "transpose", "broadcast_to", "matmul", "concatenate", "stack")},
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "divide",
    "neg": "negative",
    "pow": "power",
}  # fmt: skip
"""Primitives that numpy also has (``np.sin(v)`` reaches adlab through ``__array_ufunc__`` /
``__array_function__``): the numpy spelling of :meth:`Builder.fn`."""

# ---------------------------------------------------------------------------
# Array templates


def _has_ndim(k: int) -> Callable[[Value], bool]:
    return lambda v: len(v.shape) >= k


def _axis_choice(b: Builder, ndim: int) -> tuple[Any, str]:
    """A reduction axis: None, an int (maybe negative) or a pair of axes; and its text."""
    options: list[Any] = [None, *range(ndim), -1]
    if ndim >= 2:
        options.append((0, ndim - 1))
    axis = b.choose(options)
    return axis, "" if axis is None else f", axis={axis!r}"


def _reduction(name: str):
    def template(b: Builder) -> Value:
        x0 = b.choose([v for v in b.values if v.shape])
        axis, axis_text = _axis_choice(b, len(x0.shape))
        keepdims = b.flip(0.3)
        count = int(np.sum(np.ones(x0.shape), axis=axis).flat[0])  # elements per reduction
        limit = {"sum": BIG / count, "logsumexp": BIG - math.log(count)}.get(name, BIG)
        x = b.squash(x0, limit)
        shape = np.sum(np.zeros(x.shape), axis=axis, keepdims=keepdims).shape
        bound = {"sum": x.bound * count, "logsumexp": x.bound + math.log(count)}.get(name, x.bound)
        kd = ", keepdims=True" if keepdims else ""
        kinks = []
        if name == "max":
            kinks = [f"{x.text} - np.max({x.text}{axis_text}, keepdims=True)"]
        if name != "logsumexp" and b.method():
            axis_text = "" if axis is None else f"axis={axis!r}"
            kd = (", " if axis_text else "") + "keepdims=True" if keepdims else ""
            return b.emit(f"{x.text}.{name}({axis_text}{kd})", shape, bound, kinks)
        return b.emit(f"{b.fn(name)}({x.text}{axis_text}{kd})", shape, bound, kinks)

    template.__name__ = f"_{name}"
    return template


def _factorizations(size: int) -> list[tuple[int, ...]]:
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    shapes = [(size,)]
    shapes += [(a, size // a) for a in divisors]
    shapes += [(a, c, size // (a * c)) for a in divisors for c in divisors if size % (a * c) == 0]
    return shapes


def _reshape(b: Builder) -> Value:
    x = b.operand(ok=_has_ndim(1))
    shape = b.choose(_factorizations(x.size))
    text = shape
    if len(shape) >= 2 and b.flip(0.3):  # let adlab infer one axis
        text = (*shape[:-1], -1)
    if b.method():
        return b.emit(f"{x.text}.reshape({text!r})", shape, x.bound)
    return b.emit(f"{b.fn('reshape')}({x.text}, {text!r})", shape, x.bound)


def _transpose(b: Builder) -> Value:
    x = b.operand(ok=_has_ndim(2))
    if b.flip(0.4):
        text = f"{x.text}.T" if b.method() else f"{b.fn('transpose')}({x.text})"
        return b.emit(text, x.shape[::-1], x.bound)
    axes = b.choose(list(itertools.permutations(range(len(x.shape)))))
    shape = tuple(x.shape[a] for a in axes)
    return b.emit(f"{b.fn('transpose')}({x.text}, {axes!r})", shape, x.bound)


def _broadcast_targets(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    out = []
    if len(shape) < MAX_NDIM:
        out += [(k, *shape) for k in (2, 3)]
    for i, n in enumerate(shape):
        if n == 1:
            out.append((*shape[:i], 3, *shape[i + 1 :]))
    return [s for s in out if math.prod(s) <= MAX_SIZE]


def _broadcast_to(b: Builder) -> Value:
    x = b.operand(ok=lambda v: bool(_broadcast_targets(v.shape)))
    shape = b.choose(_broadcast_targets(x.shape))
    return b.emit(f"{b.fn('broadcast_to')}({x.text}, {shape!r})", shape, x.bound)


_SLICES = {
    ":": slice(None),
    "1:": slice(1, None),
    ":-1": slice(None, -1),
    "::-1": slice(None, None, -1),
    "::2": slice(None, None, 2),
}


def _getitem(b: Builder) -> Value:
    x = b.operand(ok=_has_ndim(1))
    n = len(x.shape)
    k = b.draw(st.integers(1, n))
    trailing = k < n and b.flip(0.3)
    axes = range(n - k, n) if trailing else range(k)
    parts: list[tuple[str, Any]] = [("...", Ellipsis)] if trailing else []
    have_array = False
    for ax in axes:
        size = x.shape[ax]
        kind = b.choose(["int", "slice", "array"] if not have_array else ["int", "slice"])
        if kind == "int":
            i = b.draw(st.integers(-size, size - 1))
            parts.append((str(i), i))
        elif kind == "slice":
            s = b.choose(list(_SLICES))
            if len(range(size)[_SLICES[s]]) == 0:
                s = ":"
            parts.append((s, _SLICES[s]))
        else:  # integer array, repeats allowed: the transpose must add them up
            idx = b.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=4))
            parts.append((f"np.array({idx!r})", np.array(idx)))
            have_array = True
    if len(x.shape) < MAX_NDIM and b.flip(0.2):
        parts.insert(0, ("None", None))
    index = tuple(p for _, p in parts)
    shape = np.zeros(x.shape)[index].shape
    text = ", ".join(t for t, _ in parts)
    if math.prod(shape) > MAX_SIZE or len(shape) > MAX_NDIM:
        text, shape = "0", x.shape[1:]
    return b.emit(f"{x.text}[{text}]", shape, x.bound)


def _matmul_shape(a: tuple[int, ...], c: tuple[int, ...]) -> tuple[int, ...] | None:
    if not a or not c:
        return None
    try:
        shape = np.matmul(np.zeros(a), np.zeros(c)).shape
    except ValueError:
        return None
    return shape if len(shape) <= MAX_NDIM and math.prod(shape) <= MAX_SIZE else None


def _matmul(b: Builder) -> Value:
    x0 = b.operand(ok=_has_ndim(1))
    inner = x0.shape[-1]
    partners = [v for v in b.values if _matmul_shape(x0.shape, v.shape) is not None]
    if partners and b.flip(0.6):
        a, c = x0, b.choose(partners)
    else:  # a constant matrix or vector, on either side
        left = b.flip(0.7)  # x0 on the left: x0 @ constant
        m = b.choose([1, 2, 3])
        if left:
            shape = b.choose([(inner,), (inner, m)])
        else:
            shape = b.choose(
                [(x0.shape[0],), (m, x0.shape[0])] if len(x0.shape) == 1 else [(m, x0.shape[-2])]
            )
        if _matmul_shape(*((x0.shape, shape) if left else (shape, x0.shape))) is None:
            left, shape = True, (inner,)  # the result would be too large: a vector fits
        k = inner if left else shape[-1]
        const = b.constant_array(shape, math.sqrt(BIG / k))
        a, c = (x0, const) if left else (const, x0)
    shape = _matmul_shape(a.shape, c.shape)
    k = a.shape[-1]
    limit = math.sqrt(BIG / k)
    a, c = b.squash(a, limit), b.squash(c, limit)
    text = f"{b.fn('matmul')}({a.text}, {c.text})" if b.flip(0.3) else f"{a.text} @ {c.text}"
    return b.emit(text, shape, a.bound * c.bound * k)


def _join_partners(b: Builder, x: Value, axis: int | None) -> list[Value]:
    def ok(v: Value) -> bool:
        if axis is None:
            return v.shape == x.shape
        return len(v.shape) == len(x.shape) and all(
            m == n for i, (m, n) in enumerate(zip(v.shape, x.shape)) if i != axis
        )

    return [v for v in b.values if ok(v)]  # always contains x itself


def _concatenate(b: Builder) -> Value:
    x = b.operand(ok=_has_ndim(1))
    axis = b.draw(st.integers(0, len(x.shape) - 1))
    parts = [x]
    for _ in range(b.draw(st.integers(1, 2))):
        if b.flip(0.25):
            parts.append(b.constant_array(x.shape))
        else:
            parts.append(b.choose(_join_partners(b, x, axis)))
    shape = list(x.shape)
    shape[axis] = sum(p.shape[axis] for p in parts)
    if math.prod(shape) > MAX_SIZE:
        parts, shape[axis] = parts[:2], parts[0].shape[axis] + parts[1].shape[axis]
    if math.prod(shape) > MAX_SIZE:
        parts, shape = [x], list(x.shape)
    axis_text = "" if axis == 0 and b.flip(0.5) else f", axis={axis}"
    items = ", ".join(p.text for p in parts)
    return b.emit(
        f"{b.fn('concatenate')}([{items}]{axis_text})", tuple(shape), max(p.bound for p in parts)
    )


def _stack(b: Builder) -> Value:
    x = b.operand(ok=lambda v: len(v.shape) < MAX_NDIM and v.size * 2 <= MAX_SIZE)
    parts = [x]
    for _ in range(b.draw(st.integers(1, 2))):
        parts.append(
            b.constant_array(x.shape) if b.flip(0.2) else b.choose(_join_partners(b, x, None))
        )
    if len(parts) * x.size > MAX_SIZE:
        parts = parts[:2]
    axis = b.draw(st.integers(-len(x.shape) - 1, len(x.shape)))
    shape = np.stack([np.zeros(x.shape)] * len(parts), axis=axis).shape
    items = ", ".join(p.text for p in parts)
    return b.emit(f"{b.fn('stack')}([{items}], axis={axis})", shape, max(p.bound for p in parts))


ARRAY: dict[str, Callable[[Builder], Value]] = {
    "sum": _reduction("sum"),
    "mean": _reduction("mean"),
    "max": _reduction("max"),
    "logsumexp": _reduction("logsumexp"),
    "reshape": _reshape,
    "transpose": _transpose,
    "broadcast_to": _broadcast_to,
    "getitem": _getitem,
    "matmul": _matmul,
    "concatenate": _concatenate,
    "stack": _stack,
}
"""Array primitives of the table -> a template applying it to a value of a suitable shape."""

_NEEDS: dict[str, Callable[[Value], bool]] = {
    "sum": _has_ndim(1),
    "mean": _has_ndim(1),
    "max": _has_ndim(1),
    "logsumexp": _has_ndim(1),
    "reshape": _has_ndim(1),
    "transpose": _has_ndim(2),
    "broadcast_to": lambda v: bool(_broadcast_targets(v.shape)),
    "getitem": _has_ndim(1),
    "matmul": _has_ndim(1),
    "concatenate": _has_ndim(1),
    "stack": lambda v: len(v.shape) < MAX_NDIM and v.size * 2 <= MAX_SIZE,
}


def _applicable(b: Builder, op: str) -> bool:
    need = _NEEDS.get(op)
    return need is None or any(need(v) for v in b.values)


# ---------------------------------------------------------------------------
# Strategies


HELPERS = ("add", "mul", "tanh", "exp")
"""Primitives the templates use besides the one they are about (squashing, positive domains)."""


def _make_applicable(b: Builder, ops: Sequence[str]) -> None:
    """Add a value that one of ``ops`` applies to (only transpose and stack can lack one:
    every input has at most 6 elements, and the first at least one axis)."""
    if "transpose" in ops:  # needs two axes
        x = b.choose([v for v in b.values if len(v.shape) < 2])
        shape = (2, *x.shape) if x.shape else (2, 2)
        b.emit(f"ad.broadcast_to({x.text}, {shape!r})", shape, x.bound)
        b.ops.append("broadcast_to")
    elif "stack" in ops:  # needs a small value with fewer than three axes
        x = b.choose([v for v in b.values if v.size * 2 <= MAX_SIZE])
        b.emit(f"ad.reshape({x.text}, (-1,))", (x.size,), x.bound)
        b.ops.append("reshape")
    else:
        raise AssertionError(f"no value of the program suits any of {ops}")


REDUCTIONS = ("sum", "mean", "logsumexp", "max")
"""How an array-valued result of a program is reduced to contribute to its scalar output."""


def _build(
    draw: Callable,
    params: list[Value],
    args: tuple,
    ops: Sequence[str] | None,
    n_ops: int,
    arrays: bool,
    avoid: Sequence[str],
    numpy: float = 0.0,
) -> Program:
    if not set(avoid).isdisjoint(HELPERS):
        raise ValueError(f"the templates need {', '.join(HELPERS)}; they cannot be avoided")
    b = Builder(draw, params, arrays, avoid, numpy)
    if ops is None:
        ops = [*ELEMENTWISE, *ARRAY] if arrays else list(ELEMENTWISE)
    ops = [op for op in ops if op not in b.avoid]
    reductions = [r for r in REDUCTIONS if r not in b.avoid]
    done = 0
    while done < n_ops:
        usable = [op for op in ops if _applicable(b, op)]
        if not usable:  # e.g. only transpose allowed and no 2-d value yet: make one
            _make_applicable(b, ops)
            continue
        op = b.choose(usable)
        (ELEMENTWISE.get(op) or ARRAY[op])(b)
        b.ops.append(op)
        done += 1
    program_values = b.values[len(params) :]
    uses = _reads(b.lines)
    if max(uses.values(), default=0) < 2:  # guarantee fan-out: reuse the last value
        last = program_values[-1]
        v = b.emit(f"ad.sin({last.text}) * {last.text}", last.shape, last.bound)
        uses.update([last.text, last.text])
        program_values.append(v)
    sinks = [v for v in program_values if uses[v.text] == 0]
    terms = []
    for v in sinks:
        if not v.shape:
            terms.append(v.text)
            continue
        red = b.choose(reductions)
        if red == "max":
            b.kinks.append(f"{v.text} - np.max({v.text}, keepdims=True)")
        terms.append(f"ad.{red}({v.text})")
    return Program(
        tuple(p.text for p in params),
        tuple(b.lines),
        " + ".join(terms),
        args,
        kinks=tuple(b.kinks),
        ops=tuple(b.ops),
    )


@st.composite
def scalar_programs(
    draw: Callable,
    ops: Sequence[str] | None = None,
    max_ops: int = 8,
    max_inputs: int = 3,
    avoid: Sequence[str] = (),
    numpy: float = 0.0,
) -> Program:
    """Programs of Python-float inputs over the elementwise primitives ``ops`` (default: all).

    ``avoid`` names primitives the program must not use at all, not even as a helper
    of another template (``sqrt(sigmoid(x))``); only :data:`HELPERS` cannot be avoided.
    ``numpy`` is how often a primitive numpy also has is spelled the numpy way
    (``np.sin(x0)``, ``v1.sum(axis=0)``, ``v2.T``) instead of ``ad.sin(x0)``.
    """
    n_inputs = draw(st.integers(1, max_inputs))
    args = tuple(draw(ELEMENTS) for _ in range(n_inputs))
    params = [Value(f"x{i}", (), INPUT_BOUND) for i in range(n_inputs)]
    n_ops = draw(st.integers(1, max_ops))
    return _build(draw, params, args, ops, n_ops, arrays=False, avoid=avoid, numpy=numpy)


INPUT_SHAPES = ((3,), (2, 3), (3, 1), (1, 3), (2, 2), (4,), (2, 1, 3), ())


@st.composite
def array_programs(
    draw: Callable,
    ops: Sequence[str] | None = None,
    max_ops: int = 6,
    max_inputs: int = 2,
    max_size: int = MAX_SIZE,
    dtypes: Sequence[type] = (np.float64,),
    avoid: Sequence[str] = (),
    numpy: float = 0.0,
) -> Program:
    """Programs of array inputs (the first at least 1-d) over elementwise and array primitives.

    Elementwise operations broadcast their operands; array primitives get
    operands of suitable shapes. The output is a scalar: the program's unused
    values, each reduced (sum, mean, logsumexp or max), added up. ``ops``, ``avoid``
    and ``numpy`` are as for :func:`scalar_programs`.
    """
    n_inputs = draw(st.integers(1, max_inputs))
    dtype = draw(st.sampled_from(dtypes))
    shapes = [draw(st.sampled_from(INPUT_SHAPES[:-1]))]
    shapes += [draw(st.sampled_from(INPUT_SHAPES)) for _ in range(n_inputs - 1)]
    shapes = [s for s in shapes if math.prod(s) <= max_size] or [(3,)]
    args = tuple(
        draw(hnp.arrays(dtype, s, elements=ELEMENTS.map(dtype))) if s else dtype(draw(ELEMENTS))
        for s in shapes
    )
    args = tuple(np.asarray(a) if not isinstance(a, np.ndarray) else a for a in args)
    params = [Value(f"x{i}", s, INPUT_BOUND) for i, s in enumerate(shapes)]
    n_ops = draw(st.integers(1, max_ops))
    return _build(draw, params, args, ops, n_ops, arrays=True, avoid=avoid, numpy=numpy)


def programs(**kwargs: Any) -> st.SearchStrategy[Program]:
    """Either kind of program."""
    return st.one_of(scalar_programs(), array_programs(**kwargs))
