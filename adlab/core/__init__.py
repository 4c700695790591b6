"""The vocabulary every engine shares: primitives, rules, tangents, graphs, events.

``adlab.core`` imports nothing else from adlab; everything else imports it.
"""
