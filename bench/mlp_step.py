"""Workload B: one training step of an MLP, against the same math written by hand in numpy.

784-256-10, batch 256, tanh hidden layer, softmax cross-entropy, plain SGD:

    h = tanh(X @ W1 + b1);  logits = h @ W2 + b2
    loss = mean(logsumexp(logits, axis=1) - sum(Y * logits, axis=1))    (Y one-hot)
    p -= lr * ∂loss/∂p   for p in (W1, b1, W2, b2)

One step = forward + backward + update, in float64 and in float32. Each engine
trains its own copy of the parameters, so the steps of one never touch another's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from measure import Results, Row, best_of, installed

SIZES = (784, 256, 10)
BATCH = 256
LR = 0.01  # small enough that the parameters stay in one numerical regime
TARGET = {"float64": 1.10, "float32": 1.15}  # × hand-written numpy


def problem(dtype: type) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Initial parameters (W1, b1, W2, b2), a batch X and its one-hot labels Y."""
    rng = np.random.default_rng(0)
    n_in, n_hidden, n_out = SIZES
    params = (
        rng.normal(0.0, n_in**-0.5, (n_in, n_hidden)),
        np.zeros(n_hidden),
        rng.normal(0.0, n_hidden**-0.5, (n_hidden, n_out)),
        np.zeros(n_out),
    )
    x = rng.normal(size=(BATCH, n_in))
    y = np.eye(n_out)[rng.integers(0, n_out, BATCH)]
    return tuple(p.astype(dtype) for p in params), x.astype(dtype), y.astype(dtype)


def sgd(params: tuple[np.ndarray, ...], grads: tuple) -> None:
    for p, g in zip(params, grads):
        p -= LR * g


# ---------------------------------------------------------------------------
# By hand: the forward pass keeps what the backward pass needs


def hand_grads(params: tuple, x: np.ndarray, y: np.ndarray) -> tuple:
    w1, b1, w2, b2 = params
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - (y * shifted).sum(axis=1))  # the shift cancels
    logits_bar = (e / s - y) / len(x)
    h_bar = logits_bar @ w2.T
    a_bar = h_bar * (1 - h * h)
    grads = (x.T @ a_bar, a_bar.sum(axis=0), h.T @ logits_bar, logits_bar.sum(axis=0))
    return loss, grads


def hand_case(params: tuple, x: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    def step() -> tuple:
        _, grads = hand_grads(params, x, y)
        sgd(params, grads)
        return grads

    return step


# ---------------------------------------------------------------------------
# The engines


def adlab_case(params: tuple, x: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    import adlab as ad

    def loss(params: tuple, x: np.ndarray, y: np.ndarray) -> Any:
        w1, b1, w2, b2 = params
        h = ad.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        return ad.mean(ad.logsumexp(logits, axis=1) - ad.sum(y * logits, axis=1))

    grad_loss = ad.grad(loss)

    def step() -> tuple:
        grads = grad_loss(params, x, y)
        sgd(params, grads)
        return grads

    return step


def torch_case(params: tuple, x: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    import torch

    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    tx, ty = torch.tensor(x), torch.tensor(y)

    def step() -> tuple:
        w1, b1, w2, b2 = tparams
        h = torch.tanh(tx @ w1 + b1)
        logits = h @ w2 + b2
        loss = torch.mean(torch.logsumexp(logits, dim=1) - torch.sum(ty * logits, dim=1))
        grads = torch.autograd.grad(loss, tparams)
        with torch.no_grad():
            for p, g in zip(tparams, grads):
                p -= LR * g
        return tuple(g.numpy() for g in grads)

    return step


def autograd_case(params: tuple, x: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    import autograd
    import autograd.numpy as anp

    def logsumexp(z: Any, axis: int) -> Any:  # autograd's own needs scipy
        m = anp.max(z, axis=axis, keepdims=True)
        return anp.log(anp.sum(anp.exp(z - m), axis=axis)) + anp.squeeze(m, axis)

    def loss(params: tuple, x: np.ndarray, y: np.ndarray) -> Any:
        w1, b1, w2, b2 = params
        h = anp.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        return anp.mean(logsumexp(logits, axis=1) - anp.sum(y * logits, axis=1))

    grad_loss = autograd.grad(loss)

    def step() -> tuple:
        grads = grad_loss(params, x, y)
        sgd(params, grads)
        return grads

    return step


ENGINES = {"hand-written numpy": hand_case, "adlab": adlab_case}
PEERS = {"torch": torch_case, "autograd": autograd_case}

# ---------------------------------------------------------------------------
# The workload


def run(results: Results, quick: bool, log: Callable) -> None:
    """Time a step of every installed engine, in both dtypes; check adlab's gradients."""
    engines = ENGINES | {k: v for k, v in PEERS.items() if installed(k)}
    facts = results.facts.setdefault("B", {})
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        params, x, y = problem(dtype)
        _check(results, facts, name, params, x, y, engines)
        cases = {k: make(tuple(p.copy() for p in params), x, y) for k, make in engines.items()}
        log(f"B: {name}: {', '.join(cases)}")
        best, _ = best_of(cases, rounds=3 if quick else 12, min_time=0.0 if quick else 0.2)
        base = best["hand-written numpy"]
        for engine, t in best.items():
            row = Row("B", name, engine, t, "step", x_base=t / base)
            if engine == "adlab":
                row.target = f"≤{TARGET[name]:.2f}× numpy"
                row.met = "yes" if t / base <= TARGET[name] else "no"
            results.rows.append(row)


def _check(results: Results, facts: dict, name: str, params: tuple, x, y, engines) -> None:
    """Gradients of one step from the same parameters: dtype, and distance to the hand-written."""
    _, ref = hand_grads(params, x, y)
    checks = {}
    for engine, make in engines.items():
        if engine == "hand-written numpy":
            continue
        grads = make(tuple(p.copy() for p in params), x, y)()
        dtypes = sorted({str(np.asarray(g).dtype) for g in grads})
        diff = max(float(np.max(np.abs(np.asarray(g, np.float64) - r))) for g, r in zip(grads, ref))
        checks[engine] = {"dtypes": dtypes, "max_abs_diff": diff}
        results.notes.append(
            f"B {name}: {engine}'s gradients: dtype {'/'.join(dtypes)}, max |Δ| vs hand-written "
            f"= {diff:.1e}"
        )
    facts[name] = checks
