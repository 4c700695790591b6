"""LaTeX for expression trees, in the lecture's style (a port of ``to_latex`` in utils.jl).

The printer itself is :func:`adlab.core.printing.latex_text` (an expression's
``.latex()``): ``*`` is ``\\cdot``, ``/`` is ``\\dfrac{…}{…}``, powers and nested sums
get ``\\left( … \\right)`` as the talk's printer did, and each function prints with
the LaTeX command its primitive declares. So the textbook's quotient-rule result
prints as in the lecture (fact 21):

>>> from adlab.engines.symbolic import parse
>>> print(latex(parse("(1 + x) / (2*x**2)")))
\\dfrac{\\left(1 + x\\right)}{2 \\cdot x^{2}}
"""

from __future__ import annotations

from typing import Any

from adlab.core.expr import as_expr

__all__ = ["latex"]


def latex(expr: Any) -> str:
    """The expression as a LaTeX math string.

    >>> from adlab.engines.symbolic import symbols
    >>> import adlab as ad
    >>> x, y = symbols("x y")
    >>> latex(ad.sin(x + 1) ** 2 / (x - y))
    '\\\\dfrac{\\\\left(\\\\sin\\\\left(x + 1\\\\right)\\\\right)^{2}}{\\\\left(x - y\\\\right)}'
    """
    return as_expr(expr).latex()
