"""Which of the notebook's values a ``%%grad`` cell may change, read from its code.

The magic needs the answer twice. Its hidden runs (another engine's, ``--check``'s) work
on private copies of exactly those values, so the cell's side effects count once and a
5-million-element list the cell only reads costs nothing; and after the cell, only those
values (and the names it assigns) are searched for traced values.

A name may be changed when the code (the cell, or a function of the notebook it calls)

- assigns or deletes into it: ``log[0] = v``, ``box.w = v``, ``del d[k]``, ``w += v``;
- calls a method on it that is not known to only read: ``log.append(v)`` (``d.get(k)``,
  ``a.sum()`` and ``a.reshape(...)`` only read);
- passes it to a function that may change its arguments: a function of the notebook
  that changes that parameter, anything unknown, or a library function known to write
  (``np.copyto``, ``np.add.at``, ``random.shuffle``, ``next``, any ``out=``); numpy, math,
  adlab and the builtins otherwise only read;
- or does one of these to another name bound to it or to a part of it
  (``y = log; y.append(v)``, ``for row in rows: row.append(v)``).

The reading errs on the side of "may change": a value wrongly counted costs a copy, a
value missed would count a side effect twice. Code given as a string to ``exec`` /
``eval`` or to a line magic (``%time log.append(x)``) is read too.

>>> import ast, numpy as np
>>> ns = {"log": [], "big": list(range(5)), "np": np}
>>> sorted(changes(ast.parse("log.append(x * len(big))\\nz = np.sum(big) * x"), ns))
['log']
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import textwrap
import types
from typing import Any

import numpy as np

__all__ = ["changes"]


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


READ_ONLY_METHODS = _words(
    # dict, list, tuple, set, str
    "get keys values items copy count index startswith endswith join split strip format",
    "isdisjoint issubset issuperset union intersection difference symmetric_difference",
    # numpy arrays (and adlab's traced values)
    "sum mean std var min max prod any all argmax argmin argsort cumsum cumprod reshape ravel",
    "flatten astype tolist item transpose swapaxes squeeze dot conj conjugate round clip take",
    "repeat nonzero diagonal trace searchsorted tobytes view compress ptp",
)
"""Methods that only read the object they are called on (the result may still share
memory with it, as ``view`` and ``reshape`` do: names bound to it are followed)."""

LIBRARY = _words(
    "numpy math cmath adlab builtins operator functools itertools statistics collections copy",
    "decimal fractions random string re json",
)
"""Top-level modules whose functions change no argument, except :data:`WRITERS`."""

WRITERS = _words(
    "copyto put place putmask fill_diagonal shuffle heappush heappop heapify heapreplace",
    "heappushpop insort insort_left insort_right setitem delitem setattr delattr next at",
    "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor iconcat",
)
"""Library functions that change their first argument (``np.copyto(dst, src)``,
``np.add.at(a, ...)``, ``random.shuffle(x)``, ``next(iterator)``, ``setattr(obj, ...)``)."""

_CODE_RUNNERS = frozenset({"exec", "eval", "run_line_magic", "run_cell_magic"})
_NAMESPACES = types.ModuleType | type | np.ufunc  # attributes of these are looked up


def changes(tree: ast.Module, ns: dict) -> set[str]:
    """The names of ``ns`` whose values the code of ``tree`` (a cell) may change in place,
    directly or through the notebook's functions it calls."""
    reader = _Reader(ns, frozenset(), _defined(tree), {})
    reader.read(tree)
    return {name for name in reader.result() if name in ns}


class _Reader:
    """Reads code and collects the names it may change.

    ``local`` are the names local to the code (a function's parameters and assignments):
    not the notebook's, but changing one changes what it was bound to, which is why names
    are followed back through assignments (``aliases``) before the answer. ``defined``
    are the functions the cell defines itself; ``done`` remembers, per function read,
    the parameters it changes.
    """

    def __init__(self, ns: dict, local: frozenset[str], defined: dict, done: dict) -> None:
        self.ns, self.local, self.defined, self.done = ns, local, defined, done
        self.changed: set[str] = set()
        self.aliases: dict[str, set[str]] = {}  # name -> the names its value came from

    def read(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            self._node(node)

    def result(self) -> set[str]:
        """``changed``, with every name the changed values came from."""
        todo = list(self.changed)
        while todo:
            for source in self.aliases.get(todo.pop(), ()):
                if source not in self.changed:
                    self.changed.add(source)
                    todo.append(source)
        return self.changed

    # -- the rules ----------------------------------------------------------------------
    def _node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            value = getattr(node, "value", None)
            for target in targets:
                self._assign(target, value if not isinstance(node, ast.AugAssign) else None)
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                self.changed.add(node.target.id)  # `w += v` updates a list or an array in place
        elif isinstance(node, ast.For | ast.comprehension):
            self._assign(node.target, None)
            self._bind(node.target, _roots(node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._bind(node.optional_vars, _roots(node.context_expr))
        elif isinstance(node, ast.NamedExpr):
            self._bind(node.target, _roots(node.value))
        elif isinstance(node, ast.Call):
            self._call(node)

    def _assign(self, target: ast.AST, value: ast.AST | None) -> None:
        """Assigning into ``target`` changes its container; a name is bound to ``value``."""
        for t in _flat_targets(target):
            if isinstance(t, ast.Subscript | ast.Attribute):
                self.changed |= _roots(t.value)
            elif isinstance(t, ast.Name) and value is not None:
                self._bind(t, _roots(value))

    def _bind(self, target: ast.AST, sources: set[str]) -> None:
        for t in _flat_targets(target):
            if isinstance(t, ast.Name):
                self.aliases.setdefault(t.id, set()).update(sources)

    def _call(self, call: ast.Call) -> None:
        func, args = call.func, [*call.args, *(k.value for k in call.keywords)]
        for k in call.keywords:
            if k.arg == "out":  # numpy writes its result there
                self.changed |= _roots(k.value)
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in _CODE_RUNNERS:  # exec("...") or a line magic: read that code too
            for code in (a.value for a in args if isinstance(a, ast.Constant)):
                with contextlib.suppress(SyntaxError, TypeError, ValueError):
                    self.read(ast.parse(textwrap.dedent(code)))
        if isinstance(func, ast.Attribute) and self._namespace(func.value) is None:
            # a method of a value: it may change its owner, and whatever its code changes
            if func.attr not in READ_ONLY_METHODS:
                self.changed |= _roots(func.value)
            method = self._method(func)
            if method is not None:
                self._apply(self._parameters(method, bound=True), call)
            return
        callee = self._callee(func)
        if _of_library(callee):
            if name in WRITERS and call.args:
                self.changed |= _roots(call.args[0])
            return
        self._apply(self._parameters(callee), call)

    def _apply(self, params: _Parameters | None, call: ast.Call) -> None:
        """A call's arguments that its callee may change (all of them, if unknown)."""
        for i, a in enumerate(call.args):
            if params is None or isinstance(a, ast.Starred) or params.positional(i):
                self.changed |= _roots(a)
        for k in call.keywords:
            if params is None or k.arg is None or params.keyword(k.arg):
                self.changed |= _roots(k.value)

    # -- callees ------------------------------------------------------------------------
    def _callee(self, func: ast.AST) -> Any:
        """What a call of a name or of a module's / class's attribute calls (``None`` if it
        cannot be known); a function the cell defines is its syntax tree."""
        if isinstance(func, ast.Name):
            if func.id in self.defined:
                return self.defined[func.id]
            if func.id in self.local:
                return None
            return self.ns.get(func.id, getattr(builtins, func.id, None))
        if isinstance(func, ast.Attribute):
            owner = self._namespace(func.value)
            return None if owner is None else getattr(owner, func.attr, None)
        return None

    def _namespace(self, node: ast.AST) -> Any:
        """The module, class or ufunc a dotted name stands for (``np.random``, ``np.add``)."""
        if isinstance(node, ast.Name) and node.id not in self.local:
            value = self.ns.get(node.id)
        elif isinstance(node, ast.Attribute):
            owner = self._namespace(node.value)
            value = None if owner is None else getattr(owner, node.attr, None)
        else:
            return None
        return value if isinstance(value, _NAMESPACES) else None

    def _method(self, func: ast.Attribute) -> Any:
        """The notebook's method that ``name.method(...)`` calls, if ``name`` is an object of
        one of the notebook's classes."""
        if not isinstance(func.value, ast.Name) or func.value.id in self.local:
            return None
        owner = self.ns.get(func.value.id)
        if owner is None or not _of_notebook(type(owner)):
            return None
        with contextlib.suppress(AttributeError):
            method = inspect.getattr_static(type(owner), func.attr)
            return getattr(method, "__func__", method)
        return None

    def _parameters(self, callee: Any, bound: bool = False) -> _Parameters | None:
        """The parameters of a function of the notebook (or of the cell) that it may change,
        and into ``changed`` the notebook's names it may change; ``None`` for anything else
        (which may change any argument). A class stands for its ``__init__``."""
        if isinstance(callee, type) and _of_notebook(callee):
            callee, bound = callee.__dict__.get("__init__"), True
            if callee is None:
                return _Parameters(frozenset(), [], "", "")
        key = id(callee)
        if key in self.done:
            found = self.done[key]
        else:
            self.done[key] = None  # while it is being read (recursion): unknown
            tree = callee if isinstance(callee, ast.FunctionDef) else _function_tree(callee)
            found = None if tree is None else self._read_function(tree)
            self.done[key] = found
        if found is None:
            return None
        return found.without_self() if bound else found

    def _read_function(self, tree: ast.FunctionDef | ast.AsyncFunctionDef) -> _Parameters:
        signature = tree.args
        positional = [a.arg for a in [*signature.posonlyargs, *signature.args]]
        star = signature.vararg.arg if signature.vararg else ""
        stars = signature.kwarg.arg if signature.kwarg else ""
        names = [*positional, *(a.arg for a in signature.kwonlyargs), star, stars]
        local = frozenset([*names, *_assigned(tree)]) - _declared_global(tree)
        inner = _Reader(self.ns, local, self.defined, self.done)
        inner.read(ast.Module(body=tree.body, type_ignores=[]))
        changed = inner.result()
        self.changed |= changed - local
        return _Parameters(frozenset(changed & local), positional, star, stars)


class _Parameters:
    """The parameters a function may change, to map a call's arguments onto them."""

    def __init__(self, changed: frozenset[str], positional: list[str], star: str,
                 stars: str) -> None:  # fmt: skip
        self.changed, self.names, self.star, self.stars = changed, positional, star, stars

    def positional(self, i: int) -> bool:
        if i < len(self.names):
            return self.names[i] in self.changed
        return self.star in self.changed

    def keyword(self, name: str) -> bool:
        return name in self.changed or (name not in self.names and self.stars in self.changed)

    def without_self(self) -> _Parameters:
        """As called through an instance (``obj.method(a)``, ``Class(a)``)."""
        return _Parameters(self.changed, self.names[1:], self.star, self.stars)


def _roots(node: ast.AST | None) -> set[str]:
    """The names whose values (or parts of them) may flow into the value of ``node``:
    ``log`` for ``log``, ``log[0]``, ``log.attr``, ``f(log)`` or ``(log, 1)``, but not for
    ``log * 2`` or ``len(log) > 0``, which compute new values."""
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            found.add(n.id)
        elif isinstance(n, ast.Subscript):
            key = _globals_key(n)
            if key is not None:
                found.add(key)
            else:
                stack.append(n.value)
        elif isinstance(n, ast.Attribute | ast.Starred | ast.keyword | ast.NamedExpr):
            stack.append(n.value)
        elif isinstance(n, ast.Call):
            stack += [n.func, *n.args, *n.keywords]
        elif isinstance(n, ast.IfExp):
            stack += [n.body, n.orelse]
        elif isinstance(n, ast.BoolOp):
            stack += n.values
        elif isinstance(n, ast.Tuple | ast.List | ast.Set):
            stack += n.elts
        elif isinstance(n, ast.Dict):
            stack += [*(k for k in n.keys if k is not None), *n.values]
    return found


def _globals_key(node: ast.Subscript) -> str | None:
    """``k`` for ``globals()["k"]``: the name it reaches."""
    owner, key = node.value, node.slice
    is_globals = (
        isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
        and owner.func.id == "globals"
    )  # fmt: skip
    return key.value if is_globals and isinstance(key, ast.Constant) and isinstance(
        key.value, str) else None  # fmt: skip


def _flat_targets(target: ast.AST) -> list[ast.AST]:
    out, stack = [], [target]
    while stack:
        t = stack.pop()
        if isinstance(t, ast.Tuple | ast.List):
            stack += t.elts
        elif isinstance(t, ast.Starred):
            stack.append(t.value)
        else:
            out.append(t)
    return out


def _defined(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """The functions a cell defines at its top level, by name."""
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _assigned(tree: ast.AST) -> set[str]:
    return {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _declared_global(tree: ast.AST) -> frozenset[str]:
    return frozenset(name for n in ast.walk(tree) if isinstance(n, ast.Global) for name in n.names)


def _of_notebook(value: Any) -> bool:
    return getattr(value, "__module__", None) == "__main__"


def _of_library(value: Any) -> bool:
    """A function, class or ufunc of numpy, math, adlab, the builtins ... (:data:`LIBRARY`)."""
    if value is None or _of_notebook(value):
        return False
    module = getattr(value, "__module__", None)
    if module is None and isinstance(value, types.BuiltinFunctionType):
        module = "builtins"  # methods of builtin objects, such as a ufunc's .at
    if isinstance(value, np.ufunc):
        module = "numpy"
    return (module or "").split(".")[0] in LIBRARY


def _function_tree(fn: Any) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The syntax tree of a function of the notebook (IPython keeps every cell's source)."""
    if not (isinstance(fn, types.FunctionType) and _of_notebook(fn)):
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    node = tree.body[0] if tree.body else None
    return node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None
