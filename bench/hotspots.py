"""Where adlab spends its time on each workload: ``python bench/hotspots.py [A] [B] [C]``.

Runs adlab alone on each workload under cProfile and prints the functions with
the most own time (file:function, share of the profiled total), then the
share of each adlab file and of everything outside adlab (numpy, builtins).
cProfile charges a fixed cost to every Python call, so it overstates small
functions on the scalar workload A; use the shares to rank, the suite to time.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scenarios() -> dict[str, list[tuple[str, Callable[[], object]]]]:
    """Per workload, named runs of adlab: (description, function of no arguments)."""
    import cheap_gradient
    import mlp_step
    import numpy as np
    import scalar_programs

    a = []
    for name, (program, ops, x, y) in scalar_programs.PROGRAMS.items():
        case = scalar_programs.adlab_case(program, x, y, 10**5 // ops)
        a.append((f"{name}, N=1e5, one trace + backward", case))
    b = []
    for dtype in (np.float64, np.float32):
        params, x, y = mlp_step.problem(dtype)
        step = mlp_step.adlab_case(params, x, y)
        b.append((f"{np.dtype(dtype).name}, 20 steps", _repeat(step, 20)))
    c = []
    for n, calls in ((10, 5000), (10**5, 50)):
        _, grad_f = cheap_gradient.adlab_pair(np.linspace(-2.0, 2.0, n))
        c.append((f"n={n}, {calls} calls of grad f", _repeat(grad_f, calls)))
    return {"A": a, "B": b, "C": c}


def _repeat(fn: Callable[[], object], times: int) -> Callable[[], None]:
    def repeated() -> None:
        for _ in range(times):
            fn()

    return repeated


def profile(fn: Callable[[], object], top: int) -> list[str]:
    fn()  # warm up: imports, caches
    profiler = cProfile.Profile(time.process_time)  # CPU time: a busy machine does not count
    profiler.runcall(fn)
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, _)
    total = sum(v[2] for v in stats.values())
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])
    lines = [f"  profiled total {total:.3f} s; top {top} by own time:"]
    lines.append(f"  {'share':>6} {'own s':>7} {'cum s':>7} {'calls':>9}  function")
    for (file, line, name), (_, calls, own, cum, _) in rows[:top]:
        where = f"{_short(file)}:{line}:{name}" if line else name
        lines.append(f"  {own / total:6.1%} {own:7.3f} {cum:7.3f} {calls:9d}  {where}")
    by_file: dict[str, float] = {}
    for (file, _, _), v in stats.items():
        key = _short(file) if _short(file).startswith("adlab/") else "outside adlab"
        by_file[key] = by_file.get(key, 0.0) + v[2]
    shares = sorted(by_file.items(), key=lambda kv: -kv[1])
    lines.append("  own time by file: " + ", ".join(f"{k} {v / total:.0%}" for k, v in shares))
    return lines


def _short(file: str) -> str:
    if file.startswith(ROOT):
        return os.path.relpath(file, ROOT)
    if "site-packages" in file:
        return file.split("site-packages" + os.sep, 1)[1]
    return file


def main(argv: list[str]) -> int:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # as in run.py; read when numpy loads
    chosen = [a.upper() for a in argv] or ["A", "B", "C"]
    for workload, runs in scenarios().items():
        if workload not in chosen:
            continue
        for description, fn in runs:
            print(f"{workload}: {description}")
            print("\n".join(profile(fn, top=15)))
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
