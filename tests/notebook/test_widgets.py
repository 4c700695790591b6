"""The Stepper: one picture, a small style per step, browser-side links, a small kernel state."""

from __future__ import annotations

import json
import re

import ipywidgets as widgets
import pytest
import traitlets

import adlab as ad
from adlab.core.events import format_value
from adlab.notebook.widgets import Stepper
from adlab.viz.storyboard import STEPPER_MODES, Storyboard


def fan_out(x, y):
    u = x * y
    z = u + ad.sin(x) * y
    return z


@pytest.fixture
def trace():
    return ad.trace(fan_out, 2.0, 3.0)


def test_ad_widgets_is_the_widgets_module():
    assert ad.widgets.Stepper is Stepper


def test_one_step_per_event_explained_by_the_event(trace):
    s = Stepper(trace)
    events = {
        "forward": trace.forward_events(),
        "tangent": trace.tangent_events(),
        "reverse": trace.backward_events(),
    }
    times = []
    for mode in STEPPER_MODES:
        steps = s.board.steps[mode]
        assert [st.explanation for st in steps] == [e.explain() for e in events[mode]]
        assert [st.node for st in steps] == [e.node for e in events[mode]]
        times += [st.time for st in steps]
    assert times == list(range(len(times)))  # one timeline, the modes one after the other


def test_each_step_highlights_its_node_and_row_and_explains_itself(trace):
    board = Storyboard(trace)
    u = board.uid
    for st in board.steps["forward"]:
        style = board.style(st)
        # the step variable of the chunk holding the node jumps to this step (its value
        # appears now); chunks with nothing new keep theirs, so only they are restyled
        assert f"#{u}-g{st.node // board._chunk}{{--s:{st.time}}}" in style
        assert f"#{u}-n{st.node}>.adlab-hl{{display:inline}}" in style
        assert f"#{u}-r{st.node}{{background:" in style
        assert f"#{u}-a{st.node}," in style  # the scrolling box follows the node
        assert f"step {st.step + 1} of {st.steps}" in board.step_html(st)
    # the picture is drawn once: each node fades in at its own forward step
    for st in board.steps["forward"]:
        assert (
            f'id="{u}-n{st.node}" data-name="{trace.nodes[st.node].name}" style="--a:{st.time}"'
            in (board.picture)
        )
    assert board.picture.count("<svg") == 1


def test_reverse_steps_accumulate_adjoints_with_plus_equals(trace):
    board = Storyboard(trace)
    steps = board.steps["reverse"]
    gx, gy = trace.backward()
    end = steps[-1].time + 1
    # x receives two contributions (fan-out): its node shows the sum from the second one on
    second = [st for st in steps if st.node == 0][1]
    assert re.search(
        rf'class="adlab-adjoint adlab-t" style="--a:{second.time};--b:{end}"[^>]*>'
        rf"<text[^>]*>x = [^<]* \+ [^<]* = {re.escape(format_value(gx))}</text>",
        board.picture,
    )
    # the first partial sum is shown only until the second arrives
    first = next(st for st in steps if st.node == 0)
    assert f'style="--a:{first.time};--b:{second.time}"' in board.picture
    st = steps[1]
    assert st.source is not None and len(st.edges) == 1
    assert f"#{board.uid}-n{st.source}>.adlab-src{{display:inline}}" in board.style(st)
    assert f"#{board.uid}-e{st.edges[0]}{{display:inline}}" in board.style(st)
    label = f"+= {format_value(trace.backward_events()[1].contribution, 4)}"
    assert f'style="--a:{st.time};--b:{st.time + 1}"' in board.picture and label in board.picture
    # the Wengert list's adjoint column ends with the gradient
    for name, g in (("x", gx), ("y", gy)):
        node = trace.node(name)
        row = re.search(rf'<tr id="{board.uid}-r{node.index}">.*?</tr>', board.picture).group(0)
        assert f'--b:{end}">{format_value(g)}</span>' in row


def test_tangent_steps_follow_the_seed(trace):
    dy = Storyboard(trace, seed="y").steps["tangent"]
    assert dy[-1].explanation.endswith(format_value(trace.backward()[1]))


def test_the_saved_state_grows_linearly_with_the_steps():
    """One picture, and one small HTML model per step (sharing one layout and style)."""

    def chain(n):
        def f(x):
            for _ in range(n):
                x = ad.sin(x) * 1.01 + x
            return x

        return ad.trace(f, 0.3)

    def state_bytes(s):
        models = {}
        stack = [s]
        while stack:
            w = stack.pop()
            if w.model_id in models:
                continue
            state = w.get_state()
            models[w.model_id] = len(json.dumps(state, default=str))
            stack += [v for v in w._trait_values.values() if isinstance(v, widgets.Widget)]
            stack += list(getattr(w, "children", ()))
        return sum(models.values()), len(models)

    sizes = {}
    for n in (40, 80):
        s = Stepper(chain(n))
        steps = sum(len(v) for v in s.board.steps.values())
        total, models = state_bytes(s)
        sizes[n] = total
        assert models < steps + 100  # a model per step, and the controls (a fixed number)
        assert total / steps < 30_000  # bytes per step, the picture's share included
    assert sizes[80] < 2.3 * sizes[40]  # linear, not quadratic


def test_controls_are_linked_in_the_browser(trace):
    s = Stepper(trace)
    links = [(type(l.source[0]).__name__, l.source[1], type(l.target[0]).__name__, l.target[1])
             for l in s._links]  # fmt: skip
    assert ("ToggleButtons", "index", "Stack", "selected_index") in links
    assert links.count(("Play", "value", "IntSlider", "value")) == 3  # one per mode
    assert links.count(("IntSlider", "value", "Stack", "selected_index")) == 3
    # a number box steps back and forward with its arrows, in the browser
    assert links.count(("IntSlider", "value", "BoundedIntText", "value")) == 3
    assert {type(l).__name__ for l in s._links} == {"Link"}  # jslink: no kernel needed
    stacks = [w for w in _walk(s) if isinstance(w, widgets.Stack)]
    # one step per child, after a child 0 that is never shown (steps count from 1)
    step_counts = sorted(len(st.children) - 1 for st in stacks if st is not s._panels)
    assert step_counts == sorted(len(s.board.steps[m]) for m in STEPPER_MODES)
    classes = {c for w in _walk(s) for c in w._dom_classes}
    for c in ("adlab-stepper", s.board.uid, "adlab-slider", "adlab-step", "adlab-play",
              "adlab-mode", "adlab-frames"):  # fmt: skip
        assert c in classes
    # no control that needs a kernel: buttons would do nothing in a deck
    assert not [w for w in _walk(s) if isinstance(w, widgets.Button)]


def test_the_step_box_and_slider_count_steps_from_one_like_the_explanation(trace):
    s = Stepper(trace, mode="forward")
    box, slider = s._boxes["forward"], s._sliders["forward"]
    assert (box.min, box.value, box.max) == (1, 1, s.steps)
    assert (slider.min, slider.value, slider.max) == (1, 1, s.steps)
    s.forward()
    assert slider.value == 2 and s.current.step == 1


def _walk(w):
    stack = [w]
    while stack:
        v = stack.pop()
        yield v
        stack += list(getattr(v, "children", ()))


def test_state_is_mode_and_step_and_the_buttons_move_it(trace):
    s = Stepper(trace, mode="forward")
    assert (s.mode, s.step, s.steps) == ("forward", 0, len(trace.nodes))
    s.forward()
    s.forward()
    assert s.step == 2 and s._sliders["forward"].value == 3  # the slider counts from 1
    assert s.explanation == s.board.steps["forward"][2].explanation
    s.last()
    assert s.step == s.steps - 1
    s.forward()  # stays at the end
    assert s.step == s.steps - 1
    s.back()
    s.first()
    assert s.step == 0
    s._sliders["forward"].value = 4  # the slider moved in the browser
    assert s.step == 3
    s.mode = "reverse"  # each mode keeps its own place
    assert s._toggle.value == "reverse" and s.step == 0
    s._toggle.value = "forward"
    assert s.mode == "forward" and s.step == 3
    s.step = 99  # clamped to the last step
    assert s.step == s.steps - 1


def test_the_repr_is_short_and_stable(trace):
    s = Stepper(trace)
    assert repr(s) == "Stepper(mode='reverse', step 1 of 8; trace <Trace: 2 inputs, 4 operations>)"
    assert repr(s) == repr(Stepper(ad.trace(fan_out, 2.0, 3.0)))
    bundle = s._repr_mimebundle_()
    assert bundle["text/plain"] == repr(s)


def test_a_constant_output_has_no_backward_steps():
    s = Stepper(ad.trace(lambda x: 3.0, 1.0))
    assert s.steps == 0 and s.explanation == "" and "no steps" in repr(s)


def test_refusals_name_the_problem_and_the_fix(trace):
    with pytest.raises(ValueError, match="choose one of forward, tangent, reverse"):
        Stepper(trace, mode="backward")
    s = Stepper(trace)
    with pytest.raises(traitlets.TraitError):
        s.mode = "bogus"
    assert s.mode == "reverse" and s.steps == len(s.board.steps["reverse"])  # refused, not kept
