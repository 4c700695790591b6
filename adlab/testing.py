"""Checking derivatives against finite differences, and the ZOO of test functions.

:func:`check_grads` compares a mode's Jacobian (and, with ``order=2``, the
Jacobian of its vector-Jacobian product) with central differences, and when
they disagree says which output and input component differs, with both
numbers. The :data:`ZOO` holds small functions, from the lecture and beyond,
that the tests run through every engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adlab import api
from adlab.core.tree import flatten, leaf_paths, unflatten
from adlab.engines import numeric
from adlab.ops import array as A
from adlab.ops import scalar as S


class GradientCheckError(AssertionError):
    """A derivative disagrees with finite differences; the message names the component."""


@dataclass
class GradCheck:
    """The outcome of :func:`check_grads`: the worst disagreement found, per order."""

    function: str
    mode: str | tuple[str, str]
    max_error: dict[int, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        errs = ", ".join(f"order {k}: {v:.2e}" for k, v in self.max_error.items())
        return f"GradCheck({self.function}, mode={self.mode!r}: max error {errs})"


def _index_text(shape: tuple[int, ...], k: int) -> str:
    return (
        "" if not shape else "[" + ",".join(str(int(i)) for i in np.unravel_index(k, shape)) + "]"
    )


def _compare(
    got: np.ndarray, want: np.ndarray, out: str, out_shape: tuple, arg: str, arg_shape: tuple,
    what: str, rtol: float, atol: float,
) -> float:  # fmt: skip
    got = np.asarray(got, dtype=np.float64).reshape(want.shape)
    err = np.abs(got - want)
    bound = atol + rtol * np.abs(want)
    bad = ~(err <= bound)  # catches nan too
    if bad.any():
        k = int(np.argmax(np.where(bad, err / bound, -np.inf)))
        k = k if bad.flat[k] else int(np.argmax(bad))
        i_out, i_in = np.unravel_index(
            k, (max(1, math.prod(out_shape)), max(1, math.prod(arg_shape)))
        )
        raise GradientCheckError(
            f"{what}: d {out}{_index_text(out_shape, int(i_out))} / d {arg}"
            f"{_index_text(arg_shape, int(i_in))} is {float(got.flat[k])!r} but finite differences "
            f"give {float(want.flat[k])!r} (|difference| {err.flat[k]:.3g} > tolerance "
            f"{bound.flat[k]:.3g}); {int(bad.sum())} of {bad.size} components disagree"
        )
    return float(err.max(initial=0.0))


def check_grads(
    f: Callable[..., Any],
    *args: Any,
    order: int = 2,
    mode: str | tuple[str, str] = "reverse",
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> GradCheck:
    """Check ``mode``'s derivatives of ``f`` at ``args`` against central differences.

    Order 1 compares the Jacobian of ``f`` (of each output) with respect to every
    argument. Order 2 also compares the Jacobian of the derivative: of the mode's
    gradient ``ad.grad(f, mode=mode)`` for a scalar ``f`` (so an engine that writes
    gradients as code, like sct, differentiates its own code), else of
    ``x ↦ vjp(f)(w)`` for a random fixed ``w``. As in :func:`adlab.hessian`, ``mode``
    may be a pair ``(outer, inner)``: the inner mode's derivative differentiated by
    the outer one. Raises :class:`GradientCheckError` naming the first bad component;
    returns a :class:`GradCheck` with the largest errors otherwise.

    >>> import adlab as ad
    >>> ad.testing.check_grads(lambda x, y: ad.sin(x) * y, 1.0, 2.0)
    GradCheck(<lambda>, mode='reverse': max error order 1: ..., order 2: ...)
    """
    outer, inner = (mode, mode) if isinstance(mode, str) else mode
    name = getattr(f, "__name__", "f")
    report = GradCheck(name, mode)
    argnums = tuple(range(len(args)))
    report.max_error[1] = _check_jacobian(f, args, argnums, inner, "first derivative", rtol, atol)
    if order >= 2:
        out = f(*args)
        if np.shape(out) == () and not isinstance(out, tuple | list | dict):
            derivative = api.grad_to_transform(f, argnums, inner)
        else:
            rng = np.random.default_rng(0)
            w = rng.standard_normal(np.shape(out)) if np.shape(out) else 1.0

            def vjp_of_f(*xs: Any) -> Any:
                _, pullback = api.vjp(f, *xs, mode=inner)
                cts = pullback(w)
                return A.concatenate([A.reshape(c, (-1,)) for ct in cts for c in flatten(ct)[0]])

            derivative = vjp_of_f
        report.max_error[2] = _check_jacobian(
            derivative, args, argnums, outer, "second derivative", rtol * 10, atol * 10
        )
    return report


def _check_jacobian(f, args, argnums, mode, what, rtol, atol) -> float:
    jacs = api.jacobian(f, argnums, mode=mode)(*args)
    outs = f(*args)
    out_leaves, _ = flatten(outs)
    out_paths = leaf_paths(outs, "out")
    inputs = [(i, j, leaf, path) for i in argnums for j, (leaf, path) in
              enumerate(zip(flatten(args[i])[0], leaf_paths(args[i], f"x{i}")))]  # fmt: skip
    blocks, _ = flatten(jacs)  # per output leaf, per input leaf
    worst = 0.0
    for n, (i, j, leaf, path) in enumerate(inputs):
        wants = numeric.jacobian(_one_leaf(f, args, i, j), np.asarray(leaf, dtype=np.float64))
        start = 0
        for k, (out, out_path) in enumerate(zip(out_leaves, out_paths)):
            size, out_shape = int(np.size(out)), np.shape(out)
            want = wants[start : start + size].reshape(out_shape + np.shape(leaf))
            start += size
            block = blocks[k * len(inputs) + n]
            worst = max(worst, _compare(block, want, out_path, out_shape, path, np.shape(leaf),
                                        what, rtol, atol))  # fmt: skip
    return worst


def _one_leaf(f: Callable, args: tuple, i: int, j: int) -> Callable[[Any], Any]:
    """``f`` as a function of leaf ``j`` of argument ``i`` alone: its outputs in one float64
    vector."""
    leaves, tree = flatten(args[i])

    def f_of_leaf(x: Any) -> Any:
        new = list(args)
        ls = list(leaves)
        ls[j] = x
        new[i] = unflatten(tree, ls)
        outs = flatten(f(*new))[0]
        return np.concatenate([np.ravel(np.asarray(o, dtype=np.float64)) for o in outs])

    return f_of_leaf


# ---------------------------------------------------------------------------
# The ZOO


@dataclass(frozen=True)
class ZooFunction:
    """A test function with a point to evaluate it at."""

    name: str
    f: Callable[..., Any]
    args: tuple
    note: str = ""

    def __call__(self, *args: Any) -> Any:
        return self.f(*args)

    def __repr__(self) -> str:
        return f"<zoo {self.name}>"


def _talk_f(x, y):  # E1.2 of the lecture
    return x * x * y + 1.0 / (x * x + y * y + 1.0)


def _five_well(x, y):  # E1.5, Pavlyukevich (2007)
    wells = (
        1.0 / (1.0 + 0.05 * x**2 + (y - 10.0) ** 2)
        + 1.0 / (1.0 + 0.05 * (x - 10.0) ** 2 + y**2)
        + 1.5 / (1.0 + 0.03 * (x + 10.0) ** 2 + y**2)
        + 2.0 / (1.0 + 0.05 * (x - 5.0) ** 2 + (y + 10.0) ** 2)
        + 1.0 / (1.0 + 0.1 * (x + 5.0) ** 2 + (y + 10.0) ** 2)
    )
    return (1.0 - wells) * (1.0 + 0.0001 * (x**2 + y**2) ** 1.2)


def _regression_loss(c):  # the talk's linear regression, written with a loop
    xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    loss = 0.0
    for x, y in zip(xs, ys):
        loss = loss + (y - c * x) ** 2
    return loss


def _x_to_the_8(x):  # t1 = x·x, t2 = t1·t1, f = t2·t2
    t1 = x * x
    t2 = t1 * t1
    return t2 * t2


def _uv(u, v):  # x = u + v, y = u − v, z = x·y
    x = u + v
    y = u - v
    return x * y


def _rosenbrock(p):
    return A.sum(100.0 * (p[1:] - p[:-1] ** 2) ** 2 + (1.0 - p[:-1]) ** 2)


def _softmax_xent(W, b, X, labels):
    logits = X @ W + b
    logp = logits - A.logsumexp(logits, axis=1, keepdims=True)
    return -A.mean(A.sum(logp * labels, axis=1))


def _mlp(params, X):
    W1, b1, W2, b2 = params
    h = S.tanh(X @ W1 + b1)
    return A.sum(S.sigmoid(h @ W2 + b2) ** 2)


def _broadcasting(a, b):
    return A.sum(S.exp(a[:, None] * b) / (1.0 + b**2))


def _joins(a, b):
    s = A.stack([a, b * 2.0], axis=1)
    c = A.concatenate([a, b, a * b])
    return A.sum(s**2) * A.mean(c) + A.max(c * 0.5)


def _elementary(x):
    return (
        S.log1p(x**2) + S.expm1(x / 3.0) + S.tan(x / 2.0) + S.sqrt(x + 2.0) + S.abs(x - 5.0)
        + S.relu(x) * S.maximum(x, 0.1) + S.minimum(x, 2.0) + S.where(x > 0.0, x**3, -x)
    )  # fmt: skip


_rng = np.random.default_rng(20241123)

ZOO: list[ZooFunction] = [
    ZooFunction("square", lambda x: x * x, (3.0,), "df(2) = 4 in the lecture's toy API"),
    ZooFunction("x2_plus_xy", lambda x, y: x**2 + x * y, (1.0, 2.0), "E1.1: grad (4, 1)"),
    ZooFunction("talk_f", _talk_f, (0.5, -0.5), "E1.2: grad (-17/18, 25/36)"),
    ZooFunction("quartic", lambda x: 1.2 * x**4 - x**3 - 6.0 * x**2 - 0.5 * x, (-0.5,), "E1.3"),
    ZooFunction("sphere", lambda x, y: x**2 + y**2, (0.9, 0.9), "E1.4"),
    ZooFunction("five_well", _five_well, (10.0, 10.0), "E1.5"),
    ZooFunction("regression_loop", _regression_loss, (1.0,), "L(c) = 14(2-c)^2, L'(1) = -28"),
    ZooFunction("x_to_the_8", _x_to_the_8, (1.1,), "repeated squaring"),
    ZooFunction("u_v", _uv, (3.0, 2.0), "dz/du = 2u, dz/dv = -2v"),
    ZooFunction("x_times_x_plus_y", lambda x, y: x * (x + y), (2.0, 3.0), "dz/dx = 2x + y"),
    ZooFunction("quotient", lambda x: (1.0 + x) / (2.0 * x**2), (2.0,), "-(x+2)/(2x^3)"),
    ZooFunction("poly", lambda x: 2.0 * x * x + 3.0 * x + 1.0, (2.0,), "derivative 4x + 3"),
    ZooFunction("trig", lambda x, y: S.sin(x) * S.cos(y) + S.tanh(x * y), (0.7, -1.3)),
    ZooFunction("exp_log", lambda x: S.log(S.exp(x) + x**2) * S.sigmoid(x), (0.4,)),
    ZooFunction("powers", lambda x, y: x**y + 2.0**x + y**0.5, (1.5, 2.5), "x**y, c**x, x**c"),
    ZooFunction("elementary", _elementary, (0.8,)),
    ZooFunction("rosenbrock", _rosenbrock, (np.array([0.5, -0.3, 1.2, 0.9]),)),
    ZooFunction(
        "softmax_xent",
        _softmax_xent,
        (
            _rng.standard_normal((4, 3)) * 0.5,
            _rng.standard_normal(3) * 0.1,
            _rng.standard_normal((5, 4)),
            np.eye(3)[[0, 2, 1, 1, 0]],
        ),
    ),
    ZooFunction(
        "mlp",
        _mlp,
        (
            (
                _rng.standard_normal((3, 4)) * 0.5,
                np.zeros(4) + 0.1,
                _rng.standard_normal((4, 2)) * 0.5,
                np.zeros(2),
            ),
            _rng.standard_normal((6, 3)),
        ),
        "a tuple of parameters",
    ),
    ZooFunction(
        "broadcasting",
        _broadcasting,
        (np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.0])),
    ),
    ZooFunction("joins", _joins, (np.array([0.3, -1.2, 0.8]), np.array([1.1, 0.4, -0.6]))),
    ZooFunction(
        "matmul_chain",
        lambda A_, x: A.sum(S.tanh(A_ @ x) @ A_),
        (_rng.standard_normal((3, 3)), _rng.standard_normal(3)),
    ),
    ZooFunction(
        "dict_args",
        lambda p: p["w"] @ p["w"] * p["s"],
        ({"w": np.array([1.0, 2.0, -0.5]), "s": 0.3},),
        "a dict argument",
    ),
]
"""Small differentiable functions with a point each; run through every engine by the tests."""
