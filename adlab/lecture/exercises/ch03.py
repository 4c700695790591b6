"""Chapter 03, what AD means: the exercises and their answer keys."""

from __future__ import annotations

from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise, TextExercise


# -- 1. the derivative program of h: y = x², 3y if y > 1, else y + x -------------------------------
def _both_sides(rng: np.random.Generator) -> dict[str, tuple[float, float, float]]:
    # one x where the branch is not taken (|x| < 1) and one on each side where it is (x > 1
    # and x < −1: the branch tests y = x², not x); away from x = ±1
    return {
        "x": (
            float(rng.uniform(-0.95, 0.95)),
            float(rng.uniform(1.05, 2.0)),
            float(rng.uniform(-2.0, -1.05)),
        )
    }


def _derivatives(h_derivative: Any, *, x: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(float(h_derivative(v)) for v in x)


h_derivative = CodeExercise(
    "h_derivative",
    inputs=_both_sides,
    run=_derivatives,
    solution=lambda x: 6.0 * x if x * x > 1.0 else 2.0 * x + 1.0,
    mistakes={
        "no_branch_taken": lambda x: 2.0 * x + 1.0,
        "always_branch": lambda x: 6.0 * x,
        "branch_on_x": lambda x: 6.0 * x if x > 1.0 else 2.0 * x + 1.0,
        "no_chain": lambda x: 3.0 if x * x > 1.0 else 2.0 * x + 1.0,
        "forgot_x": lambda x: 6.0 * x if x * x > 1.0 else 2.0 * x,
    },
    own_work=True,
)


# -- 2. which family? ------------------------------------------------------------------------------
FAMILIES = ("numerical", "symbolic", "automatic")

families = TextExercise(
    "families",
    solution=["numerical", "symbolic", "automatic", "automatic", "symbolic"],
    choices=FAMILIES,
    mistakes={
        "backward_symbolic": lambda a: a[2] == "symbolic",
        "jax_symbolic": lambda a: a[3] == "symbolic",
        "force_automatic": lambda a: a[0] != "numerical",
        "cas_automatic": lambda a: a[1] == "automatic" or a[4] == "automatic",
    },
)

EXERCISES = (h_derivative, families)
