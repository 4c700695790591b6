"""Products of arrays: einsum, and the products numpy spells with it.

One primitive, ``einsum``, is the product of the table beside ``matmul``: a sum
over the labels of its subscripts that the output drops. It is linear in each
operand, so its rule is einsum again (as in JAX): the tangent is the sum over the
operands of the einsum with that operand's tangent in its place, and an operand's
cotangent is the einsum of the output's cotangent with the other operands, read
back to the operand's own labels. A label the operand alone has (``"ij->i"``) comes
back as a broadcast, by a vector of ones; a label it repeats (``"ii->"``, a trace)
comes back on the diagonal, by an identity matrix. Every rule is an einsum, so every
derivative is too, to any order.

The public ``einsum`` reads numpy's forms (explicit ``"ij,jk->ik"``, implicit
``"ij,jk"``, ``...``, operands interleaved with lists of labels) and size-1 axes that
broadcast, and records one canonical, explicit form. ``tensordot``, ``inner`` and
``vdot`` are einsums; ``outer`` and ``kron`` are broadcast products (``mul``);
``np.dot`` and ``@`` are ``matmul``'s (:mod:`adlab.ops.array`).
"""

from __future__ import annotations

import builtins
import functools
import math
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from adlab.core.operators import mul
from adlab.core.primitive import Primitive
from adlab.core.rules import defjvp, defvjp
from adlab.core.tangents import dtype_of, shape_of
from adlab.ops.array import _array, _public, reshape, reshape_p

_LABELS = string.ascii_letters
"""The labels einsum's subscripts may use, as numpy's (and the integers of its list form)."""


def _terms(subscripts: str) -> tuple[list[str], str]:
    inputs, out = subscripts.split("->")
    return inputs.split(","), out


@functools.cache
def _matmul_plan(subscripts: str) -> tuple | None:
    """How one ``matmul`` computes a contraction of two operands, or None when it cannot (a
    label repeated in an operand, or summed by one operand alone) or should not (a product
    of elements, or a scaling). The operands go left and right as their free labels come in
    the output; each is permuted to (batch, free, contracted) or (batch, contracted, free),
    and the product (batch, left free, right free) is permuted to the output's order."""
    (a, b), out = _terms(subscripts)
    if len(set(a)) < len(a) or len(set(b)) < len(b) or not set(a) ^ set(b) <= set(out):
        return None
    batch = [c for c in out if c in a and c in b]
    contracted = [c for c in a if c in b and c not in out]
    sides = [(0, a, [c for c in out if c not in b]), (1, b, [c for c in out if c not in a])]
    if sides[0][2] and sides[1][2] and out.index(sides[1][2][0]) < out.index(sides[0][2][0]):
        sides.reverse()  # b's free labels come first in the output: b goes left
    (i, left, left_free), (j, right, right_free) = sides
    if not contracted and not (left_free and right_free):
        return None  # an elementwise product: einsum's own loop, not matrices of one element
    product = batch + left_free + right_free
    return (i, j, len(batch), len(left_free), len(right_free),
            tuple(left.index(c) for c in batch + left_free + contracted),
            tuple(right.index(c) for c in batch + contracted + right_free),
            tuple(product.index(c) for c in out))  # fmt: skip


def _matmul(plan: tuple, operands: Sequence[np.ndarray]) -> np.ndarray:
    """A contraction of two arrays by one matmul (BLAS), as :func:`_matmul_plan` says."""
    i, j, nb, nl, nr, left_axes, right_axes, out_axes = plan
    left, right = operands[i].transpose(left_axes), operands[j].transpose(right_axes)
    batch, lfree = left.shape[:nb], left.shape[nb : nb + nl]
    rfree = right.shape[right.ndim - nr :]
    k = math.prod(left.shape[nb + nl :])
    product = np.matmul(left.reshape((*batch, math.prod(lfree), k)),
                        right.reshape((*batch, k, math.prod(rfree))))  # fmt: skip
    return product.reshape((*batch, *lfree, *rfree)).transpose(out_axes)


def _einsum_impl(*operands: Any, subscripts: str) -> Any:
    if len(operands) == 2 and all(type(x) is np.ndarray for x in operands):
        plan = _matmul_plan(subscripts)
        if plan is not None:
            return _matmul(plan, operands)[()]
    out = np.einsum(subscripts, *operands, optimize=len(operands) > 2)
    return out[()] if isinstance(out, np.ndarray) and not out.shape else out  # a scalar, as np.dot


einsum_p = Primitive("einsum", _einsum_impl, doc="sum of products over the labels the output drops")


def _einsum_jvp(out: Any, args: Sequence, tangents: Sequence, *, subscripts: str) -> Any:
    terms = [einsum_p(*args[:i], t, *args[i + 1 :], subscripts=subscripts)
             for i, t in enumerate(tangents) if t is not None]  # fmt: skip
    return builtins.sum(terms[1:], terms[0]) if terms else None


@functools.lru_cache(maxsize=1024)
def _cotangent_subscripts(subscripts: str, k: int, shape: tuple[int, ...]) -> tuple:
    """The einsum that gives operand ``k``'s cotangent: its subscripts, and the constants that
    follow the output's cotangent and the other operands: ``("ones", n)`` for a label this
    operand sums alone, ``("eye", n)`` for a label it repeats."""
    inputs, out = _terms(subscripts)
    term, others = inputs[k], inputs[:k] + inputs[k + 1 :]
    seen = set(out).union(*others)
    fresh = iter(c for c in _LABELS if c not in subscripts)
    target, extra, constants = [], [], []
    for c, n in zip(term, shape):
        if c in target:  # a repeated label: the cotangent lives on the diagonal
            d = next(fresh)
            target.append(d)
            extra.append(c + d)
            constants.append(("eye", n))
        else:
            target.append(c)
            if c not in seen and term.count(c) == 1:  # summed by this operand alone
                extra.append(c)
                constants.append(("ones", n))
    return ",".join([out, *others, *extra]) + "->" + "".join(target), tuple(constants)


_CONSTANTS = {"ones": np.ones, "eye": np.eye}


def _einsum_vjp(out: Any, args: Sequence, wrt: Sequence[int], *, subscripts: str):
    plans = []
    for k in wrt:
        sub, constants = _cotangent_subscripts(subscripts, k, shape_of(args[k]))
        dtype = dtype_of(args[k]) or np.float64
        plans.append((k, sub, [_CONSTANTS[c](n, dtype=dtype) for c, n in constants]))
    needed = {j for k in wrt for j in range(len(args)) if j != k}
    kept = [a if j in needed else None for j, a in enumerate(args)]  # only what the pullback reads

    def einsum_pullback(out_bar: Any) -> tuple:
        return tuple(
            einsum_p(out_bar, *kept[:k], *kept[k + 1 :], *constants, subscripts=sub)
            for k, sub, constants in plans
        )

    return einsum_pullback


defjvp(einsum_p, _einsum_jvp)
defvjp(einsum_p, _einsum_vjp)


# ---------------------------------------------------------------------------
# numpy's forms of the subscripts -> one canonical form


def _from_lists(items: Sequence[Any]) -> tuple[str, tuple]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``("ab,bc->ac", (a, b))``."""

    def labels(sublist: Any) -> str:
        text = []
        for s in sublist:
            if s is Ellipsis:
                text.append("...")
            elif isinstance(s, int | np.integer) and 0 <= s < len(_LABELS):
                text.append(_LABELS[s])
            else:
                raise ValueError(
                    f"einsum: a list of labels holds {s!r}; use integers 0 to "
                    f"{len(_LABELS) - 1} and Ellipsis"
                )
        return "".join(text)

    out = labels(items[-1]) if len(items) % 2 else None
    pairs = items[: len(items) - len(items) % 2]
    subscripts = ",".join(labels(s) for s in pairs[1::2])
    return subscripts + ("" if out is None else "->" + out), tuple(pairs[0::2])


def _canonical(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> tuple[list[str], str]:
    """Each operand's labels and the output's, explicit, with ``...`` spelled out in labels
    the subscripts do not use (right-aligned, as numpy broadcasts)."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(
            f"einsum: the subscripts {subscripts!r} name {len(inputs)} operand(s), "
            f"but {len(shapes)} were given"
        )
    counts = []
    for term, shape in zip(inputs, shapes):
        labels = term.replace("...", "", 1)
        if builtins.any(c not in _LABELS for c in labels):
            raise ValueError(f"einsum: {term!r} is not a list of letters with at most one '...'")
        extra = len(shape) - len(labels)
        if extra < 0 or (extra and "..." not in term):
            raise ValueError(
                f"einsum: the subscripts {term!r} label {len(labels)} axes of an operand "
                f"with {len(shape)}" + ("" if extra < 0 else "; add '...' for the others")
            )
        counts.append(extra if "..." in term else 0)
    n_ell = builtins.max(counts, default=0)
    ell = "".join([c for c in _LABELS if c not in spec][:n_ell])
    terms = [t.replace("...", ell[n_ell - n :], 1) for t, n in zip(inputs, counts)]
    if not arrow:  # implicit: '...' first, then the labels used once, in alphabetical order
        once = Counter("".join(inputs).replace("...", ""))
        return terms, ell + "".join(sorted(c for c, n in once.items() if n == 1))
    if "..." not in rhs and n_ell:
        raise ValueError(f"einsum: {subscripts!r} drops the axes of '...'; write '...' in the "
                         "output too (sum them afterwards with ad.sum)")  # fmt: skip
    out = rhs.replace("...", ell, 1)
    for c in out:
        if c not in _LABELS or out.count(c) > 1 or c not in "".join(terms):
            raise ValueError(
                f"einsum: the output {rhs!r} must name labels of the operands, each once"
            )
    return terms, out


def _broadcast(terms: list[str], shapes: Sequence[tuple[int, ...]]) -> tuple[list[str], list]:
    """Check each label's sizes; an axis of size 1 whose label is longer elsewhere broadcasts,
    so it is reshaped away (the operand is constant along that label): each operand's labels,
    and its new shape (None when it keeps its own)."""
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            if term.count(c) > 1 and shape[term.index(c)] != n:
                raise ValueError(f"einsum: the repeated label {c!r} of {term!r} labels axes "
                                 f"of sizes {shape[term.index(c)]} and {n}")  # fmt: skip
            m = sizes.get(c, 1)
            if n != m and 1 not in (n, m):
                raise ValueError(f"einsum: the label {c!r} labels axes of sizes {m} and {n}")
            sizes[c] = n if m == 1 else m
    out_terms, new_shapes = [], []
    for term, shape in zip(terms, shapes):
        keep = [i for i, (c, n) in enumerate(zip(term, shape)) if n == sizes[c]]
        out_terms.append("".join(term[i] for i in keep))
        new_shapes.append(tuple(shape[i] for i in keep) if len(keep) < len(term) else None)
    return out_terms, new_shapes


@functools.lru_cache(maxsize=1024)
def _plan(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> tuple[str, tuple]:
    """The canonical subscripts of an einsum of operands of ``shapes``, and the shape each
    operand is reshaped to first (None: its own)."""
    terms, out = _canonical(subscripts, shapes)
    terms, new_shapes = _broadcast(terms, shapes)
    return ",".join(terms) + "->" + out, tuple(new_shapes)


@_public(np.einsum, keywords=("optimize",))
def einsum(subscripts: Any, *operands: Any, optimize: Any = False) -> Any:
    """``np.einsum``: explicit (``"ij,jk->ik"``) or implicit (``"ij,jk"``) subscripts, ``...``,
    repeated labels (``"ii->"``, a trace) and numpy's list form (``einsum(a, [0, 1], b, [1, 2])``).

    ``optimize`` is accepted and left to adlab: large operands are contracted pairwise by
    BLAS, as numpy's planner does.
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_lists((subscripts, *operands))
    operands = tuple(_array(x) for x in operands)
    canonical, shapes = _plan(subscripts, tuple(shape_of(x) for x in operands))
    operands = [x if s is None else reshape_p(x, shape=s) for x, s in zip(operands, shapes)]
    return einsum_p(*operands, subscripts=canonical)


# ---------------------------------------------------------------------------
# numpy's other products


def _axis_list(axes: Any, ndim: int, name: str) -> list[int]:
    axes = [axes] if isinstance(axes, int | np.integer) else list(axes)
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim, f"tensordot's axes of {name}")
    return [int(a) % ndim for a in axes]


@_public(np.tensordot, keywords=("axes",))
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """``np.tensordot``: the sum over ``axes`` of ``a`` and ``b`` (the last ``axes`` of ``a`` and
    the first of ``b`` for an int, or a pair of lists), an einsum."""
    a, b = _array(a), _array(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, int | np.integer):
        if not 0 <= axes <= builtins.min(na, nb):
            raise ValueError(f"tensordot: axes={axes} for operands of {na} and {nb} dimensions")
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = _axis_list(axes[0], na, "a"), _axis_list(axes[1], nb, "b")
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: {len(axes_a)} axes of a against {len(axes_b)} of b")
    for i, j in zip(axes_a, axes_b):
        if shape_of(a)[i] != shape_of(b)[j]:
            raise ValueError(f"tensordot: axis {i} of a has size {shape_of(a)[i]}, "
                             f"axis {j} of b has size {shape_of(b)[j]}")  # fmt: skip
    labels_a = _LABELS[:na]
    labels_b = list(_LABELS[na : na + nb])
    for i, j in zip(axes_a, axes_b):
        labels_b[j] = labels_a[i]
    free_a = "".join(c for i, c in enumerate(labels_a) if i not in axes_a)
    free_b = "".join(c for j, c in enumerate(labels_b) if j not in axes_b)
    return einsum_p(a, b, subscripts=f"{labels_a},{''.join(labels_b)}->{free_a}{free_b}")


@_public(np.inner)
def inner(a: Any, b: Any) -> Any:
    """``np.inner``: the sum over the last axes of ``a`` and ``b`` (a product for scalars)."""
    a, b = _array(a), _array(b)
    if not shape_of(a) or not shape_of(b):
        return mul(a, b)
    return tensordot(a, b, ([-1], [-1]))


@_public(np.vdot)
def vdot(a: Any, b: Any) -> Any:
    """``np.vdot`` of real arrays: the sum of the products of their elements, flattened."""
    return einsum_p(reshape(_array(a), -1), reshape(_array(b), -1), subscripts="i,i->")


@_public(np.outer)
def outer(a: Any, b: Any) -> Any:
    """``np.outer``: every element of ``a`` (flattened) times every element of ``b``."""
    return mul(reshape(_array(a), (-1, 1)), reshape(_array(b), (1, -1)))


@_public(np.kron)
def kron(a: Any, b: Any) -> Any:
    """``np.kron``: the Kronecker product, blocks ``a[i, j] * b`` (operands of fewer
    dimensions get leading axes of size 1, as numpy's)."""
    a, b = _array(a), _array(b)
    sa, sb = shape_of(a), shape_of(b)
    n = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    blocks = mul(reshape(a, tuple(d for s in sa for d in (s, 1))),
                 reshape(b, tuple(d for s in sb for d in (1, s))))  # fmt: skip
    return reshape(blocks, tuple(p * q for p, q in zip(sa, sb)))
