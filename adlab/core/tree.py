"""Nested containers of values ("pytrees"): flatten to a list of leaves, rebuild.

Inputs and gradients can be floats, arrays, or tuples / lists / dicts of them.
Engines work on flat tuples of leaves; the API flattens on the way in and
rebuilds the same structure on the way out. Dicts keep their insertion order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TreeDef:
    """The shape of a container tree, without its leaves."""

    kind: type | None  # None for a leaf
    keys: tuple = ()
    children: tuple[TreeDef, ...] = ()

    @functools.cached_property
    def num_leaves(self) -> int:
        if self.kind is None:
            return 1
        return sum(c.num_leaves for c in self.children)


LEAF = TreeDef(None)


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """``(leaves, treedef)`` with the leaves in a deterministic left-to-right order."""
    leaves: list[Any] = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(tree: Any, leaves: list[Any]) -> TreeDef:
    if isinstance(tree, dict):
        keys = tuple(tree)
        return TreeDef(type(tree), keys, tuple(_flatten_into(tree[k], leaves) for k in keys))
    if isinstance(tree, tuple | list):
        return TreeDef(type(tree), (), tuple(_flatten_into(c, leaves) for c in tree))
    leaves.append(tree)
    return LEAF


def unflatten(treedef: TreeDef, leaves: Any) -> Any:
    """The inverse of :func:`flatten`."""
    it = iter(leaves)
    tree = _build(treedef, it)
    if next(it, _END) is not _END:
        raise ValueError("too many leaves for this tree structure")
    return tree


_END = object()


def _build(td: TreeDef, it: Any) -> Any:
    if td.kind is None:
        leaf = next(it, _END)
        if leaf is _END:
            raise ValueError("too few leaves for this tree structure")
        return leaf
    children = [_build(c, it) for c in td.children]
    if issubclass(td.kind, dict):
        return td.kind(zip(td.keys, children))
    if issubclass(td.kind, tuple) and hasattr(td.kind, "_fields"):  # a namedtuple
        return td.kind(*children)
    return td.kind(children)


def leaf_paths(tree: Any, prefix: str) -> list[str]:
    """Readable names of the leaves, in flatten order: ``w[0]``, ``params['b']``."""
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in leaf_paths(v, f"{prefix}[{k!r}]")]
    if isinstance(tree, tuple | list):
        return [p for i, v in enumerate(tree) for p in leaf_paths(v, f"{prefix}[{i}]")]
    return [prefix]
