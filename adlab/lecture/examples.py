"""The talk's example functions and data, by the names the lecture uses.

They are the functions of adlab's test ZOO (:data:`adlab.testing.ZOO`), so every
engine is tested on exactly what the notebooks show.

>>> talk_f(0.5, -0.5) == 13 / 24
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adlab.testing import ZOO


def _zoo(name: str) -> Callable[..., Any]:
    return next(z for z in ZOO if z.name == name).f


x2_plus_xy = _zoo("x2_plus_xy")  # E1.1: f(x, y) = x² + xy
talk_f = _zoo("talk_f")  # E1.2: f(x, y) = x²y + 1/(x² + y² + 1)
quartic = _zoo("quartic")  # E1.3: f(x) = 1.2x⁴ − x³ − 6x² − 0.5x
sphere = _zoo("sphere")  # E1.4: f(x, y) = x² + y²
five_well = _zoo("five_well")  # E1.5: Pavlyukevich's five-well potential
regression_loss = _zoo("regression_loop")  # L(c) = Σ (yᵢ − c·xᵢ)², with a for-loop
x_to_the_8 = _zoo("x_to_the_8")  # t1 = x·x, t2 = t1·t1, f = t2·t2

REGRESSION_XS = (1.0, 2.0, 3.0)
REGRESSION_YS = (2.0, 4.0, 6.0)

# The five wells, Wᵢ = cᵢ / (1 + aᵢ(x − xᵢ)² + (y − yᵢ)²): (cᵢ, aᵢ, xᵢ, yᵢ)
FIVE_WELLS = (
    (1.0, 0.05, 0.0, 10.0),
    (1.0, 0.05, 10.0, 0.0),
    (1.5, 0.03, -10.0, 0.0),
    (2.0, 0.05, 5.0, -10.0),
    (1.0, 0.1, -5.0, -10.0),
)


def five_well_gradient(x: float, y: float) -> tuple[float, float]:
    """∇ of the five-well potential, derived by hand (chapter 01 shows what that takes).

    f = (1 − S)·P with S = Σ Wᵢ and P = 1 + 0.0001(x² + y²)^1.2, so
    ∇f = −P·∇S + (1 − S)·∇P, where ∂Wᵢ/∂x = −Wᵢ²/cᵢ · 2aᵢ(x − xᵢ),
    ∂Wᵢ/∂y = −Wᵢ²/cᵢ · 2(y − yᵢ) and ∇P = 0.00024·(x² + y²)^0.2·(x, y).

    >>> gx, gy = five_well_gradient(10.0, 10.0)
    >>> round(gx, 9), round(gy, 9)
    (0.035113637, 0.010877133)
    """
    S = dS_dx = dS_dy = 0.0
    for c, a, xi, yi in FIVE_WELLS:
        W = c / (1.0 + a * (x - xi) ** 2 + (y - yi) ** 2)
        S += W
        dS_dx -= W * W / c * 2.0 * a * (x - xi)
        dS_dy -= W * W / c * 2.0 * (y - yi)
    r2 = x * x + y * y
    P = 1.0 + 0.0001 * r2**1.2
    dP = 0.00024 * r2**0.2 if r2 > 0.0 else 0.0
    return (-P * dS_dx + (1.0 - S) * dP * x, -P * dS_dy + (1.0 - S) * dP * y)
