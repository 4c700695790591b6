"""Gradient descent, with the gradient from any engine, and its animation as frames.

>>> from adlab.lecture.examples import sphere
>>> path = descend(sphere, (0.9, 0.9), lr=0.03, steps=25)
>>> path.shape, round(float(path[-1][0]), 6)   # 0.9 · 0.94²⁵
((26, 2), 0.191619)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adlab import api
from adlab.lecture.calculus import blit_frames
from adlab.lecture.figures import figure, frames


def descend(
    f: Callable[..., Any],
    start: Sequence[float],
    *,
    lr: float,
    steps: int,
    mode: str = "reverse",
    grad: Callable[..., Sequence[float]] | None = None,
) -> np.ndarray:
    """Plain gradient descent x ← x − lr·∇f(x) on ``f(x1, x2, ...)`` from ``start``.

    The gradient comes from ``ad.grad(f, mode=mode)``, or from ``grad`` if given
    (a finite-difference gradient, say). Returns the path, one row per iterate
    (``steps + 1`` rows).
    """
    x = np.array(start, dtype=float)
    g = grad or api.grad(f, argnums=tuple(range(len(x))), mode=mode)
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * np.array(g(*x), dtype=float)
        path.append(x.copy())
    return np.array(path)


def contour_frames(
    f: Callable[..., Any],
    path: np.ndarray,
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    count: int,
    title: str = "",
    levels: int = 30,
    size: tuple[float, float] = (4.4, 3.4),
) -> tuple[list[bytes], list[str]]:
    """PNG frames of a descent path on the contour plot of ``f(x, y)``, and their captions.

    ``count`` frames show the path growing to its end (the last frame shows all
    of it; a quick run, :func:`~adlab.lecture.figures.frames`, draws only a few); pass
    them to ``ad.widgets.Player``. The contour plot is drawn once and
    only the path is redrawn per frame (:func:`adlab.lecture.calculus.blit_frames`).
    """
    xs = np.linspace(*xlim, 160)
    ys = np.linspace(*ylim, 160)
    X, Y = np.meshgrid(xs, ys)
    Z = np.vectorize(lambda a, b: float(f(float(a), float(b))))(X, Y)
    shown = np.unique(np.linspace(0, len(path) - 1, max(frames(count), 1)).round().astype(int))
    fig, ax = figure(*size)
    ax.contourf(X, Y, Z, levels=levels, cmap="viridis")
    (trail,) = ax.plot([], [], "o-", color="white", ms=3, lw=1)
    (here,) = ax.plot([], [], "o", color="red", ms=6)
    ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y", title=title)
    fig.tight_layout()
    captions: list[str] = []

    def show(k: int) -> Callable[[], None]:
        def update() -> None:
            trail.set_data(path[: k + 1, 0], path[: k + 1, 1])
            here.set_data([path[k, 0]], [path[k, 1]])
            x, y = path[k]
            captions.append(f"step {k}: (x, y) = ({x:.6f}, {y:.6f}), f = {float(f(x, y)):.6f}")

        return update

    pictures = blit_frames(fig, [trail, here], [show(int(k)) for k in shown])
    return pictures, captions
