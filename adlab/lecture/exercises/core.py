"""The machinery of the exercises: run the learner's answer, compare, and name the mistake.

Three kinds of exercise, each defined once in a chapter module (``chNN.py``) with its
answer key, which no notebook cell shows:

- :class:`CodeExercise` runs the learner's code (a function, a class) on fresh random
  inputs at every check, so no number printed anywhere can pass it. Each known
  mistake is written as a wrong implementation; when the learner's code behaves
  exactly like one of them on every input, the hint for that mistake is given.
- :class:`ValueExercise` compares a number (a prediction, a count) with the value its
  solution computes when checked; known wrong values or tests name the mistake.
- :class:`TextExercise` compares words, case-insensitively, against the spellings the
  language's catalogue accepts for each choice.

Every message comes from the catalogue of the chosen language
(``messages/en.py``, ``messages/ja.py``; English fills in what a catalogue lacks):
the generic ones by name, a chapter's as ``"NN.key.title"`` and
``"NN.key.<mistake>"`` (and ``"NN.key.otherwise"``, a pointer for unrecognised
mistakes, when the chapter gives one).
"""

from __future__ import annotations

import importlib
import inspect
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from html import escape
from typing import Any

import numpy as np

LANGUAGES = ("en", "ja")
DEFAULT_LANGUAGE = "en"

Inputs = dict[str, Any]


# -- the catalogues ------------------------------------------------------------------------------
@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """The messages of one language (``messages/<lang>.py``), without fallback."""
    if lang not in LANGUAGES:
        raise ValueError(f"no exercise messages in {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return importlib.import_module(f"{__package__}.messages.{lang}").MESSAGES


def message(key: str, lang: str = DEFAULT_LANGUAGE, **fields: Any) -> str:
    """The message ``key`` in ``lang`` (English where the language lacks it), filled in."""
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key)
    if text is None:
        raise KeyError(
            f"no exercise message {key!r}: add it to adlab/lecture/exercises/messages/en.py"
        )
    return text.format(**fields)


def missing(lang: str) -> list[str]:
    """The English keys that the catalogue of ``lang`` does not translate yet."""
    return sorted(set(catalogue(DEFAULT_LANGUAGE)) - set(catalogue(lang)))


# -- verdicts ------------------------------------------------------------------------------------
RIGHT, NOT_YET, UNANSWERED = "right", "not yet", "unanswered"
_MARKS = {RIGHT: ("✓", "#1b7a1b"), NOT_YET: ("✗", "#a33"), UNANSWERED: ("…", "#666")}


@dataclass(frozen=True)
class Verdict:
    """What :meth:`Bound.check` found: the status, and the message for the learner.

    ``key`` names the message (``"06.tan.no_chain"``, ``"differs"``, ...): tests read
    it, a learner reads ``message``.
    """

    status: str
    heading: str
    message: str
    key: str

    def __bool__(self) -> bool:
        return self.status == RIGHT

    def __repr__(self) -> str:
        return f"{_MARKS[self.status][0]} {self.heading}: {self.message}"

    def _repr_html_(self) -> str:
        mark, color = _MARKS[self.status]
        return (
            f'<div class="adlab-verdict" style="color:{color};font-family:sans-serif">'
            f"{mark} <b>{escape(self.heading)}</b>: {escape(self.message)}</div>"
        )


@dataclass(frozen=True)
class Finding:
    """A kind of exercise's diagnosis, before it is put into words: a status and a message."""

    status: str
    key: str  # a generic message, or a chapter's "<mistake>" (prefixed with "NN.key." later)
    fields: Mapping[str, Any] = field(default_factory=dict)
    own: bool = False  # True: the key names one of the exercise's own mistakes


# -- the kinds of exercise -----------------------------------------------------------------------
class Exercise:
    """What every kind shares: a key (``"tan"``), the mistakes it recognises (name -> what
    makes the mistake), and a diagnosis of an answer."""

    def __init__(self, key: str, mistakes: Mapping[str, Any] | None = None) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"an exercise key is a lower-case identifier, got {key!r}")
        self.key = key
        self.wrong = dict(mistakes or {})

    def diagnose(self, answer: Any, context: tuple, rng: np.random.Generator, lang: str) -> Finding:
        """What is right or wrong with ``answer`` (``lang``: for answers in words)."""
        raise NotImplementedError

    def mistakes(self) -> list[str]:
        """The names of the mistakes this exercise recognises (each has a message)."""
        return list(self.wrong)


class CodeExercise(Exercise):
    """The learner writes code; it runs on ``trials`` fresh random inputs at every check.

    ``inputs(rng)`` draws one trial's inputs (a dict). ``run(answer, *context,
    **inputs)`` is what an answer yields on them: the learner's code, the
    ``solution`` (the answer key) and each wrong implementation in ``mistakes``
    (name -> implementation) go through the same ``run``. ``context`` is what the
    notebook passes after the answer (a class the chapter built, say);
    ``example_context()`` gives it for the self-tests.
    """

    def __init__(
        self,
        key: str,
        *,
        inputs: Callable[[np.random.Generator], Inputs],
        run: Callable[..., Any],
        solution: Any,
        mistakes: Mapping[str, Any] | None = None,
        trials: int = 5,
        rtol: float = 1e-9,
        atol: float = 1e-12,
        example_context: Callable[[], tuple] = tuple,
    ) -> None:
        super().__init__(key, mistakes)
        self.inputs, self.run, self.solution = inputs, run, solution
        self.trials, self.rtol, self.atol = trials, rtol, atol
        self.example_context = example_context

    def diagnose(self, answer: Any, context: tuple, rng: np.random.Generator, lang: str) -> Finding:
        if answer is None or answer is Ellipsis:
            return Finding(UNANSWERED, "unanswered")
        trials = [self.inputs(rng) for _ in range(self.trials)]
        learner = _NoneGuard(answer) if inspect.isfunction(answer) else answer
        got = []
        for inputs in trials:
            try:
                got.append(self.run(learner, *context, **inputs))
            except _ReturnedNone:
                return Finding(UNANSWERED, "returns_none")
            except NotImplementedError:
                return Finding(UNANSWERED, "unanswered")
            except Exception as error:
                return Finding(
                    NOT_YET, "raised", {"error": _error(error), "inputs": _show_inputs(inputs)}
                )
        try:
            want = [self.run(self.solution, *context, **inputs) for inputs in trials]
        except Exception as error:  # the chapter's code, as the learner passed it, is broken
            return Finding(NOT_YET, "context_raised", {"error": _error(error)})
        if all(_close(g, w, self.rtol, self.atol) for g, w in zip(got, want)):
            return Finding(RIGHT, "right")
        for name, wrong in self.wrong.items():
            try:
                model = [self.run(wrong, *context, **inputs) for inputs in trials]
            except Exception:  # a mistake that cannot run on these inputs cannot be it
                continue
            if all(_close(g, m, self.rtol, self.atol) for g, m in zip(got, model)):
                return Finding(NOT_YET, name, own=True)
        inputs, value = next(
            (i, g) for i, g, w in zip(trials, got, want) if not _close(g, w, self.rtol, self.atol)
        )
        return Finding(NOT_YET, "differs", {"inputs": _show_inputs(inputs), "got": _show(value)})


class ValueExercise(Exercise):
    """The learner gives a value (a prediction, a count), compared with ``solution()``.

    ``mistakes`` maps a mistake's name to its wrong value, or to a test of the
    answer; the first that fits names the mistake.
    """

    def __init__(
        self,
        key: str,
        *,
        solution: Callable[[], Any],
        mistakes: Mapping[str, Any] | None = None,
        rtol: float = 1e-9,
        atol: float = 1e-12,
    ) -> None:
        super().__init__(key, mistakes)
        self.solution = solution
        self.rtol, self.atol = rtol, atol

    def diagnose(self, answer: Any, context: tuple, rng: np.random.Generator, lang: str) -> Finding:
        if answer is None or answer is Ellipsis:
            return Finding(UNANSWERED, "unanswered")
        want = self.solution()
        try:
            got = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return Finding(NOT_YET, "not_a_number", {"type": type(answer).__name__})
        if got.shape != np.shape(want):
            return Finding(NOT_YET, "wrong_shape", {"got": got.shape, "want": np.shape(want)})
        if _close(answer, want, self.rtol, self.atol):
            return Finding(RIGHT, "right")
        for name, wrong in self.wrong.items():
            try:
                fits = (
                    wrong(answer)
                    if callable(wrong)
                    else _close(answer, wrong, self.rtol, self.atol)
                )
            except Exception:  # a test that cannot read this answer does not fit it
                fits = False
            if fits:
                return Finding(NOT_YET, name, own=True)
        return Finding(NOT_YET, "wrong_value")


class TextExercise(Exercise):
    """The learner answers in words: one word, or a list of them, from ``choices``.

    Each choice is accepted in any spelling that the catalogue lists under
    ``"word.<choice>"`` (``|``-separated) in English or in the chapter's language,
    ignoring case, spacing and surrounding punctuation. ``mistakes`` maps a
    mistake's name to a test of the answer, given as a tuple of choices.
    """

    def __init__(
        self,
        key: str,
        *,
        solution: str | Sequence[str],
        choices: Sequence[str],
        mistakes: Mapping[str, Callable[[tuple[str, ...]], bool]] | None = None,
    ) -> None:
        super().__init__(key, mistakes)
        self.single = isinstance(solution, str)
        self.solution = (solution,) if isinstance(solution, str) else tuple(solution)
        self.choices = tuple(choices)

    def spellings(self, lang: str) -> dict[str, str]:
        """Every accepted spelling (normalised) -> its choice."""
        found = {}
        for choice in self.choices:
            for language in dict.fromkeys((DEFAULT_LANGUAGE, lang)):
                for spelling in _spellings(choice, language):
                    found[normalise(spelling)] = choice
        return found

    def diagnose(self, answer: Any, context: tuple, rng: np.random.Generator, lang: str) -> Finding:
        if answer is None or answer is Ellipsis:
            return Finding(UNANSWERED, "unanswered")
        words = (answer,) if isinstance(answer, str) else answer
        if not isinstance(words, Sequence) or not all(isinstance(w, str) for w in words):
            return Finding(NOT_YET, "not_words", {"type": type(answer).__name__})
        if len(words) != len(self.solution):
            return Finding(NOT_YET, "wrong_length", {"got": len(words), "want": len(self.solution)})
        spellings = self.spellings(lang)
        chosen = []
        for word in words:
            if normalise(word) not in spellings:
                choices = ", ".join(_spellings(c, lang)[0] for c in self.choices)
                return Finding(NOT_YET, "unknown_word", {"word": word, "choices": choices})
            chosen.append(spellings[normalise(word)])
        if tuple(chosen) == self.solution:
            return Finding(RIGHT, "right")
        for name, test in self.wrong.items():
            if test(tuple(chosen)):
                return Finding(NOT_YET, name, own=True)
        wrong = sum(c != s for c, s in zip(chosen, self.solution))
        return Finding(NOT_YET, "wrong_words", {"count": wrong, "total": len(self.solution)})


def normalise(text: str) -> str:
    """Case, width, spacing and surrounding punctuation do not matter in a word answer.

    >>> normalise("  Reverse-Mode. ")
    'reverse mode'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[\s_\-‐–—]+", " ", text)
    return text.strip(" .,;:!?\"'`()「」『』。、")


# -- chapters ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bound:
    """One exercise of one chapter, in one language: what a notebook calls ``check`` on."""

    exercise: Exercise
    chapter: str
    number: int
    lang: str

    @property
    def title(self) -> str:
        return message(f"{self.chapter}.{self.exercise.key}.title", self.lang)

    @property
    def heading(self) -> str:
        return message("heading", self.lang, number=self.number, title=self.title)

    def check(self, answer: Any = None, *context: Any, rng: Any = None) -> Verdict:
        """Check ``answer`` (with the chapter's ``context``, if the exercise needs it).

        ``rng`` (a seed or a numpy Generator) fixes the random inputs; by default
        every check draws fresh ones.
        """
        found = self.exercise.diagnose(answer, context, np.random.default_rng(rng), self.lang)
        own = f"{self.chapter}.{self.exercise.key}."
        key = own + found.key if found.own else found.key
        text = message(key, self.lang, **found.fields)
        if not found.own and found.key in _UNRECOGNISED and own + "otherwise" in catalogue("en"):
            text = f"{text} {message(own + 'otherwise', self.lang)}"  # the chapter's pointer
        return Verdict(found.status, self.heading, text, key)

    def __repr__(self) -> str:
        return f"<{self.heading}>"


class Chapter:
    """A chapter's exercises, by key (``exercises.tan``) or by number (``exercises[1]``).

    >>> from adlab.lecture.exercises import chapter
    >>> chapter("06").tan.check(None)  # doctest: +ELLIPSIS
    … Exercise 1 — tan′ with your dual numbers: not answered yet. Write your answer ...
    """

    def __init__(self, name: str | int, lang: str = DEFAULT_LANGUAGE) -> None:
        self.name = f"{int(name):02d}" if not isinstance(name, str) else name
        catalogue(lang)  # an unknown language fails here, with the choices
        try:
            module = importlib.import_module(f"{__package__}.ch{self.name}")
        except ModuleNotFoundError:
            raise ValueError(
                f"chapter {self.name!r} has no exercises: define them in "
                f"adlab/lecture/exercises/ch{self.name}.py"
            ) from None
        self.lang = lang
        self._bound = [
            Bound(ex, self.name, number, lang) for number, ex in enumerate(module.EXERCISES, 1)
        ]

    def __getattr__(self, key: str) -> Bound:
        for bound in self.__dict__.get("_bound", ()):
            if bound.exercise.key == key:
                return bound
        raise AttributeError(f"chapter {self.__dict__.get('name')} has no exercise {key!r}")

    def __getitem__(self, number: int) -> Bound:
        return self._bound[number - 1]

    def __iter__(self) -> Iterator[Bound]:
        return iter(self._bound)

    def __len__(self) -> int:
        return len(self._bound)

    def __repr__(self) -> str:
        keys = ", ".join(b.exercise.key for b in self._bound)
        return f"<exercises of chapter {self.name} ({self.lang}): {keys}>"


def chapter(name: str | int, lang: str = DEFAULT_LANGUAGE) -> Chapter:
    """The exercises of chapter ``name`` ("06"), with messages in ``lang`` ("en", "ja")."""
    return Chapter(name, lang)


# -- helpers -------------------------------------------------------------------------------------
_UNRECOGNISED = ("differs", "wrong_value", "wrong_words")  # wrong, and no known mistake fits


def _spellings(choice: str, lang: str) -> list[str]:
    """The spellings of ``choice`` that the catalogue of ``lang`` accepts (first: the usual one)."""
    return catalogue(lang).get(f"word.{choice}", choice).split("|")


class _ReturnedNone(Exception):
    pass


class _NoneGuard:
    """The learner's function, stopping the check where it returns None (no body yet,
    or a missing ``return``)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "answer")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.fn(*args, **kwargs)
        if out is None:
            raise _ReturnedNone
        return out


def _close(got: Any, want: Any, rtol: float, atol: float) -> bool:
    """Equal within the tolerances, for numbers, arrays and (nested) tuples, lists, dicts."""
    if isinstance(want, str) or isinstance(got, str) or want is None or got is None:
        return got == want
    if isinstance(want, Mapping):
        return (
            isinstance(got, Mapping)
            and set(got) == set(want)
            and all(_close(got[k], want[k], rtol, atol) for k in want)
        )
    if isinstance(want, list | tuple) and not _flat_numbers(want):
        return (
            isinstance(got, list | tuple)
            and len(got) == len(want)
            and all(_close(g, w, rtol, atol) for g, w in zip(got, want))
        )
    try:
        g, w = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return False
    return g.shape == w.shape and bool(np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True))


def _flat_numbers(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values)


def _show(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    if isinstance(value, tuple | list):
        inner = ", ".join(_show(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, threshold=8)
    return repr(value)


def _show_inputs(inputs: Inputs) -> str:
    return ", ".join(f"{name} = {_show(value)}" for name, value in inputs.items())


def _error(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
