"""GradResult: what a ``%%grad`` cell returns, a value and its gradient that show as a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adlab.core.events import format_value
from adlab.viz.tables import Table


@dataclass(frozen=True)
class GradResult:
    """The output's ``value``, its gradient ``grads`` (input name -> gradient) and the
    recorded ``trace`` (``None`` when no reverse-mode trace was taken).

    ``output`` names the output, ``mode`` the engine that computed the gradient and
    ``check`` the largest difference from central differences (``%%grad --check``).
    In a notebook it shows as a small table; ``ad.draw(result)`` draws the graph
    with every node's adjoint.

    >>> import adlab as ad
    >>> t = ad.trace(lambda x, y: x * y, 2.0, 3.0)
    >>> r = GradResult(6.0, {"x": 3.0, "y": 2.0}, t, output="z", inputs={"x": 2.0, "y": 3.0})
    >>> r
    GradResult(z = 6.0; ∂z/∂x = 3.0, ∂z/∂y = 2.0)
    """

    value: Any
    grads: dict[str, Any]
    trace: Any = None
    output: str = "out"
    inputs: dict[str, Any] | None = None
    mode: str = "reverse"
    check: float | None = None

    def __getitem__(self, name: str) -> Any:
        """The gradient with respect to one input: ``result["x"]``."""
        return self.grads[name]

    def table(self) -> Table:
        """The result as a :class:`~adlab.viz.tables.Table`: one row per input."""
        out = self.output
        inputs = self.inputs or {}
        rows = [
            (name, format_value(inputs[name]) if name in inputs else "", format_value(g))
            for name, g in self.grads.items()
        ]
        note = None
        if self.check is not None:
            note = f"largest difference from central differences: {self.check:.2e}"
        return Table(
            ("input", "value", f"∂{out}/∂input"),
            rows,
            title=f"{out} = {format_value(self.value)}   (mode={self.mode})",
            note=note,
        )

    def __repr__(self) -> str:
        grads = ", ".join(f"∂{self.output}/∂{n} = {format_value(g)}" for n, g in self.grads.items())
        return f"GradResult({self.output} = {format_value(self.value)}; {grads})"

    def _repr_html_(self) -> str:
        return f'<div class="adlab-gradresult">{self.table()._repr_html_()}</div>'
