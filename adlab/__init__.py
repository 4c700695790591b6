"""adlab — automatic differentiation you can watch.

Five differentiation engines read one table of primitives and derivative
rules; a JAX-style API (``grad``, ``vjp``, ``jacobian``, ``hessian`` ...) runs
over every engine; ``ad.trace`` records a run of your own code so you can see
its graph, its Wengert list, and every step of its forward and backward sweeps.
``ad.draw`` pictures them as SVG; in Jupyter, ``%load_ext adlab`` adds the
``%%grad`` cell magic and ``ad.widgets.Stepper`` steps through the sweeps.

>>> import adlab as ad
>>> ad.grad(lambda x, y: x * x * y + 1 / (x * x + y * y + 1), argnums=(0, 1))(0.5, -0.5)
(-0.9444444444444444, 0.6944444444444444)
"""

from typing import Any

from adlab import ops, testing
from adlab.api import (
    MODES,
    available_modes,
    counting,
    derivative,
    grad,
    hessian,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from adlab.comparison import compare
from adlab.core.errors import DifferentiationError
from adlab.core.primitive import Primitive, nondifferentiable, primitive
from adlab.core.rules import defrule
from adlab.core.transform import no_grad
from adlab.engines import numeric, sct, symbolic
from adlab.engines.forward import Dual
from adlab.engines.reverse import Trace, Variable, trace
from adlab.engines.symbolic import parse, symbols
from adlab.ruletable import rule_table
from adlab.viz.svg import draw

globals().update(ops.PUBLIC)  # every differentiable operation of the table: ad.sin, ad.sum ...

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext adlab``: register the ``%%grad`` cell magic (IPython is imported only now)."""
    from adlab.notebook import magics

    magics.load_ipython_extension(ipython)


def __getattr__(name: str) -> Any:
    """``ad.widgets`` (the Stepper) is imported on first use: ipywidgets is heavy."""
    if name == "widgets":
        from adlab.notebook import widgets

        return widgets
    raise AttributeError(f"module 'adlab' has no attribute {name!r}")


__all__ = [
    "MODES", "DifferentiationError", "Dual", "Primitive", "Trace", "Variable", "available_modes",
    "compare", "counting", "defrule", "derivative", "draw", "grad", "hessian", "jacobian", "jvp",
    "no_grad", "nondifferentiable", "numeric", "parse", "primitive", "rule_table", "sct",
    "symbolic", "symbols", "testing", "trace", "value_and_grad", "vjp", *ops.PUBLIC,
]  # fmt: skip
