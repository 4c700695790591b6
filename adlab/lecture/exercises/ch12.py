"""Chapter 12, summary: the exercise and its answer key (words, in any spelling the
catalogue accepts for forward and reverse mode, case-insensitively)."""

from __future__ import annotations

from adlab.lecture.exercises.core import TextExercise


def _cost_rule(n: int, m: int) -> str:
    """The cheaper mode for a Jacobian of f: ℝⁿ → ℝᵐ: n passes forward, m sweeps in reverse."""
    return "forward" if n <= m else "reverse"


# loss n = 10⁶, m = 1; one column of a 3 × 3 Jacobian (n = 1 direction); n = 2, m = 5000;
# n = 400, m = 10
mode = TextExercise(
    "mode",
    solution=[_cost_rule(10**6, 1), _cost_rule(1, 3), _cost_rule(2, 5000), _cost_rule(400, 10)],
    choices=["forward", "reverse"],
    mistakes={
        "all_reverse": lambda answer: set(answer) == {"reverse"},
        "loss": lambda answer: answer[0] == "forward",
        "column": lambda answer: answer[1] == "reverse",
    },
)

EXERCISES = (mode,)
