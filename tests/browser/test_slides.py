"""The lecture as slides, offline: a notebook built by the documented command
(``python slides/build.py``) into a reveal.js deck, opened from disk (file://) in headless
Chromium with EVERY http(s) request blocked. Reveal starts, MathJax typesets, and a Stepper
on a slide steps with no kernel (Play, the slider, the step box: jslinks in the page)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

import adlab as ad
from adlab.core.events import OVERLINE
from tests.browser.conftest import REPO, need
from tests.jupyter import sandboxed

SLIDES = REPO / "slides"
SKIPPED = "a remark for the speaker, not for a slide"


def _program(x, y):
    return x * y + ad.sin(x)


def _build_module():
    """slides/build.py, the module behind `python slides/build.py`."""
    spec = importlib.util.spec_from_file_location("adlab_slides_build", SLIDES / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_notebook(path: Path) -> None:
    """Three slides: maths, a Stepper (executed: outputs AND widget state stored), the end."""
    import nbformat
    from nbclient import NotebookClient

    def slide(kind):
        return {"slideshow": {"slide_type": kind}}

    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# The chain rule\n\n"
            "$$\\frac{\\partial z}{\\partial x} = \\frac{\\partial z}{\\partial u}"
            "\\frac{\\partial u}{\\partial x}$$",
            metadata=slide("slide"),
        ),
        nbformat.v4.new_markdown_cell(SKIPPED, metadata=slide("skip")),
        nbformat.v4.new_code_cell(
            "import adlab as ad\n"
            "ad.widgets.Stepper(ad.trace(lambda x, y: x * y + ad.sin(x), 2.0, 3.0))",
            metadata=slide("slide"),
        ),
        nbformat.v4.new_markdown_cell("## The end", metadata=slide("slide")),
        nbformat.v4.new_markdown_cell("one more thing", metadata=slide("fragment")),
    ]
    with sandboxed(path.parent):  # the kernel's Jupyter/IPython dirs under tmp_path
        NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    assert "application/vnd.jupyter.widget-state+json" in nb.metadata["widgets"]
    nbformat.write(nb, path)


def test_offline_deck_starts_typesets_and_steps(tmp_path, page, shot, capsys):
    from playwright.sync_api import expect

    build = _build_module()
    for package in build.COPY:
        need(
            (build.NODE_MODULES / package / "package.json").exists(),
            f"slides/node_modules/{package} (npm ci --prefix slides)",
        )
    notebook = tmp_path / "lecture.ipynb"
    _write_notebook(notebook)
    out = tmp_path / "build"
    # the documented command's own entry point (in this process: nbconvert is imported once)
    with sandboxed(tmp_path):
        status = build.main([str(notebook), "--out", str(out)])
    assert status == 0, capsys.readouterr()
    deck = out / "lecture.slides.html"
    body = deck.read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" in body  # the widgets' state, embedded
    assert SKIPPED not in body  # slideshow metadata: "skip" cells are left out
    assert (out / "assets" / "reveal.js" / "dist" / "reveal.js").exists()

    remote, failed, errors = [], [], []

    def block(route):
        remote.append(route.request.url)
        route.abort()

    page.route("http://**/*", block)  # offline: the deck is read from disk, nothing else
    page.route("https://**/*", block)
    page.on("requestfailed", lambda r: failed.append(r.url))  # a missing asset file
    page.on("pageerror", lambda e: errors.append(str(e)))
    trace = ad.trace(_program, 2.0, 3.0)
    # the page draws each adjoint's bar as a real overline, so its text has no combining marks
    explanations = [e.explain().replace(OVERLINE, "") for e in trace.backward_events()]
    n = len(explanations)
    try:
        page.goto(deck.as_uri())
        expect(page.locator(".reveal.ready")).to_have_count(1, timeout=30_000)

        # slide 1: MathJax 2 (CommonHTML output) typeset the formula from the local copy
        page.wait_for_function(
            "window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
            " && !MathJax.Hub.queue.running"
        )
        maths = page.locator("section.present .MathJax_CHTML")
        expect(maths).to_have_count(1)
        expect(maths.locator(".mjx-mfrac")).to_have_count(3)
        expect(page.locator(".MathJax_Error, merror")).to_have_count(0)  # no TeX errors
        shot(page, "slides-maths.png")

        # slide 2: the Stepper, rendered by the local widget manager from the stored state
        page.keyboard.press("ArrowRight")
        stepper = page.locator("section.present .adlab-stepper")
        explain = stepper.locator(".adlab-explain >> visible=true")
        expect(explain).to_contain_text(f"step 1 of {n}", timeout=30_000)
        expect(explain).to_contain_text(explanations[0])
        on_stepper = page.evaluate("location.hash")

        # no kernel: Play drives the slider and the frame (jslink), Stop rewinds to the start
        play = stepper.locator(".adlab-play >> visible=true")
        play.locator("button:has(.fa-play)").click()
        expect(explain).not_to_contain_text(f"step 1 of {n}")  # one step per 800 ms
        play.locator("button:has(.fa-stop)").click()
        expect(explain).to_contain_text(f"step 1 of {n}")

        # the slider's arrow keys step, and stay with the slider (reveal keeps the slide)
        stepper.locator(".adlab-slider .noUi-handle >> visible=true").focus()
        page.keyboard.press("ArrowRight")
        expect(explain).to_contain_text(f"step 2 of {n}")
        page.keyboard.press("End")
        expect(explain).to_contain_text(f"step {n} of {n}")
        expect(explain).to_contain_text(explanations[-1])
        assert page.evaluate("location.hash") == on_stepper

        # the step box steps back
        box = stepper.locator(".adlab-step input >> visible=true")
        expect(box).to_have_value(str(n))
        box.focus()
        page.keyboard.press("ArrowDown")
        expect(explain).to_contain_text(f"step {n - 1} of {n}")
        expect(explain).to_contain_text(explanations[-2])
        shot(page, "slides-stepper.png")

        # and the keyboard turns the page again once the widget lets go of it
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("ArrowRight")
        expect(page.locator("section.present h2")).to_contain_text("The end")
        fragment = page.locator("section.present .fragment")  # slideshow metadata: "fragment"
        expect(fragment).not_to_have_class(re.compile(r"\bvisible\b"))
        page.keyboard.press("ArrowRight")
        expect(fragment).to_have_class(re.compile(r"\bvisible\b"))
    except Exception:
        shot(page, "slides.fail.png")
        raise
    assert not errors, errors
    assert not remote, f"the deck asked the network for {remote}"
    assert not failed, f"assets missing from {out / 'assets'}: {failed}"


def _tiny(path: Path, title: str, *, talk: bool = True, widgets: bool = False) -> None:
    """A small lecture-like notebook: a title, a tagged cell, an untagged one."""
    import nbformat

    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    tags = {"tags": ["talk"]} if talk else {}
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            f"# {title}\n\ncredits", metadata={"slideshow": {"slide_type": "slide"}}
        ),
        nbformat.v4.new_markdown_cell(
            f"on the talk's path: {title}", metadata={"slideshow": {"slide_type": "-"}, **tags}
        ),
        nbformat.v4.new_markdown_cell(
            f"only in the lecture: {title}", metadata={"slideshow": {"slide_type": "slide"}}
        ),
    ]
    if widgets:  # a widget output whose state is not stored (as JupyterLab saves it)
        out = nbformat.v4.new_output(
            "display_data",
            data={
                "text/plain": "Stepper(...)",
                "application/vnd.jupyter.widget-view+json": {
                    "model_id": "abc",
                    "version_major": 2,
                    "version_minor": 0,
                },
            },
        )
        cell = nbformat.v4.new_code_cell("ad.widgets.Stepper(t)", outputs=[out])
        nb.cells.append(cell)
    nbformat.write(nb, path)


def test_talk_japanese_edition_index_and_missing_widget_state(tmp_path, capsys):
    build = _build_module()
    for package in build.COPY:
        need((build.NODE_MODULES / package / "package.json").exists(),
             f"slides/node_modules/{package} (npm ci --prefix slides)")  # fmt: skip
    en, ja, out = tmp_path / "en", tmp_path / "ja", tmp_path / "build"
    en.mkdir()
    ja.mkdir()
    _tiny(en / "01_gradients.ipynb", "Gradients and descent")
    _tiny(en / "02_graphs.ipynb", "Graphs and the chain rule", talk=False)
    _tiny(ja / "01_gradients.ipynb", "勾配と勾配降下法")
    with sandboxed(tmp_path):
        assert build.main([*map(str, sorted(en.glob("*.ipynb"))), "-o", str(out)]) == 0
        assert build.main([*map(str, sorted(en.glob("*.ipynb"))), "-o", str(out), "--talk"]) == 0
        assert build.main([str(ja / "01_gradients.ipynb"), "-o", str(out), "--lang", "ja"]) == 0
    talk = (out / "talk.slides.html").read_text(encoding="utf-8")
    assert "on the talk&#39;s path: Gradients" in talk or "on the talk's path: Gradients" in talk
    assert "only in the lecture" not in talk and "Graphs and the chain rule" not in talk
    deck = (out / "01_gradients.ja.slides.html").read_text(encoding="utf-8")
    assert "<title>勾配と勾配降下法 slides</title>" in deck and "Noto Sans CJK JP" in deck
    index = (out / "index.html").read_text(encoding="utf-8")
    for text in ('href="talk.slides.html"', "Gradients and descent", "Graphs and the chain rule",
                 'href="01_gradients.ja.slides.html">勾配と勾配降下法'):  # fmt: skip
        assert text in index
    # a notebook saved without its widget state is refused, with the fix
    _tiny(en / "03_saved.ipynb", "Saved by Lab", widgets=True)
    with sandboxed(tmp_path):
        assert build.main([str(en / "03_saved.ipynb"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "no stored widget state" in err and "--execute" in err
    assert not (out / "03_saved.slides.html").exists()


FITS = """() => {
  // reveal hides the slides beyond its view distance (display: none on their horizontal
  // <section>): show the leaf AND every section around it while measuring, or a far slide
  // measures 0 px and always fits
  const leaves = [...document.querySelectorAll(".reveal .slides section")]
    .filter(s => !s.querySelector("section"));
  const tall = [];
  leaves.forEach((s, i) => {
    const around = [];
    for (let p = s.parentElement.closest("section"); p; p = p.parentElement.closest("section"))
      around.push([p, p.style.display]);
    around.forEach(([p]) => { p.style.display = "block"; });
    const was = [s.style.display, s.style.position, s.style.height];
    s.style.display = "block"; s.style.position = "static"; s.style.height = "auto";
    const h = s.scrollHeight;
    [s.style.display, s.style.position, s.style.height] = was;
    around.forEach(([p, display]) => { p.style.display = display; });
    if (h > 720) tall.push([i, h, !!s.querySelector(".adlab-stepper"), s.innerText.slice(0, 50)]);
    if (h === 0) tall.push([i, h, false, "measured 0 px: " + s.innerText.slice(0, 40)]);
  });
  return [leaves.length, tall];
}"""


def _fonts() -> list[str]:
    """The font families installed (fc-list), empty where fontconfig is missing."""
    try:
        listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True)
    except FileNotFoundError:
        return []
    return listed.stdout.splitlines()


def _too_tall(tmp_path, page, capsys, lang: str = "en") -> dict:
    """Build every lecture deck of the edition ``lang`` and its talk deck; the slides whose
    content is taller than 720 px, per deck."""
    build = _build_module()
    for package in build.COPY:
        need((build.NODE_MODULES / package / "package.json").exists(),
             f"slides/node_modules/{package} (npm ci --prefix slides)")  # fmt: skip
    out = tmp_path / "build"
    edition = ["--lang", lang]
    with sandboxed(tmp_path):
        assert build.main(["-o", str(out), *edition]) == 0, capsys.readouterr()
        assert build.main(["-o", str(out), "--talk", *edition]) == 0, capsys.readouterr()
    suffix = ".ja" if lang == "ja" else ""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.route("http://**/*", lambda route: route.abort())
    page.route("https://**/*", lambda route: route.abort())
    too_tall = {}
    decks = sorted(out.glob(f"[0-9][0-9]_*{suffix}.slides.html"))
    assert len(decks) == 15, [d.name for d in decks]
    for deck in [*decks, out / f"talk{suffix}.slides.html"]:
        page.goto(deck.as_uri())
        page.locator(".reveal.ready").wait_for(state="attached", timeout=30_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jupyter-widgets-view')].length === 0"
            " || document.querySelector('.widget-box') !== null"
        )  # the widgets rendered (when there are any)
        count, tall = page.evaluate(FITS)
        assert count > 1
        if tall:
            too_tall[deck.name] = tall
    return too_tall


def test_every_stepper_slide_of_the_lecture_fits_1280x720(tmp_path, page, capsys):
    too_tall = _too_tall(tmp_path, page, capsys)
    steppers = {deck: [t for t in tall if t[2]] for deck, tall in too_tall.items()}
    assert not any(steppers.values()), f"Stepper slides taller than 720 px: {steppers}"
    # and the others, for the record (the lecture's own cut; see the next test)
    print({deck: [t[:2] for t in tall] for deck, tall in too_tall.items()})


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_lecture_slide_fits_1280x720(tmp_path, page, capsys, lang):
    need(any("Noto Sans CJK" in f for f in _fonts()), "fonts-noto-cjk (the Japanese text)")
    too_tall = _too_tall(tmp_path, page, capsys, lang)
    assert not too_tall, f"slides taller than 720 px: {too_tall}"
