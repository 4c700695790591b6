"""Checking derivatives against finite differences, and the ZOO of test functions.

:func:`check_grads` compares a mode's Jacobian (and, with ``order=2``, the
Jacobian of its vector-Jacobian product) with central differences, and when
they disagree says which output and input component differs, with both
numbers. :func:`check_rule` does the same for one primitive's rules (its jvp,
its vjp, and the identity that ties them together), and returns a report that
shows itself as a table. The :data:`ZOO` holds small functions, from the
lecture and beyond, that the tests run through every engine.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adlab import api
from adlab.core import rules
from adlab.core.errors import DifferentiationError
from adlab.core.events import format_value
from adlab.core.primitive import Primitive
from adlab.core.tangents import ones_like, shape_of
from adlab.core.tree import flatten, leaf_paths, unflatten
from adlab.engines import numeric
from adlab.ops import array as A
from adlab.ops import scalar as S
from adlab.viz.tables import Table


class GradientCheckError(AssertionError):
    """A derivative disagrees with finite differences; the message names the component.

    Raised by :func:`check_rule`, it carries the whole :class:`RuleCheck` as ``report``.
    """

    report: RuleCheck | None = None


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


def _worst(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> tuple:
    """Where ``got`` and ``want`` disagree most: ``(k, err, bound, n_bad, max_err)``, with
    ``k`` the flat index of the worst component (the worst of the bad ones, if any)."""
    err = np.abs(got - want)
    bound = atol + rtol * np.abs(want)
    with np.errstate(invalid="ignore"):
        same = got == want  # equal infinities agree
        bad = ~((err <= bound) | same)  # catches nan
        if bad.any():
            ratio = np.where(bad, err / bound, -np.inf)
            k = int(np.argmax(np.where(np.isnan(ratio), np.inf, ratio)))  # a nan is the worst
        else:
            k = int(np.argmax(np.where(same, -np.inf, err))) if err.size else 0
        max_err = float(np.where(same, 0.0, err).max(initial=0.0))
    if not err.size:
        return 0, 0.0, atol, 0, 0.0
    return k, float(err.flat[k]), float(bound.flat[k]), int(bad.sum()), max_err


def _compare(
    got: np.ndarray, want: np.ndarray, out: str, out_shape: tuple, arg: str, arg_shape: tuple,
    what: str, rtol: float, atol: float,
) -> float:  # fmt: skip
    got = np.asarray(got, dtype=np.float64).reshape(want.shape)
    k, err, bound, n_bad, max_err = _worst(got, want, rtol, atol)
    if n_bad:
        i_out, i_in = np.unravel_index(
            k, (max(1, math.prod(out_shape)), max(1, math.prod(arg_shape)))
        )
        raise GradientCheckError(
            f"{what}: d {out}{_index_text(out_shape, int(i_out))} / d {arg}"
            f"{_index_text(arg_shape, int(i_in))} is {float(got.flat[k])!r} but finite differences "
            f"give {float(want.flat[k])!r} (|difference| {err:.3g} > tolerance "
            f"{bound:.3g}); {n_bad} of {got.size} components disagree"
        )
    return max_err


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
# One primitive's rules


@dataclass(frozen=True)
class RuleComparison:
    """One line of a :class:`RuleCheck`: a rule against a reference, and the worst component.

    ``status`` is ``"ok"``, ``"FAILED"`` or ``"not declared"``; ``component`` names the
    worst output and input component (``"d out[1] / d x[0]"``), ``got`` is the rule's
    number there and ``want`` the reference's.
    """

    check: str
    reference: str
    status: str
    max_error: float | None = None
    component: str = ""
    got: float | None = None
    want: float | None = None
    n_bad: int = 0
    n_components: int = 0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "FAILED"

    def message(self) -> str:
        """The comparison in a sentence, with both numbers where there are numbers."""
        if self.detail or self.got is None:
            return f"{self.check}: {self.detail or self.status}"
        difference = abs(self.got - self.want)
        if self.reference != "finite differences":  # the consistency of the two rules
            return (
                f"{self.check}: ⟨ȳ, J ẋ⟩ is {self.got!r} by the forward rule but ⟨Jᵀȳ, ẋ⟩ is "
                f"{self.want!r} by the reverse rule ({self.component}; |difference| "
                f"{difference:.3g})"
            )
        verdict = (
            f"{self.n_bad} of {self.n_components} components disagree" if self.n_bad
            else "every component agrees"
        )  # fmt: skip
        return (
            f"{self.check}: {self.component} is {self.got!r} but finite differences give "
            f"{self.want!r} (|difference| {difference:.3g}); {verdict}"
        )


@dataclass
class RuleCheck:
    """The outcome of :func:`check_rule`: one :class:`RuleComparison` per check, and the
    Jacobians compared (``jacobians[source][input name]``, shaped ``out.shape + x.shape``).

    Shows itself as a table (``repr`` and, in a notebook, HTML); :meth:`assert_ok`
    raises :class:`GradientCheckError` naming the failing components.
    """

    primitive: str
    point: dict[str, Any]
    comparisons: list[RuleComparison] = field(default_factory=list)
    jacobians: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    @property
    def failures(self) -> list[RuleComparison]:
        return [c for c in self.comparisons if not c.ok]

    def assert_ok(self) -> RuleCheck:
        """Raise :class:`GradientCheckError` if a check failed; return the report otherwise."""
        if not self.ok:
            error = GradientCheckError(
                f"check_rule({self.primitive}) at {self._point_text()}: "
                + "; ".join(c.message() for c in self.failures)
            )
            error.report = self
            raise error
        return self

    def _point_text(self) -> str:
        return ", ".join(f"{k}={_short(v)}" for k, v in self.point.items())

    def table(self) -> Table:
        """The comparisons as a :class:`~adlab.viz.tables.Table`."""
        rows = [
            (c.check, c.reference, c.status,
             "" if c.max_error is None else f"{c.max_error:.2e}",
             c.component, "" if c.got is None else repr(c.got),
             "" if c.want is None else repr(c.want))
            for c in self.comparisons
        ]  # fmt: skip
        notes = [c.message() for c in self.comparisons if c.detail]
        return Table(
            ("check", "against", "result", "max error", "worst component", "rule", "reference"),
            rows,
            title=f"check_rule({self.primitive}) at {self._point_text()}: "
            + ("ok" if self.ok else "FAILED"),
            note="; ".join(notes) or None,
        )

    def __repr__(self) -> str:
        return repr(self.table())

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


def _short(v: Any) -> str:
    return format_value(v) if isinstance(v, np.ndarray) else repr(v)


def _argument_names(prim: Primitive, n: int) -> list[str]:
    """The names of the primitive's first ``n`` parameters (``x0``, ``x1`` ... if unknown)."""
    try:
        params = list(inspect.signature(prim.impl).parameters.values())
    except (TypeError, ValueError):  # a ufunc or builtin
        params = []
    names = [
        p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ][:n]  # fmt: skip
    return names if len(names) == n else [f"x{i}" for i in range(n)]


def _is_real(x: Any) -> bool:
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, float | np.floating):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _basis(x: Any, k: int) -> Any:
    """The k-th unit vector in the space of ``x`` (a one of x's type for a scalar)."""
    if shape_of(x) == ():
        return ones_like(x)
    e = np.zeros(np.shape(x), dtype=np.asarray(x).dtype)
    e.flat[k] = 1
    return e


def _as_block(v: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape) if v is None else np.asarray(v, dtype=np.float64)


def _shape_mismatch(v: Any, shape: tuple[int, ...]) -> bool:
    return v is not None and tuple(np.shape(v)) != tuple(shape)


def check_rule(
    prim: Primitive,
    *args: Any,
    params: dict[str, Any] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
    raises: bool = True,
) -> RuleCheck:
    """Check ``prim``'s rules at ``args`` against central differences, and against each other.

    The forward rule (the table's jvp: from the partials, or as declared) gives the
    Jacobian column by column, the reverse rule (the vjp) row by row; both are
    compared with central differences of ``prim``'s implementation, and random
    directions ẋ, ȳ (seeded) check ⟨ȳ, J ẋ⟩ = ⟨Jᵀ ȳ, ẋ⟩ between the two rules.
    Float arguments are differentiated; ints, bools and ``nondiff_argnums`` are held
    fixed; ``params`` are the primitive's keyword settings. Returns a :class:`RuleCheck`;
    with ``raises=True`` (the default) a failed check raises :class:`GradientCheckError`
    naming the input and output component, with both numbers.

    >>> import adlab as ad
    >>> ad.testing.check_rule(ad.sin, 0.5).ok
    True
    """
    if not isinstance(prim, Primitive):
        name = getattr(prim, "__name__", None)
        module = getattr(prim, "__module__", "")
        inner = [f"{module}.{k}" for k, v in getattr(prim, "__globals__", {}).items()
                 if isinstance(v, Primitive) and v.name == name]  # fmt: skip
        hint = (
            f"{name} is a function around the primitive {inner[0]}: pass that, or"
            if inner
            else "make it one with @ad.primitive, or"
        )
        raise TypeError(
            f"check_rule checks one primitive's rules, got {type(prim).__name__}; {hint} check "
            "a function's derivatives with check_grads"
        )
    params = dict(params or {})
    names = _argument_names(prim, len(args))
    wrt = tuple(
        i for i, a in enumerate(args) if i not in prim.nondiff_argnums and _is_real(a)
    )  # fmt: skip
    if not wrt:
        raise ValueError(
            f"check_rule({prim.name}): no argument to differentiate; pass floats or float "
            "arrays for the arguments the rule differentiates"
        )
    rule = prim.rule  # each half as the engines call it (settings passed positionally skipped)
    jvp_rule = rule.jvp if rule is not None and rule.has_jvp else None
    vjp_rule = rule.vjp if rule is not None and rule.has_vjp else None
    if not prim.differentiable:  # zero by definition

        def jvp_rule(out: Any, args: Sequence, tangents: Sequence, **params: Any) -> Any:
            return None

        def vjp_rule(out: Any, args: Sequence, wrt: Sequence[int], **params: Any) -> Callable:
            return lambda out_bar: (None,) * len(wrt)

    if jvp_rule is None and vjp_rule is None:
        raise rules.missing_rule(prim, "reverse")

    out = prim.impl(*args, **params)
    out_shape = shape_of(out)
    report = RuleCheck(prim.name, {names[i]: args[i] for i in wrt})
    shapes = {i: shape_of(args[i]) for i in wrt}
    fd = {
        i: numeric.jacobian(_one_argument(prim, args, params, i), args[i]).reshape(
            out_shape + shapes[i]
        )
        for i in wrt
    }
    report.jacobians["finite differences"] = {names[i]: fd[i] for i in wrt}

    found = {}
    for check, rule, jacobian_by, decorator in (
        ("forward rule (jvp)", jvp_rule, _forward_jacobian, "defjvp"),
        ("reverse rule (vjp)", vjp_rule, _reverse_jacobian, "defvjp"),
    ):
        if rule is None:
            report.comparisons.append(_undeclared(prim, check, decorator))
            continue
        try:
            jac, problem = jacobian_by(rule, out, args, wrt, shapes, names, params)
        except DifferentiationError as e:  # the rules' own check of a user rule's shapes
            jac, problem = {}, str(e)
        if problem:
            report.comparisons.append(
                RuleComparison(check, "finite differences", "FAILED", detail=problem)
            )
            continue
        found[check] = jac
        report.jacobians[check.split()[0]] = {names[i]: jac[i] for i in wrt}
        report.comparisons.append(
            _against_differences(check, jac, fd, out_shape, shapes, names, rtol, atol)
        )
    if len(found) == 2:
        report.comparisons.append(
            _consistency(jvp_rule, vjp_rule, out, args, wrt, params, seed, rtol, atol)
        )
    return report.assert_ok() if raises else report


def _against_differences(
    check: str, got: dict[int, np.ndarray], fd: dict[int, np.ndarray], out_shape: tuple,
    shapes: dict[int, tuple], names: list[str], rtol: float, atol: float,
) -> RuleComparison:  # fmt: skip
    """A rule's Jacobian blocks against those of finite differences, the worst component named."""
    worst, max_err, n_bad, n_all = None, 0.0, 0, 0
    for i, want in fd.items():
        k, err, bound, bad, block_max = _worst(got[i], want, rtol, atol)
        n_bad, n_all = n_bad + bad, n_all + want.size
        max_err = max(max_err, block_max)
        score = (bad > 0, err / bound if bound else math.inf)
        if want.size and (worst is None or score > worst[0]):
            worst = (score, i, k)
    if worst is None:  # empty arrays: nothing to compare
        return RuleComparison(check, "finite differences", "ok", 0.0)
    _, i, k = worst
    i_out, i_in = np.unravel_index(k, (max(1, math.prod(out_shape)), max(1, math.prod(shapes[i]))))
    component = (
        f"d out{_index_text(out_shape, int(i_out))} / "
        f"d {names[i]}{_index_text(shapes[i], int(i_in))}"
    )
    return RuleComparison(
        check, "finite differences", "FAILED" if n_bad else "ok", max_err, component,
        float(got[i].flat[k]), float(fd[i].flat[k]), n_bad, n_all,
    )  # fmt: skip


def _one_argument(prim: Primitive, args: tuple, params: dict, i: int) -> Callable[[Any], Any]:
    def prim_of_one_argument(x: Any) -> Any:
        return prim.impl(*args[:i], x, *args[i + 1 :], **params)

    return prim_of_one_argument


def _undeclared(prim: Primitive, check: str, decorator: str) -> RuleComparison:
    return RuleComparison(
        check, "finite differences", "not declared",
        detail=f"not declared (@{prim.name}.{decorator} or .defrule would add it)",
    )  # fmt: skip


def _forward_jacobian(
    jvp_rule: Callable, out: Any, args: tuple, wrt: tuple, shapes: dict, names: list,
    params: dict,
) -> tuple[dict[int, np.ndarray], str]:  # fmt: skip
    """The Jacobian, one column per component of each input, by the forward rule."""
    out_shape = shape_of(out)
    jac = {}
    for i in wrt:
        columns = []
        for k in range(math.prod(shapes[i])):  # 1 for a scalar, 0 for an empty array
            tangents = [None] * len(args)
            tangents[i] = _basis(args[i], k)
            out_dot = jvp_rule(out, args, tangents, **params)
            if _shape_mismatch(out_dot, out_shape):
                return {}, (
                    f"the forward rule returned a tangent of shape {np.shape(out_dot)} for an "
                    f"output of shape {out_shape}"
                )
            columns.append(_as_block(out_dot, out_shape).reshape(-1))
        jac[i] = (
            np.stack(columns, axis=-1).reshape(out_shape + shapes[i])
            if columns
            else np.zeros(out_shape + shapes[i])
        )
    return jac, ""


def _reverse_jacobian(
    vjp_rule: Callable, out: Any, args: tuple, wrt: tuple, shapes: dict, names: list,
    params: dict,
) -> tuple[dict[int, np.ndarray], str]:  # fmt: skip
    """The Jacobian, one row per component of the output, by the reverse rule."""
    out_shape = shape_of(out)
    pullback = vjp_rule(out, args, wrt, **params)
    rows: dict[int, list[np.ndarray]] = {i: [] for i in wrt}
    for m in range(math.prod(out_shape)):
        cts = tuple(pullback(_basis(out, m)))
        if len(cts) != len(wrt):
            return {}, (
                f"the pullback returned {len(cts)} cotangent(s), but {len(wrt)} argument(s) "
                f"asked for one (wrt={wrt})"
            )
        for i, ct in zip(wrt, cts):
            if _shape_mismatch(ct, shapes[i]):
                return {}, (
                    f"the pullback returned a cotangent of shape {np.shape(ct)} for {names[i]}, "
                    f"which has shape {shapes[i]}: a cotangent has its argument's shape"
                )
            rows[i].append(_as_block(ct, shapes[i]).reshape(-1))
    return {
        i: np.stack(rows[i]).reshape(out_shape + shapes[i]) if rows[i]
        else np.zeros(out_shape + shapes[i])
        for i in wrt
    }, ""  # fmt: skip


def _consistency(
    jvp_rule: Callable, vjp_rule: Callable, out: Any, args: tuple, wrt: tuple, params: dict,
    seed: int, rtol: float, atol: float,
) -> RuleComparison:  # fmt: skip
    """⟨ȳ, J ẋ⟩ by the forward rule against ⟨Jᵀȳ, ẋ⟩ by the reverse rule, random ẋ and ȳ."""
    rng = np.random.default_rng(seed)

    def random_like(x: Any) -> Any:
        r = rng.standard_normal(shape_of(x))
        return float(r) if shape_of(x) == () and type(x) is float else r.astype(np.result_type(x))

    tangents: list[Any] = [None] * len(args)
    for i in wrt:
        tangents[i] = random_like(args[i])
    out_bar = random_like(out)
    out_dot = jvp_rule(out, args, tangents, **params)
    lhs = float(np.sum(np.asarray(out_bar) * _as_block(out_dot, shape_of(out))))
    cts = vjp_rule(out, args, wrt, **params)(out_bar)
    rhs = float(sum(np.sum(_as_block(ct, shape_of(args[i])) * tangents[i])
                    for i, ct in zip(wrt, cts)))  # fmt: skip
    err = abs(lhs - rhs)
    bad = not err <= atol + rtol * max(abs(lhs), abs(rhs))
    return RuleComparison(
        "⟨ȳ, J ẋ⟩ = ⟨Jᵀȳ, ẋ⟩", "the reverse rule", "FAILED" if bad else "ok", err,
        f"random ẋ, ȳ (seed {seed})", lhs, rhs, int(bad), 1,
    )  # fmt: skip


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


def talk_f(x, y):  # E1.2 of the lecture
    return x * x * y + 1.0 / (x * x + y * y + 1.0)


def five_well(x, y):  # E1.5, Pavlyukevich (2007)
    wells = (
        1.0 / (1.0 + 0.05 * x**2 + (y - 10.0) ** 2)
        + 1.0 / (1.0 + 0.05 * (x - 10.0) ** 2 + y**2)
        + 1.5 / (1.0 + 0.03 * (x + 10.0) ** 2 + y**2)
        + 2.0 / (1.0 + 0.05 * (x - 5.0) ** 2 + (y + 10.0) ** 2)
        + 1.0 / (1.0 + 0.1 * (x + 5.0) ** 2 + (y + 10.0) ** 2)
    )
    return (1.0 - wells) * (1.0 + 0.0001 * (x**2 + y**2) ** 1.2)


def regression_loss(c):  # the talk's linear regression, written with a loop
    xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    loss = 0.0
    for x, y in zip(xs, ys):
        loss = loss + (y - c * x) ** 2
    return loss


def x_to_the_8(x):  # t1 = x·x, t2 = t1·t1, f = t2·t2
    t1 = x * x
    t2 = t1 * t1
    return t2 * t2


def u_v(u, v):  # x = u + v, y = u − v, z = x·y
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
    ZooFunction("talk_f", talk_f, (0.5, -0.5), "E1.2: grad (-17/18, 25/36)"),
    ZooFunction("quartic", lambda x: 1.2 * x**4 - x**3 - 6.0 * x**2 - 0.5 * x, (-0.5,), "E1.3"),
    ZooFunction("sphere", lambda x, y: x**2 + y**2, (0.9, 0.9), "E1.4"),
    ZooFunction("five_well", five_well, (10.0, 10.0), "E1.5"),
    ZooFunction("regression_loop", regression_loss, (1.0,), "L(c) = 14(2-c)^2, L'(1) = -28"),
    ZooFunction("x_to_the_8", x_to_the_8, (1.1,), "repeated squaring"),
    ZooFunction("u_v", u_v, (3.0, 2.0), "dz/du = 2u, dz/dv = -2v"),
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
