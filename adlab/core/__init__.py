"""The vocabulary every engine shares: primitives and their rules, the one derivation,
transformations, the engine protocol, expressions, tangents, graphs, events.

``adlab.core`` imports nothing else from adlab; everything else imports it.
"""
