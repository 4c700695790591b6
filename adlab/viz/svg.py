"""adlab's own SVG drawings of graphs: deterministic, dependency-free, readable.

Each node is a card: the name in bold, its value under it, then its tangent ẋ
(purple) and adjoint x̄ (red) once known; the operation that computed it is an
orange badge on its left (``×``, ``sin``, ``÷2.0``) with an arrow into the card.
Inputs are blue, the output green. Edges are smooth curves that run between the
columns of the layered layout (:mod:`adlab.viz.layout`) and never through a node.

The same graph always gives the same bytes: ids derive from the content,
numbers are printed with one decimal, text is measured with a fixed advance
(a monospace font), so notebooks that store drawings stay nbval-clean.

>>> import adlab as ad
>>> d = ad.draw(ad.trace(lambda x, y: x * (x + y), 2.0, 3.0))
>>> d.svg.startswith("<svg") and "v1" in d.svg
True
"""

from __future__ import annotations

import hashlib
import html
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adlab.core.events import DOT, OVERLINE
from adlab.core.expr import register_drawer
from adlab.viz.graph import Graph, GraphNode, as_graph
from adlab.viz.groups import grouped
from adlab.viz.layout import Layout, Placed, Rect, layered_layout

FONT = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Noto Sans Mono CJK JP', monospace"
NAME_SIZE, LINE_SIZE, LABEL_SIZE, OP_SIZE = 13.0, 12.0, 11.5, 12.5
#: The smallest text a drawing ever shows, in CSS pixels: pictures shrink to fit no further.
MIN_TEXT = 10.0
ADVANCE = 0.602  # em per character of the monospace font
PAD_X, PAD_Y, NAME_LH, LINE_LH = 9.0, 5.0, 17.0, 15.0
OP_H, OP_PAD, OP_GAP = 26.0, 7.0, 16.0

COLOURS = {
    "input": ("#e7f0fb", "#3b78c4"),  # (fill, stroke)
    "value": ("#ffffff", "#96a1ad"),
    "output": ("#e6f5ec", "#2c9a5a"),
    "const": ("#f3f3f3", "#b5b5b5"),
    "op": ("#fff3dc", "#dc9328"),
    "group": ("#f3effa", "#8e7cc3"),  # a box standing for repeated blocks (viz.groups)
}
ROLE_COLOUR = {"value": "#1d2630", "tangent": "#7a2eb8", "adjoint": "#c0392b", "note": "#67717c"}
EDGE, ACTIVE, OP_TEXT = "#8c98a5", "#ea7a00", "#8a5300"

#: Graphs wider or taller than this display in a scrolling box (``_repr_html_``).
FITS = (960.0, 720.0)


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in the monospace font (combining marks take no room)."""
    n = sum(1 for c in text if not unicodedata.combining(c))
    wide = sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")
    return (n + wide) * size * ADVANCE


@dataclass(frozen=True)
class Shape:
    """A node's geometry relative to its box: the badge's width and the card's size
    (what :func:`measure` gives; the Stepper keeps each node's largest over all frames)."""

    op_w: float
    card_w: float
    card_h: float

    @property
    def width(self) -> float:
        gap = OP_GAP if self.op_w and self.card_w else 0.0
        return self.op_w + gap + self.card_w

    @property
    def height(self) -> float:
        return max(OP_H if self.op_w else 0.0, self.card_h)


def measure(node: GraphNode) -> Shape:
    """The room a node needs: its operation badge and its card of text (lines shown for a
    while, :attr:`~adlab.viz.graph.GraphNode.timed`, get the room of their widest)."""
    op_w = max(OP_H, text_width(node.op, OP_SIZE) + 2 * OP_PAD) if node.op else 0.0
    if not node.name and not node.lines and not node.timed:
        return Shape(op_w, 0.0, 0.0)
    texts = [t for _, t in node.lines] + [t for _, _, t, _, _ in node.timed]
    widths = [text_width(node.name, NAME_SIZE)] + [text_width(t, LINE_SIZE) for t in texts]
    card_w = max(widths) + 2 * PAD_X
    slots = max([len(node.lines), *(slot + 1 for slot, *_ in node.timed)])
    card_h = (NAME_LH if node.name else 2.0) + LINE_LH * slots + 2 * PAD_Y
    return Shape(op_w, max(card_w, 34.0), card_h)


def layout(
    graph: Graph,
    shapes: Mapping[str, Shape] | None = None,
    labels: Iterable[tuple[str, str]] | None = None,
) -> Layout:
    """The layered layout of ``graph``, with room between the columns for its edges' labels.

    ``shapes`` overrides measured sizes and ``labels`` (target id, label text) the
    labels to make room for: the Stepper reserves each node's largest size, and room
    for every label, over all its frames, so nothing moves.
    """
    shapes = shapes or {n.id: measure(n) for n in graph.nodes}
    boxes = [Rect(n.id, shapes[n.id].width, shapes[n.id].height) for n in graph.nodes]
    if labels is None:
        labels = [(e.target, e.label) for e in graph.edges if e.label]
    room: dict[str, float] = {}
    for target, text in labels:  # a label's box plus a little air on both sides
        room[target] = max(room.get(target, 0.0), _label_width(text) + 16.0)
    consts = [n.id for n in graph.nodes if n.kind == "const"]
    edges = [(e.source, e.target) for e in graph.edges]
    return layered_layout(boxes, edges, layer_gap=46.0, floating=consts, room=room)


def _f(v: float) -> str:
    """Fixed formatting of a coordinate: one decimal, no trailing ``.0``."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


_MARKED = re.compile(f"((?:[^{OVERLINE}{DOT}][{OVERLINE}{DOT}])+)")


def _plain(text: str) -> str:
    return text.replace(OVERLINE, "").replace(DOT, "")


def rich(text: str) -> str:
    """``text`` escaped for HTML, each overlined run (``x̅``, ``v̅1̅``: see
    ``core.events.bar``) with one real overline and each dotted run (``ȯu̇ṫ``:
    ``core.events.dot``) with one dot centred over it; combining marks sit unevenly,
    one per letter. Plain-text explanations keep the combining marks (:func:`svg_text`
    draws the marks in SVG).

    >>> rich("v̅1̅ = 2.0")
    '<span style="text-decoration:overline">v1</span> = 2.0'
    """
    out = []
    for k, part in enumerate(_MARKED.split(text)):
        clean = _esc(_plain(part))
        if k % 2 == 0:
            out.append(clean)
        elif OVERLINE in part:
            out.append(f'<span style="text-decoration:overline">{clean}</span>')
        else:
            out.append(
                f'<span style="position:relative">{clean}<span style="position:absolute;'
                'left:50%;top:-0.55em;transform:translateX(-50%);line-height:1">˙</span></span>'
            )
    return "".join(out)


def svg_text(text: str, cx: float, y: float, size: float, colour: str, attrs: str = "") -> str:
    """A line of SVG text centred at ``cx`` on baseline ``y``, its overlined and dotted runs
    marked by a drawn bar or dot. The text is stretched to its measured width
    (``textLength``), so the marks sit over their letters whatever the font."""
    attrs = f'{attrs} fill="{colour}"'.strip()
    plain = _plain(text)
    parts = _MARKED.split(text)
    if len(parts) == 1:
        return (
            f'<text x="{_f(cx)}" y="{_f(y)}" text-anchor="middle" font-size="{size}" '
            f"{attrs}>{_esc(plain)}</text>"
        )
    width = text_width(plain, size)
    x0 = cx - width / 2
    marks, before = [], ""
    for k, part in enumerate(parts):
        clean = _plain(part)
        if k % 2:
            xa = x0 + text_width(before, size)
            xb = xa + text_width(clean, size)
            if OVERLINE in part:
                marks.append(
                    f'<path d="M{_f(xa + 1)},{_f(y - size * 0.8)}H{_f(xb - 1)}" '
                    'stroke="currentColor" stroke-width="1"/>'
                )
            else:
                marks.append(
                    f'<circle cx="{_f((xa + xb) / 2)}" cy="{_f(y - size * 0.88)}" r="1.2" '
                    'fill="currentColor"/>'
                )
        before += clean
    return (
        f'<g {attrs} color="{colour}"><text x="{_f(x0)}" y="{_f(y)}" font-size="{size}" '
        f'textLength="{_f(width)}" lengthAdjust="spacingAndGlyphs">{_esc(plain)}</text>'
        f"{''.join(marks)}</g>"
    )


def render(
    graph: Graph,
    *,
    shapes: Mapping[str, Shape] | None = None,
    lay: Layout | None = None,
    css_class: str = "adlab-graph",
    uid: str | None = None,
    chunk: int = 32,
) -> str:
    """The SVG text of ``graph``; pass ``shapes``/``lay`` to draw several pictures of one
    graph at the same positions.

    With ``uid`` the picture is a Stepper's, drawn once for every step: nodes, edges and
    table rows get ids (``{uid}-n3``, ``{uid}-e5``), each node a hidden highlight and
    each edge a hidden highlighted route that a step's style sheet shows, and the timed
    lines and labels show themselves when the step (the CSS variable ``--s``) is in their
    interval (:data:`STEPPER_CSS`); nodes are grouped ``chunk`` at a time, edges and their
    labels twice as many, each group with its own ``--s``.
    """
    shapes = shapes or {n.id: measure(n) for n in graph.nodes}
    lay = lay or layout(graph, shapes)
    pid = uid or f"adlab-{hashlib.sha1(repr(graph).encode()).hexdigest()[:8]}"
    width, height = lay.width, lay.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{_f(width)}" '
        f'height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" '
        f'font-family="{_esc(FONT)}">',
        f"<title>{_esc(graph.title)}</title>" if graph.title else "",
        "<defs>",
        *(
            f'<marker id="{pid}-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="{size}" markerHeight="{size}" orient="auto-start-reverse">'
            f'<path d="M0,1 L9,5 L0,9 z" fill="{colour}"/></marker>'
            for name, colour, size in (("arrow", EDGE, 7), ("hot", ACTIVE, 6), ("op", OP_TEXT, 6))
        ),
        "</defs>",
        f'<rect class="adlab-bg" width="{_f(width)}" height="{_f(height)}" rx="6" fill="#fff"/>',
    ]
    # -- edges: each bus once, then every edge's last hop; highlighted ones on top ------
    routes = _routes(graph, lay, shapes)
    quiet, hot_paths = [], []
    faded: dict[int, list[str]] = {}  # a Stepper's edges that fade in, by chunk
    labels: dict[int, list[str]] = {}  # by chunk of edges
    for source in dict.fromkeys(e.source for e in graph.edges):
        bus = lay.bus(source)
        if bus:
            quiet.append(_edge_path(_stubbed(lay, source, bus), False, pid, arrow=False))
    for i, (edge, points) in enumerate(zip(graph.edges, routes)):
        path = _edge_path(points, edge.active, pid)
        target = graph.node(edge.target)
        if target.state == "pending":  # not computed yet: faded like its node
            path = path.replace("<path ", '<path opacity="0.3" ', 1)
        elif target.since is not None:
            path = path.replace('class="', f'style="--a:{target.since}" class="adlab-fade ', 1)
        if uid is not None and target.since is not None:
            faded.setdefault(i // (2 * chunk), []).append(path)
        else:
            (hot_paths if edge.active else quiet).append(path)
        if uid is not None:  # the whole route, highlighted, shown by a step's style sheet
            route = _stubbed(lay, edge.source, lay.route(i))
            route[-1] = points[-1]
            hot_paths.append(
                _edge_path(route, True, pid).replace("<path ", f'<path id="{uid}-e{i}" ', 1)
            )
    for box in _place_labels(graph, lay, routes):
        edge = graph.edges[box.id]
        x, y = _f(box.x + box.width / 2), _f(box.y + LABEL_SIZE * 0.36)
        hot = edge.active or bool(edge.timed)
        style = f'fill="{ACTIVE}" font-weight="bold"' if hot else 'fill="#4b5560"'
        for text, a, b in edge.timed or [(edge.label, None, None)]:
            timed = "" if a is None else f' adlab-t" style="--a:{a};--b:{b}'
            labels.setdefault(box.id // (2 * chunk), []).append(
                f'<text class="adlab-edge-label{timed}" x="{x}" y="{y}" text-anchor="middle" '
                f'font-size="{LABEL_SIZE}" {style} stroke="#fff" stroke-width="3" '
                f'paint-order="stroke">{_esc(text)}</text>'
            )
    nodes: dict[int, list[str]] = {}
    for i, n in enumerate(graph.nodes):
        nodes.setdefault(i // chunk, []).extend(
            _node(n, lay.nodes[n.id], shapes[n.id], pid, stepper=uid is not None)
        )

    def chunks(kind: str, parts: dict[int, list[str]]) -> list[str]:
        """A Stepper's picture groups its elements in chunks, each with its own step
        variable ``--s`` (see adlab.viz.storyboard); other drawings need no groups."""
        if uid is None:
            return [p for k in sorted(parts) for p in parts[k]]
        return [f'<g id="{uid}-{kind}{k}">{"".join(parts[k])}</g>'
                for k in sorted(parts)]  # fmt: skip

    out += ['<g class="adlab-edges">', *quiet, *chunks("p", faded), *hot_paths, "</g>"]
    out += ['<g class="adlab-nodes">', *chunks("g", nodes), "</g>"]
    out += chunks("l", labels)
    out.append("</svg>")
    return "".join(out)


def _routes(graph: Graph, lay: Layout, shapes: Mapping[str, Shape]) -> list[list]:
    """Each edge's polyline as drawn: a highlighted edge the whole way from its source, the
    others only their last hop (their source's bus is drawn once, for all of them)."""
    ports = _ports(graph, lay, shapes)
    routes = []
    for i, edge in enumerate(graph.edges):
        if edge.active:  # the whole way, drawn over the bus
            points = _stubbed(lay, edge.source, lay.route(i))
        else:
            start, end = lay.hop(i)
            src = lay.nodes[edge.source]
            adjacent = lay.nodes[edge.target].layer == src.layer + 1
            points = (
                _stubbed(lay, edge.source, [(src.right, src.y), end]) if adjacent else [start, end]
            )
        points[-1] = ports[i]
        routes.append(points)
    return routes


def label_boxes(graph: Graph, lay: Layout | None = None,
                shapes: Mapping[str, Shape] | None = None) -> list[Placed]:  # fmt: skip
    """The boxes of the edges' labels, as :func:`render` places them: each a
    :class:`~adlab.viz.layout.Placed` whose ``id`` is the edge's index and ``layer``
    the column its target stands in (the label sits just left of it)."""
    shapes = shapes or {n.id: measure(n) for n in graph.nodes}
    lay = lay or layout(graph, shapes)
    return _place_labels(graph, lay, _routes(graph, lay, shapes))


_ALONG = (0.3, 0.55, 0.15, 0.75, 0.9)  # where on the last hop a label may go, in order


def _place_labels(graph: Graph, lay: Layout, routes: list[list]) -> list[Placed]:
    """Each label on its edge's last hop, between the columns, just above or below the
    curve: the first spot along the hop clear of the labels placed before it and of the
    nodes, or else the least crowded one."""
    by_layer: dict[int, list] = {}
    for p in lay.nodes.values():
        by_layer.setdefault(p.layer, []).append(p)
    placed: dict[int, list[Placed]] = {}  # by the target's column
    out = []
    for i, edge in enumerate(graph.edges):
        if not edge.label:
            continue
        (x0, y0), (x1, y1) = routes[i][-2], routes[i][-1]
        layer = lay.nodes[edge.target].layer
        w, h = _label_width(edge.label), LABEL_SIZE + 3.0
        near = [*by_layer.get(layer - 1, ()), *by_layer.get(layer, ())]
        here = placed.setdefault(layer, [])
        best, best_cost = None, math.inf
        for t in _ALONG:
            cx, cy = _on_hop(x0, y0, x1, y1, t)
            cx = min(max(cx, x0 + w / 2), x1 - w / 2) if x1 - x0 > w else (x0 + x1) / 2
            for dy in (-(h / 2 + 1.0), h / 2 + 1.0):
                box = Placed(i, layer, cx - w / 2, cy + dy, w, h)
                cost = sum(_overlap_area(box, b) for b in (*here, *near))
                if cost < best_cost:
                    best, best_cost = box, cost
                if cost == 0:
                    break
            if best_cost == 0:
                break
        here.append(best)
        out.append(best)
    return out


def _label_width(text: str) -> float:
    return text_width(text, LABEL_SIZE) + 4.0


def _on_hop(x0: float, y0: float, x1: float, y1: float, t: float) -> tuple[float, float]:
    """The point at ``t`` of a last hop as :func:`_edge_path` draws it (an S-curve whose
    control points are level with its ends, or a straight line)."""
    if abs(y1 - y0) < 0.05:
        return x0 + (x1 - x0) * t, y0
    xm, s = (x0 + x1) / 2, 1 - t
    x = s**3 * x0 + 3 * s * s * t * xm + 3 * s * t * t * xm + t**3 * x1
    y = (s**3 + 3 * s * s * t) * y0 + (3 * s * t * t + t**3) * y1
    return x, y


def _overlap_area(a: Placed, b: Placed) -> float:
    """The area two boxes share."""
    dx = min(a.right, b.right) - max(a.x, b.x)
    dy = min(a.y + a.height / 2, b.y + b.height / 2) - max(a.y - a.height / 2, b.y - b.height / 2)
    return dx * dy if dx > 0 and dy > 0 else 0.0


def _stubbed(lay: Layout, source: Any, points: list) -> list[tuple[float, float]]:
    """``points`` with a straight stub from the source's card to its column's right side."""
    (x, y), right = points[0], lay.columns[lay.nodes[source].layer][1]
    return [(x, y), (right, y), *points[1:]] if right > x else list(points)


def _edge_path(points: list, hot: bool, pid: str, arrow: bool = True) -> str:
    """A path through ``points``: level steps straight, the others as smooth S-curves
    (horizontal at both ends, so they stay between the columns)."""
    d = f"M{_f(points[0][0])},{_f(points[0][1])}"
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if abs(y1 - y0) < 0.05:
            d += f"L{_f(x1)},{_f(y1)}"
        else:
            xm = (x0 + x1) / 2
            d += f"C{_f(xm)},{_f(y0)} {_f(xm)},{_f(y1)} {_f(x1)},{_f(y1)}"
    colour, marker, width = (ACTIVE, "hot", 2.6) if hot else (EDGE, "arrow", 1.3)
    end = f' marker-end="url(#{pid}-{marker})"' if arrow else ""
    cls = "adlab-edge adlab-active" if hot else "adlab-edge" if arrow else "adlab-bus"
    return (
        f'<path class="{cls}" d="{d}" fill="none" stroke="{colour}" stroke-width="{width}"{end}/>'
    )


def _ports(graph: Graph, lay: Layout, shapes: Mapping[str, Shape]) -> list[tuple[float, float]]:
    """Where each edge ends: spread over the left of the target's badge (or card), in
    argument order, on its outline."""
    ends: list[tuple[float, float]] = [(0.0, 0.0)] * len(graph.edges)
    for node in graph.nodes:
        idx = graph.edges_into(node.id)
        if not idx:
            continue
        p, shape = lay.nodes[node.id], shapes[node.id]
        k = len(idx)
        r = (OP_H if shape.op_w else shape.card_h) / 2
        step = min(8.0, (2 * r - 10) / (k - 1)) if k > 1 else 0.0
        for j, i in enumerate(idx):
            dy = (j - (k - 1) / 2) * step
            x = p.x
            if shape.op_w:  # the badge's rounded end: x = r - sqrt(r² - dy²) from its left
                x += r - math.sqrt(max(r * r - dy * dy, 0.0))
            ends[i] = (x - 1.0, p.y + dy)
    return ends


def _node(n: GraphNode, p: Any, shape: Shape, pid: str, stepper: bool = False) -> list[str]:
    """A node's SVG: badge and card. In a Stepper's picture (``stepper``) the highlight of
    the current node (``adlab-hl``) and of the node an adjoint comes from (``adlab-src``)
    are drawn hidden, for a step's style sheet to show."""
    classes = f"adlab-node adlab-{n.kind}" + ("" if n.state == "normal" else f" adlab-{n.state}")
    opacity = ' opacity="0.33"' if n.state == "pending" else ""
    if n.since is not None:
        classes += " adlab-fade"
        opacity = f' style="--a:{n.since}"'
    hot = n.state == "current"
    parts = [
        f'<g class="{classes}" id="{pid}-{_esc(n.id)}" data-name="{_esc(n.name)}"{opacity}>',
        f"<title>{_esc(n.title or n.name)}</title>",
    ]
    cy = p.y
    x = p.x
    if shape.op_w:
        fill, stroke = COLOURS["op"]
        top = cy - OP_H / 2
        glow = (
            f'<rect {{}}x="{_f(x - 3)}" y="{_f(top - 3)}" width="{_f(shape.op_w + 6)}" '
            f'height="{_f(OP_H + 6)}" rx="{_f(OP_H / 2 + 3)}" fill="none" stroke="{ACTIVE}" '
            'stroke-opacity="0.35" stroke-width="5"/>'
        )
        if hot or stepper:
            parts.append(glow.format('class="adlab-hl" ' if stepper else ""))
        parts.append(
            f'<rect class="adlab-op" x="{_f(x)}" y="{_f(top)}" width="{_f(shape.op_w)}" '
            f'height="{_f(OP_H)}" rx="{_f(OP_H / 2)}" fill="{fill}" stroke="{stroke}" '
            'stroke-width="1.4"/>'
            f'<text x="{_f(x + shape.op_w / 2)}" y="{_f(cy + OP_SIZE * 0.36)}" '
            f'text-anchor="middle" font-size="{OP_SIZE}" font-weight="bold" '
            f'fill="{OP_TEXT}">{_esc(n.op)}</text>'
        )
        x += shape.op_w
        if shape.card_w:
            parts.append(
                f'<path d="M{_f(x)},{_f(cy)}L{_f(x + OP_GAP - 1)},{_f(cy)}" stroke="{OP_TEXT}" '
                f'stroke-width="1.3" marker-end="url(#{pid}-op)"/>'
            )
            x += OP_GAP
    if shape.card_w:
        fill, stroke = COLOURS.get(n.kind, COLOURS["value"])
        top = cy - shape.card_h / 2
        w, h = shape.card_w, shape.card_h
        glow = (
            f'<rect {{}}x="{_f(x - 4)}" y="{_f(top - 4)}" width="{_f(w + 8)}" '
            f'height="{_f(h + 8)}" rx="9" fill="#fff2cc" stroke="{ACTIVE}" '
            'stroke-opacity="0.45" stroke-width="5"/>'
        )
        if hot or stepper:
            parts.append(glow.format('class="adlab-hl" ' if stepper else ""))
        sw = "2.6" if hot else "1.4"
        dash = ' stroke-dasharray="5 3"' if n.state == "source" or n.kind == "group" else ""
        edge_colour = ACTIVE if n.state in ("current", "source") else stroke
        card = (
            f'<rect {{}}x="{_f(x)}" y="{_f(top)}" width="{_f(w)}" height="{_f(h)}" rx="6" '
            f'fill="{fill}" stroke="{{}}" stroke-width="{{}}"{{}}/>'
        )
        parts.append(card.format('class="adlab-card" ', edge_colour, sw, dash))
        if stepper:  # the outline of the node an adjoint flows from, and of the current one
            parts.append(
                card.format('class="adlab-src" ', ACTIVE, "1.4", ' stroke-dasharray="5 3"')
            )
            parts.append(card.format('class="adlab-hl" ', ACTIVE, "2.6", ""))
        ty = top + PAD_Y + NAME_SIZE * 0.95
        if n.name:
            parts.append(
                f'<text class="adlab-name" x="{_f(x + w / 2)}" y="{_f(ty)}" text-anchor="middle" '
                f'font-size="{NAME_SIZE}" font-weight="bold" fill="#111">{_esc(n.name)}</text>'
            )
        ty += (NAME_LH if n.name else 2.0) - NAME_SIZE * 0.95 + LINE_SIZE * 0.95
        lines = [(k, role, text, "") for k, (role, text) in enumerate(n.lines)] + [
            (slot, role, text, f' adlab-t" style="--a:{a};--b:{b}')
            for slot, role, text, a, b in n.timed
        ]
        for slot, role, text, timed in lines:
            colour = ROLE_COLOUR.get(role, ROLE_COLOUR["note"])
            parts.append(
                svg_text(text, x + w / 2, ty + slot * LINE_LH, LINE_SIZE, colour,
                         f'class="adlab-{role}{timed}"')
            )  # fmt: skip
    parts.append("</g>")
    return parts


class Drawing:
    """An SVG picture that shows itself in a notebook; ``.svg`` is the text.

    A notebook shows it as HTML: fitted to the width of the page, but never shrunk below
    the size where its smallest text is :data:`MIN_TEXT` pixels (bigger pictures scroll).
    JupyterLab would otherwise shrink a wide SVG to any size (``max-width: 100%``).

    >>> import adlab as ad
    >>> d = ad.draw(ad.trace(lambda x: ad.sin(x) * x, 1.0))
    >>> d
    <Drawing: computation graph of out, 3 nodes, 3 edges>
    """

    def __init__(
        self, svg: str, graph: Graph, width: float, height: float, grouped: str | None = None
    ) -> None:
        self.svg = svg
        self.graph = graph
        self.width = width
        self.height = height
        self.grouped = grouped  # the SVG with repeated blocks collapsed (viz.groups), if any

    @property
    def fits(self) -> bool:
        return self.width <= FITS[0] and self.height <= FITS[1]

    def __repr__(self) -> str:
        g = self.graph
        return f"<Drawing: {g.title or 'graph'}, {len(g.nodes)} nodes, {len(g.edges)} edges>"

    def __str__(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        if self.grouped is None:
            return scroll_box(self.svg)
        n = len(self.graph.nodes)
        return (
            f'<div class="adlab-grouping"><style>{_GROUPING_CSS}</style>'
            '<label style="font:12px sans-serif"><input type="checkbox" class="adlab-expand"> '
            f"show all {n} nodes (the dashed box stands for blocks that repeat)</label>"
            f'<div class="adlab-collapsed">{scroll_box(self.grouped)}</div>'
            f'<div class="adlab-full">{scroll_box(self.svg)}</div></div>'
        )

    def save(self, path: Any) -> None:
        """Write the SVG to a file."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.svg)


_SIZE = re.compile(r'<svg [^>]*?width="([0-9.]+)" height="([0-9.]+)"')

#: Colours that follow JupyterLab's theme (light or dark) where its CSS variables exist;
#: elsewhere (exported HTML, slides, files) the fallbacks are the drawing's own colours.
THEME_CSS = (
    ".adlab-graph .adlab-bg{fill:var(--jp-layout-color0,#fff)}"
    ".adlab-graph .adlab-edge-label{fill:var(--jp-content-font-color1,#4b5560);"
    "stroke:var(--jp-layout-color0,#fff)}"
    ".adlab-graph .adlab-edge-label[font-weight]{fill:#ea7a00}"
)


def least_width(width: float) -> float:
    """The narrowest a picture ``width`` wide may be shown: its smallest text at
    :data:`MIN_TEXT` px, even in a deck (reveal.js shows a slide at 96 % of the window)."""
    return width * MIN_TEXT / min(NAME_SIZE, LINE_SIZE, LABEL_SIZE, OP_SIZE) / 0.96


def scroll_box(svg: str, max_height: float = FITS[1]) -> str:
    """An HTML box for ``svg``: as wide as the page allows, never smaller than the scale at
    which its smallest text is :data:`MIN_TEXT` px, scrolling when it is still too big."""
    m = _SIZE.match(svg)
    width = float(m.group(1)) if m else FITS[0]
    least = least_width(width)
    sized = svg.replace(
        "<svg ", f'<svg style="width:100%;max-width:{_f(width)}px;min-width:{_f(least)}px;'
        'height:auto;display:block" ', 1
    )  # fmt: skip
    return (
        f"<style>{THEME_CSS}</style>"
        f'<div class="adlab-scroll" style="overflow:auto;max-width:100%;'
        f'max-height:{_f(max_height)}px">{sized}</div>'
    )


_GROUPING_CSS = (
    ".adlab-grouping:has(.adlab-expand:checked)>.adlab-collapsed,"
    ".adlab-grouping:not(:has(.adlab-expand:checked))>.adlab-full{display:none}"
)


def draw(obj: Any, *, group: bool = True, **options: Any) -> Drawing:
    """Draw a Trace, a Wengert list (``trace.tape``), a ``%%grad`` result or a Graph as SVG.

    Options go to the object's adapter, for a trace: ``adjoints=True`` (each
    node's x̄), ``tangents=True`` with ``seed=`` (each node's ẋ),
    ``partials=True`` (local partial derivatives on the edges).

    >>> import adlab as ad
    >>> t = ad.trace(lambda x, y: x * y + ad.sin(x), 2.0, 3.0)
    >>> ad.draw(t, adjoints=True, partials=True)
    <Drawing: computation graph of out, 5 nodes, 5 edges>

    A big graph whose operations repeat (a loop, a layer) is shown grouped, its middle
    repetitions in one box, with a switch to the whole picture (``group=False``: never).
    """
    graph = as_graph(obj, **options)
    shapes = {n.id: measure(n) for n in graph.nodes}
    lay = layout(graph, shapes)
    small = grouped(graph) if group else None
    return Drawing(
        render(graph, shapes=shapes, lay=lay), graph, lay.width, lay.height,
        render(small) if small is not None else None,
    )  # fmt: skip


register_drawer(draw)  # expressions draw themselves in notebooks
