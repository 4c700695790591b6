"""Big graphs group what repeats: the middle blocks of a loop collapse into one box."""

from __future__ import annotations

import numpy as np

import adlab as ad
from adlab.viz.graph import as_graph
from adlab.viz.groups import MIN_NODES, collapse, find_repeat, grouped
from adlab.viz.svg import draw


def _net(x):
    for _ in range(40):
        h = ad.tanh(x * 0.9 + 0.1)
        x = h * h - x * 0.05  # h * h: two edges from one node, kept
    return x


W = np.full((3, 3), 0.1)


def _layers(x):
    for _ in range(30):
        x = ad.tanh(W @ x + 0.1)  # every layer reads the same W: the very same constant
    return ad.sum(x)


def test_a_loop_is_found_and_its_middle_blocks_collapse_into_one_box():
    g = as_graph(ad.trace(_net, 0.5))
    r = find_repeat(g)
    assert (r.period, r.count) == (6, 40)
    small = collapse(g, r)
    (box,) = [n for n in small.nodes if n.kind == "group"]
    assert box.name == "⋯ 38 more" and ("note", "× 6 operations") in box.lines
    assert len(small.nodes) == len(g.nodes) - 38 * 6 + 1
    ids = {n.id for n in small.nodes}
    assert all(e.source in ids and e.target in ids for e in small.edges)
    # the box is fed by the first block and feeds the last
    first, last = r.block(0), r.block(r.count - 1)
    assert any(e.target == "group" and e.source == g.nodes[first[-1]].id for e in small.edges)
    assert any(e.source == "group" and e.target in {g.nodes[i].id for i in last}
               for e in small.edges)  # fmt: skip
    # h * h keeps both of its edges outside the box
    pairs = [(e.source, e.target) for e in small.edges]
    assert len(pairs) > len(set(pairs))
    assert collapse(g, r) == small  # deterministic


def test_layers_reading_one_weight_matrix_repeat_and_small_graphs_stay_whole():
    g = as_graph(ad.trace(_layers, np.ones(3)))
    assert len(g.nodes) >= MIN_NODES and find_repeat(g).count >= 28
    assert grouped(as_graph(ad.trace(lambda x: ad.sin(x) * x, 1.0))) is None


def test_a_notebook_shows_the_grouped_picture_with_a_switch_to_the_whole():
    d = draw(ad.trace(_net, 0.5))
    html = d._repr_html_()
    assert d.grouped is not None and "⋯ 38 more" in d.grouped and "⋯" not in d.svg
    assert 'class="adlab-expand"' in html and html.count("<svg") == 2
    assert draw(ad.trace(_net, 0.5), group=False).grouped is None
