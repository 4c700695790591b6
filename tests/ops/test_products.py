"""numpy's products (adlab/ops/products.py, and np.dot of array.py) against autograd.

Every case runs through :mod:`tests.ops.numpy_cases`: the value against numpy's, the gradient
in every array engine, the Hessian in each engine and over the others, Hessian-vector products
through nested modes, float32 kept; autograd is the oracle. Shapes include 0-d and empty
operands and numpy's broadcasting. Then ``einsum``'s rule by ``check_rule``, the forms of its
subscripts and their errors, and the refusals (``out=``, symbolic mode).
"""

from __future__ import annotations

import numpy as np
import pytest

import adlab as ad
from adlab.ops.products import einsum_p
from tests.ops.numpy_cases import (
    FIRST_ORDER,
    HVP,
    SECOND_ORDER,
    Case,
    check_float32,
    check_gradient,
    check_hessian,
    check_hvp,
    check_value,
    normal,
)


def m(*shape: int, seed: int = 0) -> np.ndarray:
    return normal(*shape, seed=seed)


def s(x: float) -> np.ndarray:
    return np.array(x)


RANGE3 = "anp.arange(3)"


CASES = [
    # einsum: explicit, implicit, repeated labels, ..., lists, broadcasting, 0-d and empty
    Case("einsum-matmul", "np.einsum('ij,jk->ik', a, b)", (m(3, 4), m(4, 2, seed=1))),
    Case("einsum-implicit", "np.einsum('ij,jk', a, b)", (m(3, 4), m(4, 2, seed=1))),
    Case("einsum-implicit-transpose", "np.einsum('ba', a)", (m(3, 4),)),
    Case("einsum-spaces", "np.einsum('ij, jk -> ki', a, b)", (m(3, 4), m(4, 2, seed=1))),
    # (autograd's einsum has no rule for a label repeated in one operand, nor for a label of
    # length one that broadcasts, nor for lists without an output: those oracles are spelled
    # otherwise)
    Case("einsum-trace", "np.einsum('ii', a)", (m(3, 3),), "anp.trace(a)"),
    Case("einsum-diagonal", "np.einsum('ii->i', a)", (m(3, 3),), f"a[{RANGE3}, {RANGE3}]"),
    Case(
        "einsum-repeated-apart",
        "np.einsum('iji->j', a)",
        (m(3, 2, 3),),
        f"anp.sum(a[{RANGE3}, :, {RANGE3}], axis=0)",
    ),
    Case(
        "einsum-repeated-kept",
        "np.einsum('ii,i->i', a, b)",
        (m(3, 3), m(3, seed=1)),
        f"a[{RANGE3}, {RANGE3}] * b",
    ),
    Case("einsum-sum-one-operand", "np.einsum('ij->i', a)", (m(3, 4),)),
    Case("einsum-summed-alone", "np.einsum('ij,k->k', a, b)", (m(2, 3), m(4, seed=1))),
    Case("einsum-outer", "np.einsum('i,j->ij', a, b)", (m(3), m(2, seed=1))),
    Case("einsum-vectors", "np.einsum('i,i', a, b)", (m(4), m(4, seed=1))),
    Case("einsum-batch", "np.einsum('bij,bjk->bik', a, b)", (m(2, 3, 4), m(2, 4, 2, seed=1))),
    Case("einsum-ellipsis", "np.einsum('...ij,...jk->...ik', a, b)", (m(2, 3, 4), m(4, 2, seed=1))),
    Case("einsum-ellipsis-implicit", "np.einsum('i...,...', a, b)", (m(5, 3), m(3, seed=1))),
    Case("einsum-broadcast-1", "np.einsum('ij,ij->ij', a, b)", (m(1, 3), m(2, 1, seed=1))),
    Case(
        "einsum-broadcast-contracted",
        "np.einsum('ij,jk->ik', a, b)",
        (m(2, 1), m(3, 4, seed=1)),
        "anp.dot(a * anp.ones((1, 3)), b)",
    ),
    Case(
        "einsum-three",
        "np.einsum('ij,jk,kl->il', a, b, c)",
        (m(2, 3), m(3, 4, seed=1), m(4, 2, seed=2)),
    ),
    Case(
        "einsum-three-shared", "np.einsum('i,i,i->', a, b, c)", (m(3), m(3, seed=1), m(3, seed=2))
    ),
    Case("einsum-lists", "np.einsum(a, [0, 1], b, [1, 2], [0, 2])", (m(3, 4), m(4, 2, seed=1))),
    Case(
        "einsum-lists-ellipsis",
        "np.einsum(a, [Ellipsis, 1], b, [1, 2])",
        (m(2, 3), m(3, 4, seed=1)),
        "anp.einsum('...j,jk', a, b)",
    ),
    Case("einsum-0d-and-matrix", "np.einsum(',ij->ij', a, b)", (s(0.7), m(2, 3))),
    Case("einsum-0d", "np.einsum('->', a)", (s(0.3),)),
    Case("einsum-empty", "np.einsum('ij,jk->ik', a, b)", (m(0, 3), m(3, 2, seed=1))),
    Case("einsum-empty-contraction", "np.einsum('ij,jk->ik', a, b)", (m(2, 0), m(0, 3))),
    # tensordot
    Case("tensordot-2", "np.tensordot(a, b)", (m(2, 3, 4), m(3, 4, 2, seed=1))),
    Case("tensordot-1", "np.tensordot(a, b, 1)", (m(2, 3), m(3, 4, seed=1))),
    Case("tensordot-0", "np.tensordot(a, b, 0)", (m(2), m(3, seed=1))),
    Case(
        "tensordot-lists",
        "np.tensordot(a, b, axes=([1, 0], [0, 2]))",
        (m(3, 2, 4), m(2, 5, 3, seed=1)),
    ),
    Case("tensordot-negative", "np.tensordot(a, b, axes=(-1, 0))", (m(2, 3), m(3, 2, seed=1))),
    Case("tensordot-0d", "np.tensordot(a, b, 0)", (s(0.7), m(2, 3))),
    # dot, for every pair of dimensions numpy allows
    Case("dot-float-array", "np.dot(a, b)", (s(0.7), m(2, 3))),
    Case("dot-array-0d", "np.dot(a, b)", (m(2, 3), s(0.7))),
    Case("dot-0d-0d", "np.dot(a, b)", (s(0.7), s(-1.3))),
    Case("dot-1-1", "np.dot(a, b)", (m(4), m(4, seed=1))),
    Case("dot-2-1", "np.dot(a, b)", (m(3, 4), m(4, seed=1))),
    Case("dot-1-2", "np.dot(a, b)", (m(3), m(3, 4, seed=1))),
    Case("dot-2-2", "np.dot(a, b)", (m(3, 4), m(4, 2, seed=1))),
    Case("dot-3-1", "np.dot(a, b)", (m(2, 3, 4), m(4, seed=1))),
    Case("dot-1-3", "np.dot(a, b)", (m(3), m(2, 3, 4, seed=1))),
    Case("dot-3-2", "np.dot(a, b)", (m(2, 3, 4), m(4, 2, seed=1))),
    Case("dot-2-3", "np.dot(a, b)", (m(2, 3), m(2, 3, 4, seed=1))),
    Case("dot-3-3", "np.dot(a, b)", (m(2, 2, 3), m(2, 3, 2, seed=1))),
    Case(
        "dot-method",
        "a.dot(np.linspace(-1.0, 1.0, 6).reshape(3, 2))",
        (m(2, 2, 3),),
        "anp.dot(a, np.linspace(-1.0, 1.0, 6).reshape(3, 2))",
    ),
    Case("dot-empty", "np.dot(a, b)", (m(0, 3), m(3, 2, seed=1))),
    Case("dot-empty-3d", "np.dot(a, b)", (m(2, 0), m(2, 0, 3, seed=1))),
    # inner, vdot, outer, kron
    Case("inner-1-1", "np.inner(a, b)", (m(4), m(4, seed=1))),
    Case("inner-2-2", "np.inner(a, b)", (m(2, 3), m(4, 3, seed=1))),
    Case("inner-3-1", "np.inner(a, b)", (m(2, 2, 3), m(3, seed=1))),
    Case("inner-0d", "np.inner(a, b)", (s(0.7), m(2, 3))),
    Case(
        "vdot", "np.vdot(a, b)", (m(2, 3), m(3, 2, seed=1)), "anp.sum(anp.ravel(a) * anp.ravel(b))"
    ),
    Case("outer-1-1", "np.outer(a, b)", (m(3), m(2, seed=1))),
    # (autograd's outer has no rule for operands other than vectors)
    Case("outer-2-1", "np.outer(a, b)", (m(2, 2), m(3, seed=1)), "anp.outer(anp.ravel(a), b)"),
    Case("outer-0d", "np.outer(a, b)", (s(0.7), m(3)), "anp.outer(anp.ravel(a), b)"),
    Case("kron-2-2", "np.kron(a, b)", (m(2, 3), m(2, 2, seed=1))),
    Case("kron-1-2", "np.kron(a, b)", (m(3), m(2, 2, seed=1))),
    Case("kron-0d-1", "np.kron(a, b)", (s(0.7), m(3))),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_value_is_numpys(case):
    check_value(case)


@pytest.mark.parametrize("mode", FIRST_ORDER)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradient_against_autograd(case, mode):
    check_gradient(case, mode)


@pytest.mark.parametrize("mode", SECOND_ORDER, ids=str)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_hessian_against_autograd(case, mode):
    check_hessian(case, mode)


@pytest.mark.parametrize("inner", HVP)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_hessian_vector_product_through_nested_modes(case, inner):
    check_hvp(case, inner)


@pytest.mark.parametrize("case", [c for c in CASES if "0d" not in c.name], ids=repr)
def test_float32_stays_float32(case):
    check_float32(case)


# ---------------------------------------------------------------------------
# einsum's rule

RULES = {
    "ij,jk->ik": ((3, 4), (4, 2)),
    "ii->": ((3, 3),),
    "ii->i": ((3, 3),),
    "iji->j": ((2, 3, 2),),
    "ij->i": ((2, 3),),
    "ij->ji": ((2, 3),),
    "i,j->ij": ((3,), (2,)),
    ",ij->ij": ((), (2, 3)),
    "->": ((),),
    "ij,ij->ij": ((2, 3), (2, 3)),
    "bij,bjk->bik": ((2, 3, 4), (2, 4, 2)),
    "ij,jk,kl->il": ((2, 3), (3, 4), (4, 2)),
    "i,i,i->": ((3,), (3,), (3,)),
    "ii,i->i": ((3, 3), (3,)),
    "ij,k->k": ((2, 3), (4,)),
    "ij,jk->ik empty": ((0, 3), (3, 2)),
}


@pytest.mark.parametrize("subscripts", RULES)
def test_einsum_rule_passes_check_rule(subscripts):
    args = [normal(*shape, seed=i) for i, shape in enumerate(RULES[subscripts])]
    ad.testing.check_rule(einsum_p, *args, params={"subscripts": subscripts.split()[0]})


def test_einsum_is_one_primitive_with_einsums_in_its_rule():
    a, b = m(3, 4), m(4, 2, seed=1)
    t = ad.trace(lambda a, b: ad.sum(np.einsum("ij,jk->ik", a, b)), a, b)
    assert [line.split(" = ")[1].split("(")[0] for line in t.tape.lines()] == ["einsum", "sum"]
    row = next(r for r in ad.rule_table().rows if r[0] == "einsum")
    assert row[1:3] == ("jvp+vjp", "jvp: _einsum_jvp, vjp: _einsum_vjp")


def test_trace_cotangent_is_the_identity():
    np.testing.assert_array_equal(ad.grad(lambda a: np.einsum("ii", a))(m(3, 3)), np.eye(3))


def test_sct_calls_the_table(tmp_path):
    def f(a, b):
        return np.sum(np.einsum("ij,jk->ik", a, b) ** 2) + np.sum(np.tensordot(a, b, 1))

    g = ad.sct.grad(f, argnums=(0, 1))
    assert "ad.einsum" in g.source and "ad.tensordot" in g.source
    want = ad.grad(f, (0, 1))(m(3, 4), m(4, 2, seed=1))
    for got, w in zip(g(m(3, 4), m(4, 2, seed=1)), want):
        np.testing.assert_allclose(got, w, rtol=1e-13)


# ---------------------------------------------------------------------------
# The forms of einsum's subscripts, as numpy reads them, and their errors

FORMS = {
    "Ba,aC": ((2, 3), (3, 5)),  # implicit order: upper case before lower case, as numpy's
    "aB,Ca": ((2, 3), (5, 2)),
    "...ij,...jk": ((5, 1, 2, 3), (4, 3, 2)),
    "ij...,jk": ((2, 3, 7), (3, 4)),
    "i...->...i": ((2, 3),),
    "...,...->...": ((), ()),
    "...i->...": ((3,),),
}


@pytest.mark.parametrize("subscripts", FORMS)
def test_einsum_reads_subscripts_as_numpy(subscripts):
    args = [normal(*shape, seed=i) for i, shape in enumerate(FORMS[subscripts])]
    got, want = ad.einsum(subscripts, *args), np.einsum(subscripts, *args)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-13)


BAD = {
    "ij,jk": ((2, 3),),  # one operand for two terms
    "ij,jk->ik ": ((2, 3), (2, 4)),  # j: 3 against 2
    "ii->i": ((1, 3),),  # a repeated label over axes of two lengths
    "i->ii": ((2,),),
    "i->j": ((2,),),
    "ij": ((2, 3, 4),),  # more axes than labels, no '...'
    "ijk": ((2, 3),),
    "...ij->ij": ((2, 3, 4),),  # the output drops '...'
    "i.j": ((2, 3),),
    "i1": ((2, 3),),
}


@pytest.mark.parametrize("subscripts", BAD)
def test_einsum_refuses_what_numpy_refuses_with_a_message(subscripts):
    args = [normal(*shape, seed=i) for i, shape in enumerate(BAD[subscripts])]
    with pytest.raises(ValueError):
        np.einsum(subscripts, *args)
    with pytest.raises(ValueError, match="einsum: "):
        ad.einsum(subscripts, *args)


def test_einsum_refuses_a_bad_label_in_a_list():
    with pytest.raises(ValueError, match="integers 0 to 51"):
        ad.einsum(m(2), [52])


def test_einsum_accepts_optimize():
    a, b = m(3, 4), m(4, 2, seed=1)
    g = ad.grad(lambda a: np.sum(np.einsum("ij,jk->ik", a, b, optimize="greedy")))(a)
    np.testing.assert_allclose(g, np.broadcast_to(b.sum(axis=1), (3, 4)), rtol=1e-13)


def test_large_operands_give_numpys_values():
    """Operands past the size at which einsum hands pairs to BLAS, and a scalar result."""
    a, b = m(80, 60), m(60, 70, seed=1)
    np.testing.assert_allclose(ad.einsum("ij,jk->ik", a, b), a @ b, rtol=1e-12)
    np.testing.assert_allclose(ad.einsum("ij,jk->ki", a, b), (a @ b).T, rtol=1e-12)
    total = ad.einsum("ij,ij->", a, a)
    assert np.ndim(total) == 0 and total == pytest.approx(np.sum(a * a), rel=1e-12)


# ---------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    "call",
    [
        lambda x, out: np.einsum("ij,jk->ik", x, x, out=out),
        lambda x, out: np.dot(x, x, out=out),
    ],
    ids=["einsum", "dot"],
)
def test_out_is_refused(call):
    x = m(2, 2)
    with pytest.raises(ad.DifferentiationError, match=r"out=\.\.\.\) would overwrite"):
        ad.grad(lambda x: np.sum(call(x, np.empty((2, 2)))))(x)


def test_symbolic_mode_refuses_arrays_with_its_message():
    with pytest.raises(ad.DifferentiationError, match="symbolic mode differentiates functions"):
        ad.grad(lambda a: np.sum(np.einsum("ij,jk", a, a)), mode="symbolic")(m(2, 2))


def test_an_mlp_by_einsum_or_dot_has_the_gradient_of_one_by_matmul():
    x, w1, w2 = m(5, 4), m(4, 3, seed=1), m(3, 2, seed=2)

    def by_matmul(w1, w2):
        return np.sum(np.tanh(x @ w1) @ w2)

    def by_einsum(w1, w2):
        return np.sum(np.einsum("bh,ho->bo", np.tanh(np.einsum("bi,ih->bh", x, w1)), w2))

    def by_dot(w1, w2):
        return np.sum(np.dot(np.tanh(np.dot(x, w1)), w2))

    want = ad.grad(by_matmul, (0, 1))(w1, w2)
    for f in (by_einsum, by_dot):
        for mode in ("reverse", "forward", "sct"):
            for got, w in zip(ad.grad(f, (0, 1), mode=mode)(w1, w2), want):
                np.testing.assert_allclose(got, w, rtol=1e-12)


LISTS = {
    "dot": (lambda x: np.dot([1.0, 2.0], x), [1.0, 2.0]),
    "einsum": (lambda x: np.einsum("i,i", [1.0, 2.0], x), [1.0, 2.0]),
    "tensordot": (lambda x: np.tensordot(x, [1.0, 3.0], 1), [1.0, 3.0]),
    "inner": (lambda x: np.inner([1.0, 3.0], x), [1.0, 3.0]),
    "vdot": (lambda x: np.vdot(x, [1.0, 3.0]), [1.0, 3.0]),
    "outer": (lambda x: np.sum(np.outer([1.0, 2.0], x)), [3.0, 3.0]),
    "kron": (lambda x: np.sum(np.kron([1.0, 2.0], x)), [3.0, 3.0]),
}


@pytest.mark.parametrize("case", LISTS.values(), ids=LISTS.keys())
def test_a_list_beside_a_traced_value_is_an_array(case):
    """numpy takes lists as arrays (before, np.dot([1, 2], x) was taken for a scalar product)."""
    f, want = case
    for mode in ("reverse", "forward"):
        np.testing.assert_array_equal(ad.grad(f, mode=mode)(np.ones(2)), want)
