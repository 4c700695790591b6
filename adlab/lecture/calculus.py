"""The calculus of the first chapters: tangents, secants, steepest descent, and their pictures.

Lines through a point of a graph (:class:`Line`, :func:`secant`), unit directions
of the plane (:func:`unit_directions`, for the theorem that −∇f is the steepest way
down), the talk's optimiser object
(:class:`SteepestDescent`, with its frame-count quirk on request), and the figures
and frame sequences of chapters 01 and 02: the moving tangent, a surface beside its
contour plot, a field of descent arrows, and the secant lab over the step h — the
animations drawn by blitting (:func:`blit_frames`), so hundreds of frames take seconds.
matplotlib is imported only when drawing.

>>> from adlab.lecture.examples import quartic
>>> secant(quartic, -0.5, 0.4).slope
2.6028
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from adlab.engines import numeric
from adlab.lecture.figures import DPI, figure, frames

# ---------------------------------------------------------------------------
# Lines, rates and the talk's optimiser


@dataclass(frozen=True)
class Line:
    """The line through ``(x0, y0)`` with slope ``slope``; call it to evaluate it.

    >>> Line(1.0, 2.0, 3.0)(2.0)
    5.0
    """

    x0: float
    y0: float
    slope: float

    def __call__(self, x: Any) -> Any:
        return self.slope * (x - self.x0) + self.y0


def secant(f: Callable[[float], Any], a: float, h: float) -> Line:
    """The secant of ``f`` through ``a`` and ``a + h``: its slope is the forward difference.

    >>> secant(lambda x: x * x, 2.0, 0.5)
    Line(x0=2.0, y0=4.0, slope=4.5)
    """
    return Line(float(a), float(f(a)), float(numeric.forward_difference(f, a, h)))


def unit_directions(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` unit vectors of the plane, evenly spaced: ``(angles in degrees, vectors)``.

    Angle k is k·360/count degrees, in (−180, 180].

    >>> angles, vs = unit_directions(4)
    >>> angles.tolist(), vs.round(12).tolist()
    ([0.0, 90.0, 180.0, -90.0], [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    """
    angles = np.arange(count) * (360.0 / count)
    angles = np.where(angles > 180.0, angles - 360.0, angles)
    radians = np.radians(angles)
    return angles, np.stack([np.cos(radians), np.sin(radians)], axis=1)


class SteepestDescent:
    """The talk's optimiser: a learning rate, a budget of iterations, and x ← x − lr·∇f(x).

    ``finished()`` says whether the budget is spent, ``update(x, g)`` takes one step
    and spends from the budget, ``iterations()`` counts what was spent. The talk's
    version updated one coordinate at a time and spent one iteration per
    coordinate, so a 2-D run made budget/2 real steps; ``talk_compatible=True``
    reproduces that (for its frame counts), the default spends one per step.

    >>> sd = SteepestDescent(lr=0.1, budget=4, talk_compatible=True)
    >>> path = sd.run(lambda x, y: (2 * x, 2 * y), (1.0, 1.0))
    >>> len(path) - 1, sd.iterations()     # two real steps spent a budget of four
    (2, 4)
    """

    def __init__(self, lr: float, budget: int, *, talk_compatible: bool = False) -> None:
        if budget < 0:
            raise ValueError(f"the budget counts iterations and cannot be negative, got {budget}")
        self.lr = lr
        self.budget = budget
        self.remaining = budget
        self.talk_compatible = talk_compatible

    def finished(self) -> bool:
        """True once the budget is spent."""
        return self.remaining <= 0

    def update(self, x: Sequence[float], g: Sequence[float]) -> np.ndarray:
        """One step x − lr·g; spends one iteration (one per coordinate when talk-compatible)."""
        x = np.array(x, dtype=float)
        g = np.asarray(g, dtype=float)
        if self.talk_compatible:
            for i in range(x.size):  # the talk's per-coordinate update, one decrement each
                x.flat[i] -= self.lr * g.flat[i]
                self.remaining -= 1
        else:
            x -= self.lr * g
            self.remaining -= 1
        return x

    def iterations(self) -> int:
        """How much of the budget has been spent (the talk's title counter)."""
        return self.budget - self.remaining

    def run(self, grad: Callable[..., Sequence[float]], start: Sequence[float]) -> np.ndarray:
        """Update from ``start`` with ``grad(*x)`` until finished: the path, one row per iterate."""
        x = np.array(start, dtype=float)
        path = [x]
        while not self.finished():
            x = self.update(x, grad(*x))
            path.append(x)
        return np.array(path)


# ---------------------------------------------------------------------------
# Pictures (PNG frames for ad.widgets.Player, figures for the inline backend)


def _grid(
    f: Callable[..., Any], xlim: Sequence[float], ylim: Sequence[float], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs = np.linspace(xlim[0], xlim[1], n)
    ys = np.linspace(ylim[0], ylim[1], n)
    X, Y = np.meshgrid(xs, ys)
    Z = np.vectorize(lambda a, b: float(f(float(a), float(b))))(X, Y)
    return X, Y, Z


def grid_minimum(f: Callable[..., Any], lim: Sequence[float], n: int) -> float:
    """The smallest value of ``f(x, y)`` on an n×n grid over lim × lim: what a plot of it shows.

    >>> grid_minimum(lambda x, y: (x - 0.5) ** 2 + y * y, (-1, 1), 3)   # the grid misses 0.5
    0.25
    """
    return float(_grid(f, lim, lim, n)[2].min())


def blit_frames(
    fig: Any, animated: Sequence[Any], updates: Sequence[Callable[[], Any]]
) -> list[bytes]:
    """PNG frames of ``fig`` in which only the ``animated`` artists change: one per update.

    Everything else is drawn once and copied into each frame (blitting), so a frame
    costs the few moving artists and a PNG encoding, not a whole redraw: 401 frames
    take seconds. Each ``update()`` changes the animated artists (their data, a
    title's text); they must stay inside the figure. Closes the figure.

    >>> fig, ax = figure(2, 2)
    >>> (dot,) = ax.plot([0.0], [0.0], "o")
    >>> shots = blit_frames(fig, [dot], [lambda: dot.set_data([0.1], [0.2])] * 2)
    >>> len(shots), shots[0][:4] == b"\\x89PNG", shots[0] == shots[1]
    (2, True, True)
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    fig.set_dpi(DPI)
    for artist in animated:
        artist.set_animated(True)
    fig.canvas.draw()
    background = fig.canvas.copy_from_bbox(fig.bbox)
    shots = []
    for update in updates:
        update()
        fig.canvas.restore_region(background)
        for artist in animated:
            fig.draw_artist(artist)
        buffer = io.BytesIO()
        size = fig.canvas.get_width_height(physical=True)
        Image.frombuffer("RGBA", size, fig.canvas.buffer_rgba()).save(buffer, format="png")
        shots.append(buffer.getvalue())
    plt.close(fig)
    return shots


def tangent_frames(
    f: Callable[[float], Any],
    xs: Sequence[float],
    count: int,
    *,
    derivative: Callable[[float], Any],
) -> tuple[list[bytes], list[str]]:
    """The moving tangent of ``f``: ``count`` PNG frames (of the points ``xs``) and captions.

    Each frame shows f on ``xs``, the point (xᵢ, f(xᵢ)) and the tangent
    y = f′(xᵢ)(x − xᵢ) + f(xᵢ), with f′ = ``derivative``; the axes stay fixed to the
    x range and to the smallest and largest f on ``xs``. ``count`` points, evenly
    spread over ``xs`` (its first and last included), get a frame: ``len(xs)`` gives
    one per point (a quick run, :func:`~adlab.lecture.figures.frames`, draws only a few).
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.array([float(f(x)) for x in xs])
    shown = np.unique(np.linspace(0, len(xs) - 1, max(frames(count), 1)).round().astype(int))
    fig, ax = figure(6.0, 3.2)
    ax.plot(xs, ys, color="C0", label="f(x)")
    (line,) = ax.plot([], [], color="C1", label="tangent line")
    (dot,) = ax.plot([], [], "o", color="C3", label="(xᵢ, f(xᵢ))")
    ax.set(xlim=(xs[0], xs[-1]), ylim=(ys.min(), ys.max()), xlabel="x", ylabel="y", title="x")
    ax.legend(loc="lower left")
    fig.tight_layout()  # with room for the titles set below
    title = ax.title
    captions: list[str] = []

    def show(k: int) -> Callable[[], None]:
        def update() -> None:
            t = Line(float(xs[k]), float(ys[k]), float(derivative(float(xs[k]))))
            line.set_data(xs[[0, -1]], [t(xs[0]), t(xs[-1])])
            dot.set_data([t.x0], [t.y0])
            title.set_text(f"x = {t.x0:+.2f}, f′(x) = {t.slope:+.4f}")
            captions.append(f"point {k + 1} of {len(xs)}: x = {t.x0:+.2f}, f(x) = {t.y0:+.5f}, "
                            f"f′(x) = {t.slope:+.5f}")  # fmt: skip

        return update

    pictures = blit_frames(fig, [line, dot, title], [show(k) for k in shown])
    return pictures, captions


def surface_and_contour(
    f: Callable[..., Any],
    *,
    lim: tuple[float, float] = (-1.0, 1.0),
    n: int = 30,
    point: Sequence[float] | None = None,
    arrow: Sequence[float] | None = None,
    arrow_label: str = "∇f",
) -> Any:
    """``f(x, y)`` as a 3-D surface beside its filled contour plot (the talk's f0/f1 figures).

    Like the talk's figure: a 30×30 grid, surface alpha 0.98, the camera at azimuth 30°,
    elevation 30°; the contour plot has a colour bar, so its colours read as heights.
    ``point`` marks (x, y, f(x, y)) on both;
    ``arrow`` draws a horizontal arrow from it (at the point's height) along the given
    vector. Returns the figure, which the inline backend shows at the end of the cell.
    """
    import matplotlib.pyplot as plt

    X, Y, Z = _grid(f, lim, lim, n)
    fig = plt.figure(figsize=(9.0, 4.0))
    # drawn in call order, so the point and the arrow stay in front of the surface
    ax3 = fig.add_subplot(1, 2, 1, projection="3d", computed_zorder=False)
    ax2 = fig.add_subplot(1, 2, 2)
    ax3.plot_surface(X, Y, Z, cmap="viridis", alpha=0.98, linewidth=0)
    ax3.view_init(elev=30, azim=30)
    ax3.set(xlabel="x", ylabel="y")
    ax3.zaxis.set_rotate_label(False)  # else it reads upside down from this camera
    ax3.set_zlabel("f(x, y)", rotation=90, labelpad=12)
    ax3.set_box_aspect(None, zoom=0.85)
    filled = ax2.contourf(X, Y, Z, levels=20, cmap="viridis")
    fig.colorbar(filled, ax=ax2, label="f(x, y)", shrink=0.85)
    ax2.set(xlabel="x", ylabel="y", aspect="equal")
    if point is not None:
        px, py = map(float, point)
        pz = float(f(px, py))
        ax3.scatter([px], [py], [pz], color="red", s=30, depthshade=False)
        ax2.plot(px, py, "o", color="red")
        if arrow is not None:
            u, v = map(float, arrow)
            ax3.quiver(px, py, pz, u, v, 0.0, color="red", linewidth=2, label=arrow_label)
            ax2.annotate("", xy=(px + u, py + v), xytext=(px, py),
                         arrowprops={"arrowstyle": "->", "color": "red", "lw": 2})  # fmt: skip
            ax2.text(px + u, py + v, f" {arrow_label}", color="red")
            ax3.legend(loc="upper left")
        wide = (-1.3, 1.3)
        ax3.set(xlim=wide, ylim=wide, zlim=(-1.5, 1.5))
        ax2.set(xlim=wide, ylim=wide)
    fig.tight_layout()
    return fig


def descent_field(
    f: Callable[..., Any],
    *,
    lim: tuple[float, float] = (-1.0, 1.0),
    step: float = 0.25,
    scale: float = 0.5,
    grad: Callable[[float, float], Sequence[float]],
) -> Any:
    """Arrows along −``scale``·∇f(x, y) on a grid of base points over the filled contour of f.

    The base points are lim[0], lim[0] + step, …, lim[1] in each coordinate (a 9×9
    grid for the defaults); the gradients come from ``grad(x, y)``. Returns the
    figure, which the inline backend shows at the end of the cell.
    """
    X, Y, Z = _grid(f, lim, lim, 100)
    base = np.arange(lim[0], lim[1] + step / 2, step)
    BX, BY = np.meshgrid(base, base)
    G = np.array([[grad(float(a), float(b)) for a, b in zip(ra, rb)] for ra, rb in zip(BX, BY)])
    fig, ax = figure(4.2, 4.2)
    ax.contourf(X, Y, Z, levels=20, cmap="viridis", alpha=0.7)
    ax.quiver(BX, BY, -scale * G[..., 0], -scale * G[..., 1], angles="xy", scale_units="xy",
              scale=1.0, width=0.004)  # fmt: skip
    ax.set(xlabel="x", ylabel="y", aspect="equal", xlim=lim, ylim=lim,
           title=f"−{scale}·∇f at {base.size}×{base.size} points")  # fmt: skip
    fig.tight_layout()
    return fig


def _secant_axes(
    ax: Any,
    f: Callable,
    a: float,
    xlim: Sequence[float],
    ylim: Sequence[float],
    slope: float,
):
    """f and its tangent at a (of slope ``slope``), drawn once; the secant's line and points,
    set by ``show_secant``. Returns ``(f′(a), show_secant, the secant's artists)``.
    """
    xs = np.linspace(xlim[0], xlim[1], 401)
    exact = float(slope)
    ax.plot(xs, [float(f(x)) for x in xs], color="C0", label="f(x)")
    ax.plot(xs, Line(a, float(f(a)), exact)(xs), color="C2", lw=1, ls="--", label="tangent")
    (line,) = ax.plot([], [], color="C1", label="secant")
    (dots,) = ax.plot([], [], "o", color="C3")
    ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y")
    ax.legend(loc="lower left")

    def show_secant(h: float) -> Line:
        s = secant(f, a, h)
        line.set_data(xs[[0, -1]], s(xs[[0, -1]]))
        dots.set_data([a, a + h], [s.y0, float(f(a + h))])
        return s

    return exact, show_secant, (line, dots)


def secant_figure(
    f: Callable[[float], Any],
    a: float,
    h: float,
    *,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-4.0, 2.0),
    slope: float,
) -> Any:
    """``f`` with its secant through ``a`` and ``a + h`` and its tangent at ``a``, of slope
    ``slope`` (f′(a)).

    Returns the figure, which the inline backend shows at the end of the cell.
    """
    fig, ax = figure(6.0, 3.2)
    exact, show_secant, _ = _secant_axes(ax, f, a, xlim, ylim, slope)
    s = show_secant(h)
    ax.set_title(f"secant slope {s.slope:.4f}, f′({a}) = {exact:.4f}")
    fig.tight_layout()
    return fig


def secant_lab(
    f: Callable[[float], Any],
    a: float,
    hs: Sequence[float],
    *,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-4.0, 2.0),
    slope: float,
) -> tuple[list[bytes], list[str]]:
    """One frame per step h: the secant through a and a + h, and |forward difference − f′(a)|.

    Left, the function with its secant and tangent; right, the error of the
    forward difference against h on log–log axes, the current h marked (an error
    of exactly 0 is drawn at 1e-17); f′(a) is ``slope``. Returns PNG frames and
    captions for ``ad.widgets.Player`` (a quick run, :func:`~adlab.lecture.figures.frames`,
    draws only a few of the ``hs``, evenly spread).
    """
    fig, (left, right) = figure(10.0, 3.2, ncols=2)
    exact, show_secant, moving = _secant_axes(left, f, a, xlim, ylim, slope)
    hs, errors = numeric.error_sweep(f, a, exact, hs)
    shown = np.maximum(errors, 1e-17)
    right.loglog(hs, shown, "o-", color="0.6", ms=3)
    (mark,) = right.loglog([], [], "o", color="C3", ms=8)
    right.set(xlabel="h (shrinking to the right)", ylabel="|forward difference − f′(a)|",
              title="error of the forward difference")  # fmt: skip
    right.invert_xaxis()
    left.set_title("h")
    fig.tight_layout()  # with room for the titles set below
    captions: list[str] = []

    def show(h: float, err: float, e: float) -> Callable[[], None]:
        def update() -> None:
            s = show_secant(h)
            mark.set_data([h], [e])
            left.title.set_text(f"h = {h:.0e}")
            captions.append(f"h = {h:.0e}: slope {s.slope:.12f}, error {err:.1e}")

        return update

    picked = np.unique(np.linspace(0, len(hs) - 1, frames(len(hs))).round().astype(int))
    updates = [show(float(hs[k]), float(errors[k]), float(shown[k])) for k in picked]
    pictures = blit_frames(fig, [*moving, mark, left.title], updates)
    return pictures, captions
