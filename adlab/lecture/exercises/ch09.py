"""Chapter 09, one interface: the exercises and their answer keys.

Exercise 1 checks a function ``jacobian(f, x)`` built on ``ad.vjp``; exercise 2 a class
``ComplexStep`` whose instances have the chapter's derived ``gradient(f, x)`` (from the
chapter's ``Backend``). The answer key of exercise 2 is a class of its own with the same
``gradient``, so the checks need nothing from the notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from adlab import api
from adlab.lecture.exercises.core import CodeExercise
from adlab.ops import tanh


# -- 1. a Jacobian from pullbacks ------------------------------------------------------------------
def _jacobian(f: Callable[..., Any], x: np.ndarray) -> np.ndarray:
    out, pullback = api.vjp(f, x)
    return np.array([pullback(row)[0] for row in np.eye(np.size(out))])


def _transposed(f: Callable[..., Any], x: np.ndarray) -> np.ndarray:
    return _jacobian(f, x).T


def _by_pushforwards(f: Callable[..., Any], x: np.ndarray) -> np.ndarray:
    return np.array([api.jvp(f, (x,), (column,))[1] for column in np.eye(x.size)]).T


def _jacobian_inputs(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for wide in (True, False):  # n > m, then n < m: a transposed answer has the wrong shape
        small, large = int(rng.integers(2, 4)), int(rng.integers(4, 7))
        n, m = (large, small) if wide else (small, large)
        cases.append((rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=n)))
    return {"cases": tuple(cases)}


def _jacobian_run(jacobian: Any, *, cases: tuple) -> tuple:
    """J of x ↦ tanh(W x + b) by the learner's function, and the reverse sweeps it took."""
    results = []
    for W, b, x in cases:

        def f(x: Any, W: np.ndarray = W, b: np.ndarray = b) -> Any:
            return tanh(W @ x + b)

        with api.counting() as cost:
            J = jacobian(f, x.copy())
        results.append((np.asarray(J, dtype=float), cost.sweeps))
    return tuple(results)


jacobian = CodeExercise(
    "jacobian",
    inputs=_jacobian_inputs,
    run=_jacobian_run,
    solution=_jacobian,
    mistakes={"transposed": _transposed, "pushforwards": _by_pushforwards},
    own_work=("ad.jacobian", "ad.numeric.jacobian"),  # ad.vjp is the tool it asks for
)


# -- 2. the complex step ---------------------------------------------------------------------------
def _two(x: Any, y: Any) -> Any:
    return x**2 * y + 1 / (x**2 + y**2 + 1)


def _three(x: Any, y: Any, z: Any) -> Any:
    return (x * y - z) ** 3 / (1 + x**2 + z**2) + 2 * y


class _ComplexStepKey:
    """The answer key (``part`` "imag", divided by h) or a known mistake, with the interface
    the chapter's ``Backend`` derives: ``gradient(f, x)``, one pushforward per input."""

    def __init__(self, part: str = "imag", divide: bool = True, sign: float = 1.0) -> None:
        self.part, self.divide, self.sign = part, divide, sign

    def __call__(self) -> _ComplexStepKey:  # the check instantiates the learner's class
        return self

    def gradient(self, f: Callable[..., Any], x: tuple) -> tuple:
        h = 1e-20
        slopes = []
        for i in range(len(x)):
            shifted = [xj + self.sign * 1j * h * (i == j) for j, xj in enumerate(x)]
            value = getattr(f(*shifted), self.part)
            slopes.append(value / h if self.divide else value)
        return tuple(slopes)


def _point(rng: np.random.Generator, n: int) -> tuple[float, ...]:
    return tuple(float(v) for v in rng.uniform(0.3, 1.5, n) * rng.choice((-1.0, 1.0), n))


def _complex_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"points": (_point(rng, 2), _point(rng, 3))}


_NOT_STEPPED = "f was not called with a complex number"


def _complex_run(complex_step: Any, *, points: tuple) -> tuple:
    """Each gradient, marked where the backend never called f with a complex input (another
    engine behind the same interface gives the same numbers without)."""
    backend = complex_step()
    results = []
    for f, p in zip((_two, _three), points):
        stepped = []

        def watched(*xs: Any, f: Callable[..., Any] = f, stepped: list = stepped) -> Any:
            stepped.append(any(isinstance(x, complex) and x.imag != 0 for x in xs))
            return f(*xs)

        gradient = tuple(float(g) for g in backend.gradient(watched, p))
        results.append(gradient if any(stepped) else (gradient, _NOT_STEPPED))
    return tuple(results)


class _OtherEngine(_ComplexStepKey):
    """The right numbers by forward mode: the interface filled in without the complex step."""

    def gradient(self, f: Callable[..., Any], x: tuple) -> tuple:
        return tuple(api.grad(f, argnums=tuple(range(len(x))), mode="forward")(*x))


complex_step = CodeExercise(
    "complex_step",
    inputs=_complex_inputs,
    run=_complex_run,
    solution=_ComplexStepKey(),
    mistakes={
        "real_part": _ComplexStepKey(part="real"),
        "no_divide": _ComplexStepKey(divide=False),
        "sign": _ComplexStepKey(sign=-1.0),
        "not_complex": _OtherEngine(),
    },
    rtol=1e-13,
    atol=1e-15,
)

EXERCISES = (jacobian, complex_step)
