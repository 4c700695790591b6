"""The Stepper: step through the forward, tangent and backward sweeps of a recorded trace
(and the :class:`~adlab.notebook.player.Player` of pre-rendered frames, for animations).

The picture (graph and Wengert list) is drawn once (:mod:`adlab.viz.storyboard`); a
step is a few lines of style that change what it shows, one small ``HTML`` widget per
step in a ``Stack``. ``jslink`` ties Play → slider → the visible step, the step box ↔
slider, and the mode toggle → visible panel, in the browser. So stepping works with no
kernel at all (in an exported HTML page and in slides as well as live), and the saved
state grows linearly with the number of steps.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import traitlets
from ipywidgets.widgets.widget_string import HTMLStyle

from adlab.notebook.player import Player
from adlab.viz.storyboard import MODE_LABELS, STEPPER_MODES, Step, Storyboard

__all__ = ["Player", "Stepper"]

_EMPTY = (
    '<div class="adlab-explain">Nothing to step through: {why}</div><style>.{uid}{{--s:-1}}</style>'
)


class Stepper(widgets.VBox):
    """Step through a trace's sweeps, with the graph, the Wengert list and one line of maths.

    Modes: ``"forward"`` (values appear node by node), ``"tangent"`` (forward mode:
    each node's tangent ẋ for the seed ``seed``, an input's name or index) and
    ``"reverse"`` (adjoints x̄ accumulate, one ``+=`` contribution per step).

    Every control works without a kernel (exported HTML, slides), linked in the
    browser: the mode toggle, Play (Space on it plays and pauses) and its speed, the
    step slider (←/→, Home/End once it has the focus) and the step box next to it,
    whose arrows (or ↑/↓) step back and forward; it counts from 1, like the
    explanation. A big graph scrolls, following the current node ("follow the step"
    switches that off to look around). The state is two traitlets, ``mode`` and
    ``step`` (0-based), kept in sync with the controls; ``first()``, ``back()``,
    ``forward()`` and ``last()`` move it from Python.

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
    ) -> None:
        if mode not in STEPPER_MODES:
            raise ValueError(f"Stepper mode {mode!r}: choose one of {', '.join(STEPPER_MODES)}")
        self.trace = trace
        self.board = Storyboard(trace, seed=seed)
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
        # one Layout and one style for every step's HTML: a model per step, not three
        self._shared = {"layout": widgets.Layout(), "style": HTMLStyle()}
        panels = [self._panel(m, speed) for m in STEPPER_MODES]
        self._panels = widgets.Stack(panels, selected_index=STEPPER_MODES.index(mode))
        self._links.append(
            widgets.jslink((self._toggle, "index"), (self._panels, "selected_index"))
        )
        picture = widgets.HTML(self.board.picture, **self._shared)
        picture.add_class("adlab-picture-box")
        super().__init__([widgets.HBox([self._toggle, speed]), self._panels, picture])
        self.add_class("adlab-stepper")
        self.add_class(self.board.uid)
        self.mode = mode
        self._toggle.observe(lambda ch: setattr(self, "mode", ch["new"]), names="value")

    def _panel(self, mode: str, speed: widgets.IntSlider) -> widgets.Widget:
        steps = self.board.steps[mode]
        if not steps:
            why = "the output does not depend on the inputs (its gradient is 0)"
            return widgets.HTML(_EMPTY.format(why=why, uid=self.board.uid))
        n = len(steps)
        # steps count from 1, as in "step 1 of n": the Stack's child 0 is never shown
        lay = self._shared["layout"]
        play = widgets.Play(value=1, min=1, max=n, interval=speed.value, description="play",
                            layout=lay)  # fmt: skip
        slider = widgets.IntSlider(value=1, min=1, max=n, description="step", readout=False,
                                   continuous_update=True)  # fmt: skip
        box = widgets.BoundedIntText(value=1, min=1, max=n, continuous_update=True,
                                     layout=widgets.Layout(width="72px"))  # fmt: skip
        shared = self._shared
        stack = widgets.Stack(
            [widgets.HTML("", **shared),
             *(widgets.HTML(self.board.step_html(s), **shared) for s in steps)],
            selected_index=1, layout=lay,
        )  # fmt: skip
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
        of_n = widgets.Label(f"of {n}", layout=lay)
        return widgets.VBox(
            [widgets.HBox([play, slider, box, of_n], layout=lay), stack], layout=lay
        )

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
        return len(self.board.steps[self.mode])

    @property
    def current(self) -> Step | None:
        """The current step (``None`` when the mode has no steps)."""
        steps = self.board.steps[self.mode]
        return steps[self.step] if steps else None

    @property
    def explanation(self) -> str:
        """The current step, explained in one line with its numbers."""
        step = self.current
        return step.explanation if step else ""

    # -- moving from Python ------------------------------------------------------------
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
