"""What a %%grad cell may change, read from its code (adlab.notebook.effects)."""

from __future__ import annotations

import ast
import linecache
import random
import textwrap

import numpy as np
import pytest

import adlab as ad
from adlab.notebook.effects import changes


def notebook(code: str = "") -> dict:
    """A namespace whose functions and classes were defined in a "cell" (as IPython does:
    module __main__, source kept by linecache, so inspect.getsource finds it)."""
    ns = {"__name__": "__main__", "np": np, "ad": ad, "random": random}
    ns.update({name: [] for name in ("log", "data", "other", "rows", "it_src")})
    code = textwrap.dedent(code)
    filename = f"<cell-{abs(hash(code))}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), ns)
    return ns


def changed(cell: str, ns: dict | None = None) -> set[str]:
    ns = notebook() if ns is None else ns
    return changes(ast.parse(textwrap.dedent(cell)), ns) - {"__name__", "np", "ad", "random"}


@pytest.mark.parametrize(
    "cell, want",
    [
        ("z = x * len(data) + np.sum(data) + ad.sum(np.asarray(data))", set()),
        ("z = data[0] * x\nfor row in rows:\n    z = z + row * x", set()),
        ("y = data.get(0) if data else data.count(1)", set()),
        ("log.append(x)", {"log"}),
        ("log[0] = x", {"log"}),
        ("log.w = x", {"log"}),
        ("del log[0]", {"log"}),
        ("log += [x]", {"log"}),
        ("y = log\ny.append(x)", {"log"}),
        ("for row in rows:\n    row.append(x)", {"rows"}),
        ("view = data.reshape(3)\nview[0] = x", {"data"}),
        ("np.copyto(data, other)", {"data"}),
        ("np.add.at(data, [0], x)", {"data"}),
        ("np.multiply(other, 2.0, out=data)", {"data"}),
        ("random.shuffle(data)", {"data"}),
        ("it = iter(it_src)\nnext(it)", {"it_src"}),
        ("exec('log.append(x)')", {"log"}),
        ("get_ipython().run_line_magic('time', 'log.append(x)')", {"log"}),
        ("globals()['log'].append(x)", {"log"}),
        ("unknown_function(data)", {"data"}),
    ],
)
def test_the_rules(cell, want):
    assert changed(cell) == want


FUNCTIONS = """
history = []

def record(v):
    log.append(v)

def reads(a, b):
    return a[0] + len(b)

def writes_second(a, b, *rest, **options):
    b.append(a)

def bump():
    global calls
    calls = calls + 1

class Model:
    def __init__(self, weights, scale):
        self.weights = weights
        weights.append(scale)

    def step(self, v):
        history.append(v)
        return v

    def peek(self):
        return len(self.weights)

model = Model([], 1.0)
"""


@pytest.mark.parametrize(
    "cell, want",
    [
        ("record(x)", {"log"}),
        ("reads(data, other)", set()),
        ("writes_second(data, other)", {"other"}),
        ("writes_second(b=other, a=data)", {"other"}),
        ("bump()", set()),  # rebinding a global: the hidden run's namespace takes it
        ("m = Model(data, 2.0)", {"data"}),
        ("model.step(x)", {"history", "model"}),
        ("def h(a):\n    a.append(1)\nh(data)\nh(x)", {"data"}),
    ],
)
def test_the_notebooks_functions_are_read_too(cell, want):
    assert changed(cell, notebook(FUNCTIONS)) == want


def test_a_function_without_source_may_change_anything_it_is_given():
    ns = notebook()
    ns["opaque"] = eval("lambda a: a.append(1)", {"__name__": "__main__"})
    assert changed("opaque(data)", ns) == {"data"}


def test_recursion_is_read_once():
    ns = notebook("def walk(a, n):\n    if n:\n        walk(a, n - 1)\n    a.append(n)\n")
    assert changed("walk(data, 3)", ns) == {"data"}
