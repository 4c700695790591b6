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
    """A stand-in for the chapter's ``DualNumber``, for the self-tests."""

    def __init__(self, a: float, b: float = 0.0) -> None:
        self.a, self.b = a, b


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

EXERCISES = (tan,)
