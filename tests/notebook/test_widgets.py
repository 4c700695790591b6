"""The Stepper: pre-rendered frames, browser-side links, a small kernel-side state."""

from __future__ import annotations

import ipywidgets as widgets
import pytest
import traitlets

import adlab as ad
from adlab.core.events import format_value
from adlab.notebook.widgets import Stepper
from adlab.viz.frames import STEPPER_MODES, all_frames, frames


def fan_out(x, y):
    u = x * y
    z = u + ad.sin(x) * y
    return z


@pytest.fixture
def trace():
    return ad.trace(fan_out, 2.0, 3.0)


def test_ad_widgets_is_the_widgets_module():
    assert ad.widgets.Stepper is Stepper


def test_one_frame_per_event_explained_by_the_event(trace):
    s = Stepper(trace)
    events = {
        "forward": trace.forward_events(),
        "tangent": trace.tangent_events(),
        "reverse": trace.backward_events(),
    }
    for mode in STEPPER_MODES:
        assert [f.explanation for f in s.frames[mode]] == [e.explain() for e in events[mode]]
        assert [f.node for f in s.frames[mode]] == [e.node for e in events[mode]]


def test_each_frame_highlights_its_node_row_and_explains_itself(trace):
    for f in frames(trace, "forward"):
        name = trace.nodes[f.node].name
        assert f'class="adlab-node adlab-{"input" if f.node < 2 else ""}'.rstrip("-") in f.html
        assert 'adlab-current" id=' in f.html and f'data-name="{name}"' in f.html
        assert 'class="adlab-current"' in f.html  # the table row
        assert f"step {f.step + 1} of {f.steps}" in f.html
    later = frames(trace, "forward")[2].html
    assert 'opacity="0.33"' in later  # values not computed yet are faded


def test_reverse_frames_accumulate_adjoints_with_plus_equals(trace):
    fs = frames(trace, "reverse")
    last = fs[-1].html
    gx, gy = trace.backward()
    # x receives two contributions (fan-out): shown as a sum on the node
    assert f"= {format_value(gx)}</text>" in last and " + " in last
    assert "adlab-active" in fs[1].html and "+= " in fs[1].html
    assert "adlab-source" in fs[1].html  # the node the adjoint flows from
    # the Wengert list's adjoint column ends with the gradient
    for name, value, g in (("x", 2.0, gx), ("y", 3.0, gy)):
        row = f"<td>{name}</td><td>input</td><td>{value}</td><td>{format_value(g)}</td>"
        assert row in last


def test_tangent_frames_follow_the_seed(trace):
    dy = frames(trace, "tangent", seed="y")
    assert dy[-1].explanation.endswith(format_value(trace.backward()[1]))


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
    # one frame per step, after a child 0 that is never shown (steps count from 1)
    frame_counts = sorted(len(st.children) - 1 for st in stacks if st is not s._panels)
    assert frame_counts == sorted(len(s.frames[m]) for m in STEPPER_MODES)
    classes = {c for w in _walk(s) for c in w._dom_classes}
    for c in ("adlab-stepper", "adlab-forward", "adlab-back", "adlab-first", "adlab-last",
              "adlab-slider", "adlab-step", "adlab-play", "adlab-mode",
              "adlab-frames"):  # fmt: skip
        assert c in classes


def test_the_step_box_and_slider_count_steps_from_one_like_the_explanation(trace):
    s = Stepper(trace, mode="forward")
    box, slider = s._boxes["forward"], s._sliders["forward"]
    assert (box.min, box.value, box.max) == (1, 1, s.steps)
    assert (slider.min, slider.value, slider.max) == (1, 1, s.steps)
    s.forward()
    assert slider.value == 2 and "step 2 of" in s.frame.html


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
    assert s.explanation == s.frames["forward"][2].explanation
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
    assert s.mode == "reverse" and s.steps == len(s.frames["reverse"])  # refused, not kept

    def long(x):
        for _ in range(200):
            x = x * 1.01
        return x

    with pytest.raises(ValueError, match=r"ad\.draw\(trace\)"):
        Stepper(ad.trace(long, 1.0))


def test_frames_share_one_layout_so_nothing_moves(trace):
    import re

    fs = [f for mode_frames in all_frames(trace).values() for f in mode_frames]
    sizes = {re.search(r'viewBox="([^"]+)"', f.html).group(1) for f in fs}
    assert len(sizes) == 1
