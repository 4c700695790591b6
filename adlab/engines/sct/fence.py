"""Pass 2, fence: reject what sct cannot differentiate, and say what every name means.

The fence reads the user's AST before anything is generated. Constructs
outside the supported subset (``try``, ``with``, ``yield``, classes, nested
functions, item assignment, recursion, ...) raise
:class:`~adlab.DifferentiationError` naming the construct, its line and the
fix. Every free name is looked up (closure, globals, builtins: read-only while
the function runs) and every call is classified. What the names resolved to is
kept: generated code checks it on every call and is generated again when a
notebook has rebound a name (``X = ...``, a helper defined again).

``prim``     an elementwise primitive with partials (``ad.sin``, ``np.sin``, ``math.sin``)
``table``    another operation of the table (``ad.sum``, ``np.dot``, a custom primitive)
``user``     a Python function of the user's: transformed too
``result``   a function whose result carries no derivative (``len``, ``np.shape``, ``print``)
``opaque``   any other callable: allowed on values that are not differentiated
``dynamic``  a function held in a local variable, unknown until run time
``method``   an array method with a table operation (``x.sum()``)
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adlab import ops
from adlab.core import rules
from adlab.core.errors import ADLAB_DIR, DifferentiationError
from adlab.core.primitive import Primitive, standing_for
from adlab.engines.sct import runtime
from adlab.engines.sct.ir import Code
from adlab.engines.sct.parse import MISSING, Source, file_text
from adlab.ops import array as A
from adlab.ops.operators import FUNCTIONS, ufunc_rule


@dataclass(frozen=True)
class Callee:
    """What a call calls: its ``kind`` (see the module docstring) and the callable."""

    kind: str
    fn: Any
    name: str  # for messages and generated names: "ad.sin", "g", "len"


@dataclass(frozen=True, eq=False)
class Checked:
    """The output of the fence: the source, its resolved free names and classified calls."""

    source: Source
    free: dict[str, Any]  # free name -> its value
    callees: dict[ast.Call, Callee] = field(default_factory=dict)
    locals: frozenset[str] = frozenset()
    chains: tuple[tuple[str, tuple[str, ...], Any], ...] = ()  # (name, attributes, value)

    @property
    def name(self) -> str:
        return self.source.name

    def changed(self) -> bool:
        """Whether a free name, or an attribute read from one (``cfg.scale``), now resolves
        to another object than when the fence read it."""
        lookup = self.source.lookup
        for name, value in self.free.items():
            if lookup(name) is not value:
                return True
        for name, attrs, value in self.chains:
            now = self.free[name]
            for attr in attrs:
                now = getattr(now, attr, MISSING)
            if now is not value:
                return True
        return False

    def __str__(self) -> str:
        code = Code(str(self.source).splitlines())
        code.comment(
            "fence: accepted. Free names (checked again on every call):"
            + ("" if self.free else " none")
        )
        for name, value in self.free.items():
            code.comment(f"  {name} = {_short(value)}")
        calls = sorted({(c.kind, c.name) for c in self.callees.values()})
        for kind in ("prim", "table", "user", "result", "opaque", "dynamic"):
            names = [n for k, n in calls if k == kind]
            if names:
                code.comment(f"  calls ({kind}): {', '.join(names)}")
        return str(code)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------
# What the table offers, by the objects users can reach it through

_TABLE_NAMES: dict[int, str] = {id(fn): name for name, fn in ops.NAMESPACE.items()}
"""id(callable) -> its name in adlab.ops (the namespace generated code calls ``ad``)."""

METHODS: dict[str, Callable[..., Any]] = A.METHODS
"""Array methods with a table operation: ``x.sum(axis=0)`` is ``ad.sum(x, axis=0)``."""

_RESULT_ONLY: tuple[Any, ...] = (
    len, isinstance, type, print, repr, str, format, id,
    np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.isfinite, np.isnan, np.isinf,
)  # fmt: skip
"""Functions that may read differentiated values but return something without a derivative."""

_LIBRARY = ("numpy", "scipy", "math", "builtins", "functools", "itertools", "operator", "typing")
_ADLAB_LIBRARY = ("adlab.core", "adlab.ops", "adlab.engines", "adlab.api", "adlab.viz",
                  "adlab.notebook")  # fmt: skip


def table_name(fn: Any) -> str | None:
    """The name of ``fn`` in adlab's table namespace (``ad.<name>``), or None."""
    return _TABLE_NAMES.get(id(fn))


def classify(value: Any, spelled: str) -> Callee:
    """What calling ``value`` (written ``spelled`` in the source) means for sct."""
    fn = value
    if isinstance(value, np.ufunc) and ufunc_rule(value) is not None:
        fn = ufunc_rule(value)
    elif _hashable(value) and value in FUNCTIONS and value not in _RESULT_ONLY:
        fn = FUNCTIONS[value][0]
    elif standing_for(value) is not None:  # math.sin, abs: the primitive declared for them
        fn = standing_for(value)
    elif callable(value) and _impl_primitive(value) is not None:  # code sct generated for numbers
        fn = _impl_primitive(value)
    if isinstance(fn, Primitive):
        kind = "prim" if isinstance(fn.rule, rules.Partials) else "table"
        if not fn.differentiable:
            kind = "result"
        name = table_name(fn)
        return Callee(kind, fn, f"ad.{name}" if name else fn.name)
    if getattr(value, "__module__", None) == runtime.__name__:  # sct's helpers (sct over sct)
        kind = "result" if value in (runtime.seed, runtime.zero) else "opaque"  # see activity
        return Callee(kind, value, spelled)
    name = table_name(fn)
    if name is not None:
        return Callee("table", fn, f"ad.{name}")
    if fn is not value and fn is not None:  # a numpy function mapped to a helper of the table
        return Callee("table", value, spelled)
    if any(value is r for r in _RESULT_ONLY):
        return Callee("result", value, spelled)
    if getattr(value, "__sct_function__", None) is not None:  # a function sct produced
        return Callee("user", value, spelled)
    if isinstance(value, types.FunctionType) and not _is_library(value):
        return Callee("user", value, spelled)
    return Callee("opaque", value, spelled)


_IMPLS: dict[int, Primitive] = {
    id(p.impl): p for p in ops.NAMESPACE.values() if isinstance(p, Primitive)
}


def _impl_primitive(value: Any) -> Primitive | None:
    """The table's primitive whose implementation ``value`` is (as bound in code sct
    generated for Python numbers), or None."""
    prim = _IMPLS.get(id(value))
    return prim if prim is not None and prim.impl is value else None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _is_library(fn: types.FunctionType) -> bool:
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] in _LIBRARY or module.startswith(_ADLAB_LIBRARY)


# ---------------------------------------------------------------------------
# The pass


class _Error:
    """Raise the fence's DifferentiationError for a node, with its line and file."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def __call__(self, node: ast.AST, construct: str, fix: str) -> DifferentiationError:
        line = getattr(node, "lineno", 0)
        where = f"line {line}" if line else "an unknown line"
        text = self.source.line_text(line)
        shown = f" ({text})" if text else ""
        return DifferentiationError(
            f"{construct} at {where}{shown} of {self.source.name}: {fix} "
            f"[sct; file {file_text(self.source.filename)}]"
        )


class Unplaced(DifferentiationError):
    """A problem found away from the statement it belongs to (while transforming a
    function it calls): the pass reading the statement raises it again at its line."""

    def __init__(self, construct: str, fix: str) -> None:
        super().__init__(f"{construct}: {fix}")
        self.construct, self.fix = construct, fix


_REJECTED: dict[type, tuple[str, str]] = {
    ast.Try: ("try/except", "sct differentiates straight-line code, branches and loops; "
              "handle errors outside the function you differentiate"),
    ast.With: ("a with block", "move it outside the function you differentiate"),
    ast.AsyncWith: ("async with", "sct differentiates plain (not async) functions"),
    ast.AsyncFor: ("async for", "sct differentiates plain (not async) functions"),
    ast.ClassDef: ("a class definition", "define classes outside the function"),
    ast.FunctionDef: ("a nested function definition", "define it at module level and call it "
                      "(sct transforms calls of other functions)"),
    ast.AsyncFunctionDef: ("a nested async function", "define functions at module level"),
    ast.Lambda: ("a lambda", "define a named function at module level and call it"),
    ast.Yield: ("yield", "sct differentiates functions that return a value, not generators"),
    ast.YieldFrom: ("yield from", "sct differentiates functions that return a value"),
    ast.Await: ("await", "sct differentiates plain (not async) functions"),
    ast.Global: ("a global statement", "sct differentiates functions that only read outside "
                 "variables; pass the value in as an argument and return the new one"),
    ast.Nonlocal: ("a nonlocal statement", "pass the value in as an argument and return it"),
    ast.Delete: ("del", "remove the del; unused names cost nothing"),
    ast.Import: ("an import", "import at module level"),
    ast.ImportFrom: ("an import", "import at module level"),
    ast.ListComp: ("a list comprehension", "write it as a for loop, or use array operations"),
    ast.SetComp: ("a set comprehension", "write it as a for loop"),
    ast.DictComp: ("a dict comprehension", "write it as a for loop"),
    ast.GeneratorExp: ("a generator expression", "write it as a for loop, or use ad.sum on an "
                       "array"),
    ast.NamedExpr: ("the walrus operator :=", "assign on a line of its own"),
    ast.Starred: ("*-unpacking", "pass and unpack arguments one by one"),
}  # fmt: skip
if hasattr(ast, "TryStar"):  # Python 3.11+
    _REJECTED[ast.TryStar] = _REJECTED[ast.Try]
if hasattr(ast, "Match"):
    _REJECTED[ast.Match] = ("a match statement", "write it with if/elif/else")


def fence(source: Source) -> Checked:
    """Pass ``fence``: check the function against the supported subset and resolve its names."""
    error = _Error(source)
    tree = source.tree
    _check_signature(tree, error)
    parameters, assigned = _parameters(tree), _assigned_names(tree)
    local = parameters | assigned
    mutations = _list_mutations(tree)
    callers_lists = {  # append or pop on a parameter never rebound: the caller's list
        id(node) for name in parameters - assigned for node in mutations.get(name, ())
        if isinstance(node, ast.Call) and node.func.attr in ("append", "pop")  # type: ignore[attr-defined]
    }  # fmt: skip
    generated = source.filename.startswith("<adlab.sct")
    expandable = _expandable(tree, local)
    for node in ast.walk(ast.Module(body=tree.body, type_ignores=[])):
        if id(node) in expandable:
            continue
        rejected = _REJECTED.get(type(node))
        if rejected is not None and generated and isinstance(node, ast.FunctionDef):
            raise error(node, "sct over sct", "this derivative code calls the derivative of "
                        "another function, which returns a pullback closure (a nested def) "
                        "that sct cannot transform. Differentiate the derivative with the "
                        "reverse engine instead: ad.grad(ad.sct.grad(f)), or "
                        "ad.hessian(f, mode=('reverse', 'sct'))")  # fmt: skip
        if rejected is not None:
            raise error(node, *rejected)
        _check_node(node, error, local)
        if id(node) in callers_lists:
            name = node.func.value.id  # type: ignore[attr-defined]
            raise error(node, f"{name}.{node.func.attr}(...) on the parameter {name}", "it "
                        "would change the caller's list; build a list of your own "
                        f"({name} = list({name}) first, or start from [])")  # fmt: skip
    _check_aliases(tree, mutations, error)
    free: dict[str, Any] = {}
    callees: dict[ast.Call, Callee] = {}
    for node in _walk_body(tree):
        name = node.id if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) else None
        if name is not None and name not in local and name not in free:
            value = source.lookup(node.id)
            if value is MISSING:
                raise error(node, f"the name {node.id!r}", "it is not defined (no local, "
                            "closure, global or builtin has that name)")  # fmt: skip
            free[node.id] = value
        if isinstance(node, ast.Call):
            callee = _callee(node.func, source, local, free, error)
            if callee.kind == "user" and callee.fn is source.function:
                raise error(node, f"recursion ({source.name} calls itself)", "sct does not "
                            "transform recursive functions; write the recursion as a loop, or "
                            "use mode='reverse'")  # fmt: skip
            callees[node] = callee
    check_control_flow(tree.body, error)
    chains = _attribute_chains(tree, local, free)
    return Checked(source, free, callees, frozenset(local), tuple(chains))


def _attribute_chains(tree: ast.FunctionDef, local: set[str],
                      free: dict[str, Any]) -> list[tuple[str, tuple[str, ...], Any]]:  # fmt: skip
    """``(name, attributes, value)`` for each attribute chain read from a free name
    (``np.sum``, ``cfg.scale``) whose value is a stored object: reading it again gives the
    same object (a property computing a new value each time is read by the code itself)."""
    nodes = _walk_body(tree)
    inner = {id(n.value) for n in nodes if isinstance(n, ast.Attribute)}
    chains = {}
    for node in nodes:
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id in local or root.id not in free:
            continue
        attrs = tuple(_attributes(node))
        value = first = free[root.id]
        for attr in attrs:
            value, first = getattr(value, attr, MISSING), getattr(first, attr, MISSING)
        if value is first and value is not MISSING:
            chains[(root.id, attrs)] = value
    return [(name, attrs, value) for (name, attrs), value in chains.items()]


def _is_free_name(node: ast.expr, local: set[str]) -> bool:
    """A name read from outside the function (a closure or global value)."""
    return isinstance(node, ast.Name) and node.id not in local


def _expandable(tree: ast.FunctionDef, local: set[str]) -> set[int]:
    """``*args`` in a call where ``args`` is a free (read-only) value: expanded by ssa."""
    found = set()
    for node in ast.walk(ast.Module(body=tree.body, type_ignores=[])):
        if isinstance(node, ast.Call):
            for a in node.args:
                if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name) and (
                    a.value.id not in local
                ):  # fmt: skip
                    found.add(id(a))
    return found


_MUTATORS = ("append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear")
"""List methods that change the list in place."""


def _list_mutations(tree: ast.FunctionDef) -> dict[str, list[ast.AST]]:
    """For each name whose list is changed in place, the nodes changing it, in walk order:
    calls ``name.<mutator>(...)`` and ``name += [...]``."""
    found: dict[str, list[ast.AST]] = {}
    for node in _walk_body(tree):
        if (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS and isinstance(node.func.value, ast.Name)
        ):  # fmt: skip
            found.setdefault(node.func.value.id, []).append(node)
        elif (
            isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name)
            and isinstance(node.op, ast.Add) and isinstance(node.value, ast.List)
        ):  # fmt: skip
            found.setdefault(node.target.id, []).append(node)
    return found


def _check_aliases(tree: ast.FunctionDef, mutations: dict[str, list[ast.AST]],
                   error: _Error) -> None:  # fmt: skip
    """Refuse ``b = a`` where ``a`` or ``b`` is a list changed in place (``b.append(v)``,
    ``a += [v]``): the change shows through both names, but sct follows values through
    assignments, so the other name's derivative would be lost."""
    if not mutations:
        return
    for node in _walk_body(tree):
        for target, source in _name_copies(node):
            name = target if target in mutations else source if source in mutations else None
            if name is None:
                continue
            how = mutations[name][0]
            what = (f"{name}.{how.func.attr}(...)" if isinstance(how, ast.Call)  # type: ignore[attr-defined]
                    else f"{name} += [...]")  # fmt: skip
            raise error(node, f"the alias {target} = {source} of a list changed in place",
                        f"{target} and {source} name one list, and {what} at line "
                        f"{how.lineno} changes it through one name; sct follows values "  # type: ignore[attr-defined]
                        "through assignments, not through shared lists, so the derivative "
                        f"would be lost. Use {source} itself wherever {target} is used, or "
                        "use mode='reverse'")  # fmt: skip


def _name_copies(node: ast.AST) -> list[tuple[str, str]]:
    """``(target, source)`` for each name an assignment binds to the object another name
    holds: ``b = a``, ``b, c = a, a``, and ``a = b = [...]`` (``b`` is ``a``'s object)."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Name):
        return [(node.target.id, node.value.id)] if isinstance(node.target, ast.Name) else []
    if not isinstance(node, ast.Assign):
        return []
    pairs = []
    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node.value, ast.Name):
        pairs += [(t, node.value.id) for t in names]
    else:
        pairs += [(t, names[0]) for t in names[1:]]
    for t in node.targets:
        if isinstance(t, ast.Tuple | ast.List) and isinstance(node.value, ast.Tuple | ast.List):
            pairs += [(a.id, b.id) for a, b in zip(t.elts, node.value.elts)
                      if isinstance(a, ast.Name) and isinstance(b, ast.Name)]  # fmt: skip
    return [(t, s) for t, s in pairs if t != s]


def _check_signature(tree: ast.FunctionDef, error: _Error) -> None:
    args = tree.args
    function = error.source.function
    if (args.vararg or args.kwarg) and function.__code__.co_filename.startswith(ADLAB_DIR):
        raise DifferentiationError(
            f"sct transforms your own functions, but got {function.__qualname__} from adlab "
            "itself (for example a derivative built by ad.grad or ad.jacobian). "
            "To differentiate a derivative with sct, write ad.sct.grad(ad.sct.grad(f)); to mix "
            "engines, give the API one mode per level, e.g. ad.hessian(f, mode=('reverse', 'sct'))"
        )
    if args.vararg is not None:
        raise error(tree, f"*{args.vararg.arg} in the signature", "name each parameter")
    if args.kwarg is not None:
        raise error(tree, f"**{args.kwarg.arg} in the signature", "name each parameter")


def _check_node(node: ast.AST, error: _Error, local: set[str]) -> None:
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for t in ast.walk(target):
                if isinstance(t, ast.Subscript):
                    raise error(node, "item assignment (x[i] = ...)", "arrays are values here, "
                                "not memory: build a new one with ad.where(mask, new, x), "
                                "ad.stack([...]) or ad.concatenate([...])")  # fmt: skip
                if isinstance(t, ast.Attribute):
                    raise error(node, "attribute assignment (obj.a = ...)", "keep the value in "
                                "a local variable and return it")  # fmt: skip
        if isinstance(node, ast.AnnAssign) and node.value is None:
            raise error(node, "a bare annotation", "give the variable a value")
    elif isinstance(node, ast.For | ast.While) and node.orelse:
        word = "for" if isinstance(node, ast.For) else "while"
        raise error(node, f"{word} ... else", "use a flag variable set before break")
    elif isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg is None and not _is_free_name(kw.value, local):
                raise error(node, "**-unpacking in a call", "pass keyword arguments one by one")
    elif isinstance(node, ast.Return) and node.value is None:
        raise error(node, "return without a value", "return the function's result")


def _walk_body(tree: ast.FunctionDef) -> list[ast.AST]:
    return list(ast.walk(ast.Module(body=tree.body, type_ignores=[])))


def _parameters(tree: ast.FunctionDef) -> set[str]:
    args = tree.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def _assigned_names(tree: ast.FunctionDef) -> set[str]:
    return {
        node.id for node in _walk_body(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }  # fmt: skip


def _callee(func: ast.expr, source: Source, local: set[str], free: dict[str, Any],
            error: _Error) -> Callee:  # fmt: skip
    spelled = ast.unparse(func)
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    static = isinstance(root, ast.Name) and root.id not in local  # np.sum, cfg.f, ...
    if not static:
        method = METHODS.get(func.attr) if isinstance(func, ast.Attribute) else None
        if method is not None:  # x.sum(axis=0), (a @ b).T.mean()
            return Callee("method", method, f"ad.{table_name(method)}")
        return Callee("dynamic", None, spelled)
    value = free.get(root.id, MISSING)
    if value is MISSING:
        value = source.lookup(root.id)
        if value is MISSING:
            raise error(func, f"the name {root.id!r}", "it is not defined")
        free[root.id] = value
    for attr in _attributes(func):
        try:
            value = getattr(value, attr)
        except AttributeError:
            raise error(
                func, spelled, f"{type(value).__name__} has no attribute {attr!r}"
            ) from None
    return classify(value, spelled)


def _attributes(node: ast.expr) -> list[str]:
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return attrs[::-1]


# ---------------------------------------------------------------------------
# Control flow: returns and break/continue must leave structured code behind


def always_exits(block: list[ast.stmt], words: tuple[type, ...]) -> bool:
    """Whether every path through ``block`` ends in one of ``words`` (ast.Return, ast.Break ...)."""
    if not block:
        return False
    last = block[-1]
    if isinstance(last, words):
        return True
    if isinstance(last, ast.If):
        return always_exits(last.body, words) and always_exits(last.orelse, words)
    return False


def may_exit(block: list[ast.stmt], words: tuple[type, ...]) -> bool:
    """Whether some path through ``block`` (not inside a nested loop) reaches one of ``words``."""
    stack = list(block)
    while stack:
        node = stack.pop()
        if isinstance(node, words):
            return True
        if isinstance(node, ast.If):
            stack += node.body + node.orelse
        elif isinstance(node, ast.For | ast.While) and ast.Return in words:
            stack += node.body  # a return inside a loop exits the function
    return False


def structure(
    block: list[ast.stmt],
    words: tuple[type, ...],
    error: Callable[..., DifferentiationError],
    copies: int = 1,
) -> list[ast.stmt]:
    """``block`` with the statements after an ``if`` that may exit (return, break or
    continue) moved into the paths that do not exit, so no exit skips code::

        if x > 0:                  if x > 0:
            return x      -->          return x
        y = -x                     else:
        return y                       y = -x
                                       return y

    When both branches continue in some path, the rest is copied into each;
    more than four copies of a statement raise ``error`` with a fix.
    """
    out: list[ast.stmt] = []
    for i, stmt in enumerate(block):
        if isinstance(stmt, words):
            out.append(stmt)
            return out  # anything after it never runs
        if not isinstance(stmt, ast.If):
            out.append(stmt)
            continue
        body = structure(stmt.body, words, error, copies)
        orelse = structure(stmt.orelse, words, error, copies)
        rest = block[i + 1 :]
        new = ast.If(test=stmt.test, body=body, orelse=orelse)
        ast.copy_location(new, stmt)
        new.end_lineno = getattr(stmt, "end_lineno", None)
        if not rest or not (may_exit(body, words) or may_exit(orelse, words)):
            out.append(new)
            continue
        copies *= _ends(body, words) + _ends(orelse, words)
        if copies > 4:
            node = next(iter(_exits_in(body + orelse, words)))
            raise error(node, f"{_word(node)} in deeply nested ifs", "sct would have to copy the "
                        "code after it into too many paths; combine the conditions (e.g. "
                        "`if a and b: break`) or restructure the branches")  # fmt: skip
        new.body = structure(_append(body, rest, words), words, error, copies)
        new.orelse = structure(_append(orelse, rest, words), words, error, copies)
        out.append(new)
        return out
    return out


def _ends(block: list[ast.stmt], words: tuple[type, ...]) -> int:
    """How many paths through ``block`` end without exiting (where following code would go)."""
    if always_exits(block, words):
        return 0
    last = block[-1] if block else None
    if isinstance(last, ast.If) and (may_exit(last.body, words) or may_exit(last.orelse, words)):
        return _ends(last.body, words) + _ends(last.orelse, words)
    return 1


def _append(block: list[ast.stmt], rest: list[ast.stmt], words: tuple[type, ...]) -> list:
    """``block`` followed by ``rest`` on every path that does not exit."""
    if always_exits(block, words):
        return block
    last = block[-1] if block else None
    if isinstance(last, ast.If) and (may_exit(last.body, words) or may_exit(last.orelse, words)):
        new = ast.If(test=last.test, body=_append(last.body, rest, words),
                     orelse=_append(last.orelse, rest, words))  # fmt: skip
        ast.copy_location(new, last)
        return [*block[:-1], new]
    return [*block, *rest]


def _exits_in(block: list[ast.stmt], words: tuple[type, ...]) -> list[ast.stmt]:
    return [n for n in ast.walk(ast.Module(body=block, type_ignores=[])) if isinstance(n, words)]


def _word(node: ast.stmt) -> str:
    return {ast.Return: "return", ast.Break: "break", ast.Continue: "continue"}[type(node)]


def check_control_flow(body: list[ast.stmt], error: _Error) -> None:
    """Returns only outside loops; every path ends in a return; break/continue structured."""
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.For | ast.While):
            for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
                if isinstance(inner, ast.Return):
                    raise error(inner, "return inside a loop", "leave the loop with break and "
                                "return after it")  # fmt: skip
            structure(node.body, (ast.Break, ast.Continue), error)
    structured = structure(body, (ast.Return,), error)
    if not always_exits(structured, (ast.Return,)):
        last = body[-1] if body else None
        raise error(last or ast.Pass(), "a path without return", "the function can reach its "
                    "end without returning a value; end every path with return")  # fmt: skip
