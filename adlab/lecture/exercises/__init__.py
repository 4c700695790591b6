"""Exercises that check the learner's code on fresh random inputs, with hints that name the mistake.

A notebook gets its chapter's exercises and checks what the learner wrote::

    from adlab.lecture.exercises import chapter
    exercises = chapter("06")            # chapter("06", lang="ja"): messages in Japanese

    def tan(x):
        ...                              # the learner's code

    exercises.tan.check(tan, DualNumber) # runs tan on random duals: ✓, or a hint

The exercises, with their answer keys and the mistakes they recognise, are defined
in ``chNN.py`` (never in a notebook cell); every message comes from one catalogue
per language, ``messages/<lang>.py`` (see :mod:`adlab.lecture.exercises.core`).
"""

from adlab.lecture.exercises.core import (
    LANGUAGES,
    Bound,
    Chapter,
    CodeExercise,
    TextExercise,
    ValueExercise,
    Verdict,
    chapter,
    message,
    missing,
)

__all__ = [
    "LANGUAGES",
    "Bound",
    "Chapter",
    "CodeExercise",
    "TextExercise",
    "ValueExercise",
    "Verdict",
    "chapter",
    "message",
    "missing",
]
