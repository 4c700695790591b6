#!/usr/bin/env python3
"""Build the lecture notebooks into OFFLINE reveal.js decks.

    python slides/build.py                        # every notebooks/*.ipynb -> slides/build/
    python slides/build.py notebooks/05_*.ipynb   # only these
    python slides/build.py --out DIR --execute NB # elsewhere; re-run the notebooks first

Each notebook becomes ``<out>/<name>.slides.html`` (nbconvert's reveal template, driven
by the cells' slideshow metadata, with the widget state stored in the notebook). Every
asset a deck loads -- reveal.js, require.js, jQuery, MathJax and the ipywidgets HTML
manager -- is copied once per build from the pinned npm packages in slides/node_modules
(``npm ci --prefix slides``) into ``<out>/assets/`` and referenced by relative URLs, so
the output folder is self-contained: open a deck from disk (file://) or serve the folder
with any static server, with no network. See slides/README.md.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

SLIDES = Path(__file__).resolve().parent
REPO = SLIDES.parent
NODE_MODULES = SLIDES / "node_modules"
TEMPLATE = SLIDES / "offline_slides.html.j2"
DEFAULT_OUT = SLIDES / "build"
ASSETS = "assets"  # <out>/assets, next to the decks

# What the decks load, per npm package: the files and folders to copy (source maps are left out).
COPY: dict[str, tuple[str, ...]] = {
    "reveal.js": ("dist", "plugin/notes"),
    "requirejs": ("require.js",),
    "jquery": ("dist/jquery.min.js",),
    "mathjax": (
        "MathJax.js",
        "config/TeX-AMS_CHTML-full.js",
        "config/Safe.js",
        "extensions",
        "jax",  # every output jax: MathJax's menu can switch the renderer
        "fonts/HTML-CSS/TeX",
        "localization",
    ),
    "@jupyter-widgets/html-manager": ("dist",),
}

# nbconvert SlidesExporter options: every URL relative to the deck (recipes/jupyter-testing.md §4-5)
EXPORTER = {
    "reveal_url_prefix": f"{ASSETS}/reveal.js",
    "reveal_theme": "white",  # "simple" (the default) @imports Google Fonts
    "reveal_scroll": True,  # a slide taller than the screen (a Stepper) scrolls
    "require_js_url": f"{ASSETS}/requirejs/require.js",
    "jquery_url": f"{ASSETS}/jquery/dist/jquery.min.js",
    "mathjax_url": f"{ASSETS}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "widget_renderer_url": f"{ASSETS}/@jupyter-widgets/html-manager/dist/embed-amd.js",
    "embed_images": True,  # markdown images become data: URIs, so the deck needs no notebooks/
}

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# an element that would fetch something from the network when the deck opens
_REMOTE = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(?:src|href)=[\"']"
    r"((?:https?:)?//[^\"']+)|@import\s+(?:url\()?[\"']?((?:https?:)?//[^\"')\s]+)",
    re.IGNORECASE,
)


class BuildError(Exception):
    """A problem the user must fix; the message says how."""


# -- assets -----------------------------------------------------------------------------------
def pinned_versions() -> dict[str, str]:
    """The versions slides/package.json pins, checked against what npm installed."""
    pins = json.loads((SLIDES / "package.json").read_text(encoding="utf-8"))["dependencies"]
    versions = {}
    for name in COPY:
        installed = NODE_MODULES / name / "package.json"
        if not installed.exists():
            raise BuildError(
                f"{installed.parent} is missing: install the pinned assets with "
                "`npm ci --prefix slides` (from the repository root)"
            )
        version = json.loads(installed.read_text(encoding="utf-8"))["version"]
        if version != pins[name]:
            raise BuildError(
                f"slides/node_modules has {name} {version}, but slides/package.json pins "
                f"{pins[name]}: run `npm ci --prefix slides`"
            )
        versions[name] = version
    return versions


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link costs no space or time; another file system gets a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def copy_assets(out: Path) -> Path:
    """Copy what the decks load into ``out/assets`` (skipped when already there)."""
    versions = pinned_versions()
    stamp_text = json.dumps({"versions": versions, "copy": COPY}, sort_keys=True)
    assets = out / ASSETS
    stamp = assets / ".adlab-assets.json"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == stamp_text:
        return assets
    if assets.exists():
        shutil.rmtree(assets)
    for package, parts in COPY.items():
        for part in parts:
            src = NODE_MODULES / package / part
            dst = assets / package / part
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(
                    src, dst, copy_function=_link_or_copy, ignore=shutil.ignore_patterns("*.map")
                )
            else:
                _link_or_copy(str(src), str(dst))
    stamp.write_text(stamp_text, encoding="utf-8")
    return assets


# -- one deck ---------------------------------------------------------------------------------
def _exporter():
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.update(EXPORTER)
    return SlidesExporter(config=config, template_file=str(TEMPLATE))


def execute(nb, path: Path) -> None:
    """Run the notebook in its own folder, keeping outputs and widget state (in memory)."""
    from nbclient import NotebookClient

    name = nb.metadata.get("kernelspec", {}).get("name", "python3")
    NotebookClient(
        nb, timeout=600, kernel_name=name, store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()  # fmt: skip


def widget_warnings(nb, path: Path) -> list[str]:
    """Widget views whose model has no stored state render as nothing in a deck."""
    views = [
        out["data"][WIDGET_VIEW].get("model_id")
        for cell in nb.cells
        for out in cell.get("outputs", ())
        if WIDGET_VIEW in out.get("data", {})
    ]
    if not views:
        return []
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    missing = [v for v in views if v not in state]
    if not missing:
        return []
    return [
        f"{path.name}: {len(missing)} of {len(views)} widget output(s) have no saved widget "
        "state and will be empty in the deck: refresh the notebook with "
        "`python notebooks/run.py` (it stores the widget state), or build with --execute"
    ]


def remote_references(body: str) -> list[str]:
    """URLs the page would fetch from the network (links in the text are fine)."""
    return sorted({a or b for a, b in _REMOTE.findall(body)})


def build_deck(
    path: Path, out: Path, *, run: bool = False, exporter=None
) -> tuple[Path, list[str]]:
    """Convert one notebook into ``out/<name>.slides.html``; returns (deck, warnings).

    ``out/assets`` must exist (:func:`copy_assets`)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if run:
        execute(nb, path)
    warnings = widget_warnings(nb, path)
    exporter = exporter or _exporter()
    resources = {
        "metadata": {"name": path.stem, "path": str(path.parent)},
        "adlab_assets": ASSETS,
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    remote = remote_references(body)
    if remote:
        raise BuildError(
            f"{path.name}: the deck would load from the network, which an offline deck cannot: "
            + ", ".join(remote)
            + " (put the file next to the notebook and refer to it by a relative path)"
        )
    deck = out / f"{path.stem}.slides.html"
    deck.write_text(body, encoding="utf-8")
    return deck, warnings


def write_index(out: Path) -> Path:
    """``out/index.html``: a list of every deck in the folder."""
    decks = sorted(out.glob("*.slides.html"))
    items = "\n".join(
        f'<li><a href="{html.escape(d.name)}">{html.escape(d.name.removesuffix(".slides.html"))}'
        "</a></li>"
        for d in decks
    )
    index = out / "index.html"
    index.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<title>adlab lecture slides</title></head>\n<body style="font-family:sans-serif">'
        f"<h1>adlab lecture slides</h1>\n<ol>\n{items}\n</ol>\n</body></html>\n",
        encoding="utf-8",
    )
    return index


# -- the command ------------------------------------------------------------------------------
def build(
    notebooks: Iterable[Path], out: Path = DEFAULT_OUT, *, run: bool = False, log=print
) -> list[Path]:
    """Build the decks of ``notebooks`` into ``out`` (the code path of the command)."""
    notebooks = [Path(nb).resolve() for nb in notebooks]
    if not notebooks:
        raise BuildError("no notebooks to build (notebooks/*.ipynb is empty)")
    for nb in notebooks:
        if not nb.is_file():
            raise BuildError(f"{nb}: no such notebook")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    copy_assets(out)
    log(f"assets: {out / ASSETS} ({time.perf_counter() - start:.1f} s)")
    exporter = _exporter()
    decks = []
    for nb in notebooks:
        start = time.perf_counter()
        deck, warnings = build_deck(nb, out, run=run, exporter=exporter)
        for w in warnings:
            log(f"warning: {w}")
        log(f"{deck} ({time.perf_counter() - start:.1f} s)")
        decks.append(deck)
    write_index(out)
    return decks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python slides/build.py",
        description="Build lecture notebooks into offline reveal.js decks (see slides/README.md).",
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path,
        help="notebooks to build (default: every notebooks/*.ipynb)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--out", type=Path, default=DEFAULT_OUT,
        help="output folder (default: slides/build); the assets go to OUT/assets",
    )  # fmt: skip
    parser.add_argument(
        "--execute", action="store_true",
        help="run each notebook first (in memory; the .ipynb is not changed)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    try:
        decks = build(notebooks, args.out, run=args.execute)
    except BuildError as e:
        print(f"slides/build.py: error: {e}", file=sys.stderr)
        return 1
    print(f"{len(decks)} deck(s); open {Path(args.out).resolve() / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
