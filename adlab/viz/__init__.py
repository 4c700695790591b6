"""Pictures and tables of adlab's objects: plain strings (HTML, SVG), no graphviz.

Renderers here read the data structures of the other layers (traces, rule
tables) without importing them; matplotlib is imported lazily, only by plots.
"""
