"""Pass 1, parse: find a function's source and read it into an AST.

The source comes from :mod:`linecache`, which knows files, notebook cells
(IPython registers every cell there) and code that registered itself (adlab's
generated code does). The whole file or cell is parsed once and the function is
found in it by line and name (or, for a lambda, by the columns its code was
compiled from; Python 3.10 has none, and its parameters and names tell it apart),
so a lambda in the middle of a line works too.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import linecache
import re
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adlab.core.errors import DifferentiationError
from adlab.engines.sct.ir import Code

_MISSING = object()


@dataclass(frozen=True, eq=False)
class Source:
    """A function ready for transformation: its AST and where its names come from."""

    function: types.FunctionType
    name: str  # a valid identifier ("f" for a lambda)
    tree: ast.FunctionDef  # a lambda becomes `def f(...): return <body>`
    filename: str
    lines: tuple[str, ...]  # the file's (or cell's) lines, for comments in generated code

    def lookup(self, name: str) -> Any:
        """The value a free name of the function has now: closure, then globals, then builtins.

        Returns the module-level sentinel ``MISSING`` when the name is not defined.
        """
        code = self.function.__code__
        if name in code.co_freevars:
            cell = self.function.__closure__[code.co_freevars.index(name)]
            try:
                return cell.cell_contents
            except ValueError:  # a closure variable not assigned yet
                return _MISSING
        if name in self.function.__globals__:
            return self.function.__globals__[name]
        return getattr(builtins, name, _MISSING)

    def line_text(self, lineno: int) -> str:
        return self.lines[lineno - 1].strip() if 0 < lineno <= len(self.lines) else ""

    def __str__(self) -> str:
        code = Code()
        start = self.tree.lineno
        end = getattr(self.tree, "end_lineno", start) or start
        width = len(str(end))
        for n in range(start, end + 1):
            code.add(f"{n:>{width}} | {self.lines[n - 1].rstrip()}" if n <= len(self.lines) else "")
        return str(code)


MISSING = _MISSING


def parse(fn: Callable[..., Any]) -> Source:
    """Pass ``parse``: the :class:`Source` of ``fn``.

    >>> def f(x):
    ...     return 3 * x ** 2
    >>> parse(f).tree.body[0].lineno > 0
    True
    """
    function = _function_of(fn)
    code = function.__code__
    filename = code.co_filename
    lines = tuple(linecache.getlines(filename, function.__globals__))
    if code.co_flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
        fix = "sct differentiates plain functions; define it with def (not async def)"
        raise _not_plain(function, lines, code.co_firstlineno, "async def", fix)
    if not lines:
        raise DifferentiationError(
            f"sct needs the source code of {function.__qualname__}, but none is available for "
            f"{filename!r} (a function typed at the plain Python prompt, or built by exec without "
            "registering its source in linecache). Define it in a file or a notebook cell"
        )
    node = _find(function, lines, filename)
    if code.co_flags & inspect.CO_GENERATOR:
        yields = [n for n in ast.walk(node) if isinstance(n, ast.Yield | ast.YieldFrom)]
        line = min((n.lineno for n in yields), default=code.co_firstlineno)
        raise _not_plain(function, lines, line, "yield (a generator)", "sct differentiates "
                         "functions that return a value; collect the values in a list or an "
                         "array and return it")  # fmt: skip
    name = function.__name__ if function.__name__.isidentifier() else "f"
    return Source(function, name, node, filename, lines)


_NOTEBOOK_CELL = re.compile(r"ipykernel_\d+[/\\]\d+\.py$|^<ipython-input-|^<cell")


def file_text(filename: str) -> str:
    """Where a function's source lives, for messages: a notebook cell's file is a temporary
    path that changes with every kernel, so it is named as what it is.

    >>> file_text("/tmp/ipykernel_4242/1375089.py"), file_text("lib/model.py")
    ('a notebook cell', 'lib/model.py')
    """
    return "a notebook cell" if _NOTEBOOK_CELL.search(filename) else filename


def _not_plain(function: types.FunctionType, lines: tuple[str, ...], line: int,
               construct: str, fix: str) -> DifferentiationError:  # fmt: skip
    """The error for a function that is not a plain one, at ``line`` (as the fence words it)."""
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    shown = f" ({text})" if text else ""
    return DifferentiationError(
        f"{construct} at line {line}{shown} of {function.__name__}: {fix} "
        f"[sct; file {file_text(function.__code__.co_filename)}]"
    )


def _function_of(fn: Any) -> types.FunctionType:
    """The Python function behind ``fn`` (a function, or an adlab wrapper exposing one)."""
    seen = 0
    while not isinstance(fn, types.FunctionType) and seen < 10:
        inner = getattr(fn, "__sct_function__", None)  # sct's own transformed functions
        if inner is None:
            break
        fn, seen = inner, seen + 1
    if isinstance(fn, types.FunctionType):
        return fn
    what = type(fn).__name__
    if isinstance(fn, types.BuiltinFunctionType | types.BuiltinMethodType):
        what = f"the builtin {getattr(fn, '__name__', fn)}"
    raise DifferentiationError(
        f"sct transforms Python functions defined with def or lambda; got {what}, which has no "
        "Python source to transform. Differentiate it with mode='reverse', or wrap the call in "
        "a function of your own"
    )


@functools.lru_cache(maxsize=64)  # the files (and cells) functions were transformed from
def _module(lines: tuple[str, ...], filename: str) -> ast.Module:
    try:
        return ast.parse("".join(lines), filename)
    except SyntaxError:  # a fragment (e.g. an old version of the file): parse the function alone
        return ast.Module(body=[], type_ignores=[])


def _find(function: types.FunctionType, lines: tuple[str, ...], filename: str) -> ast.FunctionDef:
    code = function.__code__
    first = code.co_firstlineno
    tree = _module(lines, filename)
    is_lambda = function.__name__ == "<lambda>"
    candidates: list[ast.AST] = []
    for node in ast.walk(tree):
        if (is_lambda and isinstance(node, ast.Lambda) and node.lineno == first) or (
            not is_lambda
            and isinstance(node, ast.FunctionDef)
            and node.name == function.__name__
            and first in (node.lineno, *(d.lineno for d in node.decorator_list))
        ):
            candidates.append(node)
    if not candidates and not is_lambda:  # the file changed, or a fragment: parse the block alone
        block = textwrap.dedent("".join(inspect.getblock(list(lines[first - 1 :]))))
        try:
            fragment = ast.parse(block)
            ast.increment_lineno(fragment, first - 1)
            candidates = [n for n in fragment.body if isinstance(n, ast.FunctionDef)]
        except SyntaxError:
            candidates = []
    if len(candidates) > 1 and is_lambda:
        positions = _positions(code)
        if positions is None:  # Python 3.10: no columns, but the names may tell them apart
            candidates = [c for c in candidates if _may_be(c, code)]  # type: ignore[arg-type]
        else:
            candidates = [c for c in candidates if _spans_body(c, positions)]  # type: ignore[arg-type]
        if len(candidates) != 1:
            why = " (Python 3.10 records no columns)" if positions is None else ""
            raise DifferentiationError(
                f"two lambdas on line {first} of {filename}, and sct cannot tell which one "
                f"{function.__qualname__} is{why}; give the function a name with def"
            )
    if not candidates:
        raise DifferentiationError(
            f"sct could not find the source of {function.__qualname__} at {filename}:{first}; "
            "if the file changed since the function was defined, run the definition again"
        )
    node = candidates[0]
    if isinstance(node, ast.Lambda):
        ret = ast.Return(value=node.body)
        ast.copy_location(ret, node.body)
        fdef = ast.FunctionDef(name="f", args=node.args, body=[ret], decorator_list=[],
                               returns=None, type_comment=None)  # fmt: skip
        ast.copy_location(fdef, node)
        fdef.end_lineno = node.end_lineno
        if hasattr(ast.FunctionDef, "type_params"):  # Python 3.12+
            fdef.type_params = []
        return fdef
    return node


def _positions(code: types.CodeType) -> set[tuple] | None:
    """The source positions of the instructions of ``code``, or None before Python 3.11
    (which has no ``co_positions``)."""
    co_positions = getattr(code, "co_positions", None)
    return None if co_positions is None else set(co_positions())


def _spans_body(node: ast.Lambda, positions: set[tuple]) -> bool:
    """Whether code with these instruction ``positions`` was compiled from this lambda:
    one of its instructions (the return of the body's value) spans the whole body."""
    body = node.body
    return (body.lineno, body.end_lineno, body.col_offset, body.end_col_offset) in positions


def _may_be(node: ast.Lambda, code: types.CodeType) -> bool:
    """Whether ``code`` may have been compiled from this lambda, without columns: it has the
    lambda's parameters, and every global, attribute and closure name it uses is written in
    the lambda. Never False for the lambda ``code`` came from."""
    args = node.args
    params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    params += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    written = {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node)
               if isinstance(n, ast.Name | ast.Attribute)}  # fmt: skip
    return (
        tuple(params) == code.co_varnames[:count]
        and set(code.co_names) | set(code.co_freevars) <= written
    )
