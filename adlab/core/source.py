"""Generated code that tracebacks and ``inspect`` can read, for as long as it lives.

The sct and symbolic engines write Python source and compile it. Registering the
source with :mod:`linecache` under a file name of its own (as IPython does for
notebook cells) lets tracebacks show the generated lines and ``inspect.getsource``
find them; the entry is dropped when the function it belongs to is garbage
collected, so transforming thousands of functions does not grow the cache without
bound.
"""

from __future__ import annotations

import linecache
import weakref
from collections.abc import Callable
from typing import Any


def compile_source(source: str, filename: str, namespace: dict[str, Any],
                   name: str) -> Callable[..., Any]:  # fmt: skip
    """Run ``source`` (which defines the function ``name``) in ``namespace`` and return the
    function; ``filename`` names its lines in ``linecache`` while the function lives."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    function = namespace[name]
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function
