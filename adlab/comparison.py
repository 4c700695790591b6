"""``ad.compare``: one function through every engine, in one table.

Each mode differentiates ``f`` at the same point; the table shows its value and
gradient with every digit, the largest difference from a reference mode's
gradient, the time per call, and the calls, passes and sweeps one gradient took
(:func:`adlab.api.counting`). A mode that cannot differentiate ``f`` shows its
error in its row instead.
"""

from __future__ import annotations

import dataclasses
import math
import time as time_module
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from adlab.api import Argnums, available_modes, counting, engine, value_and_grad
from adlab.core.engine import Cost
from adlab.core.errors import DifferentiationError
from adlab.core.tree import flatten
from adlab.viz.tables import Table

__all__ = ["Comparison", "ModeResult", "compare"]


@dataclasses.dataclass
class ModeResult:
    """One row of :func:`compare`: what ``mode`` gave, and what it cost."""

    mode: str
    value: Any = None
    gradient: Any = None
    error: float | None = None  # largest |gradient - reference| over all components
    seconds: float | None = None  # per value_and_grad call
    cost: Cost | None = None  # of one value_and_grad call
    failure: str | None = None  # the engine's error message, if it could not do it


class Comparison:
    """The table :func:`compare` returns: rich HTML in a notebook, data in ``.results``
    (one :class:`ModeResult` per mode; ``comparison["forward"]`` picks one)."""

    def __init__(self, function: str, results: list[ModeResult], reference: str) -> None:
        self.function = function
        self.results = results
        self.reference = reference

    def __getitem__(self, mode: str) -> ModeResult:
        for r in self.results:
            if r.mode == mode:
                return r
        raise KeyError(f"no row for mode {mode!r}; the rows are {[r.mode for r in self.results]}")

    def __iter__(self) -> Iterator[ModeResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def table(self) -> Table:
        """The comparison as a :class:`~adlab.viz.tables.Table`."""
        timed = any(r.seconds is not None for r in self.results)
        columns = ["mode", "value", "gradient", f"max error vs {self.reference}"]
        columns += ["time per call"] * timed + ["calls of f", "passes", "sweeps"]
        rows = []
        for r in self.results:
            if r.failure is not None:
                rows.append([r.mode, "—", r.failure] + [""] * (len(columns) - 3))
                continue
            error = "" if r.error is None else f"{r.error:.1e}"
            row = [r.mode, _show(r.value), _show(r.gradient), error]
            row += [_seconds(r.seconds)] * timed
            c = r.cost
            row += [c.calls, c.passes, c.sweeps] if c is not None else ["", "", ""]
            rows.append(row)
        return Table(columns, rows, title=f"{self.function}: every mode")

    def __repr__(self) -> str:
        return repr(self.table())

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


def compare(
    f: Callable,
    *args: Any,
    modes: Sequence[str] | None = None,
    argnums: Argnums | None = None,
    reference: str = "reverse",
    time: bool = True,
) -> Comparison:
    """Differentiate ``f`` at ``args`` with every mode and tabulate value, gradient (with
    respect to ``argnums``, by default every argument), the
    largest difference from the ``reference`` mode's gradient, time per call (``time=False``
    leaves it out, for stable stored outputs) and the calls, passes and sweeps of one
    gradient. A mode that cannot differentiate ``f`` shows its error instead.

    >>> import adlab as ad
    >>> table = ad.compare(lambda x, y: x * x * y, 3.0, 2.0, modes=("forward", "reverse"),
    ...                    time=False)
    >>> table["forward"].gradient, table["forward"].cost.passes
    ((12.0, 9.0), 2)
    """
    modes = available_modes() if modes is None else tuple(modes)
    for m in modes:
        engine(m)
    nums = (0 if len(args) == 1 else tuple(range(len(args)))) if argnums is None else argnums
    results = [_one_mode(f, args, nums, mode, time) for mode in modes]
    ref = next((r for r in results if r.mode == reference), None)
    if ref is None:  # the reference is not among the rows: its gradient, once
        ref = _one_mode(f, args, nums, reference, time=False)
    if ref.failure is not None:  # nothing to measure errors against
        return Comparison(getattr(f, "__name__", "f"), results, reference)
    want = np.concatenate([np.ravel(leaf) for leaf in flatten(ref.gradient)[0]] or [np.zeros(0)])
    for r in results:
        if r.failure is None:
            got = [np.ravel(leaf) for leaf in flatten(r.gradient)[0]]
            r.error = float(np.max(np.abs(np.concatenate(got or [np.zeros(0)]) - want),
                                   initial=0.0))  # fmt: skip
    return Comparison(getattr(f, "__name__", "f"), results, reference)


def _one_mode(f: Callable, args: tuple, argnums: Argnums, mode: str, time: bool) -> ModeResult:
    """One row: ``mode``'s value and gradient of ``f`` at ``args`` and what they cost, or the
    error it raised."""
    g = value_and_grad(f, argnums, mode=mode)
    try:
        with counting() as cost:
            value, gradient = g(*args)
    except (DifferentiationError, TypeError, ValueError, ArithmeticError) as e:
        return ModeResult(mode, failure=f"{type(e).__name__}: {e}")
    seconds = _time_per_call(g, args) if time else None
    return ModeResult(mode, value, gradient, seconds=seconds, cost=cost)


def _time_per_call(g: Callable, args: tuple, budget: float = 0.05) -> float:
    """The best of a few rounds, each long enough for the clock (timeit's approach)."""
    best, number = math.inf, 1
    while True:
        start = time_module.perf_counter()
        for _ in range(number):
            g(*args)
        elapsed = time_module.perf_counter() - start
        if elapsed > budget / 10 or number >= 10**4:
            break
        number *= 10
    best = elapsed / number
    for _ in range(2):
        start = time_module.perf_counter()
        for _ in range(number):
            g(*args)
        best = min(best, (time_module.perf_counter() - start) / number)
    return best


def _seconds(t: float | None) -> str:
    if t is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def _show(v: Any) -> str:
    """A result with every digit (the digits are the point of a comparison)."""
    if isinstance(v, tuple | list):
        return "(" + ", ".join(_show(x) for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, np.ndarray) and v.ndim:
        if v.size > 6:
            return f"{'×'.join(map(str, v.shape))} {v.dtype} array"
        return "[" + ", ".join(repr(float(x) + 0.0) for x in v.ravel()) + "]"
    if isinstance(v, float | np.floating | np.ndarray):
        return repr(float(v) + 0.0)
    return str(v)
