"""Make a fresh clone of the lecture look right in JupyterLab and Notebook 7 (part of the
set-up command in README.md; run it again after pulling changed notebooks).

    python notebooks/trust.py

1. **Trust the lecture notebooks.** A notebook you did not run yourself opens
   *untrusted*: Jupyter then shows no SVG drawings, sanitises HTML and shows every
   widget (the Steppers, the Players) as a line of text. Trusting records each
   notebook's signature in your Jupyter data folder (what ``jupyter trust`` does).
2. **Keep the widget state when a notebook is saved.** JupyterLab and Notebook 7 drop
   the stored widget state on save unless their setting "Save Jupyter widget state in
   notebooks" is on; then an opened-and-saved notebook shows "model not found"
   instead of its Steppers, and so would its slides. This writes that setting as a
   default for this Python environment (``share/jupyter/lab/settings/overrides.d``);
   your own settings still win.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTING = {"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True}}


def trust(paths: list[Path]) -> None:
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        notary.sign(nb)
        print(f"trusted {path.relative_to(HERE.parent)}")


def save_widget_state(prefix: str = sys.prefix) -> Path:
    """Write the 'save widget state' default where JupyterLab and Notebook 7 read it."""
    folder = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "adlab.json"
    path.write_text(json.dumps(SETTING, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python notebooks/trust.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--prefix",
        default=sys.prefix,
        help="the environment whose JupyterLab gets the setting (default: this one)",
    )
    args = parser.parse_args(argv)
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb")) + sorted(HERE.glob("ja/[0-9][0-9]_*.ipynb"))
    trust(paths)
    print(f"JupyterLab and Notebook 7 save widget state: {save_widget_state(args.prefix)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
