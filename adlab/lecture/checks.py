"""Facts checked out of the reading path: one line that reads as the fact, printed with a ✓.

A chapter computes each of its facts in front of the reader and states it with
:func:`check`, which compares and prints the claim with a ✓, or raises
:class:`FactError` with both values (so ``pytest --nbval`` and ``notebooks/run.py``
stop at a false fact). ``fact=N`` names the fact's number in CURRICULUM.md §8; the
lecture's tests find every number there in some notebook's ``check`` calls.

>>> check("x² + xy at (1, 2) is 3", 1 * 1 + 1 * 2, 3)
✓ x² + xy at (1, 2) is 3
>>> from fractions import Fraction
>>> check("1/3 as a float is within 1 ulp of a third", 1 / 3, Fraction(1, 3), ulps=1)
✓ 1/3 as a float is within 1 ulp of a third
>>> check("0.1 + 0.2 is 0.3", 0.1 + 0.2, 0.3)
Traceback (most recent call last):
...
adlab.lecture.checks.FactError: 0.1 + 0.2 is 0.3: got 0.30000000000000004, expected 0.3 exactly
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from numbers import Rational
from typing import Any

import numpy as np

_TRUE = object()  # ``want`` left out: ``got`` is a condition that must hold

__all__ = ["FactError", "check"]


class FactError(AssertionError):
    """A fact the lecture states did not come out as stated."""


def check(
    claim: str,
    got: Any,
    want: Any = _TRUE,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    ulps: int | None = None,
    fact: int | None = None,
) -> None:
    """Print ``✓ claim`` if ``got`` matches ``want``; raise :class:`FactError` otherwise.

    Without ``want``, ``got`` is a condition that must be true. Numbers, arrays and
    (nested) tuples or lists of them match exactly unless ``rtol``/``atol`` allow more
    (numpy's ``allclose``), or within ``ulps`` units in the last place of ``want``
    (which may be an exact ``Fraction``); ``Fraction``s and strings match exactly.
    ``fact`` is the number of the fact in CURRICULUM.md §8.
    """
    if not isinstance(claim, str) or not claim.strip():
        raise TypeError("check needs the claim in words first, e.g. check('f(2) = 4', f(2), 4)")
    if fact is not None and not (isinstance(fact, int) and fact > 0):
        raise TypeError(f"fact must be the number of a fact in CURRICULUM.md §8, got {fact!r}")
    if want is _TRUE:
        if not isinstance(got, bool | np.bool_):
            raise TypeError(
                f"check({claim!r}, condition) needs a True/False condition, got "
                f"{type(got).__name__}; to compare values write check(claim, got, want)"
            )
        if not got:
            raise FactError(f"{claim}: not true")
    elif not _matches(got, want, rtol, atol, ulps):
        raise FactError(
            f"{claim}: got {_show(got)}, expected {_show(want)}{_tolerance(rtol, atol, ulps)}"
        )
    print(f"✓ {claim}")


def _matches(got: Any, want: Any, rtol: float, atol: float, ulps: int | None) -> bool:
    if isinstance(want, str) or isinstance(got, str):
        return isinstance(got, str) and got == want
    if isinstance(want, Sequence) and not _numeric(want):  # e.g. a list of strings or pairs
        return (
            isinstance(got, Sequence)
            and len(got) == len(want)
            and all(_matches(g, w, rtol, atol, ulps) for g, w in zip(got, want))
        )
    if _is_rational(want) and _is_rational(got) and ulps is None and not (rtol or atol):
        return Fraction(got) == Fraction(want)
    if ulps is not None:
        return _within_ulps(got, want, ulps)
    try:
        g = np.asarray(got, dtype=float)
        w = np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        same = getattr(got, "same", None)  # expressions: the same tree (== compares values)
        return bool(same(want) if callable(same) else got == want)
    if g.shape != w.shape:
        return False
    if not (rtol or atol):
        return bool(np.array_equal(g, w, equal_nan=True))
    return bool(np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True))


def _numeric(values: Sequence[Any]) -> bool:
    """True for a (nested) sequence of plain numbers (no Fractions) — compared as one array."""

    def plain(v: Any) -> bool:
        if isinstance(v, Sequence) and not isinstance(v, str):
            return _numeric(v)
        return isinstance(v, int | float | np.number) and not isinstance(v, bool)

    return all(plain(v) for v in values)


def _is_rational(x: Any) -> bool:
    return isinstance(x, Rational) and not isinstance(x, bool)


def _within_ulps(got: Any, want: Any, ulps: int) -> bool:
    """|got − want| ≤ ulps · ulp(want), computed exactly (``want`` may be a Fraction)."""
    gots, wants = np.ravel(np.asarray(got, dtype=object)), np.ravel(np.asarray(want, dtype=object))
    if gots.shape != wants.shape:
        return False
    for g, w in zip(gots, wants):
        if not math.isfinite(float(g)) or not math.isfinite(float(w)):
            if float(g) != float(w):
                return False
            continue
        if abs(Fraction(g) - Fraction(w)) > ulps * Fraction(math.ulp(float(w))):
            return False
    return True


def _tolerance(rtol: float, atol: float, ulps: int | None) -> str:
    if ulps is not None:
        return f" to within {ulps} ulp{'s' if ulps != 1 else ''}"
    parts = [f"rtol={rtol:g}"] * bool(rtol) + [f"atol={atol:g}"] * bool(atol)
    return f" ({', '.join(parts)})" if parts else " exactly"


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=17, threshold=20)
    return repr(value)
