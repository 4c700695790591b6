"""What the lecture's notebooks share: its example functions, figures, animations and exercises.

The notebooks (``notebooks/NN_*.ipynb``) build their demos in front of the reader
with adlab; this package holds only what several of them use or what would
clutter a slide: the talk's functions (:mod:`~adlab.lecture.examples`), PNG
figures and frame sequences for ``ad.widgets.Player``
(:mod:`~adlab.lecture.figures`), gradient descent (:mod:`~adlab.lecture.descent`),
facts stated with a ✓ (:func:`adlab.lecture.checks.check`), and exercises that run the
learner's code on fresh random inputs and name the mistake, never the answer
(:mod:`~adlab.lecture.exercises`). matplotlib is imported only when drawing.

Writing or changing a notebook: read ``notebooks/README.md`` first (the conventions,
and ``python notebooks/run.py NN``, which stores the outputs that nbval checks).
"""
