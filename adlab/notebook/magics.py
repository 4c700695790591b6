"""The ``%%grad`` cell magic: differentiate the code of a cell with respect to named inputs.

A thin shell over the library: parse the arguments, record the cell with the
reverse engine (``adlab.engines.reverse.record``) in the user's namespace, hand
every value back as a plain number, and return a :class:`GradResult` that
shows itself as a table. ``%load_ext adlab`` registers it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import keyword
import linecache
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from adlab import api
from adlab.core.errors import DifferentiationError
from adlab.core.tangents import shape_of
from adlab.core.tree import flatten, unflatten
from adlab.core.values import as_primal
from adlab.engines import numeric, reverse
from adlab.notebook.result import GradResult
from adlab.notebook.widgets import Stepper
from adlab.viz.svg import draw

__all__ = ["GradMagics", "GradResult", "load_ipython_extension"]

# IPython's own bookkeeping in the user namespace: never scrubbed.
_IPYTHON_NAMES = re.compile(r"^(In|_ih|_dh|_i\d*|_ii|_iii|exit|quit|get_ipython)$")


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%grad`` (called by ``%load_ext adlab``)."""
    ipython.register_magics(GradMagics)


@magics_class
class GradMagics(Magics):
    """The ``%%grad`` magic."""

    @no_var_expand
    @magic_arguments()
    @argument(
        "inputs",
        nargs="+",
        metavar="NAME[=EXPR]",
        help="the inputs to differentiate with respect to: a variable of the notebook (x), or "
        "a name with a value (x=0.5, evaluated in the notebook; quote it if it has spaces). "
        "Inputs keep their values after the cell (or stay undefined if they were).",
    )
    @argument(
        "--of",
        metavar="NAME",
        help="the variable to differentiate (default: the cell's last expression, or the name "
        "its last statement assigns)",
    )
    @argument(
        "--mode",
        default="reverse",
        choices=api.MODES,
        help="the engine that computes the gradient (default: reverse). The pictures of "
        "--graph/--tape/--step always come from the reverse-mode trace.",
    )
    @argument("--graph", action="store_true", help="draw the computation graph with adjoints")
    @argument("--tape", action="store_true", help="show the Wengert list")
    @argument("--step", action="store_true", help="show the Stepper to step through the sweeps")
    @argument(
        "--check",
        action="store_true",
        help="compare the gradient with central differences and print the largest error",
    )
    @cell_magic
    def grad(self, line: str, cell: str) -> GradResult:
        """Differentiate the cell's output with respect to its inputs.

        The cell runs as ordinary Python in the notebook, with the inputs replaced
        by traced values; names it assigns stay assigned afterwards, as plain
        numbers. The result (value, gradient, trace) is shown as a table,
        returned as the cell's output and stored as ``_grad``.

        Example::

            %%grad x=0.5 y=-0.5 --graph
            z = x**2 * y + 1 / (x**2 + y**2 + 1)
        """
        __tracebackhide__ = True
        args = _parse(line)
        ns = self.shell.user_ns
        names, values = _inputs(args.inputs, self.shell)
        source = self.shell.transform_cell(cell)
        number = self.shell.execution_count
        filename = self.shell.compile.cache(f"%%grad {line}\n{source}", number)
        program = _Program(source, filename, args.of, names)

        value = grads = None
        if args.mode != "reverse":
            value, grads = _other_mode(program, ns, values, args.mode, number)
        saved = {n: ns[n] for n in names if n in ns}
        try:
            trace = reverse.record(lambda traced: program.run(ns, traced), values, names)
        except UsageError:
            raise
        except Exception as e:
            raise _from_cell(e, filename) from e.__cause__
        finally:
            for n in names:
                if n in saved:
                    ns[n] = saved[n]
                else:
                    ns.pop(n, None)
            _scrub(ns)

        node = trace.output_node
        output = program.output_name or (node.name if node is not None else "out")
        if grads is None:
            value, grads = trace.output, trace.backward()
        if node is None:
            print(
                f"note: {output} does not depend on {', '.join(names)}: "
                f"its gradient is 0 (the cell computes it from constants only)."
            )
        check = _check(program, ns, values, grads, number) if args.check else None
        result = GradResult(
            value, dict(zip(names, grads)), trace, output, dict(zip(names, values)),
            args.mode, check,
        )  # fmt: skip
        if args.graph:
            display(draw(result))
        if args.tape:
            display(trace.tape)
        if args.step:
            self._show_stepper(trace)
        if check is not None:
            print(f"--check: largest difference from central differences: {check:.2e}")
        ns["_grad"] = result
        return result

    def _show_stepper(self, trace: Any) -> None:
        try:
            stepper = Stepper(trace, mode="reverse")
        except ValueError as e:
            print(f"--step: {e}")
            return
        display(stepper)


def _fix_help() -> None:
    """argparse calls the program "grad"; the user types ``%%grad``."""
    parser = GradMagics.grad.parser
    parser.prog = "%grad"  # IPython's help formatter adds one "%" itself
    GradMagics.grad.__doc__ = parser.format_help()


_fix_help()


def _parse(line: str) -> Any:
    parser = GradMagics.grad.parser
    try:
        return parse_argstring(GradMagics.grad, line)
    except UsageError as e:
        usage = " ".join(parser.format_usage().replace("::", "").split())
        raise UsageError(f"%%grad: {e}\nusage: {usage}") from None


def _usage(message: str) -> UsageError:
    return UsageError(f"%%grad: {message}")


def _inputs(specs: list[str], shell: Any) -> tuple[list[str], list[Any]]:
    """The inputs' names and values: ``x`` from the namespace, ``x=EXPR`` evaluated there."""
    names, values = [], []
    for spec in specs:
        if len(spec) > 1 and spec[0] == spec[-1] and spec[0] in "'\"":
            spec = spec[1:-1]  # IPython's argument splitting keeps the quotes
        name, eq, expr = spec.partition("=")
        name = name.strip()
        if not name.isidentifier() or keyword.iskeyword(name):
            raise _usage(
                f"{spec!r} is not an input; write a variable name (x) or name=value (x=0.5)"
            )
        if name in names:
            raise _usage(f"the input {name!r} is given twice")
        if eq:
            try:
                value = eval(expr, shell.user_global_ns, shell.user_ns)
            except Exception as e:
                raise _usage(f"could not evaluate {name}={expr}: {type(e).__name__}: {e}") from None
        elif name in shell.user_ns:
            value = shell.user_ns[name]
        else:
            raise _usage(
                f"the input {name!r} is not defined; give it a value (%%grad {name}=1.0 ...) "
                "or assign it in an earlier cell"
            )
        value = reverse.plain(value)
        try:
            for leaf in flatten(value)[0]:
                as_primal(leaf, f"the input {name}")
        except DifferentiationError as e:
            raise _usage(str(e)) from None
        names.append(name)
        values.append(value)
    return names, values


class _Program:
    """The cell, parsed once: its statements, where its output comes from, the names it assigns.

    The output is ``--of NAME``, else the last expression, else the name the last
    statement assigns (``z = ...``): ``output_name`` names it (``None`` for an
    unnamed expression) and ``from_name`` says whether it is read from the namespace.
    """

    def __init__(self, source: str, filename: str, of: str | None, inputs: list[str]) -> None:
        self.inputs = inputs
        try:  # a blank first line stands for the %%grad line: line numbers match the cell
            tree = ast.parse("\n" + source, filename)
        except SyntaxError as e:
            raise e.with_traceback(None) from None
        self.statements = list(tree.body)
        self.last: ast.expr | None = None
        if self.statements and isinstance(self.statements[-1], ast.Expr):
            self.last = self.statements.pop().value
        if of is not None:
            self.output_name, self.from_name = of, True
        elif self.last is not None:
            self.output_name = self.last.id if isinstance(self.last, ast.Name) else None
            self.from_name = False
        else:
            target = _assigned_name(self.statements[-1]) if self.statements else None
            if target is None:
                raise _usage(
                    "which value should be differentiated? End the cell with an expression "
                    "(z) or an assignment (z = ...), or name it with --of NAME"
                )
            self.output_name, self.from_name = target, True
        self.body = compile(ast.Module(self.statements, []), filename, "exec", dont_inherit=True)
        self.last_code = None
        if self.last is not None:
            self.last_code = compile(ast.Expression(self.last), filename, "eval", dont_inherit=True)
        stores = sorted(
            (n.lineno, n.col_offset, n.id)
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        )
        assigned = dict.fromkeys(name for *_, name in stores)
        if self.output_name:
            assigned.setdefault(self.output_name, None)
        # an input re-bound in the cell keeps its own name; the new value gets a fresh one
        self.assigned = [n for n in assigned if n not in inputs]

    def run(self, ns: dict, traced: list[Any]) -> tuple[Any, dict[str, Any]]:
        """Run the cell in ``ns`` with the inputs bound to ``traced``: ``(output, named)``."""
        for name, value in zip(self.inputs, traced):
            ns[name] = value
        exec(self.body, ns)
        out = eval(self.last_code, ns) if self.last_code is not None else None
        if self.from_name:
            if self.output_name not in ns:
                raise _usage(f"--of {self.output_name}: the cell did not assign {self.output_name}")
            out = ns[self.output_name]
        _check_output(out, self.output_name or "the last expression")
        return out, {n: ns[n] for n in self.assigned if n in ns}

    def function(self, ns: dict, number: int) -> Callable:
        """The cell as a Python function of its inputs, defined in the namespace ``ns``
        (without changing it), its source registered with ``linecache`` for ``inspect``."""
        body = list(self.statements)
        if self.last is not None and self.from_name:
            body.append(ast.Expr(self.last))  # --of NAME: the last expression still runs
        result = ast.Name(self.output_name, ast.Load()) if self.from_name else self.last
        fn = ast.FunctionDef(
            name="grad_cell",
            args=ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in self.inputs],
                               kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=[*body, ast.Return(result)], decorator_list=[], returns=None, type_comment=None,
        )  # fmt: skip
        text = ast.unparse(ast.fix_missing_locations(ast.Module([fn], []))) + "\n"
        filename = f"<%%grad cell {number}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        scope: dict[str, Any] = {}
        exec(compile(text, filename, "exec", dont_inherit=True), ns, scope)
        return scope["grad_cell"]


def _assigned_name(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign):
        target = stmt.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


def _check_output(out: Any, name: str) -> None:
    leaves, _ = flatten(out)
    if len(leaves) != 1:
        raise _usage(
            f"{name} is a {type(out).__name__} of {len(leaves)} values; %%grad differentiates "
            "one number: pick one (--of NAME), or use ad.jacobian for several outputs"
        )
    (leaf,) = leaves
    value = reverse.plain(leaf)
    if value is None or isinstance(value, str | bytes | bool):
        raise _usage(f"{name} is {value!r}, not a number; %%grad differentiates a number")
    shape = shape_of(value)
    if shape != ():
        raise _usage(
            f"{name} has shape {shape}; %%grad needs a scalar: reduce it (ad.sum({name}) or "
            f"ad.mean({name})), or use ad.jacobian for the whole Jacobian"
        )


def _from_cell(e: BaseException, filename: str) -> BaseException:
    """``e`` with its traceback starting at the user's cell, not in adlab's machinery."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return e.with_traceback(tb) if tb is not None else e


def _scrub(ns: dict) -> None:
    """Replace every traced value left in the namespace by its number (in place for
    lists and dicts, so other references to them see plain values too)."""
    for key, value in list(ns.items()):
        if _IPYTHON_NAMES.match(key) or not isinstance(
            value, list | dict | tuple | reverse.Variable
        ):
            continue
        clean = reverse.plain(value)
        if clean is value:
            continue
        if type(value) is list:
            value[:] = clean
        elif type(value) is dict:
            value.clear()
            value.update(clean)
        else:
            ns[key] = clean


def _other_mode(program: _Program, ns: dict, values: list[Any], mode: str,
                number: int) -> tuple[Any, tuple]:  # fmt: skip
    """Value and gradient by another engine, from the cell as a Python function."""
    fn = program.function(ns, number)
    argnums = tuple(range(len(values)))
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the cell prints once, when traced
            return api.value_and_grad(fn, argnums=argnums, mode=mode)(*values)
    except NotImplementedError as e:
        raise _usage(f"--mode {mode}: {e}. Use --mode reverse (the default) for now.") from None
    except UsageError:
        raise
    except Exception as e:
        raise _from_cell(e, fn.__code__.co_filename) from e.__cause__


def _check(program: _Program, ns: dict, values: list[Any], grads: tuple, number: int) -> float:
    """The largest difference between the gradient and central differences."""
    fn = program.function(ns, number)
    leaves, tree = flatten(list(values))
    grad_leaves, _ = flatten(list(grads))
    worst = 0.0
    with contextlib.redirect_stdout(io.StringIO()):  # the cell runs 2n times: keep it quiet
        for k, x in enumerate(leaves):

            def f_of_leaf(v: Any, k: int = k) -> Any:
                args = list(leaves)
                args[k] = v
                return fn(*unflatten(tree, args))

            numbers = numeric.jacobian(f_of_leaf, x)
            diff = np.max(np.abs(np.asarray(numbers, dtype=float) - np.asarray(grad_leaves[k])))
            worst = max(worst, float(diff))
    return worst
