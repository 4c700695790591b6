"""The pictures of chapter 11: forward and central secants as h shrinks, and stencil sweeps.

The chapter computes every number it states; these functions only draw them, so
that the slides show the plots rather than the plotting code. matplotlib is
imported only when drawing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from adlab.engines import numeric
from adlab.lecture.calculus import blit_frames
from adlab.lecture.figures import figure

TINY = 1e-17  # an error of exactly 0 is drawn here, on log axes


def secants_lab(
    f: Callable[[Any], Any], df: Callable[[Any], Any], x0: float, hs: Sequence[float]
) -> tuple[list[bytes], list[str]]:
    """One frame per step h: left, f near ``x0`` with its tangent and the forward (x0, x0 + h)
    and central (x0 − h, x0 + h) secants; right, both errors against h (``df`` is f′), the
    current h marked. Returns PNG frames and captions for ``ad.widgets.Player``."""
    exact = float(df(x0))
    sweep_hs = 10.0 ** -np.linspace(0, 13, 105)
    _, forward = numeric.error_sweep(f, x0, exact, sweep_hs)
    _, central = numeric.error_sweep(f, x0, exact, sweep_hs, method=numeric.central_difference)

    fig, (left, right) = figure(10, 3.6, ncols=2)
    xs = np.linspace(x0 - 1.6, x0 + 1.6, 200)
    left.plot(xs, f(xs), color="C0")
    left.plot(xs, f(x0) + exact * (xs - x0), color="k", lw=1, label="tangent")
    (forward_line,) = left.plot([], [], color="C1", label="forward secant")
    (central_line,) = left.plot([], [], color="C2", ls="--", label="central secant")
    (dots,) = left.plot([], [], "o", color="C3", ms=4)
    left.set(xlim=(xs[0], xs[-1]), ylim=(-0.6, 1.6), xlabel="x")
    left.legend(loc="lower center", fontsize=8)
    right.loglog(sweep_hs, np.maximum(central, TINY), color="C2", label="central")
    right.loglog(sweep_hs, np.maximum(forward, TINY), color="C1", ls="--", label="forward")
    (forward_mark,) = right.loglog([], [], "o", color="C1", ms=8)
    (central_mark,) = right.loglog([], [], "s", color="C2", ms=8)
    right.invert_xaxis()
    right.set(xlabel="h (shrinking to the right)", ylabel="error", ylim=(TINY, 1))
    right.legend(loc="lower left", fontsize=8)
    title = left.set_title(" ")
    fig.tight_layout()
    captions: list[str] = []

    def show(h: float) -> Callable[[], None]:
        def update() -> None:
            slopes = [
                method(f, x0, h=h)
                for method in (numeric.forward_difference, numeric.central_difference)
            ]
            errors = [abs(s - exact) for s in slopes]
            for line, slope in zip((forward_line, central_line), slopes):
                line.set_data(xs, f(x0) + slope * (xs - x0))
            dots.set_data([x0 - h, x0, x0 + h], f(np.array([x0 - h, x0, x0 + h])))
            for mark, error in zip((forward_mark, central_mark), errors):
                mark.set_data([h], [max(error, TINY)])
            title.set_text(f"h = {h:.1e}")
            captions.append(
                f"h = {h:.1e}: forward error {errors[0]:.1e}, central error {errors[1]:.1e}"
            )

        return update

    moving = [forward_line, central_line, dots, forward_mark, central_mark, title]
    return blit_frames(fig, moving, [show(float(h)) for h in hs]), captions


def stencil_plot(
    grid: np.ndarray,
    errors: Mapping[int, np.ndarray],
    lines: Mapping[int, float],
    title: str,
    extra: Mapping[int, float] | None = None,
) -> Any:
    """The error of the (n + 1)-point stencils against h (``errors[n]`` over ``grid``), each
    curve's minimum marked, dashed lines at the estimated best steps ``lines[n]`` and
    dash-dotted ones at ``extra[n]``. 800 × 400 pixels, like the talk's figure. Returns the
    figure, which the inline backend shows at the end of the cell."""
    fig, ax = figure(10, 5, dpi=80)
    for n, color in zip(sorted(errors), ("C0", "C1", "C2", "C3", "C4")):
        err = np.maximum(errors[n], TINY)
        ax.loglog(grid, err, color=color, label=f"n = {n} ({n + 1} points)")
        i = int(err.argmin())
        ax.loglog(grid[i], err[i], "s", color=color, ms=7)
        ax.annotate(
            f"{grid[i]:.1e}",
            (grid[i], err[i]),
            xytext=(4, -12),
            textcoords="offset points",
            color=color,
            fontsize=8,
        )
        ax.vlines(lines[n], 1e-16, 1e-1, colors=color, linestyles="--", lw=1)
        ax.annotate(
            f"{lines[n]:.1e}",
            (lines[n], 1e-1),
            xytext=(2, 2),
            textcoords="offset points",
            color=color,
            fontsize=8,
            rotation=90,
        )
        if extra is not None:
            ax.vlines(extra[n], 1e-16, 1e-1, colors=color, linestyles="-.", lw=1.5)
    ax.set(xlabel="h", ylabel="|error|", title=title, ylim=(TINY, 1e2))
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig
