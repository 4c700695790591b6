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


# -- 2. a mixed second derivative, on random polynomials in x and y ----------------------------
def _poly(rng: np.random.Generator) -> dict[str, Any]:
    # c0 + c1·x·y + c2·x·x·y + c3·x·y·y + c4·x·x + c5·y·y·y: every term a product, so that a
    # mixed partial, the second partials and a confusion of the perturbations all differ
    return {
        "c": tuple(float(c) for c in rng.uniform(-3.0, 3.0, 6)),
        "x": float(rng.uniform(-2.0, 2.0)),
        "y": float(rng.uniform(-2.0, 2.0)),
    }


def _mixed_run(mixed_partial: Any, *, c: tuple, x: float, y: float) -> float:
    def p(u: Any, v: Any) -> Any:  # with + and · only
        return (
            c[0]
            + c[1] * u * v
            + c[2] * u * u * v
            + c[3] * u * v * v
            + c[4] * u * u
            + c[5] * v * v * v
        )

    return float(mixed_partial(p)(x, y))


def _nested_parts(seed_x: tuple, seed_y: tuple) -> Any:
    """(x, y) ↦ the ε₁ε₂ part of f at duals of duals: x = (x + a₁ε₁) + a₂ε₂, y likewise."""

    def derivative(f: Any) -> Any:
        def at(x: float, y: float) -> Any:
            u = ExampleDual(ExampleDual(x, seed_x[0]), ExampleDual(seed_x[1], 0))
            v = ExampleDual(ExampleDual(y, seed_y[0]), ExampleDual(seed_y[1], 0))
            out = f(u, v)
            return out.b.b if isinstance(out.b, ExampleDual) else 0.0

        return at

    return derivative


mixed_partial = CodeExercise(
    "mixed_partial",
    inputs=_poly,
    run=_mixed_run,
    solution=_nested_parts((1, 0), (0, 1)),
    mistakes={
        "second_in_x": _nested_parts((1, 1), (0, 0)),
        "second_in_y": _nested_parts((0, 0), (1, 1)),
        # nested deriv with one ε: the inner derivative swallows the outer perturbation
        "confused": lambda f: lambda x, y: 0.0,
    },
    own_work=True,
)


# -- 3. a gradient in chunks -----------------------------------------------------------------------
def _chunks(rng: np.random.Generator) -> dict[str, Any]:
    # two chunk sizes for one point: one that divides n and one that does not, both < n
    divides = int(rng.integers(2, 5))
    n = divides * int(rng.integers(2, 4))
    other = next(k for k in rng.permutation(np.arange(2, n)) if n % int(k))
    return {
        "point": tuple(round(float(v), 3) for v in rng.uniform(-1.5, 1.5, n)),
        "chunks": (divides, int(other)),
        "weights": tuple(round(float(v), 3) for v in rng.uniform(-2.0, 2.0, n)),
    }


def _chunk_run(chunked_gradient: Any, *, point: tuple, chunks: tuple, weights: tuple) -> tuple:
    grads, passes = [], []
    for chunk in chunks:
        calls = 0

        def f(*xs: Any) -> Any:  # Σ wᵢ·xᵢ² + x₀·x₁·…, with + and · only
            nonlocal calls
            calls += 1
            total, product = 0.0, 1.0
            for w, x in zip(weights, xs):
                total = total + w * x * x
                product = product * x
            return total + product

        grads.append(tuple(float(g) for g in chunked_gradient(f, list(point), chunk)))
        passes.append(calls)
    return (tuple(grads), tuple(passes))


def _by_chunks(size: Any, blocks: Any) -> Any:
    """A chunked gradient whose passes carry ``size(n, chunk)`` directions, over the input
    blocks ``blocks(n, k)`` (start indices)."""

    def chunked_gradient(f: Any, point: Any, chunk: int) -> list[float]:
        n = len(point)
        k = size(n, chunk)
        grad: list[float] = []
        for start in blocks(n, k):
            block = range(start, min(start + k, n))
            args = [
                ExampleDual(p, np.array([1.0 if j == i else 0.0 for j in block]))
                for i, p in enumerate(point)
            ]
            grad.extend(np.atleast_1d(f(*args).b).tolist())
        return grad

    return chunked_gradient


chunked_gradient = CodeExercise(
    "chunked_gradient",
    inputs=_chunks,
    run=_chunk_run,
    solution=_by_chunks(lambda n, chunk: chunk, lambda n, k: range(0, n, k)),
    mistakes={
        "one_per_input": _by_chunks(lambda n, chunk: 1, lambda n, k: range(n)),
        "all_at_once": _by_chunks(lambda n, chunk: n, lambda n, k: [0]),
        "last_chunk_lost": _by_chunks(lambda n, chunk: chunk, lambda n, k: range(0, n // k * k, k)),
        "extra_pass": _by_chunks(
            lambda n, chunk: chunk, lambda n, k: range(0, (n // k + 1) * k, k)
        ),
    },
    parts=("the gradient", "the number of passes"),
    own_work=True,
)

EXERCISES = (tan, mixed_partial, chunked_gradient)
