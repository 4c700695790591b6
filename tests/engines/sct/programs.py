"""Random *source programs* with control flow, for property tests of the sct engine.

A program is real Python source: a helper function and a function ``f`` with
``if/elif/else`` on values, ``for`` loops over ``range``, ``while`` loops with
``break``, ``continue``, augmented assignment, tuple unpacking, calls of the
helper, and (sometimes) a numpy array argument with broadcasting. The source is
registered with :mod:`linecache` (as IPython does for cells) so sct can read it,
and printed by hypothesis when a property fails.

Values are kept bounded (``ad.tanh`` squashes, divisions by ``1 + v*v``), so
both engines see finite numbers; branch decisions are identical in every
engine because the primal values are, so no kink handling is needed when
engines are compared with each other.
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import adlab as ad


@dataclass(frozen=True, eq=False)
class SourceProgram:
    """Python source defining ``f`` (and a helper), and the point to run ``f`` at."""

    source: str
    args: tuple
    fn: Callable[..., Any] = field(repr=False)

    def __repr__(self) -> str:
        return f"SourceProgram(args={self.args!r}, source=\n{self.source})"


def compile_source(source: str) -> dict[str, Any]:
    """Run ``source`` as a module registered with linecache; its namespace."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    filename = f"<sct-program-{digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"ad": ad, "np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


class _Writer:
    """Draws statements for one function body, tracking which variables exist where."""

    def __init__(self, draw: Any, array: bool, helper: bool) -> None:
        self.draw = draw
        self.array = array  # the first parameter is an array of shape (3,)
        self.helper = helper
        self.count = 0
        self.lines: list[str] = []

    def name(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def atom(self, scope: dict[str, str]) -> tuple[str, str]:
        name = self.draw(st.sampled_from(sorted(k for k, v in scope.items() if v != "i")))
        return name, scope[name]

    def expr(self, scope: dict[str, str], depth: int = 0) -> tuple[str, str]:
        """An expression and its kind ("s" scalar, "a" array)."""
        draw = self.draw
        choice = draw(st.integers(0, 9 if depth < 2 else 1))
        if choice <= 1:
            name, kind = self.atom(scope)
            if draw(st.booleans()):
                c = draw(st.sampled_from(["0.5", "1.5", "-0.7", "2.0"]))
                return f"{c} * {name}", kind
            return name, kind
        a, ka = self.expr(scope, depth + 1)
        kind = ka
        if choice == 2:
            b, kb = self.expr(scope, depth + 1)
            return f"({a} + {b})", "a" if "a" in (ka, kb) else "s"
        if choice == 3:
            b, kb = self.expr(scope, depth + 1)
            return f"({a} - {b})", "a" if "a" in (ka, kb) else "s"
        if choice == 4:
            b, kb = self.expr(scope, depth + 1)
            return f"({a} * {b})", "a" if "a" in (ka, kb) else "s"
        if choice == 5:
            b, kb = self.expr(scope, depth + 1)
            return f"({a} / (1.0 + {b} * {b}))", "a" if "a" in (ka, kb) else "s"
        if choice == 6:
            fn = draw(st.sampled_from(["ad.sin", "ad.cos", "ad.tanh", "np.sin", "ad.sigmoid"]))
            return f"{fn}({a})", kind
        if choice == 7:
            return f"ad.exp(ad.tanh({a}))", kind
        if choice == 8:
            return f"{a} ** 2", kind
        if self.helper and ka == "s":
            b, kb = self.expr(scope, depth + 1)
            if kb == "s":  # the helper takes numbers
                return f"helper({a}, {b})[0]", "s"
        return f"ad.tanh({a})", kind

    def condition(self, scope: dict[str, str]) -> str:
        name, kind = self.atom(scope)
        c = self.draw(st.sampled_from(["0.0", "0.3", "-0.2", "1.0"]))
        op = self.draw(st.sampled_from([">", "<", ">="]))
        value = f"ad.sum({name})" if kind == "a" else name
        return f"{value} {op} {c}"

    def block(self, scope: dict[str, str], indent: int, depth: int, loop: bool,
              size: int) -> None:  # fmt: skip
        """``size`` statements at ``indent``; ``scope`` grows with what they define."""
        pad = "    " * indent
        start = len(self.lines)
        self._statements(scope, indent, depth, loop, size)
        if len(self.lines) == start:
            self.lines.append(f"{pad}pass")

    def _statements(self, scope: dict[str, str], indent: int, depth: int, loop: bool,
                    size: int) -> None:  # fmt: skip
        pad = "    " * indent
        for _ in range(size):
            kind = self.draw(st.integers(0, 10 if depth < 2 else 3))
            if kind <= 2 or len([v for v in scope.values() if v != "i"]) < 2:
                expr, k = self.expr(scope)
                target = self.draw(
                    st.sampled_from([self.name(), *sorted(v for v in scope if v.startswith("v"))])
                )
                if target in scope and scope[target] != k:  # keep each variable one kind
                    target = self.name()
                self.lines.append(f"{pad}{target} = ad.tanh({expr})")
                scope[target] = k
            elif kind == 3:
                target = self.draw(st.sampled_from(sorted(k for k, v in scope.items() if v != "i")))
                expr, k = self.expr(scope)
                if scope[target] == "s" and k == "a":
                    continue
                op = self.draw(st.sampled_from(["+=", "-=", "*="]))
                if scope[target] == "a":  # numpy would change the array in place: refused
                    op = f"= {target} {op[0]}"
                self.lines.append(f"{pad}{target} {op} ad.tanh({expr})")
            elif kind == 4:
                a, ka = self.atom(scope)
                b, kb = self.atom(scope)
                if ka != kb:
                    continue
                self.lines.append(f"{pad}{a}, {b} = {b}, ad.tanh({a} * {b})")
            elif kind in (5, 6):
                self.lines.append(f"{pad}if {self.condition(scope)}:")
                inner = dict(scope)
                self.block(inner, indent + 1, depth + 1, loop, self.draw(st.integers(1, 2)))
                if self.draw(st.booleans()):
                    self.lines.append(f"{pad}elif {self.condition(scope)}:")
                    self.block(dict(scope), indent + 1, depth + 1, loop, 1)
                if self.draw(st.booleans()):
                    self.lines.append(f"{pad}else:")
                    self.block(dict(scope), indent + 1, depth + 1, loop, 1)
            elif kind in (7, 8):
                i = f"i{indent}"
                n = self.draw(st.integers(0, 3))
                outer = [v for v in scope if v.startswith("i")]
                if outer and self.draw(st.booleans()):  # a trip count that changes
                    self.lines.append(f"{pad}for {i} in range({outer[-1]} + {n}):")
                else:
                    self.lines.append(f"{pad}for {i} in range({n}):")
                inner = dict(scope)
                inner[i] = "i"  # an int: only trip counts use it
                if self.draw(st.booleans()):
                    self.lines.append(f"{pad}    if {self.condition(inner)}:")
                    self.lines.append(
                        f"{pad}        {self.draw(st.sampled_from(['break', 'continue']))}"
                    )
                self.block(inner, indent + 1, depth + 1, True, self.draw(st.integers(1, 3)))
            elif kind == 9:
                k = f"k{indent}"
                n = self.draw(st.integers(1, 3))
                self.lines.append(f"{pad}{k} = 0")
                self.lines.append(f"{pad}while {k} < {n}:")
                self.lines.append(f"{pad}    {k} += 1")
                inner = dict(scope)
                self.block(inner, indent + 1, depth + 1, True, self.draw(st.integers(1, 2)))
                if self.draw(st.booleans()):
                    self.lines.append(f"{pad}    if {self.condition(inner)}:")
                    self.lines.append(f"{pad}        break")
            elif loop and kind == 10:
                self.lines.append(f"{pad}if {self.condition(scope)}:")
                self.lines.append(f"{pad}    {self.draw(st.sampled_from(['break', 'continue']))}")


@st.composite
def source_programs(draw: Any) -> SourceProgram:
    """A random function ``f`` with branches, loops, calls of ``helper`` and maybe an array."""
    array = draw(st.booleans())
    helper = draw(st.booleans())
    lines: list[str] = []
    if helper:
        h = _Writer(draw, False, False)
        scope = {"a": "s", "b": "s"}
        h.block(scope, 1, 1, False, draw(st.integers(1, 3)))
        out, _ = h.expr(dict(scope))
        lines += ["def helper(a, b):", *h.lines, f"    return ad.tanh({out}), a - b", ""]
    w = _Writer(draw, array, helper)
    scope = {"x": "a" if array else "s", "y": "s"}
    w.block(scope, 1, 0, False, draw(st.integers(1, 5)))
    out, _ = w.expr(scope)
    result = f"ad.sum({out} * x)" if array else f"{out} * x"
    lines += ["def f(x, y):", *w.lines, f"    return {result}", ""]
    source = "\n".join(lines)
    namespace = compile_source(source)
    if array:
        x = np.array(draw(st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3)))
    else:
        x = draw(st.floats(-1.5, 1.5))
    y = draw(st.floats(-1.5, 1.5))
    return SourceProgram(source, (x, y), namespace["f"])
