"""%%grad in an IPython shell: every option, a clean namespace, and clear errors."""

from __future__ import annotations

import collections
import functools
import math
import types

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import adlab as ad
from adlab.engines.reverse import Trace
from adlab.notebook.magics import GradMagics
from adlab.notebook.result import GradResult
from adlab.notebook.widgets import Stepper

TALK = "%%grad x=0.5 y=-0.5\nt = x**2\nz = t * y + 1 / (x**2 + y**2 + 1)"


def run(ip, cell):
    """Run a cell; return (result, captured output). A %%grad cell shows its GradResult and
    returns nothing (IPython's Out keeps no trace alive): ``result.grad`` is the one it
    stored as ``_grad``."""
    ip.user_ns.pop("_grad", None)
    with capture_output() as out:
        result = ip.run_cell(cell, store_history=True)
    result.grad = ip.user_ns.get("_grad")
    if cell.startswith("%%grad"):
        assert result.result is None
    return result, out


def traced_anywhere(value) -> list:
    """Every Variable reachable from ``value`` through containers (tuples, lists, sets,
    deques, dicts and their keys, numpy object arrays, partials), the attributes and slots
    of plain objects, and the defaults, closures and attributes of the notebook's functions
    and classes.

    A recorded ``Trace`` holds the Variables of its computation by design, so it is not
    searched; neither are modules, library classes and functions, and IPython's objects.
    """
    found, seen, stack = [], set(), [value]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, ad.Variable):
            found.append(v)
        elif isinstance(v, dict):
            stack += [*v, *v.values()]
        elif isinstance(v, list | tuple | set | frozenset | collections.deque):
            stack += list(v)
        elif isinstance(v, np.ndarray):
            if v.dtype == object:
                stack += list(v.flat)
        elif isinstance(v, functools.partial):
            stack += [*v.args, *v.keywords.values()]
        elif isinstance(v, types.FunctionType):
            if v.__module__ == "__main__":
                stack += [*(v.__defaults__ or ()), *(v.__kwdefaults__ or {}).values()]
                stack += [c.cell_contents for c in v.__closure__ or ()]
        elif isinstance(v, type):
            if v.__module__ == "__main__":
                stack += list(vars(v).values())
        elif _plain_object(v):
            stack += list(getattr(v, "__dict__", {}).values())
            slots = [s for c in type(v).__mro__ for s in getattr(c, "__slots__", ())]
            stack += [getattr(v, s) for s in slots if hasattr(v, s)]
    return found


def _plain_object(v) -> bool:
    if isinstance(v, types.ModuleType | types.MethodType | Trace):
        return False
    module = type(v).__module__ or ""
    has_state = hasattr(v, "__dict__") or hasattr(type(v), "__slots__")
    return has_state and not module.startswith(_NOT_SEARCHED)


_NOT_SEARCHED = ("IPython", "ipykernel", "ipywidgets", "traitlets", "builtins")


def test_traced_anywhere_searches_containers_attributes_and_object_arrays():
    escaped = []
    ad.grad(lambda x: escaped.append(x) or x * x)(1.0)
    (v,) = escaped
    holder = types.SimpleNamespace(inner=types.SimpleNamespace(w=[(v,)]))
    objects = np.empty(2, dtype=object)
    objects[1] = {"k": v}
    for where in ([1.0, {"a": (v,)}], holder, objects, {frozenset({v})}):
        assert traced_anywhere(where) == [v]
    assert traced_anywhere([1.0, holder.inner.w[0][0].value, np.ones(3), ad.trace(abs, 1.0)]) == []


def assert_clean(ns):
    leaks = {k: v for k, v in ns.items() if traced_anywhere(v)}
    assert leaks == {}


# -- the semantics of DESIGN.md ---------------------------------------------------------


def test_the_talks_function(ip):
    res, out = run(ip, TALK)
    assert res.success
    r = res.grad
    assert isinstance(r, GradResult)
    assert r.grads == pytest.approx({"x": -17 / 18, "y": 25 / 36}, abs=1e-15)
    assert r.value == pytest.approx(13 / 24) and r.output == "z"
    # shown (as the cell's one output) and stored as _grad; not returned, so that IPython's
    # Out does not keep every result's trace alive
    assert [o.data["text/plain"] for o in out.outputs] == [repr(r)]
    assert "adlab-gradresult" in out.outputs[0].data["text/html"]
    assert ip.execution_count - 1 not in ip.user_ns["Out"]
    # names assigned in the cell stay, as plain values; x=EXPR inputs were not defined before
    assert type(ip.user_ns["t"]) is float and ip.user_ns["t"] == 0.25
    assert ip.user_ns["z"] == pytest.approx(13 / 24) and type(ip.user_ns["z"]) is float
    assert "x" not in ip.user_ns and "y" not in ip.user_ns
    assert_clean(ip.user_ns)


def test_traced_values_are_named_after_the_users_variables(ip):
    r = run(ip, TALK)[0].grad
    names = [n.name for n in r.trace.nodes]
    assert names[:2] == ["x", "y"] and names[2] == "t" and names[-1] == "z"
    assert r.trace.tape.lines()[0] == "t = x ** 2"
    assert [n.name for n in ad.draw(r).graph.nodes] == names


def test_inputs_by_name_keep_their_values(ip):
    ip.run_cell("a = 2.0\nb = np.array([1.0, 2.0])\nkeep = b")
    r = run(ip, "%%grad a b --of c\nc = ad.sum(a * b ** 2)\na = 100.0")[0].grad
    assert r.grads["a"] == 5.0
    np.testing.assert_array_equal(r.grads["b"], [4.0, 8.0])
    assert ip.user_ns["a"] == 2.0  # re-bound in the cell, restored afterwards
    assert ip.user_ns["b"] is ip.user_ns["keep"]
    np.testing.assert_array_equal(ip.user_ns["b"], [1.0, 2.0])
    assert ip.user_ns["c"] == 10.0


def test_an_input_defined_before_is_restored_when_given_with_a_value(ip):
    ip.run_cell("x = 'a string'")
    r = run(ip, "%%grad x=3.0\nx * x")[0].grad
    assert r.grads == {"x": 6.0} and ip.user_ns["x"] == "a string"


def test_the_output_is_the_last_expression_or_of(ip):
    r = run(ip, "%%grad x=2.0\nu = x * 3\nu + x")[0].grad
    assert (r.value, r.grads["x"], r.output) == (8.0, 4.0, "out")
    r = run(ip, "%%grad x=2.0 --of u\nu = x * 3\nw = u * u\nw")[0].grad
    assert (r.value, r.grads["x"], r.output) == (6.0, 3.0, "u")
    assert ip.user_ns["w"] == 36.0
    r = run(ip, "%%grad x=2.0\nu = x * 3\nu")[0].grad
    assert r.output == "u"


def test_namespace_hygiene_nothing_traced_is_left_anywhere(ip):
    ip.run_cell("history = []\nalias = history\nbox = {'old': 1.0}")
    cell = (
        "%%grad x=2.0 y=3.0\n"
        "pairs = [(x, y), [x * y, {'s': x + y}]]\n"
        "history.append(x * y)\n"
        "box['new'] = (x, [y])\n"
        "f = lambda v: v * x\n"
        "z = x * y"
    )
    res, _ = run(ip, cell)
    assert res.success
    assert_clean(ip.user_ns)
    assert ip.user_ns["pairs"] == [(2.0, 3.0), [6.0, {"s": 5.0}]]
    assert ip.user_ns["alias"] == [6.0]  # mutated in place: every reference is clean
    assert ip.user_ns["box"] == {"old": 1.0, "new": (2.0, [3.0])}


def test_traced_values_kept_in_attributes_of_plain_objects_become_numbers(ip):
    ip.run_cell("import types\nclass Box_:\n    pass\nbox = Box_()\nns = types.SimpleNamespace()")
    res, _ = run(ip, "%%grad x=2.0\nbox.w = x * 2\nns.h = [x, x * 3]\nz = x * box.w")
    assert res.success and res.grad.grads == {"x": 8.0}
    assert type(ip.user_ns["box"].w) is float and ip.user_ns["box"].w == 4.0
    assert ip.user_ns["ns"].h == [2.0, 6.0]
    assert_clean(ip.user_ns)


def test_traced_values_are_found_wherever_the_cell_put_them(ip):
    ip.run_cell(
        "import collections, functools\n"
        "class Box_:\n    pass\n"
        "class Slotted:\n    __slots__ = ('w',)\n"
        "items, log, slotted = [Box_()], [], Slotted()\n"
        "queue, seen, keyed = collections.deque(), set(), {}\n"
        "def note(v):\n    log.append(v * 1.0)  # log: a global the cell does not name\n"
    )
    cell = (
        "%%grad x=2.0\n"
        "items[0].v = x * 4\n"
        "slotted.w = x + 1\n"
        "queue.append(x)\n"
        "seen.add(x * 5)\n"
        "keyed[x * 6] = 'key'\n"
        "class K:\n    k = x * 2\n"
        "def h(a=x * 2, *, b=x):\n    return a + b\n"
        "p = functools.partial(max, x, k=x)\n"
        "note(x)\n"
        "z = x * x"
    )
    res, _ = run(ip, cell)
    assert res.success, res.error_in_exec
    assert_clean(ip.user_ns)
    ns = ip.user_ns
    assert ns["items"][0].v == 8.0 and ns["slotted"].w == 3.0 and ns["log"] == [2.0]
    assert list(ns["queue"]) == [2.0] and ns["seen"] == {10.0} and ns["keyed"] == {12.0: "key"}
    assert ns["K"].k == 4.0 and ns["h"]() == 6.0 and ns["p"].args == (2.0,)


def test_shared_containers_stay_shared(ip):
    ip.run_cell("outer = [[]]\ninner = outer[0]\nhist = {'runs': []}\nruns = hist['runs']")
    res, _ = run(ip, "%%grad x=1.5\ninner.append(x * 2)\nruns.append(x * 3)\nz = x * x")
    assert res.success
    ns = ip.user_ns
    assert ns["outer"][0] is ns["inner"] and ns["hist"]["runs"] is ns["runs"]
    assert ns["inner"] == [3.0] and ns["runs"] == [4.5]
    assert_clean(ns)


def test_cycles_and_deep_nesting_in_the_namespace_are_fine(ip):
    ip.run_cell("cyc = {}\ncyc['me'] = cyc\ndeep = []\nfor _ in range(5000):\n    deep = [deep]")
    res, _ = run(ip, "%%grad x=1.5\ncyc['x'] = x * 2\nd = deep\nz = x * x")
    assert res.success, res.error_in_exec
    assert ip.user_ns["cyc"]["me"] is ip.user_ns["cyc"] and ip.user_ns["cyc"]["x"] == 3.0
    assert type(ip.user_ns["z"]) is float


def test_names_stay_clean_when_the_cell_fails(ip):
    ip.run_cell("class Box_:\n    pass\nL = []")
    cell = "%%grad x=2.0\nkept = [x * 2]\nL.append(Box_())\nL[0].v = x * 4\n"
    cell += "raise ValueError('late')\nz = x"
    res, _ = run(ip, cell)
    assert isinstance(res.error_in_exec, ValueError)
    assert ip.user_ns["kept"] == [4.0] and "x" not in ip.user_ns and ip.user_ns["L"][0].v == 8.0
    assert_clean(ip.user_ns)


# -- the options ------------------------------------------------------------------------


def test_graph_draws_the_graph_with_adjoints(ip):
    res, out = run(ip, TALK.replace("y=-0.5", "y=-0.5 --graph"))
    assert res.success
    answer, graph = out.outputs  # the answer first, then the picture
    assert "adlab-gradresult" in answer.data["text/html"]
    # small pictures display as SVG, wide ones as HTML that scrolls
    svg = graph.data.get("image/svg+xml") or graph.data["text/html"]
    assert "<svg" in svg and 'data-name="t"' in svg and "adlab-adjoint" in svg


def test_tape_shows_the_wengert_list(ip):
    _, out = run(ip, TALK.replace("y=-0.5", "y=-0.5 --tape"))
    answer, html = [o.data["text/html"] for o in out.outputs]
    assert "adlab-gradresult" in answer
    assert "Wengert list" in html and "x ** 2" in html


def test_step_shows_the_stepper(ip, monkeypatch):
    shown = []
    monkeypatch.setattr("adlab.notebook.magics.display", shown.append)
    res, _ = run(ip, TALK.replace("y=-0.5", "y=-0.5 --step"))
    assert res.success
    answer, stepper = shown
    assert answer is res.grad
    assert isinstance(stepper, Stepper) and stepper.mode == "reverse"
    assert stepper.trace is res.grad.trace


def test_check_compares_with_central_differences(ip):
    res, out = run(ip, TALK.replace("y=-0.5", "y=-0.5 --check"))
    assert res.grad.check < 1e-8
    # said once, in the table's note (issue 16: --check printed it a second time)
    (answer,) = out.outputs
    assert answer.data["text/html"].count("largest difference from central differences") == 1
    assert out.stdout == ""
    r = run(ip, "%%grad 'w=np.array([0.5, -1.0])' --check\nad.sum(ad.sin(w) * w)")[0].grad
    assert r.check < 1e-8


def test_options_combine(ip, monkeypatch):
    shown = []
    monkeypatch.setattr("adlab.notebook.magics.display", shown.append)
    res, out = run(ip, "%%grad x=1.0 --graph --tape --step --check --mode reverse\nad.exp(x)")
    assert res.success and len(shown) == 4 and shown[0] is res.grad and out.stdout == ""
    assert "largest difference" in res.grad._repr_html_()
    assert res.grad.grads["x"] == pytest.approx(math.e)


def test_an_engine_that_reads_source_gets_the_cell_as_a_function(ip, monkeypatch):
    import inspect

    from adlab import api

    seen = {}
    real = api.value_and_grad

    def fake_value_and_grad(fn, argnums, mode):  # an engine that reads the source
        seen["source"] = inspect.getsource(fn)
        return real(fn, argnums, mode="reverse")

    monkeypatch.setattr("adlab.notebook.magics.api.value_and_grad", fake_value_and_grad)
    ip.run_cell("count = 0")
    cell = "%%grad x=2.0 y=3.0 --mode sct\nprint('hello')\ncount = count + 1\nu = x * y\nu + x"
    res, out = run(ip, cell)
    assert res.success and res.grad.grads == {"x": 4.0, "y": 2.0}
    assert res.grad.mode == "sct" and res.grad.trace is not None
    # count is read before the cell assigns it: the function is given its old value
    assert seen["source"].startswith("def grad_cell(x, y, count):")
    assert "return u + x" in seen["source"]
    assert out.stdout.count("hello") == 1  # the cell prints once
    assert ip.user_ns["u"] == 6.0 and ip.user_ns["count"] == 1


def test_an_engine_that_is_not_built_yet_says_so(ip, monkeypatch):
    from adlab import api

    monkeypatch.setattr(api, "_ENGINES", {"reverse": api._ENGINES["reverse"]})
    res, out = run(ip, "%%grad x=2.0 --mode numeric\nz = x * x")
    assert isinstance(res.error_in_exec, UsageError)
    message = str(res.error_in_exec)
    assert "--mode numeric" in message and "--mode reverse" in message
    assert "Traceback" not in out.stdout
    assert "z" not in ip.user_ns  # nothing ran


def test_source_transformation_reads_the_cell(ip):
    res, _ = run(ip, "%%grad x=2.0 y=3.0 --mode sct --check\nu = x * y\nz = u + ad.sin(x) * y")
    assert res.success, res.error_in_exec
    assert res.grad.grads == pytest.approx(
        {"x": 3.0 + 3.0 * math.cos(2.0), "y": 2.0 + math.sin(2.0)}
    )
    assert res.grad.check < 1e-8 and ip.user_ns["u"] == 6.0


def test_other_modes_run_the_cells_side_effects_once(ip):
    ip.run_cell("log = []")
    res, out = run(
        ip, "%%grad x=2.0 y=3.0 --mode sct\nlog.append(x)\nprint('hello')\nu = x * y\nz = u + x"
    )
    assert res.success, res.error_in_exec
    assert res.grad.grads == {"x": 4.0, "y": 2.0} and res.grad.value == 8.0
    assert ip.user_ns["log"] == [2.0] and out.stdout.count("hello") == 1
    assert ip.user_ns["u"] == 6.0 and ip.user_ns["z"] == 8.0 and "x" not in ip.user_ns
    # the pictures' reverse-mode trace was taken as well, out of sight
    assert [n.name for n in res.grad.trace.nodes] == ["x", "y", "u", "z"]
    assert_clean(ip.user_ns)


def test_check_runs_the_cell_out_of_sight(ip):
    ip.run_cell("log = []")
    res, out = run(ip, "%%grad x=2.0 --check\nlog.append(1)\nprint('once')\nz = x * x")
    assert res.grad.check < 1e-6
    assert ip.user_ns["log"] == [1] and out.stdout.count("once") == 1


def test_another_engine_needs_no_reverse_trace(ip, monkeypatch):
    shown = []
    monkeypatch.setattr("adlab.notebook.magics.display", shown.append)
    ip.run_cell("import math")
    res, out = run(ip, "%%grad x=2.0 --mode sct --graph --step\nz = math.sin(x) * x")
    assert res.success, res.error_in_exec
    assert res.grad.grads["x"] == pytest.approx(math.cos(2.0) * 2.0 + math.sin(2.0))
    assert ip.user_ns["z"] == pytest.approx(math.sin(2.0) * 2.0)
    assert res.grad.trace is None and shown == [res.grad]  # the answer, and no picture
    (note,) = [line for line in out.stdout.splitlines() if "--graph" in line]
    assert "--step" in note and "reverse" in note and "line 2" in note
    assert "x̅" not in repr(res.grad)  # the table still shows


@pytest.mark.parametrize(
    "cell, words",
    [
        ("z = undefined_name * x", "the name 'undefined_name' at line 3"),
        ("try:\n    z = x * 2\nexcept ValueError:\n    z = x\nz", "try/except at line 3"),
    ],
)
def test_a_cell_another_engine_cannot_transform_is_one_clean_error(ip, cell, words):
    ip.run_cell("log = []")
    res, out = run(ip, f"%%grad x=2.0 --mode sct\nlog.append(1)\n{cell}")
    assert isinstance(res.error_in_exec, ad.DifferentiationError)
    assert words in out.stdout
    for internal in ("Traceback", "magics.py", "api.py", "protocol.py", "pipeline.py", "fence.py"):
        assert internal not in out.stdout
    assert ip.user_ns["log"] == [] and "z" not in ip.user_ns  # nothing ran


def test_an_exception_under_another_engine_shows_the_users_line(ip):
    helper = "def helper(v):\n    if v > 0:\n        raise ValueError('boom')\n    return v"
    ip.run_cell(f"log = []\n{helper}")
    res, out = run(ip, "%%grad x=2.0 --mode sct\nlog.append(1)\ny = x * 3\nz = helper(y)")
    assert isinstance(res.error_in_exec, ValueError)
    assert "----> 4 z = helper(y)" in out.stdout and "raise ValueError('boom')" in out.stdout
    for internal in ("magics.py", "api.py", "protocol.py", "pipeline.py"):
        assert internal not in out.stdout
    assert ip.user_ns["log"] == [] and "y" not in ip.user_ns


def test_help_documents_every_option_with_an_example():
    doc = GradMagics.grad.__doc__
    examples = [line.split()[1:] for line in doc.splitlines() if line.startswith("  %%grad ")]
    for option in ("--of", "--mode", "--graph", "--tape", "--step", "--check"):
        assert option in doc
        assert any(option in words for words in examples), option
    assert any(w[0] == "x" for w in examples) and any(w[0].startswith("x=") for w in examples)
    assert "%%grad w=np.array([1.0, 2.0])" in doc  # a value with spaces
    # --mode names every engine, and says which ones this version has
    assert "available now: " + ", ".join(ad.api.available_modes()) in " ".join(doc.split())


def test_available_modes_are_the_registered_engines_in_lecture_order(monkeypatch):
    from adlab import api

    assert set(api.available_modes()) == set(api._ENGINES) and "reverse" in api.available_modes()
    monkeypatch.setattr(api, "_ENGINES", {"sct": None, "reverse": None})
    assert api.available_modes() == ("reverse", "sct")


def test_argument_values_are_not_expanded_by_ipython(ip):
    r = run(ip, "%%grad \"p={'a': 1.0, 'b': 2.0}\"\np['a'] * p['b']")[0].grad
    assert r.grads["p"] == {"a": 2.0, "b": 1.0}


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, words",
    [
        ("%%grad x=1.0 --bogus", "unrecognized arguments: --bogus"),
        ("%%grad", "the following arguments are required"),
        ("%%grad x=1.0 --mode magic", "invalid choice"),
        ("%%grad 1x=2.0", "is not an input"),
        ("%%grad x=1.0 x=2.0", "given twice"),
        ("%%grad x=undefined_thing", "could not evaluate x=undefined_thing: NameError"),
        ("%%grad x='text'", "the input x is a str"),
    ],
)
def test_bad_arguments_raise_usage_errors_with_the_usage(ip, line, words):
    res, _ = run(ip, f"{line}\nz = 1.0")
    err = res.error_in_exec
    assert isinstance(err, UsageError) and words in str(err)
    if "argument" in words or "choice" in words:
        assert "usage: %%grad" in str(err)


def test_a_missing_input_name(ip):
    err = run(ip, "%%grad nowhere\nz = nowhere * 2")[0].error_in_exec
    assert isinstance(err, UsageError)
    assert "'nowhere' is not defined" in str(err) and "%%grad nowhere=1.0" in str(err)
    assert "usage: %%grad" in str(err)  # adlab's own usage errors end with the usage line


@pytest.mark.parametrize(
    "line, name, value",
    [
        ("x=np.array([1.0, 2.0])", "x", [1.0, 2.0]),
        ("y=1.0 x=np.array([1.0, -2.0]) --graph", "x", [1.0, -2.0]),
        ('"x=np.array([3.0,  4.0])"', "x", [3.0, 4.0]),
    ],
)
def test_a_value_may_have_spaces(ip, line, name, value, monkeypatch):
    monkeypatch.setattr("adlab.notebook.magics.display", lambda *a, **k: None)
    res, _ = run(ip, f"%%grad {line}\nz = ad.sum(x * x)")
    assert res.success, res.error_in_exec
    np.testing.assert_array_equal(res.grad.inputs[name], value)
    np.testing.assert_array_equal(res.grad.grads[name], 2 * np.array(value))


def test_a_bracket_that_never_closes_is_a_usage_error(ip):
    err = run(ip, "%%grad x=np.array([1.0, 2.0]\nz = 1.0")[0].error_in_exec
    assert isinstance(err, UsageError) and "could not evaluate x=np.array([1.0, 2.0]" in str(err)


def test_a_cell_without_an_output(ip):
    err = run(ip, "%%grad x=1.0\nfor i in range(2):\n    pass")[0].error_in_exec
    assert isinstance(err, UsageError) and "--of NAME" in str(err)
    err = run(ip, "%%grad x=1.0 --of nothing\nz = x")[0].error_in_exec
    assert "did not assign nothing" in str(err)
    err = run(ip, "%%grad x=1.0\nz = x * 2\nprint(z)")[0].error_in_exec
    assert "print(...)" in str(err) and "--of NAME" in str(err)


@pytest.mark.parametrize(
    "cell, words",
    [
        ("z = x * np.ones(3)", ["shape (3,)", "ad.sum(z)", "ad.jacobian"]),
        ("z = (x, x * 2)", ["tuple of 2 values", "ad.jacobian"]),
        ("z = 'text'", ["not a number"]),
    ],
)
def test_non_scalar_outputs_are_refused_with_the_fix(ip, cell, words):
    err = run(ip, f"%%grad x=1.0\n{cell}")[0].error_in_exec
    assert isinstance(err, UsageError)
    for w in words:
        assert w in str(err)
    assert_clean(ip.user_ns)


def test_an_output_that_does_not_depend_on_the_inputs(ip):
    res, out = run(ip, "%%grad x=1.0 y=2.0\nz = 3.0 * 2")
    assert res.success and res.grad.grads == {"x": 0.0, "y": 0.0}
    assert "z does not depend on x, y: its gradient is 0" in out.stdout


def test_an_exception_in_the_cell_shows_the_users_own_line(ip):
    res, out = run(ip, "%%grad x=2.0\ny = x * 3\nraise ZeroDivisionError('boom')\nz = y")
    assert isinstance(res.error_in_exec, ZeroDivisionError)
    assert "----> 3 raise ZeroDivisionError('boom')" in out.stdout
    assert "reverse.py" not in out.stdout and "def grad(" not in out.stdout


def test_a_differentiation_error_points_at_the_line_and_the_fix(ip):
    ip.run_cell("import math")
    res, out = run(ip, "%%grad x=2.0\ny = x * 3\nz = math.sin(y)")
    assert isinstance(res.error_in_exec, ad.DifferentiationError)
    assert "----> 3 z = math.sin(y)" in out.stdout and "ad.sin" in out.stdout
    assert "operators.py" not in out.stdout  # the user's line is the last frame shown


def test_a_syntax_error_names_the_cells_line(ip):
    res, _ = run(ip, "%%grad x=2.0\ny = x * (3\n")
    assert isinstance(res.error_in_exec, SyntaxError)
    assert res.error_in_exec.lineno == 2  # line 1 is %%grad
    shown = "\n".join(res.error_in_exec._render_traceback_())  # what IPython prints
    assert "y = x * (3" in shown and "SyntaxError" in shown and "magics.py" not in shown


def test_nothing_is_registered_at_import_time():
    import subprocess
    import sys

    code = (
        "import adlab, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "print('grad' in ip.magics_manager.magics['cell'])\n"
        "adlab.load_ipython_extension(ip)\n"
        "print('grad' in ip.magics_manager.magics['cell'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("mode", [m for m in ad.api.available_modes() if m != "reverse"])
def test_every_engine_differentiates_a_cell(ip, mode):
    res, _ = run(ip, f"%%grad x=2.0 y=3.0 --mode {mode}\nu = x * y\nz = u + ad.sin(x)")
    assert res.success, res.error_in_exec
    assert res.grad.mode == mode and res.grad.trace is not None
    tol = 1e-6 if mode == "numeric" else 1e-15
    assert res.grad.grads["x"] == pytest.approx(3.0 + math.cos(2.0), abs=tol)
    assert res.grad.grads["y"] == pytest.approx(2.0, abs=tol)
    assert ip.user_ns["z"] == 6.0 + math.sin(2.0)
