"""Chapter 08, source transformation: the exercises and their answer keys.

The learner gives the chapter's tiny transformer the adjoint rules of three calls and
writes a tangent transformer. Both are checked by transforming the programs below (their
source is read from this file, as the learner's transformer reads any function's) and
running the generated code at fresh random points. The answer keys and the known mistakes
are one small reference transformer, :class:`_Transformer`, with right or wrong rules.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable, Mapping
from math import cos, exp, sin
from typing import Any

import numpy as np

from adlab.lecture.exercises.core import CodeExercise


# -- the programs the checks transform (one `return` each, as the chapter's transformer wants) ----
def _calls_1(x: float, y: float) -> float:
    return x * sin(x * y) + cos(y) * exp(x / 2)


def _calls_2(x: float, y: float) -> float:
    return exp(sin(x) - y) / (2 + cos(x * y))


def _arith_1(x: float, y: float) -> float:
    return x**2 * y + 1 / (x**2 + y**2 + 1)


def _arith_2(x: float, y: float) -> float:
    return (x - y) ** 3 / (x * y + 4) - 2 * x


def _arith_3(x: float, y: float) -> float:
    return x / (y**2 + 1) * (3 - x * y)


# -- a reference transformer, right or with a known mistake --------------------------------------
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CALLS = {"sin": sin, "cos": cos, "exp": exp}

ADJOINTS = {  # t = a op b: the contributions to ā and to b̄
    "+": ("t_bar", "t_bar"),
    "-": ("t_bar", "-t_bar"),
    "*": ("t_bar * b", "t_bar * a"),
    "/": ("t_bar / b", "-t_bar * t / b"),
    "**": ("t_bar * b * a ** (b - 1)", None),
    "sin": ("t_bar * cos(a)", None),
    "cos": ("-t_bar * sin(a)", None),
    "exp": ("t_bar * t", None),
}
TANGENTS = {  # t = a op b: its tangent
    "+": "a_dot + b_dot",
    "-": "a_dot - b_dot",
    "*": "a_dot * b + a * b_dot",
    "/": "(a_dot * b - a * b_dot) / b ** 2",
    "**": "b * a ** (b - 1) * a_dot",
}


class _Transformer:
    """Source → SSA → generated gradient or tangent code, with the given rules."""

    def __init__(
        self, *, adjoints: Mapping[str, Any] = ADJOINTS, tangents: Mapping[str, str] = TANGENTS
    ) -> None:
        self.adjoints, self.tangents = {**ADJOINTS, **adjoints}, {**TANGENTS, **tangents}

    @staticmethod
    def ssa(f: Callable[..., Any]) -> tuple[list[str], list[tuple[str, str, str, str]], str]:
        fn = ast.parse(textwrap.dedent(inspect.getsource(f))).body[0]
        lines: list[tuple[str, str, str, str]] = []

        def flatten(node: ast.AST) -> str:
            if isinstance(node, ast.Name):
                return node.id
            if isinstance(node, ast.Constant):
                return repr(node.value)
            if isinstance(node, ast.Call):
                (arg,) = node.args
                operand = flatten(arg)
                lines.append((f"t{len(lines) + 1}", operand, node.func.id, "None"))
            else:
                left, right = flatten(node.left), flatten(node.right)
                lines.append((f"t{len(lines) + 1}", left, _OPS[type(node.op)], right))
            return lines[-1][0]

        result = flatten(fn.body[-1].value)
        return [a.arg for a in fn.args.args], lines, result

    @staticmethod
    def _fill(rule: str, **names: str) -> str:
        return " ".join(names.get(word, word) for word in _words(rule))

    def grad(self, f: Callable[..., Any]) -> Callable[..., Any]:
        params, lines, result = self.ssa(f)
        body = [f"{t} = {self._call(a, op, b)}" for t, a, op, b in lines]
        names = params + [t for t, *_ in lines]
        body += [f"{n}_bar = 0.0" for n in names] + [f"{result}_bar = 1.0"]
        for t, a, op, b in reversed(lines):
            for operand, rule in zip((a, b), self.adjoints[op]):
                if rule and operand in names:
                    fill = self._fill(rule, t_bar=f"{t}_bar", t=t, a=a, b=b)
                    body.append(f"{operand}_bar += {fill}")
        body.append(f"return ({', '.join(p + '_bar' for p in params)},)")
        return _compile(params, body)

    def jvp(self, f: Callable[..., Any]) -> Callable[..., Any]:
        params, lines, result = self.ssa(f)
        body = []
        for t, a, op, b in lines:
            dots = {"a_dot": _dot(a), "b_dot": _dot(b), "a": a, "b": b}
            body += [
                f"{t} = {self._call(a, op, b)}",
                f"{t}_dot = {self._fill(self.tangents[op], **dots)}",
            ]
        body.append(f"return {result}, {_dot(result)}")
        return _compile(params + [p + "_dot" for p in params], body)

    @staticmethod
    def _call(a: str, op: str, b: str) -> str:
        return f"{op}({a})" if op in _CALLS else f"{a} {op} {b}"


def _words(rule: str) -> list[str]:
    """A rule split into names and the text between them (so that names can be replaced)."""
    return [w for w in re.split(r"(\b[A-Za-z_]\w*\b)", rule) if w]


def _dot(operand: str) -> str:
    return "0.0" if operand[0].isdigit() or operand[0] in "-." else f"{operand}_dot"


def _compile(params: list[str], body: list[str]) -> Callable[..., Any]:
    source = f"def generated({', '.join(params)}):\n" + "".join(f"    {b}\n" for b in body)
    namespace: dict[str, Any] = dict(_CALLS)
    exec(compile(source, "<generated by the answer key>", "exec"), namespace)
    return namespace["generated"]


def _point(rng: np.random.Generator) -> tuple[float, float]:
    return tuple(float(v) for v in rng.uniform(0.3, 1.7, 2) * rng.choice((-1.0, 1.0), 2))


# -- 1. calls: the adjoint rules of sin, cos and exp in the learner's transformer -----------------
CALLED = ("sin", "cos", "exp")


def _calls_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"points": (_point(rng), _point(rng))}


def _calls_run(rules: Any, table: Any = None, my_grad: Any = None, *, points: tuple) -> tuple:
    """The learner's rules for the three calls, added for the check to their ``ADJOINT``
    table and used through their ``my_grad``; or a reference transformer with right or
    wrong rules."""
    if isinstance(rules, _Transformer):
        transform = rules.grad
    else:
        if not isinstance(rules, Mapping) or set(rules) != set(CALLED):
            raise TypeError('give a dict with the keys "sin", "cos" and "exp"')
        for name in CALLED:
            rule = rules[name]
            if rule is ...:
                raise NotImplementedError  # not written yet
            if not (isinstance(rule, tuple) and len(rule) == 2 and isinstance(rule[0], str)):
                raise TypeError(
                    f'the rule for "{name}" should be a pair (rule for ā, None), like the '
                    f"power's, got {rule!r}"
                )
        saved = dict(table)
        table.update(rules)
        try:
            return _calls_results(my_grad, points)
        finally:  # the learner's table as it was
            table.clear()
            table.update(saved)
    return _calls_results(transform, points)


def _calls_results(transform: Callable[..., Any], points: tuple) -> tuple:
    return tuple(
        tuple(float(g) for g in transform(f)(*p)) for f, p in zip((_calls_1, _calls_2), points)
    )


calls = CodeExercise(
    "calls",
    inputs=_calls_inputs,
    run=_calls_run,
    solution=_Transformer(),
    mistakes={
        "cos_sign": _Transformer(adjoints={"cos": ("t_bar * sin(a)", None)}),
        "no_chain": _Transformer(
            adjoints={
                "sin": ("cos(a)", None),
                "cos": ("-sin(a)", None),
                "exp": ("t", None),
            }
        ),
        "sin_sign": _Transformer(adjoints={"sin": ("-t_bar * cos(a)", None)}),
    },
    example_context=lambda: ({}, _Transformer().grad),
    own_work=True,
)


# -- 2. tangent: the forward-mode transformer ----------------------------------------------------
def _tangent_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "points": tuple(_point(rng) for _ in range(3)),
        "dots": tuple(tuple(float(v) for v in rng.uniform(-2.0, 2.0, 2)) for _ in range(3)),
    }


def _tangent_run(my_jvp: Any, *, points: tuple, dots: tuple) -> tuple:
    transform = my_jvp.jvp if isinstance(my_jvp, _Transformer) else my_jvp
    results = []
    for f, p, d in zip((_arith_1, _arith_2, _arith_3), points, dots):
        got = transform(f)(*p, *d)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise TypeError("the generated function should return a pair: (out, out_dot)")
        results.append(tuple(float(g) for g in got))
    return tuple(results)


tangent = CodeExercise(
    "tangent",
    inputs=_tangent_inputs,
    run=_tangent_run,
    solution=_Transformer(),
    mistakes={
        "quotient_square": _Transformer(tangents={"/": "(a_dot * b - a * b_dot) / b"}),
        "quotient_sign": _Transformer(tangents={"/": "(a * b_dot - a_dot * b) / b ** 2"}),
        "product": _Transformer(tangents={"*": "a_dot * b_dot"}),
        "power_chain": _Transformer(tangents={"**": "b * a ** (b - 1)"}),
    },
    own_work=True,
)

EXERCISES = (calls, tangent)
