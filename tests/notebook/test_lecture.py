"""The lecture notebooks: they run top to bottom (nbclient, which fails on a UsageError, unlike
nbval), they are slide decks, they assert facts and end with exercises, and their outputs
depend on no optional package. ``pytest`` also runs them under nbval (strict) against their
stored outputs: see the nbval options in pyproject.toml."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = importlib.util.spec_from_file_location("notebooks_run", ROOT / "notebooks" / "run.py")
run = importlib.util.module_from_spec(RUN)
RUN.loader.exec_module(run)

NOTEBOOKS = run.notebooks([])
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
OPTIONAL = ("torch", "jax", "sympy", "autograd", "micrograd", "scipy", "numdifftools")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_the_lecture_has_its_first_part():
    names = [p.name[:2] for p in NOTEBOOKS]
    assert names[:7] == ["00", "01", "02", "03", "04", "05", "06"], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_runs_top_to_bottom_in_a_fresh_kernel(path, tmp_path):
    copy = tmp_path / path.name
    copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    nb = run.execute(copy, store=False)  # raises on an error in a cell not tagged to raise
    for i, cell in enumerate(nb.cells):
        if "raises-exception" in cell.metadata.get("tags", []):  # and those must raise
            kinds = [o.get("output_type") for o in cell.get("outputs", [])]
            assert "error" in kinds, f"cell {i} is tagged raises-exception but raised nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_is_a_slide_deck_with_outputs_stored(path):
    nb = _read(path)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for i, cell in enumerate(nb.cells):
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        assert kind in SLIDE_TYPES, f"cell {i} has no slideshow metadata"
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.get("execution_count") is not None, f"cell {i} was never run"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_asserts_facts_and_ends_with_exercises(path):
    nb = _read(path)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    if not path.name.startswith("00"):
        assert re.search(r"^assert ", code, re.M), "a chapter asserts its checkable facts"
        assert ".check(" in code and re.search(r"exercise", text, re.I)
        headings = [
            c.source for c in nb.cells if c.cell_type == "markdown" and "\n#" in f"\n{c.source}"
        ]
        last_exercise = max(i for i, h in enumerate(headings) if re.search(r"exercise", h, re.I))
        assert last_exercise >= len(headings) - 3, "the exercises come at the end of the chapter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_ignores_outputs_only_of_timing_cells_and_needs_no_optional_package(path):
    nb = _read(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        ignored = (
            "NBVAL_IGNORE_OUTPUT" in cell.source
            or "nbval-ignore-output" in cell.metadata.get("tags", [])
        )
        if ignored:
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
