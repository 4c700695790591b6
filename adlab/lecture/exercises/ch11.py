"""Chapter 11, finite differences in depth: the exercises and their answer keys.

Exercise 1 checks the learner's ``best_step_exp(a, x, n)``, section 4's best step for
f = exp(a·x) on n + 1 points, on fresh a, x and n: it needs |f⁽ⁿ⁺¹⁾| = aⁿ⁺¹·e^(a·x),
which no cell shows (``ad.numeric.best_step`` is refused). Exercise 2 checks the
learner's 5-point second-derivative estimate on fresh functions, points and steps. Its
known mistakes are the ways the scaling goes wrong: the factor k! = 2 forgotten or
applied twice (``ad.numeric.stencil``'s weights include it), the sum divided by h (right
for k = 1 only) or by h³, or the 3-point stencil instead of the 5-point one;
``ad.numeric.fdm`` is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise

EPS = float(np.finfo(float).eps)


# -- 1. the best step ------------------------------------------------------------------------------
def _best_step_key(
    factorial: Callable[[int], int] = lambda n: math.factorial(n + 1),
    bound: Callable[[float, float, int], float] = lambda a, x, n: a ** (n + 1) * math.exp(a * x),
    root: Callable[[int], float] = lambda n: 1 / (n + 1),
) -> Callable[[float, float, int], float]:
    """h* = ((n+1)!·ε / (√n·|f⁽ⁿ⁺¹⁾(x)|))^(1/(n+1)) for f = exp(a·x), or a mistake in one part."""

    def best_step_exp(a: float, x: float, n: int) -> float:
        return (factorial(n) * EPS / (math.sqrt(n) * bound(a, x, n))) ** root(n)

    return best_step_exp


def _best_step_inputs(rng: np.random.Generator) -> dict[str, Any]:
    # a > 1, so that |f⁽ⁿ⁺¹⁾| = aⁿ⁺¹·e^(a·x) is far from |f|, the talk's stand-in
    return {
        "cases": tuple(
            (float(rng.uniform(1.5, 4.0)), float(rng.uniform(-1.0, 1.0)), n) for n in (2, 4, 6)
        )
    }


def _best_step_run(best_step_exp: Any, *, cases: tuple) -> tuple:
    return tuple(float(best_step_exp(a, x, n)) for a, x, n in cases)


best_step = CodeExercise(
    "best_step",
    inputs=_best_step_inputs,
    run=_best_step_run,
    solution=_best_step_key(),
    mistakes={
        "code_version": _best_step_key(factorial=math.factorial),
        "bound_f": _best_step_key(bound=lambda a, x, n: math.exp(a * x)),
        "no_power": _best_step_key(bound=lambda a, x, n: a * math.exp(a * x)),
        "no_root": _best_step_key(root=lambda n: 1.0),
    },
    own_work=("ad.numeric.best_step",),
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
        "factorial_twice": lambda f, x, h: 4 * _five(f, x, h) / h**2,
    },
    rtol=1e-8,
    atol=1e-8,
    own_work=("ad.numeric.fdm",),
)

EXERCISES = (best_step, second_derivative)
