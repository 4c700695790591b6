"""Chapter 01, derivatives and gradient descent: the exercises and their answer keys."""

from __future__ import annotations

from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise


# -- 1. a gradient by hand: h(x, y) = x²y³ − 3x + sin(xy) ----------------------------------------
def _point(rng: np.random.Generator) -> dict[str, float]:
    return {"x": float(rng.uniform(-2.0, 2.0)), "y": float(rng.uniform(-2.0, 2.0))}


def _pair(h_gradient: Any, *, x: float, y: float) -> tuple[float, float]:
    gx, gy = h_gradient(x, y)
    return (float(gx), float(gy))


h_gradient = CodeExercise(
    "h_gradient",
    inputs=_point,
    run=_pair,
    solution=lambda x, y: (
        2 * x * y**3 - 3 + y * np.cos(x * y),
        3 * x**2 * y**2 + x * np.cos(x * y),
    ),
    mistakes={
        "no_inner": lambda x, y: (
            2 * x * y**3 - 3 + np.cos(x * y),
            3 * x**2 * y**2 + np.cos(x * y),
        ),
        "swapped": lambda x, y: (
            3 * x**2 * y**2 + x * np.cos(x * y),
            2 * x * y**3 - 3 + y * np.cos(x * y),
        ),
        "dropped_factor": lambda x, y: (
            2 * x - 3 + y * np.cos(x * y),
            3 * y**2 + x * np.cos(x * y),
        ),
        "linear_term": lambda x, y: (
            2 * x * y**3 + y * np.cos(x * y),
            3 * x**2 * y**2 + x * np.cos(x * y),
        ),
    },
    parts=("∂h/∂x", "∂h/∂y"),
    own_work=True,
)


# -- 2. one step to the bottom of c·(x² + y²) -----------------------------------------------------
def _scale(rng: np.random.Generator) -> dict[str, float]:
    return {"c": float(rng.uniform(0.2, 5.0))}


one_step_rate = CodeExercise(
    "one_step_rate",
    inputs=_scale,
    run=lambda one_step_rate, *, c: float(one_step_rate(c)),
    solution=lambda c: 1 / (2 * c),
    mistakes={
        "overshoot": lambda c: 1 / c,
        "unit_sphere": lambda c: 0.5,
        "inverted": lambda c: 2 * c,
    },
)

EXERCISES = (h_gradient, one_step_rate)
