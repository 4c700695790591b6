"""Workload D: what the API adds on top of its engines, as ratios measured in one run.

    D1  ad.grad(f, mode="forward")  /  one ad.jvp pass           f of 1 input, N = 1e4 ops
    D2  ad.grad(f, mode="forward")  /  ad.grad(f) (reverse)       f of 2 inputs, N = 1e4 ops
    D3  ad.grad(g, argnums=(0, 1))  /  g itself                   g: 12 scalar operations

f is workload A's program A1 (``z = (z*x - y)/y + x``, repeated); in D1 its second
input is a constant it closes over. Forward mode needs one pass per input direction,
so D1 should be about 1 and D2 about 2 passes against 1 trace + 1 sweep. g is a
small function of two floats, where the per-call cost of the API dominates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from measure import Results, Row, best_of, sci
from scalar_programs import program_1

N = 10**4
OPS = 4  # primitive operations per repetition of A1
X, Y = 0.9, 1.1
TARGETS = {"D1": 1.5, "D2": 3.0, "D3": 50.0}


def small(x: Any, y: Any) -> Any:
    """Twelve primitive operations of two scalars."""
    a = x * x
    b = y * y
    c = a * y + 1.0 / (a + b + 1.0)
    return c - (x - y) * (a - b) / (b + 2.0)


def _cases() -> dict[str, tuple[dict[str, Callable[[], Any]], str, str]]:
    """Per figure: its cases, and which case is divided by which."""
    import adlab as ad

    reps = N // OPS

    def one_input(x: Any) -> Any:
        return program_1(x, Y, reps, ())

    def two_inputs(x: Any, y: Any) -> Any:
        return program_1(x, y, reps, ())

    grad_forward_1 = ad.grad(one_input, mode="forward")
    grad_forward_2 = ad.grad(two_inputs, argnums=(0, 1), mode="forward")
    grad_reverse_2 = ad.grad(two_inputs, argnums=(0, 1))
    grad_small = ad.grad(small, argnums=(0, 1))
    return {
        "D1": (
            {
                "ad.grad(f, mode='forward')": lambda: grad_forward_1(X),
                "ad.jvp(f, (x,), (1.0,))": lambda: ad.jvp(one_input, (X,), (1.0,))[1],
            },
            "ad.grad(f, mode='forward')",
            "ad.jvp(f, (x,), (1.0,))",
        ),
        "D2": (
            {
                "forward grad": lambda: grad_forward_2(X, Y),
                "reverse grad": lambda: grad_reverse_2(X, Y),
            },
            "forward grad",
            "reverse grad",
        ),
        "D3": (
            {
                "ad.grad(g, argnums=(0, 1))": lambda: grad_small(X, Y),
                "g itself": lambda: small(X, Y),
            },
            "ad.grad(g, argnums=(0, 1))",
            "g itself",
        ),
    }


def run(results: Results, quick: bool, log: Callable) -> None:
    """Time each figure's two cases in interleaved rounds; add a row per case."""
    facts = results.facts.setdefault("D", {})
    for figure, (cases, top, bottom) in _cases().items():
        log(f"D: {figure}: {', '.join(cases)}")
        best, out = best_of(cases, rounds=3 if quick else 9, min_time=0.003 if quick else 0.02)
        _check(results, figure, out)
        ratio = best[top] / best[bottom]
        facts[figure] = {**best, "ratio": ratio}
        case = f"N={sci(N)}" if figure != "D3" else "12 ops"
        unit = "op" if figure != "D3" else "call"
        for engine, t in best.items():
            per = t / N if unit == "op" else t
            row = Row(figure, case, engine, per, unit)
            if engine == top:
                row.x_base = ratio
                row.target = f"≤{TARGETS[figure]:g}× {bottom}"
                row.met = "yes" if ratio <= TARGETS[figure] else "no"
            results.rows.append(row)


def _check(results: Results, figure: str, out: dict[str, Any]) -> None:
    """The two cases of D1 and D2 compute the same derivative."""
    if figure == "D3":
        return
    a, b = out.values()
    flat_a = a if isinstance(a, tuple) else (a,)
    flat_b = b if isinstance(b, tuple) else (b,)
    for u, v in zip(flat_a, flat_b):
        if not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12):
            results.notes.append(f"{figure}: the cases disagree: {a} vs {b}")
