"""The Stepper's graph box follows the current node after Play and Stop (⏹ returns to
step 1, the output node at the far right of a wide graph), in JupyterLab and Notebook 7,
light and dark: after the stop the node is in view without another step."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    CURRENT_NODE,
    IN_VIEW,
    TOKEN,
    jupyter_server,
    wait_kernel_connected,
)

PROGRAM = """\
import adlab as ad

def net(x):
    for _ in range(30):
        h = ad.tanh(x * 0.9 + 0.1)
        x = h * 1.1 - x * 0.05
    return x

ad.widgets.Stepper(ad.trace(net, 0.5), interval=100)
"""


def _notebook(path):
    import nbformat

    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [nbformat.v4.new_code_cell(PROGRAM)]
    nbformat.write(nb, path)


@pytest.mark.parametrize("app", ["lab", "notebook"])
@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_after_play_and_stop_the_first_step_is_in_view(app, theme, tmp_path, page, shot):
    from playwright.sync_api import expect

    tag = f"{app}-{'dark' if 'Dark' in theme else 'light'}"
    with jupyter_server(tmp_path, app, theme=theme) as (base, root, log):
        _notebook(root / "follow.ipynb")
        url = "lab/tree" if app == "lab" else "notebooks"
        try:
            page.goto(f"{base}/{url}/follow.ipynb?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            wait_kernel_connected(base)
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.keyboard.press("Shift+Enter")
            stepper = page.locator(".adlab-stepper").first
            explain = stepper.locator(".adlab-explain >> visible=true")
            expect(explain).to_contain_text("step 1 of", timeout=120_000)
            element = stepper.element_handle()
            first = element.evaluate(CURRENT_NODE)
            view = stepper.locator(".adlab-view >> visible=true").element_handle()
            assert view.evaluate("v => v.scrollWidth > v.clientWidth + 100")  # it must scroll
            page.wait_for_function("e => (" + IN_VIEW + ")(e)", arg=element)
            shot(page, f"follow-{tag}-start.png")

            play = stepper.locator(".adlab-play >> visible=true")
            play.locator("button:has(.fa-play)").click()
            page.wait_for_function(  # played on past step 12 (polled: it may not stop at 12)
                "s => [...s.querySelectorAll('.adlab-explain')].some(e => e.offsetParent"
                " && +(e.innerText.match(/step (\\d+) of/) || [0, 0])[1] >= 12)",
                arg=element,
                timeout=60_000,
            )
            # far from the start now: the box has followed the nodes to the left
            page.wait_for_function(
                "([e, name]) => (" + CURRENT_NODE + ")(e) !== name", arg=[element, first]
            )
            play.locator("button:has(.fa-stop)").click()
            expect(explain).to_contain_text("step 1 of")
            page.wait_for_function("([e, name]) => (" + CURRENT_NODE + ")(e) === name",
                                   arg=[element, first])  # fmt: skip
            # settled (two frames and a pause), and then in view without another step
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                          "requestAnimationFrame(() => setTimeout(r, 500))))")  # fmt: skip
            stepper.scroll_into_view_if_needed()
            shot(page, f"follow-{tag}-stopped.png")
            assert element.evaluate(IN_VIEW), "after ⏹ the box did not follow back"
        except Exception:
            shot(page, f"follow-{tag}.fail.png")
            print(log.read_text()[-3000:])
            raise
