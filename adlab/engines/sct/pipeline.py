"""The sct pipeline: the passes in order, the one cache of their results, and the functions
it produces.

:func:`passes` lists every pass, from a Python function to a compiled
derivative, and :func:`pipeline` runs them. The first three (the front end)
depend only on the function and on what its free names mean; the rest depend on
what is differentiated and on the kinds of the arguments (generated code is
specialised on them, see ``activity``). Both are kept in one cache, per function:
its front end and its compiled variants, keyed by exactly what decides the
generated code ``(form, argnums, kinds, single, dead)``. A function whose free names
now mean something else (a notebook rebound a global, defined a helper again) loses
its whole entry, once, where that is noticed; a variant whose callees changed is
generated again. The cache keeps the :data:`CACHE_SIZE` most recently used functions
(their code keeps them alive), and generated code's lines stay in :mod:`linecache`
only while the code does.

:class:`Transformed` is what ``ad.sct.grad`` / ``vjp`` / ``jvp`` return: it
looks at the kinds of its arguments, generates (once) and runs the matching
code, and shows that code as ``.source``.
"""

from __future__ import annotations

import contextvars
import inspect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from adlab.core.tree import flatten, unflatten
from adlab.core.values import argnum_list, as_primal, one_argnum, unshared
from adlab.engines.sct import activity, adjoint, compile, fence, parse, ssa, tangent
from adlab.engines.sct.activity import ANY, kind_of
from adlab.engines.sct.fence import Unplaced
from adlab.engines.sct.ir import Callees

FRONT_END = ("parse", "fence", "ssa")
CACHE_SIZE = 256
"""How many functions' transformations the cache keeps (the least recently used go)."""


class _Entry:
    """What the cache keeps for one function: its front end (program by pass name) and its
    compiled variants by ``(form, argnums, kinds, single, dead)``."""

    __slots__ = ("front", "variants")

    def __init__(self) -> None:
        self.front: dict[str, Any] = {}
        self.variants: dict[tuple, compile.Compiled] = {}


_cache: OrderedDict[Any, _Entry] = OrderedDict()
_in_progress: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar(
    "adlab_sct_in_progress", default=()
)
"""The functions being transformed in this context, outermost first (to find recursion)."""


def _entry(fn: Any) -> _Entry:
    """The cache entry of ``fn`` (the most recent now), emptied if a free name it read has
    been rebound since: its front end and every variant are generated again."""
    entry = _cache.get(fn)
    if entry is None:
        entry = _cache[fn] = _Entry()
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return entry
    _cache.move_to_end(fn)
    checked = entry.front.get("fence")
    if checked is not None and checked.changed():
        entry.front.clear()
        entry.variants.clear()
    return entry


Pass = tuple[str, Callable[[Any], Any]]


def passes(fn: Callable[..., Any], form: str = "grad", argnums: tuple[int, ...] = (),
           kinds: tuple[str, ...] = (), single: bool = False,
           dead: tuple[int, ...] = ()) -> tuple[Pass, ...]:  # fmt: skip
    """The passes that turn ``fn`` into its ``form`` code ("grad", "vjp" or "jvp"), in order:
    ``(name, run)``, each ``run`` taking the program the pass before produced::

        parse -> fence -> ssa -> activity -> adjoint (grad, vjp) | tangent (jvp) -> compile

    ``dead`` (vjp): the items of a returned tuple, list or dict that get no cotangent.
    """
    callees = Callees(_derive)
    return (
        ("parse", lambda _: parse.parse(fn)),
        ("fence", fence.fence),
        ("ssa", ssa.normalise),
        ("activity", lambda p: activity.analyse(p, argnums, kinds, _return_kind)),
        ("tangent", lambda p: tangent.generate(p, callees)) if form == "jvp" else
        ("adjoint", lambda p: adjoint.generate(p, form, callees, single, dead)),
        ("compile", compile.build),
    )  # fmt: skip


def pipeline(fn: Callable[..., Any], form: str, argnums: tuple[int, ...], kinds: tuple[str, ...],
             *, single: bool = False, dead: tuple[int, ...] = (), show: bool = False,
             until: str = "compile", entry: _Entry | None = None) -> Any:  # fmt: skip
    """Run the :func:`passes` on ``fn`` up to the pass ``until`` and return its program
    (``show=True`` prints the program after each pass). The front end (``FRONT_END``)
    depends on ``fn`` alone and is cached in its ``entry``."""
    fn = _function(fn, kinds)
    front = (entry or _entry(fn)).front
    program: Any = None
    token = _in_progress.set((*_in_progress.get(), fn))
    try:
        for name, run in passes(fn, form, argnums, kinds, single, dead):
            program = front[name] if name in front else run(program)
            if name in FRONT_END:
                front[name] = program
            if show:
                print(f"──── after {name} " + "─" * max(0, 60 - len(name)))
                print(str(program).rstrip())
            if name == until:
                break
    finally:
        _in_progress.reset(token)
    return program


def normalised(fn: Callable[..., Any], kinds: tuple[str, ...] = (),
               show: bool = False) -> ssa.Normalised:  # fmt: skip
    """The ``ssa`` listing of ``fn`` (the front end of the pipeline only)."""
    return pipeline(fn, "grad", (), kinds, show=show, until="ssa")


def specialised(fn: Callable[..., Any], form: str, argnums: tuple[int, ...],
                kinds: tuple[str, ...], single: bool = False, show: bool = False,
                dead: tuple[int, ...] = ()) -> compile.Compiled:  # fmt: skip
    """The derivative of ``fn`` for arguments of these kinds, from the cache unless it is not
    there, a callee's code is stale, or ``show`` asks to see it generated."""
    fn = _function(fn, kinds)
    entry = _entry(fn)
    key = (form, argnums, kinds, single, dead)
    compiled = entry.variants.get(key)
    if compiled is None or show or compiled.callees_stale():
        compiled = pipeline(fn, form, argnums, kinds, single=single, dead=dead, show=show,
                            entry=entry)  # fmt: skip
        entry.variants[key] = compiled
    return compiled


def cached(fn: Any) -> list[tuple]:
    """The keys ``(form, argnums, kinds, single, dead)`` of ``fn``'s cached variants."""
    entry = _cache.get(fn)
    return [] if entry is None else list(entry.variants)


def _function(fn: Any, kinds: tuple[str, ...]) -> Any:
    """A :class:`Transformed` stands for its generated code for these kinds (sct over sct)."""
    while isinstance(fn, Transformed):
        fn = fn.variant(kinds).function if kinds else fn.__sct_function__
    return fn


def _derive(fn: Any, active: tuple[int, ...], arg_kinds: tuple[str, ...],
            form: str) -> compile.Compiled:  # fmt: skip
    """A user function's vjp or jvp code, for a call whose arguments have these kinds."""
    target = _callee(fn, arg_kinds)
    return specialised(target, form, active, _param_kinds(target, arg_kinds))


def _return_kind(fn: Any, arg_kinds: tuple[str, ...]) -> str:
    target = _callee(fn, arg_kinds)
    token = _in_progress.set((*_in_progress.get(), target))
    try:
        n = normalised(target)
        a = activity.analyse(n, (), _param_kinds(target, arg_kinds), _return_kind)
    finally:
        _in_progress.reset(token)
    return a.kinds.get(a.output, ANY)


def _callee(fn: Any, arg_kinds: tuple[str, ...]) -> Any:
    """The function a call of ``fn`` transforms, unless that is a recursion."""
    target = _function(fn, arg_kinds)
    in_progress = _in_progress.get()
    if target in in_progress:
        names = [getattr(f, "__name__", repr(f)) for f in in_progress]
        k = in_progress.index(target)
        raise Unplaced(
            f"recursion: {names[k]} calls itself through {', '.join(names[k + 1 :])}",
            "sct does not transform recursive functions; write the recursion as a loop, "
            "or use mode='reverse'",
        )
    return target


def _param_kinds(fn: Any, arg_kinds: Sequence[str]) -> tuple[str, ...]:
    """Kinds for every parameter: the given ones first, then those of the defaults."""
    n = normalised(fn)
    params = (*n.params, *n.kwonly)
    defaults = _defaults(fn)
    out = list(arg_kinds[: len(params)])
    for p in params[len(out) :]:
        out.append(kind_of(defaults[p]) if p in defaults else ANY)
    return tuple(out)


def _defaults(fn: Any) -> dict[str, Any]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # pragma: no cover
        return {}
    return {k: p.default for k, p in sig.parameters.items() if p.default is not p.empty}


# ---------------------------------------------------------------------------
# What ad.sct.grad / vjp / jvp return


class Transformed:
    """A derivative function generated by sct; call it as you would call the original.

    ``.source`` is the generated Python code, ``inspect.getsource`` shows it too.
    Code is specialised on the kinds of the arguments (Python numbers, arrays,
    tuples ...), as Julia specialises on types: ``.source`` shows the code the
    last call ran (before any call: the code for Python numbers), ``.sources``
    every specialisation made so far. Results never share memory with each other or
    with the arguments (cotangents and tangents included), so they may be updated in place.

    ``dead`` (vjp only): positions of the items of the returned tuple, list or dict
    that the pullback gets no cotangent for. Where the returned variable is read by
    nothing but the return they contribute nothing (not zero times their partials, which
    would turn an infinite partial into nan); elsewhere their cotangent counts as zero
    (see :func:`~adlab.engines.sct.adjoint.left_out`).
    """

    def __init__(self, fn: Callable[..., Any], form: str, argnums: int | Sequence[int] | None,
                 show: bool = False, dead: tuple[int, ...] = ()) -> None:  # fmt: skip
        self.fn = fn
        self.form = form
        self.dead = dead
        self._defaults = _defaults(_function(fn, ()))
        n = normalised(fn, ())
        self.params = n.params
        self.kwonly = n.kwonly
        if argnums is None:
            argnums = tuple(range(len(n.params)))
        self.single = one_argnum(argnums)
        nums = tuple(int(a) if one_argnum(a) else a for a in argnum_list(argnums))
        for a in nums:
            if not one_argnum(a) or not -len(n.params) <= a < len(n.params):
                raise ValueError(
                    f"argnums={argnums!r}, but {n.name} has {len(n.params)} positional "
                    f"parameter(s): {', '.join(n.params)}"
                )
        self.argnums = tuple(a % len(n.params) for a in nums)
        scalars = tuple(kind_of(self._defaults[p]) if p in self._defaults else activity.SCALAR
                        for p in (*n.params, *n.kwonly))  # fmt: skip
        self._kinds = [scalars]  # the kinds of the calls so far, for .sources
        # generated now, so that errors show early (and shown, with show=True)
        self._last = specialised(fn, form, self.argnums, scalars, self.single, show, dead)
        self.__name__ = self._last.function.__name__
        self.__qualname__ = self.__name__
        self.__doc__ = self._last.function.__doc__

    def variant(self, kinds: tuple[str, ...]) -> compile.Compiled:
        """The compiled code for arguments of these kinds (from the one cache)."""
        return specialised(self.fn, self.form, self.argnums, kinds, self.single, dead=self.dead)

    def kinds(self, args: tuple, kwargs: dict) -> tuple[str, ...]:
        """The kinds of the arguments of a call (defaults filled in): the specialisation key."""
        defaults = self._defaults
        values = list(args[: len(self.params)])
        for p in (*self.params, *self.kwonly)[len(values) :]:
            values.append(kwargs.get(p, defaults.get(p)))
        return tuple(kind_of(v) for v in values)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args = list(args)
        for i in self.argnums:
            if i < len(args):
                args[i] = _as_input(args[i], i)
        kinds = self.kinds(tuple(args), kwargs)
        compiled = self.variant(kinds)
        self._last = compiled
        if kinds not in self._kinds:
            self._kinds.append(kinds)
        result = compiled.function(*args, **kwargs)
        given = (*args, *kwargs.values())
        if self.form == "grad":
            return _unshared(result, given)
        out, derivative = result
        if self.form == "jvp":
            return out, _unshared(derivative, given)

        def unshared_pullback(out_bar: Any) -> tuple:
            return _unshared(derivative(out_bar), (*given, out_bar))

        return out, unshared_pullback

    def tangent_names(self, kinds: tuple[str, ...]) -> tuple[str, ...]:
        """The keyword names of the tangents of the jvp code for these kinds."""
        return self.variant(kinds).function.__sct_tangents__

    @property
    def compiled(self) -> compile.Compiled:
        """The compiled code of the last call (before any call: for Python numbers)."""
        return self._last

    @property
    def source(self) -> str:
        """The generated code of the last call (before any call: for Python numbers)."""
        return self._last.source

    @property
    def sources(self) -> dict[tuple[str, ...], str]:
        """The generated code of every specialisation so far, by argument kinds."""
        return {k: self.variant(k).source for k in self._kinds}

    @property
    def __wrapped__(self) -> Any:  # inspect.getsource / signature follow this
        return self._last.function

    @property
    def __sct_function__(self) -> Any:
        return self._last.function

    def __repr__(self) -> str:
        return f"<sct {self.form} of {getattr(self.fn, '__name__', self.fn)}: see .source>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.source)


def _unshared(value: Any, given: Sequence[Any]) -> Any:
    """``value`` (a result, maybe a tuple of them) with copies of the arrays that share
    memory with another of its arrays or with an array in ``given``."""
    leaves, tree = flatten(value)
    return unflatten(tree, unshared(leaves, [x for g in given for x in flatten(g)[0]]))


def _as_input(x: Any, i: int) -> Any:
    """Ints become floats (and int arrays float arrays); structures are converted leafwise."""
    if isinstance(x, float):
        return x
    if isinstance(x, list | tuple | dict):
        if isinstance(x, dict):
            return {k: _as_input(v, i) for k, v in x.items()}
        out = [_as_input(v, i) for v in x]
        return out if isinstance(x, list) else type(x)(out) if not hasattr(x, "_fields") else (
            type(x)(*out))  # fmt: skip
    return as_primal(x, f"argument {i}")
