"""Chapter 05, graphs and the two sweeps: the exercises and their answer keys."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise


# -- 1. a path sum: z = sin(x·y) + x ------------------------------------------------------------
def _point(rng: np.random.Generator) -> dict[str, float]:
    return {
        "x": float(rng.uniform(-2.0, 2.0)),
        "y": float(rng.uniform(0.3, 2.0) * rng.choice((-1, 1))),
    }


dz_dx = CodeExercise(
    "dz_dx",
    inputs=_point,
    run=lambda dz_dx, *, x, y: float(dz_dx(x, y)),
    solution=lambda x, y: y * math.cos(x * y) + 1.0,
    mistakes={
        "one_path": lambda x, y: y * math.cos(x * y),
        "direct_only": lambda x, y: 1.0,
        "inner_label": lambda x, y: math.cos(x * y) + 1.0,
        "wrong_operand": lambda x, y: x * math.cos(x * y) + 1.0,
    },
)


# -- 2. the sweeps of a Jacobian -------------------------------------------------------------------
def _shape(rng: np.random.Generator) -> dict[str, int]:
    n, m = rng.choice(np.arange(1, 400), size=2, replace=False)  # n ≠ m, so a swap shows
    return {"n": int(n), "m": int(m)}


def _pair(sweeps: Any, *, n: int, m: int) -> tuple[int, int]:
    forward, reverse = sweeps(n, m)
    return (int(forward), int(reverse))


sweeps = CodeExercise(
    "sweeps",
    inputs=_shape,
    run=_pair,
    solution=lambda n, m: (n, m),
    mistakes={
        "swapped": lambda n, m: (m, n),
        "one_reverse": lambda n, m: (n, 1),
        "one_forward": lambda n, m: (1, m),
        "both": lambda n, m: (n * m, n * m),
    },
    rtol=0.0,
    atol=0.0,
)


# -- 3. the learner's own Wengert list for g(x) = x·x·x − 2x ---------------------------------------
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: (1, 1)),
    "sub": (lambda a, b: a - b, lambda a, b: (1, -1)),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2)),
    "square": (lambda a: a * a, lambda a: (2 * a,)),
}


def _evaluate(rows: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """The chapter's ``evaluate``, for the self-tests."""
    value = dict(inputs)
    for name, op, args in rows:
        value[name] = OPS[op][0](*(value[a] if isinstance(a, str) else a for a in args))
    return value


def _reverse_sweep(rows: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """The chapter's ``reverse_sweep``, for the self-tests."""
    value = _evaluate(rows, inputs)
    adjoint = dict.fromkeys(value, 0)
    adjoint[rows[-1][0]] = 1
    for name, op, args in reversed(rows):
        partials = OPS[op][1](*(value[a] if isinstance(a, str) else a for a in args))
        for a, p in zip(args, partials):
            if isinstance(a, str):
                adjoint[a] += adjoint[name] * p
    return adjoint


def _swept(rows: Any, evaluate: Any, reverse_sweep: Any, *, x: float) -> tuple[float, float]:
    if not isinstance(rows, list | tuple) or not rows:
        raise TypeError("g_rows should be a list of rows (name, operation, operands)")
    last = rows[-1][0]
    return (float(evaluate(rows, {"x": x})[last]), float(reverse_sweep(rows, {"x": x})["x"]))


g_rows = CodeExercise(
    "g_rows",
    inputs=lambda rng: {"x": float(rng.uniform(-2.0, 2.0))},
    run=_swept,
    solution=[
        ("v1", "mul", ["x", "x"]),
        ("v2", "mul", ["v1", "x"]),
        ("v3", "mul", [2, "x"]),
        ("g", "sub", ["v2", "v3"]),
    ],
    mistakes={
        "plus": [
            ("v1", "mul", ["x", "x"]),
            ("v2", "mul", ["v1", "x"]),
            ("v3", "mul", [2, "x"]),
            ("g", "add", ["v2", "v3"]),
        ],
        "square_only": [
            ("v1", "mul", ["x", "x"]),
            ("v3", "mul", [2, "x"]),
            ("g", "sub", ["v1", "v3"]),
        ],
        "no_two": [
            ("v1", "mul", ["x", "x"]),
            ("v2", "mul", ["v1", "x"]),
            ("g", "sub", ["v2", "x"]),
        ],
    },
    example_context=lambda: (_evaluate, _reverse_sweep),
)

EXERCISES = (dz_dx, sweeps, g_rows)
