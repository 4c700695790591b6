"""Property tests: random source programs with control flow, sct against the reverse engine
and against finite differences.

The programs (``programs.py``) have branches, for and while loops with break and
continue, tuple unpacking, augmented assignment, calls of a helper function and
array arguments with broadcasting. Tracing sees only the path that ran; sct
transforms the whole program: they must agree on every path.
"""

from __future__ import annotations

import numpy as np
from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st

import adlab as ad
from adlab.testing import check_grads
from tests.engines.sct.programs import SourceProgram, compile_source, source_programs

PROPERTY = settings(deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                    max_examples=120)  # fmt: skip
"""Deterministic: the same programs on every run."""


def _finite_reference(program: SourceProgram, fn):
    with np.errstate(all="ignore"):
        want = fn()
    ok = all(np.all(np.isfinite(w)) for w in want)
    event("reference finite" if ok else "reference not finite: skipped")
    return want if ok else None


def _describe(program: SourceProgram) -> None:
    for word in ("if ", "for ", "while ", "break", "continue", "helper(", "ad.sum"):
        if word in program.source:
            event(f"uses {word.strip()}")


@PROPERTY
@given(source_programs())
def test_adjoint_tangent_and_pullback_code_agree_with_tracing(program: SourceProgram) -> None:
    _describe(program)
    f, args = program.fn, program.args
    want = _finite_reference(program, lambda: ad.grad(f, argnums=(0, 1))(*args))
    if want is None:
        return
    got = ad.sct.grad(f, argnums=(0, 1))(*args)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10, err_msg=program.source)
    _, pullback = ad.vjp(f, *args, mode="sct")
    for w, g in zip(want, pullback(1.0)):  # the pullback runs again on the same tape
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10, err_msg=program.source)
    out_dot = ad.jvp(f, args, args, mode="sct")[1]
    want_dot = ad.jvp(f, args, args, mode="reverse")[1]
    np.testing.assert_allclose(out_dot, want_dot, rtol=1e-8, atol=1e-10, err_msg=program.source)


@settings(PROPERTY, max_examples=80)
@given(source_programs())
def test_second_derivatives_through_generated_code(program: SourceProgram) -> None:
    f, (x, y) = program.fn, program.args
    if not isinstance(x, float):
        return
    want = _finite_reference(program, lambda: (ad.grad(ad.grad(f), argnums=0)(x, y),))
    if want is None:
        return
    np.testing.assert_allclose(ad.grad(ad.sct.grad(f))(x, y), want[0], rtol=1e-7, atol=1e-9)
    if "helper(" in program.source:  # sct over sct stops at calls of other functions
        event("sct over sct: skipped (a helper call)")
        return
    np.testing.assert_allclose(ad.sct.grad(ad.sct.grad(f))(x, y), want[0], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        ad.sct.jvp(ad.sct.grad(f), argnums=0)(x, y, x_dot=1.0)[1], want[0], rtol=1e-7, atol=1e-9
    )


@settings(PROPERTY, max_examples=60)
@given(source_programs())
def test_generated_code_agrees_with_finite_differences(program: SourceProgram) -> None:
    """The oracle that shares nothing with the table: central differences. The point is
    moved off the round numbers the programs' conditions compare with (0.0, 0.3, ...), so
    no branch decision flips inside the difference stencil."""
    x, y = program.args
    args = (x + 0.01234, y - 0.02345)
    if _finite_reference(program, lambda: (program.fn(*args),)) is None:
        return
    check_grads(program.fn, *args, mode=("reverse", "sct"), rtol=1e-4, atol=1e-5)
    if isinstance(x, float) and "helper(" not in program.source:  # sct over sct: numbers
        check_grads(program.fn, *args, mode="sct", rtol=1e-4, atol=1e-5)


_CONSTANTS = ["0.19", "2.0", "1", "0.5", "3"]


@st.composite
def _signed_expression(draw, depth: int = 0) -> str:
    """Python source with negative literals and unary minus next to ``**`` and ``-``."""
    c = draw(st.sampled_from(_CONSTANTS))
    leaves = ["x", f"(-{c})", f"(-({c}))", "(-x)", c]
    choice = draw(st.integers(0, 6 if depth < 3 else 0))
    if choice == 0:
        return draw(st.sampled_from(leaves))
    a = draw(_signed_expression(depth + 1))
    if choice == 1:
        base = draw(st.sampled_from([*leaves, f"({a})"]))
        return f"{base} ** {draw(st.sampled_from(['2', '3']))}"
    if choice == 2:
        return f"-({a})"
    if choice == 3:
        return f"{a} - -{c}"
    if choice == 4:
        return f"2.0 ** -{draw(st.sampled_from(['x', '(-x)', f'({a})']))}"
    b = draw(_signed_expression(depth + 1))
    return f"({a} {draw(st.sampled_from(['+', '-', '*']))} {b})"


@settings(PROPERTY, max_examples=80)
@given(_signed_expression(), _signed_expression(), st.floats(-1.5, 1.5))
def test_negative_literals_print_as_the_source_means_them(a: str, b: str, x: float):
    """The generated code computes what the source computes: ``(-0.19) ** 2`` is printed
    with its parentheses (Python reads ``-0.19 ** 2`` as ``-(0.19 ** 2)``)."""
    source = f"def f(x):\n    y = {a}\n    z = {b}\n    return y * z + x\n"
    f = compile_source(source)["f"]
    with np.errstate(all="ignore"):
        want = f(x), ad.grad(f)(x)
    if not all(np.isfinite(want)) or abs(want[0]) > 1e12:
        return
    out, out_dot = ad.sct.jvp(f)(x, x_dot=1.0)
    assert out == want[0], source
    np.testing.assert_allclose(out_dot, want[1], rtol=1e-9, atol=1e-12, err_msg=source)
    np.testing.assert_allclose(ad.sct.grad(f)(x), want[1], rtol=1e-9, atol=1e-12, err_msg=source)
