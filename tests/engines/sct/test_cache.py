"""sct's one cache: keyed by what decides the generated code, bounded, and so is linecache."""

from __future__ import annotations

import gc
import linecache

import adlab as ad
from adlab.engines.sct import fence, pipeline
from adlab.engines.symbolic import compile_expr, parse


def _fresh_functions(n: int) -> list:
    """``n`` new functions, each from source of its own (as notebook cells run again)."""
    fns = []
    for i in range(n):
        source = f"def fresh_{i}(x):\n    return x * x + {i}.0\n"
        filename = f"<adlab-test-cell-{i}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict = {}
        exec(compile(source, filename, "exec"), namespace)
        fns.append(namespace[f"fresh_{i}"])
    return fns


def _generated_entries() -> int:
    return sum(1 for name in linecache.cache if name.startswith("<adlab.sct"))


def test_the_cache_keeps_a_bounded_number_of_functions_and_their_lines(monkeypatch):
    monkeypatch.setattr(pipeline, "CACHE_SIZE", 5)
    gc.collect()
    before = _generated_entries()
    for i, fn in enumerate(_fresh_functions(40)):
        assert ad.grad(fn, mode="sct")(2.0) == 4.0
        assert len(pipeline._cache) <= 5, i
    del fn
    gc.collect()
    assert _generated_entries() - before <= 5 * 2  # a grad and a vjp variant at most, each


def test_one_entry_per_function_keyed_by_what_decides_the_code():
    (fn,) = _fresh_functions(1)
    ad.sct.grad(fn)(2.0)
    ad.grad(fn, mode="sct")(2.0)
    keys = pipeline.cached(fn)
    assert ("grad", (0,), ("scalar",), True, ()) in keys
    assert ("vjp", (0,), ("scalar",), False, ()) in keys
    assert len(keys) == len(set(keys)) == 2


def test_a_rebound_name_clears_the_entry_once(monkeypatch):
    namespace: dict = {"S": 2.0}
    source = "def scaled(x):\n    return S * x\n"
    linecache.cache["<adlab-test-scaled>"] = (len(source), None, source.splitlines(True), "x")
    exec(compile(source, "<adlab-test-scaled>", "exec"), namespace)
    g = ad.sct.grad(namespace["scaled"])
    assert g(1.0) == 2.0
    asked = []
    changed = fence.Checked.changed
    monkeypatch.setattr(fence.Checked, "changed", lambda c: asked.append(c) or changed(c))
    namespace["S"] = 3.0
    assert g(1.0) == 3.0 and len(asked) == 1


def test_symbolic_code_keeps_its_lines_only_while_it_lives():
    gc.collect()
    before = sum(1 for name in linecache.cache if name.startswith("<adlab.symbolic"))
    for i in range(30):
        assert compile_expr(parse(f"x * x + {i}"))(2.0) == 4.0 + i
    gc.collect()
    after = sum(1 for name in linecache.cache if name.startswith("<adlab.symbolic"))
    assert after - before <= 1
