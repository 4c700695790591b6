"""After a ``%%grad`` cell, no traced value stays where the notebook can reach it.

The cell ran with traced inputs, so whatever it stored may hold Variables: new
names, the lists, dicts and objects it appended to, the defaults and closures of
functions it defined, and the globals changed by the notebook's functions it
called. :func:`scrub` searches the names it is given (the magic gives the names
the cell assigns and those it may change, read from its code by
:mod:`adlab.notebook.effects`) and replaces every Variable it meets by its number
*in place*: a list stays the same list, so every other reference to it sees plain
numbers too; a frozen dataclass gets its number as its constructor would set it.

Values the cell only reads are not searched: the walk costs nothing for them. It
is iterative (any depth) and visits each object once (cycles are fine).

>>> from adlab.engines import reverse
>>> log = []
>>> cell = lambda x: log.append(x * 2.0)
>>> _ = reverse.record(lambda inputs: (cell(*inputs), {}), [1.5], ["x"])
>>> type(log[0]).__name__
'Variable'
>>> ns = {"log": log}
>>> scrub(ns, ["log"])
>>> log, ns["log"] is log
([3.0], True)
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import re
import types
from collections.abc import Iterable
from typing import Any

import numpy as np

from adlab.engines.reverse import Variable, plain

__all__ = ["scrub", "users_object"]

# IPython's own bookkeeping in the user namespace: never scrubbed.
IPYTHON_NAMES = re.compile(r"^(In|Out|_oh|_ih|_dh|_i\d*|_ii|_iii|exit|quit|get_ipython)$")

_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None), np.float64, np.ndarray})


def scrub(ns: dict, names: Iterable[str]) -> None:
    """Replace every Variable reachable from ``names`` in ``ns`` by its number, in place;
    and any Variable bound directly to a name of ``ns``."""
    cleaner = _Cleaner()
    wanted = set(names)
    for name in [n for n in ns if n in wanted and not IPYTHON_NAMES.match(n)]:  # ns's order
        value = ns[name]
        clean = cleaner.clean(value)
        if clean is not value:
            ns[name] = clean
    for name, value in list(ns.items()):  # a global set by a function the cell called
        if type(value) is Variable and not IPYTHON_NAMES.match(name):
            ns[name] = plain(value)


def _of_notebook(value: Any) -> bool:
    return getattr(value, "__module__", None) == "__main__"


def users_object(value: Any) -> bool:
    """An instance of a class of the notebook, or a SimpleNamespace: its attributes are the
    user's data (a widget's, a module's or a library object's are not)."""
    return isinstance(value, types.SimpleNamespace) or (
        _of_notebook(type(value)) and not isinstance(value, type)
    )


class _Cleaner:
    """One scrub's memory: every object visited, and what it became."""

    def __init__(self) -> None:
        self.done: dict[int, Any] = {}  # id -> the object, cleaned (itself, or a new one)
        self.keep: list[Any] = []  # holds what `done` refers to, so ids stay unique

    def clean(self, root: Any) -> Any:
        """``root`` without Variables: itself, cleaned in place, or a new tuple / number."""
        done = self.done
        stack: list[tuple[Any, list | None]] = [(root, None)]
        while stack:
            obj, kids = stack.pop()
            if kids is not None:  # its children are clean: now the object itself
                done[id(obj)] = _rebuilt(obj, done)
                continue
            if type(obj) in _ATOMS or id(obj) in done:
                continue
            self.keep.append(obj)
            if type(obj) is Variable:
                done[id(obj)] = plain(obj)
                continue
            done[id(obj)] = obj  # for now: a cycle back to obj finds obj itself
            kids = _children(obj)
            if kids:
                stack.append((obj, kids))
                stack += [(k, None) for k in kids if type(k) not in _ATOMS and id(k) not in done]
        return done.get(id(root), root)


def _children(obj: Any) -> list:
    """What ``obj`` holds that may hold a Variable (empty for what is not searched)."""
    if isinstance(obj, list | tuple | set | frozenset | collections.deque):
        return list(obj)
    if isinstance(obj, dict):
        return [*obj, *obj.values()]
    if type(obj) is np.ndarray:
        return list(obj.flat) if obj.dtype == object else []
    if isinstance(obj, functools.partial):
        return [*obj.args, *obj.keywords.values()]
    if isinstance(obj, types.FunctionType):
        if not _of_notebook(obj):
            return []
        cells = [c.cell_contents for c in obj.__closure__ or () if _filled(c)]
        return [*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values(), *cells]
    if isinstance(obj, type):
        return list(vars(obj).values()) if _of_notebook(obj) else []
    if users_object(obj):
        return [v for _, v in _attributes(obj)]
    return []


def _rebuilt(obj: Any, done: dict[int, Any]) -> Any:
    """``obj`` with its children replaced by their clean versions: in place where it can
    be changed, else a new object (a tuple), else ``obj`` as it is."""

    def clean(x: Any) -> Any:
        return x if type(x) in _ATOMS else done.get(id(x), x)

    if isinstance(obj, list | collections.deque):
        for i, x in enumerate(obj):
            if clean(x) is not x:
                obj[i] = clean(x)
    elif isinstance(obj, dict):
        items = [(clean(k), clean(v)) for k, v in obj.items()]
        if any(k is not k0 for (k, _), k0 in zip(items, obj)):
            obj.clear()
            obj.update(items)
        else:
            for k, v in items:
                if obj[k] is not v:
                    obj[k] = v
    elif isinstance(obj, set):
        new = {clean(x) for x in obj}
        if any(clean(x) is not x for x in obj):
            obj.clear()
            obj.update(new)
    elif isinstance(obj, tuple | frozenset):
        new = [clean(x) for x in obj]
        if any(a is not b for a, b in zip(new, obj)):
            if type(obj) is tuple or type(obj) is frozenset:
                return type(obj)(new)
            if hasattr(obj, "_make"):  # a namedtuple
                return obj._make(new)
    elif type(obj) is np.ndarray:
        for i, x in enumerate(obj.flat):
            if clean(x) is not x:
                obj.flat[i] = clean(x)
    elif isinstance(obj, functools.partial):
        args = tuple(clean(a) for a in obj.args)
        keywords = {k: clean(v) for k, v in obj.keywords.items()}
        obj.__setstate__((obj.func, args, keywords, getattr(obj, "__dict__", None) or None))
    elif isinstance(obj, types.FunctionType):
        if obj.__defaults__:
            obj.__defaults__ = tuple(clean(d) for d in obj.__defaults__)
        if obj.__kwdefaults__:
            obj.__kwdefaults__ = {k: clean(v) for k, v in obj.__kwdefaults__.items()}
        for c in obj.__closure__ or ():
            if _filled(c) and clean(c.cell_contents) is not c.cell_contents:
                c.cell_contents = clean(c.cell_contents)
    else:  # a class or an object of the notebook, or a SimpleNamespace
        pairs = vars(obj).items() if isinstance(obj, type) else _attributes(obj)
        for name, v in list(pairs):
            if clean(v) is not v:
                with contextlib.suppress(AttributeError, TypeError):  # read-only: left as it is
                    _set(obj, name, clean(v))
    return obj


def _set(obj: Any, name: str, value: Any) -> None:
    """``obj.name = value``, also on a frozen dataclass (as its own ``__init__`` does)."""
    try:
        setattr(obj, name, value)
    except dataclasses.FrozenInstanceError:
        object.__setattr__(obj, name, value)


def _attributes(obj: Any) -> list[tuple[str, Any]]:
    """An object's attributes: its ``__dict__`` and its slots."""
    pairs = list(getattr(obj, "__dict__", {}).items())
    for cls in type(obj).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                pairs.append((slot, getattr(obj, slot)))
    return pairs


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 -- an empty cell raises
    except ValueError:
        return False
    return True
