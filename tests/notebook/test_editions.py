"""The Japanese edition (notebooks/ja/) kept in step with the English one (notebooks/editions.py).

- each Japanese notebook has its English twin's cells, in order, with the same kinds, slide
  types, tags and code — compared without comments and reader-facing text — and a change of
  the English code fails here, naming the notebook, the cell and the first differing line;
- its prose is Japanese or marked for a translator, its links lead to notebooks that exist
  (the Japanese twin where there is one), its exercises answer in Japanese;
- the glossary of 00 is notebooks/ja/glossary.py, whose terms are the English chapters' and
  whose slides are the talk's;
- ``sync`` creates and updates a Japanese notebook without losing a translation.
(nbval runs the Japanese notebooks against their stored outputs like the English ones.)
"""

from __future__ import annotations

import builtins
import copy
import doctest
import importlib.util
import itertools
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


editions = _load("notebooks_editions", ROOT / "notebooks" / "editions.py")
glossary = _load("ja_glossary", ROOT / "notebooks" / "ja" / "glossary.py")

JAPANESE = editions.japanese_notebooks([])
IDS = [p.stem for p in JAPANESE]
KANA = re.compile(r"[\u3040-\u30ff]")  # hiragana or katakana: the sentence is Japanese
CJK = "\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef"  # kana, kanji, Japanese punctuation
CJK_END = re.compile(f"[{CJK}]$")
CJK_START = re.compile(f"[{CJK}]")  # a list item, a table or a heading starts otherwise
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)(#[^)]*)?\)")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _words(text: str) -> str:
    """Text as the glossary test compares it: lower case, no markdown emphasis, hyphens as
    spaces, one space between words."""
    text = re.sub(r"[*_`]", "", text.lower()).replace("-", " ")
    return re.sub(r"\s+", " ", text)


# -- the Japanese notebooks --------------------------------------------------------------------
def test_the_japanese_edition_has_notebooks_with_english_twins():
    assert JAPANESE, "notebooks/ja/ has no notebook"
    for path in JAPANESE:
        assert (ROOT / "notebooks" / path.name).exists(), f"ja/{path.name} has no English twin"


@pytest.mark.parametrize("path", JAPANESE, ids=IDS)
def test_has_the_english_cells_and_code(path):
    problems = editions.parity(_read(ROOT / "notebooks" / path.name), _read(path), path.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", JAPANESE, ids=IDS)
def test_every_cell_of_prose_is_translated_or_marked_for_a_translator(path):
    for i, cell in editions.mirrored(_read(path)):
        if cell.cell_type == "markdown" and not editions.marked(cell):
            assert not _reads_as_english(cell.source), (
                f"ja/{path.name} cell {i} reads as English: translate it, or mark it with "
                f"'<!-- {editions.TODO} -->' (`python notebooks/editions.py sync` does)"
            )


def _reads_as_english(source: str) -> bool:
    """No kana, and English words outside formulas, code and parentheses."""
    words = re.findall(r"\b[a-z]{4,}\b", re.sub(r"\$[^$]*\$|`[^`]*`|\(.*?\)", "", source))
    return not KANA.search(source) and len(words) >= 3


def test_english_prose_is_told_from_japanese():
    assert _reads_as_english("## Who this is for\n\nThe talk opened with four situations.")
    assert not _reads_as_english(
        "## こんな人のための講義です\n\nトークは四つの場面から始まりました。"
    )
    assert not _reads_as_english("$$f(x, y) = x^2 y$$ `ad.grad(f)(0.5)`")


@pytest.mark.parametrize("path", JAPANESE, ids=IDS)
def test_japanese_lines_are_not_broken_inside_a_paragraph(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type == "markdown" and (broken := _broken_lines(cell.source)):
            k, line, after = broken[0]
            raise AssertionError(
                f"ja/{path.name} cell {i} line {k}: a line break inside Japanese text shows as "
                f"a space; join {line[-10:]!r} and {after[:10]!r} into one line"
            )


def _broken_lines(source: str) -> list[tuple[int, str, str]]:
    """Lines of prose that end and go on in Japanese: a line break between two Japanese
    characters renders as a space (Chromium, Jupyter), so a Japanese paragraph or list item
    is one line of the source."""
    lines = re.sub(r"<!--.*?-->|```.*?```|\$\$.*?\$\$", "", source, flags=re.S).split("\n")
    return [
        (k, line, after)
        for k, (line, after) in enumerate(itertools.pairwise(lines), 1)
        if CJK_END.search(line) and CJK_START.match(after)
    ]


def test_a_broken_japanese_line_is_found():
    assert _broken_lines("勾配降下法は、\n関数の小さい値を探します。") == [
        (1, "勾配降下法は、", "関数の小さい値を探します。")
    ]
    assert not _broken_lines("勾配降下法です。\n\n- 一つ目\n- 二つ目\n| 表 |\nAD (English)")


@pytest.mark.parametrize("path", JAPANESE, ids=IDS)
def test_links_lead_to_notebooks_that_exist_in_japanese_where_they_can(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type != "markdown":
            continue
        for target, _ in LINK.findall(cell.source):
            if "://" in target:
                continue
            found = (path.parent / target).resolve()
            assert found.exists(), f"ja/{path.name} cell {i} links {target}, which does not exist"
            twin = path.parent / found.name
            assert found.parent == path.parent or not twin.exists(), (
                f"ja/{path.name} cell {i} links the English {target}: link the Japanese "
                f"{found.name} instead"
            )


@pytest.mark.parametrize("path", JAPANESE, ids=IDS)
def test_uses_the_glossarys_terms_for_what_it_teaches(path):
    prose = "\n".join(c.source for c in _read(path).cells if c.cell_type == "markdown")
    missing = _untaught(prose, path.name[:2])
    assert not missing, (
        f"ja/{path.name} teaches these terms of notebooks/ja/glossary.py but never writes "
        f"them: {missing}"
    )


def _untaught(prose: str, chapter: str) -> list[str]:
    """The glossary terms that ``chapter`` teaches and ``prose`` never writes."""
    return [
        t.ja
        for t in glossary.TERMS
        if t.chapter == chapter and not any(form in prose for form in _forms(t.ja))
    ]


def test_a_chapter_that_avoids_its_glossary_term_is_found():
    assert "後退型自動微分" in _untaught("リバースモードで微分します。", "05")
    assert "後退型自動微分" not in _untaught("後退型自動微分で微分します。", "05")


def _forms(ja: str) -> list[str]:
    """A glossary term's spellings: 微分係数・導関数 -> 微分係数, 導関数;
    偏微分（偏微分係数） -> 偏微分, 偏微分係数."""
    return [f.strip() for f in re.split(r"[・（）/]", ja) if f.strip()]


def test_the_term_forms_are_read_as_translators_write_them():
    assert _forms("微分係数・導関数") == ["微分係数", "導関数"]
    assert _forms("偏微分（偏微分係数）") == ["偏微分", "偏微分係数"]
    assert _forms("Define-and-Run / Define-by-Run") == ["Define-and-Run", "Define-by-Run"]


# -- the glossary ------------------------------------------------------------------------------
def test_the_glossary_cells_of_00_are_the_glossary():
    (path,) = editions.japanese_notebooks(["00"])
    cells = [c for c in _read(path).cells if "glossary" in c.metadata.get("edition", {})]
    assert [c.source for c in cells] == glossary.markdown(), (
        "the glossary of ja/00 differs from notebooks/ja/glossary.py: run "
        "`python notebooks/editions.py glossary`"
    )
    assert all(editions.japanese_only(c) for c in cells)


def test_the_glossarys_english_terms_are_the_english_chapters():
    texts = {
        p.name[:2]: _words("\n".join(c.source for c in _read(p).cells if c.cell_type == "markdown"))
        for p in editions.english_notebooks([])
    }
    for term in glossary.TERMS:
        assert term.chapter in texts, f"{term.ja}: there is no chapter {term.chapter}"
        for english in term.en.split(" / "):
            assert _words(english) in texts[term.chapter], (
                f"{term.ja}: chapter {term.chapter} does not say {english!r}; update "
                "notebooks/ja/glossary.py to the English lecture's word or chapter"
            )


def test_the_glossary_cites_the_talks_slides_consistently():
    spans = sorted(glossary.TALK_FILES.values())
    assert spans[0][0] == 1 and all(a[1] + 1 == b[0] for a, b in itertools.pairwise(spans))
    for number, (file, title) in glossary.SLIDES.items():
        first, last = glossary.TALK_FILES[file]
        assert first <= number <= last, f"slide {number} is not in {file} ({first}–{last})"
        assert title.strip()
    cited = {t.slide for t in glossary.TERMS} - {None}
    assert cited <= set(glossary.SLIDES), f"slides without a title: {cited - set(glossary.SLIDES)}"
    assert set(glossary.SLIDES) <= cited, f"titles never cited: {set(glossary.SLIDES) - cited}"
    names = [t.ja for t in glossary.TERMS]
    assert len(names) == len(set(names)), "a term twice"


# -- comparing code ----------------------------------------------------------------------------
SAME = [
    ('print("gradient:", g)', 'print("勾配:", g)'),
    ('print(f"{k} of {n} paths")', 'print(f"{n} 本中 {k} 本の経路")'),  # the values reordered
    ('check("f(2) = 4", f(2), 4, fact=3)', 'check("f(2) は 4", f(2), 4, fact=3)'),
    ("x = 1  # one", "x = 1  # いち"),
    (
        'def f(x):\n    """Square."""\n    return x * x',
        'def f(x):\n    """二乗。"""\n    return x * x',
    ),
    ('Table(["n", "time"], rows, title="cost")', 'Table(["n", "時間"], rows, title="コスト")'),
    ('Table(cols, [("forward", t)])', 'Table(cols, [("前進型", t)])'),
    (
        'Player(frames, [f"h = {h}" for h in hs], title="lab")',
        'Player(frames, [f"h は {h}" for h in hs], title="実験")',
    ),
    ('raise ValueError(f"no rule for {op}")', 'raise ValueError(f"{op} の規則がありません")'),
    ('exercises = chapter("05")', 'exercises = chapter("05", lang="ja")'),
    ("y = f(a,\n      b)", "y = f(a, b)"),
    ('print("n =", n) if n else print("none")', 'print("n =", n) if n else print("なし")'),
    ("%%grad x=0.5\n# the example\nz = x * x", "%%grad x=0.5\n# 例\nz = x * x"),
]
DIFFERENT = [
    ('check("f(2) = 4", f(2), 4)', 'check("f(2) = 4", f(2), 5)'),
    ('print(d["key"])', 'print(d["鍵"])'),  # a key is code, even inside print
    ('ad.grad(f, mode="forward")', 'ad.grad(f, mode="reverse")'),
    ('ax.set_title("loss")', 'ax.set_title("損失")'),  # a figure's text is drawn into a PNG
    ('print(f"{x:.3f}")', 'print(f"{x:.4f}")'),
    ('print(f"{x}")', 'print(f"{y}")'),
    ("y = 1", "z = 1"),
    ("%%grad x=0.5\nz = x * x", "%%grad x=0.6\nz = x * x"),
    ('exercises = chapter("05")', 'exercises = chapter("06", lang="ja")'),
    ("for i in range(3):\n    s += i", "for i in range(3):\n    s -= i"),
]


@pytest.mark.parametrize(("english", "japanese"), SAME)
def test_comments_and_reader_facing_text_may_be_translated(english, japanese):
    assert editions.first_difference(english, japanese) is None


@pytest.mark.parametrize(("english", "japanese"), DIFFERENT)
def test_everything_else_is_the_same_code(english, japanese):
    assert editions.first_difference(english, japanese) is not None


def test_the_first_difference_is_named_by_its_line_in_each_cell():
    english = "import numpy as np\n\nfor i in range(3):\n    total = i * 2\nprint(total)"
    japanese = "import numpy as np\n# 合計\nfor i in range(3):\n    total = i * 3\nprint(total)"
    x, y = editions.first_difference(english, japanese)
    assert (x.number, x.text) == (4, "    total = i * 2")
    assert (y.number, y.text) == (4, "    total = i * 3")


# -- parity, on small notebooks ----------------------------------------------------------------
def _notebook(*cells: tuple[str, str, str]) -> nbformat.NotebookNode:
    """A notebook of (kind, slide type, source) cells; code cells get an output."""
    nb = nbformat.v4.new_notebook()
    for kind, slide, source in cells:
        if kind == "code":
            cell = nbformat.v4.new_code_cell(source, execution_count=1)
            cell.outputs = [nbformat.v4.new_output("stream", text=f"ran: {source[:10]}\n")]
        else:
            cell = nbformat.v4.new_markdown_cell(source)
        cell.metadata["slideshow"] = {"slide_type": slide}
        nb.cells.append(cell)
    return nb


ENGLISH = _notebook(
    ("markdown", "slide", "# 99 · A chapter\n\nIt teaches the chain rule."),
    ("code", "skip", "import adlab as ad\n\nexercises = chapter('99')"),
    ("markdown", "-", "The derivative of x·x at 3:"),
    ("code", "-", "x = 3.0\ny = x * 2  # twice x\nprint('the derivative is', y)"),
    ("markdown", "subslide", "## Exercises\n\nWrite `square`."),
    ("code", "-", "def square(x):\n    ...\n\nexercises.square.check(square)"),
)
NAME = "99_chapter.ipynb"


def _translated(english: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``english`` synced, then translated as a translator would: prose in Japanese, comments
    and printed text too, the markers gone."""
    japanese, _ = editions.sync(english)
    prose = iter(
        [
            "# 99 · ある章\n\n連鎖律を学びます。",
            "x·x の 3 での微分係数です。",
            "## 演習\n\n`square` を書いてください。",
        ]
    )
    for cell in japanese.cells:
        if cell.cell_type == "markdown":
            cell.source = next(prose)
    japanese.cells[1].source = "import adlab as ad\n\nexercises = chapter('99', lang='ja')"
    japanese.cells[3].source = "x = 3.0\ny = x * 2  # x の 2 倍\nprint('微分係数は', y)"
    return japanese


def test_a_synced_and_translated_notebook_is_in_step():
    japanese = _translated(ENGLISH)
    assert editions.parity(ENGLISH, japanese, NAME) == []
    assert not any(editions.marked(c) for c in japanese.cells)


def test_a_change_of_the_english_code_names_the_notebook_the_cell_and_the_line():
    english = copy.deepcopy(ENGLISH)
    english.cells[3].source = "x = 3.0\ny = x * 2.5  # 2.5 x\nprint('the derivative is', y)"
    (problem,) = editions.parity(english, _translated(ENGLISH), NAME)
    assert problem.startswith(f"notebooks/ja/{NAME} cell 3 has other code than notebooks/{NAME}")
    assert "English  line 2: y = x * 2.5\n" in problem
    assert "Japanese line 2: y = x * 2\n" in problem
    assert "python notebooks/editions.py sync 99" in problem


def test_a_cell_the_english_gained_or_lost_is_named():
    english = copy.deepcopy(ENGLISH)
    english.cells.insert(4, nbformat.v4.new_code_cell("print(square(2))"))
    english.cells[4].metadata["slideshow"] = {"slide_type": "-"}
    (problem,) = editions.parity(english, _translated(ENGLISH), NAME)
    assert (
        f"notebooks/{NAME} cell 4 (code: 'print(square(2))') has no twin in notebooks/ja/"
        in problem
    )
    del english.cells[3:5]
    (problem,) = editions.parity(english, _translated(ENGLISH), NAME)
    assert (
        f"notebooks/ja/{NAME} cell 3 (code: 'x = 3.0') has no twin in notebooks/{NAME}" in problem
    )


def test_the_slides_and_tags_must_be_the_englishs():
    english = copy.deepcopy(ENGLISH)
    english.cells[2].metadata["slideshow"]["slide_type"] = "subslide"
    english.cells[2].metadata["tags"] = ["talk"]
    (problem,) = editions.parity(english, _translated(ENGLISH), NAME)
    assert f"notebooks/ja/{NAME} cell 2: kind, slide type, tags" in problem
    assert "('markdown', 'subslide', ('talk',), False)" in problem


def test_japanese_only_cells_are_prose_and_exercises_answer_in_japanese():
    japanese = _translated(ENGLISH)
    note = nbformat.v4.new_markdown_cell("訳注: トークのスライド 97 を参照。")
    note.metadata.update(edition={"only": "ja"}, slideshow={"slide_type": "-"})
    japanese.cells.insert(3, note)
    assert editions.parity(ENGLISH, japanese, NAME) == []
    code = nbformat.v4.new_code_cell("print(1)")
    code.metadata.update(edition={"only": "ja"}, slideshow={"slide_type": "-"})
    japanese.cells.insert(3, code)
    japanese.cells[1].source = "exercises = chapter('99')"
    problems = editions.parity(ENGLISH, japanese, NAME)
    assert any("cell 3 is marked Japanese-only but is a code cell" in p for p in problems)
    assert any('cell 1 line 1: write chapter(..., lang="ja")' in p for p in problems)


def test_the_real_pilot_fails_when_its_english_code_changes():
    """The parity test on a real pair: change one line of the English code, in memory."""
    (path,) = editions.japanese_notebooks(["00"])
    english = _read(ROOT / "notebooks" / path.name)
    k = next(i for i, c in enumerate(english.cells) if c.source.startswith("%%grad"))
    english.cells[k].source = english.cells[k].source.replace("x=0.5", "x=0.25")
    problems = editions.parity(english, _read(path), path.name)
    assert len(problems) == 1 and "English  line 1: %%grad x=0.25" in problems[0], problems


# -- sync --------------------------------------------------------------------------------------
def test_sync_creates_a_notebook_in_step_with_every_translators_cell_marked():
    japanese, changes = editions.sync(ENGLISH)
    assert editions.parity(ENGLISH, japanese, NAME) == []
    marked = [i for i, c in enumerate(japanese.cells) if editions.marked(c)]
    assert marked == [0, 2, 3, 4] == [c.cell for c in changes]  # prose, and code with a comment
    assert japanese.cells[3].source.startswith("# TODO(ja): ")
    assert japanese.cells[3].outputs == ENGLISH.cells[3].outputs
    for ja, en in zip(japanese.cells, ENGLISH.cells):
        assert ja.metadata["edition"] == {"en": editions.digest(en.source)}
        assert ja.metadata["slideshow"] == en.metadata["slideshow"]
    again, changes = editions.sync(ENGLISH, japanese)
    assert again == japanese and changes == []


def test_sync_keeps_translations_and_marks_what_the_english_changed():
    japanese = _translated(ENGLISH)
    note = nbformat.v4.new_markdown_cell("訳注です。")
    note.metadata.update(edition={"only": "ja"}, slideshow={"slide_type": "-"})
    japanese.cells.insert(3, note)  # after the prose of cell 2
    english = copy.deepcopy(ENGLISH)
    english.cells[0].source += " And the graph."  # prose changed
    english.cells[3].source = english.cells[3].source.replace("# twice x", "# x doubled")
    english.cells[5].source = "def square(x):\n    ...\n\nexercises.square.check(square, 2)"
    english.cells[4].metadata["tags"] = ["talk"]
    english.cells.insert(2, nbformat.v4.new_markdown_cell("A new paragraph."))
    english.cells[2].metadata["slideshow"] = {"slide_type": "fragment"}
    del english.cells[1]  # the setup cell is gone

    result, changes = editions.sync(english, japanese)
    sources = [c.source for c in result.cells]
    assert editions.parity(english, result, NAME) == []
    assert sources[0].startswith("<!-- TODO(ja): 英語版のこのセルが変わりました")
    assert english.cells[0].source in sources[0] and sources[0].endswith("連鎖律を学びます。")
    assert sources[1].startswith("<!-- TODO(ja): 新しいセル") and sources[1].endswith(
        "A new paragraph."
    )
    assert sources[2] == "x·x の 3 での微分係数です。"  # unchanged English: kept as it was
    assert sources[3] == "訳注です。"  # the Japanese-only cell stays after its cell
    assert "x の 2 倍" in sources[4] and sources[4].startswith("# TODO(ja): ")  # comment changed
    assert result.cells[5].metadata["tags"] == ["talk"]  # slides and tags follow the English
    assert sources[6] == english.cells[5].source  # code changed: the English, nothing to translate
    assert result.cells[6].outputs == english.cells[5].outputs
    assert any("removed" in c.what and "import adlab" in c.what for c in changes)
    again, _ = editions.sync(english, result)
    assert again == result


def test_status_lists_what_waits_for_a_translator(tmp_path):
    english, japanese = copy.deepcopy(ENGLISH), _translated(ENGLISH)
    english.cells[2].source = "The derivative of x·x at 3, by hand:"
    (tmp_path / "en").mkdir()
    nbformat.write(english, tmp_path / "en" / NAME)
    nbformat.write(japanese, tmp_path / NAME)
    assert editions.status(tmp_path / NAME, tmp_path / "en" / NAME) == [
        "cell 2 (markdown): the English changed since it was translated (sync marks it)"
    ]
    synced, _ = editions.sync(english, japanese)
    nbformat.write(synced, tmp_path / NAME)
    assert editions.status(tmp_path / NAME, tmp_path / "en" / NAME) == [
        "cell 2 (markdown): TODO(ja)"
    ]


# -- README.ja.md ------------------------------------------------------------------------------
README, README_JA = ROOT / "README.md", ROOT / "README.ja.md"


def _fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def test_the_readme_links_the_japanese_readme_with_the_same_set_up_commands():
    english, japanese = README.read_text(encoding="utf-8"), README_JA.read_text(encoding="utf-8")
    assert "](README.ja.md)" in english and "](README.md)" in japanese
    assert _fenced(japanese, "bash") == _fenced(english, "bash"), (
        "README.ja.md's set-up commands differ from README.md's: copy them"
    )


def test_the_japanese_readmes_tour_runs():
    text = README_JA.read_text(encoding="utf-8")
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    had, under = "_" in builtins.__dict__, builtins.__dict__.get("_")
    try:
        for k, block in enumerate(_fenced(text, "pycon")):
            test = parser.get_doctest(block, {}, f"README.ja.md tour {k}", str(README_JA), 0)
            assert test.examples
            runner.run(test)
    finally:  # the default displayhook left builtins._ behind, which stops IPython's own _
        if had:
            builtins._ = under
        else:
            builtins.__dict__.pop("_", None)
    assert runner.summarize(verbose=False).failed == 0


def test_the_japanese_readme_links_every_chapter_in_the_language_it_has():
    text = README_JA.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)\)", text)
    for target in targets:
        if "://" not in target:
            assert (ROOT / target).exists(), f"README.ja.md links {target}, which does not exist"
    for english in editions.english_notebooks([]):
        japanese = editions.JA / english.name
        want = japanese if japanese.exists() else english
        assert want.relative_to(ROOT).as_posix() in targets, f"README.ja.md does not link {want}"
