"""Figures as PNG bytes, and frame counts that shrink in CI.

Notebook figures are PNG (matplotlib's SVG output is not byte-stable; PNG bytes
are not compared by nbval), and animations are lists of PNG frames for
``ad.widgets.Player``, which plays them without a kernel. With the environment
variable ``ADLAB_FAST=1`` (set in CI) :func:`frames` gives short animations.
"""

from __future__ import annotations

import io
import os
from typing import Any

DPI = 80


def fast() -> bool:
    """True when ``ADLAB_FAST=1``: animations use few frames (CI, quick checks)."""
    return os.environ.get("ADLAB_FAST", "") == "1"


QUICK = 4  # frames of an animation in a quick run


def frames(full: int, quick: int | None = None) -> int:
    """How many frames an animation gets: ``full``, or with ``ADLAB_FAST=1`` ``quick``
    (default: at most :data:`QUICK`). The lecture's frame helpers call it themselves.

    >>> frames(400, 8) in (400, 8), frames(41) in (41, QUICK)
    (True, True)
    """
    if not fast():
        return full
    return min(full, QUICK) if quick is None else quick


def png(fig: Any, *, close: bool = True) -> bytes:
    """A matplotlib figure as PNG bytes, at the lecture's resolution, without metadata."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buffer.getvalue()


def figure(width: float = 6.0, height: float = 4.0, **kwargs: Any) -> tuple[Any, Any]:
    """A new ``(fig, ax)`` of the given size in inches (the inline backend shows every open
    figure at the end of a cell: close it, e.g. with :func:`png`, to keep it off the page)."""
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), **kwargs)
