"""Every engine against an independent AD system (autograd) on random programs.

The programs are ``tests/programs.py``'s (random DAGs over the primitive table, with fan-out,
safe domains and numpy spellings such as ``np.sin(v1)`` and ``v2.sum(axis=0)``). Each one
runs twice: with adlab, through every engine of ``ad.MODES``, and with autograd, compiled
from the same source against :data:`AUTOGRAD_AD` (each adlab primitive written with
``autograd.numpy``) and :data:`AUTOGRAD_NP`. autograd shares no code and no rule with
adlab, so agreement is evidence that both are right.

At least 1,000 programs per run (see :data:`COUNTS`), scalars and arrays, first and second
order, deterministic (hypothesis derandomised, no example database). ``ADLAB_SOAK=20``
multiplies the counts and draws fresh examples. A failure prints the program as
``Program.from_source(...)``, ready to paste into a regression test.

Kinks: where a program sits exactly on one (``ad.maximum(v1, v1)``, ``ad.abs(x0 - x0)``),
adlab's conventions (ties split evenly, ``abs'(0) = relu'(0) = 0``) are autograd's too,
so exact engines are compared everywhere; numeric mode only away from kinks.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import event, given, settings

import adlab as ad
from tests.programs import (
    ARRAY,
    ELEMENTWISE,
    NUMPY_NAMES,
    Program,
    _compile,
    array_programs,
    scalar_programs,
)

pytestmark = pytest.mark.filterwarnings("ignore:Output seems independent of input:UserWarning")


SOAK = float(os.environ.get("ADLAB_SOAK", "0"))
SETTINGS = settings(deadline=None, derandomize=not SOAK, database=None)

NUMPY = 0.3
"""How often a primitive numpy also has is spelled the numpy way in these programs."""

COUNTS = {"scalar-1": 420, "array-1": 360, "scalar-2": 130, "array-2": 100}
"""Programs per run: first-order (value and gradient) and second-order (Hessian) checks."""


def _where(cond: Any, x: Any, y: Any) -> Any:
    # autograd's where does not sum its cotangents back to broadcast operands' shapes
    mask = np.asarray(cond, dtype=np.float64)
    return mask * x + (1.0 - mask) * y


AUTOGRAD_AD = types.SimpleNamespace(
    add=lambda x, y: x + y,
    sub=lambda x, y: x - y,
    mul=lambda x, y: x * y,
    truediv=lambda x, y: x / y,
    neg=lambda x: -x,
    pow=lambda x, y: x**y,
    exp=anp.exp,
    log=anp.log,
    log1p=anp.log1p,
    expm1=anp.expm1,
    sin=anp.sin,
    cos=anp.cos,
    tan=anp.tan,
    tanh=anp.tanh,
    sqrt=anp.sqrt,
    abs=anp.abs,  # |x|' = 0 at 0, as adlab's
    sigmoid=lambda x: 1.0 / (1.0 + anp.exp(-x)),
    relu=lambda x: anp.where(x > 0, x, 0.0),  # relu'(0) = 0, as adlab's
    maximum=anp.maximum,  # ties split evenly, as adlab's
    minimum=anp.minimum,
    where=_where,
    sum=anp.sum,
    mean=anp.mean,
    max=anp.max,  # ties split evenly, as adlab's
    logsumexp=lambda x, axis=None, keepdims=False: anp.log(
        anp.sum(anp.exp(x), axis=axis, keepdims=keepdims)
    ),  # values are bounded (|v| <= 60): the plain formula does not overflow
    reshape=anp.reshape,
    transpose=anp.transpose,
    # autograd's broadcast_to cannot add leading axes; adding zeros broadcasts the same way
    broadcast_to=lambda x, shape: x + np.zeros(shape),
    matmul=anp.matmul,
    concatenate=anp.concatenate,
    stack=anp.stack,
)
"""adlab's primitives, as the programs call them (``ad.sin``), written with autograd."""


class _AutogradNumpy(types.SimpleNamespace):
    """``np`` for the programs run by autograd: autograd.numpy, with ``where`` and
    ``broadcast_to`` as in :data:`AUTOGRAD_AD`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(anp, name)


AUTOGRAD_NP = _AutogradNumpy(where=_where, broadcast_to=AUTOGRAD_AD.broadcast_to)


def _by_autograd(program: Program) -> Callable[..., Any]:
    return _compile(program.source, program.name, {"ad": AUTOGRAD_AD, "np": AUTOGRAD_NP})


def test_the_oracle_has_every_primitive_the_programs_use():
    called = (set(ELEMENTWISE) | set(ARRAY)) - {"getitem"}  # x[i] is syntax
    assert called <= set(vars(AUTOGRAD_AD))
    assert all(hasattr(AUTOGRAD_NP, name) for name in NUMPY_NAMES.values())


def test_every_known_defect_names_a_test_of_the_hostile_suite():
    import tests.test_hostile as hostile

    where = Program.from_source("def f(x0):\n    return np.where(x0 > 0.0, x0, 1.0)", (1.0,))
    kink = Program(("x0",), (), "ad.abs(x0) * x0", (0.0,), kinks=("x0",))
    names = {
        _known_defect(where, "symbolic", 1),
        _known_defect(where, "sct", 2),
        _known_defect(kink, "symbolic", 2),
    }
    assert None not in names and all(callable(getattr(hostile, n)) for n in names)


def test_the_oracle_notices_a_wrong_gradient():
    # the comparison is not vacuous: a program whose adlab gradient is changed fails it
    program = Program.from_source("def f(x0):\n    v1 = ad.sin(x0)\n    return v1 * x0", (0.7,))
    grads = (ad.grad(program.fn)(0.7) + 1e-6,)
    with pytest.raises(AssertionError, match="reverse: gradient 0"):
        _assert_gradient(program, "reverse", program.fn(0.7), grads, _autograd_gradient(program))


# ---------------------------------------------------------------------------
# The comparisons


def _modes(program: Program) -> list[str]:
    """Every engine; symbolic mode differentiates formulas of scalar inputs only."""
    scalars = not any(isinstance(a, np.ndarray) for a in program.args)
    return [m for m in ad.MODES if scalars or m != "symbolic"]


def _tolerance(mode: str, order: int) -> tuple[float, float]:
    if mode == "numeric":  # differences: to their accuracy, and only away from kinks
        return (1e-5, 1e-6) if order == 1 else (2e-4, 1e-4)  # differences of differences
    return 1e-9, 1e-10


def _compared(program: Program, mode: str, order: int) -> bool:
    """Whether ``mode`` is compared on ``program``: numeric mode only away from kinks, and
    no engine on a known defect (:func:`_known_defect`)."""
    if mode == "numeric" and not program.kinks_are_clear():
        event("numeric: too close to a kink, not compared")
        return False
    defect = _known_defect(program, mode, order)
    if defect is not None:
        event(f"{mode}: known defect, see tests/test_hostile.py::{defect}")
        return False
    return True


def _known_defect(program: Program, mode: str, order: int) -> str | None:
    """The strict xfail of tests/test_hostile.py that pins a defect this program would hit in
    ``mode``; the fix turns that test into an XPASS and must delete its line here."""
    if mode == "symbolic" and "np.where(" in program.source:
        return "test_numpy_where_takes_a_symbolic_condition"
    if mode == "sct" and order == 2 and "np.where(" in program.source:
        return "test_sct_differentiates_its_own_numpy_where"
    if mode == "symbolic" and order == 2 and _on_a_kink(program):
        return "test_symbolic_kink_guards_compare_values"
    return None


def _on_a_kink(program: Program) -> bool:
    return any(np.any(v == 0) for v in program.probe(program.kinks)) if program.kinks else False


def _autograd_gradient(program: Program) -> tuple:
    fn = _by_autograd(program)
    return tuple(autograd.grad(fn, i)(*program.args) for i in range(len(program.args)))


def _assert_gradient(program: Program, mode: str, value: Any, grads: tuple, want: tuple) -> None:
    rtol, atol = _tolerance(mode, 1)
    np.testing.assert_allclose(value, program.fn(*program.args), rtol=1e-12, atol=1e-300,
                               err_msg=f"{mode}: value")  # fmt: skip
    for i, (g, w) in enumerate(zip(grads, want)):
        assert np.shape(g) == np.shape(program.args[i]), f"{mode}: gradient {i} has shape"
        scale = 1.0 + float(np.max(np.abs(w), initial=0.0))
        np.testing.assert_allclose(
            g, w, rtol=rtol, atol=atol * scale, err_msg=f"{mode}: gradient {i}"
        )


def check_first_order(program: Program) -> None:
    want = _autograd_gradient(program)
    argnums = tuple(range(len(program.args)))
    for mode in _modes(program):
        if not _compared(program, mode, 1):
            continue
        value, grads = ad.value_and_grad(program.fn, argnums, mode=mode)(*program.args)
        _assert_gradient(program, mode, value, grads, want)


def _hessian_mode(mode: str, program: Program) -> str | tuple[str, str]:
    """Each engine over itself; sct's generated code handles arrays at run time, which sct
    does not transform again (it says so), so on arrays forward mode differentiates it."""
    if mode == "sct" and any(isinstance(a, np.ndarray) for a in program.args):
        return ("forward", "sct")
    return mode


def check_second_order(program: Program) -> None:
    fn = _by_autograd(program)
    n = len(program.args)
    want = [[autograd.jacobian(autograd.grad(fn, i), j)(*program.args) for j in range(n)]
            for i in range(n)]  # fmt: skip
    for mode in _modes(program):
        if not _compared(program, mode, 2):
            continue
        rtol, atol = _tolerance(mode, 2)
        blocks = ad.hessian(program.fn, tuple(range(n)), mode=_hessian_mode(mode, program))(
            *program.args
        )
        for i in range(n):
            for j in range(n):
                got, w = blocks[i][j], want[i][j]
                shape = np.shape(program.args[i]) + np.shape(program.args[j])
                assert np.shape(got) == shape, f"{mode}: block {i},{j} has shape {np.shape(got)}"
                scale = 1.0 + float(np.max(np.abs(w), initial=0.0))
                np.testing.assert_allclose(
                    got, np.reshape(w, shape), rtol=rtol, atol=atol * scale,
                    err_msg=f"{mode}: Hessian block {i},{j}",
                )  # fmt: skip


# ---------------------------------------------------------------------------
# The runs


CASES = {
    "scalar-1": (scalar_programs(numpy=NUMPY), check_first_order),
    "array-1": (array_programs(numpy=NUMPY), check_first_order),
    "scalar-2": (scalar_programs(max_ops=6, numpy=NUMPY), check_second_order),
    "array-2": (array_programs(max_ops=4, max_size=8, numpy=NUMPY), check_second_order),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_engine_agrees_with_autograd(case: str) -> None:
    strategy, check = CASES[case]
    want = int(COUNTS[case] * (SOAK or 1))
    checked = []

    @settings(SETTINGS, max_examples=want)
    @given(strategy)
    def agree(program: Program) -> None:
        check(program)
        checked.append(program)

    agree()
    assert len(checked) >= want  # every example was a program checked, none discarded


def test_at_least_a_thousand_programs_per_run():
    assert sum(COUNTS.values()) >= 1000
