"""The Stepper's storyboard: one picture of a trace, and every step of its sweeps as a few
lines of style that change what the picture shows.

The three sweeps (values appearing, forward-mode tangents, reverse-mode adjoints
accumulating one ``+=`` contribution at a time) run one after the other on one
*timeline*. The picture -- the graph and the Wengert list -- is drawn once, with
every line that is shown only for a while (a value once computed, a tangent, each
partial sum of an adjoint) in place and tagged with its interval on the timeline.
A step is then a tiny style sheet: the CSS variable ``--s`` (the step's time,
which shows exactly the lines whose interval holds it), the current node, the node
an adjoint flows from, the highlighted edges and table rows, and which node the
scrolling box follows. So the saved state grows linearly with the steps, and
switching steps needs no kernel (the Stepper shows one step's style at a time).

>>> import adlab as ad
>>> board = Storyboard(ad.trace(lambda x, y: x * (x + y), 2.0, 3.0))
>>> [s.explanation for s in board.steps["reverse"]][:2]
['seed o̅u̅t̅ = 1.0', 'x̅ += o̅u̅t̅ · ∂out/∂x = 1.0 · 5.0 = 5.0']
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adlab.core.events import bar, dot, format_value
from adlab.viz.graph import Graph, edges_of_terms, trace_graph
from adlab.viz.svg import THEME_CSS, Shape, layout, least_width, measure, render, rich

#: The Stepper's modes: values appearing, forward-mode tangents, reverse-mode adjoints.
STEPPER_MODES = ("forward", "tangent", "reverse")
MODE_LABELS = {"forward": "values", "tangent": "tangents ẋ", "reverse": "adjoints x̄"}
_MAX_TERMS = 3  # contributions listed on a node before they are elided
_VIEW_HEIGHT = 420  # px: the graph's box scrolls beyond this (a deck's slide is 720 high)
_uids = itertools.count()
_FOREVER = 10**9  # the end of a line that, once shown, stays
_CHUNKS = 40  # at most about this many chunks of nodes: a step's style stays a few KB


@dataclass(frozen=True)
class Step:
    """One step of one sweep: what it explains, and what the picture highlights."""

    mode: str
    step: int  # 0-based, within its mode
    steps: int  # the mode's number of steps
    node: int  # the trace node this step computes (or whose adjoint it adds to)
    explanation: str
    time: int  # on the storyboard's timeline (the modes one after the other)
    source: int | None = None  # the node an adjoint flows from (reverse mode)
    edges: tuple[int, ...] = ()  # highlighted edges (indices into the graph's edges)
    row: int = 0  # the highlighted row of the Wengert list
    mark: int | None = None  # a lightly marked row


class Storyboard:
    """The picture of ``trace`` and the steps of ``modes`` (``seed``: the tangent sweep's
    direction, see ``Trace.tangent_events``). ``uid``, unique per storyboard, scopes the
    ids of the picture's elements and the class its steps' styles apply to."""

    def __init__(
        self, trace: Any, modes: Sequence[str] = STEPPER_MODES, *, seed: Any = None
    ) -> None:
        for m in modes:
            if m not in STEPPER_MODES:
                raise ValueError(f"unknown Stepper mode {m!r}; choose one of {STEPPER_MODES}")
        self.trace = trace
        base = trace_graph(trace, values=False)
        self.uid = f"adlab-s{next(_uids)}-{hashlib.sha1(repr(base).encode()).hexdigest()[:6]}"
        self._cells: dict[int, list[tuple[str, str, int, int]]] = {}  # row -> (col, text, a, b)
        self._timed: dict[int, list[tuple[int, str, str, int, int]]] = {}  # node -> lines
        self._labels: dict[int, list[tuple[str, int, int]]] = {}  # edge -> labels
        self._since: dict[int, int] = {}
        self.steps: dict[str, list[Step]] = {}
        self.end = 0
        for m in STEPPER_MODES:  # the timeline's order, whatever the order asked for
            if m in modes:
                self.steps[m] = getattr(self, f"_{m}")(base, seed)
        self.picture = self._picture(base)

    # -- the sweeps, on the timeline --------------------------------------------------
    def _forward(self, base: Graph, seed: Any) -> list[Step]:
        events = self.trace.forward_events()
        t0, n = self.end, len(events)
        self.end += n
        out = []
        for k, e in enumerate(events):
            t = t0 + k
            value = format_value(e.value)
            self._since[e.node] = t
            self._timed.setdefault(e.node, []).append((0, "value", value, t, _FOREVER))
            self._cells.setdefault(e.node, []).append(("value", value, t, _FOREVER))
            edges = tuple(base.edges_into(f"n{e.node}"))
            out.append(Step("forward", k, n, e.node, e.explain(), t, None, edges, e.node))
        return out

    def _values_always(self) -> None:
        """Without a forward sweep, the values are known from the start."""
        if self._since:
            return
        for node in self.trace.nodes:
            value = format_value(node.value)
            self._timed.setdefault(node.index, []).append((0, "value", value, 0, _FOREVER))
            self._cells.setdefault(node.index, []).append(("value", value, 0, _FOREVER))

    def _tangent(self, base: Graph, seed: Any) -> list[Step]:
        self._values_always()
        events = self.trace.tangent_events(seed)
        t0, n = self.end, len(events)
        self.end += n
        out = []
        for k, e in enumerate(events):
            t = t0 + k
            text = format_value(e.tangent)
            self._timed.setdefault(e.node, []).append(
                (1, "tangent", f"{dot(e.name)} = {text}", t, t0 + n)
            )
            self._cells.setdefault(e.node, []).append(("extra", text, t, t0 + n))
            edges = []
            for i, term in edges_of_terms(base, f"n{e.node}", e.terms):
                edges.append(i)
                if term.partial is not None:
                    self._labels.setdefault(i, []).append(
                        (f"∂ {format_value(term.partial, 4)}", t, t + 1)
                    )
            out.append(Step("tangent", k, n, e.node, e.explain(), t, None, tuple(edges), e.node))
        return out

    def _reverse(self, base: Graph, seed: Any) -> list[Step]:
        self._values_always()
        events = self.trace.backward_events()
        t0, n = self.end, len(events)
        self.end += n
        out = []
        terms: dict[int, list[str]] = {}
        names = {node.index: node.name for node in self.trace.nodes}
        used: dict[tuple[int, int], int] = {}  # (source, node) -> contributions: which edge
        last: dict[int, int] = {}  # node -> index of its latest adjoint line
        for k, e in enumerate(events):
            t = t0 + k
            terms.setdefault(e.node, []).append(format_value(e.contribution))
            lines = self._timed.setdefault(e.node, [])
            cells = self._cells.setdefault(e.node, [])
            if e.node in last:  # the previous partial sum ends here
                j = last[e.node]
                lines[j] = (*lines[j][:4], t)
                cells[-1] = (*cells[-1][:3], t)
            last[e.node] = len(lines)
            text = _adjoint_text(names[e.node], terms[e.node], e.total)
            lines.append((1, "adjoint", text, t, t0 + n))
            cells.append(("extra", format_value(e.total), t, t0 + n))
            edges: tuple[int, ...] = ()
            if e.source is not None:
                j = used.get((e.source, e.node), 0)
                used[e.source, e.node] = j + 1
                into = [i for i in base.edges_into(f"n{e.source}")
                        if base.edges[i].source == f"n{e.node}"]  # fmt: skip
                if j < len(into):
                    edges = (into[j],)
                    self._labels.setdefault(into[j], []).append(
                        (f"+= {format_value(e.contribution, 4)}", t, t + 1)
                    )
            row = e.node if e.source is None else e.source
            mark = None if e.source is None else e.node
            out.append(Step("reverse", k, n, e.node, e.explain(), t, e.source, edges, row, mark))
        return out

    # -- the picture, drawn once ---------------------------------------------------------
    def _picture(self, base: Graph) -> str:
        end = self.end
        nodes = tuple(
            dataclasses.replace(
                n,
                timed=tuple((s, r, x, a, min(b, end)) for s, r, x, a, b in self._timed.get(i, ())),
                since=self._since.get(i) if "forward" in self.steps else None,
            )
            for i, n in enumerate(base.nodes)
        )
        edges = tuple(
            dataclasses.replace(
                e, timed=tuple(self._labels.get(i, ())),
                label=max((t for t, _, _ in self._labels.get(i, ())), key=len, default=""),
            )
            for i, e in enumerate(base.edges)
        )  # fmt: skip
        graph = Graph(nodes, edges, base.title)
        chunk = self._chunk = max(32, -(-len(nodes) // _CHUNKS))
        # each chunk of the picture changes only where one of its lines starts or ends: its
        # own --s jumps between those times, so a step restyles only the chunks it changes
        ends: dict[str, set[int]] = {}
        for i, n in enumerate(nodes):
            ends.setdefault(f"g{i // chunk}", set()).update(
                [t for *_, a, b in n.timed for t in (a, b)]
                + ([n.since] if n.since is not None else [])
            )
        for j, e in enumerate(edges):
            since = nodes[int(e.target[1:])].since
            if since is not None:
                ends.setdefault(f"p{j // (2 * chunk)}", set()).add(since)
            if e.timed:
                ends.setdefault(f"l{j // (2 * chunk)}", set()).update(
                    t for _, a, b in e.timed for t in (a, b)
                )
        for i, cells in self._cells.items():
            ends.setdefault(f"t{i // chunk}", set()).update(t for *_, a, b in cells for t in (a, b))
        self._ends = {k: sorted(t for t in v if t < end) for k, v in ends.items()}
        shapes: dict[str, Shape] = {n.id: measure(n) for n in nodes}
        lay = layout(graph, shapes)
        svg = render(graph, shapes=shapes, lay=lay, css_class="adlab-graph", uid=self.uid,
                     chunk=chunk)  # fmt: skip
        w, h = lay.width, lay.height
        least = least_width(w)
        anchors = "".join(
            f'<i id="{self.uid}-a{int(k[1:])}" class="adlab-anchor" style="left:'
            f'{100 * (p.x + p.width / 2) / w:.2f}%;top:{100 * p.y / h:.2f}%"></i>'
            for k, p in lay.nodes.items()
        )
        svg = svg.replace("<svg ", '<svg style="width:100%;height:auto;display:block" ', 1)
        view = (
            f'<div class="adlab-view" style="max-height:{_VIEW_HEIGHT}px">'
            f'<div class="adlab-canvas" style="max-width:{w:.0f}px;min-width:{least:.0f}px">'
            f"{svg}{anchors}</div></div>"
        )
        return (
            f"<style>{THEME_CSS}{STEPPER_CSS}</style>"
            f'<div class="adlab-picture">'
            f'<div class="adlab-graphbox">{view}'
            '<label class="adlab-followbox"><input type="checkbox" class="adlab-follow" checked>'
            " follow the step</label></div>"
            f"{self._table()}</div>"
        )

    def _table(self) -> str:
        esc = html.escape
        modes = self.steps
        extra = []
        if "tangent" in modes:
            s = modes["tangent"]
            extra.append(("tangent ẋ", s[0].time if s else 0, s[-1].time + 1 if s else 0))
        if "reverse" in modes:
            s = modes["reverse"]
            extra.append(("adjoint x̄", s[0].time if s else 0, s[-1].time + 1 if s else 0))
        self._ends["h0"] = sorted({t for _, a, b in extra for t in (a, b) if t < self.end})
        head = "".join(f"<th>{c}</th>" for c in ("name", "operation", "value"))
        head += f"<th>{_stacked((t, a, b) for t, a, b in extra)}</th>" if extra else ""
        rows: dict[int, list[str]] = {}
        for node in self.trace.nodes:
            cells = self._cells.get(node.index, [])
            op = "input" if node.is_input else node.text()
            value = _stacked((t, a, b) for c, t, a, b in cells if c == "value")
            last = _stacked((t, a, b) for c, t, a, b in cells if c == "extra") if extra else None
            tds = [esc(node.name), esc(op), value] + ([last] if last is not None else [])
            rows.setdefault(node.index // self._chunk, []).append(
                f'<tr id="{self.uid}-r{node.index}">' + "".join(f"<td>{c}</td>" for c in tds)
                + "</tr>"
            )  # fmt: skip
        body = "".join(
            f'<tbody id="{self.uid}-t{k}">{"".join(rows[k])}</tbody>' for k in sorted(rows)
        )
        return (
            f'<div class="adlab-wengert" style="max-height:{_VIEW_HEIGHT}px">'
            f'<table class="adlab-table"><thead id="{self.uid}-h0"><tr>{head}</tr>'
            f"</thead>{body}"
            "</table></div>"
        )

    # -- one step -----------------------------------------------------------------------
    def style(self, step: Step) -> str:
        """The style sheet that shows ``step`` on the picture."""
        u = self.uid
        rules = [f"#{u}-n{step.node}>.adlab-hl{{display:inline}}"]
        for chunk, ends in self._ends.items():  # each chunk's latest change up to this step
            k = bisect.bisect_right(ends, step.time) - 1
            if k >= 0:
                rules.append(f"#{u}-{chunk}{{--s:{ends[k]}}}")
        if step.source is not None:
            rules.append(f"#{u}-n{step.source}>.adlab-src{{display:inline}}")
        rules += [f"#{u}-e{i}{{display:inline}}" for i in step.edges]
        rules.append(f"#{u}-r{step.row}{{background:#fff3b0;color:#1d2630}}")
        if step.mark is not None:
            rules.append(f"#{u}-r{step.mark}{{background:#fdf6e3;color:#1d2630}}")
        rules.append(f"#{u}-a{step.node},#{u}-r{step.row}{{scroll-snap-align:center}}")
        return "".join(rules)

    def step_html(self, step: Step) -> str:
        """What the Stepper shows for ``step`` above the picture: its line, and its style."""
        return (
            '<div class="adlab-explain"><span class="adlab-stepno">'
            f"{MODE_LABELS[step.mode]} · step {step.step + 1} of {step.steps}</span>  "
            f'<span class="adlab-text">{rich(step.explanation)}</span></div>'
            f"<style>{self.style(step)}</style>"
        )


def _stacked(variants: Any) -> str:
    """Texts shown one at a time in one cell, each in its interval of the timeline; the
    cell keeps the width of the widest, so nothing moves while stepping."""
    spans = "".join(
        f'<span class="adlab-t" style="--a:{a};--b:{b}">{rich(t)}</span>' for t, a, b in variants
    )
    return f'<span class="adlab-cell">{spans}</span>'


def _adjoint_text(name: str, terms: list[str], total: Any) -> str:
    if len(terms) == 1:
        return f"{bar(name)} = {terms[0]}"
    shown = terms if len(terms) <= _MAX_TERMS else [terms[0], "…", terms[-1]]
    return f"{bar(name)} = {' + '.join(shown)} = {format_value(total)}"


#: The Stepper's style: timed lines show while ``--a <= --s < --b``; faded nodes come in
#: at ``--a``; highlights are hidden until a step's style shows them; colours follow
#: JupyterLab's theme variables where they exist (light and dark), with light fallbacks.
STEPPER_CSS = (
    ".adlab-stepper .adlab-t{opacity:calc(clamp(0,var(--s,-1) - var(--a) + 1,1)"
    " * clamp(0,var(--b) - var(--s,-1),1))}"
    ".adlab-stepper .adlab-fade{opacity:calc(0.33 + 0.67 * clamp(0,var(--s,-1) - var(--a) + 1,1))}"
    ".adlab-stepper .adlab-hl,.adlab-stepper .adlab-src,.adlab-stepper path.adlab-active[id]"
    "{display:none}"
    ".adlab-stepper .adlab-picture-box,.adlab-stepper .adlab-picture-box>.widget-html-content"
    "{width:100%;min-width:0;max-width:100%}"
    ".adlab-stepper .adlab-picture{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start;"
    "max-width:100%}"
    ".adlab-stepper .adlab-graphbox{max-width:100%;min-width:0}"
    ".adlab-stepper .adlab-view{overflow:auto;max-width:100%;"
    "border:1px solid var(--jp-border-color2,#e0e0e0);border-radius:6px}"
    ".adlab-stepper .adlab-graphbox:has(.adlab-follow:checked) .adlab-view"
    "{scroll-snap-type:both mandatory}"
    ".adlab-stepper .adlab-canvas{position:relative}"
    ".adlab-stepper .adlab-anchor{position:absolute;width:2px;height:2px}"
    ".adlab-stepper .adlab-followbox{font-size:12px;color:var(--jp-ui-font-color2,#555);"
    "user-select:none}"
    ".adlab-stepper .adlab-wengert{overflow:auto;font-size:13px;"
    "scroll-snap-type:y mandatory}"
    ".adlab-stepper .adlab-table{border-collapse:collapse;font-family:monospace;"
    "color:var(--jp-content-font-color1,#1d2630)}"
    ".adlab-stepper .adlab-table td,.adlab-stepper .adlab-table th{padding:1px 10px;"
    "text-align:left;white-space:nowrap}"
    ".adlab-stepper .adlab-table th{border-bottom:1px solid #999;position:sticky;top:0;"
    "background:var(--jp-layout-color0,#fff)}"
    ".adlab-stepper .adlab-cell{display:inline-grid}"
    ".adlab-stepper .adlab-cell>span{grid-area:1/1}"
    ".adlab-stepper .adlab-explain{font-family:monospace;font-size:14px;padding:5px 10px;"
    "margin:2px 0 6px 0;background:#fff8e8;color:#1d2630;border-left:4px solid #ea7a00;"
    "white-space:pre-wrap}"
    ".adlab-stepper .adlab-stepno{color:#8a5300;font-weight:bold}"
)
