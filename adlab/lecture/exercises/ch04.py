"""Chapter 04, symbolic differentiation: the exercises and their answer keys."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

from adlab.lecture.exercises.core import CodeExercise

# -- 1. sin and cos for the learner's tree differentiator -----------------------------------------
# Each formula has an inner derivative other than 1 somewhere, so every wrong rule shows.
FORMULAS = (
    "sin(a*x)",
    "cos(x*x + a)",
    "x*sin(x)",
    "sin(x)*cos(a*x)",
    "cos(sin(x))",
    "sin(x**2)/(a + x*x)",
    "a*cos(x)**3",
)


def _call(name: str, arg: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(name, ast.Load()), [arg], [])


def _differentiator(
    sin_rule: Callable[[ast.expr, ast.expr], ast.expr],
    cos_rule: Callable[[ast.expr, ast.expr], ast.expr],
) -> Callable[[ast.expr], ast.expr]:
    """The chapter's ``d`` with the given sin and cos rules: (f, f′) -> the derivative tree."""

    def binop(a: ast.expr, op: ast.operator, b: ast.expr) -> ast.expr:
        return ast.BinOp(a, op, b)

    def d(e: ast.expr) -> ast.expr:
        match e:
            case ast.Constant():
                return ast.Constant(0)
            case ast.Name():
                return ast.Constant(1)
            case ast.BinOp(f, ast.Add() | ast.Sub() as op, g):
                return binop(d(f), op, d(g))
            case ast.BinOp(f, ast.Mult(), g):
                return binop(binop(f, ast.Mult(), d(g)), ast.Add(), binop(d(f), ast.Mult(), g))
            case ast.BinOp(f, ast.Div(), g):
                top = binop(binop(d(f), ast.Mult(), g), ast.Sub(), binop(f, ast.Mult(), d(g)))
                return binop(top, ast.Div(), binop(g, ast.Pow(), ast.Constant(2)))
            case ast.BinOp(f, ast.Pow(), ast.Constant(value=int(n))):
                inner = binop(f, ast.Pow(), ast.Constant(n - 1))
                return binop(binop(ast.Constant(n), ast.Mult(), inner), ast.Mult(), d(f))
            case ast.Call(func=ast.Name(id="sin"), args=[f]):
                return sin_rule(f, d(f))
            case ast.Call(func=ast.Name(id="cos"), args=[f]):
                return cos_rule(f, d(f))
        raise ValueError(f"no rule for {ast.unparse(e)}")

    return d


def _times(a: ast.expr, b: ast.expr) -> ast.expr:
    return ast.BinOp(a, ast.Mult(), b)


def _minus(a: ast.expr) -> ast.expr:
    return ast.UnaryOp(ast.USub(), a)


def _right_sin(f: ast.expr, df: ast.expr) -> ast.expr:
    return _times(_call("cos", f), df)


def _right_cos(f: ast.expr, df: ast.expr) -> ast.expr:
    return _times(_minus(_call("sin", f)), df)


def _with_context(tree: ast.expr) -> ast.expr:
    """``tree`` with ``ctx=Load()`` wherever a name lacks it: ``ast.Name("cos")`` needs it to
    compile before Python 3.13, and the learner need not know that."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and getattr(node, "ctx", None) is None:
            node.ctx = ast.Load()
    return tree


def _values(d_trig: Any, *, x: float, a: int) -> tuple[float, ...]:
    found = []
    for text in FORMULAS:
        tree = d_trig(ast.parse(text.replace("a", str(a)), mode="eval").body)
        if not isinstance(tree, ast.expr):
            raise TypeError(f"d_trig should return a tree (an ast node), not {type(tree).__name__}")
        tree = _with_context(tree)
        code = compile(ast.fix_missing_locations(ast.Expression(tree)), "<tree>", "eval")
        found.append(float(eval(code, {"x": x, "sin": math.sin, "cos": math.cos})))
    return tuple(found)


d_trig = CodeExercise(
    "d_trig",
    inputs=lambda rng: {"x": float(rng.uniform(-2.0, 2.0)), "a": int(rng.integers(2, 6))},
    run=_values,
    solution=_differentiator(_right_sin, _right_cos),
    mistakes={
        "no_chain": _differentiator(
            lambda f, df: _call("cos", f), lambda f, df: _minus(_call("sin", f))
        ),
        "cos_sign": _differentiator(_right_sin, lambda f, df: _times(_call("sin", f), df)),
    },
    rtol=1e-9,
    atol=1e-9,
    own_work=True,
)


# -- 2. the swell of x^(3^k) by k cubings, as formulas in k ---------------------------------------
def _pair(swell: Any, *, k: int) -> tuple[int, int]:
    nodes, lines = swell(k)
    return (int(nodes), int(lines))


swell = CodeExercise(
    "swell",
    inputs=lambda rng: {"k": int(rng.integers(1, 41))},
    run=_pair,
    # t ↦ t·t·t is two products: f's tree has 3^k leaves and 3^k − 1 products; each cubing
    # adds 8 lines to the derivative's list (t·t, t′·t, t·t′, their sum, times t, (t·t)·t′ ...)
    solution=lambda k: (2 * 3**k - 1, 8 * k - 4),
    mistakes={
        "squarings": lambda k: (2 ** (k + 1) - 1, 4 * k - 3),
        "swapped": lambda k: (8 * k - 4, 2 * 3**k - 1),
        "lines_of_f": lambda k: (2 * 3**k - 1, 2 * k),
        "leaves_only": lambda k: (3**k, 8 * k - 4),
        "products_only": lambda k: (3**k - 1, 8 * k - 4),
        "unsimplified": lambda k: (2 * 3**k - 1, 8 * k - 1),
    },
    rtol=0.0,
    atol=0.0,
    parts=("tree nodes", "Wengert lines"),
    own_work=True,
)

EXERCISES = (d_trig, swell)
