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
