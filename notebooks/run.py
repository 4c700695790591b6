"""Re-execute the lecture notebooks and store their fresh outputs (run after changing adlab).

    python notebooks/run.py                 # every notebook
    python notebooks/run.py 04 06           # the notebooks whose names start with 04 or 06
    python notebooks/run.py --timings 06    # full size (no ADLAB_FAST), store nothing,
                                            # print the slowest cells (the target: ≤ 5 s each)
    python notebooks/run.py --minutes       # the reading time of each chapter and the talk
                                            # path's length, as 00 states them

Each notebook runs top to bottom in a fresh kernel, from the notebooks folder, with
``ADLAB_FAST=1`` (as CI runs them, so the stored outputs are the ones ``pytest --nbval``
compares against) and with Jupyter's, IPython's and matplotlib's folders in a
temporary directory. Widget state is stored, so Steppers and Players work in the
saved notebook, in exported HTML and in slides; execution timestamps are not (they
would change every file on every run). A cell that raises stops the run, unless it
is tagged ``raises-exception``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

# How long a chapter takes to work through, and how long its talk-tagged cells take to present:
READ_WORDS_PER_MINUTE = 150  # technical prose with formulas
CODE_CHARACTERS_PER_MINUTE = 450  # reading code (about 10 lines), running it, looking at it
MINUTES_PER_EXERCISE = 6
SPOKEN_WORDS_PER_MINUTE = 130  # a presenter reads and explains a slide's text
MINUTES_PER_DEMO = 0.5  # a code cell shown (with its stored output) in the talk


def notebooks(prefixes: list[str]) -> list[Path]:
    """The lecture's notebooks, in order; only those starting with one of ``prefixes`` if any."""
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not prefixes or any(p.name.startswith(x) for x in prefixes)]


def environment(tmp: Path, *, fast: bool = True) -> dict[str, str]:
    """The environment a lecture kernel runs in: Jupyter's folders in ``tmp``, and
    ``ADLAB_FAST=1`` (few animation frames) unless ``fast`` is False."""
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(tmp / "ipython"),
        MPLCONFIGDIR=str(tmp / "mpl"),
        PYTHONHASHSEED="0",
    )
    if fast:
        env["ADLAB_FAST"] = "1"
    else:
        env.pop("ADLAB_FAST", None)
    return env


def execute(
    path: Path, *, store: bool = True, timeout: int = 300, fast: bool = True, timing: bool = False
) -> nbformat.NotebookNode:
    """Run one notebook in a fresh kernel; store the outputs in the file when ``store``.

    ``timing`` keeps nbclient's per-cell timestamps in the returned notebook
    (see :func:`cell_seconds`); they are never stored.
    """
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        saved, env = dict(os.environ), environment(Path(tmp), fast=fast)
        os.environ.clear()  # without ADLAB_FAST when not fast
        os.environ.update(env)
        try:
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                record_timing=timing, resources={"metadata": {"path": str(path.parent)}},
            )  # fmt: skip
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesced(cell.outputs)
    if store:
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nbformat.write(nb, path)
    return nb


def coalesced(outputs: list) -> list:
    """The outputs with each run of same-named stream outputs joined into one: a busy kernel
    may send a print's text and its newline as two messages, which a deck shows as a
    stray line break."""
    joined: list = []
    for out in outputs:
        last = joined[-1] if joined else None
        if (out.output_type == "stream" and last is not None
                and last.output_type == "stream" and last.name == out.name):  # fmt: skip
            last.text += out.text
        else:
            joined.append(out)
    return joined


def cell_seconds(nb: nbformat.NotebookNode) -> list[tuple[int, float]]:
    """(cell index, seconds) for every code cell that ran with timing on."""
    found = []
    for i, cell in enumerate(nb.cells):
        stamps = cell.metadata.get("execution", {})
        if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            start, end = (
                datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                for k in ("iopub.execute_input", "shell.execute_reply")
            )
            found.append((i, (end - start).total_seconds()))
    return found


def _words(text: str) -> int:
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " formula ", text, flags=re.S)  # a formula: a word
    text = re.sub(r"\(\S+\.ipynb\)|<[^>]+>", " ", text)  # link targets and HTML tags
    return len(re.findall(r"\w+", text))


def _code_characters(source: str) -> int:
    """The characters of the code without indentation or comment lines: how it is laid out
    (one argument per line, or all on one) does not change how long it takes to read."""
    lines = (line.strip() for line in source.splitlines())
    return sum(len(line) for line in lines if line and not line.startswith("#"))


def reading_minutes(nb: nbformat.NotebookNode) -> float:
    """How long a learner takes to work through a chapter: its prose, its code and its
    exercises (hidden check cells are not read)."""
    words = sum(_words(c.source) for c in nb.cells if c.cell_type == "markdown")
    shown = [c for c in nb.cells if c.cell_type == "code" and not _hidden(c)]
    characters = sum(_code_characters(c.source) for c in shown)
    exercises = sum(len(re.findall(r"\bexercises\.\w+\.check\(", c.source)) for c in shown)
    return (
        words / READ_WORDS_PER_MINUTE
        + characters / CODE_CHARACTERS_PER_MINUTE
        + exercises * MINUTES_PER_EXERCISE
    )


def talk_minutes(nb: nbformat.NotebookNode) -> float:
    """How long the chapter's cells tagged ``talk`` take to present."""
    talk = [c for c in nb.cells if "talk" in c.metadata.get("tags", [])]
    words = sum(_words(c.source) for c in talk if c.cell_type == "markdown")
    demos = sum(1 for c in talk if c.cell_type == "code")
    return words / SPOKEN_WORDS_PER_MINUTE + demos * MINUTES_PER_DEMO


def _hidden(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("jupyter", {}).get("source_hidden"))


def main(argv: list[str]) -> int:
    if "--minutes" in argv:
        total_read = total_talk = 0.0
        for path in notebooks([a for a in argv if not a.startswith("--")]):
            nb = nbformat.read(path, as_version=4)
            read, talk = reading_minutes(nb), talk_minutes(nb)
            total_read, total_talk = total_read + read, total_talk + talk
            print(f"{path.name:45} reading {read:5.1f} min   talk {talk:4.1f} min")
        print(f"{'all':45} reading {total_read:5.1f} min   talk {total_talk:4.1f} min")
        return 0
    timings = "--timings" in argv
    for path in notebooks([a for a in argv if not a.startswith("--")]):
        start = time.perf_counter()
        nb = execute(path, store=not timings, fast=not timings, timing=timings)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s")
        if timings:
            slowest = sorted(cell_seconds(nb), key=lambda t: -t[1])[:5]
            print("   slowest cells: " + ", ".join(f"c{i} {s:.1f} s" for i, s in slowest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
