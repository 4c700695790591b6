"""The ``%%grad`` cell magic: differentiate the code of a cell with respect to named inputs.

A thin shell over the library: parse the arguments, record the cell with the
reverse engine (``adlab.engines.reverse.record``) in the user's namespace, hand
every value back as a plain number, and show a :class:`GradResult` (the answer,
as a table) before any picture. ``%load_ext adlab`` registers it.

The cell runs exactly once in the notebook. With ``--mode MODE`` another engine
differentiates it out of sight, and that run, the pictures' reverse-mode trace and
``--check``'s differences are *hidden runs*: each starts from the notebook as it was
before the cell, with prints swallowed, the same random numbers as the cell's own run,
and private copies of the values the cell may change (``effects.changes`` reads them
from the code: ``log.append(v)`` changes ``log``, ``ad.sum(big * x)`` only reads
``big``, which is shared at no cost). The notebook's functions and methods read that
namespace as their globals, so their side effects count once too.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import keyword
import linecache
import random
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from IPython.utils.capture import capture_output

from adlab import api
from adlab.core.errors import ADLAB_DIR, DifferentiationError
from adlab.core.tangents import shape_of
from adlab.core.tree import flatten, unflatten
from adlab.core.values import as_primal
from adlab.engines import numeric, reverse
from adlab.notebook.effects import changes
from adlab.notebook.result import GradResult
from adlab.notebook.scrub import scrub
from adlab.notebook.widgets import Stepper
from adlab.viz.svg import draw

__all__ = ["GradMagics", "GradResult", "load_ipython_extension"]

FUNCTION = "grad_cell"
"""The name of the cell's function form (never shown: an engine's errors say "the cell")."""


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%grad`` (called by ``%load_ext adlab``)."""
    ipython.register_magics(GradMagics)


_DOC = """Differentiate the cell's output with respect to its inputs.

The cell runs once, as ordinary Python in the notebook, with the inputs
replaced by traced values; names it assigns stay assigned afterwards, as
plain numbers. The output is --of NAME, else the cell's last expression, else
the name its last statement assigns. The result (value, gradient, trace) is
shown first, as a table, and stored as ``_grad``; pictures follow::

  %%grad x=0.5 y=-0.5
  t = x**2
  z = t * y + 1 / (x**2 + y**2 + 1)

Examples, one for each option (the cell as above)::

  %%grad x=0.5 y=-0.5              inputs with values (evaluated in the notebook)
  %%grad x y                       inputs by name: the notebook's x and y
  %%grad w=np.array([1.0, 2.0])    an array input
  %%grad x=0.5 y=-0.5 --of t       differentiate t instead of the output z
  %%grad x=0.5 y=-0.5 --mode sct   the gradient by another engine
  %%grad x=0.5 y=-0.5 --graph      and draw the graph, with every adjoint
  %%grad x=0.5 y=-0.5 --tape       and show the Wengert list
  %%grad x=0.5 y=-0.5 --step       and step through the sweeps (the Stepper)
  %%grad x=0.5 y=-0.5 --check      and compare with central differences

Inputs are a variable of the notebook (x) or a name with a value (x=0.5,
evaluated in the notebook); a value may have spaces inside its brackets
(w=np.array([1.0, 2.0])), and a value in quotes may have any.

--mode MODE: the engine differentiates the cell as a function of its inputs,
out of sight; the cell itself still runs exactly once in the notebook, with
plain numbers, for its prints and the names it assigns. Code the reverse
engine cannot trace (math.sin(x), say) works when MODE can differentiate it;
--graph, --tape and --step draw the reverse engine's trace, so they need a
cell it can trace too, and print a note otherwise. --check and the engine run
the cell again, quietly, each time from the notebook as it was before the
cell, with the same random numbers and private copies of what the cell (or a
function of the notebook it calls) may change: its side effects happen once.
"""


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
        help="the engine that computes the gradient (default: reverse; available now: "
        f"{', '.join(api.available_modes())}). The pictures of --graph/--tape/--step always "
        "come from the reverse engine's trace.",
    )
    @argument("--graph", action="store_true", help="draw the computation graph with adjoints")
    @argument("--tape", action="store_true", help="show the Wengert list")
    @argument("--step", action="store_true", help="show the Stepper to step through the sweeps")
    @argument(
        "--check",
        action="store_true",
        help="compare the gradient with central differences and show the largest difference",
    )
    @cell_magic
    def grad(self, line: str, cell: str) -> None:
        """Differentiate the cell's output with respect to its inputs (see ``_DOC``)."""
        __tracebackhide__ = True
        args = _parse(line)
        ns = self.shell.user_ns
        names, values = _inputs(args.inputs, self.shell)
        source = self.shell.transform_cell(cell)
        number = self.shell.execution_count
        filename = self.shell.compile.cache(f"%%grad {line}\n{source}", number)
        program = _Program(source, filename, args.of, names, ns)
        pictures = [f"--{o}" for o in ("graph", "tape", "step") if getattr(args, o)]
        # taken before the cell's own run: every hidden run starts from the notebook as it was
        hidden = _Hidden(program, ns) if args.mode != "reverse" or args.check else None
        notes = []  # said after the answer

        if args.mode == "reverse":  # the cell's one run is the recorded one
            trace = _run_cell(program, ns, values, traced=True)
            value, grads = trace.output, trace.backward()
        else:
            value, grads = _other_mode(program, hidden, values, args.mode, number)
            trace, why = _hidden_trace(program, hidden, values)
            _run_cell(program, ns, values, traced=False)
            if trace is None and pictures:
                need = "needs" if len(pictures) == 1 else "need"
                notes.append(
                    f"note: {'/'.join(pictures)} {need} the reverse engine's trace of the cell, "
                    f"and it cannot trace this one ({why}); the gradient comes from --mode "
                    f"{args.mode}"
                )

        node = trace.output_node if trace is not None else None
        output = program.output_name or (node.name if node is not None else "out")
        if trace is not None and node is None:
            notes.append(
                f"note: {output} does not depend on {', '.join(names)}: "
                f"its gradient is 0 (the cell computes it from constants only)."
            )
        check = _check(program, hidden, values, grads) if args.check else None
        result = GradResult(
            value, dict(zip(names, grads)), trace, output, dict(zip(names, values)),
            args.mode, check,
        )  # fmt: skip
        # Shown, not returned: the answer comes before the pictures, and IPython's Out keeps
        # no result (a re-run cell would keep every trace alive); _grad holds the newest.
        ns["_grad"] = result
        display(result)
        for note in notes:
            print(note)
        if trace is not None:
            if args.graph:
                display(draw(result))
            if args.tape:
                display(trace.tape)
            if args.step:
                self._show_stepper(trace)

    def _show_stepper(self, trace: Any) -> None:
        try:
            stepper = Stepper(trace, mode="reverse")
        except ValueError as e:
            print(f"--step: {e}")
            return
        display(stepper)


def _fix_help() -> None:
    """argparse calls the program "grad"; the user types ``%%grad``. The help is the usage,
    the description with its examples, then every option."""
    parser = GradMagics.grad.parser
    parser.prog = "%grad"  # IPython's help formatter adds one "%" itself
    parser.description = _DOC
    GradMagics.grad.__doc__ = parser.format_help()


_fix_help()


def _parse(line: str) -> Any:
    try:
        return GradMagics.grad.parser.parse_args(_words(line))
    except UsageError as e:
        raise _usage(str(e)) from None


def _usage(message: str) -> UsageError:
    """A UsageError: the message, then the usage line (``%%grad?`` explains the rest)."""
    usage = " ".join(GradMagics.grad.parser.format_usage().replace("::", "").split())
    return UsageError(f"%%grad: {message}\nusage: {usage}  (%%grad? explains every option)")


def _words(line: str) -> list[str]:
    """The words of the %%grad line: split at spaces outside brackets and quotes, so a value
    may have spaces (``w=np.array([1.0, 2.0])``); a word wholly in quotes loses them.

    >>> _words("x=0.5 w=np.array([1.0, 2.0]) 'p={1: 2}' --of z")
    ['x=0.5', 'w=np.array([1.0, 2.0])', 'p={1: 2}', '--of', 'z']
    """
    words, start, depth, quote = [], 0, 0, ""
    for i, c in enumerate(line + " "):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c.isspace() and depth <= 0:
            words.append(line[start:i])
            start, depth = i + 1, 0
        else:
            depth += (c in "([{") - (c in ")]}")
    if start < len(line):  # a bracket or quote that never closes: the rest of the line
        words.append(line[start:])
    words = [w for w in words if w]
    return [w[1:-1] if len(w) > 1 and w[0] == w[-1] and w[0] in "'\"" else w for w in words]


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
    ``changed`` are the names of the notebook ``ns`` whose values the cell may change in
    place, ``assigned`` those it binds; between them, every name it may leave a traced
    value in.
    """

    def __init__(
        self, source: str, filename: str, of: str | None, inputs: list[str], ns: dict
    ) -> None:
        self.inputs = inputs
        self.filename = filename
        self.lines = ["", *source.splitlines()]  # line k is lines[k - 1]; 1 is %%grad
        try:  # a blank first line stands for the %%grad line: line numbers match the cell
            tree = ast.parse("\n" + source, filename)
        except SyntaxError as e:  # shown as Python shows it, without adlab's frames
            lines = traceback.format_exception_only(type(e), e)
            e._render_traceback_ = lambda: [line.rstrip("\n") for line in lines]  # type: ignore[attr-defined]
            raise e.with_traceback(None) from None
        self.tree = tree
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
        defined = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        assigned = dict.fromkeys(name for *_, name in stores)
        assigned.update(dict.fromkeys(n.name for n in ast.walk(tree) if isinstance(n, defined)))
        if self.output_name:
            assigned.setdefault(self.output_name, None)
        # an input re-bound in the cell keeps its own name; the new value gets a fresh one
        self.assigned = [n for n in assigned if n not in inputs]
        self.changed = sorted(changes(tree, ns) - set(inputs))
        loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in ns}
        # names the cell reads and assigns, whose old values its function form must be given
        self.carried = [n for n in self.assigned if n in loaded]
        self.magics = any(  # %time ... became get_ipython().run_line_magic("time", "...")
            isinstance(n, ast.Attribute) and n.attr in ("run_line_magic", "run_cell_magic")
            for n in ast.walk(tree)
        )

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
        """The cell as a Python function, for an engine that reads source code (sct):
        ``def grad_cell(x, y, count): ...`` of its inputs and of the names it reads and
        assigns (``count = count + 1``: given their values before the cell), whose globals
        are ``ns``. Its source, registered with ``linecache`` for ``inspect`` and
        tracebacks, keeps the cell's line numbers (the ``def`` stands on the %%grad line)."""
        text = self.function_source()
        filename = f"<%%grad cell {number}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        scope: dict[str, Any] = {}
        exec(compile(text, filename, "exec", dont_inherit=True), ns, scope)
        return scope[FUNCTION]

    def function_source(self) -> str:
        """The cell's lines indented under ``def grad_cell(...)`` (lines inside a string
        literal stay as they are), with ``return`` before the output."""
        inside_strings = {
            k
            for n in ast.walk(self.tree)
            if isinstance(n, ast.JoinedStr)
            or (isinstance(n, ast.Constant) and isinstance(n.value, str | bytes))
            for k in range(n.lineno + 1, (n.end_lineno or n.lineno) + 1)
        }
        lines = [
            line if k in inside_strings or not line.strip() else "    " + line
            for k, line in enumerate(self.lines, start=1)
        ]
        lines[0] = f"def {FUNCTION}({', '.join([*self.inputs, *self.carried])}):"
        if self.from_name:
            lines.append(f"    return {self.output_name}")
        else:  # `return` where the last expression starts (col_offset counts UTF-8 bytes)
            k, col = self.last.lineno, self.last.col_offset
            line = self.lines[k - 1].encode()
            lines[k - 1] = "    " + (line[:col] + b"return " + line[col:]).decode()
        return "\n".join(lines) + "\n"


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
        fix = (
            " (a cell that ends with print(...) has no value): end it with the output's name, "
            "or name it with --of NAME"
            if value is None
            else ""
        )
        raise _usage(f"{name} is {value!r}, not a number; %%grad differentiates a number{fix}")
    shape = shape_of(value)
    if shape != ():
        raise _usage(
            f"{name} has shape {shape}; %%grad needs a scalar: reduce it (ad.sum({name}) or "
            f"ad.mean({name})), or use ad.jacobian for the whole Jacobian"
        )


def _from_cell(e: BaseException, filename: str) -> BaseException:
    """``e`` with its traceback starting at the user's cell, not in adlab's machinery; a
    DifferentiationError (adlab refusing the user's line, with the fix in its message)
    also ends at the user's last line, without the frames of adlab that raised it."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    if tb is None:
        return e
    if isinstance(e, DifferentiationError):
        last, t = tb, tb
        while t is not None:
            if not t.tb_frame.f_code.co_filename.startswith(ADLAB_DIR):
                last = t
            t = t.tb_next
        last.tb_next = None
    return e.with_traceback(tb)


def _from_engine(e: BaseException) -> BaseException:
    """An engine's exception as the user should see it: from the first line of the user's
    code (the cell, its function form, the code sct generated from it, a function of the
    notebook) on, without adlab's machinery; a DifferentiationError raised before any of
    that code ran names the line in its message, so it shows as that message alone, in
    the words of a cell (sct speaks of functions and modules)."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(ADLAB_DIR):
        tb = tb.tb_next
    if tb is not None:
        return _from_cell(e, tb.tb_frame.f_code.co_filename)
    if isinstance(e, DifferentiationError):
        message = _in_a_cells_words(f"{type(e).__name__}: {e}")
        e._render_traceback_ = lambda: [message]  # type: ignore[attr-defined]  # IPython's hook
        return e.with_traceback(None)
    return e  # adlab's own failure: keep every frame


_CELL_WORDS = [
    (re.compile(r"; file <%%grad cell \d+>"), ""),
    (re.compile(rf"\b{FUNCTION}\b"), "the cell"),
    (re.compile(r"\bat module level\b"), "in an earlier cell"),
    (re.compile(r"\ba module-level function\b"), "a function of the notebook"),
]


def _in_a_cells_words(message: str) -> str:
    """An engine's message about the cell's function form, told about the cell.

    >>> _in_a_cells_words("an import at line 2 (import os) of grad_cell: import at module "
    ...                   "level [sct; file <%%grad cell 7>]")
    'an import at line 2 (import os) of the cell: import in an earlier cell [sct]'
    """
    for pattern, words in _CELL_WORDS:
        message = pattern.sub(words, message)
    return message


def _run_cell(program: _Program, ns: dict, values: list[Any], *, traced: bool) -> Any:
    """The cell's one run in the notebook, recorded by the reverse engine (``traced``: the
    Trace) or with plain numbers. Inputs get their old values back; nothing traced stays."""
    __tracebackhide__ = True
    names = program.inputs
    saved = {n: ns[n] for n in names if n in ns}
    try:
        if traced:
            return reverse.record(lambda inputs: program.run(ns, inputs), values, names)
        return program.run(ns, values)
    except UsageError:
        raise
    except Exception as e:
        raise _from_cell(e, program.filename) from e.__cause__
    finally:
        for n in names:
            if n in saved:
                ns[n] = saved[n]
            else:
                ns.pop(n, None)
        scrub(ns, [*program.assigned, *program.changed])


# -- runs the user does not see ------------------------------------------------------------


class _Hidden:
    """Runs of the cell the user does not see, each as if it were the cell's own run: in
    the notebook's namespace as it was before the cell (swapped in for the run, and back
    out after it), with private copies of the values the cell may change, the random
    numbers the cell's own run draws, and prints and warnings swallowed. The notebook's
    functions and methods read that namespace as their globals: what they change, they
    change in the copies."""

    def __init__(self, program: _Program, ns: dict) -> None:
        self.program, self.live = program, ns
        self.before = dict(ns)  # the bindings before the cell
        self.pristine = {}  # copies of the values the cell may change, as they were
        memo: dict[int, Any] = {}  # one memo: values that share parts still share them
        for name in program.changed:
            with contextlib.suppress(Exception):  # what cannot be copied is shared
                self.pristine[name] = copy.deepcopy(ns[name], memo)
        self.randomness = (random.getstate(), np.random.get_state())

    @contextlib.contextmanager
    def run(self) -> Iterator[dict]:
        """One hidden run: the namespace to run the cell in (the notebook's own dict, its
        contents swapped), with the random numbers of the cell's own run, and quiet: no
        prints, displays, warnings or new matplotlib figures get out."""
        live = self.live
        after, randomness = dict(live), (random.getstate(), np.random.get_state())
        pyplot = sys.modules.get("matplotlib.pyplot")  # figures, if the notebook draws any
        figures = set(pyplot.get_fignums()) if pyplot is not None else set()
        live.clear()
        live.update(self.before)
        live.update(copy.deepcopy(self.pristine))
        random.setstate(self.randomness[0])
        np.random.set_state(self.randomness[1])
        try:
            with capture_output(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield live
        finally:
            live.clear()
            live.update(after)
            random.setstate(randomness[0])
            np.random.set_state(randomness[1])
            if pyplot is not None:
                for number in set(pyplot.get_fignums()) - figures:
                    pyplot.close(number)

    def cell(self) -> Callable:
        """The cell as a function of its inputs, each call a hidden run."""
        program = self.program

        def hidden_cell(*inputs: Any) -> Any:
            with self.run() as ns:
                return program.run(ns, list(inputs))[0]

        return hidden_cell


def _other_mode(program: _Program, hidden: _Hidden, values: list[Any], mode: str,
                number: int) -> tuple[Any, tuple]:  # fmt: skip
    """Value and gradient by another engine, in hidden runs: an engine that reads source code
    gets the cell's function form, the others the cell itself. Nothing of the cell runs in
    the notebook if the engine fails."""
    __tracebackhide__ = True
    argnums = tuple(range(len(values)))
    try:
        if mode != "sct":
            return api.value_and_grad(hidden.cell(), argnums=argnums, mode=mode)(*values)
        if program.magics:
            raise _usage(
                "--mode sct transforms the cell's code and cannot read the code inside a line "
                "magic (%time ...): move the magic to a cell of its own, or use another --mode"
            )
        with hidden.run() as ns:
            fn, extra = program.function(ns, number), [ns[n] for n in program.carried]
            return api.value_and_grad(fn, argnums=argnums, mode=mode)(*values, *extra)
    except NotImplementedError as e:
        raise _usage(f"--mode {mode}: {e}. Use --mode reverse (the default) for now.") from None
    except UsageError:
        raise
    except Exception as e:
        if not isinstance(e, DifferentiationError):  # the cell's own error? Show its line
            _reproduce(program, hidden, values)
        raise _from_engine(e) from None


def _reproduce(program: _Program, hidden: _Hidden, values: list[Any]) -> None:
    """Run the cell with plain numbers, hidden: an exception there is the cell's own,
    raised from its own line."""
    __tracebackhide__ = True
    try:
        with hidden.run() as ns:
            program.run(ns, values)
    except UsageError:
        return  # the engine's exception says more
    except Exception as e:
        raise _from_cell(e, program.filename) from e.__cause__


def _hidden_trace(program: _Program, hidden: _Hidden, values: list[Any]) -> tuple[Any, str]:
    """The reverse engine's trace of the cell for the pictures, from a hidden run, or
    ``(None, why)`` when the reverse engine cannot run the cell."""
    try:
        with hidden.run() as ns:
            trace = reverse.record(lambda inputs: program.run(ns, inputs), values, program.inputs)
    except Exception as e:
        tb, line = e.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == program.filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        where = f" at line {line}" if line else ""
        return None, f"{type(e).__name__}{where}"
    return trace, ""


def _check(program: _Program, hidden: _Hidden, values: list[Any], grads: tuple) -> float:
    """The largest difference between the gradient and central differences (hidden runs)."""
    fn = hidden.cell()
    leaves, tree = flatten(list(values))
    grad_leaves, _ = flatten(list(grads))
    worst = 0.0
    for k, x in enumerate(leaves):

        def f_of_leaf(v: Any, k: int = k) -> Any:
            args = list(leaves)
            args[k] = v
            return fn(*unflatten(tree, args))

        numbers = numeric.jacobian(f_of_leaf, x)
        diff = np.max(np.abs(np.asarray(numbers, dtype=float) - np.asarray(grad_leaves[k])))
        worst = max(worst, float(diff))
    return worst
