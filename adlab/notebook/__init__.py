"""adlab in Jupyter: the ``%%grad`` cell magic and the Stepper widget.

The only part of adlab that imports IPython and ipywidgets; ``import adlab``
never imports it. ``%load_ext adlab`` loads :mod:`adlab.notebook.magics`, and
``ad.widgets`` is :mod:`adlab.notebook.widgets`.
"""
