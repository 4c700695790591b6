"""The capstone's data set: two interleaving half circles ("two moons"), and its pictures.

Two classes that no straight line separates, so a classifier must learn a curved
boundary: the standard first data set for a small neural network. The points are
drawn with a seeded generator and the circles computed with :mod:`math`, so the
data are the same on every machine.

>>> X, labels = two_moons(6, noise=0.0, seed=0)
>>> X.shape, sorted(set(labels.tolist()))
((6, 2), [-1.0, 1.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def two_moons(n: int, *, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points ``X`` (shape ``(n, 2)``) and their labels ``±1``.

    Label −1: the upper half circle of radius 1 around (0, 0). Label +1: the lower
    half circle around (1, 0.5). Each point gets Gaussian noise of standard deviation
    ``noise`` in both coordinates.
    """
    rng = np.random.default_rng(seed)
    angle = math.pi * rng.random(n)
    upper = rng.random(n) < 0.5
    circle = np.array([(math.cos(a), math.sin(a)) for a in angle]).reshape(n, 2)
    lower = np.array([1.0, 0.5]) - circle
    X = np.where(upper[:, None], circle, lower) + noise * rng.standard_normal((n, 2))
    return X, np.where(upper, -1.0, 1.0)


def plot_points(ax: Any, X: np.ndarray, labels: np.ndarray) -> None:
    """The two classes as two colours of dots, with a legend."""
    for label, color in ((-1.0, "C0"), (1.0, "C1")):
        mine = labels == label
        ax.scatter(
            X[mine, 0],
            X[mine, 1],
            s=12,
            color=color,
            edgecolor="k",
            linewidth=0.3,
            label=f"label {label:+.0f}",
        )
    ax.set(xlabel="x₁", ylabel="x₂", aspect="equal")


def plot_boundary(
    ax: Any,
    score: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    labels: np.ndarray,
    *,
    title: str = "",
    resolution: int = 120,
) -> None:
    """The sign of ``score`` (a function of an ``(m, 2)`` array of points) as two shaded
    regions, its zero line (the decision boundary) and the data on top."""
    (x0, y0), (x1, y1) = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    s = np.asarray(score(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(gx.shape)
    ax.contourf(gx, gy, s, levels=[-np.inf, 0.0, np.inf], colors=["C0", "C1"], alpha=0.25)
    if s.min() < 0.0 < s.max():  # a boundary to draw (matplotlib warns about an empty contour)
        ax.contour(gx, gy, s, levels=[0.0], colors="k", linewidths=1)
    plot_points(ax, X, labels)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=title)
