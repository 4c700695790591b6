"""The Player: pre-rendered frames linked in the browser, so they play without a kernel."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest

import adlab as ad
from adlab.notebook.player import Player

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # only its type matters here


def _all(widget):
    stack = [widget]
    while stack:
        w = stack.pop()
        yield w
        stack.extend(getattr(w, "children", ()))


def test_frames_are_linked_in_the_browser():
    p = ad.widgets.Player([PNG, PNG, "<svg></svg>"], ["a", "b", "c"], title="t", label="h")
    kinds = [type(w).__name__ for w in _all(p)]
    assert kinds.count("Image") == 2 and "Play" in kinds and "Stack" in kinds
    links = {(link.source[1], link.target[1]) for link in p._links}
    assert links == {("value", "value"), ("value", "selected_index")}
    assert all(isinstance(link, widgets.widget_link.Link) for link in p._links)  # jslink
    assert p._slider.description == "h"


def test_the_frame_is_the_state_and_is_clamped():
    p = Player(["<i>0</i>", "<i>1</i>", "<i>2</i>"], ["zero", "one", "two"], start=1)
    assert (p.frame, p.caption, p._stack.selected_index) == (1, "one", 1)
    p.frame = 7
    assert (p.frame, p._slider.value) == (2, 2)
    p._slider.value = 0  # as the slider or Play would in the browser
    assert p.frame == 0 and repr(p) == "Player('', frame 1 of 3: zero)"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([],), {}, "at least one frame"),
        ((["a", "b"], ["only one"]), {}, "2 frames but 1 captions"),
        ((["a"],), {"start": 3}, "start=3 is not a frame"),
        (([1.5],), {}, "PNG bytes or an HTML/SVG string, not float"),
    ],
)
def test_bad_frames_are_explained(args, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Player(*args, **kwargs)


def test_png_frames_are_stored_with_a_palette_when_smaller():
    import io

    from PIL import Image

    from adlab.lecture.figures import figure, png
    from adlab.notebook.player import small_png

    fig, ax = figure()
    grid = np.linspace(-2, 2, 120)
    xs, ys = np.meshgrid(grid, grid)
    ax.contourf(xs, ys, xs**2 + 3 * ys**2, 20)
    ax.plot([0, 1], [1, 0], "r-o")
    data = png(fig)
    small = small_png(data)
    assert len(small) < len(data) / 2
    with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(small)) as b:
        assert b.format == "PNG" and a.size == b.size and b.mode == "P"
    assert small_png(b"not a png") == b"not a png"  # shown as given


@pytest.mark.parametrize("inline_first", [False, True])
def test_inline_figures_can_be_small_pngs(_shell, inline_first):
    # the session's shell (tests/notebook/conftest.py): creating InteractiveShell.instance()
    # here would make the later start_ipython() of the session fixture fail
    import io

    from PIL import Image

    from adlab.lecture.figures import figure
    from adlab.notebook.figures import small_inline_png

    formatter = _shell.display_formatter.formatters["image/png"]
    saved = dict(formatter.type_printers), dict(formatter.deferred_printers)
    try:
        if inline_first:  # as a notebook's set-up cell: %config InlineBackend.figure_formats first
            from IPython.core.pylabtools import select_figure_formats

            select_figure_formats(_shell, {"png"})
        small_inline_png(_shell)
        fig, ax = figure()
        grid = np.linspace(-2, 2, 120)
        ax.contourf(*np.meshgrid(grid, grid), np.add.outer(grid**2, 3 * grid**2), 20)
        data, _ = _shell.display_formatter.format(fig, include=["image/png"])
    finally:
        formatter.type_printers, formatter.deferred_printers = saved
    with Image.open(io.BytesIO(data["image/png"])) as image:
        assert image.format == "PNG" and image.mode == "P"
