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
    "reveal_scroll": True,  # a slide taller than the screen scrolls (the browser test forbids it)
    "reveal_width": "1280",  # the size every slide is made for (and tested at)
    "reveal_height": "720",
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


def missing_widget_state(nb) -> list[str]:
    """The model ids of widget outputs whose state the notebook does not store (a cell re-run
    in JupyterLab, and saved: its new widgets live only in the kernel; or "Save Widget
    State Automatically" on, which keeps only those): in a deck they would show as
    nothing, or as a line of text."""
    views = [
        out["data"][WIDGET_VIEW].get("model_id")
        for cell in nb.cells
        for out in cell.get("outputs", ())
        if WIDGET_VIEW in out.get("data", {})
    ]
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return [v for v in views if v not in state]


def title_of(nb, fallback: str) -> str:
    """The notebook's title: the first markdown heading of its first cell."""
    for cell in nb.cells[:1]:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def remote_references(body: str) -> list[str]:
    """URLs the page would fetch from the network (links in the text are fine)."""
    return sorted({a or b for a, b in _REMOTE.findall(body)})


def build_deck(
    path: Path, out: Path, *, run: bool = False, exporter=None, nb=None, name: str | None = None
) -> Path:
    """Convert one notebook (or ``nb``, read from ``path`` otherwise) into
    ``out/<name>.slides.html`` (``name``: the notebook's stem). ``out/assets`` must exist
    (:func:`copy_assets`). A notebook whose widgets have no stored state is re-executed
    with ``run``, refused otherwise."""
    import nbformat

    nb = nb if nb is not None else nbformat.read(path, as_version=4)
    name = name or path.stem
    if run:
        execute(nb, path)
    missing = missing_widget_state(nb)
    if missing:
        raise BuildError(
            f"{path.name}: {len(missing)} widget output(s) have no stored widget state (the "
            "notebook was saved without it, e.g. by JupyterLab after re-running a cell), so "
            "the deck would show them as nothing: refresh the notebook with "
            "`python notebooks/run.py NN`, or build with --execute"
        )
    exporter = exporter or _exporter()
    nb.metadata["title"] = title_of(nb, name)
    resources = {
        "metadata": {"name": name, "path": str(path.parent)},
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
    deck = out / f"{name}.slides.html"
    deck.write_text(body, encoding="utf-8")
    return deck


def talk_notebook(notebooks: Sequence[Path], *, run: bool = False):
    """One notebook of the cells tagged ``talk`` in ``notebooks``, in order (the talk's
    40-minute path): each chapter's first tagged cell starts a slide; the widget states
    of every chapter are merged (model ids are unique)."""
    import nbformat

    talk = nbformat.v4.new_notebook()
    state: dict = {}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        if run:
            execute(nb, path)
        talk.metadata.setdefault("kernelspec", nb.metadata.get("kernelspec", {}))
        cells = [c for c in nb.cells if "talk" in c.metadata.get("tags", ())]
        if cells:
            first = cells[0]
            first.metadata.setdefault("slideshow", {})["slide_type"] = "slide"
        talk.cells += cells
        stored = nb.metadata.get("widgets", {}).get(WIDGET_STATE)
        if stored:
            state.update(stored.get("state", {}))
    if not talk.cells:
        raise BuildError(
            "no cell is tagged `talk` in " + ", ".join(p.name for p in notebooks)
            + ": tag the cells of the talk's path (cell metadata tags: [\"talk\"])"
        )  # fmt: skip
    if state:
        talk.metadata["widgets"] = {WIDGET_STATE: {"version_major": 2, "version_minor": 0,
                                                   "state": state}}  # fmt: skip
    title = nbformat.v4.new_markdown_cell(
        "# Juliaと歩く自動微分の世界: the talk, in Python\n\n"
        "The 40-minute path through the adlab lecture (the cells tagged `talk`).",
        metadata={"slideshow": {"slide_type": "slide"}},
    )
    talk.cells.insert(0, title)
    return talk


_TITLE = re.compile(r"<title>(.*?) slides</title>", re.S)
_INDEX_CSS = (
    "body{font-family:'Source Sans Pro',Helvetica,Arial,'Noto Sans CJK JP','Noto Sans JP',"
    "'Hiragino Sans','Yu Gothic',Meiryo,sans-serif;max-width:52em;margin:2em auto;"
    "padding:0 1em;color:#222;line-height:1.5}"
    "h1{font-size:1.7em}h2{font-size:1.2em;margin-top:1.6em}"
    "ol{padding-left:0;list-style:none}li{margin:.3em 0}"
    ".nn{display:inline-block;width:2.2em;color:#888;font-variant-numeric:tabular-nums}"
    "a{color:#1a5fb4;text-decoration:none}a:hover{text-decoration:underline}"
    ".talk{background:#fff8e8;border-left:4px solid #ea7a00;padding:.6em 1em}"
)


def write_index(out: Path) -> Path:
    """``out/index.html``: the talk's deck, then every chapter's deck by its title, in
    English and (where built) in Japanese."""
    decks = sorted(out.glob("*.slides.html"))

    def title(deck: Path) -> str:
        m = _TITLE.search(deck.read_text(encoding="utf-8")[:4000])
        return html.unescape(m.group(1)) if m else deck.name

    def chapter_list(chosen: list[Path]) -> str:
        items = []
        for d in chosen:
            stem = d.name.removesuffix(".slides.html").removesuffix(".ja")
            number = stem.split("_", 1)[0] if stem[:2].isdigit() else ""
            items.append(
                f'<li><span class="nn">{html.escape(number)}</span>'
                f'<a href="{html.escape(d.name)}">{html.escape(title(d))}</a></li>'
            )
        return "<ol>\n" + "\n".join(items) + "\n</ol>"

    english = [d for d in decks if d.name[:2].isdigit() and ".ja." not in d.name]
    japanese = [d for d in decks if d.name[:2].isdigit() and ".ja." in d.name]
    parts = ["<h1>adlab: automatic differentiation you can watch — the lecture</h1>"]
    talk = out / "talk.slides.html"
    if talk.exists():
        parts.append(
            '<p class="talk"><a href="talk.slides.html"><b>The talk</b></a>: the 40-minute path '
            "through the lecture (Juliaと歩く自動微分の世界, JuliaTokyo #11), in one deck.</p>"
        )
    if english:
        parts += ["<h2>Chapters (English)</h2>", chapter_list(english)]
    if japanese:
        parts += [
            '<h2 lang="ja">章（日本語版）</h2>',
            f'<div lang="ja">{chapter_list(japanese)}</div>',
        ]
    parts.append(
        "<p>Keys: → / Space next, ← previous, Esc overview, F full screen, S speaker notes. "
        "The widgets step without a kernel.</p>"
    )
    index = out / "index.html"
    index.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>adlab lecture slides</title><style>{_INDEX_CSS}</style></head>\n<body>\n"
        + "\n".join(parts) + "\n</body></html>\n",
        encoding="utf-8",
    )  # fmt: skip
    return index


# -- the command ------------------------------------------------------------------------------
def build(
    notebooks: Iterable[Path], out: Path = DEFAULT_OUT, *, run: bool = False, talk: bool = False,
    suffix: str = "", log=print,
) -> list[Path]:  # fmt: skip
    """Build the decks of ``notebooks`` into ``out`` (the code path of the command); with
    ``talk`` one deck, ``talk.slides.html``, of their cells tagged ``talk``. ``suffix``
    marks another edition's decks (``".ja"``: ``NN_title.ja.slides.html``)."""
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
    if talk:
        start = time.perf_counter()
        nb = talk_notebook(notebooks, run=run)
        deck = build_deck(notebooks[0], out, exporter=exporter, nb=nb, name="talk" + suffix)
        log(f"{deck} ({time.perf_counter() - start:.1f} s)")
        decks.append(deck)
    else:
        for nb in notebooks:
            start = time.perf_counter()
            deck = build_deck(nb, out, run=run, exporter=exporter, name=nb.stem + suffix)
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
        help="notebooks to build (default: every notebooks/*.ipynb, or notebooks/ja/*.ipynb)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--out", type=Path, default=DEFAULT_OUT,
        help="output folder (default: slides/build); the assets go to OUT/assets",
    )  # fmt: skip
    parser.add_argument(
        "--execute", action="store_true",
        help="run each notebook first (in memory; the .ipynb is not changed)",
    )  # fmt: skip
    parser.add_argument(
        "--talk", action="store_true",
        help="one deck, talk.slides.html, of the cells tagged `talk` (the 40-minute path)",
    )  # fmt: skip
    parser.add_argument(
        "--lang", choices=("en", "ja"), default="en",
        help="the edition: en (notebooks/) or ja (notebooks/ja/, decks NN_title.ja.slides.html)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    folder = REPO / "notebooks" / ("ja" if args.lang == "ja" else "")
    notebooks = args.notebooks or sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    suffix = ".ja" if args.lang == "ja" else ""
    try:
        decks = build(notebooks, args.out, run=args.execute, talk=args.talk, suffix=suffix)
    except BuildError as e:
        print(f"slides/build.py: error: {e}", file=sys.stderr)
        return 1
    print(f"{len(decks)} deck(s); open {Path(args.out).resolve() / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
