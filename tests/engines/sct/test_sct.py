"""The sct engine: the pipeline, the generated code, and the lecture's facts (NB08)."""

from __future__ import annotations

import inspect
import linecache
import math
import traceback

import numpy as np
import pytest

import adlab as ad
from adlab.core.tree import flatten
from adlab.engines.sct import pipeline as sct_pipeline  # the module
from adlab.testing import ZOO, check_grads


def f_square(x):
    return 3 * x**2


def regression_loss(c):
    x = [1.0, 2.0, 3.0]
    y = [2.0, 4.0, 6.0]
    loss = 0.0
    for xi, yi in zip(x, y):
        loss = loss + (yi - c * xi) ** 2
    return loss


def branchy(x, y):
    if x > y:
        z = x * y
    elif x < 0:
        z = ad.sin(x) - y
    else:
        return x / y
    return z * z


# -- the lecture's facts ------------------------------------------------------------


def test_ssa_of_3x_squared_has_two_operations():
    listing = ad.sct.ssa(f_square)
    assert len(listing) == 2
    assert [s.text() for s in listing.operations] == ["t1 = x ** 2", "out = 3 * t1"]
    assert str(listing).splitlines()[0] == "def f_square(x):"
    assert "# line" in str(listing)


def test_its_adjoint_gives_12_at_2():
    g = ad.sct.grad(f_square)
    assert g(2.0) == 12.0
    assert "x_bar = t1_bar * (2 * x)" in g.source


def test_regression_loop_gives_exactly_minus_28():
    g = ad.sct.grad(regression_loss)
    assert g(1.0) == -28.0
    assert ad.grad(regression_loss, mode="sct")(1.0) == -28.0
    zoo = next(z for z in ZOO if z.name == "regression_loop")
    assert ad.sct.grad(zoo.f)(1.0) == -28.0


def test_the_adjoint_of_a_loop_is_a_loop():
    source = ad.sct.grad(regression_loss).source
    loops = [line for line in source.splitlines() if line.strip().startswith("for ")]
    assert len(loops) == 2  # the forward loop and the reverse loop, not 3 copies of the body
    assert "for _ in range(loop" in source
    assert "_stack.append(" in source and "_stack.pop()" in source
    # the trip count is recorded, not the number 3
    assert "_trips += 1" in source


def test_generated_code_reads_like_a_textbook_adjoint():
    source = ad.sct.grad(branchy, argnums=(0, 1)).source
    lines = [line.strip() for line in source.splitlines()]
    first = inspect.getsourcelines(branchy)[1]  # the line of `def branchy`
    assert "# forward sweep: the primal program, saving what the reverse sweep needs" in lines
    assert any(line.startswith("# reverse sweep") for line in lines)
    assert f"# adjoint of line {first + 2}: z = x * y" in lines  # points at the primal line
    assert "x_bar = z_bar * y" in lines and "y_bar = z_bar * x" in lines
    # blocks come in reverse order of the primal statements
    assert lines.index(f"# adjoint of line {first + 7}: return z * z") < lines.index(
        f"# adjoint of line {first + 2}: z = x * y"
    )
    assert any(line.startswith(f"branch{first + 1} = x > y  # line") for line in lines)
    assert f"if branch{first + 1}:" in lines  # the branch decision is kept for the reverse sweep


# -- correctness ----------------------------------------------------------------------


@pytest.mark.parametrize("zoo", ZOO, ids=[z.name for z in ZOO])
def test_zoo_matches_finite_differences_and_the_reverse_engine(zoo):
    check_grads(zoo.f, *zoo.args, mode="sct", order=1)
    argnums = tuple(range(len(zoo.args)))
    want = ad.grad(zoo.f, argnums=argnums)(*zoo.args)
    got = ad.grad(zoo.f, argnums=argnums, mode="sct")(*zoo.args)
    for w, g in zip(_leaves(want), _leaves(got)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("zoo", ZOO, ids=[z.name for z in ZOO])
def test_zoo_tangent_code_matches_the_reverse_engine(zoo):
    tangents = tuple(_ones_like(a) for a in zoo.args)
    out, out_dot = ad.jvp(zoo.f, zoo.args, tangents, mode="sct")
    want_out, want_dot = ad.jvp(zoo.f, zoo.args, tangents, mode="reverse")
    np.testing.assert_allclose(out, want_out, rtol=1e-12)
    np.testing.assert_allclose(out_dot, want_dot, rtol=1e-10, atol=1e-12)


def _ones_like(a):
    if isinstance(a, dict):
        return {k: _ones_like(v) for k, v in a.items()}
    if isinstance(a, tuple | list):
        return type(a)(_ones_like(v) for v in a)
    return np.ones_like(a) if isinstance(a, np.ndarray) else 1.0


def _leaves(tree):
    return flatten(tree)[0]


def test_grad_vjp_and_jvp_agree():
    def f(x, y):
        return ad.sin(x) * y + x / y

    g = ad.sct.grad(f, argnums=(0, 1))(0.5, 2.0)
    out, pullback = ad.sct.vjp(f)(0.5, 2.0)
    assert out == f(0.5, 2.0)
    assert pullback(1.0) == pytest.approx(g)
    assert pullback(2.0) == pytest.approx((2 * g[0], 2 * g[1]))  # linear, and callable again
    assert ad.sct.jvp(f)(0.5, 2.0, x_dot=1.0, y_dot=0.0)[1] == pytest.approx(g[0])
    assert ad.sct.jvp(f)(0.5, 2.0, x_dot=0.0, y_dot=1.0)[1] == pytest.approx(g[1])


def test_every_api_function_takes_mode_sct():
    f = next(z for z in ZOO if z.name == "talk_f").f
    assert ad.grad(f, argnums=(0, 1), mode="sct")(0.5, -0.5) == pytest.approx((-17 / 18, 25 / 36))
    v, g = ad.value_and_grad(f, mode="sct")(0.5, -0.5)
    assert v == pytest.approx(13 / 24) and g == pytest.approx(-17 / 18)
    assert ad.derivative(lambda x: x**2 + 4 * x, mode="sct")(2.0) == 8.0
    _, pullback = ad.vjp(f, 0.5, -0.5, mode="sct")
    assert pullback(1.0) == pytest.approx((-17 / 18, 25 / 36))
    assert ad.jvp(f, (0.5, -0.5), (1.0, 0.0), mode="sct")[1] == pytest.approx(-17 / 18)
    jac = ad.jacobian(lambda x: ad.sin(x) * x, mode="sct")(np.array([0.5, 1.0]))
    np.testing.assert_allclose(jac, np.diag(np.cos([0.5, 1.0]) * [0.5, 1.0] + np.sin([0.5, 1.0])))
    np.testing.assert_allclose(
        ad.hessian(lambda x: ad.sum(x**3), mode=("reverse", "sct"))(np.array([1.0, 2.0])),
        np.diag([6.0, 12.0]),
    )


def test_argument_structures_and_keywords():
    def f(params, x, scale=2.0):
        w, b = params
        return scale * ad.tanh(w * x + b)

    g = ad.sct.grad(f)((0.5, -0.2), 1.5)
    want = ad.grad(f)((0.5, -0.2), 1.5)
    assert isinstance(g, tuple) and g == pytest.approx(want)
    assert ad.sct.grad(f)((0.5, -0.2), 1.5, scale=3.0) == pytest.approx(
        ad.grad(f)((0.5, -0.2), 1.5, scale=3.0)
    )
    assert ad.sct.grad(lambda x: x * x)(3) == 6.0  # ints are promoted
    d = ad.sct.grad(lambda p: p["w"] * p["s"])({"w": 2.0, "s": 3.0})
    assert d == {"w": 3.0, "s": 2.0}


def test_inputs_that_do_not_reach_the_output_get_zero():
    g = ad.sct.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, np.ones(3, np.float32))
    assert g[0] == 2.0 and g[1].dtype == np.float32 and not g[1].any()
    assert ad.sct.grad(lambda x: 7.0)(1.0) == 0.0


def test_grad_needs_a_scalar_output():
    with pytest.raises(ad.DifferentiationError, match=r"scalar output, got shape \(2,\)"):
        ad.sct.grad(lambda x: x * 2.0)(np.ones(2))


# -- the pipeline ---------------------------------------------------------------------


def test_the_pipeline_is_listed_in_one_function():
    source = inspect.getsource(sct_pipeline.pipeline)
    names = ("parse", "fence", "ssa", "activity", "tangent", "adjoint", "compile")
    positions = [source.index(f'("{name}"') for name in names]
    assert positions[:4] == sorted(positions[:4]) and positions[4:] == sorted(positions[4:])


def test_show_prints_the_program_after_every_pass(capsys):
    ad.sct.grad(f_square, show=True)
    shown = capsys.readouterr().out
    names = ["parse", "fence", "ssa", "activity", "adjoint", "compile"]
    positions = [shown.index(f"after {name} ") for name in names]
    assert positions == sorted(positions)
    assert "return 3 * x**2" in shown  # parse: the source
    assert "t1 = x ** 2" in shown  # ssa
    assert "active scalar" in shown  # activity
    assert "x_bar = t1_bar * (2 * x)" in shown  # adjoint
    assert "compiled as <adlab.sct f_square_grad" in shown
    ad.sct.jvp(f_square, show=True)
    assert "after tangent" in capsys.readouterr().out
    ad.sct.ssa(f_square, show=True)
    assert "after ssa" in capsys.readouterr().out


def test_generated_code_is_registered_with_linecache():
    g = ad.sct.grad(branchy, argnums=(0, 1))
    assert inspect.getsource(g) == g.source  # inspect follows __wrapped__ to the code
    code = g.__wrapped__.__code__
    assert code.co_filename.startswith("<adlab.sct branchy_grad")
    assert linecache.getline(code.co_filename, 1).startswith("def branchy_grad(x, y):")


def test_tracebacks_show_the_generated_line():
    def f(x):
        y = x * 2.0
        return y / (x - 1.0)

    g = ad.sct.grad(f)
    with pytest.raises(ZeroDivisionError) as info:
        g(1.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [fr for fr in frames if fr.filename.startswith("<adlab.sct f_grad")]
    assert generated and generated[-1].line == "out = y / t1"


def test_functions_from_notebook_cells_work():
    """IPython registers each cell's source with linecache under a name like this one."""
    cell = "import adlab as ad\n\ndef cell_f(x):\n    return ad.exp(x) * x\n"
    filename = "<ipython-input-7-0123456789ab>"
    linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
    namespace: dict = {}
    exec(compile(cell, filename, "exec"), namespace)
    assert ad.sct.grad(namespace["cell_f"])(1.0) == pytest.approx(2 * math.e)


def test_transformations_are_cached_per_function_and_kinds():
    g = ad.sct.grad(regression_loss)
    assert ad.sct.grad(regression_loss).__wrapped__ is g.__wrapped__  # same compiled code
    g(1.0)
    g(np.array(1.0))  # a 0-d array: the general specialisation
    assert len(g.sources) == 2
    assert "sct.seed" in g.source and "loss_bar = 1.0" in g.sources[("scalar",)]


def test_specialisation_on_arrays_sums_broadcast_cotangents():
    def f(a, b):
        return ad.sum(a * b + a)

    a, b = np.array([1.0, 2.0, 3.0]), np.array([[0.5, 1.0, 2.0], [-1.0, 0.3, 0.2]])
    g = ad.sct.grad(f, argnums=(0, 1))
    ga, gb = g(a, b)
    np.testing.assert_allclose(ga, b.sum(axis=0) + 2.0)
    np.testing.assert_allclose(gb, np.broadcast_to(a, b.shape))
    assert "sct.unbroadcast(" in g.source
    assert "unbroadcast" not in ad.sct.grad(f).sources[("scalar", "scalar")]


# -- semantics ---------------------------------------------------------------------------


def test_primal_division_keeps_python_semantics_derivatives_keep_the_tables():
    """The forward sweep runs the user's own operators: 1.0 / 0.0 raises ZeroDivisionError
    exactly as the function itself does. Divisions and powers that come from rules keep
    the table's semantics (inf where the limit is infinite), as every other engine does."""

    def inverse(x):
        return 1.0 / x

    with pytest.raises(ZeroDivisionError):
        inverse(0.0)
    with pytest.raises(ZeroDivisionError):
        ad.sct.grad(inverse)(0.0)
    with np.errstate(divide="ignore"):
        assert ad.sct.grad(lambda x: ad.sqrt(x))(0.0) == math.inf == ad.grad(ad.sqrt)(0.0)
        assert ad.sct.grad(lambda x: x**0.5)(0.0) == math.inf  # Python's 0.0 ** -0.5 raises
        assert ad.sct.grad(lambda x: ad.log(x))(0.0) == math.inf
    assert "ad.truediv(0.5, out)" in ad.sct.grad(lambda x: ad.sqrt(x)).source


def test_kinks_follow_the_table():
    assert ad.sct.grad(lambda x: ad.abs(x))(0.0) == 0.0
    assert ad.sct.grad(lambda x: ad.relu(x))(0.0) == 0.0
    assert ad.sct.grad(lambda x, y: ad.maximum(x, y), argnums=(0, 1))(1.0, 1.0) == (0.5, 0.5)


def test_math_and_numpy_names_are_mapped_to_the_table():
    def f(x):
        return math.sin(x) * np.exp(x) + math.sqrt(x)

    listing = str(ad.sct.ssa(f))
    assert "ad.sin(x)" in listing and "ad.exp(x)" in listing and "ad.sqrt(x)" in listing
    want = math.cos(1.0) * math.e + math.sin(1.0) * math.e + 0.5
    assert ad.sct.grad(f)(1.0) == pytest.approx(want)
    with pytest.raises(ad.DifferentiationError):  # tracing cannot see through math.sin
        ad.grad(f)(1.0)
