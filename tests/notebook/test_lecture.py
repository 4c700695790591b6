"""The lecture notebooks and their conventions (notebooks/README.md):

- they run top to bottom (nbclient, which fails on a UsageError, unlike nbval); ``pytest``
  also runs them under nbval (strict) against their stored outputs (see pyproject.toml);
- they are slide decks, with a 40-minute talk path tagged ``talk`` and each chapter's
  reading time stated in 00;
- the reading path is free of scaffolding: no ``assert``, no NBVAL/noqa/fmt markers;
  facts are stated with ``check(...)`` (✓ and the fact in words), longer checks sit in
  hidden-input cells tagged ``checks``, and every fact of CURRICULUM.md §8 is checked;
- each chapter has "predict, then run" prompts and ends with exercises from
  ``adlab.lecture.exercises`` (defined in the package, never in a cell), stored unanswered;
- outputs depend on no optional package, and fit a 1280×720 slide.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import re
import struct
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from adlab.lecture import exercises

ROOT = Path(__file__).resolve().parents[2]
RUN = importlib.util.spec_from_file_location("notebooks_run", ROOT / "notebooks" / "run.py")
run = importlib.util.module_from_spec(RUN)
RUN.loader.exec_module(run)

NOTEBOOKS = run.notebooks([])
IDS = [p.stem for p in NOTEBOOKS]
CHAPTERS = [p for p in NOTEBOOKS if p.name[:2] not in ("00", "14")]  # 00 roadmap, 14 sources
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
OPTIONAL = ("torch", "jax", "sympy", "autograd", "micrograd", "scipy", "numdifftools")
# an exercise's answer slot: a function stub or a value left as `...`, on one short line
STUB = re.compile(r"^(def \w+\([^)\n]*\): \.\.\.|\w+ = \.\.\.)$", re.M)
CODE_COLUMNS = 72  # a longer code line overflows a 1280-pixel slide
MARKERS = re.compile(r"#\s*(NBVAL_\w+|noqa\b|fmt:|type:\s*ignore|pragma)", re.I)

# CURRICULUM.md §8 (not in the repository): every fact is checked in some cell whose metadata
# names it, "facts": [N, ...] (a learner reading check(...) is not pointed at a file they lack)
FACTS = range(1, 45)
NOT_CHECKED = {13: "display only: the minima's places depend on the implementation (§8)"}

TALK_MINUTES = (35.0, 45.0)  # the talk path, by notebooks/run.py's estimate
SLIDE_TEXT_COLUMNS = 100  # a printed line wider than this overflows a 1280-pixel slide
SLIDE_IMAGE = (1100, 640)  # pixels: the largest figure a 1280×720 slide shows whole


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _python(cell: nbformat.NotebookNode) -> ast.Module:
    """A code cell as Python: line magics turned into calls, as IPython runs them, and the
    body of a cell magic (``%%grad``) read as the Python it is (empty if it is not)."""
    source = cell.source
    if source.startswith("%%"):
        source = source.partition("\n")[2]
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _hidden(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("jupyter", {}).get("source_hidden"))


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.metadata.get("tags", [])


def _heading(cell: nbformat.NotebookNode) -> str | None:
    """The first line of a markdown cell that starts with a heading, else None."""
    if cell.cell_type == "markdown" and cell.source.startswith("#"):
        return cell.source.splitlines()[0]
    return None


def _exercise_heading(nb: nbformat.NotebookNode) -> int:
    found = [i for i, c in enumerate(nb.cells) if re.match(r"#+ Exercises\b", _heading(c) or "")]
    assert len(found) == 1, "a chapter has one '## Exercises' section"
    return found[0]


def _text(output: nbformat.NotebookNode) -> str:
    if output.output_type == "stream":
        return output.text
    return output.get("data", {}).get("text/plain", "")


def _calls(tree: ast.AST, name: str, *, method: bool = False) -> list[ast.Call]:
    """The calls of the function ``name`` (also of a method or module attribute ``.name``
    when ``method``)."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (method and isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    ]


# -- they run, and they are decks ----------------------------------------------------------------
def test_the_lecture_has_its_chapters():
    names = [p.name[:2] for p in NOTEBOOKS]
    assert names[:7] == ["00", "01", "02", "03", "04", "05", "06"], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_top_to_bottom_in_a_fresh_kernel(path, tmp_path):
    copy = tmp_path / path.name
    copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    nb = run.execute(copy, store=False)  # raises on an error in a cell not tagged to raise
    for i, cell in enumerate(nb.cells):
        if "raises-exception" in _tags(cell):  # and those must raise
            kinds = [o.get("output_type") for o in cell.get("outputs", [])]
            assert "error" in kinds, f"cell {i} is tagged raises-exception but raised nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_is_a_slide_deck_with_outputs_stored(path):
    nb = _read(path)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for i, cell in enumerate(nb.cells):
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        assert kind in SLIDE_TYPES, f"cell {i} has no slideshow metadata"
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.get("execution_count") is not None, f"cell {i} was never run"
        assert "execution" not in cell.metadata, f"cell {i} stores timestamps: use run.py"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"


# -- the reading path ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_assert_or_test_marker_where_a_learner_reads(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code":
            continue
        asserts = [n.lineno for n in ast.walk(_python(cell)) if isinstance(n, ast.Assert)]
        assert not asserts, f"cell {i} asserts (line {asserts[0]}): state the fact with check()"
        marker = MARKERS.search(cell.source)
        assert not marker, f"cell {i} has the marker {marker.group(0)!r}: use a cell tag instead"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_hidden_cells_are_check_cells_out_of_the_slides(path):
    for i, cell in enumerate(_read(path).cells):
        hidden, tagged = _hidden(cell), "checks" in _tags(cell)
        assert hidden == tagged, f"cell {i}: hidden input and the tag 'checks' go together"
        if not hidden:
            continue
        assert cell.cell_type == "code" and _calls(_python(cell), "check"), (
            f"cell {i} hides code that checks nothing"
        )
        assert cell.source.startswith("# "), (
            f"cell {i}: JupyterLab shows a hidden cell's first line: make it a comment that "
            "says what is checked"
        )
        assert cell.metadata["slideshow"]["slide_type"] == "skip", f"cell {i} would be a slide"
        assert "talk" not in _tags(cell), f"cell {i}: check cells are not part of the talk"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_check_ran_and_says_so(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code" or not _calls(_python(cell), "check"):
            continue
        shown = "".join(_text(o) for o in cell.get("outputs", []))
        assert "✓ " in shown, f"cell {i} checks facts, but its stored output shows no ✓"


def test_every_fact_of_the_curriculum_is_checked():
    checked: dict[int, list[str]] = {}
    for path in NOTEBOOKS:
        for i, cell in enumerate(_read(path).cells):
            facts = cell.metadata.get("facts", [])
            where = f"{path.name[:2]} c{i}"
            if facts:
                assert cell.cell_type == "code" and _calls(_python(cell), "check"), (
                    f"{where} names facts {facts} in its metadata but checks nothing"
                )
            for n in facts:
                checked.setdefault(n, []).append(where)
    unknown = sorted(set(checked) - set(FACTS))
    assert not unknown, f"cells name facts §8 does not have: {unknown}"
    missing = [n for n in FACTS if n not in checked and n not in NOT_CHECKED]
    assert not missing, f"facts of CURRICULUM.md §8 that no notebook checks: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_checks_read_as_one_line_statements(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code":
            continue
        for call in _calls(_python(cell), "check"):
            keywords = [kw.arg for kw in call.keywords]
            assert "fact" not in keywords, (
                f"cell {i}: fact=N points the learner at CURRICULUM.md, which they do not have; "
                'name the fact in the cell\'s metadata, "facts": [N]'
            )
            if not _hidden(cell):
                assert call.lineno == call.end_lineno, (
                    f"cell {i}: a visible check is one line that states the fact (line "
                    f"{call.lineno}); put a longer one in a hidden check cell"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_reading_path_does_not_talk_about_the_test_setup(path):
    for i, cell in enumerate(_read(path).cells):
        if _hidden(cell):
            continue
        found = re.search(r"ADLAB_FAST|\bCI\b|\bfast\(\)|nbval", cell.source)
        assert not found, f"cell {i} mentions {found.group(0)!r} where a learner reads"


# -- exercises and prompts -----------------------------------------------------------------------
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_ends_with_its_exercises_stored_unanswered(path):
    nb = _read(path)
    start = _exercise_heading(nb)
    later = [h for c in nb.cells[start + 1 :] if (h := _heading(c)) and re.match(r"##? ", h)]
    assert not later, f"a section after the exercises: {later[0]!r}"
    chapter = exercises.chapter(path.name[:2])
    checked = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = _python(cell)
        kinds = ("Exercise", "CodeExercise", "ValueExercise", "TextExercise")
        made = [call for kind in kinds for call in _calls(tree, kind, method=True)]
        assert not made, f"cell {i} defines an exercise: define it in adlab/lecture/exercises"
        for key in re.findall(r"\bexercises\.(\w+)\.check\(", cell.source):
            assert i > start, f"cell {i} checks exercise {key!r} before the exercises section"
            stub = STUB.search(cell.source)
            assert stub and len(stub.group(0)) <= CODE_COLUMNS, (
                f"cell {i}: the answer slot is one line, `def {key}(...): ...` or "
                f"`{key} = ...`, at most 72 columns (so ruff leaves it alone), its instruction "
                "in a comment on the line above"
            )
            checked[key] = i
            verdicts = [_text(o) for o in cell.get("outputs", [])]
            assert any(v.startswith("… ") for v in verdicts), (
                f"cell {i} is stored answered ({verdicts}): a visible cell must not hold an answer"
            )
    assert sorted(checked) == sorted(b.key for b in chapter), (
        f"exercises of ch{path.name[:2]}.py checked in the notebook: {sorted(checked)}"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_asks_to_predict_before_running(path):
    nb = _read(path)
    end = _exercise_heading(nb)
    prompts = [
        i
        for i, c in enumerate(nb.cells[:end])
        if c.cell_type == "markdown" and re.search(r"\*\*Predict[^*]*\*\*", c.source)
    ]
    assert prompts, "no '**Predict, then run.**' prompt inside the chapter"
    for i in prompts:
        assert nb.cells[i + 1].cell_type == "code", f"cell {i}: a prediction is followed by a run"


# -- the talk, and reading times -----------------------------------------------------------------
def test_the_talk_path_takes_about_forty_minutes():
    minutes = sum(run.talk_minutes(_read(p)) for p in NOTEBOOKS)
    low, high = TALK_MINUTES
    assert low <= minutes <= high, f"the cells tagged 'talk' take about {minutes:.0f} minutes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_talk_cells_are_slides_the_reader_sees(path):
    nb = _read(path)
    talk = [i for i, c in enumerate(nb.cells) if "talk" in _tags(c)]
    for i in talk:
        kind = nb.cells[i].metadata["slideshow"]["slide_type"]
        assert kind != "skip" and not _hidden(nb.cells[i]), f"cell {i} is tagged talk but hidden"
    if talk:
        first = nb.cells[talk[0]].metadata["slideshow"]["slide_type"]
        assert first in ("slide", "subslide"), (
            f"the talk enters {path.name} on cell {talk[0]}, not a slide"
        )


def test_the_roadmap_states_each_chapters_reading_time_and_the_talks():
    roadmap = "\n".join(c.source for c in _read(NOTEBOOKS[0]).cells if c.cell_type == "markdown")
    for path in NOTEBOOKS[1:]:
        row = re.search(rf"\({re.escape(path.name)}\).*?(\d+) min", roadmap)
        assert row, f"00 does not state the reading time of {path.name}"
        stated, estimate = int(row.group(1)), run.reading_minutes(_read(path))
        assert abs(stated - estimate) <= max(5, 0.25 * estimate), (
            f"00 says {path.name} takes {stated} min; `notebooks/run.py --minutes`: {estimate:.0f}"
        )
    talk = re.search(r"talk path[^.]*?(\d+) min", roadmap, re.I)
    assert talk, "00 does not say how long the talk path takes"
    assert abs(int(talk.group(1)) - sum(run.talk_minutes(_read(p)) for p in NOTEBOOKS)) <= 5


# -- outputs ---------------------------------------------------------------------------------------
def _png_size(data: str) -> tuple[int, int]:
    head = base64.b64decode(data[:64])
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_outputs_fit_a_slide(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.metadata.get("slideshow", {}).get("slide_type") == "skip":
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                wide = [line for line in output.text.splitlines() if len(line) > SLIDE_TEXT_COLUMNS]
                assert not wide, f"cell {i} prints a line of {len(wide[0])} characters"
            png = output.get("data", {}).get("image/png")
            if png:
                width, height = _png_size(png)
                assert width <= SLIDE_IMAGE[0] and height <= SLIDE_IMAGE[1], (
                    f"cell {i} shows a {width}×{height} figure"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_ignores_outputs_only_of_timing_cells_and_needs_no_optional_package(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code":
            continue
        if "nbval-ignore-output" in _tags(cell):
            assert re.search(r"time|perf_counter|%timeit", cell.source), (
                f"cell {i} ignores its output but times nothing"
            )
        for name in OPTIONAL:
            assert not re.search(rf"^\s*(import|from) {name}\b", cell.source, re.M), (
                f"cell {i} imports the optional package {name}"
            )


def test_widget_state_is_stored_for_exports():
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        uses_widgets = any(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for c in nb["cells"] for o in c.get("outputs", [])
        )  # fmt: skip
        if uses_widgets:
            state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
            assert state["state"], path.name


# -- the conventions above can fail -------------------------------------------------------------
def test_the_scaffolding_rules_catch_what_they_forbid():
    cell = nbformat.v4.new_code_cell("%%grad x=1.0\nz = x * x\nassert z == 1")
    assert any(isinstance(n, ast.Assert) for n in ast.walk(_python(cell)))
    for source in ("x = 1  # noqa: E731", "# NBVAL_IGNORE_OUTPUT\nx", "f(x)  # fmt: skip"):
        assert MARKERS.search(source), source
    assert not MARKERS.search("# the gradient, checked below")
    assert _calls(ast.parse("check('f(2) = 4', f(2), 4, fact=3)"), "check")
