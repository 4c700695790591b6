"""Chapter 07, tracing: the exercises and their answer keys.

The learner's engine (built in the chapter) has a ``Variable(value)`` with ``.value``,
``.grad`` and ``.backward()``, whose operators ``+ - * / **`` build the graph; the
checks rely on nothing else. :class:`ExampleVariable` is a stand-in with that
interface, for the self-tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise


# -- a stand-in for the chapter's engine ---------------------------------------------------------
class ExampleVariable:
    """A value that records ``+ - * / **`` and sweeps back, like the chapter's ``Variable``."""

    def __init__(self, value: float) -> None:
        self.value, self.grad, self.parents = value, None, ()

    def _op(self, value: float, *parents: tuple[ExampleVariable, float]) -> ExampleVariable:
        out = ExampleVariable(value)
        out.parents = parents  # (input, local partial) pairs
        return out

    def __add__(self, other: Any) -> ExampleVariable:
        other = _lift(other)
        return self._op(self.value + other.value, (self, 1.0), (other, 1.0))

    __radd__ = __add__

    def __sub__(self, other: Any) -> ExampleVariable:
        other = _lift(other)
        return self._op(self.value - other.value, (self, 1.0), (other, -1.0))

    def __rsub__(self, other: Any) -> ExampleVariable:
        return _lift(other) - self

    def __mul__(self, other: Any) -> ExampleVariable:
        other = _lift(other)
        return self._op(self.value * other.value, (self, other.value), (other, self.value))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> ExampleVariable:
        other = _lift(other)
        a, b = self.value, other.value
        return self._op(a / b, (self, 1 / b), (other, -a / b**2))

    def __rtruediv__(self, other: Any) -> ExampleVariable:
        return _lift(other) / self

    def __pow__(self, c: float) -> ExampleVariable:
        return self._op(self.value**c, (self, c * self.value ** (c - 1)))

    def backward(self) -> None:
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first topological order
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p, _ in node.parents)
        self.grad = 1.0
        for node in reversed(order):
            for parent, partial in node.parents:
                contribution = (node.grad or 0.0) * partial
                parent.grad = contribution if parent.grad is None else parent.grad + contribution


def _lift(x: Any) -> ExampleVariable:
    return x if isinstance(x, ExampleVariable) else ExampleVariable(float(x))


# -- 1. log ---------------------------------------------------------------------------------------
class _LogModel:
    """The answer key, or a known mistake: what the check computes when ``Log.backward``
    returns ``adjoint(u, gy)`` for the input u, given the output's adjoint gy (``None``:
    a backward that returns a number instead of a tuple)."""

    def __init__(self, adjoint: Callable[[float, float], float] | None) -> None:
        self.adjoint = adjoint


NOT_A_TUPLE = "a backward that returns a number, not a tuple"


def _log_inputs(rng: np.random.Generator) -> dict[str, float]:
    # y (the adjoint reaching log) away from 1, so that a missing factor gy shows; u = xy + c > 1.5
    return {
        "x": float(rng.uniform(0.3, 2.0)),
        "y": float(rng.uniform(1.3, 2.5)),
        "c": float(rng.uniform(1.5, 3.0)),
    }


def _log_run(log: Any, variable: type, *, x: float, y: float, c: float) -> Any:
    """f(x, y) = log(x·y + c)·y: its value and (∂f/∂x, ∂f/∂y) by the learner's engine."""
    if isinstance(log, _LogModel):  # f = log(u)·y with u = xy + c: log's adjoint reaches u
        if log.adjoint is None:
            return NOT_A_TUPLE
        u = x * y + c
        u_bar = log.adjoint(u, y)
        return (math.log(u) * y, u_bar * y, math.log(u) + u_bar * x)
    vx, vy = variable(x), variable(y)
    inner = log(vx * vy + c)
    if not isinstance(inner, variable):
        raise TypeError(
            f"log(x) gave a {type(inner).__name__}, not a {variable.__name__}: apply a Function "
            "to x, as sin(x) does, so that the graph records it"
        )
    creator = getattr(inner, "creator", None)
    if creator is not None and not isinstance(creator.backward(1.0), tuple | list):
        return NOT_A_TUPLE  # the engine's zip would fail on it
    out = inner * vy
    out.backward()
    return (out.value, vx.grad, vy.grad)


log = CodeExercise(
    "log",
    inputs=_log_inputs,
    run=_log_run,
    solution=_LogModel(lambda u, gy: gy / u),
    mistakes={
        "no_chain": _LogModel(lambda u, gy: 1 / u),
        "times": _LogModel(lambda u, gy: gy * u),
        "output": _LogModel(lambda u, gy: gy / math.log(u)),
        "sign": _LogModel(lambda u, gy: -gy / u),
        "not_a_tuple": _LogModel(None),
    },
    example_context=lambda: (ExampleVariable,),
)


# -- 2. grad ---------------------------------------------------------------------------------------
def _f_talk(x: Any, y: Any) -> Any:
    return x**2 * y + 1 / (x**2 + y**2 + 1)


def _f_three(x: Any, y: Any, z: Any) -> Any:
    return x * y - z / y


def _f_unused(x: Any, y: Any) -> Any:  # y is not used
    return x * x * x - 2 * x


def _f_one(x: Any) -> Any:
    return 3 * x**4 - 2 / x


CASES = (_f_talk, _f_three, _f_unused, _f_one)


class _GradModel:
    """The answer key, or a known mistake: ``make(Variable)`` builds its ``grad``."""

    def __init__(self, result: Callable[[Any, tuple], Any]) -> None:
        self.result = result  # (out, variables) -> what gradient(*xs) returns

    def make(self, variable: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def grad(f: Callable[..., Any]) -> Callable[..., Any]:
            def gradient(*xs: float) -> Any:
                variables = [variable(x) for x in xs]
                out = f(*variables)
                return self.result(out, variables)

            return gradient

        return grad


def _swept(out: Any, variables: list) -> tuple:
    out.backward()
    return tuple(0.0 if v.grad is None else v.grad for v in variables)


def _grad_inputs(rng: np.random.Generator) -> dict[str, Any]:
    points = []
    for f in CASES:
        n = f.__code__.co_argcount
        points.append(tuple(float(v) for v in rng.uniform(0.4, 2.0, n) * rng.choice((-1, 1), n)))
    return {"points": tuple(points)}


def _grad_run(grad: Any, variable: type, *, points: tuple) -> tuple:
    make = grad.make(variable) if isinstance(grad, _GradModel) else grad
    results = []
    for f, point in zip(CASES, points):
        got = make(f)(*point)
        if got is None:
            raise TypeError(
                "the function that grad(f) returns gives None: end it with `return` and the "
                "tuple of derivatives"
            )
        if not isinstance(got, tuple | list):
            got = (got,)
        if any(isinstance(g, variable) for g in got):
            raise TypeError(
                f"the gradient holds {variable.__name__}s: return their adjoints (.grad), "
                "as numbers"
            )
        results.append(tuple(got))
    return tuple(results)


grad = CodeExercise(
    "grad",
    inputs=_grad_inputs,
    run=_grad_run,
    solution=_GradModel(_swept),
    mistakes={
        "none_for_unused": _GradModel(
            lambda out, vs: (out.backward(), tuple(v.grad for v in vs))[1]
        ),
        "no_backward": _GradModel(lambda out, vs: tuple(v.grad for v in vs)),
        "value": _GradModel(lambda out, vs: out.value),
    },
    example_context=lambda: (ExampleVariable,),
    own_work=True,
)

EXERCISES = (log, grad)
