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
IDS = [f"{ch}.{b.key}" for ch, b in EXERCISES]
SEEDS = range(12)


def _context(bound):
    return (
        bound._exercise.example_context() if isinstance(bound._exercise, core.CodeExercise) else ()
    )


def _right_answer(bound):
    ex = bound._exercise
    if isinstance(ex, core.CodeExercise):
        return ex.solution
    if isinstance(ex, core.ValueExercise):
        return ex.solution()
    return ex.solution[0] if ex.single else list(ex.solution)


def _wrong_answers(bound):
    """Each recognised mistake, as an answer that makes it (code and values; words are tested
    by the chapters' own tests, since a test of words names no single answer)."""
    ex = bound._exercise
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
            assert verdict.key == f"{ch}.{bound._exercise.key}.{name}", (
                f"the mistake {name!r} gets another message (seed {seed}): {verdict!r}"
            )


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_an_empty_answer_is_not_answered_yet(ch, bound):
    def nothing_yet(*args, **kwargs): ...

    for empty in (None, ..., nothing_yet):
        code = isinstance(bound._exercise, core.CodeExercise) and callable(bound._exercise.solution)
        if empty is nothing_yet and not code:
            continue
        verdict = bound.check(empty, *_context(bound))
        assert verdict.status == core.UNANSWERED, repr(verdict)


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_code_is_run_on_fresh_random_inputs(ch, bound):
    ex = bound._exercise
    if not isinstance(ex, core.CodeExercise):
        pytest.skip("not a code exercise")
    drawn = {repr(ex.inputs(np.random.default_rng())) for _ in range(20)}
    assert len(drawn) >= 5, "the inputs hardly change from one check to the next"
    assert ex.trials >= 3


@pytest.mark.parametrize(("ch", "bound"), EXERCISES, ids=IDS)
def test_every_message_exists_and_no_hint_fits_the_right_answer(ch, bound):
    ex = bound._exercise
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
    known = {f"{ch}.{b.key}.{name}" for ch, b in EXERCISES
             for name in ["title", "otherwise", *b._exercise.mistakes()]}  # fmt: skip
    for key in core.catalogue("en"):
        if re.match(r"\d\d\.", key):
            assert key in known, f"messages/en.py has {key!r}, which no exercise uses"


@pytest.mark.parametrize("lang", exercises.LANGUAGES)
def test_every_message_formats_with_the_fields_the_checker_fills(lang):
    # a chapter's message is filled with no fields, a generic one with its named fields: a
    # brace meant literally (a dict in a hint) must be doubled, or the hint raises KeyError
    for key, text in core.catalogue(lang).items():
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        if re.match(r"\d\d\.|word\.", key):
            assert not fields, f"{lang} {key!r} has braces the checker does not fill: {fields}"
            assert text.format() == text.replace("{{", "{").replace("}}", "}")
        else:
            assert all(f.isidentifier() for f in fields), f"{lang} {key!r}: {fields}"
            assert "…" in text.format(**dict.fromkeys(fields, "…")) or not fields


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


def test_tab_completion_shows_the_exercises_not_their_answer_keys():
    chapter = exercises.chapter("06")
    assert {"tan", "mixed_partial", "chunked_gradient"} <= set(dir(chapter))
    public = [name for name in dir(chapter.tan) if not name.startswith("_")]
    assert "check" in public and "key" in public
    assert not [name for name in public if "exercise" in name or "solution" in name]


def test_a_broken_context_is_reported_not_raised():
    class Broken:
        def __init__(self, a, b=0):
            raise RuntimeError("this DualNumber was left half-written")

    verdict = exercises.chapter("06").tan.check(lambda x: x, Broken)
    assert verdict.key in ("raised", "context_raised") and "half-written" in verdict.message


# -- what a learner reads when an answer is wrong -------------------------------------------------
SQUARE = core.CodeExercise(
    "square",
    inputs=lambda rng: {"x": float(rng.uniform(1.0, 2.0))},
    run=lambda square, *, x: square(x),
    solution=lambda x: x * x,
    own_work=True,
)


def _verdict(exercise, answer, *context):
    finding = exercise.diagnose(answer, context, np.random.default_rng(1), "en")
    return finding, core.message(finding.key, "en", **finding.fields)


def test_an_error_in_the_learners_code_shows_their_line_not_the_checkers():
    def h_gradient(x, y):
        dx = 2 * x * y**3
        return dx, dx / 0  # the learner's bug

    verdict = exercises.chapter("01").h_gradient.check(h_gradient)
    assert verdict.key == "raised" and "ZeroDivisionError" in verdict.message
    assert "x = " in verdict.message and "y = " in verdict.message
    # one line: the learner's; the checker's frames (ch01.py, core.py) are left out
    assert re.fullmatch(
        r"line \d+, in h_gradient:  return dx, dx / 0  # the learner's bug", verdict.detail
    )
    assert "return dx, dx / 0" in repr(verdict) and "<pre" in verdict._repr_html_()


def test_an_error_raised_by_the_check_itself_says_the_answer_could_not_be_used():
    verdict = exercises.chapter("01").h_gradient.check(lambda x, y: x * y)  # not a pair
    assert verdict.key == "unusable" and not verdict.detail
    assert "could not use your answer" in verdict.message and "TypeError" in verdict.message


def test_calling_adlabs_derivatives_is_caught_where_the_exercise_asks_for_ones_own():
    import adlab as ad

    def by_adlab(x):
        return ad.derivative(lambda t: t * t * t / 3)(x)

    def by_differences(x):
        return ad.numeric.central_difference(lambda t: t**3 / 3, x, 1e-5)

    for lazy, name in ((by_adlab, "ad.derivative"), (by_differences, "central_difference")):
        finding, text = _verdict(SQUARE, lazy)
        assert finding.key == "uses_adlab" and name in text
    free = core.CodeExercise("free", inputs=SQUARE.inputs, run=SQUARE.run, solution=SQUARE.solution)
    assert _verdict(free, by_adlab)[0].key == "right"  # allowed unless own_work


def test_a_wrong_number_shows_the_digits_that_differ():
    finding, text = _verdict(SQUARE, lambda x: x * x * (1 + 3e-9))
    assert finding.key == "differs"
    got = re.search(r"gives (\S+),", text).group(1)
    x = float(re.search(r"x = (\S+)", text).group(1))
    assert float(got) != pytest.approx(x * x, rel=1e-9) or len(got) > 8
    assert core._show(1.999999995, 2.0) == "1.999999995"
    assert core._show(0.5, 0.25) == "0.5" and core._show((5,)) == "(5,)"


def test_a_long_array_is_shown_short_with_its_shape():
    text = core._show(np.linspace(0, 1, 500).reshape(100, 5))
    assert text.endswith("(100, 5)") and text.count(",") < 10 and len(text) < 80


def test_a_pair_with_one_wrong_item_names_the_item():
    gradient = core.CodeExercise(
        "gradient",
        inputs=lambda rng: {"x": float(rng.uniform(1.0, 2.0)), "y": float(rng.uniform(1.0, 2.0))},
        run=lambda g, *, x, y: g(x, y),
        solution=lambda x, y: (2 * x * y, x * x),
        parts=("∂f/∂x", "∂f/∂y"),
    )
    finding, text = _verdict(gradient, lambda x, y: (2 * x * y, 2 * x))
    assert finding.key == "differs_in" and "your ∂f/∂y is" in text and "(∂f/∂x: right)" in text
    assert _verdict(gradient, lambda x, y: (y, x))[0].key == "differs"  # both wrong
