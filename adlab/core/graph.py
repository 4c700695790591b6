"""Graph walks that never recurse on graph depth.

A computation graph can be a million operations deep; every walk here uses an
explicit stack and visits parents in their stored (ordered) sequence, so the
orders it returns are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def topological_order(roots: Iterable[N], parents: Callable[[N], Sequence[N]]) -> list[N]:
    """Every node reachable from ``roots``, each after all of its parents.

    An iterative depth-first post-order: parents are visited in their stored
    order, so the result is deterministic.
    """
    order: list[N] = []
    done: set[N] = set()
    for root in roots:
        if root in done:
            continue
        stack = [(root, iter(parents(root)))]
        done.add(root)
        while stack:
            node, it = stack[-1]
            for p in it:
                if p not in done:
                    done.add(p)
                    stack.append((p, iter(parents(p))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def generations(order: Sequence[N], parents: Callable[[N], Sequence[N]]) -> dict[N, int]:
    """Longest-path depth of each node: 0 for nodes without parents.

    ``order`` must be topological (parents first). Nodes of one generation do
    not depend on each other; a layered drawing puts each generation in a row.
    """
    gen: dict[N, int] = {}
    for node in order:
        gen[node] = 1 + max((gen[p] for p in parents(node)), default=-1)
    return gen
