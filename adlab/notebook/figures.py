"""Matplotlib figures shown inline as small PNGs: a palette of at most 256 colours.

A lecture notebook stores every figure it shows; line plots, contours and surfaces
lose nothing visible with a palette and take about a third of the room.

    %config InlineBackend.figure_formats = ['png']
    from adlab.notebook.figures import small_inline_png
    small_inline_png()          # after the %config line, which resets the formatter
"""

from __future__ import annotations

import io
import sys
from typing import Any

from adlab.notebook.player import small_png

__all__ = ["small_inline_png"]


def _figure_png(fig: Any) -> bytes | None:
    if not fig.axes and not fig.lines and not fig.images:
        return None  # an empty figure shows nothing, as IPython's own formatter does
    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return small_png(buffer.getvalue())


def small_inline_png(ipython: Any = None) -> None:
    """Show matplotlib figures as palette PNGs in this IPython session (the current one
    by default). Matplotlib is not imported: until it is, the formatter is registered by name."""
    if ipython is None:
        from IPython import get_ipython

        ipython = get_ipython()
    if ipython is None:
        raise RuntimeError("small_inline_png() needs an IPython session (a notebook)")
    formatter = ipython.display_formatter.formatters["image/png"]
    figure_module = sys.modules.get("matplotlib.figure")
    if figure_module is None:
        formatter.for_type_by_name("matplotlib.figure", "Figure", _figure_png)
    else:  # the inline backend registered the class itself, which a name would not override
        formatter.for_type(figure_module.Figure, _figure_png)
