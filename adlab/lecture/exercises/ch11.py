"""Chapter 11, finite differences in depth: the exercises and their answer keys.

Exercise 1 asks for a number (the best step of the central difference for exp at 0);
exercise 2 checks the learner's 5-point second-derivative estimate on fresh functions,
points and steps. Its known mistakes are the ways the scaling goes wrong: the factor
k! = 2 forgotten, the sum divided by h (right for k = 1 only) or by h³, or the 3-point
stencil instead of the 5-point one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise, ValueExercise

EPS = float(np.finfo(float).eps)


# -- 1. the best step ------------------------------------------------------------------------------
def _best_central_step() -> float:
    # n = 2: h* = ((n + 1)! ε / (√n |f‴(0)|))^(1/3), and f‴ = exp, so |f‴(0)| = 1
    return (math.factorial(3) * EPS / (math.sqrt(2) * 1.0)) ** (1 / 3)


best_step = ValueExercise(
    "best_step",
    solution=_best_central_step,
    mistakes={
        "code_version": (math.factorial(2) * EPS / math.sqrt(2)) ** (1 / 3),
        "forward_step": lambda a: math.isclose(a, math.sqrt(EPS), rel_tol=0.2),
        "no_root": lambda a: math.isclose(a, 3 * math.sqrt(2) * EPS, rel_tol=0.01),
    },
    rtol=1e-6,
)


# -- 2. a 5-point second derivative ----------------------------------------------------------------
_FIVE = (-1 / 24, 2 / 3, -5 / 4, 2 / 3, -1 / 24)  # Σ wⱼ rⱼ² = 1 on the offsets −2 … 2
_THREE = (1 / 2, -1.0, 1 / 2)


def _weighted(weights: tuple[float, ...]) -> Callable[..., float]:
    def total(f: Callable[[float], float], x: float, h: float) -> float:
        r = len(weights) // 2
        return sum(w * f(x + j * h) for w, j in zip(weights, range(-r, r + 1)))

    return total


_five, _three = _weighted(_FIVE), _weighted(_THREE)

FUNCTIONS = (np.sin, np.exp, lambda x: np.cos(2 * x) + x**3)


def _second_inputs(rng: np.random.Generator) -> dict[str, Any]:
    # h from 5e-3 to 2e-2: the 3-point stencil's O(h²) error then shows, rounding does not
    return {
        "cases": tuple(
            (i, float(rng.uniform(-1.5, 1.5)), float(rng.uniform(5e-3, 2e-2)))
            for i in range(len(FUNCTIONS))
        )
    }


def _second_run(second_derivative: Any, *, cases: tuple) -> tuple:
    return tuple(float(second_derivative(FUNCTIONS[i], x, h)) for i, x, h in cases)


second_derivative = CodeExercise(
    "second_derivative",
    inputs=_second_inputs,
    run=_second_run,
    solution=lambda f, x, h: 2 * _five(f, x, h) / h**2,
    mistakes={
        "no_factorial": lambda f, x, h: _five(f, x, h) / h**2,
        "divided_by_h": lambda f, x, h: _five(f, x, h) / h,
        "factorial_by_h": lambda f, x, h: 2 * _five(f, x, h) / h,
        "divided_by_h3": lambda f, x, h: 2 * _five(f, x, h) / h**3,
        "three_points": lambda f, x, h: 2 * _three(f, x, h) / h**2,
    },
    rtol=1e-8,
    atol=1e-8,
)

EXERCISES = (best_step, second_derivative)
