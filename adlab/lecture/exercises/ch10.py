"""Chapter 10, custom rules: the exercises and their answer keys.

Exercise 1 checks a function written with ``ad.where`` through ``ad.grad``; exercise 2 an
``ad.primitive`` with its rule, in reverse and forward mode. The answer keys and known
mistakes of exercise 2 are plain formulas (:class:`_LogcoshModel`), so that checking
registers no primitive of its own in adlab's rule table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from adlab import api
from adlab.lecture.exercises.core import CodeExercise
from adlab.ops import log, where


# -- 1. where, without the trap --------------------------------------------------------------------
def _safe(x: Any) -> Any:
    return where(x > 0, x * log(where(x > 0, x, 1.0)), 0.0)


def _trap(x: Any) -> Any:
    return where(x > 0, x * log(x), 0.0)


def _no_where(x: Any) -> Any:
    return x * log(x)


def _where_inputs(rng: np.random.Generator) -> dict[str, Any]:
    xs = [0.0, *rng.uniform(0.05, 3.0, 3), *-rng.uniform(0.05, 3.0, 2)]
    return {"xs": tuple(float(x) for x in xs)}


def _where_run(f: Any, *, xs: tuple) -> tuple:
    """f and its gradient at each x (numpy's warnings about log(0) silenced: nan is the clue)."""
    with np.errstate(all="ignore"):
        return tuple((float(f(x)), float(api.grad(f)(x))) for x in xs)


safe_where = CodeExercise(
    "safe_where",
    inputs=_where_inputs,
    run=_where_run,
    solution=_safe,
    mistakes={"trap": _trap, "no_where": _no_where},
)


# -- 2. a logcosh primitive ------------------------------------------------------------------------
class _LogcoshModel:
    """The answer key, or a known mistake: the value, the derivative and the second
    derivative (the derivative of the learner's partial) as formulas."""

    def __init__(
        self,
        value: Callable[[float], float],
        slope: Callable[[float], float],
        curve: Callable[[float], float],
    ) -> None:
        self.value, self.slope, self.curve = value, slope, curve


def _sech2(x: float) -> float:
    return 1 - math.tanh(x) ** 2


def _stable(x: float) -> float:
    return abs(x) + math.log1p(math.exp(-2 * abs(x))) - math.log(2.0)


def _naive(x: float) -> float:
    with np.errstate(over="ignore"):
        return float(np.log(np.cosh(x)))


def _logcosh_inputs(rng: np.random.Generator) -> dict[str, Any]:
    large = rng.uniform(720.0, 1000.0) * rng.choice((-1.0, 1.0))  # cosh overflows beyond ~710
    return {"xs": (float(large), *(float(x) for x in rng.uniform(-3.0, 3.0, 3)))}


def _logcosh_run(logcosh: Any, *, xs: tuple) -> tuple:
    """log cosh x, its derivative by reverse and by forward mode, and its second derivative
    (the partial must be adlab operations, differentiable again), at each x."""
    if isinstance(logcosh, _LogcoshModel):
        return tuple(
            (logcosh.value(x), logcosh.slope(x), logcosh.slope(x), logcosh.curve(x)) for x in xs
        )
    with np.errstate(all="ignore"):
        return tuple(
            (
                float(logcosh(x)),
                float(api.grad(logcosh, mode="reverse")(x)),
                float(api.grad(logcosh, mode="forward")(x)),
                float(api.grad(api.grad(logcosh))(x)),
            )
            for x in xs
        )


logcosh = CodeExercise(
    "logcosh",
    inputs=_logcosh_inputs,
    run=_logcosh_run,
    solution=_LogcoshModel(_stable, math.tanh, _sech2),
    mistakes={
        "overflow": _LogcoshModel(_naive, math.tanh, _sech2),
        "sign": _LogcoshModel(_stable, lambda x: -math.tanh(x), lambda x: -_sech2(x)),
        "sech": _LogcoshModel(_stable, _sech2, lambda x: -2 * math.tanh(x) * _sech2(x)),
    },
)

EXERCISES = (safe_where, logcosh)
