"""The sct pipeline: the passes in order, and the functions it produces.

:func:`passes` lists every pass, from a Python function to a compiled
derivative, and :func:`pipeline` runs them. The first three depend only on the
function (and on what its free names mean) and are done once per function; the
rest depend on what is differentiated and on the kinds of the arguments
(generated code is specialised on them, see ``activity``), and are done once
per combination and cached.

:class:`Transformed` is what ``ad.sct.grad`` / ``vjp`` / ``jvp`` return: it
looks at the kinds of its arguments, generates (once) and runs the matching
code, and shows that code as ``.source``.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from adlab.core.tree import flatten, unflatten
from adlab.core.values import as_primal, unshared
from adlab.engines.sct import activity, adjoint, compile, fence, parse, ssa, tangent
from adlab.engines.sct.activity import ANY, kind_of
from adlab.engines.sct.fence import Unplaced
from adlab.engines.sct.ir import Callees

FRONT_END = ("parse", "fence", "ssa")


class Recent(OrderedDict):
    """A cache of the most recently transformed functions (a notebook redefines functions
    often, and cached programs keep their functions alive, so the oldest are dropped)."""

    def __init__(self, size: int = 256) -> None:
        super().__init__()
        self.size = size

    def entry(self, key: Any) -> dict:
        """The cache dict of ``key``, created if missing; ``key`` becomes the most recent."""
        if key in self:
            self.move_to_end(key)
            return self[key]
        while len(self) >= self.size:
            self.popitem(last=False)
        self[key] = value = {}
        return value


_front = Recent()  # fn -> {pass name: program}
_variants = Recent()  # fn -> {(form, argnums, kinds, single, dead): Compiled}
_in_progress: list[Any] = []


Pass = tuple[str, Callable[[Any], Any]]
Asked = tuple[fence.Checked, bool] | None
"""A fence's result whose ``changed()`` this call has asked already, and the answer."""


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
             until: str = "compile", asked: Asked = None) -> Any:  # fmt: skip
    """Run the :func:`passes` on ``fn`` up to the pass ``until`` and return its program
    (``show=True`` prints the program after each pass). The front end (``FRONT_END``)
    depends on ``fn`` alone and is cached; ``asked``: see :data:`Asked`."""
    fn = _function(fn, kinds)
    front = _front_end(fn, asked)
    program: Any = None
    _in_progress.append(fn)
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
        _in_progress.pop()
    return program


def normalised(fn: Callable[..., Any], kinds: tuple[str, ...] = (),
               show: bool = False) -> ssa.Normalised:  # fmt: skip
    """The ``ssa`` listing of ``fn`` (the front end of the pipeline only)."""
    return pipeline(fn, "grad", (), kinds, show=show, until="ssa")


def specialised(fn: Callable[..., Any], form: str, argnums: tuple[int, ...],
                kinds: tuple[str, ...], single: bool = False, show: bool = False,
                dead: tuple[int, ...] = (), stale: compile.Compiled | None = None,
                why: str = "") -> compile.Compiled:  # fmt: skip
    """The derivative of ``fn`` for arguments of these kinds (cached while the names it
    reads keep their values). ``stale``: a variant the caller found stale, and ``why``
    (see :meth:`~adlab.engines.sct.compile.Compiled.stale`), so it is not asked again."""
    fn = _function(fn, kinds)
    key = (form, argnums, kinds, single, dead)
    cache = _variants.entry(fn)
    compiled = cache.get(key)
    if compiled is not None and compiled is not stale:
        why = "shown" if show else compiled.stale()
    if compiled is not None and not why:
        return compiled
    asked = None
    if compiled is not None and why != "shown":  # its fence was asked: pass the answer on
        asked = (compiled.checked, why == "rebound")
    compiled = cache[key] = pipeline(fn, form, argnums, kinds, single=single, dead=dead,
                                     show=show, asked=asked)  # fmt: skip
    return compiled


def _front_end(fn: Any, asked: Asked = None) -> dict:
    """The cached front end of ``fn``, without the passes after parse if a name the fence
    resolved has been rebound since (they run again). ``asked``: see :data:`Asked`."""
    front = _front.entry(fn)
    checked = front.get("fence")
    if checked is None:
        return front
    changed = asked[1] if asked is not None and asked[0] is checked else checked.changed()
    if changed:
        front.pop("fence")
        front.pop("ssa", None)
    return front


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
    _in_progress.append(target)
    try:
        n = normalised(target)
        a = activity.analyse(n, (), _param_kinds(target, arg_kinds), _return_kind)
    finally:
        _in_progress.pop()
    return a.kinds.get(a.output, ANY)


def _callee(fn: Any, arg_kinds: tuple[str, ...]) -> Any:
    """The function a call of ``fn`` transforms, unless that is a recursion."""
    target = _function(fn, arg_kinds)
    if target in _in_progress:
        names = [getattr(f, "__name__", repr(f)) for f in _in_progress]
        k = _in_progress.index(target)
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
        n = normalised(fn, self._scalar_kinds(fn))
        self.params = n.params
        self.kwonly = n.kwonly
        if argnums is None:
            argnums = tuple(range(len(n.params)))
        self.single = isinstance(argnums, int)
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        for a in nums:
            if not isinstance(a, int) or not -len(n.params) <= a < len(n.params):
                raise ValueError(
                    f"argnums={argnums!r}, but {n.name} has {len(n.params)} positional "
                    f"parameter(s): {', '.join(n.params)}"
                )
        self.argnums = tuple(a % len(n.params) for a in nums)
        self.show = show
        self._defaults = _defaults(_function(fn, ()))
        self._variants: dict[tuple[str, ...], compile.Compiled] = {}
        self._last = self.variant(self._scalar_kinds(fn))  # generated now: errors show early
        self.__name__ = self._last.function.__name__
        self.__qualname__ = self.__name__
        self.__doc__ = self._last.function.__doc__

    def _scalar_kinds(self, fn: Any) -> tuple[str, ...]:
        defaults = _defaults(_function(fn, ()))
        n = normalised(fn, ())
        return tuple(kind_of(defaults[p]) if p in defaults else activity.SCALAR
                     for p in (*n.params, *n.kwonly))  # fmt: skip

    def variant(self, kinds: tuple[str, ...]) -> compile.Compiled:
        """The compiled code for arguments of these kinds."""
        compiled = self._variants.get(kinds)
        why = "new" if compiled is None else compiled.stale()
        if why:
            compiled = specialised(self.fn, self.form, self.argnums, kinds, self.single,
                                   self.show, self.dead, stale=compiled, why=why)  # fmt: skip
            self._variants[kinds] = compiled
        return compiled

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
        return {k: c.source for k, c in self._variants.items()}

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
