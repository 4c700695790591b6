"""Trust the lecture notebooks, so that a fresh clone shows its drawings and widgets in
JupyterLab and Notebook 7 without running a cell (part of the set-up command in
README.md; run it again after pulling changed notebooks).

    python notebooks/trust.py

A notebook you did not run yourself opens *untrusted*: Jupyter then shows no SVG,
sanitises HTML and shows every widget (the Steppers, the Players) as a line of text.
Trusting records each notebook's signature in your Jupyter data folder, as
``jupyter trust`` does.

Leave JupyterLab's "Save Widget State Automatically" off (its default): with it on,
JupyterLab 4 saves only the widgets of the running kernel and drops the lecture's
stored ones on the first save (ipywidgets issues 3270 and 3888); with it off, opening
and saving a lecture notebook keeps them (``tests/browser/test_fresh_clone.py``).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def lecture_notebooks() -> list[Path]:
    """Every chapter, in English and in Japanese."""
    return sorted(HERE.glob("[0-9][0-9]_*.ipynb")) + sorted(HERE.glob("ja/[0-9][0-9]_*.ipynb"))


def trust(paths: list[Path]) -> None:
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    for path in paths:
        notary.sign(nbformat.read(path, as_version=4))
        print(f"trusted {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    trust(lecture_notebooks())
