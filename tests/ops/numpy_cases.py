"""numpy functions against autograd, in every engine, to second order: the shared harness.

A :class:`Case` is one numpy expression over the arguments ``a, b, c`` (``"np.einsum('ij,jk',
a, b)"``) and a point. Its source is compiled twice, as ``tests/programs.py`` does for the
oracle's random programs: against numpy, for adlab's engines (sct reads the source), and
against ``autograd.numpy`` (or the case's own ``oracle`` expression where autograd has no
rule), for the oracle. autograd shares no code and no rule with adlab.

Each case is differentiated through a scalar loss, ``sum(sin(expr) * W)`` with fixed random
weights ``W`` (so a linear function still has a Hessian, and no output component is weighted
like another), and compared with autograd:

* the value, its shape and its dtype, with numpy's own (float32 kept float32);
* the gradient, in every engine that takes arrays (numeric mode to its accuracy);
* the Hessian, each engine over itself and over the others (sct's array code is
  differentiated again by forward or reverse mode: sct does not transform it twice);
* Hessian-vector products, forward mode over each reverse-mode gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np

import adlab as ad
from tests.programs import _compile

FIRST_ORDER = ("reverse", "forward", "sct", "numeric")
SECOND_ORDER = ("reverse", "forward", ("forward", "reverse"), ("reverse", "forward"),
                ("forward", "sct"), ("reverse", "sct"))  # fmt: skip
HVP = ("reverse", "sct", "forward")
"""The inner gradients a forward-mode jvp differentiates for a Hessian-vector product."""

TOLERANCE = {"exact": (1e-10, 1e-12), "numeric": (1e-6, 1e-7)}
"""(rtol, atol × (1 + the largest magnitude)) against autograd, by kind of engine."""


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def distinct(*shape: int, seed: int = 0) -> np.ndarray:
    """Values at least 0.1 apart (no ties, even after a finite-difference step)."""
    n = int(np.prod(shape))
    return (0.1 * np.random.default_rng(seed).permutation(n) - 0.05 * n + 0.03).reshape(shape)


@dataclass(frozen=True)
class Case:
    """``expr`` (numpy source over ``a, b, c``) at ``args``; ``oracle`` is autograd's spelling
    when autograd has no rule for the function."""

    name: str
    expr: str
    args: tuple
    oracle: str | None = None
    params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", ("a", "b", "c")[: len(self.args)])

    def __repr__(self) -> str:
        return self.name

    def source(self, body: str, name: str = "f") -> str:
        return f"def {name}({', '.join(self.params)}):\n    return {body}\n"

    @property
    def argnums(self) -> tuple[int, ...]:
        return tuple(range(len(self.args)))

    def fn(self) -> Callable[..., Any]:
        """The expression as a function, for adlab."""
        return _compile(self.source(self.expr), "f", {"np": np})

    def weights(self) -> Any:
        out = self.fn()(*self.args)
        w = normal(*np.shape(out), seed=len(self.name)).astype(np.result_type(out))
        return w if w.shape else 0.7

    def loss(self) -> Callable[..., Any]:
        """``sum(sin(expr) * W)``, for adlab."""
        body = f"np.sum(np.sin({self.expr}) * W)"
        return _compile(self.source(body, "loss"), "loss", {"np": np, "W": self.weights()})

    def oracle_loss(self) -> Callable[..., Any]:
        """The same loss, for autograd."""
        body = f"anp.sum(anp.sin({self.oracle or self.expr.replace('np.', 'anp.')}) * W)"
        return _compile(
            self.source(body, "loss"), "loss", {"anp": anp, "np": np, "W": self.weights()}
        )

    def float32(self) -> Case:
        args = tuple(np.float32(a) if np.ndim(a) == 0 else a.astype(np.float32)
                     for a in self.args)  # fmt: skip
        return Case(self.name + "-float32", self.expr, args, self.oracle)


def _close(got: Any, want: Any, mode: Any, what: str) -> None:
    rtol, atol = TOLERANCE["numeric" if mode == "numeric" else "exact"]
    scale = 1.0 + float(np.max(np.abs(want), initial=0.0))
    assert np.shape(got) == np.shape(want), f"{mode}: {what} has shape {np.shape(got)}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=f"{mode}: {what}")


def check_value(case: Case) -> None:
    """adlab's traced value is numpy's: same numbers, shape and dtype."""
    f = case.fn()
    want = f(*case.args)
    got, _ = ad.vjp(f, *case.args)
    for g, w in zip(*(v if isinstance(v, list) else [v] for v in (got, want))):
        assert np.shape(g) == np.shape(w)
        assert np.result_type(g) == np.result_type(w), f"dtype {np.result_type(g)}"
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-300)


def check_gradient(case: Case, mode: str) -> None:
    want = [autograd.grad(case.oracle_loss(), i)(*case.args) for i in case.argnums]
    got = ad.grad(case.loss(), case.argnums, mode=mode)(*case.args)
    for i, (g, w) in enumerate(zip(got, want)):
        _close(g, w, mode, f"gradient {i}")


def check_hessian(case: Case, mode: Any) -> None:
    oracle = case.oracle_loss()
    blocks = ad.hessian(case.loss(), case.argnums, mode=mode)(*case.args)
    for i in case.argnums:
        for j in case.argnums:
            _close(blocks[i][j], _hessian_block(case, oracle, i, j), mode, f"Hessian block {i},{j}")


def _hessian_block(case: Case, oracle: Callable[..., Any], i: int, j: int) -> np.ndarray:
    """autograd's ∂²loss/∂args[i]∂args[j], shaped ``args[i].shape + args[j].shape`` (autograd's
    jacobian cannot stack the rows of an empty array: a block of an empty argument has no
    element, and only its shape is compared)."""
    shape = np.shape(case.args[i]) + np.shape(case.args[j])
    if not np.size(case.args[i]) or not np.size(case.args[j]):
        return np.zeros(shape)
    return np.reshape(autograd.jacobian(autograd.grad(oracle, i), j)(*case.args), shape)


def check_hvp(case: Case, inner: str) -> None:
    """forward mode over ``inner``'s gradient, along a random direction, against autograd's H·v."""
    v = tuple(normal(*np.shape(a), seed=7 + i) for i, a in enumerate(case.args))
    oracle = case.oracle_loss()
    _, got = ad.jvp(ad.grad(case.loss(), case.argnums, mode=inner), case.args, v)
    for i in case.argnums:
        want = sum(np.tensordot(_hessian_block(case, oracle, i, j), v[j], np.ndim(v[j]))
                   for j in case.argnums)  # fmt: skip
        _close(got[i], want, f"forward over {inner}", f"H·v, component {i}")


def check_float32(case: Case) -> None:
    """float32 in: the dtype numpy gives (float32, unless a float64 constant joins in), and
    float32 gradients in every array engine."""
    case = case.float32()
    want = case.fn()(*case.args)
    got, _ = ad.vjp(case.fn(), *case.args)
    for g, w in zip(*(v if isinstance(v, list) else [v] for v in (got, want))):
        assert np.result_type(g) == np.result_type(w)
    for mode in ("reverse", "forward", "sct"):
        grads = ad.grad(case.loss(), case.argnums, mode=mode)(*case.args)
        assert all(np.result_type(g) == np.float32 for g in grads), mode
