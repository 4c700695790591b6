"""Re-execute the lecture notebooks and store their fresh outputs (run after changing adlab).

    python notebooks/run.py                 # every notebook
    python notebooks/run.py 04 06           # the notebooks whose names start with 04 or 06

Each notebook runs top to bottom in a fresh kernel, from the notebooks folder, with
``ADLAB_FAST=1`` (as CI runs them, so the stored outputs are the ones ``pytest --nbval``
compares against) and with Jupyter's, IPython's and matplotlib's folders in a
temporary directory. Widget state is stored, so Steppers and Players work in the
saved notebook, in exported HTML and in slides. A cell that raises stops the run,
unless it is tagged ``raises-exception``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def notebooks(prefixes: list[str]) -> list[Path]:
    """The lecture's notebooks, in order; only those starting with one of ``prefixes`` if any."""
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not prefixes or any(p.name.startswith(x) for x in prefixes)]


def environment(tmp: Path) -> dict[str, str]:
    """The environment a lecture kernel runs in: fast animations, Jupyter's folders in ``tmp``."""
    return dict(
        os.environ,
        ADLAB_FAST="1",
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(tmp / "ipython"),
        MPLCONFIGDIR=str(tmp / "mpl"),
        PYTHONHASHSEED="0",
    )


def execute(path: Path, *, store: bool = True, timeout: int = 300) -> nbformat.NotebookNode:
    """Run one notebook in a fresh kernel; store the outputs in the file when ``store``."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        saved = dict(os.environ)
        os.environ.update(environment(Path(tmp)))
        try:
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                resources={"metadata": {"path": str(path.parent)}},
            )  # fmt: skip
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    if store:
        nbformat.write(nb, path)
    return nb


def main(argv: list[str]) -> int:
    for path in notebooks(argv):
        start = time.perf_counter()
        execute(path)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
