"""A deterministic layered layout for directed acyclic graphs (data flows left to right).

The classic Sugiyama recipe, kept small:

1. **layers** — each node goes in the column of its generation (longest path
   from a source), so a node stands to the right of everything it depends on;
   then each intermediate value moves right, to just before its first use;
2. **buses** — an edge that skips columns is routed through one placeholder
   per skipped column; all edges leaving one node share these placeholders, so
   a value used far away travels along one line that branches where it is used;
3. **order** — within each column, nodes are sorted by the barycentre of their
   neighbours, sweeping right and left a few times, keeping the order with the
   fewest edge crossings;
4. **positions** — each node is pulled towards the mean height of its
   neighbours while keeping its order and a minimum gap (an isotonic
   regression, solved exactly by pool-adjacent-violators).

Nothing here is random and every tie is broken by the input order, so the same
graph always gets the same picture; no step recurses on the graph's depth.

>>> lay = layered_layout([Rect("x", 40, 20), Rect("y", 40, 20), Rect("z", 40, 20)],
...                      [("x", "z"), ("y", "z")])
>>> [lay.nodes[k].layer for k in "xyz"]
[0, 0, 1]
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

from adlab.core.graph import generations, topological_order


@dataclass(frozen=True)
class Rect:
    """A node to place: its id and the size of its rectangle."""

    id: Hashable
    width: float
    height: float


@dataclass(frozen=True)
class Placed:
    """A placed node: its column and the box's left edge, vertical centre and size."""

    id: Hashable
    layer: int
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width


@dataclass(frozen=True)
class Layout:
    """Where everything goes: placed nodes, the columns, and the edges' routes.

    An edge leaves its source's right edge; when it skips columns it follows its
    source's *bus*, one placeholder per skipped column (all edges of one source
    share it), and makes its last hop from the bus to the target's left edge.
    Between two columns a route may bend freely: no node stands there.
    """

    nodes: dict[Hashable, Placed]
    edges: list[tuple[Hashable, Hashable]]
    columns: list[tuple[float, float]]  # (left, right) of each layer
    bus_y: dict[tuple[Hashable, int], float]  # (source, layer) -> height of its bus there
    width: float
    height: float

    def bus(self, source: Hashable) -> list[tuple[float, float]]:
        """The polyline of ``source``'s bus: its right edge, then, per skipped column,
        the points where the bus enters and leaves it (empty when it has none)."""
        p = self.nodes[source]
        points = []
        layer = p.layer + 1
        while (source, layer) in self.bus_y:
            y = self.bus_y[source, layer]
            points += [(self.columns[layer][0], y), (self.columns[layer][1], y)]
            layer += 1
        return [(p.right, p.y), *points] if points else []

    def hop(self, i: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """The last hop of edge ``i``: from the right of the column before the target (on
        the source's bus, or level with the source) to the target's left edge."""
        s, t = self.edges[i]
        ps, pt = self.nodes[s], self.nodes[t]
        y = self.bus_y.get((s, pt.layer - 1), ps.y)
        return (self.columns[pt.layer - 1][1], y), (pt.x, pt.y)

    def route(self, i: int) -> list[tuple[float, float]]:
        """The whole polyline of edge ``i``: source, its bus up to the target, target."""
        s, t = self.edges[i]
        ps, pt = self.nodes[s], self.nodes[t]
        points = [(ps.right, ps.y)]
        for layer in range(ps.layer + 1, pt.layer):
            y = self.bus_y[s, layer]
            points += [(self.columns[layer][0], y), (self.columns[layer][1], y)]
        return [*points, (pt.x, pt.y)]


_BUS = "bus"  # placeholder vertices are (_BUS, source id, layer)


def layered_layout(
    boxes: Sequence[Rect],
    edges: Sequence[tuple[Hashable, Hashable]],
    *,
    layer_gap: float = 48.0,
    node_gap: float = 14.0,
    bus_gap: float = 6.0,
    margin: float = 12.0,
    sweeps: int = 4,
    floating: Collection[Hashable] = (),
    room: Mapping[Hashable, float] | None = None,
) -> Layout:
    """Place ``boxes`` in columns so every edge runs left to right and no two nodes overlap.

    ``edges`` are ``(source id, target id)`` pairs (repeats allowed, e.g. ``x * x``);
    the graph must be acyclic. Sources stay in column 0, except those in ``floating``
    (constants, say), which move next to their first use like intermediate values.
    ``room`` asks for a wider gap than ``layer_gap`` before some nodes' columns (node id
    -> width), for the labels of the edges into them.
    """
    ids = [b.id for b in boxes]
    size = {b.id: b for b in boxes}
    if len(size) != len(ids):
        raise ValueError("layout: node ids must be unique")
    parents: dict[Hashable, list[Hashable]] = {i: [] for i in ids}
    children: dict[Hashable, list[Hashable]] = {i: [] for i in ids}
    for s, t in edges:
        if s not in size or t not in size:
            raise ValueError(f"layout: edge {s!r} -> {t!r} names an unknown node")
        parents[t].append(s)
        children[s].append(t)
    order = topological_order(ids, parents.__getitem__)
    layer_of = generations(order, parents.__getitem__)
    # A value computed early but used late moves right, next to its first use: the
    # picture gets short edges instead of long buses (sources stay in column 0).
    floating = set(floating)
    for v in reversed(order):
        if (parents[v] or v in floating) and children[v]:
            layer_of[v] = min(layer_of[c] for c in children[v]) - 1

    # -- 1, 2: columns, with bus placeholders for edges that skip columns --------
    n_layers = 1 + max(layer_of.values(), default=0)
    columns: list[list[Hashable]] = [[] for _ in range(n_layers)]
    for i in ids:  # input order: the initial order within each column
        columns[layer_of[i]].append(i)
    reach = {i: max((layer_of[c] for c in children[i]), default=0) for i in ids}
    for i in ids:
        for layer in range(layer_of[i] + 1, reach[i]):
            columns[layer].append((_BUS, i, layer))
    left_of: dict[Hashable, dict[Hashable, None]] = {}  # neighbours one column to the left
    right_of: dict[Hashable, dict[Hashable, None]] = {}
    for col in columns:
        for v in col:
            left_of[v] = {}
            right_of[v] = {}
    for i in ids:  # each bus once: a chain of placeholders (walking it per edge is quadratic)
        prev = i
        for layer in range(layer_of[i] + 1, reach[i]):
            bus = (_BUS, i, layer)
            left_of[bus][prev] = None
            right_of[prev][bus] = None
            prev = bus
    for s, t in edges:  # then each edge's last hop, from its source or its source's bus
        prev = s if layer_of[t] == layer_of[s] + 1 else (_BUS, s, layer_of[t] - 1)
        left_of[t][prev] = None
        right_of[prev][t] = None

    # -- 3: order within columns ----------------------------------------------
    columns = _order(columns, left_of, right_of, sweeps)

    # -- 4: positions ------------------------------------------------------------
    height = {v: (size[v].height if v in size else 0.0) for col in columns for v in col}

    def gap(a: Hashable, b: Hashable) -> float:
        buses = (a not in size) + (b not in size)
        g = node_gap if buses == 0 else bus_gap if buses == 2 else (node_gap + bus_gap) / 2
        return (height[a] + height[b]) / 2 + g

    y: dict[Hashable, float] = {}
    seps: list[list[float]] = []  # the minimum distance between neighbours, per column
    for col in columns:
        seps.append([gap(a, b) for a, b in itertools.pairwise(col)])
        at = height[col[0]] / 2 if col else 0.0
        for v, step in zip(col, [0.0, *seps[-1]]):
            at += step
            y[v] = at
    near = {v: (*left_of[v], *right_of[v]) for v in left_of}
    weight = {v: (4.0 if v not in size else 1.0) if near[v] else 0.25 for v in near}
    for p in range(2 * sweeps):  # buses weigh more: they stay straight
        sweep = range(1, n_layers) if p % 2 == 0 else range(n_layers - 2, -1, -1)
        moved = 0.0
        for layer in sweep:
            col = columns[layer]
            want = [sum(map(y.__getitem__, near[v])) / len(near[v]) if near[v] else y[v]
                    for v in col]  # fmt: skip
            for v, yy in zip(col, _isotonic_with_gaps(want, [weight[v] for v in col],
                                                      seps[layer])):  # fmt: skip
                moved = max(moved, abs(yy - y[v]))
                y[v] = yy
        if moved < 0.5:  # settled
            break
    top = min((y[v] - height[v] / 2 for col in columns for v in col), default=0.0)
    shift = margin - top

    placed: dict[Hashable, Placed] = {}
    spans: list[tuple[float, float]] = []
    room = room or {}
    x = margin
    for layer, col in enumerate(columns):
        if layer:
            x += max([layer_gap, *(room[v] for v in col if v in room)])
        width = max((size[v].width for v in col if v in size), default=0.0)
        spans.append((x, x + width))
        for v in col:
            y[v] += shift
            if v in size:
                placed[v] = Placed(v, layer, x, y[v], size[v].width, size[v].height)
        x += width
    bus_y = {(v[1], v[2]): y[v] for col in columns for v in col if v not in size}
    bottom = max((p.y + p.height / 2 for p in placed.values()), default=0.0)
    bottom = max([bottom, *bus_y.values()])
    return Layout(placed, list(edges), spans, bus_y, x + margin, bottom + margin)


def _order(
    columns: list[list[Hashable]],
    left_of: dict[Hashable, dict[Hashable, None]],
    right_of: dict[Hashable, dict[Hashable, None]],
    sweeps: int,
) -> list[list[Hashable]]:
    """Barycentre sweeps, alternately from the left and from the right; the best order wins."""
    best = [list(c) for c in columns]
    best_crossings = _crossings(best, right_of)
    current = [list(c) for c in columns]
    for p in range(2 * sweeps):
        from_left = p % 2 == 0
        sweep = range(1, len(current)) if from_left else range(len(current) - 2, -1, -1)
        near = left_of if from_left else right_of
        for layer in sweep:
            ref = current[layer - 1] if from_left else current[layer + 1]
            pos = {v: k for k, v in enumerate(ref)}.__getitem__
            col = current[layer]
            # a node without neighbours on that side keeps its place; the others sort around it
            keys = [
                (sum(map(pos, near[v])) / len(near[v]) if near[v] else k, k)
                for k, v in enumerate(col)
            ]
            current[layer] = [v for _, v in sorted(zip(keys, col), key=lambda kv: kv[0])]
        if from_left:
            continue  # count after each round trip
        crossings = _crossings(current, right_of)
        if crossings < best_crossings:
            best, best_crossings = [list(c) for c in current], crossings
        if best_crossings == 0:
            break
    return best


def _crossings(columns: list[list[Hashable]], right_of: dict) -> int:
    """The number of edge crossings between neighbouring columns (inversion count)."""
    total = 0
    for left, right in itertools.pairwise(columns):
        pos = {v: k for k, v in enumerate(right)}
        targets = [pos[t] for v in left for t in sorted(right_of[v], key=pos.__getitem__)]
        total += _inversions(targets)
    return total


def _inversions(seq: list[int]) -> int:
    """Pairs i < j with seq[i] > seq[j], by a Fenwick tree (O(n log n))."""
    size = 1 + max(seq, default=0)
    tree = [0] * (size + 1)
    count = 0
    for seen, value in enumerate(seq):
        i, not_greater = value + 1, 0
        while i > 0:
            not_greater += tree[i]
            i -= i & -i
        count += seen - not_greater
        i = value + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _isotonic_with_gaps(want: list[float], weight: list[float], gaps: list[float]) -> list[float]:
    """Positions p minimising Σ wᵢ(pᵢ - wantᵢ)² subject to pᵢ₊₁ - pᵢ ≥ gapᵢ.

    Shifting by the cumulative gaps turns it into plain isotonic regression,
    which pool-adjacent-violators solves exactly in linear time.
    """
    offset = [0.0]
    for g in gaps:
        offset.append(offset[-1] + g)
    blocks: list[list[float]] = []  # [weighted mean, total weight, count]
    for w_i, d, o in zip(weight, want, offset):
        blocks.append([d - o, w_i, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks[-1]
            blocks[-1] = [(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2]
    out: list[float] = []
    for mean, _, n in blocks:
        out += [mean] * n
    return [q + o for q, o in zip(out, offset)]
