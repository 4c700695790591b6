"""Chapter 13, the capstone: the exercises and their answer keys.

The learner's array engine (built in the chapter) has a ``Variable(array)`` with
``.value``, ``.grad`` and ``.backward()`` (seeded with ones), whose ``*`` builds the
graph; the checks rely on nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise


class ExampleVariable:
    """A stand-in for the chapter's ``Variable``, enough to reach the learner's ``relu``."""

    def __init__(self, value: Any) -> None:
        self.value, self.grad = value, None

    def __mul__(self, other: Any) -> ExampleVariable:
        return ExampleVariable(self.value * other)


# -- 1. relu --------------------------------------------------------------------------------------
class _ReluModel:
    """The answer key, or a known mistake: the adjoint ``Relu.backward`` passes on, as a
    function of its input z and the adjoint gy arriving from above (``None``: a backward
    that returns an array instead of a tuple)."""

    def __init__(self, adjoint: Callable[[np.ndarray, np.ndarray], np.ndarray] | None) -> None:
        self.adjoint = adjoint


NOT_A_TUPLE = "a backward that returns an array, not a tuple"


def _relu_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    a = rng.normal(size=12)
    a[rng.choice(12, 3, replace=False)] = 0.0  # exact zeros: relu′(0) = 0 there
    return {
        "a": a,
        "w": rng.uniform(0.5, 2.0, 12) * rng.choice((-1.0, 1.0), 12),
        "v": rng.uniform(1.5, 3.0, 12),
    }


def _relu_run(relu: Any, variable: type, *, a: np.ndarray, w: np.ndarray, v: np.ndarray) -> Any:
    """out = relu(a·w)·v, elementwise: its value and ∂(Σ out)/∂a by the learner's engine."""
    if isinstance(relu, _ReluModel):
        if relu.adjoint is None:
            return NOT_A_TUPLE
        z = a * w
        return (np.maximum(z, 0.0) * v, relu.adjoint(z, v) * w)
    va = variable(a)
    inner = relu(va * w)
    if not isinstance(inner, variable):
        raise TypeError(
            f"relu(x) gave a {type(inner).__name__}, not a {variable.__name__}: apply a Function "
            "to x, so that the graph records it"
        )
    creator = getattr(inner, "creator", None)
    if creator is not None and isinstance(creator.backward(np.ones(12)), np.ndarray):
        return NOT_A_TUPLE  # the engine would zip its inputs with the array's entries
    out = inner * v
    out.backward()
    return (out.value, va.grad)


relu = CodeExercise(
    "relu",
    inputs=_relu_inputs,
    run=_relu_run,
    solution=_ReluModel(lambda z, gy: gy * (z > 0)),
    mistakes={
        "no_chain": _ReluModel(lambda z, gy: (z > 0) * 1.0),
        "no_mask": _ReluModel(lambda z, gy: gy),
        "at_zero": _ReluModel(lambda z, gy: gy * (z >= 0)),
        "not_a_tuple": _ReluModel(None),
    },
    example_context=lambda: (ExampleVariable,),
    parts=("value", "adjoint of a"),
)


# -- 2. sum_to_shape ------------------------------------------------------------------------------
def _sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def _leading_only(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    return g


def _dropped_axes(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    g = _leading_only(g, shape)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes)


def _averaged(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    total = _sum_to_shape(g, shape)
    return total * (np.size(total) / np.size(g))


class _Case:
    """One broadcast to undo: an adjoint ``g`` and the ``shape`` of the input that numpy
    broadcast to ``g.shape`` (shown in a message by shapes, not by numbers)."""

    def __init__(self, shape: tuple[int, ...], g: np.ndarray) -> None:
        self.shape, self.g = shape, g

    def __repr__(self) -> str:
        return f"{self.shape} from g {self.g.shape}"


PATTERNS = ("(m,)", "(n, 1)", "(1, m)", "(k, 1, m)", "(1,)")  # the shapes, by name


def _sum_inputs(rng: np.random.Generator) -> dict[str, Any]:
    n, m, k = (int(v) for v in rng.integers(2, 6, 3))
    shapes = [
        ((m,), (n, m)),
        ((n, 1), (n, m)),
        ((1, m), (n, m)),
        ((k, 1, m), (k, n, m)),
        ((1,), (n, m)),
    ]
    return {"cases": [_Case(small, rng.normal(size=big)) for small, big in shapes]}


def _sum_run(sum_to_shape: Any, *, cases: list) -> tuple:
    return tuple(np.asarray(sum_to_shape(c.g.copy(), c.shape)) for c in cases)


sum_to_shape = CodeExercise(
    "sum_to_shape",
    inputs=_sum_inputs,
    run=_sum_run,
    solution=_sum_to_shape,
    mistakes={"leading_only": _leading_only, "dropped_axes": _dropped_axes, "averaged": _averaged},
    parts=tuple(f"{p} adjoint" for p in PATTERNS),
)

EXERCISES = (relu, sum_to_shape)
