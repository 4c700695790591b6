"""Linear algebra: ``numpy.linalg``'s functions as primitives of the table.

``inv solve det slogdet norm cholesky eigh eigvalsh qr svd svdvals`` act on the last
two axes (stacks of matrices broadcast as numpy's do) and keep the dtype (float32 stays
float32). Each is declared with the numpy function it stands for, so
``np.linalg.inv(A)`` on a traced ``A`` is ``ad.inv(A)``, in sct too. Every rule is
written with adlab operations (``@``, :func:`solve`, masks, sums), so second
derivatives come from the same rules.

The rules are the standard matrix derivatives; we follow M. Giles, "An extended
collection of matrix derivative results for forward and reverse mode algorithmic
differentiation" (2008) for ``inv``, ``solve``, ``det`` (Jacobi's formula) and the
symmetric eigenproblem, I. Murray, "Differentiation of the Cholesky decomposition"
(2016) for ``cholesky``, and J. Townsend, "Differentiating the singular value
decomposition" (2016) for ``svd``; ``qr``'s is derived here from ``QᵀQ̇`` being
antisymmetric and ``ṘR⁻¹`` upper triangular. Each rule's reverse half is the adjoint
of its forward half (⟨x̄, ẋ⟩ = ⟨ȳ, ẏ⟩), derived here once and checked against finite
differences and autograd in ``tests/ops/test_linalg.py``. Where a rule needs ``A⁻¹ B``
it solves (``solve``) rather than forming ``A⁻¹``; only the reverse rules of ``det``
and ``slogdet``, whose answer *is* a multiple of ``A⁻ᵀ``, form the inverse.

A function that returns several arrays (``eigh``, ``qr``, ``svd``, ``slogdet``) is
several primitives of the same matrix, one per array: the engines' primitives have one
output each, and each rule computes the other factors it needs by their primitives
(so nested derivatives see them too). Like numpy, ``cholesky`` and ``eigh`` read one
triangle of their matrix; their derivatives are those of what numpy computes, so the
gradient with respect to the matrix lives on that triangle (see their kink notes,
``ad.rule_table()``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Box, Primitive
from adlab.core.rules import defjvp, defkink, defvjp
from adlab.core.tangents import dtype_of, shape_of, sum_to_shape
from adlab.ops.array import (
    _defweights,
    _public,
    _swap_last,
    _unreduce,
    max,
    reshape,
    sum,
    transpose,
)
from adlab.ops.scalar import absolute, equal, sign, where

SlogdetResult = type(np.linalg.slogdet(np.eye(1)))
EighResult = type(np.linalg.eigh(np.eye(1)))
QRResult = type(np.linalg.qr(np.eye(1)))
SVDResult = type(np.linalg.svd(np.eye(1)))

# ---------------------------------------------------------------------------
# Checks and small pieces: masks, columns, traces (compositions of table operations)


def _matrix_shape(a: Any) -> tuple[int, ...]:
    """The shape of a matrix or a stack of them; numpy's own error, raised before the
    primitive runs, for fewer than two axes."""
    shape = shape_of(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional"
        )
    return shape


def _square(a: Any, name: str) -> None:
    """numpy's own errors, raised before the primitive runs: at least 2-d, square."""
    shape = _matrix_shape(a)
    if shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(f"Last 2 dimensions of the array must be square ({name})")


def _like(x: Any, constant: np.ndarray) -> np.ndarray:
    """A constant array in the dtype of ``x`` (a float64 mask would promote float32)."""
    return constant.astype(dtype_of(x) or np.float64, copy=False)


def _eye(x: Any) -> np.ndarray:
    return _like(x, np.eye(shape_of(x)[-1]))


def _strict(x: Any, upper: bool) -> np.ndarray:
    """The mask of the strictly lower (or upper) triangle of ``x``'s matrices."""
    lower = np.tri(shape_of(x)[-1], k=-1)
    return _like(x, lower.T if upper else lower)


def _symmetric(a_dot: Any, upper: bool) -> Any:
    """The symmetric matrix numpy reads from ``a_dot``: its lower (upper) triangle,
    mirrored. numpy's cholesky and eigh see only that triangle, and so do their rules."""
    half = a_dot * _strict(a_dot, upper)
    return half + a_dot * _eye(a_dot) + _swap_last(half)


def _fold(s_bar: Any, upper: bool) -> Any:
    """The adjoint of :func:`_symmetric`: a cotangent of the mirrored matrix, folded onto
    the triangle numpy reads (an off-diagonal entry gets both mirrored entries')."""
    return (s_bar + _swap_last(s_bar)) * _strict(s_bar, upper) + s_bar * _eye(s_bar)


def _trace(x: Any) -> Any:
    """The trace of each matrix (np2's ad.trace, written with the mask of the diagonal)."""
    return sum(x * _eye(x), axis=(-2, -1))


def _column(v: Any) -> Any:
    """Vectors (..., n) as one-column matrices (..., n, 1)."""
    return reshape(v, (*shape_of(v), 1))


def _row(v: Any) -> Any:
    """Vectors (..., n) as one-row matrices (..., 1, n): scales columns when multiplied."""
    return reshape(v, (*shape_of(v)[:-1], 1, shape_of(v)[-1]))


def _as_matrices(v: Any) -> Any:
    """Numbers (...) as 1×1 matrices (..., 1, 1), to scale a stack of matrices."""
    return reshape(v, (*shape_of(v), 1, 1))


def _invertible(name: str, compute: Any, *args: Any) -> Any:
    """``compute(*args)`` in a rule that needs an invertible matrix; a singular one is a
    clear error rather than numpy's LinAlgError from inside the rule."""
    try:
        return compute(*args)
    except np.linalg.LinAlgError:
        raise DifferentiationError(
            f"the derivative of {name} at a singular matrix: its rule needs the inverse "
            "(Jacobi's formula, d det = det · tr(A⁻¹ dA)), which does not exist there. "
            "Differentiate at an invertible matrix"
        ) from None


# ---------------------------------------------------------------------------
# inv and solve

inv_p = Primitive("inv", np.linalg.inv, doc="matrix inverse (of each matrix of a stack)")
solve_p = Primitive("solve", np.linalg.solve, doc="x with a @ x = b (each system of a stack)")


@_public(np.linalg.inv)
def inv(a: Any) -> Any:
    """The inverse of a square matrix (of each matrix in a stack), like ``np.linalg.inv``."""
    _square(a, "inv")
    return inv_p(a)


@_public(np.linalg.solve)
def solve(a: Any, b: Any) -> Any:
    """``x`` with ``a @ x = b``, like ``np.linalg.solve``: ``b`` is a vector (n,) or a stack
    of matrices (..., n, k), broadcast against the stack ``a``."""
    _square(a, "solve")
    n, b_shape = shape_of(a)[-1], shape_of(b)
    rows = b_shape[0] if len(b_shape) == 1 else b_shape[-2] if b_shape else None
    if rows != n:
        raise ValueError(
            f"solve: b of shape {b_shape} does not fit a of shape {shape_of(a)}; b must be "
            f"a vector of length {n} or a stack of matrices with {n} rows"
        )
    return solve_p(a, b)


def _inv_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    # d(A⁻¹) = −A⁻¹ dA A⁻¹ (Giles 2008, 2.2.3)
    return -(out @ tangents[0] @ out)


def _inv_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    out_t = _swap_last(out)

    def inv_pullback(out_bar: Any) -> tuple:
        return (-(out_t @ out_bar @ out_t),)  # Ā = −A⁻ᵀ C̄ A⁻ᵀ

    return inv_pullback


def _solve_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    # x = A⁻¹ b: ẋ = A⁻¹ (ḃ − Ȧ x) (Giles 2008, 2.3.1); a vector b as a one-column matrix
    (a, b), (a_dot, b_dot) = args, tangents
    vector = len(shape_of(b)) == 1
    x = _column(out) if vector else out
    rhs = None if b_dot is None else _column(b_dot) if vector else b_dot
    if a_dot is not None:
        rhs = -(a_dot @ x) if rhs is None else rhs - a_dot @ x
    if rhs is None:
        return None
    x_dot = solve(a, rhs)
    return reshape(x_dot, shape_of(x_dot)[:-1]) if vector else x_dot


def _solve_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    a, b = args
    vector = len(shape_of(b)) == 1
    x_t = _swap_last(_column(out) if vector else out)
    a_t, a_shape, b_shape = _swap_last(a), shape_of(a), shape_of(b)

    def solve_pullback(out_bar: Any) -> tuple:
        b_bar = solve(a_t, _column(out_bar) if vector else out_bar)  # b̄ = A⁻ᵀ x̄
        cts = []
        for i in wrt:
            if i == 0:
                cts.append(sum_to_shape(-(b_bar @ x_t), a_shape))  # Ā = −b̄ xᵀ
            else:
                b_bar_i = reshape(b_bar, shape_of(b_bar)[:-1]) if vector else b_bar
                cts.append(sum_to_shape(b_bar_i, b_shape))
        return tuple(cts)

    return solve_pullback


defjvp(inv_p, _inv_jvp)
defvjp(inv_p, _inv_vjp)
defjvp(solve_p, _solve_jvp)
defvjp(solve_p, _solve_vjp)

# ---------------------------------------------------------------------------
# det and slogdet: Jacobi's formula, d det(A) = det(A) · tr(A⁻¹ dA)


def _slogdet_sign(a: Any) -> Any:
    return np.linalg.slogdet(a)[0]


def _logabsdet(a: Any) -> Any:
    return np.linalg.slogdet(a)[1]


det_p = Primitive("det", np.linalg.det, doc="determinant (of each matrix of a stack)")
logabsdet_p = Primitive("logabsdet", _logabsdet, doc="log |det(a)| (slogdet's second result)")
slogdet_sign_p = Primitive(
    "slogdet_sign", _slogdet_sign, differentiable=False, doc="the sign of det(a), or 0"
)


@_public(np.linalg.det)
def det(a: Any) -> Any:
    """The determinant of a square matrix (of each matrix in a stack), like ``np.linalg.det``."""
    _square(a, "det")
    return det_p(a)


@_public(np.linalg.slogdet)
def slogdet(a: Any) -> Any:
    """``(sign, logabsdet)`` with ``det(a) = sign · exp(logabsdet)``, like
    ``np.linalg.slogdet``; only ``logabsdet`` carries a derivative."""
    _square(a, "slogdet")
    return SlogdetResult(slogdet_sign_p(a), logabsdet_p(a))


def _det_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    (a,), (a_dot,) = args, tangents
    return out * _trace(_invertible("det", solve, a, a_dot))


def _det_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    inv_t = _swap_last(_invertible("det", inv, args[0]))  # Ā = C̄ · det(A) · A⁻ᵀ

    def det_pullback(out_bar: Any) -> tuple:
        return (_as_matrices(out_bar * out) * inv_t,)

    return det_pullback


def _logabsdet_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    (a,), (a_dot,) = args, tangents
    return _trace(_invertible("slogdet", solve, a, a_dot))


def _logabsdet_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    inv_t = _swap_last(_invertible("slogdet", inv, args[0]))  # Ā = C̄ · A⁻ᵀ

    def logabsdet_pullback(out_bar: Any) -> tuple:
        return (_as_matrices(out_bar) * inv_t,)

    return logabsdet_pullback


defjvp(det_p, _det_jvp)
defvjp(det_p, _det_vjp)
defjvp(logabsdet_p, _logabsdet_jvp)
defvjp(logabsdet_p, _logabsdet_vjp)
defkink(
    det_p,
    "det is smooth everywhere, but its rule (Jacobi's formula) needs A⁻¹: at a singular "
    "matrix it raises a DifferentiationError, and near one it loses accuracy",
)
defkink(
    logabsdet_p,
    "slogdet's sign has derivative 0 (it jumps where det = 0); log|det| is -inf at a "
    "singular matrix, where its rule (A⁻ᵀ) raises a DifferentiationError",
)

# ---------------------------------------------------------------------------
# norm: a reduction whose derivative is one weight per element (as max's and logsumexp's)


def _norm_impl(x: Any, *, ord: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    return np.linalg.norm(x, ord, axis, keepdims)


norm_p = Primitive("norm", _norm_impl, doc="vector and matrix norms (np.linalg.norm)")

_VECTOR_ORDS = "None, 2, 1, any real p >= 1, inf or -inf"


@_public(np.linalg.norm, keywords=("ord", "axis", "keepdims"), settings=("ord",))
def norm(
    x: Any, ord: Any = None, axis: int | Sequence[int] | None = None, keepdims: bool = False
) -> Any:
    """A vector or matrix norm, like ``np.linalg.norm``: the 2-norm of all elements by
    default; with ``axis`` an int, vector norms (``ord`` 1, 2, p >= 1, ±inf); with two
    axes, matrix norms (``'fro'``, 1, -1, inf, -inf, and by the singular values 'nuc',
    2, -2)."""
    if isinstance(ord, Box):
        raise DifferentiationError(
            "np.linalg.norm(x, ord): ord is a setting, a number without a derivative; pass a "
            "constant"
        )
    ndim = len(shape_of(x))
    if axis is None:
        if ord is None:
            return norm_p(x, ord=None, axis=None, keepdims=bool(keepdims))
        if ndim not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim)
    axes = tuple(int(a) % ndim for a in axes)
    if len(axes) == 1:
        ord = _vector_ord(ord)
    elif len(axes) == 2 and axes[0] != axes[1]:
        if ord in ("nuc", 2, -2):
            return _spectral_norm(x, ord, axes, bool(keepdims))
        ord, axes = _matrix_ord(ord, axes)
    else:
        raise ValueError("Improper number of dimensions to norm." if len(axes) != 2
                         else "Duplicate axes given.")  # fmt: skip
    return norm_p(x, ord=ord, axis=axes, keepdims=bool(keepdims))


def _spectral_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """The matrix norms of the singular values: their sum ('nuc'), largest (2), smallest (-2)."""
    shape = shape_of(x)
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    s = svdvals(transpose(x, (*rest, *axes)))
    out = sum(s, axis=-1) if ord == "nuc" else max(s, axis=-1) if ord == 2 else -max(-s, axis=-1)
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return out


def _vector_ord(ord: Any) -> float | None:
    """A vector norm's order: None for the 2-norm, else a float (p >= 1 or ±inf)."""
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord is None or ord == 2:
        return None
    p = float(ord)
    if not (p >= 1 or p == -math.inf):
        raise DifferentiationError(
            f"np.linalg.norm(x, ord={ord!r}) of a vector: adlab differentiates the orders "
            f"{_VECTOR_ORDS} (for ord < 1 it is not a norm, and its derivative is infinite "
            "at any zero element)"
        )
    return p


def _matrix_ord(ord: Any, axes: tuple[int, int]) -> tuple[float | None, tuple[int, ...]]:
    """A matrix norm's order and axes: None for Frobenius; ±1 for the largest (smallest)
    sum of |x| over ``axes[0]``, so ±inf is ±1 with the axes swapped."""
    if ord is None or ord == "fro":
        return None, axes
    if ord in (1, -1):
        return float(ord), axes
    if ord in (math.inf, -math.inf):
        return math.copysign(1.0, ord), (axes[1], axes[0])
    raise ValueError(f"Invalid norm order {ord!r} for matrices")


def _norm_weights(x: Any, out: Any, axis: Any, keepdims: bool, *, ord: float | None) -> Any:
    """∂‖x‖/∂x, one weight per element, written with table operations."""
    norm_b = _unreduce(out, shape_of(x), axis, keepdims)
    if ord is None:  # 2-norm: x / ‖x‖, and 0 where ‖x‖ = 0 (where every x is 0)
        zero = equal(norm_b, 0.0)
        return where(zero, 0.0, x / where(zero, 1.0, norm_b))
    if ord == 1.0 and len(axis) == 1:
        return sign(x)
    if abs(ord) == 1.0:  # a matrix: the columns (sums over axis[0]) that attain the norm
        hits = equal(sum(absolute(x), axis=axis[0], keepdims=True), norm_b)
        counts = np.sum(hits, axis=axis[1], keepdims=True)
    elif math.isinf(ord):  # max |x| (min |x|): the elements that attain it
        hits = equal(absolute(x), norm_b)
        counts = np.sum(hits, axis=axis, keepdims=True)
    else:  # p-norm: sign(x) (|x| / ‖x‖)^(p−1)
        zero = equal(norm_b, 0.0)
        ratio = absolute(x) / where(zero, 1.0, norm_b)
        return where(zero, 0.0, sign(x) * ratio ** (ord - 1.0))
    return sign(x) * _like(x, np.asarray(hits / counts))


_defweights(norm_p, _norm_weights)
defkink(
    norm_p,
    "at ‖x‖ = 0 the derivative is 0 (the smallest subgradient), and so are higher ones; "
    "ord=1 takes sign(0) = 0; ord=±inf and matrix ord=±1, ±inf split ties evenly; for "
    "1 < p < 2 second derivatives are infinite where an element is 0",
)

# ---------------------------------------------------------------------------
# cholesky (Murray 2016)


def _cholesky_impl(a: Any, *, upper: bool) -> Any:
    return np.linalg.cholesky(a, upper=upper)


cholesky_p = Primitive("cholesky", _cholesky_impl, doc="Cholesky factor of an SPD matrix")


@_public(np.linalg.cholesky, keywords=("upper",))
def cholesky(a: Any, *, upper: bool = False) -> Any:
    """The lower triangular ``L`` with ``a = L @ L.T`` (``upper=True``: ``U = L.T``), like
    ``np.linalg.cholesky``; it reads the lower (upper) triangle of ``a`` only."""
    _square(a, "cholesky")
    return cholesky_p(a, upper=bool(upper))


def _phi(x: Any) -> Any:
    """The lower triangle with the diagonal halved: L⁻¹ dS L⁻ᵀ = Φ(...) + Φ(...)ᵀ."""
    return x * (_strict(x, False) + 0.5 * _eye(x))


def _cholesky_jvp(out: Any, args: Sequence, tangents: Sequence, *, upper: bool) -> Any:
    # S = L Lᵀ: dL = L Φ(L⁻¹ dS L⁻ᵀ) (Murray 2016), with two solves
    low = _swap_last(out) if upper else out
    s_dot = _symmetric(tangents[0], upper)
    x = solve(low, _swap_last(solve(low, s_dot)))  # L⁻¹ dS L⁻ᵀ
    l_dot = low @ _phi(x)
    return _swap_last(l_dot) if upper else l_dot


def _cholesky_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, upper: bool) -> Any:
    low_t = out if upper else _swap_last(out)

    def cholesky_pullback(out_bar: Any) -> tuple:
        # the adjoint of the jvp: S̄ = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, folded onto the triangle read
        l_bar = _swap_last(out_bar) if upper else out_bar
        p = _phi(low_t @ l_bar)
        s_bar = _swap_last(solve(low_t, _swap_last(solve(low_t, p))))
        return (_fold(s_bar, upper),)

    return cholesky_pullback


defjvp(cholesky_p, _cholesky_jvp)
defvjp(cholesky_p, _cholesky_vjp)
defkink(
    cholesky_p,
    "needs a symmetric positive definite matrix (numpy raises LinAlgError otherwise); like "
    "numpy it reads only the lower triangle (upper=True: the upper), so its gradient lies "
    "on that triangle, an off-diagonal entry carrying both mirrored entries'. For a matrix "
    "built symmetric (B @ B.T + ...) this is the symmetric convention of autograd and JAX",
)

# ---------------------------------------------------------------------------
# eigh: eigenvalues and eigenvectors of a symmetric matrix (Giles 2008, 3.1)


def _eigvalsh_impl(a: Any, *, UPLO: str) -> Any:
    return np.linalg.eigvalsh(a, UPLO=UPLO)


def _eigh_vectors_impl(a: Any, *, UPLO: str) -> Any:
    return np.linalg.eigh(a, UPLO=UPLO)[1]


eigvalsh_p = Primitive("eigvalsh", _eigvalsh_impl, doc="eigenvalues of a symmetric matrix")
eigh_vectors_p = Primitive(
    "eigh_vectors", _eigh_vectors_impl, doc="eigenvectors of a symmetric matrix (eigh's second)"
)


def _uplo(a: Any, UPLO: str, name: str) -> str:
    _square(a, name)
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO


@_public(np.linalg.eigvalsh, keywords=("UPLO",))
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """The eigenvalues of a symmetric matrix, ascending, like ``np.linalg.eigvalsh``."""
    return eigvalsh_p(a, UPLO=_uplo(a, UPLO, "eigvalsh"))


@_public(np.linalg.eigh, keywords=("UPLO",))
def eigh(a: Any, UPLO: str = "L") -> Any:
    """``(eigenvalues, eigenvectors)`` of a symmetric matrix, like ``np.linalg.eigh``; it
    reads the lower (``UPLO='U'``: upper) triangle of ``a`` only."""
    UPLO = _uplo(a, UPLO, "eigh")
    return EighResult(eigvalsh_p(a, UPLO=UPLO), eigh_vectors_p(a, UPLO=UPLO))


def _eigvalsh_jvp(out: Any, args: Sequence, tangents: Sequence, *, UPLO: str) -> Any:
    # dwᵢ = vᵢᵀ dS vᵢ: the diagonal of Vᵀ dS V
    (a,), (a_dot,) = args, tangents
    v = eigh_vectors_p(a, UPLO=UPLO)
    return sum(v * (_symmetric(a_dot, UPLO == "U") @ v), axis=-2)


def _eigvalsh_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, UPLO: str) -> Any:
    (a,) = args  # the eigenvectors are computed when needed: eigh(a)[0] alone never needs them

    def eigvalsh_pullback(out_bar: Any) -> tuple:
        v = eigh_vectors_p(a, UPLO=UPLO)
        return (_fold((v * _row(out_bar)) @ _swap_last(v), UPLO == "U"),)  # S̄ = V diag(w̄) Vᵀ

    return eigvalsh_pullback


def _eigen_gaps(w: Any) -> Any:
    """F with Fᵢⱼ = 1 / (wⱼ − wᵢ) off the diagonal and 0 on it (inf for a repeated
    eigenvalue). The diagonal's 0 − 0 is replaced before dividing, so that no derivative
    of F meets 1/0 there."""
    diagonal = np.eye(shape_of(w)[-1], dtype=bool)
    gaps = _row(w) - _column(w)
    return where(diagonal, 0.0, 1.0 / where(diagonal, 1.0, gaps))


def _eigh_vectors_jvp(out: Any, args: Sequence, tangents: Sequence, *, UPLO: str) -> Any:
    # dV = V (F ∘ (Vᵀ dS V)): each eigenvector moves along the others (Giles 2008, 3.1)
    (a,), (a_dot,) = args, tangents
    gaps = _eigen_gaps(eigvalsh_p(a, UPLO=UPLO))
    return out @ (gaps * (_swap_last(out) @ _symmetric(a_dot, UPLO == "U") @ out))


def _eigh_vectors_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, UPLO: str) -> Any:
    (a,) = args  # the gaps are computed when needed: eigh(a)[1] may go unused

    def eigh_vectors_pullback(out_bar: Any) -> tuple:
        gaps, v_t = _eigen_gaps(eigvalsh_p(a, UPLO=UPLO)), _swap_last(out)
        return (_fold(out @ (gaps * (v_t @ out_bar)) @ v_t, UPLO == "U"),)

    return eigh_vectors_pullback


defjvp(eigvalsh_p, _eigvalsh_jvp)
defvjp(eigvalsh_p, _eigvalsh_vjp)
defjvp(eigh_vectors_p, _eigh_vectors_jvp)
defvjp(eigh_vectors_p, _eigh_vectors_vjp)
defkink(
    eigvalsh_p,
    "a repeated eigenvalue is not differentiable (sorted eigenvalues have a kink there); "
    "the rule uses LAPACK's eigenvectors, so functions symmetric in the repeated ones (their "
    "sum) get the right first derivative, while second derivatives need distinct eigenvalues. "
    "Like numpy, it reads one triangle (see cholesky)",
)
defkink(
    eigh_vectors_p,
    "assumes distinct eigenvalues: the eigenvectors of a repeated one are not unique, and "
    "the rule's 1/(wⱼ − wᵢ) is inf there (derivatives through them inf or nan). Signs are "
    "LAPACK's: the derivative keeps each eigenvector's sign and length (Vᵀ dV has a zero "
    "diagonal). Like numpy, it reads one triangle (see cholesky)",
)

# ---------------------------------------------------------------------------
# qr: A = QR of a tall matrix (m >= n) of full column rank


def _qr_q_impl(a: Any) -> Any:
    return np.linalg.qr(a)[0]


def _qr_r_impl(a: Any) -> Any:
    return np.linalg.qr(a, mode="r")


qr_q_p = Primitive("qr_q", _qr_q_impl, doc="Q of the reduced QR decomposition (qr's first)")
qr_r_p = Primitive("qr_r", _qr_r_impl, doc="R of the QR decomposition (qr's second)")


@_public(np.linalg.qr, keywords=("mode",), settings=("mode",))
def qr(a: Any, mode: str = "reduced") -> Any:
    """``(Q, R)`` with ``a = Q @ R``, like ``np.linalg.qr`` (``mode='r'``: ``R`` only), for
    a matrix (stack) with at least as many rows as columns."""
    m, n = _matrix_shape(a)[-2:]
    if mode not in ("reduced", "r", "complete") or m < n or (mode == "complete" and m > n):
        raise DifferentiationError(
            f"np.linalg.qr(a, mode={mode!r}) of a {m}×{n} matrix: adlab differentiates the "
            "QR decomposition of a matrix with at least as many rows as columns, in mode "
            "'reduced' or 'r' (a wide matrix's Q and R, and the extra columns of mode "
            "'complete', are not unique enough to have a derivative)"
        )
    if mode == "r":
        return qr_r_p(a)
    return QRResult(qr_q_p(a), qr_r_p(a))


def _times_r_inverse(x: Any, r: Any) -> Any:
    """x R⁻¹, by a solve: (R⁻ᵀ xᵀ)ᵀ."""
    return _swap_last(solve(_swap_last(r), _swap_last(x)))


def _times_r_inverse_t(x: Any, r: Any) -> Any:
    """x R⁻ᵀ, by a solve: (R⁻¹ xᵀ)ᵀ."""
    return _swap_last(solve(r, _swap_last(x)))


def _upper_part(c: Any) -> Any:
    """U(C) = triu(C) + tril(C, -1)ᵀ: Ṙ R⁻¹ when C = Qᵀ Ȧ R⁻¹ (its strictly lower part
    belongs to the antisymmetric Qᵀ Q̇)."""
    low = c * _strict(c, False)
    return c - low + _swap_last(low)


def _upper_part_adjoint(g: Any) -> Any:
    """The adjoint of :func:`_upper_part`: triu(G) + tril(Gᵀ, -1)."""
    return g - g * _strict(g, False) + _swap_last(g) * _strict(g, False)


def _qr_q_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    # Q̇ = Ȧ R⁻¹ − Q U(Qᵀ Ȧ R⁻¹) (see _upper_part)
    (a,), (a_dot,) = args, tangents
    a_dot_r = _times_r_inverse(a_dot, qr_r_p(a))
    return a_dot_r - out @ _upper_part(_swap_last(out) @ a_dot_r)


def _qr_r_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    # Ṙ = U(Qᵀ Ȧ R⁻¹) R
    (a,), (a_dot,) = args, tangents
    q_t = _swap_last(qr_q_p(a))
    return _upper_part(q_t @ _times_r_inverse(a_dot, out)) @ out


def _qr_q_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    (a,) = args

    def qr_q_pullback(out_bar: Any) -> tuple:  # Ā = (Q̄ − Q U*(Qᵀ Q̄)) R⁻ᵀ
        inner = out_bar - out @ _upper_part_adjoint(_swap_last(out) @ out_bar)
        return (_times_r_inverse_t(inner, qr_r_p(a)),)

    return qr_q_pullback


def _qr_r_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    (a,) = args

    def qr_r_pullback(out_bar: Any) -> tuple:  # Ā = Q U*(R̄ Rᵀ) R⁻ᵀ
        c_bar = _upper_part_adjoint(out_bar @ _swap_last(out))
        return (_times_r_inverse_t(qr_q_p(a) @ c_bar, out),)

    return qr_r_pullback


defjvp(qr_q_p, _qr_q_jvp)
defvjp(qr_q_p, _qr_q_vjp)
defjvp(qr_r_p, _qr_r_jvp)
defvjp(qr_r_p, _qr_r_vjp)
_QR_NOTE = (
    "needs full column rank (R invertible: its rules solve with R); the signs are LAPACK's "
    "(R's diagonal may be negative) and the derivative keeps them"
)
defkink(qr_q_p, _QR_NOTE)
defkink(qr_r_p, _QR_NOTE)

# ---------------------------------------------------------------------------
# svd: A = U diag(s) Vᵀ, thin (k = min(m, n) singular values), after J. Townsend,
# "Differentiating the singular value decomposition" (2016)


def _svd_u_impl(a: Any) -> Any:
    return np.linalg.svd(a, full_matrices=False)[0]


def _svd_vh_impl(a: Any) -> Any:
    return np.linalg.svd(a, full_matrices=False)[2]


def _svdvals_impl(a: Any) -> Any:
    return np.linalg.svd(a, compute_uv=False)


svd_u_p = Primitive("svd_u", _svd_u_impl, doc="U of the thin SVD (svd's first)")
svdvals_p = Primitive("svdvals", _svdvals_impl, doc="singular values, descending")
svd_vh_p = Primitive("svd_vh", _svd_vh_impl, doc="Vᵀ of the thin SVD (svd's third)")


@_public(np.linalg.svd, keywords=("full_matrices", "compute_uv", "hermitian"),
         settings=("full_matrices", "compute_uv", "hermitian"))  # fmt: skip
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:  # fmt: skip
    """``(U, S, Vh)`` with ``a = U @ diag(S) @ Vh``, like ``np.linalg.svd`` (``compute_uv=False``:
    ``S`` only); ``full_matrices=True`` (numpy's default) only for square matrices, whose
    full and thin SVD agree."""
    shape = _matrix_shape(a)
    if full_matrices and compute_uv and shape[-1] != shape[-2]:
        raise DifferentiationError(
            f"np.linalg.svd of a {shape[-2]}×{shape[-1]} matrix with full_matrices=True: the "
            "columns it adds to U or Vh are not unique and have no derivative; pass "
            "full_matrices=False"
        )
    if hermitian:
        raise DifferentiationError(
            "np.linalg.svd(..., hermitian=True) is not differentiated by adlab; use "
            "hermitian=False (the same decomposition), or np.linalg.eigh"
        )
    if not compute_uv:
        return svdvals_p(a)
    return SVDResult(svd_u_p(a), svdvals_p(a), svd_vh_p(a))


@_public(np.linalg.svdvals)
def svdvals(a: Any) -> Any:
    """The singular values of a matrix (stack), descending, like ``np.linalg.svdvals``."""
    _matrix_shape(a)
    return svdvals_p(a)


def _svd_parts(a: Any) -> tuple[Any, Any, Any]:
    """U, s and V of the thin SVD, each by its primitive (so their derivatives are known)."""
    return svd_u_p(a), svdvals_p(a), _swap_last(svd_vh_p(a))


def _svd_gaps(s: Any) -> Any:
    """F with Fᵢⱼ = 1 / (sⱼ² − sᵢ²) off the diagonal, 0 on it (see _eigen_gaps)."""
    return _eigen_gaps(s * s)


def _complement(q: Any, x: Any) -> Any:
    """(I − Q Qᵀ) x: the part of x outside the columns of Q (zero when Q is square)."""
    return x - q @ (_swap_last(q) @ x)


def _svdvals_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    # ṡ = diag(Uᵀ Ȧ V)
    (a,), (a_dot,) = args, tangents
    u, _, v = _svd_parts(a)
    return sum(u * (a_dot @ v), axis=-2)


def _svdvals_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    (a,) = args

    def svdvals_pullback(out_bar: Any) -> tuple:  # Ā = U diag(s̄) Vᵀ
        u, _, v = _svd_parts(a)
        return ((u * _row(out_bar)) @ _swap_last(v),)

    return svdvals_pullback


def _svd_u_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    # U̇ = U (F ∘ (Ṗ S + S Ṗᵀ)) + (I − UUᵀ) Ȧ V S⁻¹, Ṗ = Uᵀ Ȧ V
    (a,), (a_dot,) = args, tangents
    _, s, v = _svd_parts(a)
    a_dot_v = a_dot @ v
    p_dot = _swap_last(out) @ a_dot_v
    inner = _svd_gaps(s) * (p_dot * _row(s) + _column(s) * _swap_last(p_dot))
    return out @ inner + _complement(out, a_dot_v) / _row(s)


def _svd_vh_jvp(out: Any, args: Sequence, tangents: Sequence) -> Any:
    # V̇ = V (F ∘ (S Ṗ + Ṗᵀ S)) + (I − VVᵀ) Ȧᵀ U S⁻¹; the result is V̇ᵀ
    (a,), (a_dot,) = args, tangents
    u, s, _ = _svd_parts(a)
    v = _swap_last(out)
    a_dot_t_u = _swap_last(a_dot) @ u
    p_dot = _swap_last(a_dot_t_u) @ v
    inner = _svd_gaps(s) * (_column(s) * p_dot + _swap_last(p_dot) * _row(s))
    return _swap_last(v @ inner + _complement(v, a_dot_t_u) / _row(s))


def _svd_u_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    (a,) = args

    def svd_u_pullback(out_bar: Any) -> tuple:
        # Ā = U ((J + Jᵀ) S) Vᵀ + (I − UUᵀ) Ū S⁻¹ Vᵀ, J = F ∘ (Uᵀ Ū)
        _, s, v = _svd_parts(a)
        j = _svd_gaps(s) * (_swap_last(out) @ out_bar)
        inner = out @ ((j + _swap_last(j)) * _row(s)) + _complement(out, out_bar) / _row(s)
        return (inner @ _swap_last(v),)

    return svd_u_pullback


def _svd_vh_vjp(out: Any, args: Sequence, wrt: Sequence[int]) -> Any:
    (a,) = args

    def svd_vh_pullback(out_bar: Any) -> tuple:
        # Ā = U (S (K + Kᵀ)) Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ), K = F ∘ (Vᵀ V̄), V̄ = V̄hᵀ
        u, s, _ = _svd_parts(a)
        v, v_bar = _swap_last(out), _swap_last(out_bar)
        k = _svd_gaps(s) * (out @ v_bar)
        inner = (_column(s) * (k + _swap_last(k))) @ out
        return (u @ (inner + _swap_last(_complement(v, v_bar)) / _column(s)),)

    return svd_vh_pullback


defjvp(svdvals_p, _svdvals_jvp)
defvjp(svdvals_p, _svdvals_vjp)
defjvp(svd_u_p, _svd_u_jvp)
defvjp(svd_u_p, _svd_u_vjp)
defjvp(svd_vh_p, _svd_vh_jvp)
defvjp(svd_vh_p, _svd_vh_vjp)
defkink(
    svdvals_p,
    "a singular value is not differentiable where it is 0 (like |x|) or repeated (sorted, "
    "they have a kink); the rule uses LAPACK's singular vectors there, and second "
    "derivatives need distinct, nonzero singular values",
)
_SVD_VECTORS_NOTE = (
    "assumes distinct, nonzero singular values: the rule divides by sⱼ² − sᵢ² and by s "
    "(inf there). Signs are LAPACK's: the derivative keeps each pair (uᵢ, vᵢ)'s signs"
)
defkink(svd_u_p, _SVD_VECTORS_NOTE)
defkink(svd_vh_p, _SVD_VECTORS_NOTE)
