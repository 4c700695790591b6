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
    own_work=True,
)


# -- 2. a Jacobian by reverse sweeps, one row per output ----------------------------------------
def _program(rng: np.random.Generator) -> dict[str, Any]:
    """A random Wengert list of + − · and squares over 2–4 inputs, with 2–3 outputs (its last
    row among them) and a point: every output depends on the inputs in its own way."""
    n = int(rng.integers(2, 5))
    names = [f"x{i}" for i in range(n)]
    rows = []
    for k in range(int(rng.integers(5, 9))):
        op = str(rng.choice(["add", "sub", "mul", "mul", "square"]))
        pick = list(rng.choice(len(names), size=2, replace=len(names) < 2))
        args = [names[int(j)] for j in pick[: 1 if op == "square" else 2]]
        if op != "square" and rng.random() < 0.2:
            args[1] = float(rng.integers(2, 5))  # now and then a constant operand
        rows.append((f"v{k + 1}", op, args))
        names.append(f"v{k + 1}")
    others = [r[0] for r in rows[:-1]]
    chosen = sorted(rng.choice(len(others), size=int(rng.integers(1, 3)), replace=False))
    outputs = [others[int(j)] for j in chosen] + [rows[-1][0]]
    point = {f"x{i}": round(float(rng.uniform(-2.0, 2.0)), 3) for i in range(n)}
    return {"rows": rows, "inputs": point, "outputs": outputs}


def _rows_of(jacobian_by_rows: Any, *, rows: Any, inputs: Any, outputs: Any) -> tuple:
    found = jacobian_by_rows(list(rows), dict(inputs), list(outputs))
    return tuple(tuple(float(v) for v in row) for row in found)


def _by_rows(seeds: Any) -> Any:
    """A Jacobian from reverse sweeps seeded at ``seeds(outputs)``, each giving one row."""

    def jacobian(rows: Any, inputs: Any, outputs: Any) -> list[list[float]]:
        return [[_reverse_sweep(rows, inputs, out=o)[x] for x in inputs] for o in seeds(outputs)]

    return jacobian


def _transposed(rows: Any, inputs: Any, outputs: Any) -> list[list[float]]:
    adjoints = [_reverse_sweep(rows, inputs, out=o) for o in outputs]
    return [[a[x] for a in adjoints] for x in inputs]


jacobian_by_rows = CodeExercise(
    "jacobian_by_rows",
    inputs=_program,
    run=_rows_of,
    solution=_by_rows(lambda outputs: outputs),
    mistakes={
        "transposed": _transposed,
        "last_only": _by_rows(lambda outputs: outputs[-1:]),
    },
    own_work=True,
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


def _reverse_sweep(rows: Any, inputs: dict[str, Any], out: str | None = None) -> dict[str, Any]:
    """The chapter's ``reverse_sweep`` (seeded at ``out``, by default the last row)."""
    value = _evaluate(rows, inputs)
    adjoint = dict.fromkeys(value, 0)
    adjoint[out or rows[-1][0]] = 1
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

EXERCISES = (dz_dx, jacobian_by_rows, g_rows)
