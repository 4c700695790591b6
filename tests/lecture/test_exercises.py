"""The lecture's exercises: every answer key passes, every known mistake gets its own hint,
an empty answer is "not answered yet", checks draw fresh inputs, and every message exists in
English with the same fields in every catalogue."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string

import numpy as np
import pytest

from adlab.lecture import exercises
from adlab.lecture.exercises import core

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(exercises.__path__) if re.fullmatch(r"ch\d\d", m.name)
)
CHAPTERS = [name[2:] for name in MODULES]
EXERCISES = [
    (ch, bound) for ch in CHAPTERS for bound in exercises.chapter(ch)
]  # fmt: skip
IDS = [f"{ch}.{b.exercise.key}" for ch, b in EXERCISES]
SEEDS = range(12)


def _context(bound):
    return bound.exercise.example_context() if isinstance(bound.exercise, core.CodeExercise) else ()


def _right_answer(bound):
    ex = bound.exercise
    if isinstance(ex, core.CodeExercise):
        return ex.solution
    if isinstance(ex, core.ValueExercise):
        return ex.solution()
    return ex.solution[0] if ex.single else list(ex.solution)


def _wrong_answers(bound):
    """Each recognised mistake, as an answer that makes it (code and values; words are tested
    by the chapters' own tests, since a test of words names no single answer)."""
    ex = bound.exercise
    if isinstance(ex, core.CodeExercise):
        return dict(ex.wrong)
    if isinstance(ex, core.ValueExercise):
        return {name: w for name, w in ex.wrong.items() if not callable(w)}
    return {}


def test_every_chapter_module_defines_exercises():
    assert MODULES, "no adlab/lecture/exercises/chNN.py found"
    for ch in CHAPTERS:
        module = importlib.import_module(f"adlab.lecture.exercises.ch{ch}")
        assert module.EXERCISES, f"ch{ch}.py defines no EXERCISES"
        keys = [e.key for e in module.EXERCISES]
        assert len(set(keys)) == len(keys), f"ch{ch}.py: two exercises share a key: {keys}"


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_the_answer_key_is_right_on_fresh_inputs(ch, bound):
    for seed in SEEDS:
        verdict = bound.check(_right_answer(bound), *_context(bound), rng=seed)
        assert verdict, f"seed {seed}: {verdict!r}"
        assert verdict.key == "right" and verdict.heading.startswith("Exercise ")


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_every_known_mistake_gets_its_own_hint(ch, bound):
    for name, wrong in _wrong_answers(bound).items():
        for seed in SEEDS:
            verdict = bound.check(wrong, *_context(bound), rng=seed)
            assert not verdict, f"the mistake {name!r} passes (seed {seed})"
            assert verdict.key == f"{ch}.{bound.exercise.key}.{name}", (
                f"the mistake {name!r} gets another message (seed {seed}): {verdict!r}"
            )


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_an_empty_answer_is_not_answered_yet(ch, bound):
    def nothing_yet(*args, **kwargs): ...

    for empty in (None, ..., nothing_yet):
        code = isinstance(bound.exercise, core.CodeExercise) and callable(bound.exercise.solution)
        if empty is nothing_yet and not code:
            continue
        verdict = bound.check(empty, *_context(bound))
        assert verdict.status == core.UNANSWERED, repr(verdict)


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_code_is_run_on_fresh_random_inputs(ch, bound):
    ex = bound.exercise
    if not isinstance(ex, core.CodeExercise):
        pytest.skip("not a code exercise")
    drawn = {repr(ex.inputs(np.random.default_rng())) for _ in range(20)}
    assert len(drawn) >= 5, "the inputs hardly change from one check to the next"
    assert ex.trials >= 3


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_every_message_exists_and_no_hint_fits_the_right_answer(ch, bound):
    ex = bound.exercise
    prefix = f"{ch}.{ex.key}."
    en = core.catalogue("en")
    assert prefix + "title" in en
    for name in ex.mistakes():
        assert prefix + name in en, f"no message {prefix + name} in messages/en.py"
    if isinstance(ex, core.TextExercise):
        for choice in ex.choices:
            assert f"word.{choice}" in en, f"no spellings word.{choice} in messages/en.py"
        for name, test in ex.wrong.items():
            assert not test(ex.solution), f"the mistake {name!r} fits the right answer"


def test_chapter_messages_belong_to_an_exercise():
    known = {f"{ch}.{b.exercise.key}.{name}" for ch, b in EXERCISES
             for name in ["title", "otherwise", *b.exercise.mistakes()]}  # fmt: skip
    for key in core.catalogue("en"):
        if re.match(r"\d\d\.", key):
            assert key in known, f"messages/en.py has {key!r}, which no exercise uses"


@pytest.mark.parametrize("lang", exercises.LANGUAGES)
def test_catalogues_have_the_same_fields_as_english(lang):
    en = core.catalogue("en")
    for key, text in core.catalogue(lang).items():
        assert key in en, f"messages/{lang}.py has {key!r}, which English lacks"
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        want = {f for _, f, _, _ in string.Formatter().parse(en[key]) if f}
        assert fields == want, f"{lang} {key!r} fills {sorted(fields)}, English {sorted(want)}"


def test_every_generic_message_is_translated_into_japanese():
    generic = [k for k in core.missing("ja") if not re.match(r"\d\d\.", k)]
    assert generic == []


def test_japanese_messages_fall_back_to_english_where_untranslated():
    bound = exercises.chapter("06", lang="ja").tan
    assert bound.check(None).message == core.message("unanswered", "ja")
    assert bound.title == core.message("06.tan.title", "en")  # until issue 18 translates it


def test_word_answers_ignore_case_spacing_and_punctuation():
    ex = core.TextExercise("mode", solution=["reverse", "forward"], choices=["forward", "reverse"])
    for answer in (
        ["Reverse", "FORWARD"],
        ["  reverse-mode. ", "Forward mode"],
        ["後退型", "前進型"],
    ):
        assert ex.diagnose(answer, (), np.random.default_rng(0), "ja").key == "right"
    assert (
        ex.diagnose(["後退型", "前進型"], (), np.random.default_rng(0), "en").key == "unknown_word"
    )
    assert ex.diagnose(["forward", "reverse"], (), None, "en").key == "wrong_words"
    assert ex.diagnose("reverse", (), None, "en").key == "wrong_length"


def test_a_wrong_answer_gets_no_factor_or_sign_that_gives_it_away():
    ex = core.ValueExercise("count", solution=lambda: 7)
    for wrong in (21, -7, 3.5):
        finding = ex.diagnose(wrong, (), None, "en")
        assert finding.key == "wrong_value" and not finding.fields


def test_unknown_chapter_and_language_say_what_to_do():
    with pytest.raises(ValueError, match=r"ch99\.py"):
        exercises.chapter("99")
    with pytest.raises(ValueError, match="en, ja"):
        exercises.chapter("06", lang="fr")
    with pytest.raises(AttributeError, match="no exercise 'tangent'"):
        exercises.chapter("06").tangent  # noqa: B018


def test_a_broken_context_is_reported_not_raised():
    class Broken:
        def __init__(self, a, b=0):
            raise RuntimeError("this DualNumber was left half-written")

    verdict = exercises.chapter("06").tan.check(lambda x: x, Broken)
    assert verdict.key in ("raised", "context_raised") and "half-written" in verdict.message
