"""The Stepper: step through the forward, tangent and backward sweeps of a recorded trace
(and the :class:`~adlab.notebook.player.Player` of pre-rendered frames, for animations).

Every frame is rendered once, up front (:mod:`adlab.viz.frames`), and put in a
``Stack``; ``jslink`` ties Play → slider → visible frame, the step box ↔ slider,
and the mode toggle → visible panel, in the browser. So stepping works with no
kernel at all: in an exported HTML page and in slides as well as live.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import traitlets

from adlab.notebook.player import Player
from adlab.viz.frames import MODE_LABELS, STEPPER_MODES, Frame, all_frames

__all__ = ["Player", "Stepper"]

_EMPTY = (
    '<div class="adlab-explain" style="font-family:monospace;padding:6px">Nothing to step '
    "through: {why}</div>"
)


class Stepper(widgets.VBox):
    """Step through a trace's sweeps, with the graph, the Wengert list and one line of maths.

    Modes: ``"forward"`` (values appear node by node), ``"tangent"`` (forward mode:
    each node's tangent ẋ for the seed ``seed``, an input's name or index) and
    ``"reverse"`` (adjoints x̄ accumulate, one ``+=`` contribution per step).

    Without a kernel (exported HTML, slides) every control but the four buttons
    works, linked in the browser: the mode toggle, Play and its speed, the step
    slider (arrow keys, Home/End) and the step box next to it, whose arrows (or
    ArrowUp/ArrowDown) step back and forward; it counts from 1, like the
    explanation. The buttons first / back / forward / last run in the kernel,
    for live use. The state is two traitlets, ``mode`` and ``step`` (0-based),
    kept in sync with the controls.

    >>> import adlab as ad
    >>> s = ad.widgets.Stepper(ad.trace(lambda x, y: x * (x + y), 2.0, 3.0))
    >>> s
    Stepper(mode='reverse', step 1 of 5; trace <Trace: 2 inputs, 2 operations>)
    >>> s.last(); s.explanation
    'y̅ += v̅1̅ · ∂v1/∂y = 2.0 · 1.0 = 2.0'
    """

    mode = traitlets.Enum(STEPPER_MODES, default_value="reverse")
    step = traitlets.Int(0)

    def __init__(
        self,
        trace: Any,
        mode: str = "reverse",
        *,
        seed: Any = None,
        interval: int = 800,
        max_nodes: int = 150,
    ) -> None:
        if mode not in STEPPER_MODES:
            raise ValueError(f"Stepper mode {mode!r}: choose one of {', '.join(STEPPER_MODES)}")
        if len(trace.nodes) > max_nodes:
            raise ValueError(
                f"the Stepper pre-renders every step, and this trace has {len(trace.nodes)} "
                f"nodes (the limit is max_nodes={max_nodes}); step through a smaller example, "
                "or draw the whole graph with ad.draw(trace)"
            )
        self.trace = trace
        self.frames: dict[str, list[Frame]] = all_frames(trace, seed=seed)
        self._toggle = widgets.ToggleButtons(
            options=[(MODE_LABELS[m], m) for m in STEPPER_MODES],
            value=mode,
            tooltips=["forward pass: values", "forward mode: tangents", "reverse mode: adjoints"],
            style={"button_width": "auto"},
        )
        self._toggle.add_class("adlab-mode")
        speed = widgets.IntSlider(
            value=interval, min=100, max=2000, step=100, description="ms/step", readout=True
        )
        speed.add_class("adlab-speed")
        self._sliders: dict[str, widgets.IntSlider] = {}  # value: the step, counted from 1
        self._boxes: dict[str, widgets.BoundedIntText] = {}
        self._links: list[widgets.Widget] = []  # jslinks: they work without a kernel
        panels = [self._panel(m, speed) for m in STEPPER_MODES]
        self._panels = widgets.Stack(panels, selected_index=STEPPER_MODES.index(mode))
        self._links.append(
            widgets.jslink((self._toggle, "index"), (self._panels, "selected_index"))
        )
        buttons = []
        for name, icon, move in (
            ("first", "fast-backward", self.first),
            ("back", "step-backward", self.back),
            ("forward", "step-forward", self.forward),
            ("last", "fast-forward", self.last),
        ):
            b = widgets.Button(description=name, icon=icon,
                               tooltip=f"{name} (runs in the kernel; without one, use the step "
                               "box's arrows or the slider)",
                               layout=widgets.Layout(width="auto"))  # fmt: skip
            b.add_class(f"adlab-{name}")
            b.on_click(lambda _, move=move: move())
            buttons.append(b)
        super().__init__(
            [widgets.HBox([self._toggle]), widgets.HBox([*buttons, speed]), self._panels]
        )
        self.add_class("adlab-stepper")
        self.mode = mode
        self._toggle.observe(lambda ch: setattr(self, "mode", ch["new"]), names="value")

    def _panel(self, mode: str, speed: widgets.IntSlider) -> widgets.Widget:
        frames = self.frames[mode]
        if not frames:
            why = "the output does not depend on the inputs (its gradient is 0)"
            return widgets.HTML(_EMPTY.format(why=why))
        n = len(frames)
        # steps count from 1, as in "step 1 of n": the Stack's child 0 is never shown
        play = widgets.Play(value=1, min=1, max=n, interval=speed.value, description="play")
        slider = widgets.IntSlider(value=1, min=1, max=n, description="step", readout=False,
                                   continuous_update=True)  # fmt: skip
        box = widgets.BoundedIntText(value=1, min=1, max=n, continuous_update=True,
                                     layout=widgets.Layout(width="64px"))  # fmt: skip
        stack = widgets.Stack(
            [widgets.HTML(""), *(widgets.HTML(f.html) for f in frames)], selected_index=1
        )
        self._links += [
            widgets.jslink((play, "value"), (slider, "value")),
            widgets.jslink((slider, "value"), (stack, "selected_index")),
            widgets.jslink((slider, "value"), (box, "value")),
            widgets.jslink((speed, "value"), (play, "interval")),
        ]
        for w, cls in ((play, "adlab-play"), (slider, "adlab-slider"), (box, "adlab-step"),
                       (stack, "adlab-frames")):  # fmt: skip
            w.add_class(cls)
        slider.observe(lambda ch, mode=mode: self._slid(mode, ch["new"] - 1), names="value")
        self._sliders[mode] = slider
        self._boxes[mode] = box
        of_n = widgets.Label(f"of {n}")
        return widgets.VBox([widgets.HBox([play, slider, box, of_n]), stack])

    # -- state -----------------------------------------------------------------------
    def _slid(self, mode: str, value: int) -> None:
        if mode == self.mode:
            self.step = value

    @traitlets.observe("mode")
    def _mode_changed(self, change: dict) -> None:
        self._toggle.value = change["new"]
        slider = self._sliders.get(change["new"])
        self.step = slider.value - 1 if slider is not None else 0

    @traitlets.observe("step")
    def _step_changed(self, change: dict) -> None:
        slider = self._sliders.get(self.mode)
        if slider is not None and slider.value != change["new"] + 1:
            slider.value = change["new"] + 1  # the slider clamps to its range
            self.step = slider.value - 1

    @property
    def steps(self) -> int:
        """The number of steps of the current mode."""
        return len(self.frames[self.mode])

    @property
    def frame(self) -> Frame | None:
        """The current frame (``None`` when the mode has no steps)."""
        frames = self.frames[self.mode]
        return frames[self.step] if frames else None

    @property
    def explanation(self) -> str:
        """The current step, explained in one line with its numbers."""
        frame = self.frame
        return frame.explanation if frame else ""

    # -- the buttons -----------------------------------------------------------------
    def first(self) -> None:
        self.step = 0

    def back(self) -> None:
        self.step = max(self.step - 1, 0)

    def forward(self) -> None:
        self.step = min(self.step + 1, max(self.steps - 1, 0))

    def last(self) -> None:
        self.step = max(self.steps - 1, 0)

    def __repr__(self) -> str:
        where = f"step {self.step + 1} of {self.steps}" if self.steps else "no steps"
        return f"Stepper(mode={self.mode!r}, {where}; trace {self.trace!r})"
