"""README's list of the numpy adlab differentiates stays true.

Every ``np.<name>`` of the section "What numpy adlab differentiates" reaches the table on a
traced value (a ufunc with a rule, or a function of ``ops.operators.FUNCTIONS``), every
``ad.<name>`` is exported, and every array method written ``.name()`` is a traced value's.
(Their derivatives are checked where they are declared: tests/ops/test_*.py.)
"""

from __future__ import annotations

import pathlib
import re

import numpy as np

import adlab as ad
from adlab.ops.array import METHODS
from adlab.ops.operators import FUNCTIONS, UFUNCS

README = pathlib.Path(__file__).parents[2] / "README.md"


def _section() -> str:
    """The section's list (its bullets), lines joined."""
    text = README.read_text(encoding="utf-8")
    start = text.index("- **", text.index("## What numpy adlab differentiates"))
    return text[start : text.index("\n## ", start)].replace("\n  ", " ")


def _names(prefix: str) -> set[str]:
    spans = re.findall(r"`([^`]+)`", _section())
    return {m.group(1) for span in spans for w in span.split()
            if (m := re.fullmatch(re.escape(prefix) + r"(\w+)", w))}  # fmt: skip


def test_the_section_names_functions():
    assert len(_names("np.")) > 50 and {"einsum", "sort", "pad"} <= _names("np.")


def test_every_numpy_function_listed_reaches_the_table():
    missing = []
    for name in sorted(_names("np.")):
        fn = getattr(np, name)
        if not (fn in UFUNCS or fn in FUNCTIONS):
            missing.append(name)
    assert not missing, f"README lists np.{missing} but the table has no rule for them"


def test_every_adlab_function_and_method_listed_exists():
    assert all(callable(getattr(ad, name)) for name in _names("ad."))
    methods = {w.strip("().") for w in re.findall(r"`(\.\w+)(?:\(\))?`", _section())}
    assert {"T", "ravel", "flatten"} <= methods
    assert all(m in METHODS or m == "T" for m in methods)
