"""numpy.linalg in every engine, to second order: adlab/ops/linalg.py.

Each function is checked three ways: its primitive's rules against central
differences (``ad.testing.check_rule``); its Jacobian in numeric, forward, reverse
and sct mode against autograd's (an independent AD system with numpy.linalg
gradients of its own); and the Hessian of a scalar function of it (the weighted
``sin`` of its result) against autograd's, for every pair of engines that nests
(forward or reverse over forward, reverse or sct), with Hessian-vector products
through nested modes too. Matrices are random and well conditioned (singular values
in [0.95, 3.05] at least 0.5 apart; symmetric ones with eigenvalues at least 0.9 apart),
of sizes 1×1, 2×2, 4×4 and a stack of two 3×3 (and tall and wide ones for qr and svd).
Also: values and dtypes as numpy's (float32 stays
float32), ``np.linalg.*`` on traced values reaching the table, numpy's errors for
bad shapes, the kinks and assumptions of the rule table, and symbolic mode's refusal.

Tolerances: first order rtol 1e-7 against autograd (exact engines; both compute the
same formulas in another order), 1e-5 for numeric mode (central differences);
second order rtol 1e-6, atol 1e-8.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Callable
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import adlab as ad
from adlab.ops import linalg as L
from adlab.ops.operators import FUNCTIONS as NUMPY_FUNCTIONS
from adlab.testing import check_rule

pytestmark = pytest.mark.filterwarnings("ignore:Output seems independent of input:UserWarning")

SHAPES = {"1x1": (1, 1), "2x2": (2, 2), "4x4": (4, 4), "stack": (2, 3, 3)}
EXACT = ("forward", "reverse", "sct")
NESTED = (("forward", "reverse"), ("reverse", "reverse"), ("forward", "forward"),
          ("reverse", "forward"), ("forward", "sct"), ("reverse", "sct"))  # fmt: skip
SOME_NESTED = (("forward", "reverse"), ("reverse", "sct"))
"""For the larger Hessians (stacks, tall and wide matrices): every engine still nests."""
FIRST = {"rtol": 1e-7, "atol": 1e-10}
SECOND = {"rtol": 1e-6, "atol": 1e-8}


def _orthogonal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal(shape))[0]


def general(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A random matrix (stack; square or tall) with singular values in [0.95, 3.05], at least
    0.5 apart: well conditioned, and its singular vectors well defined."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    s = 1.0 + 2.0 * np.arange(n) / max(n - 1, 1) + rng.uniform(-0.05, 0.05, (*shape[:-2], n))
    return (_orthogonal(shape, rng) * s[..., None, :]) @ _orthogonal((*shape[:-2], n, n), rng)


def symmetric(shape: tuple[int, ...], seed: int = 0, low: float = 1.0) -> np.ndarray:
    """A random symmetric matrix (stack) with eigenvalues from ``low`` up, at least 0.9 apart."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    w = low + np.arange(n) + rng.uniform(-0.05, 0.05, shape[:-1])
    q = _orthogonal(shape, rng)
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def weights(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed weights for a scalar function of a result: no two alike, none zero."""
    return np.linspace(0.5, 1.5, math.prod(shape)).reshape(shape)


def scalar(out):
    """A scalar of a result with a nonlinear part, so its Hessian sees both derivatives."""
    return np.sum(weights(np.shape(out)) * np.sin(out))


# ---------------------------------------------------------------------------
# The functions: written once against ``np``, run by adlab and (with autograd.numpy
# as ``np``) by autograd


def f_inv(a):
    return np.linalg.inv(a)


def f_solve_vector(a):
    return np.linalg.solve(a, np.linspace(-1.0, 1.0, a.shape[-1]))


def f_solve_matrix(a):
    b = np.ones(a.shape[:-1] + (2,)) + np.eye(a.shape[-1], 2)  # noqa: RUF005 - sct has no *x
    return np.linalg.solve(a, b)


def f_det(a):
    return np.linalg.det(a)


def f_slogdet(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return sign * logabsdet


def f_norm(a):
    return np.linalg.norm(a)


def f_norm_fro(a):
    return np.linalg.norm(a, "fro", axis=(-2, -1))


def f_norm_2(a):
    return np.linalg.norm(a, axis=-1)


def f_norm_3(a):
    return np.linalg.norm(a, 3, axis=0)


def f_norm_1(a):
    return np.linalg.norm(a, 1, axis=-1)


def f_norm_inf(a):
    return np.linalg.norm(a, np.inf, axis=-2)


def f_norm_minus_inf(a):
    return np.linalg.norm(a, -np.inf, axis=-1)


def f_norm_matrix_1(a):
    return np.linalg.norm(a, 1, axis=(-2, -1))


def f_norm_matrix_inf(a):
    return np.linalg.norm(a, np.inf, axis=(-1, -2))


def f_qr_q(a):
    return np.linalg.qr(a)[0]


def f_qr_r(a):
    return np.linalg.qr(a, mode="r")


def f_norm_nuc(a):
    return np.linalg.norm(a, "nuc", axis=(-2, -1))


def f_norm_spectral(a):
    return np.linalg.norm(a, 2, axis=(-1, -2))


def f_norm_minus_2(a):
    return np.linalg.norm(a, -2, axis=(-2, -1))


def f_svd_u(a):
    return np.linalg.svd(a, full_matrices=False)[0] ** 2  # squares: free of the signs


def f_svd_s(a):
    return np.linalg.svd(a)[1]


def f_svd_vh(a):
    _, s, vh = np.linalg.svd(a, full_matrices=False)
    return vh**2 * s[..., :, None]


def f_svdvals(a):
    return np.linalg.svdvals(a)


def f_cholesky(a):
    return np.linalg.cholesky(a)


def f_cholesky_upper(a):
    return np.linalg.cholesky(a, upper=True)


def f_eigvalsh(a):
    return np.linalg.eigvalsh(a)


def f_eigh(a):
    w, v = np.linalg.eigh(a)
    return w[..., -1:, None] * v**2  # squares: free of the eigenvectors' signs


def f_eigh_upper(a):
    w, v = np.linalg.eigh(a, UPLO="U")
    return w[..., None, :] * v**2


def _in_both(**autograd_spellings: Callable[..., Any]) -> Callable[[Callable], Callable]:
    """Mark the numpy functions autograd spells differently (it has no gradient of
    ord=1 or ±inf norms, nor of eigvalsh, svdvals, qr or cholesky(upper=True), its matrix norms take
    only non-negative axes, and its solve rule predates numpy 2's vector b for a stack):
    the same mathematics, written with autograd.numpy."""

    def mark(f: Callable) -> Callable:
        f.autograd = autograd_spellings["autograd"]  # type: ignore[attr-defined]
        return f

    return mark


_in_both(autograd=lambda a: anp.linalg.solve(a, _columns(a))[..., 0])(f_solve_vector)
_in_both(autograd=lambda a: anp.linalg.norm(a, "fro", axis=(a.ndim - 2, a.ndim - 1)))(f_norm_fro)
_in_both(autograd=lambda a: anp.sum(anp.abs(a), axis=-1))(f_norm_1)
_in_both(autograd=lambda a: anp.max(anp.abs(a), axis=-2))(f_norm_inf)
_in_both(autograd=lambda a: -anp.max(-anp.abs(a), axis=-1))(f_norm_minus_inf)
_in_both(autograd=lambda a: anp.max(anp.sum(anp.abs(a), axis=-2), axis=-1))(f_norm_matrix_1)
_in_both(autograd=lambda a: anp.max(anp.sum(anp.abs(a), axis=-2), axis=-1))(f_norm_matrix_inf)
_in_both(autograd=lambda a: anp.linalg.eigh(a)[0])(f_eigvalsh)  # autograd has no eigvalsh rule
_in_both(autograd=lambda a: anp.swapaxes(anp.linalg.cholesky(anp.swapaxes(a, -1, -2)), -1, -2))(
    f_cholesky_upper
)


def _columns(a):
    """f_solve_vector's b as a stack of one-column matrices (autograd's solve rule predates
    numpy 2's vector b for a stack of matrices)."""
    n = a.shape[-1]
    return np.broadcast_to(np.linspace(-1.0, 1.0, n)[:, None], (*a.shape[:-1], 1))


def _qr_by_cholesky(a):
    """QR with autograd, another way: R = D Lᵀ with L the Cholesky factor of AᵀA and D the
    signs of LAPACK's diagonal of R (constant), Q = A R⁻¹."""
    r = np.linalg.qr(autograd.tracer.getval(a), mode="r")
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    low = anp.linalg.cholesky(anp.matmul(anp.swapaxes(a, -1, -2), a))
    q = anp.swapaxes(anp.linalg.solve(low, anp.swapaxes(a, -1, -2)), -1, -2)
    return q * signs[..., None, :], signs[..., :, None] * anp.swapaxes(low, -1, -2)


_in_both(autograd=lambda a: anp.linalg.svd(a, compute_uv=False))(f_svdvals)
_in_both(autograd=lambda a: anp.linalg.svd(a, full_matrices=False)[1])(f_svd_s)
_in_both(autograd=lambda a: anp.max(anp.linalg.svd(a, compute_uv=False), axis=-1))(f_norm_spectral)
_in_both(autograd=lambda a: anp.min(anp.linalg.svd(a, compute_uv=False), axis=-1))(f_norm_minus_2)
_in_both(autograd=lambda a: anp.sum(anp.linalg.svd(a, compute_uv=False), axis=-1))(f_norm_nuc)
_in_both(autograd=lambda a: _qr_by_cholesky(a)[0])(f_qr_q)
_in_both(autograd=lambda a: _qr_by_cholesky(a)[1])(f_qr_r)


def by_autograd(f: Callable) -> Callable:
    """``f`` with autograd.numpy as its ``np`` (or its own autograd spelling)."""
    if hasattr(f, "autograd"):
        return f.autograd
    return types.FunctionType(f.__code__, {**f.__globals__, "np": anp}, f.__name__)


GENERAL = (f_inv, f_solve_vector, f_solve_matrix, f_det, f_slogdet, f_norm, f_norm_fro,
           f_norm_2, f_norm_3, f_norm_1, f_norm_inf, f_norm_minus_inf, f_norm_matrix_1,
           f_norm_matrix_inf, f_norm_nuc, f_norm_spectral, f_norm_minus_2, f_qr_q, f_qr_r,
           f_svd_u, f_svd_s, f_svd_vh, f_svdvals)  # fmt: skip
"""Functions of any well-conditioned matrix."""
TRIANGLE = (f_cholesky, f_cholesky_upper, f_eigvalsh, f_eigh, f_eigh_upper)
"""Functions of a symmetric matrix that, like numpy, read one triangle of it."""
FUNCTIONS = {f.__name__[2:]: f for f in GENERAL + TRIANGLE}


def point(f: Callable, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return symmetric(shape, seed) if f in TRIANGLE else general(shape, seed)


def symmetrised(f: Callable) -> Callable:
    """``f`` of a symmetric matrix built from any ``x``: here numpy's triangle and
    autograd's symmetric convention agree (see the kink notes of cholesky and eigh)."""

    def of_symmetric(x):
        return f((x + np.transpose(x, last_two_swapped(x.ndim))) * 0.5)

    of_symmetric.autograd = lambda x: by_autograd(f)((x + anp.swapaxes(x, -1, -2)) * 0.5)
    return of_symmetric


def last_two_swapped(ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)  # noqa: RUF005 - sct has no *x


def summed(f: Callable) -> Callable:
    def summed_f(a):
        return np.sum(f(a))

    return summed_f


def scalar_of(f: Callable) -> tuple[Callable, Callable]:
    """``scalar(f(a))`` for adlab and for autograd."""
    g = by_autograd(f)

    def scalar_f(a):
        return scalar(f(a))

    def scalar_g(a):
        out = g(a)
        return anp.sum(weights(anp.shape(out)) * anp.sin(out))

    return scalar_f, scalar_g


# ---------------------------------------------------------------------------
# Values, dtypes, dispatch


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("name", FUNCTIONS)
def test_values_are_numpys(name, shape):
    f = FUNCTIONS[name]
    a = point(f, shape)
    want = f(a)
    for mode in EXACT:
        out = ad.vjp(f, a, mode=mode)[0]
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
        assert np.shape(out) == np.shape(want)


@pytest.mark.parametrize("mode", EXACT)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_float32_stays_float32(name, mode):
    f = FUNCTIONS[name]
    a = point(f, (3, 3)).astype(np.float32)
    g = ad.grad(lambda a: np.sum(f(a)), mode=mode)(a)
    assert g.dtype == np.float32
    out, out_dot = ad.jvp(f, (a,), (np.ones_like(a),), mode=mode)
    assert out.dtype == out_dot.dtype == f(a).dtype  # float32, or float64 with solve's b
    want = ad.grad(lambda a: np.sum(f(a)), mode=mode)(a.astype(np.float64))
    np.testing.assert_allclose(g, want, rtol=2e-3, atol=2e-3)


def test_the_functions_are_the_numpy_functions_they_stand_for():
    linalg = np.linalg
    for np_fn in (linalg.inv, linalg.solve, linalg.det, linalg.slogdet, linalg.norm,
                  linalg.cholesky, linalg.eigh, linalg.eigvalsh, linalg.qr, linalg.svd,
                  linalg.svdvals):  # fmt: skip
        ad_fn = getattr(ad, np_fn.__name__)
        assert NUMPY_FUNCTIONS[np_fn][0] is ad_fn
        assert ad_fn.__module__ == "adlab.ops.linalg"


def test_sct_calls_the_table():
    source = ad.sct.grad(lambda a: np.sum(np.linalg.inv(a)) + np.linalg.det(a)).source
    assert "sct.vjp(ad.inv, a)" in source and "sct.vjp(ad.det, a)" in source
    g = ad.sct.grad(sum_of_eigh)
    a = symmetric((3, 3))
    np.testing.assert_allclose(g(a), ad.grad(sum_of_eigh)(a), rtol=1e-12)
    assert "sct.vjp(ad.eigh, a)" in g.source


def sum_of_eigh(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w) + np.sum(v[0] ** 2 * w)


def test_results_are_numpys_named_tuples():
    a = symmetric((3, 3))

    def uses_names(a):
        return np.linalg.slogdet(a).logabsdet + np.sum(np.linalg.eigh(a).eigenvalues)

    g = ad.grad(uses_names)(a)
    for mode in ("forward", "numeric"):  # sct reads a tuple's items by unpacking or [i]
        np.testing.assert_allclose(ad.grad(uses_names, mode=mode)(a), g, rtol=1e-6)


# ---------------------------------------------------------------------------
# Rules against central differences


def test_every_rule_passes_check_rule():
    for n in (1, 2, 4):
        a, s = general((n, n), seed=n), symmetric((n, n), seed=n)
        check_rule(L.inv_p, a)
        check_rule(L.solve_p, a, np.linspace(-1.0, 1.0, n))
        check_rule(L.solve_p, a, np.ones((n, 2)))
        check_rule(L.det_p, a)
        check_rule(L.logabsdet_p, a)
        for upper in (False, True):
            check_rule(L.cholesky_p, s, params={"upper": upper})
        for uplo in ("L", "U"):
            check_rule(L.eigvalsh_p, s, params={"UPLO": uplo})
            check_rule(L.eigh_vectors_p, s, params={"UPLO": uplo}, rtol=1e-4)
    x = np.random.default_rng(5).standard_normal((3, 4))
    inf = math.inf
    for ord, axis in ((None, None), (None, (1,)), (1.0, (0,)), (3.0, (1,)), (inf, (1,)),
                      (-inf, (0,)), (None, (0, 1)), (1.0, (0, 1)), (-1.0, (1, 0))):  # fmt: skip
        for keepdims in (False, True):
            check_rule(L.norm_p, x, params={"ord": ord, "axis": axis, "keepdims": keepdims})


def agrees_with_autograd(f: Callable, a: np.ndarray) -> None:
    """The Jacobian of ``f`` in every exact engine and a Hessian through two nestings, as
    autograd's."""
    want = autograd.jacobian(by_autograd(f))(a)
    for mode in EXACT:
        np.testing.assert_allclose(ad.jacobian(f, mode=mode)(a), want, **FIRST, err_msg=mode)
    scalar_f, scalar_g = scalar_of(f)
    want = autograd.hessian(scalar_g)(a)
    for mode in SOME_NESTED:
        got = ad.hessian(scalar_f, mode=mode)(a)
        np.testing.assert_allclose(got, want, **SECOND, err_msg=str(mode))


@pytest.mark.parametrize("shape", [(4, 3), (5, 1), (2, 5, 2)], ids=["4x3", "5x1", "stack"])
def test_qr_of_tall_matrices(shape):
    a = general(shape, seed=6)
    check_rule(L.qr_q_p, a)
    check_rule(L.qr_r_p, a)
    for f in (f_qr_q, f_qr_r):
        agrees_with_autograd(f, a)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5), (2, 2, 4)], ids=["4x3", "2x5", "stack"])
def test_svd_of_tall_and_wide_matrices(shape):
    a = general(shape, seed=7) if shape[-2] >= shape[-1] else np.swapaxes(
        general((*shape[:-2], shape[-1], shape[-2]), seed=7), -1, -2)  # fmt: skip
    for prim in (L.svd_u_p, L.svdvals_p, L.svd_vh_p):
        check_rule(prim, a, rtol=1e-4)
    for f in (f_svd_u, f_svd_vh, f_svdvals, f_norm_nuc, f_norm_spectral):
        agrees_with_autograd(f, a)


def test_svd_refuses_what_has_no_derivative():
    with pytest.raises(ad.DifferentiationError, match="full_matrices=False"):
        ad.grad(lambda a: np.sum(np.linalg.svd(a)[0]))(general((3, 2)))
    with pytest.raises(ad.DifferentiationError, match="hermitian"):
        ad.grad(lambda a: np.sum(np.linalg.svd(a, hermitian=True)[1]))(symmetric((2, 2)))


def test_qr_of_a_wide_matrix_or_complete_mode_is_refused():
    for shape, mode in (((2, 3), "reduced"), ((3, 2), "complete"), ((2, 2), "raw")):
        with pytest.raises(ad.DifferentiationError, match="at least as many rows"):
            ad.grad(lambda a, mode=mode: np.sum(np.linalg.qr(a, mode)[0]))(np.ones(shape))
    a = general((3, 3))  # complete is reduced for a square matrix
    g = ad.grad(lambda a: np.sum(np.linalg.qr(a, "complete")[0]))(a)
    np.testing.assert_allclose(g, ad.grad(lambda a: np.sum(np.linalg.qr(a)[0]))(a))


def test_stacks_pass_check_rule():
    a, s = general((2, 3, 3)), symmetric((2, 3, 3))
    check_rule(L.inv_p, a)
    check_rule(L.solve_p, a, np.ones(3))  # a vector b for a stack of matrices
    check_rule(L.solve_p, a, np.ones((4, 1, 3, 2)))  # b's stack broadcast against a's
    check_rule(L.solve_p, a[0], np.ones((2, 3, 2)))  # a's matrix broadcast against b's stack
    check_rule(L.det_p, a)
    check_rule(L.logabsdet_p, a)
    check_rule(L.cholesky_p, s, params={"upper": False})
    check_rule(L.eigvalsh_p, s, params={"UPLO": "L"})
    check_rule(L.eigh_vectors_p, s, params={"UPLO": "L"}, rtol=1e-4)


# ---------------------------------------------------------------------------
# First order: Jacobians of every engine against autograd's


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("name", FUNCTIONS)
def test_jacobians_agree_with_autograd(name, shape):
    f = FUNCTIONS[name]
    a = point(f, shape, seed=1)
    if f in TRIANGLE:  # autograd's cholesky is of the symmetric matrix: compare on one
        f = symmetrised(f)
    want = autograd.jacobian(by_autograd(f))(a)
    for mode in EXACT:
        np.testing.assert_allclose(ad.jacobian(f, mode=mode)(a), want, **FIRST, err_msg=mode)
    np.testing.assert_allclose(ad.jacobian(f, mode="numeric")(a), want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["cholesky", "cholesky_upper", "eigvalsh", "eigh", "eigh_upper"])
def test_triangle_functions_differentiate_what_numpy_computes(name):
    """Without symmetrising: the gradient lies on the triangle numpy reads, and numeric mode
    (differences of numpy itself) agrees; folded, autograd's symmetric gradient is the same."""
    f = FUNCTIONS[name]
    a = symmetric((3, 3), seed=2)
    scalar_f = scalar_of(f)[0]
    g = ad.grad(scalar_f)(a)
    upper = name.endswith("upper")
    unread = np.tril(g, -1) if upper else np.triu(g, 1)
    assert np.all(unread == 0.0)
    np.testing.assert_allclose(ad.grad(scalar_f, mode="numeric")(a), g, rtol=1e-5, atol=1e-8)
    sym = autograd.grad(scalar_of(symmetrised(f))[1])(a)  # of the symmetric matrix
    folded = np.triu(sym + sym.T, 1) if upper else np.tril(sym + sym.T, -1)
    np.testing.assert_allclose(g, folded + np.diag(np.diag(sym)), **FIRST)
    for mode in ("forward", "sct"):
        np.testing.assert_allclose(ad.grad(scalar_f, mode=mode)(a), g, **FIRST)


def solve(a, b):
    return np.linalg.solve(a, b)


@pytest.mark.parametrize("b_shape", [(3,), (2, 3, 2), (4, 1, 3, 2)], ids=["vector", "stack",
                                                                          "broadcast"])  # fmt: skip
def test_solve_differentiates_a_and_b(b_shape):
    """numpy 2's rule: b is a vector only when 1-d, else a stack of matrices broadcast against
    a's. autograd's solve rule predates it (a stack of vectors), so the broadcast stack is
    checked against numeric mode (and a vector b of a stack against the same b as columns)."""
    a, b = general((2, 3, 3)), np.linspace(-1.0, 1.0, math.prod(b_shape)).reshape(b_shape)
    for argnum in (0, 1):
        if len(b_shape) != 3:
            want = ad.jacobian(solve, argnums=argnum, mode="numeric")(a, b)
            tolerance = {"rtol": 1e-6, "atol": 1e-8}
        else:
            want = autograd.jacobian(lambda a, b: anp.linalg.solve(a, b), argnum)(a, b)
            tolerance = FIRST
        for mode in EXACT:
            got = ad.jacobian(solve, argnums=argnum, mode=mode)(a, b)
            np.testing.assert_allclose(got, want, **tolerance, err_msg=f"{mode} {argnum}")


# ---------------------------------------------------------------------------
# Second order: Hessians and Hessian-vector products through nested modes


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (2, 3, 3)], ids=["1x1", "2x2", "stack"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_hessians_agree_with_autograd(name, shape):
    f = FUNCTIONS[name]
    a = point(f, shape, seed=3)
    if f in TRIANGLE:
        f = symmetrised(f)
    scalar_f, scalar_g = scalar_of(f)
    want = autograd.hessian(scalar_g)(a)
    for mode in NESTED if len(shape) == 2 else SOME_NESTED:
        got = ad.hessian(scalar_f, mode=mode)(a)
        np.testing.assert_allclose(got, want, **SECOND, err_msg=str(mode))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_hessian_vector_products_agree_with_autograd(name):
    f = FUNCTIONS[name]
    a = point(f, (4, 4), seed=4)
    if f in TRIANGLE:
        f = symmetrised(f)
    scalar_f, scalar_g = scalar_of(f)
    v = general((4, 4), seed=9)
    want = autograd.hessian_vector_product(scalar_g)(a, v)
    for outer, inner in NESTED:
        got = ad.jvp(ad.grad(scalar_f, mode=inner), (a,), (v,), mode=outer)[1]
        np.testing.assert_allclose(got, want, **SECOND, err_msg=f"{outer} over {inner}")


# ---------------------------------------------------------------------------
# Kinks and assumptions


def test_the_rule_table_shows_the_assumptions():
    kinks = {row[0]: row[3] for row in ad.rule_table().rows}
    assert "singular" in kinks["det"]
    assert "sign" in kinks["logabsdet"]
    assert "‖x‖ = 0" in kinks["norm"]
    assert "positive definite" in kinks["cholesky"] and "triangle" in kinks["cholesky"]
    assert "distinct eigenvalues" in kinks["eigh_vectors"]
    assert "repeated eigenvalue" in kinks["eigvalsh"]
    assert "full column rank" in kinks["qr_q"] and "full column rank" in kinks["qr_r"]
    assert "nonzero singular values" in kinks["svd_u"] and "repeated" in kinks["svdvals"]


@pytest.mark.parametrize("mode", EXACT)
def test_norm_at_zero_has_derivative_zero(mode):
    zero = np.zeros((2, 3))
    for f in (f_norm, f_norm_2, f_norm_3, f_norm_1, f_norm_inf, f_norm_matrix_1):
        assert np.all(ad.grad(scalar_of(f)[0], mode=mode)(zero) == np.sin(0.0)), f.__name__
    h = ad.hessian(lambda x: np.linalg.norm(x), mode=("forward", mode))(zero)
    assert np.all(h == 0.0)


def test_norm_ties_split_evenly():
    x = np.array([[-2.0, 1.0, 2.0], [1.0, 1.0, 0.5]])
    g = ad.grad(lambda x: np.sum(np.linalg.norm(x, np.inf, axis=1)))(x)
    np.testing.assert_array_equal(g, [[-0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])
    g = ad.grad(lambda x: np.linalg.norm(x, 1, axis=(0, 1)))(np.array([[1.0, -2.0], [-2.0, 1.0]]))
    np.testing.assert_array_equal(g, [[0.5, -0.5], [-0.5, 0.5]])


@pytest.mark.parametrize("mode", EXACT)
def test_det_of_a_singular_matrix_is_a_clear_error(mode):
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for f in (f_det, lambda a: np.linalg.slogdet(a)[1]):
        with pytest.raises(ad.DifferentiationError, match="singular matrix"):
            ad.grad(f, mode=mode)(singular)


def test_eigh_with_a_repeated_eigenvalue():
    """The eigenvalues' sum (the trace) stays right; the eigenvectors' derivative is not finite."""
    a = np.diag([1.0, 1.0, 3.0])
    g = ad.grad(lambda a: np.sum(np.linalg.eigh(a)[0]))(a)
    np.testing.assert_allclose(g, np.eye(3), atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 1/0 in the eigenvector rule
        g = ad.grad(lambda a: np.sum(np.linalg.eigh(a)[1] * np.arange(9.0).reshape(3, 3)))(a)
    assert not np.all(np.isfinite(g))


def test_cholesky_of_a_matrix_that_is_not_positive_definite_is_numpys_error():
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        ad.grad(lambda a: np.sum(np.linalg.cholesky(a)))(-np.eye(2))


# ---------------------------------------------------------------------------
# Errors and refusals


@pytest.mark.parametrize("mode", EXACT)
def test_bad_shapes_are_numpys_errors(mode):
    for f, arg, error in ((np.linalg.inv, np.ones(3), "at least two-dimensional"),
                          (np.linalg.det, np.ones((2, 3)), "must be square"),
                          (lambda a: np.linalg.solve(a, np.ones(2)), np.eye(3), "does not fit"),
                          (lambda a: np.linalg.norm(a, 2), np.ones((2, 2, 2)), "Improper"),
                          (lambda a: np.linalg.norm(a, "fro", axis=0), np.ones(3), "Invalid"),
                          (lambda a: np.linalg.eigh(a, UPLO="X"), np.eye(2), "UPLO")):  # fmt: skip
        with pytest.raises((np.linalg.LinAlgError, ValueError), match=error):
            ad.grad(summed(f), mode=mode)(arg)


def test_unsupported_norms_are_refused_clearly():
    x = general((3, 3))
    for ord in (0, 0.5, -1, -2):
        with pytest.raises(ad.DifferentiationError, match="p >= 1"):
            ad.grad(lambda x, ord=ord: np.linalg.norm(x, ord, axis=1).sum())(x)
    for ord in ("nuclear", 3):
        with pytest.raises(ValueError, match="Invalid norm order"):
            ad.grad(lambda x, ord=ord: np.linalg.norm(x, ord))(x)


def norm_of_order(x, p):
    return np.sum(np.linalg.norm(x, p, axis=1))


@pytest.mark.parametrize("mode", EXACT)
def test_a_norms_order_is_a_setting(mode):
    """ord is a number without a derivative: a differentiated one is refused (sct when it
    writes the code), a constant one passes through sct's run-time rules as it is. (Forward
    mode differentiates one input at a time: with x plain, numpy's own norm runs, which
    does not dispatch on ord, and a numpy ufunc refuses the traced ord.)"""
    x = general((3, 3))
    with pytest.raises(ad.DifferentiationError, match="setting" if mode != "forward" else None):
        ad.grad(norm_of_order, argnums=(0, 1), mode=mode)(x, 3.0)
    g = ad.grad(norm_of_order, mode=mode)(x, 3.0)
    np.testing.assert_allclose(g, ad.grad(norm_of_order, mode="numeric")(x, 3.0), rtol=1e-6)


def test_symbolic_mode_refuses_with_its_clear_message():
    with pytest.raises(ad.DifferentiationError, match="symbolic mode differentiates functions"):
        ad.grad(lambda a: np.linalg.det(a), mode="symbolic")(np.eye(2))
