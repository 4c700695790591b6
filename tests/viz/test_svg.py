"""SVG drawings: adlab's own, deterministic, with what a learner needs to see."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import adlab as ad
from adlab.core.events import DOT, OVERLINE, bar, dot, format_value
from adlab.core.expr import Sym
from adlab.testing import ZOO
from adlab.viz.graph import Graph, GraphEdge, GraphNode, as_graph, op_badge, register_adapter
from adlab.viz.svg import MIN_TEXT, Drawing, draw, measure, render, rich, text_width


def _talk(x, y):
    t = x * x
    z = t * y + 1.0 / (x * x + y * y + 1.0)
    return z


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


@pytest.mark.parametrize("z", ZOO, ids=[z.name for z in ZOO])
def test_every_zoo_function_draws_as_well_formed_svg(z):
    t = ad.trace(z.f, *z.args)
    root = _parse(draw(t, adjoints=True, tangents=True, partials=True).svg)
    assert root.tag.endswith("svg") and "adlab-graph" in root.get("class")


def test_the_same_trace_draws_the_same_bytes():
    a = draw(ad.trace(_talk, 0.5, -0.5), adjoints=True, partials=True).svg
    b = draw(ad.trace(_talk, 0.5, -0.5), adjoints=True, partials=True).svg
    assert a == b
    # coordinates have at most one decimal; no random ids, no dates
    numbers = re.findall(r'(?:x|y|width|height)="(-?[\d.]+)"', a)
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d)?", n) for n in numbers)


def test_ids_are_unique_per_picture_and_stable():
    t = ad.trace(_talk, 0.5, -0.5)
    plain, with_adjoints = draw(t).svg, draw(t, adjoints=True).svg
    ids = re.findall(r'id="([^"]+)"', plain)
    assert len(ids) == len(set(ids))
    prefix = ids[0].split("-")[1]
    assert prefix not in with_adjoints  # two different pictures on one page do not clash


def test_nodes_show_name_value_and_once_known_adjoint_and_tangent():
    t = ad.trace(_talk, 0.5, -0.5)
    root = _parse(draw(t, adjoints=True, tangents=True, seed="x").svg)
    nodes = {g.get("data-name"): g for g in root.iter("{http://www.w3.org/2000/svg}g")
             if "adlab-node" in (g.get("class") or "").split()}  # fmt: skip
    assert set(nodes) == {n.name for n in t.nodes}

    def texts(name, cls):
        return ["".join(e.itertext()) for e in nodes[name].iter() if e.get("class") == cls]

    assert texts("x", "adlab-name") == ["x"] and texts("x", "adlab-value") == ["0.5"]
    gx, _ = t.backward()
    (adjoint,) = [e for e in nodes["x"].iter() if e.get("class") == "adlab-adjoint"]
    assert "".join(adjoint.itertext()) == f"x = {format_value(gx)}"
    # a real overline over the name, drawn, not combining characters (they sit unevenly)
    (text, over) = adjoint
    assert over.tag.endswith("path") and text.get("textLength")
    assert texts("x", "adlab-tangent") == ["x = 1.0"]  # and one dot, drawn
    assert texts("y", "adlab-tangent") == ["y = 0.0"]
    (tangent,) = [e for e in nodes["x"].iter() if e.get("class") == "adlab-tangent"]
    assert [e.tag.split("}")[1] for e in tangent] == ["text", "circle"]
    assert "adlab-input" in nodes["x"].get("class") and "adlab-output" in nodes["z"].get("class")
    # the operation is a badge of its own, distinct from the value's card
    assert nodes["t"].find("{http://www.w3.org/2000/svg}rect[@class='adlab-op']") is not None


def test_edges_can_carry_their_local_partials():
    t = ad.trace(lambda x, y: x * y, 2.0, 3.0)
    labels = re.findall(r'class="adlab-edge-label"[^>]*>([^<]*)<', draw(t, partials=True).svg)
    assert labels == ["∂ 3.0", "∂ 2.0"]
    assert "adlab-edge-label" not in draw(t).svg


def test_operation_badges():
    t = ad.trace(lambda x: 1.0 / (x * 2.0) + ad.sin(x) - x**2 + ad.maximum(x, 0.1), 3.0)
    assert [n.op for n in as_graph(t).nodes if n.op] == [
        "×2.0", "1.0÷", "sin", "+", "**2", "−", "maximum(·, 0.1)", "+",
    ]  # fmt: skip

    class Op:
        name, symbol = "a_very_long_primitive_name", None

    assert op_badge(Op(), (), lambda a: True).endswith("…")


def test_draw_knows_traces_tapes_results_and_graphs_and_says_what_it_knows():
    t = ad.trace(lambda x: ad.sin(x) * x, 1.0)
    assert draw(t.tape).svg == draw(t).svg
    g = Graph((GraphNode("a", "a"), GraphNode("b", "b", op="f")), (GraphEdge("a", "b", "1"),))
    assert 'data-name="b"' in draw(g).svg
    with pytest.raises(TypeError, match="Trace") as err:
        draw(42)
    assert "Wengert list" in str(err.value)
    from adlab.notebook.result import GradResult

    untraced = GradResult(1.0, {"x": 2.0}, None, "z", {"x": 1.0}, "sct")
    with pytest.raises(TypeError, match="has no trace to draw: mode='sct'"):
        draw(untraced)


def test_a_new_kind_of_object_joins_draw_through_register_adapter():
    class Pair:  # an "expression" with two leaves
        pass

    register_adapter(
        "Pair",
        lambda o: isinstance(o, Pair),
        lambda o: Graph(
            (GraphNode("l", "x"), GraphNode("r", "y"), GraphNode("s", "", op="+", kind="op")),
            (GraphEdge("l", "s"), GraphEdge("r", "s")),
        ),
    )
    svg = draw(Pair()).svg
    assert svg.count('class="adlab-node ') == 3 and 'class="adlab-op"' in svg


def test_trace_and_drawing_display_themselves():
    t = ad.trace(_talk, 0.5, -0.5)
    assert t._repr_svg_().startswith("<svg")
    html = t._repr_html_()
    assert "<svg" in html and "Wengert list" in html and "<table" in html
    d = draw(t)
    assert isinstance(d, Drawing) and d.fits
    # HTML, not SVG: JupyterLab shrinks an SVG output to any size (max-width: 100%); in
    # this box it fits the page but never shrinks its text below MIN_TEXT px
    html = d._repr_html_()
    assert not hasattr(d, "_repr_svg_") and d.svg[4:] in html
    least = float(re.search(r"min-width:([0-9.]+)px", html).group(1))
    smallest = min(float(v) for v in re.findall(r'font-size="([0-9.]+)"', d.svg))
    assert least * smallest / d.width >= MIN_TEXT
    assert repr(d) == "<Drawing: computation graph of z, 10 nodes, 14 edges>"


def test_text_is_measured_without_combining_marks():
    assert text_width("x̅", 10) == text_width("x", 10)
    node = GraphNode("n", "x", lines=(("adjoint", "x̅ = -0.944444"),))
    assert measure(node).card_w > measure(GraphNode("n", "x")).card_w


def test_states_highlight_and_fade():
    g = as_graph(ad.trace(lambda x: x * 2.0, 1.0))
    styled = g.restyled(states={"n0": "current", "n1": "pending"}, edges={0: ("+= 2", True)})
    svg = render(styled)
    assert 'class="adlab-node adlab-input adlab-current"' in svg
    assert 'opacity="0.33"' in svg and "adlab-edge adlab-active" in svg and "+= 2" in svg


def test_array_values_are_summarised():
    t = ad.trace(lambda w: ad.sum(w @ w.T), np.ones((20, 3)))
    svg = draw(t).svg
    assert "[1, 1, 1, …] (20, 3)" in svg  # first values and the shape


def test_expression_trees_draw_with_the_same_code():
    x, y = Sym("x"), Sym("y")
    a = x * y + ad.sin(x)
    e = a * a + 3.0 / x
    tree, dag = as_graph(e), as_graph(e, shared=True, values={"x": 2.0, "y": 3.0})
    # each symbol once; every occurrence of a subexpression in the tree, once in the DAG
    assert [n.name for n in tree.nodes if n.kind == "input"] == ["x", "y"]
    assert (
        sum(n.op == "sin" for n in tree.nodes) == 2 and sum(n.op == "sin" for n in dag.nodes) == 1
    )
    assert [n.kind for n in tree.nodes].count("const") == 1 and tree.nodes[-1].kind == "output"
    assert dag.nodes[-1].lines == (("value", format_value(e.evaluate(x=2.0, y=3.0))),)
    root = _parse(draw(e).svg)
    assert "expression tree of" in root.find("{http://www.w3.org/2000/svg}title").text
    assert e._repr_html_() == draw(e)._repr_html_()  # a notebook shows the tree
    # deep expressions never recurse
    deep = x
    for _ in range(3000):
        deep = deep * 1.01
    assert len(as_graph(deep).nodes) == 1 + 2 * 3000


def test_adjoints_are_overlined_for_real_in_svg_and_html_and_with_combining_marks_in_text():
    from adlab.viz.storyboard import Storyboard

    t = ad.trace(lambda x, y: x * (x + y), 2.0, 3.0)
    svg = draw(t, adjoints=True).svg
    assert OVERLINE not in svg and DOT not in svg
    assert 'lengthAdjust="spacingAndGlyphs">v1 = ' in svg
    board = Storyboard(t)
    last = board.steps["reverse"][-1]
    assert bar("v1") in last.explanation  # plain text keeps the combining overline
    assert OVERLINE not in board.step_html(last) and OVERLINE not in board.picture
    assert '<span style="text-decoration:overline">v1</span>' in board.step_html(last)
    # a tangent's dot sits over the whole name, once
    assert dot("out") == "o\u0307u\u0307t\u0307" and rich(dot("out")).count("˙") == 1


def test_signed_zeros_print_as_zero():
    assert format_value(-0.0) == format_value(np.float64(-0.0)) == "0.0"
    assert format_value(np.array([-0.0, 1.5])) == "[0, 1.5]"
    assert format_value(-1e-300 * 1e-300) == "0.0" and format_value(-2.5) == "-2.5"
    # y * -0.5 twice, seeded along x: every tangent is 0.0, none "-0.0"
    t = ad.trace(lambda x, y: y * -0.5 + y * -0.5, 1.0, 2.0)
    text = " ".join(e.explain() for e in t.tangent_events("x"))
    assert "-0.0" not in text and "= 0.0" in text
