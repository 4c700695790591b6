"""Chapter 06, dual numbers: the exercises and their answer keys.

The learner's ``DualNumber`` (built in the chapter) holds a value ``a`` and an ε
part ``b`` and is made as ``DualNumber(a, b)``; the checks rely on nothing else.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise


class ExampleDual:
    """A stand-in for the chapter's ``DualNumber`` (+, ·, integer powers): the self-tests pass
    it where the notebook passes the learner's class, and the answer keys compute with it."""

    def __init__(self, a: Any, b: Any = 0) -> None:
        self.a, self.b = a, b

    def __add__(self, other: Any) -> ExampleDual:
        other = other if isinstance(other, ExampleDual) else ExampleDual(other)
        return ExampleDual(self.a + other.a, self.b + other.b)

    def __mul__(self, other: Any) -> ExampleDual:
        other = other if isinstance(other, ExampleDual) else ExampleDual(other)
        return ExampleDual(self.a * other.a, self.a * other.b + self.b * other.a)

    def __pow__(self, n: int) -> ExampleDual:
        return ExampleDual(self.a**n, n * self.a ** (n - 1) * self.b)

    __radd__ = __add__
    __rmul__ = __mul__


# -- 1. tan′ with your dual numbers --------------------------------------------------------------
def _tan_inputs(rng: np.random.Generator) -> dict[str, float]:
    # a away from tan's poles; b away from 0 and 1, so that a missing factor b shows
    b = rng.uniform(0.3, 3.0) * rng.choice((-1.0, 1.0))
    if abs(b - 1.0) < 0.2:
        b += 0.5
    return {"a": float(rng.uniform(-1.2, 1.2)), "b": float(b)}


def _tan_run(tan: Any, dual: type, *, a: float, b: float) -> tuple[float, float]:
    out = tan(dual(a, b))
    if not isinstance(out, dual):
        name = dual.__name__
        raise TypeError(f"tan({name}) should give a {name}, not a {type(out).__name__}")
    return (out.a, out.b)


def _tan(x: Any) -> Any:
    return type(x)(math.tan(x.a), x.b / math.cos(x.a) ** 2)


tan = CodeExercise(
    "tan",
    inputs=_tan_inputs,
    run=_tan_run,
    solution=_tan,
    mistakes={
        "no_chain": lambda x: type(x)(math.tan(x.a), 1 / math.cos(x.a) ** 2),
        "not_squared": lambda x: type(x)(math.tan(x.a), x.b / math.cos(x.a)),
        "sign": lambda x: type(x)(math.tan(x.a), -x.b / math.cos(x.a) ** 2),
        "swapped": lambda x: type(x)(x.b / math.cos(x.a) ** 2, math.tan(x.a)),
        "no_one": lambda x: type(x)(math.tan(x.a), math.tan(x.a) ** 2 * x.b),
    },
    example_context=lambda: (ExampleDual,),
)


# -- 2. a second derivative, on random cubics -----------------------------------------------------
def _cubic(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "c": tuple(float(c) for c in rng.uniform(-3.0, 3.0, 4)),
        "x": float(rng.uniform(-2.0, 2.0)),
    }


def _second_run(second_derivative: Any, dual: type, *, c: tuple, x: float) -> float:
    def p(t: Any) -> Any:  # c₃t³ + c₂t² + c₁t + c₀, with +, · and ** only
        return c[3] * t**3 + c[2] * t**2 + c[1] * t + c[0]

    return float(second_derivative(p)(x))


def _nested(depth: int) -> Any:
    """x ↦ the ε-part of f at x + ε (depth 1) or at (x + ε₁) + ε₂ (depth 2), in ExampleDual."""

    def derivative(f: Any) -> Any:
        if depth == 1:
            return lambda x: f(ExampleDual(x, 1)).b
        return lambda x: f(ExampleDual(ExampleDual(x, 1), 1)).b.b

    return derivative


second_derivative = CodeExercise(
    "second_derivative",
    inputs=_cubic,
    run=_second_run,
    solution=_nested(2),
    mistakes={
        "first": _nested(1),
        "value": lambda f: f,
    },
    example_context=lambda: (ExampleDual,),
)


# -- 3. passes with chunks -------------------------------------------------------------------------
def _sizes(rng: np.random.Generator) -> dict[str, int]:
    chunk = int(rng.integers(2, 65))
    return {
        "n": int(rng.integers(1, 1000)),
        "chunk": chunk,
        "multiple": chunk * int(rng.integers(1, 20)),
    }


def _passes_run(passes: Any, *, n: int, chunk: int, multiple: int) -> tuple[int, int]:
    # one n at random, and one that the chunk divides (where "n // chunk + 1" goes wrong)
    return (int(passes(n, chunk)), int(passes(multiple, chunk)))


passes = CodeExercise(
    "passes",
    inputs=_sizes,
    run=_passes_run,
    solution=lambda n, chunk: math.ceil(n / chunk),
    mistakes={
        "floor": lambda n, chunk: n // chunk,
        "always_extra": lambda n, chunk: n // chunk + 1,
        "no_chunks": lambda n, chunk: n,
        "times": lambda n, chunk: n * chunk,
    },
    rtol=0.0,
    atol=0.0,
)

EXERCISES = (tan, second_derivative, passes)
