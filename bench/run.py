"""adlab's benchmarks: ``python bench/run.py [--quick] [--only A|B|C|D] [--json PATH]``.

Runs the workloads (A: scalar reverse mode, B: an MLP training step, C: the
cost of a gradient relative to its function, D: what the API adds to its
engines) against whichever of micrograd,
autograd and torch are installed and against code written by hand, and prints
one table whose ratios all come from this run. See bench/README.md.

numpy's BLAS and torch run on ``--threads`` threads (default 1): on a shared
machine, idle-spinning BLAS threads that compete with other processes make
step times vary tenfold; one thread each keeps the comparison about the engines.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import subprocess
import sys
import time

from measure import BASELINES, PEERS, Results, Row, installed, use_clock, version

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

COLUMNS = ("workload", "case", "engine", "time", "× micrograd", "× dual", "× base", "ref",
           "target", "met")  # fmt: skip
UNITS = {"op": ("µs/op", 1e6), "step": ("ms/step", 1e3), "call": ("µs/call", 1e6)}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    for var in THREAD_VARIABLES:  # read when numpy and torch load, so before that
        os.environ[var] = str(args.threads)
    import api_overhead
    import cheap_gradient
    import mlp_step
    import scalar_programs

    for peer in PEERS:  # imported up front, so no case pays for an import
        if installed(peer):
            importlib.import_module(peer)
    # Everything imported so far is left out of the garbage collector's walks: a
    # collection then costs the same whichever peers are installed.
    gc.collect()
    gc.freeze()
    if args.no_gc:
        gc.disable()
    clock = args.clock or ("cpu" if args.threads == 1 else "wall")
    use_clock(clock)
    workloads = sorted(set(args.only or "ABCD"))
    results = Results()
    results.facts["adlab"] = _revision()  # the code imported above, before anyone commits
    results.facts["settings"] = {
        "quick": args.quick,
        "only": workloads,
        "gc": not args.no_gc,
        "clock": clock,
        "threads": args.threads,
    }
    started = time.perf_counter()
    if "A" in workloads:
        sizes = scalar_programs.QUICK_N if args.quick else scalar_programs.DEFAULT_N
        scalar_programs.run(results, sizes, args.quick, _log)
    if "B" in workloads:
        mlp_step.run(results, args.quick, _log)
    if "C" in workloads:
        sizes = cheap_gradient.QUICK_N if args.quick else cheap_gradient.DEFAULT_N
        cheap_gradient.run(results, sizes, args.quick, _log)
    if "D" in workloads:
        api_overhead.run(results, args.quick, _log)
    results.facts["seconds"] = round(time.perf_counter() - started, 1)
    print(report(results, workloads))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results.to_json(), fh, indent=1, ensure_ascii=False)
            fh.write("\n")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (< 1 min)")
    parser.add_argument(
        "--only", action="append", choices="ABCD", help="run only this workload (repeatable)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads for numpy's BLAS and torch (default 1)"
    )
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        help="cpu: the process's CPU time (default with one thread), wall: elapsed time",
    )
    parser.add_argument(
        "--no-gc", action="store_true", help="turn Python's cyclic garbage collector off"
    )
    return parser.parse_args(argv)


_START = time.perf_counter()


def _revision() -> str:
    """The commit of the adlab being measured, and whether its files differ from it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True)
        if done.returncode:
            raise OSError(done.stderr)
        return done.stdout.strip()

    try:
        commit, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "adlab")
    except OSError:
        return "unknown revision"
    return f"commit {commit}" + (" + uncommitted changes in adlab/" if dirty else "")


def _log(message: str) -> None:
    print(f"  {time.perf_counter() - _START:5.0f} s  {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The report


def report(results: Results, workloads: list[str]) -> str:
    """The header, the one table, and the notes under it."""
    import numpy as np

    settings = results.facts["settings"]
    peers = [f"{p} {version(p)}" for p in PEERS if installed(p)]
    missing = [p for p in PEERS if not installed(p)]
    lines = [
        f"adlab benchmarks ({results.facts['adlab']}) — Python {platform.python_version()}, "
        f"numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, {settings['threads']} BLAS/torch thread(s), {settings['clock']} "
        f"clock, garbage collector {'on' if settings['gc'] else 'off'}, "
        f"{'quick, ' if settings['quick'] else ''}"
        f"{results.facts['seconds']:.0f} s",
        f"peers: {', '.join(peers) or 'none'}"
        + (f"; not installed, skipped: {', '.join(missing)}" if missing else ""),
        "",
        *table(results.rows),
        "",
        "× base = ratio to the baseline of the workload, measured in the same run:",
        *[f"  {w}: {BASELINES[w]}" for w in workloads],
    ]
    if "A" in workloads:
        lines += _notes_a(results)
    if results.notes:
        lines += ["notes:", *[f"  {note}" for note in results.notes]]
    return "\n".join(lines)


def table(rows: list[Row]) -> list[str]:
    cells = [COLUMNS] + [_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    numeric = {3, 4, 5, 6, 7}
    out = []
    for k, c in enumerate(cells):
        out.append("  ".join(s.rjust(w) if i in numeric else s.ljust(w)
                             for i, (s, w) in enumerate(zip(c, widths))).rstrip())  # fmt: skip
        if k == 0 or (k < len(rows) and rows[k - 1].workload != rows[k].workload):
            out.append("-" * len(out[0]))
    return out


def _cells(r: Row) -> tuple[str, ...]:
    unit, scale = UNITS[r.unit]
    return (
        r.workload,
        r.case,
        r.engine,
        f"{_num(r.seconds * scale)} {unit}",
        _ratio(r.x_micrograd),
        _ratio(r.x_dual),
        _ratio(r.x_base),
        "" if r.ref is None else _num(r.ref),
        r.target,
        r.met,
    )


def _num(v: float) -> str:
    return f"{v:.3g}" if v < 1000 else f"{v:.0f}"


def _ratio(v: float | None) -> str:
    return "" if v is None else f"{v:.3g}×" if v < 1000 else f"{v:.0f}×"


def _notes_a(results: Results) -> list[str]:
    a = results.facts["A"]
    inputs = ", ".join(f"{k}: x={v['x']}, y={v['y']}" for k, v in a["inputs"].items())
    lines = [
        f"A: inputs {inputs}; µs per primitive operation (4 per repetition in A1, 8 in A2).",
        "A: target for adlab: ≤1.5 µs/op at N=1e4, ≤2× that at 1e6. 'ref' = the issue's "
        "figures at 1e4, measured once on this kind of machine.",
    ]
    cal = a["calibration"]
    if cal:
        eq = ", ".join(
            f"{k} calibration: machine at {v:.2f}× the reference → 1.5 µs ≡ {1.5 * v:.2f} µs"
            for k, v in cal.items()
        )
        legend = "/".join(["nominal", *cal])
        lines.append(f"A: target-equivalents (A1, N=1e4): {eq}. 'met' = {legend}.")
    return lines


if __name__ == "__main__":
    sys.exit(main())
