"""Workload C: the cost of a gradient relative to the function, time(grad f) / time(f).

    f(x) = sum(sin(x) * x**2)      for numpy arrays x of n = 10 ... 1e5 elements

The "cheap gradient principle" says reverse mode costs a small constant times f.
At large n numpy's loops dominate and the ratio measures the rules; at small n
it measures everything an engine does per call (argument handling, tracing,
the sweep), which f itself does not.

For adlab, f is written with numpy (``np.sin``, ``np.sum``: the protocols route
them to adlab's table) and the *same* f is timed both ways; a second adlab row
writes f with ``ad.sin`` / ``ad.sum`` instead. Each peer differentiates f written
with its own operations, and its ratio is to that f.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from measure import Results, Row, best_of, installed, sci

DEFAULT_N = (10, 100, 10**3, 10**4, 10**5)
QUICK_N = (10, 10**3, 10**4)
TARGET = 5.0


def f_numpy(x: Any) -> Any:
    return np.sum(np.sin(x) * x**2)


def true_grad(x: np.ndarray) -> np.ndarray:
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


def adlab_pair(x: np.ndarray) -> tuple[Callable, Callable]:
    import adlab as ad

    grad_f = ad.grad(f_numpy)
    return lambda: f_numpy(x), lambda: grad_f(x)


def adlab_ops_pair(x: np.ndarray) -> tuple[Callable, Callable]:
    import adlab as ad

    def f(x: Any) -> Any:
        return ad.sum(ad.sin(x) * x**2)

    grad_f = ad.grad(f)
    return lambda: f(x), lambda: grad_f(x)


def autograd_pair(x: np.ndarray) -> tuple[Callable, Callable]:
    import autograd
    import autograd.numpy as anp

    def f(x: Any) -> Any:
        return anp.sum(anp.sin(x) * x**2)

    grad_f = autograd.grad(f)
    return lambda: f(x), lambda: grad_f(x)


def torch_pair(x: np.ndarray) -> tuple[Callable, Callable]:
    """f on a tensor, and its gradient by backward() (a fresh leaf each call, as in grad)."""
    import torch

    def f(x: Any) -> Any:
        return torch.sum(torch.sin(x) * x**2)

    tx = torch.tensor(x)

    def grad_f() -> np.ndarray:
        leaf = tx.detach().requires_grad_()
        f(leaf).backward()
        return leaf.grad.numpy()

    def value() -> Any:
        with torch.no_grad():
            return f(tx)

    return value, grad_f


ENGINES = {"adlab": adlab_pair, "adlab (ad.sin, ad.sum)": adlab_ops_pair}
PEERS = {"autograd": autograd_pair, "torch": torch_pair}


def run(results: Results, sizes: tuple[int, ...], quick: bool, log: Callable) -> None:
    """Time f and grad f for every installed engine at each n, interleaved; add the ratios."""
    engines = ENGINES | {k: v for k, v in PEERS.items() if installed(k)}
    rng = np.random.default_rng(0)
    facts = results.facts.setdefault("C", {})
    for n in sizes:
        x = rng.uniform(-2.0, 2.0, n)
        cases = {}
        for engine, make in engines.items():
            f, grad_f = make(x)
            cases[engine, "f"], cases[engine, "grad"] = f, grad_f
        log(f"C: n={sci(n)}: {', '.join(engines)}")
        # many short rounds: on a busy machine a short round more often runs undisturbed
        rounds, min_time = (5, 0.003) if quick else (25, 0.01)
        best, out = best_of(cases, rounds, min_time)
        for engine in engines:
            err = np.max(np.abs(np.asarray(out[engine, "grad"]) - true_grad(x)))
            if not err <= 1e-10 * n:
                results.notes.append(f"C n={sci(n)}: {engine}'s gradient is off by {err:.1e}")
            t = best[engine, "grad"]
            ratio = t / best[engine, "f"]
            facts.setdefault(f"n={n}", {})[engine] = {"f": best[engine, "f"], "grad f": t}
            row = Row("C", f"n={sci(n)}", engine, t, "call", x_base=ratio)
            if engine == "adlab":
                row.target = f"≤{TARGET:g}"
                row.met = "yes" if ratio <= TARGET else "no"
            results.rows.append(row)
