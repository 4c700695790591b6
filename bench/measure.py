"""How the benchmarks measure, and what one measurement becomes: a row of the table.

Timings on a shared machine drift by up to 2x from one minute to the next, so
every comparison here is made *within one run*: the cases of one comparison are
timed in rounds, each round running every case once (in a rotating order), and
each case keeps its best round. A slow spell then hits all cases alike instead
of whichever one happened to be running.

The clock is the process's CPU time by default: time spent waiting while other
processes have the CPU is not counted. That is right for single-threaded
work; with several BLAS/torch threads CPU time adds up over threads, so the
wall clock must be used instead (``use_clock("wall")``).
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # measure the adlab of this checkout, not whichever one is installed

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
_clock = CLOCKS["cpu"]

PEERS = ("micrograd", "autograd", "torch")
"""The other AD libraries compared with, each used only if installed."""


def use_clock(name: str) -> None:
    """Time with the process's CPU time (``"cpu"``) or the wall clock (``"wall"``)."""
    global _clock
    _clock = CLOCKS[name]


def installed(name: str) -> bool:
    """Whether the package ``name`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or blocked installation
        return False


def version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(name)
    except PackageNotFoundError:
        return "?"


def sci(n: int) -> str:
    """``10000`` as ``1e4``: sizes as the issue writes them."""
    mantissa, exponent = f"{n:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if n >= 1000 else str(n)


@dataclass
class Row:
    """One line of the result table: a time per unit and its ratios to the references."""

    workload: str  # "A1", "A2", "B", "C", "D1" ...
    case: str  # "N=1e4", "float32", "n=100"
    engine: str
    seconds: float  # per `unit`
    unit: str  # "op", "step", "call"
    x_micrograd: float | None = None  # ratio to micrograd in the same run (workload A)
    x_dual: float | None = None  # ratio to the bare dual number class (workload A)
    x_base: float | None = None  # ratio to the workload's baseline (see `BASELINES`)
    ref: float | None = None  # the reference figure, same unit, where it gives one
    target: str = ""
    met: str = ""


BASELINES = {
    "A": "hand-written reverse sweep (same N)",
    "B": "hand-written numpy forward + backward (same dtype)",
    "C": "f itself, in the same engine (so × base = time(grad f) / time(f))",
    "D": "the figure's second case (so × base = the figure's ratio)",
}


@dataclass
class Results:
    """Everything one run of the suite produced: rows for the table, notes under it."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # for --json: inputs, checks

    def to_json(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows], "notes": self.notes, **self.facts}


def time_calls(fn: Callable[[], Any], number: int) -> tuple[float, Any]:
    """Seconds per call of ``fn`` over ``number`` back-to-back calls, and the last result.

    Leftover garbage of earlier cases is collected first, outside the clock, so
    a case pays for the collections its own allocations trigger and no others.
    """
    gc.collect()
    clock = _clock
    start = clock()
    for _ in range(number):
        out = fn()
    return (clock() - start) / number, out


def best_of(
    cases: dict[str, Callable[[], Any]],
    rounds: int,
    min_time: float = 0.0,
    once: frozenset[str] = frozenset(),
) -> tuple[dict[str, float], dict[str, Any]]:
    """Best seconds per call of each case over ``rounds`` interleaved rounds, and each
    case's result (for correctness checks: nothing runs more often than it is timed).

    Within a round every case runs once or, when ``min_time`` is given, as many
    times as fill ``min_time`` seconds (counted after a warm-up call); the order
    rotates from round to round. Cases named in ``once`` (slow ones) take part
    in the first round only.
    """
    names = list(cases)
    number = {name: _calls_filling(cases[name], min_time) if min_time else 1 for name in names}
    best = dict.fromkeys(names, float("inf"))
    results: dict[str, Any] = {}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if r and name in once:
                continue
            t, results[name] = time_calls(cases[name], number[name])
            best[name] = min(best[name], t)
    return best, results


def _calls_filling(fn: Callable[[], Any], min_time: float) -> int:
    """The number of back-to-back calls of ``fn`` that take ``min_time`` (as timeit's autorange)."""
    fn()  # the first call may pay for lazy initialisation
    number = 1
    while True:
        t, _ = time_calls(fn, number)
        if t * number >= min_time:
            return number
        number = max(number * 2, int(1.2 * min_time / max(t, 1e-9)))
