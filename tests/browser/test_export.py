"""The Stepper without a kernel: the notebook exported to HTML with its widget state and a
LOCAL widget manager (npm @jupyter-widgets/html-manager), opened offline in Chromium."""

from __future__ import annotations

import adlab as ad
from adlab.core.events import format_value
from tests.browser.conftest import (
    HTML_MANAGER,
    REQUIRE_JS,
    SHOWN_TEXT,
    current_node,
    need,
    stepper_program,
    write_stepper_notebook,
)
from tests.jupyter import sandboxed


def _export(tmp_path):
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    src = tmp_path / "stepper.ipynb"
    write_stepper_notebook(src)
    nb = nbformat.read(src, as_version=4)
    with sandboxed(tmp_path):  # the kernel's Jupyter/IPython dirs under tmp_path
        NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    assert "application/vnd.jupyter.widget-state+json" in nb.metadata["widgets"]
    exporter = HTMLExporter(
        widget_renderer_url="@jupyter-widgets/html-manager/dist/embed-amd.js",
        require_js_url="node_modules/requirejs/require.js",
    )
    body, _ = exporter.from_notebook_node(nb)
    page = tmp_path / "stepper.html"
    page.write_text(body, encoding="utf-8")
    # the renderer finds its fonts at <page dir>/@jupyter-widgets/html-manager/dist (recipe §5)
    (tmp_path / "@jupyter-widgets" / "html-manager").mkdir(parents=True)
    (tmp_path / "@jupyter-widgets" / "html-manager" / "dist").symlink_to(HTML_MANAGER)
    (tmp_path / "node_modules" / "requirejs").mkdir(parents=True)
    (tmp_path / "node_modules" / "requirejs" / "require.js").symlink_to(REQUIRE_JS)
    return page


def test_exported_stepper_steps_offline(tmp_path, page, shot):
    from playwright.sync_api import expect

    need(HTML_MANAGER.exists(), f"{HTML_MANAGER} (npm ci --prefix slides)")
    html_path = _export(tmp_path)
    remote = []

    def block(route):
        remote.append(route.request.url)
        route.abort()

    page.route("http://**/*", block)  # offline: anything not on disk fails
    page.route("https://**/*", block)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    n = len(ad.trace(stepper_program, 2.0, 3.0).backward_events())
    try:
        page.goto(html_path.as_uri())
        stepper = page.locator(".adlab-stepper")
        explain = stepper.locator(".adlab-explain >> visible=true")
        expect(explain).to_contain_text(f"adjoints x̄ · step 1 of {n}")

        # no kernel: the slider drives the visible frame through jslink
        slider = stepper.locator(".adlab-slider .noUi-handle >> visible=true")
        slider.focus()
        page.keyboard.press("ArrowRight")
        expect(explain).to_contain_text(f"step 2 of {n}")
        page.keyboard.press("End")
        expect(explain).to_contain_text(f"step {n} of {n}")
        element = stepper.element_handle()
        assert current_node(element) == "y"
        # the node shows its adjoint, summed over its two contributions, and only that
        y_node = stepper.locator("svg .adlab-node[data-name='y']").element_handle()
        gy = ad.trace(stepper_program, 2.0, 3.0).backward()[1]
        assert y_node.evaluate(SHOWN_TEXT).endswith(f"= {format_value(gy)}")

        # no kernel: the step box steps back and forward with its arrow keys (and buttons)
        box = stepper.locator(".adlab-step input >> visible=true")
        expect(box).to_have_value(str(n))  # linked to the slider
        box.focus()
        page.keyboard.press("ArrowDown")
        expect(explain).to_contain_text(f"step {n - 1} of {n}")
        page.keyboard.press("ArrowDown")
        expect(explain).to_contain_text(f"step {n - 2} of {n}")
        page.keyboard.press("ArrowUp")
        expect(explain).to_contain_text(f"step {n - 1} of {n}")
        assert current_node(element) != "y"
        box.fill("1")
        box.press("Enter")
        expect(explain).to_contain_text(f"step 1 of {n}")
        assert current_node(element) == "z"

        # the mode toggle switches panels in the browser too
        stepper.locator(".adlab-mode button", has_text="values").click()
        expect(explain).to_contain_text("values · step 1 of")
        shot(page, "stepper-export.png")
    except Exception:
        shot(page, "stepper-export.fail.png")
        raise
    assert not errors, errors
    # the widget renderer and require.js came from disk (MathJax may still knock on a CDN)
    assert not [u for u in remote if "html-manager" in u or "require" in u], remote
