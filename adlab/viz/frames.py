"""Every step of a sweep over a recorded trace, pre-rendered: the Stepper's frames.

A frame is one step of the forward sweep (values appear), the tangent sweep
(forward mode: each node's ẋ), or the backward sweep (adjoints accumulate, one
``+=`` contribution at a time). Each frame has the graph with the current node
highlighted, the Wengert list with the current row highlighted, and a line that
explains the step with its numbers. All frames of a trace share one layout, so
nothing moves while stepping or switching modes.

The frames are plain HTML strings: the Stepper widget puts them in a ``Stack``
that browser-side links switch, so stepping needs no kernel.

>>> import adlab as ad
>>> fs = frames(ad.trace(lambda x, y: x * (x + y), 2.0, 3.0), "reverse")
>>> [f.explanation for f in fs][:2]
['seed o̅u̅t̅ = 1.0', 'x̅ += o̅u̅t̅ · ∂out/∂x = 1.0 · 5.0 = 5.0']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adlab.core.events import bar, dot, format_value
from adlab.viz.graph import Graph, edges_of_terms, trace_graph
from adlab.viz.svg import FITS, Shape, layout, measure, render, rich, scroll_box
from adlab.viz.tables import Table

#: The Stepper's modes: values appearing, forward-mode tangents, reverse-mode adjoints.
STEPPER_MODES = ("forward", "tangent", "reverse")
MODE_LABELS = {"forward": "values", "tangent": "tangents ẋ", "reverse": "adjoints x̄"}
_MAX_TERMS = 3  # contributions listed on a node before they are elided


@dataclass(frozen=True)
class Frame:
    """One pre-rendered step: ``html`` holds the explanation, the graph and the table."""

    mode: str
    step: int
    steps: int
    node: int  # the trace node of this step
    explanation: str
    html: str


@dataclass
class _State:
    """What one step shows, before rendering."""

    lines: dict[str, tuple[tuple[str, str], ...]]
    states: dict[str, str]
    edges: dict[int, tuple[str, bool]]
    cells: dict[int, str]  # the table's last column, per trace node
    row: int  # highlighted table row
    mark: int | None  # lightly marked table row
    node: int
    explanation: str


def frames(trace: Any, mode: str, *, seed: Any = None) -> list[Frame]:
    """The frames of one mode (``"forward"``, ``"tangent"``, ``"reverse"``) of a trace.

    ``seed`` picks the tangent sweep's direction (see ``Trace.tangent_events``).
    """
    return all_frames(trace, (mode,), seed=seed)[mode]


def all_frames(
    trace: Any, modes: Sequence[str] = STEPPER_MODES, *, seed: Any = None
) -> dict[str, list[Frame]]:
    """The frames of several modes, drawn with one shared layout."""
    for m in modes:
        if m not in STEPPER_MODES:
            raise ValueError(f"unknown Stepper mode {m!r}; choose one of {STEPPER_MODES}")
    base = trace_graph(trace, values=True)
    steps = {m: _STEPS[m](trace, base, seed) for m in modes}
    # every node gets its largest size over all frames: nothing moves while stepping
    shapes: dict[str, Shape] = {n.id: measure(n) for n in base.nodes}
    seen: set = set()
    for states in steps.values():
        for st in states:
            for n in base.nodes:
                lines = st.lines.get(n.id)
                if lines is None or (n.id, lines) in seen:
                    continue
                seen.add((n.id, lines))
                shapes[n.id] = _largest(shapes[n.id], measure(dataclasses.replace(n, lines=lines)))
    labels = {  # every edge label of every frame gets its room between the columns
        (base.edges[i].target, label)
        for states in steps.values()
        for st in states
        for i, (label, _) in st.edges.items()
        if label
    }
    lay = layout(base, shapes, sorted(labels))
    values = {n.index: format_value(n.value) for n in trace.nodes}
    out = {}
    for m, states in steps.items():
        out[m] = [
            Frame(m, k, len(states), st.node, st.explanation,
                  _frame_html(trace, base, shapes, lay, m, k, len(states), st, values))
            for k, st in enumerate(states)
        ]  # fmt: skip
    return out


def _largest(a: Shape, b: Shape) -> Shape:
    return Shape(max(a.op_w, b.op_w), max(a.card_w, b.card_w), max(a.card_h, b.card_h))


def _forward(trace: Any, base: Graph, seed: Any) -> list[_State]:
    out = []
    done: dict[int, str] = {}  # node -> its value, once computed
    for e in trace.forward_events():
        nid = f"n{e.node}"
        done[e.node] = format_value(e.value)
        lines = {f"n{i}": (("value", v),) for i, v in done.items()}
        states = {n.id: "pending" for n in base.nodes[len(done) :]}  # execution order
        states[nid] = "current"
        lines.update({i: () for i in states if i != nid})
        edges = dict.fromkeys(base.edges_into(nid), ("", True))
        out.append(_State(lines, states, edges, dict(done), e.node, None, e.node, e.explain()))
    return out


def _tangent(trace: Any, base: Graph, seed: Any) -> list[_State]:
    out = []
    known: dict[int, str] = {}  # node -> its tangent, once computed
    for e in trace.tangent_events(seed):
        nid = f"n{e.node}"
        known[e.node] = format_value(e.tangent)
        lines = {
            n.id: (n.lines[0], ("tangent", f"{dot(t.name)} = {known[t.index]}"))
            for n, t in zip(base.nodes, trace.nodes)
            if t.index in known
        }
        edges = {
            i: (f"∂ {format_value(t.partial, 4)}" if t.partial is not None else "", True)
            for i, t in edges_of_terms(base, nid, e.terms)
        }
        out.append(
            _State(lines, {nid: "current"}, edges, dict(known), e.node, None, e.node, e.explain())
        )
    return out


def _reverse(trace: Any, base: Graph, seed: Any) -> list[_State]:
    out = []
    terms: dict[int, list[str]] = {}
    totals: dict[int, Any] = {}
    names = {n.index: n.name for n in trace.nodes}
    used: dict[tuple[int, int], int] = {}  # (source, node) -> contributions seen: which edge
    for e in trace.backward_events():
        terms.setdefault(e.node, []).append(format_value(e.contribution))
        totals[e.node] = e.total
        lines = {}
        for n in base.nodes:
            i = int(n.id[1:])
            if i in totals:
                lines[n.id] = (
                    n.lines[0],
                    ("adjoint", _adjoint_text(names[i], terms[i], totals[i])),
                )
        states = {f"n{e.node}": "current"}
        edges = {}
        if e.source is not None:
            states[f"n{e.source}"] = "source"
            k = used.get((e.source, e.node), 0)
            used[e.source, e.node] = k + 1
            into = [i for i in base.edges_into(f"n{e.source}")
                    if base.edges[i].source == f"n{e.node}"]  # fmt: skip
            if k < len(into):
                edges[into[k]] = (f"+= {format_value(e.contribution, 4)}", True)
        cells = {i: format_value(t) for i, t in totals.items()}
        row = e.node if e.source is None else e.source
        mark = None if e.source is None else e.node
        out.append(_State(lines, states, edges, cells, row, mark, e.node, e.explain()))
    return out


def _adjoint_text(name: str, terms: list[str], total: Any) -> str:
    if len(terms) == 1:
        return f"{bar(name)} = {terms[0]}"
    shown = terms if len(terms) <= _MAX_TERMS else [terms[0], "…", terms[-1]]
    return f"{bar(name)} = {' + '.join(shown)} = {format_value(total)}"


_STEPS = {"forward": _forward, "tangent": _tangent, "reverse": _reverse}
_COLUMN = {"forward": None, "tangent": "tangent ẋ", "reverse": "adjoint x̄"}


def _frame_html(
    trace: Any, base: Graph, shapes: dict, lay: Any, mode: str, k: int, n: int,
    st: _State, values: dict[int, str],
) -> str:  # fmt: skip
    graph = base.restyled(lines=st.lines, states=st.states, edges=st.edges)
    svg = render(graph, shapes=shapes, lay=lay, css_class="adlab-graph adlab-stepper-graph")
    extra = _COLUMN[mode]
    columns = ("name", "operation", "value") + ((extra,) if extra else ())
    rows = []
    for node in trace.nodes:
        op = "input" if node.is_input else node.text()
        if mode == "forward":
            rows.append((node.name, op, st.cells.get(node.index, "")))
        else:
            rows.append((node.name, op, values[node.index], st.cells.get(node.index, "")))
    table = Table(columns, rows, highlight=st.row, mark=st.mark)._repr_html_()
    explain = rich(st.explanation, html=True)
    return (
        f'<div class="adlab-frame adlab-mode-{mode}" data-step="{k}">'
        '<div class="adlab-explain" style="font-family:monospace;font-size:14px;'
        "padding:5px 10px;margin:2px 0 8px 0;background:#fff8e8;border-left:4px solid #ea7a00;"
        f'white-space:pre-wrap"><span class="adlab-stepno" style="color:#8a5300;'
        f'font-weight:bold">{MODE_LABELS[mode]} · step {k + 1} of {n}</span>'
        f'  <span class="adlab-text">{explain}</span></div>'
        '<div style="display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start">'
        f"{scroll_box(svg, FITS[1])}"
        f'<div class="adlab-wengert" style="font-size:13px">{table}</div>'
        "</div></div>"
    )
