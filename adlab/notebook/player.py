"""The Player: pre-rendered frames (an animation, a slider lab) that play without a kernel.

Like the Stepper, every frame is rendered once, up front, and put in a ``Stack``;
``jslink`` ties Play → slider → visible frame in the browser. So an animation of
gradient descent, or a lab where a slider moves the step h of a finite
difference, works live, in an exported HTML page and in slides alike. Frames are
PNG images (``bytes``, e.g. matplotlib figures) or HTML/SVG text; each may have
a caption.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import traitlets

__all__ = ["Player"]


def small_png(data: bytes) -> bytes:
    """A PNG re-encoded with a palette of at most 256 colours, when that is smaller: plots
    of lines and flat colours lose nothing visible, and an animation's saved state shrinks
    about threefold. (Pillow comes with matplotlib.)"""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:  # not an image Pillow reads: shown as given
        return data
    with image:
        if image.format != "PNG":
            return data
        fewer = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        out = io.BytesIO()
        fewer.save(out, format="PNG")
    return out.getvalue() if out.tell() < len(data) else data


class Player(widgets.VBox):
    """Frames with a Play button and a slider: ``Player(frames, captions, title=...)``.

    ``frames`` are PNG ``bytes`` or HTML/SVG ``str``; ``captions`` (optional, one per
    frame) is shown above the frame, e.g. ``"h = 1e-08: error 3.0e-09"``; ``label``
    names the slider (``"frame"``, ``"h"``, ``"step"``). ``frame`` (0-based) is the state.

    >>> p = Player(["<b>one</b>", "<b>two</b>"], ["first", "second"], title="demo")
    >>> p
    Player('demo', frame 1 of 2: first)
    >>> p.frame = 1; p.caption
    'second'
    """

    frame = traitlets.Int(0)

    def __init__(
        self,
        frames: Sequence[bytes | str],
        captions: Sequence[str] | None = None,
        *,
        title: str = "",
        label: str = "frame",
        interval: int = 300,
        start: int = 0,
    ) -> None:
        if not frames:
            raise ValueError("a Player needs at least one frame")
        if captions is not None and len(captions) != len(frames):
            raise ValueError(f"{len(frames)} frames but {len(captions)} captions: give one each")
        n = len(frames)
        if not 0 <= start < n:
            raise ValueError(f"start={start} is not a frame (there are {n})")
        self.title = title
        self.captions = list(captions) if captions is not None else [""] * n
        # one Layout for every frame and box: the saved state is the frames, not their layouts
        self._layout = widgets.Layout()
        children = [self._frame(f, c) for f, c in zip(frames, self.captions)]
        lay = self._layout
        self._stack = widgets.Stack(children, selected_index=start, layout=lay)
        play = widgets.Play(value=start, min=0, max=n - 1, interval=interval, description="play",
                            layout=lay)  # fmt: skip
        self._slider = widgets.IntSlider(
            value=start, min=0, max=n - 1, description=label, readout=False,
            continuous_update=True,
        )  # fmt: skip
        self._links = [
            widgets.jslink((play, "value"), (self._slider, "value")),
            widgets.jslink((self._slider, "value"), (self._stack, "selected_index")),
        ]
        for w, cls in ((play, "adlab-play"), (self._slider, "adlab-slider"),
                       (self._stack, "adlab-frames")):  # fmt: skip
            w.add_class(cls)
        head = [widgets.HTML(f"<b>{title}</b>", layout=lay)] if title else []
        super().__init__([*head, widgets.HBox([play, self._slider], layout=lay), self._stack])
        self.add_class("adlab-player")
        self.frame = start
        self._slider.observe(lambda ch: setattr(self, "frame", ch["new"]), names="value")

    def _frame(self, frame: bytes | str, caption: str) -> widgets.Widget:
        lay = self._layout
        if isinstance(frame, bytes):
            view: widgets.Widget = widgets.Image(value=small_png(frame), format="png", layout=lay)
        elif isinstance(frame, str):
            view = widgets.HTML(frame, layout=lay)
        else:
            raise TypeError(
                f"a frame is PNG bytes or an HTML/SVG string, not {type(frame).__name__}"
            )
        if not caption:
            return view
        text = widgets.HTML(f'<div style="font-family:monospace">{caption}</div>', layout=lay)
        text.add_class("adlab-caption")
        return widgets.VBox([text, view], layout=lay)

    @traitlets.validate("frame")
    def _valid_frame(self, proposal: dict) -> int:
        return min(max(proposal["value"], 0), len(self.captions) - 1)

    @traitlets.observe("frame")
    def _frame_changed(self, change: dict) -> None:
        if self._slider.value != change["new"]:
            self._slider.value = change["new"]

    @property
    def frames(self) -> int:
        """How many frames there are."""
        return len(self.captions)

    @property
    def caption(self) -> str:
        """The current frame's caption."""
        return self.captions[self.frame]

    def __repr__(self) -> str:
        caption = f": {self.caption}" if self.caption else ""
        return f"Player({self.title!r}, frame {self.frame + 1} of {self.frames}{caption})"
