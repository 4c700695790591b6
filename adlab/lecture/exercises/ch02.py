"""Chapter 02, finite differences: the exercises and their answer keys."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise


# -- 1. the backward difference, on random f(x) = sin(a·x) + b·x² ---------------------------------
def _function_point_step(rng: np.random.Generator) -> dict[str, float]:
    return {
        "a": float(rng.uniform(0.5, 3.0)),
        "b": float(rng.uniform(-2.0, 2.0)),
        "x": float(rng.uniform(-2.0, 2.0)),
        "h": float(rng.uniform(0.01, 0.3)),
    }


def _on_f(answer: Any, *, a: float, b: float, x: float, h: float) -> float:
    def f(t: float) -> float:
        return math.sin(a * t) + b * t * t

    return float(answer(f, x, h))


backward_difference = CodeExercise(
    "backward_difference",
    inputs=_function_point_step,
    run=_on_f,
    solution=lambda f, x, h: (f(x) - f(x - h)) / h,
    mistakes={
        "sign": lambda f, x, h: (f(x - h) - f(x)) / h,
        "forward": lambda f, x, h: (f(x + h) - f(x)) / h,
        "central": lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h),
        "two_h": lambda f, x, h: (f(x) - f(x - h)) / (2 * h),
    },
    own_work=True,
)


# -- 2. where descent with the backward difference stalls on L(c) = 14(2 − c)² ---------------------
backward_stall = CodeExercise(
    "backward_stall",
    inputs=lambda rng: {"h": float(rng.uniform(1e-3, 0.5))},
    run=lambda backward_stall, *, h: float(backward_stall(h)),
    solution=lambda h: 2 + h / 2,
    mistakes={
        "forward": lambda h: 2 - h / 2,
        "unbiased": lambda h: 2.0,
        "whole_step": lambda h: 2 + h,
        "whole_step_down": lambda h: 2 - h,
    },
)

EXERCISES = (backward_difference, backward_stall)
