"""Trace-based reverse mode (``mode="reverse"``), in two parts.

:mod:`.engine` is the engine: :class:`Variable`, the backward sweep and ``vjp``,
the protocol the API runs on. :mod:`.trace` is the teaching trace built on it:
``ad.trace`` records every node of a run with its value and name, for the Wengert
list, the drawings and the Stepper.
"""

from adlab.engines.reverse.engine import (
    ENGINE,
    Node,
    Variable,
    backward,
    no_grad,
    parents_and_partials,
    vjp,
)
from adlab.engines.reverse.trace import Tape, Trace, TraceNode, plain, record, trace

__all__ = [
    "ENGINE", "Node", "Tape", "Trace", "TraceNode", "Variable", "backward", "no_grad",
    "parents_and_partials", "plain", "record", "trace", "vjp",
]  # fmt: skip
