"""Workload A: scalar reverse mode, trace + backward, in µs per primitive operation.

Two straight-line scalar programs of N primitive operations, differentiated
with respect to both inputs by every engine, and by two baselines written by
hand: a reverse sweep over Python lists (the limit a tracing engine can only
approach) and a bare dual-number class (forward mode, for calibrating the
machine: the same Python, no engine).

    A1:  z = (z*x - y)/y + x                        4 operations, repeated N/4 times
    A2:  d = z*x + tanh(z*y);  z = (d - x)/exp(sin(d))   8 operations, repeated N/8 times
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

from measure import Results, Row, best_of, installed, sci

Program = Callable[[Any, Any, int, tuple], Any]
Grads = tuple[float, float | None]

DEFAULT_N = (10**3, 10**4, 10**5, 10**6)
QUICK_N = (10**3, 10**4)
TARGET_US = 1.5  # µs/op for adlab at N = 1e4, and no worse than 2x that at 1e6
REFERENCE_US = {  # the figures at N = 1e4, measured once on this kind of machine
    "micrograd": 3.4,
    "torch": 7.4,
    "autograd": 27.0,
    "hand-written reverse": 0.052,
    "bare dual (∂/∂x only)": 0.205,
}
SLOW_RUN_S = 60.0  # at N = 1e6, skip a peer whose one run would take longer than this,
SLOW_ROUNDS_S = 30.0  # and time it in one round only if its rounds would take longer than this


def program_1(x: Any, y: Any, reps: int, fns: tuple) -> Any:
    z = x
    for _ in range(reps):
        z = (z * x - y) / y + x
    return z


def program_2(x: Any, y: Any, reps: int, fns: tuple) -> Any:
    tanh, exp, sin = fns
    z = x
    for _ in range(reps):
        d = z * x + tanh(z * y)
        z = (d - x) / exp(sin(d))
    return z


# name -> (program, primitive operations per repetition, x, y).
# A2 at x=0.9, y=1.1 (A1's inputs) is chaotic: its gradient overflows to inf
# within ~1e3 repetitions. At x=0.3, y=0.5 it settles on an attracting fixed point,
# so values and gradients stay finite (|.| < 40) for every N.
PROGRAMS: dict[str, tuple[Program, int, float, float]] = {
    "A1": (program_1, 4, 0.9, 1.1),
    "A2": (program_2, 8, 0.3, 0.5),
}

# ---------------------------------------------------------------------------
# The baselines, by hand


def hand_reverse_1(x: float, y: float, reps: int) -> Grads:
    """A1's gradient: the forward loop keeps z and c = (z*x - y)/y, the reverse loop
    applies the chain rule to them, last repetition first."""
    zs, cs = [], []
    z = x
    for _ in range(reps):
        zs.append(z)
        c = (z * x - y) / y
        cs.append(c)
        z = c + x
    z_bar, x_bar, y_bar = 1.0, 0.0, 0.0
    for z, c in zip(reversed(zs), reversed(cs)):
        x_bar += z_bar  # z' = c + x
        b_bar = z_bar / y  # c = b / y
        y_bar -= b_bar * c + b_bar  # ∂c/∂y = -c/y; b = a - y
        x_bar += b_bar * z  # a = z * x
        z_bar = b_bar * x
    return x_bar + z_bar, y_bar  # the first z is x itself


def hand_reverse_2(x: float, y: float, reps: int) -> Grads:
    """A2's gradient: the forward loop keeps z, t = tanh(z*y), d and e = exp(sin(d))."""
    zs, ts, ds, es = [], [], [], []
    z = x
    for _ in range(reps):
        zs.append(z)
        t = math.tanh(z * y)
        ts.append(t)
        d = z * x + t
        ds.append(d)
        e = math.exp(math.sin(d))
        es.append(e)
        z = (d - x) / e
    z_bar, x_bar, y_bar = 1.0, 0.0, 0.0
    for i in range(reps - 1, -1, -1):
        z, t, d, e = zs[i], ts[i], ds[i], es[i]
        n_bar = z_bar / e  # z' = n / e with n = d - x, e = exp(sin(d))
        d_bar = n_bar - n_bar * (d - x) * math.cos(d)  # ∂z'/∂d through n and through e
        x_bar -= n_bar
        b_bar = d_bar * (1.0 - t * t)  # d = z*x + tanh(b),  b = z*y
        x_bar += d_bar * z
        y_bar += b_bar * z
        z_bar = d_bar * x + b_bar * y
    return x_bar + z_bar, y_bar


HAND_REVERSE = {program_1: hand_reverse_1, program_2: hand_reverse_2}


class Dual:
    """A bare forward-mode dual number: just enough for workload A (Dual op Dual)."""

    __slots__ = ("dot", "val")

    def __init__(self, val: float, dot: float) -> None:
        self.val, self.dot = val, dot

    def __add__(self, o: Dual) -> Dual:
        return Dual(self.val + o.val, self.dot + o.dot)

    def __sub__(self, o: Dual) -> Dual:
        return Dual(self.val - o.val, self.dot - o.dot)

    def __mul__(self, o: Dual) -> Dual:
        return Dual(self.val * o.val, self.dot * o.val + self.val * o.dot)

    def __truediv__(self, o: Dual) -> Dual:
        q = self.val / o.val
        return Dual(q, (self.dot - q * o.dot) / o.val)


def dual_tanh(u: Dual) -> Dual:
    t = math.tanh(u.val)
    return Dual(t, (1.0 - t * t) * u.dot)


def dual_exp(u: Dual) -> Dual:
    e = math.exp(u.val)
    return Dual(e, e * u.dot)


def dual_sin(u: Dual) -> Dual:
    return Dual(math.sin(u.val), math.cos(u.val) * u.dot)


# ---------------------------------------------------------------------------
# One case per engine: a function of no arguments returning (∂z/∂x, ∂z/∂y)


def adlab_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    import adlab as ad

    fns = (ad.tanh, ad.exp, ad.sin)
    grad_f = ad.grad(lambda x, y: program(x, y, reps, fns), argnums=(0, 1))
    return lambda: grad_f(x, y)


def hand_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    hand = HAND_REVERSE[program]
    return lambda: hand(x, y, reps)


def dual_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    fns = (dual_tanh, dual_exp, dual_sin)
    return lambda: (program(Dual(x, 1.0), Dual(y, 0.0), reps, fns).dot, None)


def micrograd_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    from micrograd.engine import Value

    fns = micrograd_functions()

    def run() -> Grads:
        xv, yv = Value(x), Value(y)
        program(xv, yv, reps, fns).backward()
        return xv.grad, yv.grad

    return run


def micrograd_functions() -> tuple[Callable, Callable, Callable]:
    """tanh, exp and sin for micrograd's Value, written the way micrograd writes relu
    (micrograd itself has none of them)."""
    from micrograd.engine import Value

    def unary(name: str, fn: Callable, partial: Callable) -> Callable:
        def op(v: Value) -> Value:
            out = Value(fn(v.data), (v,), name)

            def _backward() -> None:
                v.grad += partial(v.data, out.data) * out.grad

            out._backward = _backward
            return out

        return op

    return (
        unary("tanh", math.tanh, lambda x, out: 1.0 - out * out),
        unary("exp", math.exp, lambda x, out: out),
        unary("sin", math.sin, lambda x, out: math.cos(x)),
    )


def torch_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    import torch

    fns = (torch.tanh, torch.exp, torch.sin)

    def run() -> Grads:
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        yt = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        x_bar, y_bar = torch.autograd.grad(program(xt, yt, reps, fns), (xt, yt))
        return x_bar.item(), y_bar.item()

    return run


def autograd_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    import autograd
    import autograd.numpy as anp

    fns = (anp.tanh, anp.exp, anp.sin)
    grad_f = autograd.grad(lambda x, y: program(x, y, reps, fns), argnum=(0, 1))

    def run() -> Grads:
        x_bar, y_bar = grad_f(x, y)
        return float(x_bar), float(y_bar)

    return run


def forward_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    """adlab's forward mode, one pass for ∂/∂x (y is a dual with a zero tangent, as in the
    bare dual): the same work as the bare dual class, through the table's rules."""
    import adlab as ad
    from adlab.engines import forward

    fns = (ad.tanh, ad.exp, ad.sin)

    def run() -> Grads:
        _, (x_dot,) = forward.jvp(lambda x, y: (program(x, y, reps, fns),), (x, y), (1.0, 0.0))
        return x_dot, None

    return run


FORWARD_TARGET_US = 0.4  # µs/op for adlab's forward mode at N = 1e4
SCT_TARGET_US = 0.15  # µs/op for the sct engine's generated code at N = 1e4
SCT_TRANSFORM_S: dict[str, float] = {}  # program -> seconds to generate its derivative code


def sct_case(program: Program, x: float, y: float, reps: int) -> Callable[[], Grads]:
    """adlab's source transformation: the derivative code is generated once, off the clock
    (its cost is a note under the table), and the generated code is timed."""
    import time

    import adlab as ad

    start = time.perf_counter()
    grad_f = ad.sct.grad(_sct_programs(ad)[program.__name__], argnums=(0, 1))
    SCT_TRANSFORM_S.setdefault(program.__name__, time.perf_counter() - start)
    return lambda: grad_f(x, y, reps)


def _sct_programs(ad: Any) -> dict[str, Callable[[Any, Any, int], Any]]:
    """A1 and A2 as sct reads them: it transforms source, so A2 names the table's tanh,
    exp and sin instead of receiving them as arguments."""

    def program_1(x: Any, y: Any, reps: int) -> Any:
        z = x
        for _ in range(reps):
            z = (z * x - y) / y + x
        return z

    def program_2(x: Any, y: Any, reps: int) -> Any:
        z = x
        for _ in range(reps):
            d = z * x + ad.tanh(z * y)
            z = (d - x) / ad.exp(ad.sin(d))
        return z

    return {"program_1": program_1, "program_2": program_2}


ENGINES: dict[str, Callable[..., Callable[[], Grads]]] = {
    "adlab": adlab_case,
    "adlab sct": sct_case,
    "adlab forward (∂/∂x only)": forward_case,
    "hand-written reverse": hand_case,
    "bare dual (∂/∂x only)": dual_case,
    "micrograd": micrograd_case,
    "torch": torch_case,
    "autograd": autograd_case,
}
ALWAYS_AT_1E6 = (
    "adlab", "adlab sct", "adlab forward (∂/∂x only)", "hand-written reverse",
    "bare dual (∂/∂x only)",
)  # fmt: skip

# ---------------------------------------------------------------------------
# micrograd's recursion


def micrograd_recursion(program: Program, x: float, y: float, ops: int, sizes: tuple) -> str:
    """At the default recursion limit, the smallest N of ``sizes`` at which micrograd's
    recursive topological sort fails, and the largest N (found by bisection) that works."""

    def run(n: int) -> None:
        micrograd_case(program, x, y, max(1, n // ops))()

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default
    try:
        for n in sizes:
            try:
                run(n)
            except RecursionError as error:
                first_failure, message = n, str(error)
                break
        else:
            return f"no RecursionError up to N={sci(sizes[-1])} at the default limit 1000"
        works, fails = 0, first_failure  # bisect on whole repetitions
        while fails - works > ops:
            mid = (works + fails) // 2 // ops * ops
            try:
                run(mid)
                works = mid
            except RecursionError:
                fails = mid
    finally:
        sys.setrecursionlimit(limit)
    return (
        f"RecursionError ({message!r}) from N={sci(first_failure)} on at the default limit "
        f"1000 (works up to N≈{works}); timed with the limit raised"
    )


# ---------------------------------------------------------------------------
# The workload


def run(results: Results, sizes: tuple[int, ...], quick: bool, log: Callable) -> None:
    """Time every installed engine on A1 and A2 at each N, add the rows and notes."""
    engines = {k: v for k, v in ENGINES.items() if k not in ("micrograd", "torch", "autograd")}
    engines |= {k: ENGINES[k] for k in ("micrograd", "torch", "autograd") if installed(k)}
    if "micrograd" in engines:
        # micrograd's backward() recurses once per node: give it room for N = 1e6
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * max(sizes) + 10_000))
    facts = results.facts.setdefault("A", {"inputs": {}, "calibration": {}})
    for name, (program, ops, x, y) in PROGRAMS.items():
        facts["inputs"][name] = {"x": x, "y": y}
        if "micrograd" in engines:
            note = micrograd_recursion(program, x, y, ops, sizes)
            results.notes.append(f"{name}: micrograd: {note}")
        previous: dict[str, float] = {}  # seconds per op at the previous N
        for n in sizes:
            reps = n // ops
            rounds = _rounds(n, quick)
            cases, once = {}, set()
            for engine, make in engines.items():
                estimate = previous.get(engine, 0.0) * n  # seconds for one run
                if n >= 10**6 and engine not in ALWAYS_AT_1E6:
                    if estimate > SLOW_RUN_S:
                        results.notes.append(
                            f"{name} N={sci(n)}: {engine} skipped: one run would take "
                            f"~{estimate:.0f} s (> {SLOW_RUN_S:.0f} s)"
                        )
                        continue
                    if estimate * rounds > SLOW_ROUNDS_S:
                        once.add(engine)
                        results.notes.append(f"{name} N={sci(n)}: {engine} timed in one round")
                cases[engine] = make(program, x, y, reps)
            log(f"A: {name} N={sci(n)}: {rounds} rounds of {', '.join(cases)}")
            min_time = 0.0 if n >= (10**4 if quick else 10**5) else 0.02
            best, grads = best_of(cases, rounds, min_time, frozenset(once))
            per_op = {k: t / (reps * ops) for k, t in best.items()}
            previous = per_op
            _check(results, f"{name} N={sci(n)}", grads)
            _add_rows(results, facts, name, n, per_op)
        if program.__name__ in SCT_TRANSFORM_S:
            ms = SCT_TRANSFORM_S[program.__name__] * 1e3
            results.notes.append(f"{name}: adlab sct generated its derivative code once, in "
                                 f"{ms:.0f} ms (not in the times above)")  # fmt: skip


def _rounds(n: int, quick: bool) -> int:
    if quick:
        return 3
    return {10**3: 15, 10**4: 9, 10**5: 5}.get(n, 3)


def _check(results: Results, where: str, grads: dict[str, Grads]) -> None:
    """Every engine's gradient must agree with the hand-written sweep."""
    ref = grads["hand-written reverse"]
    if not all(math.isfinite(g) for g in ref):
        results.notes.append(f"{where}: the gradient is not finite: {ref}")
    for engine, g in grads.items():
        err = max(
            abs(a - b) / max(1.0, abs(b)) for a, b in zip(g, ref) if a is not None
        )  # fmt: skip
        if not err <= 1e-8:
            results.notes.append(f"{where}: {engine}'s gradient {g} differs from {ref}")


def _add_rows(results: Results, facts: dict, name: str, n: int, per_op: dict) -> None:
    mg = per_op.get("micrograd")
    dual = per_op["bare dual (∂/∂x only)"]
    hand = per_op["hand-written reverse"]
    if name == "A1" and n == 10**4:  # the conditions of the reference figures
        facts["calibration"] = {"dual": dual / (REFERENCE_US["bare dual (∂/∂x only)"] * 1e-6)}
        if mg is not None:
            facts["calibration"]["micrograd"] = mg / (REFERENCE_US["micrograd"] * 1e-6)
    for engine, t in per_op.items():
        row = Row(name, f"N={sci(n)}", engine, t, "op", x_dual=t / dual, x_base=t / hand)
        if mg is not None:
            row.x_micrograd = t / mg
        if name == "A1" and n == 10**4:
            row.ref = REFERENCE_US.get(engine)
        if engine == "adlab":
            _target(row, n, results, facts)
        for case, target in (("adlab sct", SCT_TARGET_US), ("adlab forward (∂/∂x only)",
                                                              FORWARD_TARGET_US)):  # fmt: skip
            if engine == case and n == 10**4:
                row.target = f"≤{target:.2f}"
                row.met = "yes" if t * 1e6 <= target else "no"
        results.rows.append(row)


def _target(row: Row, n: int, results: Results, facts: dict) -> None:
    """The target for adlab's row, nominal and scaled by the machine's speed today."""
    if n not in (10**4, 10**6):
        return
    limit = TARGET_US if n == 10**4 else 2 * TARGET_US
    cal = facts.get("calibration", {})
    limits = [limit] + [limit * cal[k] for k in ("dual", "micrograd") if k in cal]
    us = row.seconds * 1e6
    row.target = f"≤{limit:.2f}" + "".join(f" ≡{v:.2f}" for v in limits[1:])
    row.met = "/".join("yes" if us <= v else "no" for v in limits)
    if n == 10**6:
        key = (row.workload, "N=1e4", "adlab")
        at_1e4 = [r for r in results.rows if (r.workload, r.case, r.engine) == key]
        if at_1e4:
            growth = row.seconds / at_1e4[0].seconds
            row.target += " & ≤2×@1e4"
            row.met += f" & {'yes' if growth <= 2 else 'no'} ({growth:.1f}×)"
