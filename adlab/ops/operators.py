"""numpy's protocols and array methods for traced values, routed to the table.

:class:`ArrayOperators` extends the core operator mixin
(:class:`adlab.core.operators.Operators`: ``+ - * / ** @``, comparisons) for the
traced value types that hold a number, reverse mode's ``Variable`` and forward
mode's ``Dual``: ``x.T``, ``x[1:]``, ``x.sum(axis=0)``, ``np.sin(x)`` and
``np.sum(x, axis=0)`` call the same primitives as ``ad.sin`` and ``ad.sum``.
Anything that would silently drop a traced value out of the computation
(``float(x)``, ``math.sin(x)``, ``np.asarray(x)``, item assignment, a numpy function
without a rule) raises :class:`~adlab.DifferentiationError` with the fix in the
message; once the value's transformation has finished, it converts as the plain
number it holds (and takes part in no new computation).

:data:`UFUNCS` is generated from the table: every primitive declares the numpy ufuncs
it ``stands_for``, so a primitive declared later is reached by numpy as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.operators import Operators, mul
from adlab.core.primitive import standing_for
from adlab.core.rules import table
from adlab.core.tangents import shape_of, zeros_like
from adlab.core.transform import FINISHED
from adlab.ops import array as A
from adlab.ops import scalar as S


def _square(x: Any) -> Any:
    return mul(x, x)


def _positive(x: Any) -> Any:
    return x


COMPOSITES: dict[np.ufunc, Callable[..., Any]] = {np.square: _square, np.positive: _positive}
"""numpy ufuncs written with table operations (they have no primitive of their own)."""


def ufunc_rule(ufunc: np.ufunc) -> Callable[..., Any] | None:
    """What ``ufunc`` on a traced value calls: the primitive declared to stand for it, or a
    composite of table operations; None when the table has neither."""
    return standing_for(ufunc) or COMPOSITES.get(ufunc)


class _Ufuncs(Mapping):
    """A live view: every numpy ufunc with a rule, generated from the table's declarations."""

    def _items(self) -> dict[np.ufunc, Callable[..., Any]]:
        declared = [u for p in table() for u in p.stands_for if isinstance(u, np.ufunc)]
        return {**{u: standing_for(u) for u in declared}, **COMPOSITES}

    def __getitem__(self, ufunc: Any) -> Callable[..., Any]:
        fn = ufunc_rule(ufunc) if isinstance(ufunc, np.ufunc) else None
        if fn is None:
            raise KeyError(ufunc)
        return fn

    def __iter__(self) -> Any:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


UFUNCS: Mapping[np.ufunc, Callable[..., Any]] = _Ufuncs()
"""numpy ufuncs with a rule in the table (a live view of the primitives' ``stands_for``)."""


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None) -> Any:
    if order != "C":
        raise DifferentiationError(f"np.reshape(..., order={order!r}): only order='C' is supported")
    return A.reshape(a, newshape if shape is None else shape)


def _where(condition: Any, *xy: Any) -> Any:
    if len(xy) != 2:
        raise DifferentiationError(
            "np.where(condition) returns indices, which have no derivative; "
            "use np.where(condition, x, y) to choose values"
        )
    return S.where(condition, *xy)


def _zeros_like(a: Any, dtype: Any = None) -> Any:
    z = zeros_like(a)
    return z if dtype is None else np.asarray(z, dtype=dtype)


FUNCTIONS: dict[Callable[..., Any], tuple[Callable[..., Any], frozenset[str]]] = {
    **A.NUMPY,  # the table's array functions, each declared with the numpy ones it stands for
    np.reshape: (_reshape, frozenset({"shape", "newshape", "order"})),
    np.where: (_where, frozenset()),
    np.shape: (shape_of, frozenset()),
    np.ndim: (lambda a: len(shape_of(a)), frozenset()),
    np.size: (lambda a: int(np.prod(shape_of(a))), frozenset()),
    np.zeros_like: (_zeros_like, frozenset({"dtype"})),
}
"""numpy functions (``__array_function__``) with a rule or a value-free answer."""


def _name(func: Any) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    module = "np" if module in ("numpy", "numpy.core.fromnumeric") else module
    return f"{module}.{getattr(func, '__name__', func)}"


def apply_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``np.<ufunc>(...)`` with a traced input: call the table's primitive."""
    __tracebackhide__ = True
    if method != "__call__":
        hint = "ad.sum" if ufunc is np.add else "a function of the table (ad.rule_table())"
        raise DifferentiationError(
            f"np.{ufunc.__name__}.{method}(...) on a traced value has no derivative rule; "
            f"use {hint} instead"
        )
    if "out" in kwargs:
        raise DifferentiationError(
            f"np.{ufunc.__name__}(..., out=...) would overwrite an array in place and lose the "
            "derivative; assign the result instead, e.g. y = np.sin(x)"
        )
    if kwargs:
        raise DifferentiationError(
            f"np.{ufunc.__name__}(..., {', '.join(kwargs)}=...) is not supported on traced values"
        )
    fn = ufunc_rule(ufunc)
    if fn is None:
        raise DifferentiationError(
            f"np.{ufunc.__name__} has no differentiation rule in adlab. Use an operation of the "
            "table (see ad.rule_table()), or declare a rule for it with @ad.primitive"
        )
    return fn(*inputs)


def apply_function(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``np.<func>(...)`` with a traced argument: call the table's function."""
    __tracebackhide__ = True
    entry = FUNCTIONS.get(func)
    if entry is None:
        raise DifferentiationError(
            f"{_name(func)} has no differentiation rule in adlab. Use an operation of the "
            "table (see ad.rule_table()), or declare a rule for it with @ad.primitive"
        )
    fn, allowed = entry
    extra = sorted(set(kwargs) - allowed) if kwargs else None
    if extra:
        raise DifferentiationError(
            f"{_name(func)}(..., {', '.join(extra)}=...) is not supported on traced values"
            + (f"; supported keywords: {', '.join(sorted(allowed))}" if allowed else "")
        )
    return fn(*args, **kwargs)


class ArrayOperators(Operators):
    """Array methods, numpy's protocols and conversions for the traced value types.

    A subclass holds its number in ``value`` (which gives ``shape``, ``dtype`` and
    truth), its transformation in ``_trans`` (see :mod:`adlab.core.transform`) and names
    itself in ``_what`` (how the errors call it, e.g. ``"traced Variable"``).
    """

    __slots__ = ()
    _read = ".value"

    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.value)  # type: ignore[attr-defined]

    @property
    def dtype(self) -> Any:
        return getattr(self.value, "dtype", None)  # type: ignore[attr-defined]

    def __bool__(self) -> bool:
        return bool(self.value)  # type: ignore[attr-defined]

    def __matmul__(self, other: Any) -> Any:
        return A.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return A.matmul(other, self)

    def _finished(self) -> bool:
        """Whether this value's transformation has finished: it is then only its number."""
        return self._trans.state == FINISHED  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        if self._finished():
            return repr(self.value)  # type: ignore[attr-defined]
        return self._repr()

    def _repr(self) -> str:
        return f"{type(self).__name__}({self.value!r})"  # type: ignore[attr-defined]

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        """Its number's hash, as ``==`` compares its number: a dict or a set takes the branch
        the plain program takes (``table.get(x)`` finds the entry for ``x``'s value)."""
        __tracebackhide__ = True
        try:
            return hash(self.value)  # type: ignore[attr-defined]
        except TypeError:
            raise DifferentiationError(
                f"a {self._what} holding an array cannot be hashed (used as a dict key, in a "
                "set, or by a cache), as an array cannot; use a tuple of its numbers: "
                "tuple(x.value.ravel())"
            ) from None

    # -- arrays ---------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def T(self) -> Any:
        return A.transpose(self)

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError(f"len() of a scalar {self._what}")
        return shape[0]

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield A.getitem(self, i)

    def __getitem__(self, index: Any) -> Any:
        return A.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> NoReturn:
        raise DifferentiationError(
            f"item assignment into a {self._what} (x[i] = ...) would overwrite a recorded "
            "value. Build a new array instead: ad.where(mask, new, x), ad.concatenate([...]) "
            "or ad.stack([...])"
        )

    # x.sum(axis=0), x.dot(w) ...: the table's functions, declared with their method names
    # (below); reshape and transpose take their shape or axes spread out, as numpy's do
    def reshape(self, *shape: Any) -> Any:
        return A.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Any:
        return A.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    # -- numpy protocols --------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        __tracebackhide__ = True
        return apply_function(func, args, kwargs)

    # -- conversions: the number once finished, else a clear error ---------------
    def _dropped(self, construct: str) -> NoReturn:
        __tracebackhide__ = True
        raise DifferentiationError(
            f"{construct} of a {self._what} would drop it out of the computation and lose its "
            f"derivative. Use adlab/numpy functions on it (ad.sin or np.sin, not math.sin); "
            f"to read its number without differentiating, use x{self._read}"
        )

    def __float__(self) -> float:
        __tracebackhide__ = True
        if self._finished():
            return float(self.value)  # type: ignore[attr-defined]
        self._dropped("float() (also called by math.* functions)")

    def __int__(self) -> int:
        __tracebackhide__ = True
        if self._finished():
            return int(self.value)  # type: ignore[attr-defined]
        self._dropped("int()")

    def __index__(self) -> int:
        __tracebackhide__ = True
        if self._finished():
            return self.value.__index__()  # type: ignore[attr-defined]
        self._dropped("using as an index or int")

    def __complex__(self) -> complex:
        __tracebackhide__ = True
        if self._finished():
            return complex(self.value)  # type: ignore[attr-defined]
        self._dropped("complex()")

    def item(self, *args: Any) -> Any:
        __tracebackhide__ = True
        if self._finished():
            return np.asarray(self.value).item(*args)  # type: ignore[attr-defined]
        self._dropped(".item()")

    def tolist(self) -> Any:
        __tracebackhide__ = True
        if self._finished():
            return np.asarray(self.value).tolist()  # type: ignore[attr-defined]
        self._dropped(".tolist()")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        __tracebackhide__ = True
        if self._finished():
            return np.asarray(self.value, dtype=dtype)  # type: ignore[attr-defined]
        raise DifferentiationError(
            f"np.array / np.asarray of a {self._what} would drop it out of the computation. "
            "Pass it to numpy functions directly, build arrays with ad.stack([...]) or "
            f"ad.concatenate([...]), or read its number with x{self._read}"
        )


def _method(fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


for _method_name, _fn in A.METHODS.items():
    if _method_name not in vars(ArrayOperators):
        setattr(ArrayOperators, _method_name, _method(_fn))


# ---------------------------------------------------------------------------
# numpy array methods a traced value does not have


_READ_THE_NUMBER = "x.value.{name}{call}, which reads the number (no derivative flows through it)"
_INDICES = "np.{name}(x.value): indices and booleans have no derivative, so read the number first"
_IN_PLACE = (
    "a new value (ad.where, ad.concatenate or ad.stack): changing a recorded value in place "
    "would lose its derivative"
)

ARRAY_METHODS_INSTEAD: dict[str, str] = {
    "astype": (
        "inputs of the dtype you want (float32 inputs give float32 derivatives); "
        "x.value.astype(...) casts the number, without derivative"
    ),
    "copy": "x itself: adlab never changes a traced value in place, so it needs no copy",
    "flatten": "ad.reshape(x, -1) or x.reshape(-1)",
    "ravel": "ad.reshape(x, -1) or x.reshape(-1)",
    "flat": "ad.reshape(x, -1) or x.reshape(-1)",
    "squeeze": "ad.reshape(x, shape) with the shape you want",
    "swapaxes": "ad.transpose(x, axes) or x.transpose(...)",
    "mT": "ad.transpose(x, axes) with the last two axes swapped",
    "repeat": "ad.broadcast_to, or ad.concatenate([...])",
    "min": "-ad.max(-x) (the minimum as a maximum; there is no ad.min)",
    "prod": "a product written with * (or ad.exp(ad.sum(ad.log(x))) for positive x)",
    "cumsum": "running sums written with + (or ad.stack of partial sums)",
    "cumprod": "running products written with * (or ad.stack of partial products)",
    "std": "ad.sqrt(ad.mean((x - ad.mean(x)) ** 2))",
    "var": "ad.mean((x - ad.mean(x)) ** 2)",
    "clip": "ad.minimum(ad.maximum(x, low), high)",
    "round": "round(x) (its derivative is zero)",
    "diagonal": "indexing: x[np.arange(n), np.arange(n)]",
    "trace": "ad.sum(x[np.arange(n), np.arange(n)])",
    "take": "indexing: x[indices]",
    "compress": "indexing: x[indices], or ad.where(mask, x, 0.0)",
    "choose": "ad.where(condition, x, y)",
    "conj": "x itself (adlab differentiates real values)",
    "conjugate": "x itself (adlab differentiates real values)",
    "real": "x itself (adlab differentiates real values)",
    "imag": "0.0 (adlab differentiates real values)",
    **dict.fromkeys(
        ("all", "any", "argmax", "argmin", "argpartition", "argsort", "nonzero", "searchsorted"),
        _INDICES,
    ),
    **dict.fromkeys(
        ("fill", "put", "resize", "sort", "partition", "setfield", "setflags", "byteswap"),
        _IN_PLACE,
    ),
}
"""What to write instead of each numpy array method or attribute a traced value lacks
(``{name}`` is filled in); the other ndarray attributes say ``x.value.<name>``."""


class _NotAnArrayMethod:
    """A numpy array attribute that traced values do not have: reading it raises an
    AttributeError that names the replacement.

    An AttributeError, so ``hasattr(x, "ravel")`` still answers False to numpy,
    IPython and other code that probes; a class attribute rather than
    ``__getattr__``, which would slow down every attribute read of a Variable.
    """

    def __init__(self, name: str, instead: str) -> None:
        method = callable(getattr(np.ndarray, name))
        self.name = name
        self.what = f"x.{name}()" if method else f"x.{name}"
        self.kind = "method" if method else "attribute"
        self.instead = instead.format(name=name, call="()" if method else "")

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        raise AttributeError(
            f"{self.what}: a {obj._what} does not have this numpy array {self.kind}; "
            f"use {self.instead}",
            name=self.name,
            obj=obj,
        )


def _explain_missing_array_methods(cls: type) -> None:
    """Give ``cls`` a :class:`_NotAnArrayMethod` for every public ndarray attribute it does
    not implement (``shape`` and ``dtype`` come from each subclass)."""
    for name in dir(np.ndarray):
        if name.startswith("_") or name in ("shape", "dtype") or hasattr(cls, name):
            continue
        instead = ARRAY_METHODS_INSTEAD.get(name, _READ_THE_NUMBER)
        setattr(cls, name, _NotAnArrayMethod(name, instead))


_explain_missing_array_methods(ArrayOperators)
