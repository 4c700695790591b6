"""THE table: every primitive of adlab once, with its implementation and its rules.

``scalar`` holds the elementwise primitives (declared by their partial
derivatives), ``array`` the array primitives (declared by jvp/vjp or, when
linear, by their transpose), ``operators`` maps Python operators and numpy's
protocols onto them.
"""

from adlab.ops.array import (
    broadcast_to,
    concatenate,
    dot,
    getitem,
    logsumexp,
    matmul,
    max,
    mean,
    reshape,
    scatter_add,
    stack,
    sum,
    transpose,
)
from adlab.ops.scalar import (
    KINKS,
    abs,
    add,
    cos,
    equal,
    exp,
    expm1,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    logical_not,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tan,
    tanh,
    truediv,
    where,
)

__all__ = [
    "KINKS", "abs", "add", "broadcast_to", "concatenate", "cos", "dot", "equal", "exp",
    "expm1", "getitem", "greater", "greater_equal", "less", "less_equal", "log", "log1p",
    "logical_not", "logsumexp", "matmul", "max", "maximum", "mean", "minimum", "mul", "neg",
    "not_equal", "pow", "relu", "reshape", "scatter_add", "sigmoid", "sign", "sin", "sqrt",
    "stack", "sub", "sum", "tan", "tanh", "transpose", "truediv", "where",
]  # fmt: skip
