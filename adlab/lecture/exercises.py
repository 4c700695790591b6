"""Exercises whose answers the learner checks in the notebook: hints, never the answer.

>>> ex = Exercise("d/dx of x³ at 2", lambda: 12.0,
...               hints=[(lambda a: a == 8.0, "that is x³ itself: differentiate first")])
>>> ex.check(8.0)
Not yet — d/dx of x³ at 2: that is x³ itself: differentiate first
>>> ex.check(12.0)
Right — d/dx of x³ at 2
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Hint = tuple[Callable[[Any], bool], str]


@dataclass(frozen=True)
class Verdict:
    """The outcome of :meth:`Exercise.check`: right or not, and a hint."""

    title: str
    right: bool
    hint: str = ""

    def __repr__(self) -> str:
        if self.right:
            return f"Right — {self.title}"
        return f"Not yet — {self.title}: {self.hint}"

    def __bool__(self) -> bool:
        return self.right

    def _repr_html_(self) -> str:
        color = "#1b7a1b" if self.right else "#a33"
        mark = "✔" if self.right else "✘"
        text = html.escape(repr(self))
        return f'<div style="color:{color};font-family:sans-serif">{mark} {text}</div>'


class Exercise:
    """An exercise with a hidden solution (a function, computed only when checking).

    ``hints`` are ``(test, message)`` pairs tried in order on a wrong answer: the
    first test that returns True gives its message (a typical mistake, named);
    otherwise a generic hint says how far off the answer is, without revealing it.
    """

    def __init__(
        self,
        title: str,
        solution: Callable[[], Any],
        *,
        hints: Sequence[Hint] = (),
        rtol: float = 1e-9,
        atol: float = 1e-12,
    ) -> None:
        self.title = title
        self._solution = solution
        self.hints = list(hints)
        self.rtol, self.atol = rtol, atol

    def check(self, answer: Any) -> Verdict:
        """Compare ``answer`` with the solution; a hint if it differs."""
        if answer is None or answer is ...:
            return Verdict(self.title, False, "no answer yet: replace the placeholder")
        want = self._solution()
        try:
            got = np.asarray(answer, dtype=float)
            expected = np.asarray(want, dtype=float)
            shapes_match = got.shape == expected.shape
        except (TypeError, ValueError):
            return Verdict(
                self.title, False, f"expected a number or an array, got {type(answer).__name__}"
            )
        if not shapes_match:
            return Verdict(
                self.title, False, f"the answer has shape {got.shape}, expected {expected.shape}"
            )
        if np.allclose(got, expected, rtol=self.rtol, atol=self.atol):
            return Verdict(self.title, True)
        for test, message in self.hints:
            try:
                if test(answer):
                    return Verdict(self.title, False, message)
            except Exception:  # a hint's test must not break the check
                continue
        return Verdict(self.title, False, _distance(got, expected))


def _distance(got: np.ndarray, want: np.ndarray) -> str:
    """How far off, without the answer: a sign or a factor, where telling."""
    if got.shape == () and want != 0 and got != 0:
        ratio = float(got / want)
        if abs(ratio + 1) < 1e-9:
            return "the sign is wrong"
        if abs(ratio - round(ratio)) < 1e-9 and round(ratio) != 1:
            return f"off by a factor of {round(ratio)}"
    bad = int(np.sum(~np.isclose(got, want)))
    return f"not the value expected ({bad} of {max(got.size, 1)} numbers differ); check each step"
