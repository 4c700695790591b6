"""The differentiation engines: each one an interpreter of the rule table in adlab.ops.

One strategy per module; no engine imports another. Each exposes the small
protocol the API is written against (``vjp`` and/or ``jvp`` over flat tuples).
"""
