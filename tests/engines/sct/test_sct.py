"""The sct engine: the pipeline, the generated code, and the lecture's facts (NB08)."""

from __future__ import annotations

import inspect
import linecache
import math
import traceback

import numpy as np
import pytest

import adlab as ad
from adlab.core import rules
from adlab.core.tree import flatten
from adlab.engines.sct import fence, parse, pipeline, runtime
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
    check_grads(zoo.f, *zoo.args, mode=("reverse", "sct"))  # order 2: reverse over sct
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
    hessian = ad.hessian(f, argnums=(0, 1), mode="sct")(0.5, -0.5)  # sct over sct
    np.testing.assert_allclose(hessian, ad.hessian(f, argnums=(0, 1))(0.5, -0.5), rtol=1e-12)
    # the inner gradient of hessian/check_grads is sct's own code, transformed again
    assert isinstance(ad.api.grad_to_transform(f, 0, "sct"), ad.sct.Transformed)
    assert check_grads(f, 0.5, -0.5, mode="sct").max_error[2] < 1e-7  # order 2 by default


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


def test_show_prints_the_passes_in_their_order(capsys):
    def shown_passes() -> list[str]:
        out = capsys.readouterr().out
        return [line.split()[2] for line in out.splitlines() if line.startswith("──── after ")]

    ad.sct.grad(f_square, show=True)
    assert shown_passes() == ["parse", "fence", "ssa", "activity", "adjoint", "compile"]
    ad.sct.jvp(f_square, show=True)
    assert shown_passes() == ["parse", "fence", "ssa", "activity", "tangent", "compile"]
    ad.sct.ssa(f_square, show=True)
    assert shown_passes() == ["parse", "fence", "ssa"]


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


# -- regressions -------------------------------------------------------------------------

TWO_LAMBDAS = [lambda x: ad.sin(x), lambda x: ad.cos(x)]


def test_two_lambdas_on_one_line_are_told_apart_by_column():
    assert ad.sct.grad(TWO_LAMBDAS[0])(1.0) == pytest.approx(math.cos(1.0))
    assert ad.sct.grad(TWO_LAMBDAS[1])(1.0) == pytest.approx(-math.sin(1.0))


def test_lambdas_that_cannot_be_told_apart_are_refused_not_guessed():
    original = TWO_LAMBDAS[1]
    code = original.__code__.replace(co_linetable=b"")  # no column information left
    nameless = type(original)(code, original.__globals__)
    with pytest.raises(ad.DifferentiationError, match=r"two lambdas on line \d+.*with def"):
        ad.sct.grad(nameless)


def test_lambdas_on_one_line_are_told_apart_by_their_names_without_columns(monkeypatch):
    """Python 3.10 has no code.co_positions: the lambdas' parameters and the names they use
    tell them apart where they differ; where they do not, sct refuses rather than guesses."""

    class NoPositions:  # a code object as Python 3.10 has it
        def __init__(self, code):
            self.code = code

        def __getattr__(self, name):
            if name == "co_positions":
                raise AttributeError(name)
            return getattr(self.code, name)

    assert parse._positions(NoPositions(TWO_LAMBDAS[0].__code__)) is None
    monkeypatch.setattr(parse, "_positions", lambda code: None)
    sin, cos = [lambda x: ad.sin(x), lambda x: ad.cos(x)]
    double, triple, twice = [lambda x: x * 2.0, lambda y: y * 3.0, lambda x: x * 2.5]
    assert ad.sct.grad(sin)(1.0) == pytest.approx(math.cos(1.0))
    assert ad.sct.grad(cos)(1.0) == pytest.approx(-math.sin(1.0))
    assert ad.sct.grad(triple)(1.0) == 3.0
    for same in (double, twice):  # same parameters, no names: only columns could tell
        with pytest.raises(ad.DifferentiationError, match=r"two lambdas on line \d+.*3\.10"):
            parse.parse(same)


def _run_cell(source: str, namespace: dict) -> None:
    """Run ``source`` as a notebook cell: registered with linecache, in ``namespace``."""
    filename = f"<ipython-input-{abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def test_reassigned_globals_are_read_again():
    ns: dict = {"np": np, "ad": ad}
    _run_cell("X = np.array([1.0, 2.0])\ndef loss(w):\n    return np.sum((X * w - 1) ** 2)\n", ns)
    g = ad.sct.grad(ns["loss"])
    assert ad.grad(ns["loss"], mode="sct")(0.5) == g(0.5) == -1.0
    ns["X"] = np.array([3.0, 4.0])  # the next cell: X = np.array([3.0, 4.0])
    want = ad.value_and_grad(ns["loss"])(0.5)
    assert want == (1.25, 11.0)
    assert ad.value_and_grad(ns["loss"], mode="sct")(0.5) == want
    assert g(0.5) == 11.0 and "X" in g.source


def test_numbers_attributes_and_closures_are_read_again():
    ns: dict = {"np": np, "ad": ad, "types": __import__("types")}
    _run_cell(
        "S = 2.0\ncfg = types.SimpleNamespace(scale=2.0)\n"
        "def scaled(x):\n    return S * x + cfg.scale * x\n"
        "def make():\n    c = 2.0\n    def f(x):\n        return c * x\n"
        "    def set_c(v):\n        nonlocal c\n        c = v\n    return f, set_c\n",
        ns,
    )
    g = ad.sct.grad(ns["scaled"])
    assert g(1.0) == 4.0
    ns["S"] = 3.0
    assert g(1.0) == 5.0
    ns["cfg"].scale = 5.0
    assert g(1.0) == 8.0 == ad.grad(ns["scaled"], mode="sct")(1.0)
    f, set_c = ns["make"]()
    assert ad.sct.grad(f)(1.0) == 2.0
    set_c(7.0)
    assert ad.sct.grad(f)(1.0) == 7.0


def test_a_stale_variant_asks_whether_its_names_changed_once(monkeypatch):
    ns: dict = {"ad": ad}
    _run_cell("S = 2.0\ndef rescaled(x):\n    return S * x\n", ns)
    g = ad.sct.grad(ns["rescaled"])
    assert g(1.0) == 2.0
    asked: list = []
    changed = fence.Checked.changed

    def counted(checked):
        asked.append(checked)
        return changed(checked)

    monkeypatch.setattr(fence.Checked, "changed", counted)
    old = g.compiled.checked
    ns["S"] = 3.0
    assert g(1.0) == 3.0
    assert asked.count(old) == 1  # not again by the cache of variants, nor by the front end


def test_derivatives_of_derivatives_see_rebound_globals():
    ns: dict = {"ad": ad}
    _run_cell("S = 2.0\ndef cubed(x):\n    return S * x ** 3\n", ns)
    second = ad.sct.grad(ad.sct.grad(ns["cubed"]))
    hessian = ad.hessian(ns["cubed"], mode="sct")
    assert second(1.0) == hessian(1.0) == 12.0
    ns["S"] = 3.0
    assert second(1.0) == hessian(1.0) == 18.0


def test_redefined_helpers_are_transformed_again():
    ns: dict = {"np": np, "ad": ad}
    _run_cell("Y = 1.0\ndef helper(x):\n    return x * x * Y\n"
              "def outer(x):\n    return helper(x) + 1.0\n", ns)  # fmt: skip
    g = ad.sct.grad(ns["outer"])
    assert g(2.0) == 4.0
    _run_cell("def helper(x):\n    return x * x * x\n", ns)  # the helper's cell, run again
    assert g(2.0) == 12.0 == ad.grad(ns["outer"], mode="sct")(2.0)
    _run_cell("def helper(x):\n    return x * x * Y\n", ns)
    assert g(2.0) == 4.0
    ns["Y"] = 3.0  # a global of the helper, not of outer
    assert g(2.0) == 12.0 == ad.grad(ns["outer"], mode="sct")(2.0)
    assert ad.sct.jvp(ns["outer"])(2.0, x_dot=1.0) == (13.0, 12.0)


SCT_CUBE = ad.Primitive("sct_cube_vjp_only", lambda x: x**3)
rules.defvjp(SCT_CUBE, lambda out, args, wrt: lambda g: (g * 3.0 * args[0] ** 2,))
SCT_NO_RULE = ad.Primitive("sct_no_rule", lambda x: x * 2.0)


def uses_cube(x):
    return ad.sum(SCT_CUBE(x) * x)


def uses_no_rule(x):
    return ad.sum(SCT_NO_RULE(x))


def test_run_time_rules_are_the_tables_rules():
    x = np.array([1.0, 2.0])
    g = ad.sct.grad(uses_cube)
    np.testing.assert_allclose(g(x), 4 * x**3)
    assert "sct.vjp(SCT_CUBE, x)" in g.source
    out, pullback = runtime.vjp(ad.mul, 3.0, 3.0)  # one argument in two places: added
    assert out == 9.0 and pullback(1.0) == (3.0, 3.0)
    out, pullback = runtime.vjp(lambda a, b: (b, a), 1.0, 2.0)  # values handed through
    assert out == (2.0, 1.0) and pullback((5.0, 7.0)) == (7.0, 5.0)
    assert runtime.jvp(ad.stack, ([1.0, 2.0],), ([1.0, 0.5],))[1].tolist() == [1.0, 0.5]
    with pytest.raises(ad.DifferentiationError, match=r"applies more than one primitive.*"
                       r"\(cos, then sin\)"):  # fmt: skip
        runtime.vjp(lambda u: ad.sin(ad.cos(u)), 1.0)


def test_a_missing_rule_is_named_as_every_engine_names_it():
    x = np.array([1.0, 2.0])
    with pytest.raises(ad.DifferentiationError) as by_reverse:
        ad.grad(uses_no_rule)(x)
    with pytest.raises(ad.DifferentiationError) as by_sct:
        ad.sct.grad(uses_no_rule)(x)
    want = str(rules.missing_rule(SCT_NO_RULE, "reverse"))
    assert str(by_sct.value) == str(by_reverse.value) == want
    with pytest.raises(ad.DifferentiationError, match="'sct_cube_vjp_only' has no forward-mode"):
        ad.jvp(uses_cube, (x,), (x,), mode="sct")


# -- negative literals, aliasing of results, outputs without a cotangent ----------------


def negative_base(x):
    return x * (-0.19) ** 2


def negative_base_first(x):
    return (-2.0) ** 2 * x


def negated_negative_base(x):
    return x * (-(2.0)) ** 2


def negative_base_int(x):
    return x**2 * (-1) ** 2 + x - -1.0 + 2.0**-x - (-x) ** 3


@pytest.mark.parametrize("f", [negative_base, negative_base_first, negated_negative_base,
                               negative_base_int])  # fmt: skip
def test_a_negative_literal_raised_to_a_power_keeps_its_parentheses(f):
    """``(-0.19) ** 2`` is 0.0361; printed as ``-0.19 ** 2`` Python reads -(0.19 ** 2)."""
    assert "(-" in str(ad.sct.ssa(f))
    for x in (1.0, -0.7):
        assert ad.sct.grad(f)(x) == pytest.approx(ad.grad(f)(x), rel=1e-12)
        out, out_dot = ad.sct.jvp(f)(x, x_dot=1.0)
        assert out == f(x) and out_dot == pytest.approx(ad.grad(f)(x), rel=1e-12)
    assert ad.sct.grad(negative_base)(1.0) == pytest.approx(0.0361)


def test_results_share_memory_with_nothing():
    """A caller may update a result in place (``g *= lr``): no result is another result,
    nor an array the caller passed in (a cotangent, a tangent)."""
    a, b, ct = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([1.0, -1.0])
    ga, gb = ad.grad(lambda u, v: np.sum(u + v), argnums=(0, 1), mode="sct")(a, b)
    assert not np.shares_memory(ga, gb)
    ga, gb = ad.sct.grad(lambda u, v: np.sum(u + v), argnums=(0, 1))(a, b)
    assert not np.shares_memory(ga, gb)
    (c,) = ad.vjp(lambda u: u - 1.0, a, mode="sct")[1](ct)
    assert not np.shares_memory(c, ct)
    (c,) = ad.sct.vjp(lambda u: u - 1.0)(a)[1](ct)
    assert not np.shares_memory(c, ct)
    out_dot = ad.jvp(lambda u: u - 1.0, (a,), (ct,), mode="sct")[1]
    assert not np.shares_memory(out_dot, ct)
    np.testing.assert_array_equal(c, ct)


def sqrt_beside(x):
    return x * 2.0, ad.sqrt(x)


def sqrt_through_a_loop(x):
    t = ad.sqrt(x)
    s = x
    for _ in range(2):
        s = s * t
    return {"double": x * 2.0, "s": s, "pair": [x, x * x]}


def sqrt_in_a_branch(x):
    if x > 1.0:
        return ad.sqrt(x - 2.0), x
    return x * 3.0, ad.sqrt(x)


@pytest.mark.parametrize("f", [sqrt_beside, sqrt_through_a_loop, sqrt_in_a_branch])
def test_an_output_without_a_cotangent_contributes_nothing(f):
    """A jacobian pulls back one output at a time, the others' cotangents None: zero times
    the infinite partial of sqrt at 0 must not make the other rows nan."""
    with np.errstate(all="ignore"):
        want = ad.jacobian(f)(0.0)
        got = ad.jacobian(f, mode="sct")(0.0)
        assert flatten(got)[1] == flatten(want)[1]
        np.testing.assert_array_equal(flatten(got)[0], flatten(want)[0])  # inf and nan too
        if f is not sqrt_in_a_branch:  # (its if needs a number)
            x = np.array([0.0, 1.0])
            for g, w in zip(flatten(ad.jacobian(f, mode="sct")(x))[0],
                            flatten(ad.jacobian(f)(x))[0]):  # fmt: skip
                np.testing.assert_array_equal(g, w)
    assert ad.jacobian(sqrt_beside, mode="sct")(0.0) == (2.0, np.inf)


def sqrt_read_again(x):
    t = (ad.sqrt(x), 2.0 * x)
    s = t[1] + 0.0  # noqa: F841 (read again: every item keeps its adjoint block)
    return t


def test_items_without_a_cotangent_of_an_output_read_again_reuse_the_plain_pullback():
    """Where the returned variable is read elsewhere the code keeps every item's adjoint
    block (adjoint.left_out), so the plain pullback serves: no code generated again."""
    want = ad.jacobian(sqrt_read_again)(1.0)
    assert ad.jacobian(sqrt_read_again, mode="sct")(1.0) == pytest.approx(want)

    def dead_items(fn):  # the variants of the vjp code in sct's cache, by their dead items
        return [key[4] for key in pipeline.cached(fn) if key[0] == "vjp"]

    assert dead_items(sqrt_read_again) == [()]
    assert dead_items(sqrt_beside) != [()]  # read once


@pytest.mark.xfail(strict=True, reason="the limit adjoint.left_out documents: a None "
                   "cotangent counts as zero where the output is read again")  # fmt: skip
def test_items_without_a_cotangent_of_an_output_read_again_contribute_nothing():
    with np.errstate(all="ignore"):
        want = ad.jacobian(sqrt_read_again)(0.0)  # (inf, 2.0)
        got = ad.jacobian(sqrt_read_again, mode="sct")(0.0)  # (inf, nan)
    np.testing.assert_array_equal(got, want)


def test_hessian_blocks_through_infinite_partials_match_the_reverse_engine():
    def power(x, y):
        return x**y

    with np.errstate(all="ignore"):
        for point in [(0.0, 2.0), (0.0, 0.5), (1.5, 0.0), (0.0, 0.0)]:
            want = ad.hessian(power, argnums=(0, 1))(*point)
            got = ad.hessian(power, argnums=(0, 1), mode=("reverse", "sct"))(*point)
            np.testing.assert_array_equal(np.array(got), np.array(want), err_msg=str(point))
