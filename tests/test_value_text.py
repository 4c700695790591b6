"""Every table, label and preview of adlab shows a number or an array with the one
formatter, core.events.format_value: an array reads as its first values and its shape
(``[0.1, 0.2, 0.3, …] (8,)``), never as ``8 float64 array``."""

from __future__ import annotations

import numpy as np

import adlab as ad
from adlab.core.events import format_value

X = np.linspace(0.1, 0.8, 8)


def loss(w):
    return ad.sum(ad.tanh(w * X) ** 2)


def test_compare_tables_show_arrays_by_their_values_with_every_digit():
    table = ad.compare(loss, np.full(8, 0.5), modes=("forward", "reverse"), time=False)
    grad = table["reverse"].gradient
    for text in (repr(table), table._repr_html_()):
        assert "float64 array" not in text
        assert format_value(grad, digits=None) in text
    assert "(8,)" in repr(table)
    assert repr(float(grad[0]) + 0.0) in repr(table)  # every digit, as before


def test_compare_keeps_every_digit_of_a_short_array_and_shows_a_matrix_shape():
    table = ad.compare(lambda w: ad.sum(w * w), np.array([[1 / 3, 1.0], [2.0, 3.0]]),
                       modes=("reverse",), time=False)  # fmt: skip
    assert "[0.6666666666666666, 2.0, 4.0, 6.0] (2, 2)" in repr(table)


def test_check_rule_names_an_array_point_with_the_formatter():
    report = ad.testing.check_rule(
        ad.ops.array.sum_p, np.linspace(0, 1, 8), params={"axis": None, "keepdims": False}
    )
    title = report.table().title
    assert format_value(np.linspace(0, 1, 8)) in title and "array(" not in title


def test_stepper_and_drawings_preview_arrays_with_the_formatter():
    trace = ad.trace(loss, np.full(8, 0.5))
    s = ad.widgets.Stepper(trace)
    out = trace.output_node
    assert format_value(trace.nodes[0].value) in s.board.picture
    assert "float64 array" not in s.board.picture + ad.draw(trace)._repr_html_()
    assert s.board.steps["forward"][-1].explanation.endswith(format_value(out.value))
