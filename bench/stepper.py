"""The Stepper at the size of real code: build time and saved widget state per step.

    python bench/stepper.py            # 10 ... 5,000 operations
    python bench/stepper.py 1000       # one size

For each size, a loop of ``tanh`` layers is traced (``ops`` operations) and a Stepper
built from it (no kernel: the time is Python's, the comm messages of a live kernel add
a little). Reported: the steps of the three sweeps, the build time (best of 3, CPU
time), the widget models and their saved state in bytes (what a notebook stores), and
bytes per step. Targets (issue 16): state linear in the steps, at most 30 KB per step;
a 1,000-operation trace builds in at most 2 s.
"""

from __future__ import annotations

import json
import sys
import time

import ipywidgets as widgets

import adlab as ad
from adlab.notebook.widgets import Stepper


def program(ops: int):
    def net(x):
        for _ in range(max(ops // 6, 1)):  # six operations per layer
            h = ad.tanh(x * 0.9 + 0.1)
            x = h * 1.1 - x * 0.05
        return x

    return net


def state_bytes(root: widgets.Widget) -> tuple[int, int]:
    """The saved state of ``root`` and every widget it refers to: (bytes, models)."""
    seen: dict[str, int] = {}
    stack = [root]
    while stack:
        w = stack.pop()
        if w.model_id in seen:
            continue
        seen[w.model_id] = len(json.dumps(w.get_state(), default=str))
        stack += [v for v in w._trait_values.values() if isinstance(v, widgets.Widget)]
        stack += list(getattr(w, "children", ()))
    return sum(seen.values()), len(seen)


def measure(ops: int) -> dict:
    trace = ad.trace(program(ops), 0.5)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        stepper = Stepper(trace)
        best = min(best, time.process_time() - start)
        if best > 20:  # one round is enough to tell
            break
    steps = sum(len(v) for v in stepper.board.steps.values())
    size, models = state_bytes(stepper)
    return {"ops": len(trace.operations), "steps": steps, "build_s": best, "models": models,
            "state_bytes": size, "bytes_per_step": size / steps,
            "picture_bytes": len(stepper.board.picture)}  # fmt: skip


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [10, 100, 200, 1000, 5000]
    print(f"{'ops':>6} {'steps':>6} {'build':>8} {'models':>7} {'state':>9} {'per step':>9}")
    for n in sizes:
        r = measure(n)
        print(f"{r['ops']:>6} {r['steps']:>6} {r['build_s']:>7.2f}s {r['models']:>7} "
              f"{r['state_bytes'] / 1e6:>7.2f}MB {r['bytes_per_step'] / 1e3:>7.2f}KB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
