"""The layered layout: deterministic, left to right, no overlaps, edges clear of nodes."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

import adlab as ad
from adlab.testing import ZOO
from adlab.viz import svg
from adlab.viz.graph import as_graph
from adlab.viz.layout import (
    Layout,
    Rect,
    _inversions,
    _isotonic_with_gaps,
    layered_layout,
)


def _zoo_layouts():
    for z in ZOO:
        graph = as_graph(ad.trace(z.f, *z.args), adjoints=True, partials=True)
        yield z.name, graph, svg.layout(graph)


ZOO_LAYOUTS = list(_zoo_layouts())


def _overlap(a, b) -> bool:
    return (
        a.x < b.right and b.x < a.right
        and a.y - a.height / 2 < b.y + b.height / 2 and b.y - b.height / 2 < a.y + a.height / 2
    )  # fmt: skip


@pytest.mark.parametrize("name, graph, lay", ZOO_LAYOUTS, ids=[n for n, *_ in ZOO_LAYOUTS])
def test_no_two_nodes_overlap_on_the_zoo(name, graph, lay: Layout):
    placed = list(lay.nodes.values())
    assert len(placed) == len(graph.nodes)
    clashes = [(a.id, b.id) for a, b in itertools.combinations(placed, 2) if _overlap(a, b)]
    assert clashes == []
    assert all(p.x >= 0 and p.right <= lay.width for p in placed)
    assert all(p.y - p.height / 2 >= 0 and p.y + p.height / 2 <= lay.height for p in placed)


@pytest.mark.parametrize("name, graph, lay", ZOO_LAYOUTS, ids=[n for n, *_ in ZOO_LAYOUTS])
def test_edges_run_left_to_right_and_clear_of_nodes(name, graph, lay: Layout):
    for i, (s, t) in enumerate(lay.edges):
        ps, pt = lay.nodes[s], lay.nodes[t]
        assert ps.layer < pt.layer
        route = lay.route(i)
        xs = [x for x, _ in route]
        assert xs == sorted(xs)
        # where a route crosses a column (on its source's bus) no node stands at that height
        for (x0, y), (x1, _) in zip(route[1:-1:2], route[2:-1:2]):
            for p in lay.nodes.values():
                if p.x < x1 and x0 < p.right:
                    assert not p.y - p.height / 2 - 2 < y < p.y + p.height / 2 + 2, (s, t, p.id)


@pytest.mark.parametrize("name, graph, lay", ZOO_LAYOUTS, ids=[n for n, *_ in ZOO_LAYOUTS])
def test_edge_labels_do_not_overlap_each_other_or_nodes_on_the_zoo(name, graph, lay: Layout):
    labels = svg.label_boxes(graph, lay)
    assert len(labels) == sum(1 for e in graph.edges if e.label)
    clashes = [(a.id, b.id) for a, b in itertools.combinations(labels, 2) if _overlap(a, b)]
    assert clashes == []
    on_nodes = [(a.id, p.id) for a in labels for p in lay.nodes.values() if _overlap(a, p)]
    assert on_nodes == []


def test_layers_are_generations_pulled_next_to_their_use():
    boxes = [Rect(k, 30, 20) for k in "abcde"]
    #  a -> c -> d -> e,  b -> e:  b is an input, stays in column 0
    lay = layered_layout(boxes, [("a", "c"), ("c", "d"), ("d", "e"), ("b", "e")])
    assert {k: lay.nodes[k].layer for k in "abcde"} == {"a": 0, "b": 0, "c": 1, "d": 2, "e": 3}
    assert lay.bus("b") and len(lay.bus("b")) == 1 + 2 * 2  # across columns 1 and 2
    #  a value computed early but used late moves right, next to its use
    lay = layered_layout(
        [Rect(k, 30, 20) for k in "xabz"], [("x", "a"), ("a", "b"), ("b", "z"), ("x", "z")]
    )
    assert lay.nodes["z"].layer == 3 and lay.nodes["a"].layer == 1


def test_the_layout_is_deterministic_and_independent_of_hash_seeds():
    import subprocess
    import sys

    code = (
        "import adlab as ad, hashlib\n"
        "from adlab.testing import ZOO\n"
        "z = [f for f in ZOO if f.name == 'mlp'][0]\n"
        "print(hashlib.sha1(ad.draw(ad.trace(z.f, *z.args), adjoints=True).svg.encode())"
        ".hexdigest())\n"
    )

    def run(seed: str) -> str:
        env = {"PYTHONHASHSEED": seed, "PATH": ""}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        return out.stdout

    digests = {run(seed) for seed in ("0", "1", "12345")}
    assert len(digests) == 1


def test_crossings_are_removed_when_possible():
    # two chains drawn in the "wrong" order cross once; the sweeps untangle them
    boxes = [Rect(k, 30, 20) for k in ("a", "b", "c", "d")]
    lay = layered_layout(boxes, [("a", "d"), ("b", "c")])
    ya, yb, yc, yd = (lay.nodes[k].y for k in "abcd")
    assert (ya < yb) == (yd < yc)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unique"):
        layered_layout([Rect("a", 1, 1), Rect("a", 1, 1)], [])
    with pytest.raises(ValueError, match="unknown node"):
        layered_layout([Rect("a", 1, 1)], [("a", "b")])


def test_an_empty_graph_and_a_single_node():
    assert layered_layout([], []).nodes == {}
    assert layered_layout([Rect("a", 10, 10)], []).nodes["a"].layer == 0


def test_isotonic_regression_with_gaps():
    # wanted all at 0 with gaps 10: the best is spread symmetrically around 0
    assert _isotonic_with_gaps([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [10.0, 10.0]) == [-10, 0, 10]
    # already feasible: unchanged
    assert _isotonic_with_gaps([0.0, 50.0], [1.0, 1.0], [10.0]) == [0.0, 50.0]
    # a heavy node stays put, a light one moves
    assert _isotonic_with_gaps([0.0, 0.0], [100.0, 1.0], [10.0]) == pytest.approx(
        [-10 / 101, 10 - 10 / 101]
    )


@pytest.mark.parametrize("seq", [[], [0], [0, 1, 2], [2, 1, 0], [1, 0, 1, 0, 3, 2]])
def test_inversion_count(seq):
    brute = sum(1 for i, j in itertools.combinations(range(len(seq)), 2) if seq[i] > seq[j])
    assert _inversions(seq) == brute


def _random_program(*xs):
    rng = np.random.default_rng(0)
    vals = list(xs)
    while len(vals) < 1000:
        a = max(int(rng.integers(0, len(vals))), len(vals) - 40)
        b = int(rng.integers(0, len(vals)))
        op = rng.integers(0, 3)
        vals.append(
            vals[a] * vals[b] if op == 0 else vals[a] + vals[b] if op == 1 else ad.sin(vals[a])
        )
    return vals[-1]


def _chain(x, w):
    for _ in range(333):
        x = ad.sin(x * w) + x
    return x


def _wide(x, y):
    vals = [x * (i + 1.0) + y for i in range(250)]
    s = 0.0
    for v in vals:
        s = s + v * v
    return s


@pytest.mark.parametrize(
    "f, args",
    [
        (_random_program, tuple(np.linspace(0.1, 1.0, 10))),
        (_chain, (0.3, 0.9)),
        (_wide, (0.3, 0.9)),
    ],
    ids=["random_dag", "deep_chain", "wide_then_deep"],
)
def test_a_thousand_nodes_draw_as_a_scrollable_picture(f, args, capsys):
    t = ad.trace(f, *args)
    assert len(t.nodes) >= 1000
    start = time.perf_counter()
    d = ad.draw(t)
    seconds = time.perf_counter() - start
    with capsys.disabled():  # reported, never asserted (tests do not assert times)
        print(f"\n  {f.__name__}: {len(t.nodes)} nodes drawn in {seconds:.2f} s, "
              f"{d.width:.0f}×{d.height:.0f} px, {len(d.svg) // 1024} KB")  # fmt: skip
    assert not d.fits
    assert 'class="adlab-scroll"' in d._repr_html_() and "overflow:auto" in d._repr_html_()
    assert d.svg.count('class="adlab-node ') == len(t.nodes)
