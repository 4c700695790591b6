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
import math
import re
import sys
import sysconfig
import traceback
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from html import escape
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import numpy as np

from adlab import api
from adlab.core.expr import Expr, diff
from adlab.engines import numeric, sct
from adlab.engines.forward import Dual
from adlab.engines.reverse import Variable, trace

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
    detail: str = ""  # the learner's own lines where their code raised, one frame a line

    def __bool__(self) -> bool:
        return self.status == RIGHT

    def __repr__(self) -> str:
        text = f"{_MARKS[self.status][0]} {self.heading}: {self.message}"
        return f"{text}\n{self.detail}" if self.detail else text

    def _repr_html_(self) -> str:
        mark, color = _MARKS[self.status]
        detail = (
            f'<pre style="margin:4px 0 0 1.5em;color:#1d2630">{escape(self.detail)}</pre>'
            if self.detail
            else ""
        )
        return (
            f'<div class="adlab-verdict" style="color:{color};font-family:sans-serif">'
            f"{mark} <b>{escape(self.heading)}</b>: {escape(self.message)}{detail}</div>"
        )


@dataclass(frozen=True)
class Finding:
    """A kind of exercise's diagnosis, before it is put into words: a status and a message."""

    status: str
    key: str  # a generic message, or a chapter's "<mistake>" (prefixed with "NN.key." later)
    fields: Mapping[str, Any] = field(default_factory=dict)
    own: bool = False  # True: the key names one of the exercise's own mistakes
    detail: str = ""


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
    ``example_context()`` gives it for the self-tests. ``parts`` names the items of
    what ``run`` returns (``("∂h/∂x", "∂h/∂y")``), so that a wrong answer hears which
    item is wrong. With ``own_work=True`` the exercise is about writing the
    derivative oneself: an answer that calls adlab's derivatives (``ad.grad``,
    ``ad.derivative``, ``ad.sct``, ``ad.numeric`` ...) is told so.
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
        parts: Sequence[str] = (),
        own_work: bool = False,
    ) -> None:
        super().__init__(key, mistakes)
        self.inputs, self.run, self.solution = inputs, run, solution
        self.trials, self.rtol, self.atol = trials, rtol, atol
        self.example_context = example_context
        self.parts, self.own_work = tuple(parts), own_work

    def diagnose(self, answer: Any, context: tuple, rng: np.random.Generator, lang: str) -> Finding:
        if answer is None or answer is Ellipsis:
            return Finding(UNANSWERED, "unanswered")
        trials = [self.inputs(rng) for _ in range(self.trials)]
        learner = _NoneGuard(answer) if inspect.isfunction(answer) else answer
        got = []
        with _Watch(self.own_work) as watch:
            for inputs in trials:
                try:
                    got.append(self.run(learner, *context, **inputs))
                except _ReturnedNone:
                    return Finding(UNANSWERED, "returns_none")
                except NotImplementedError:
                    return Finding(UNANSWERED, "unanswered")
                except Exception as error:
                    if watch.used:
                        break
                    return _raised(error, inputs)
        if watch.used:
            return Finding(NOT_YET, "uses_adlab", {"name": watch.used})
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
        return self._differs(trials, got, want)

    def _differs(self, trials: list[Inputs], got: list[Any], want: list[Any]) -> Finding:
        """Where the answer is wrong: the first trial that differs; with ``parts``, which
        of them are wrong on some trial, and the first wrong one's value."""
        i = next(
            i for i, (g, w) in enumerate(zip(got, want)) if not _close(g, w, self.rtol, self.atol)
        )
        shown = {"inputs": _show_inputs(trials[i])}
        if self.parts and all(_items(g, len(self.parts)) for g in got):
            wrong = [
                j
                for j in range(len(self.parts))
                if any(not _close(g[j], w[j], self.rtol, self.atol) for g, w in zip(got, want))
            ]
            if len(wrong) < len(self.parts):
                j = next(
                    j for j in wrong if not _close(got[i][j], want[i][j], self.rtol, self.atol)
                )
                right = ", ".join(self.parts[k] for k in range(len(self.parts)) if k not in wrong)
                return Finding(
                    NOT_YET,
                    "differs_in",
                    {
                        **shown,
                        "part": self.parts[j],
                        "got": _show(got[i][j], want[i][j]),
                        "right": right,
                    },
                )
        return Finding(NOT_YET, "differs", {**shown, "got": _show(got[i], want[i])})


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
    """One exercise of one chapter, in one language: what a notebook calls ``check`` on.

    The exercise itself (with its answer key) is ``_exercise``: a learner's tab
    completion of ``exercises.tan.`` shows ``check``, ``title`` and ``key``, not the key.
    """

    _exercise: Exercise
    chapter: str
    number: int
    lang: str

    @property
    def key(self) -> str:
        return self._exercise.key

    @property
    def title(self) -> str:
        return message(f"{self.chapter}.{self.key}.title", self.lang)

    @property
    def heading(self) -> str:
        return message("heading", self.lang, number=self.number, title=self.title)

    def check(self, answer: Any = None, *context: Any, rng: Any = None) -> Verdict:
        """Check ``answer`` (with the chapter's ``context``, if the exercise needs it).

        ``rng`` (a seed or a numpy Generator) fixes the random inputs; by default
        every check draws fresh ones.
        """
        found = self._exercise.diagnose(answer, context, np.random.default_rng(rng), self.lang)
        own = f"{self.chapter}.{self.key}."
        key = own + found.key if found.own else found.key
        text = message(key, self.lang, **found.fields)
        if not found.own and found.key in _UNRECOGNISED and own + "otherwise" in catalogue("en"):
            text = f"{text} {message(own + 'otherwise', self.lang)}"  # the chapter's pointer
        return Verdict(found.status, self.heading, text, key, found.detail)

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
            if bound.key == key:
                return bound
        raise AttributeError(f"chapter {self.__dict__.get('name')} has no exercise {key!r}")

    def __getitem__(self, number: int) -> Bound:
        return self._bound[number - 1]

    def __iter__(self) -> Iterator[Bound]:
        return iter(self._bound)

    def __dir__(self) -> list[str]:  # tab completion offers the exercises
        return [*super().__dir__(), *(b.key for b in self._bound)]

    def __len__(self) -> int:
        return len(self._bound)

    def __repr__(self) -> str:
        keys = ", ".join(b.key for b in self._bound)
        return f"<exercises of chapter {self.name} ({self.lang}): {keys}>"


def chapter(name: str | int, lang: str = DEFAULT_LANGUAGE) -> Chapter:
    """The exercises of chapter ``name`` ("06"), with messages in ``lang`` ("en", "ja")."""
    return Chapter(name, lang)


# -- helpers -------------------------------------------------------------------------------------
_UNRECOGNISED = (
    "differs",
    "differs_in",
    "wrong_value",
    "wrong_words",
)  # wrong, and no known mistake fits


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


def _items(value: Any, n: int) -> bool:
    return isinstance(value, tuple | list) and len(value) == n


def _show(value: Any, want: Any = None) -> str:
    """``value`` for a message: numbers with the digits that tell it from ``want`` (at least
    6 significant digits, so 1.999999995 is not shown as 2), long arrays shortened to
    their first items and their shape."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _digits(float(value), want)
    if isinstance(value, tuple | list):
        wants = want if _items(want, len(value)) else [None] * len(value)
        inner = ", ".join(_show(v, w) for v, w in zip(value, wants))
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        flat, wants = value.ravel(), np.ravel(want) if want is not None else None
        same = wants is not None and wants.shape == flat.shape
        items = [_show(v.item(), wants[k].item() if same else None) for k, v in enumerate(flat[:4])]
        more = ", …" if flat.size > 4 else ""
        return f"[{', '.join(items)}{more}] {value.shape}"
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _digits(value: float, want: Any) -> str:
    try:
        other = float(want)
    except (TypeError, ValueError):
        other = None
    for digits in range(6, 18):
        text = f"{value:.{digits}g}"
        if other is None or not math.isfinite(value) or text != f"{other:.{digits}g}":
            return text
    return repr(value)


def _show_inputs(inputs: Inputs) -> str:
    return ", ".join(f"{name} = {_show(value)}" for name, value in inputs.items())


def _error(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# -- the learner's own frames --------------------------------------------------------------------
_ADLAB = str(Path(__file__).resolve().parents[2])
_LIBRARIES = tuple(
    {
        str(Path(sysconfig.get_paths(vars=v)[k]).resolve())
        for v in ({}, {"base": sys.base_prefix, "platbase": sys.base_prefix})
        for k in ("stdlib", "platstdlib", "purelib", "platlib")
    }
)


@cache
def _learners(filename: str) -> bool:
    """Whether code in ``filename`` is the learner's: a notebook cell or a file of theirs,
    not adlab, the standard library or an installed package."""
    if filename.startswith("<frozen"):
        return False
    if filename.startswith("<"):
        return True  # a cell, or code the learner compiled
    path = str(Path(filename).resolve())
    return not path.startswith(_ADLAB) and not path.startswith(_LIBRARIES)


def _raised(error: Exception, inputs: Inputs) -> Finding:
    """The learner's code raised: the error and the learner's own lines on the way to it.
    No line of theirs on the way means the check could not use what they gave."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _learners(f.filename)]
    if not frames:
        return Finding(
            NOT_YET, "unusable", {"error": _error(error), "inputs": _show_inputs(inputs)}
        )
    lines = [f"line {f.lineno}, in {f.name}:  {(f.line or '').strip()}" for f in frames[-3:]]
    return Finding(
        NOT_YET,
        "raised",
        {"error": _error(error), "inputs": _show_inputs(inputs)},
        detail="\n".join(lines),
    )


# -- adlab's derivatives, where the learner is to write their own --------------------------------
def _derivative_code() -> dict[CodeType, str]:
    """The code of adlab's derivative functions, by the name a learner calls them by."""
    named = {
        "ad.grad": api.grad, "ad.value_and_grad": api.value_and_grad,
        "ad.derivative": api.derivative, "ad.jvp": api.jvp, "ad.vjp": api.vjp,
        "ad.jacobian": api.jacobian, "ad.hessian": api.hessian,
        "ad.sct.grad": sct.grad, "ad.sct.vjp": sct.vjp, "ad.sct.jvp": sct.jvp,
        "ad.numeric.forward_difference": numeric.forward_difference,
        "ad.numeric.backward_difference": numeric.backward_difference,
        "ad.numeric.central_difference": numeric.central_difference,
        "ad.numeric.gradient": numeric.gradient, "ad.numeric.jacobian": numeric.jacobian,
        "ad.numeric.jvp": numeric.jvp, "ad.numeric.vjp": numeric.vjp, "ad.trace": trace,
        "Expr.diff": Expr.diff, "ad.symbolic.diff": diff, "ad.Dual": Dual.__init__,
        "ad.Variable": Variable.__init__,
    }  # fmt: skip
    return {inspect.unwrap(fn).__code__: name for name, fn in named.items()}


_DERIVATIVES = _derivative_code()


class _Watch:
    """While the learner's code runs: the first of adlab's derivative functions it calls
    itself (``used``), when ``on``. A profile hook sees each call; only calls made from a
    line of the learner's count, so a check that uses adlab on the learner's rule does not."""

    def __init__(self, on: bool) -> None:
        self.on, self.used = on, ""

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and not self.used:
            name = _DERIVATIVES.get(frame.f_code)
            if name and frame.f_back is not None and _learners(frame.f_back.f_code.co_filename):
                self.used = name

    def __enter__(self) -> _Watch:
        if self.on:
            self._saved = sys.getprofile()
            sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.on:
            sys.setprofile(self._saved)
