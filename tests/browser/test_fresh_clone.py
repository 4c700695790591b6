"""The lecture as a learner first meets it: a fresh clone, the set-up command's
``python notebooks/trust.py``, then JupyterLab or Notebook 7 -- drawings and widgets show
without running a cell; saving the notebook keeps the widget state (with "Save Widget State
Automatically" off, the default: on, JupyterLab 4 would keep only the running kernel's
widgets), so its deck (built by ``python slides/build.py``) still shows and steps its
Stepper, offline."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest

from tests.browser.conftest import REPO, TOKEN, jupyter_server, need, scroll_to
from tests.jupyter import jupyter_env, sandboxed

GO_TO_STEPPER = """() => {
  const top = [...document.querySelectorAll(".reveal .slides > section")];
  for (let h = 0; h < top.length; h++) {
    const inner = [...top[h].querySelectorAll(":scope > section")];
    if (inner.length === 0 && top[h].querySelector(".adlab-stepper")) return `#/${h}`;
    const v = inner.findIndex(s => s.querySelector(".adlab-stepper"));
    if (v >= 0) return `#/${h}/${v}`;
  }
  return null;
}"""


def _build_module():
    spec = importlib.util.spec_from_file_location(
        "adlab_slides_build", REPO / "slides" / "build.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_stepper() -> str:
    """A lecture notebook that stores a Stepper (and drawings)."""
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        text = path.read_text(encoding="utf-8")
        if "Stepper(mode=" in text and "adlab-scroll" in text:  # a Stepper and ad.draw
            return path.name
    pytest.skip("no lecture notebook stores a Stepper and a drawing")


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_a_fresh_clone_shows_drawings_and_widgets_and_saving_keeps_them(
    app, tmp_path, page, shot, capsys
):
    from playwright.sync_api import expect

    name = _with_stepper()
    root = tmp_path / "root"
    clone = root / "notebooks"
    clone.mkdir(parents=True)
    for f in [*(REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"), REPO / "notebooks" / "trust.py"]:
        shutil.copy(f, clone / f.name)  # what a clone holds, and nothing it ran
    # the set-up command's step (its signatures go to this test's Jupyter data folder)
    subprocess.run([sys.executable, str(clone / "trust.py")], env=jupyter_env(tmp_path),
                   check=True, capture_output=True)  # fmt: skip
    path = clone / name
    before = path.stat().st_mtime_ns
    with jupyter_server(tmp_path, app) as (base, _, log):
        url = "lab/tree" if app == "lab" else "notebooks"
        try:
            page.goto(f"{base}/{url}/notebooks/{name}?token={TOKEN}")
            # no cell is run: the stored outputs render, trusted (scrolled to: a long
            # notebook renders only the cells near the view)
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            scroll_to(page, ".adlab-stepper")
            expect(page.locator(".adlab-stepper").first).to_be_visible(timeout=60_000)
            expect(
                page.locator(".adlab-stepper .adlab-explain >> visible=true").first
            ).to_contain_text("step 1 of")
            # drawings (ad.draw, in their box), besides the Stepper's
            scroll_to(page, ".jp-OutputArea-output .adlab-scroll svg.adlab-graph")
            expect(
                page.locator(".jp-OutputArea-output .adlab-scroll svg.adlab-graph").first
            ).to_be_visible()
            expect(page.get_by_text("Cannot display an untrusted SVG")).to_have_count(0)
            expect(page.get_by_text("Error displaying widget")).to_have_count(0)
            shot(page, f"fresh-clone-{app}.png")

            # save (Ctrl+S), with JupyterLab's default settings: the widget state stays
            page.locator(".jp-Notebook").first.click()
            page.keyboard.press("Control+s")
            page.wait_for_function("() => true", polling=200)  # let the save request start
            for _ in range(100):
                if path.stat().st_mtime_ns != before:
                    break
                page.wait_for_timeout(100)
            assert path.stat().st_mtime_ns != before, "the notebook was not saved"
        except Exception:
            shot(page, f"fresh-clone-{app}.fail.png")
            print(log.read_text()[-3000:])
            raise

    import nbformat

    build = _build_module()
    saved = nbformat.read(path, as_version=4)
    assert not build.missing_widget_state(saved)
    for package in build.COPY:
        need((build.NODE_MODULES / package / "package.json").exists(),
             f"slides/node_modules/{package} (npm ci --prefix slides)")  # fmt: skip
    out = tmp_path / "build"
    with sandboxed(tmp_path):
        assert build.main([str(path), "--out", str(out)]) == 0, capsys.readouterr()
    deck = out / f"{path.stem}.slides.html"
    page.route("http://**/*", lambda route: route.abort())  # offline
    page.route("https://**/*", lambda route: route.abort())
    page.goto(deck.as_uri())
    expect(page.locator(".reveal.ready")).to_have_count(1, timeout=30_000)
    page.evaluate(f"location.hash = ({GO_TO_STEPPER})()")
    stepper = page.locator("section.present .adlab-stepper").first
    explain = stepper.locator(".adlab-explain >> visible=true")
    expect(explain).to_contain_text("step 1 of", timeout=30_000)
    stepper.locator(".adlab-slider .noUi-handle >> visible=true").focus()
    page.keyboard.press("ArrowRight")
    expect(explain).to_contain_text("step 2 of")
    shot(page, f"fresh-clone-{app}-deck.png")
