"""The Stepper: step through the forward, tangent and backward sweeps of a recorded trace
(and the :class:`~adlab.notebook.player.Player` of pre-rendered frames, for animations).

The picture (graph and Wengert list) is drawn once (:mod:`adlab.viz.storyboard`); a
step is a few lines of style that change what it shows, one small ``HTML`` widget per
step in a ``Stack``. ``jslink`` ties Play → slider → the visible step, the step box ↔
slider, and the mode toggle → visible panel, in the browser. So stepping works with no
kernel at all (in an exported HTML page and in slides as well as live), and the saved
state grows linearly with the number of steps.

A page holds only so many widget models: above :data:`OFFLINE_STEPS` steps (about
1,000 operations) the Stepper keeps one ``HTML`` widget per mode that the running
kernel fills at each step, and says so on its explanation line (an exported page then
shows the step it was saved at, and the note).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import traitlets
from ipywidgets.widgets.widget_string import HTMLStyle

from adlab.notebook.player import Player
from adlab.viz.storyboard import MODE_LABELS, STEPPER_MODES, SWAP_CSS, Step, Storyboard

__all__ = ["Player", "Stepper"]

#: The most steps (of the three sweeps together) a Stepper saves for stepping without a
#: kernel. An exported page with 3,157 steps (996 operations, 15 MB) loads in a few seconds
#: and steps in 0.1-0.3 s; one with 15,830 (4,998 operations, 86 MB, a widget model per
#: step) did not render in Chromium within 5 minutes (bench/stepper.py measures the state).
OFFLINE_STEPS = 4000

_KERNEL_NOTE = (
    '<div class="adlab-note">{steps:,} steps are more than a page steps through without a '
    "kernel ({limit:,}): these steps come from the running kernel; in a saved page, run the "
    "notebook to step.</div>"
)

_EMPTY = (
    '<div class="adlab-explain">Nothing to step through: {why}</div><style>.{uid}{{--s:-1}}</style>'
)


class Stepper(widgets.VBox):
    """Step through a trace's sweeps, with the graph, the Wengert list and one line of maths.

    Modes: ``"forward"`` (values appear node by node), ``"tangent"`` (forward mode:
    each node's tangent ẋ for the seed ``seed``, an input's name or index) and
    ``"reverse"`` (adjoints x̄ accumulate, one ``+=`` contribution per step).

    Every control works without a kernel (exported HTML, slides), linked in the
    browser: the mode toggle, Play (Space on its focused ▶ plays, on ⏸ pauses) and its
    speed, ⏮ and ⏭ (first and last step), the step slider (←/→, Home/End once it has
    the focus) and the step box next to it, whose arrows (or ↑/↓) step back and
    forward; it counts from 1, like the explanation. A big graph scrolls, following the
    current node ("follow the step" switches that off to look around). The state is two
    traitlets, ``mode`` and ``step`` (0-based), kept in sync with the controls;
    ``first()``, ``back()``, ``forward()`` and ``last()`` move it from Python.

    ``offline`` (default: up to :data:`OFFLINE_STEPS` steps) saves every step in the
    page; ``offline=False`` has the kernel show each step instead (a small saved state
    for a big trace, but stepping then needs the running kernel).

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
        offline: bool | None = None,
    ) -> None:
        if mode not in STEPPER_MODES:
            raise ValueError(f"Stepper mode {mode!r}: choose one of {', '.join(STEPPER_MODES)}")
        self.trace = trace
        self.board = Storyboard(trace, seed=seed)
        total = sum(len(v) for v in self.board.steps.values())
        self.offline = total <= OFFLINE_STEPS if offline is None else bool(offline)
        self._note = "" if self.offline else _KERNEL_NOTE.format(steps=total, limit=OFFLINE_STEPS)
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
        self._views: dict[str, widgets.HTML] = {}  # mode -> the view the kernel fills
        # one Layout and one style for every step's HTML: a model per step, not three
        self._shared = {"layout": widgets.Layout(), "style": HTMLStyle()}
        panels = [self._panel(m, speed) for m in STEPPER_MODES]
        self._panels = widgets.Stack(panels, selected_index=STEPPER_MODES.index(mode))
        self._links.append(
            widgets.jslink((self._toggle, "index"), (self._panels, "selected_index"))
        )
        swap = f"<style>{SWAP_CSS}</style>" if self.offline else ""  # a view per step only
        picture = widgets.HTML(swap + self.board.picture, **self._shared)
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
        # steps count from 1, as in "step 1 of n" (the Stack's child 0 is never shown)
        lay = self._shared["layout"]
        play = widgets.Play(value=1, min=1, max=n, interval=speed.value, description="play",
                            layout=lay)  # fmt: skip
        slider = widgets.IntSlider(value=1, min=1, max=n, description="step", readout=False,
                                   continuous_update=True)  # fmt: skip
        box = widgets.BoundedIntText(value=1, min=1, max=n, continuous_update=True,
                                     layout=widgets.Layout(width="72px"))  # fmt: skip
        first, last = _Jump(1, "first step", lay), _Jump(n, "last step", lay)
        self._links += [  # the slider first: a link copies its source's value when made
            widgets.jslink((play, "value"), (slider, "value")),
            widgets.jslink((slider, "value"), (box, "value")),
            widgets.jslink((speed, "value"), (play, "interval")),
            widgets.jslink((slider, "value"), (first, "value")),
            widgets.jslink((slider, "value"), (last, "value")),
        ]
        if self.offline:
            shared = self._shared
            view = widgets.Stack(
                [widgets.HTML("", **shared),
                 *(widgets.HTML(self.board.step_html(s), **shared) for s in steps)],
                selected_index=1, layout=lay,
            )  # fmt: skip
            self._links.append(widgets.jslink((slider, "value"), (view, "selected_index")))
        else:  # one view, filled by the kernel (see _slid)
            view = widgets.HTML(self._note + self.board.step_html(steps[0]), **self._shared)
            self._views[mode] = view
        classes = {"adlab-play": play, "adlab-slider": slider, "adlab-step": box,
                   "adlab-frames": view, "adlab-first": first, "adlab-last": last}  # fmt: skip
        for cls, w in classes.items():
            w.add_class(cls)
        slider.observe(lambda ch, mode=mode: self._slid(mode, ch["new"] - 1), names="value")
        self._sliders[mode] = slider
        self._boxes[mode] = box
        of_n = widgets.Label(f"of {n}", layout=lay)
        return widgets.VBox(
            [widgets.HBox([play, first, slider, last, box, of_n], layout=lay), view], layout=lay
        )

    # -- state -----------------------------------------------------------------------
    def _slid(self, mode: str, value: int) -> None:
        view = self._views.get(mode)
        if view is not None:  # stepping from the kernel
            steps = self.board.steps[mode]
            step = steps[min(max(value, 0), len(steps) - 1)]
            view.value = self._note + self.board.step_html(step)
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


class _Jump(widgets.Play):
    """⏮ or ⏭: a Play showing only its ⏹ button, which moves its value to ``to`` (its min and
    max) in the browser; its value is linked to the step slider, so that button jumps the
    slider there, kernel or not. Its value is not clamped to ``to`` (it follows the slider)."""

    def __init__(self, to: int, tooltip: str, layout: widgets.Layout) -> None:
        super().__init__(min=to, max=to, show_repeat=False, tooltip=tooltip, layout=layout)
        self.value = 1  # where the slider starts

    @traitlets.validate("value")
    def _validate_value(self, proposal: dict) -> int:
        return proposal["value"]
