"""The Stepper at the size of real code, in a real JupyterLab (light and dark theme):
a 1,000-operation trace builds, steps by keyboard, keeps its current node in view, and
no text of the Stepper or of a big drawing renders below 10 px; the explanation line and
the highlighted row stay legible in both themes."""

from __future__ import annotations

import pytest

import adlab as ad
from adlab.viz.svg import MIN_TEXT
from tests.browser.conftest import (
    CURRENT_NODE,
    IN_VIEW,
    SMALLEST_TEXT,
    TOKEN,
    current_node,
    jupyter_server,
    scroll_to,
    wait_kernel_connected,
)

PROGRAM = """\
import adlab as ad

def net(x):
    for _ in range(170):
        h = ad.tanh(x * 0.9 + 0.1)
        x = h * 1.1 - x * 0.05
    return x

t = ad.trace(net, 0.5)
"""

CONTRAST = """e => {
  const rgb = c => c.match(/[0-9.]+/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let bg = "rgba(0, 0, 0, 0)", el = e;
  while (el && (bg === "rgba(0, 0, 0, 0)" || bg === "transparent")) {
    bg = getComputedStyle(el).backgroundColor; el = el.parentElement;
  }
  const a = lum(getComputedStyle(e).color), b = lum(bg);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def _net(x):
    for _ in range(170):
        h = ad.tanh(x * 0.9 + 0.1)
        x = h * 1.1 - x * 0.05
    return x


def _notebook(path):
    import nbformat

    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [
        nbformat.v4.new_code_cell(PROGRAM),
        nbformat.v4.new_code_cell("ad.widgets.Stepper(t)"),
        nbformat.v4.new_code_cell("ad.draw(t)"),
    ]
    nbformat.write(nb, path)


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_a_thousand_operation_stepper_steps_by_keyboard_and_follows(theme, tmp_path, page, shot):
    from playwright.sync_api import expect

    trace = ad.trace(_net, 0.5)
    assert len(trace.operations) >= 1000
    reverse = trace.backward_events()
    n = len(reverse)
    tag = "dark" if "Dark" in theme else "light"
    with jupyter_server(tmp_path, theme=theme) as (base, root, log):
        _notebook(root / "big.ipynb")
        try:
            page.goto(f"{base}/lab/tree/big.ipynb?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            wait_kernel_connected(base)
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()

            stepper = page.locator(".adlab-stepper").first
            explain = stepper.locator(".adlab-explain >> visible=true")
            expect(explain).to_contain_text(f"step 1 of {n}", timeout=120_000)
            handle = stepper.locator(".adlab-slider .noUi-handle >> visible=true")
            element = stepper.element_handle()
            assert current_node(element) == trace.output_node.name
            assert element.evaluate(IN_VIEW)

            # the keyboard: ←/→ step, End and Home jump, on the focused slider
            handle.focus()
            for k in (2, 3, 4):
                page.keyboard.press("ArrowRight")
                expect(explain).to_contain_text(f"step {k} of {n}")
            page.keyboard.press("ArrowLeft")
            expect(explain).to_contain_text(f"step 3 of {n}")
            page.keyboard.press("End")
            expect(explain).to_contain_text(f"step {n} of {n}")
            last = trace.nodes[reverse[-1].node].name
            page.wait_for_function(
                "([e, name]) => (" + CURRENT_NODE + ")(e) === name", arg=[element, last]
            )
            # the node of the last step (an input, far left) scrolled into view
            page.wait_for_function("e => (" + IN_VIEW + ")(e)", arg=element)
            shot(page, f"stepper-1000-{tag}-end.png")
            page.keyboard.press("Home")
            expect(explain).to_contain_text(f"step 1 of {n}")
            page.wait_for_function("e => (" + IN_VIEW + ")(e)", arg=element)

            # Space on Play plays, no kernel round trip needed (jslink)
            play = stepper.locator(".adlab-play >> visible=true").locator("button").first
            play.focus()
            page.keyboard.press("Space")
            expect(explain).not_to_contain_text(f"step 1 of {n}")
            stepper.locator(".adlab-play >> visible=true").locator("button:has(.fa-stop)").click()

            # readable: no text of the Stepper or of the big drawing below 10 px
            assert element.evaluate(SMALLEST_TEXT) >= MIN_TEXT - 0.01
            # the big drawing: grouped (its loop in one box), with a switch to the whole
            page.wait_for_selector(".jp-OutputArea-output .adlab-grouping", state="attached",
                                   timeout=120_000)  # fmt: skip
            scroll_to(page, ".jp-OutputArea-output .adlab-grouping")
            grouping = page.locator(".jp-OutputArea-output .adlab-grouping")
            expect(grouping.locator(".adlab-collapsed svg")).to_be_visible()
            expect(grouping.locator(".adlab-full svg")).to_be_hidden()
            drawing = grouping.element_handle()
            assert drawing.evaluate(SMALLEST_TEXT) >= MIN_TEXT - 0.01
            grouping.locator(".adlab-expand").check()  # the whole graph, all 1,000 operations
            expect(grouping.locator(".adlab-full svg")).to_be_visible()
            expect(grouping.locator(".adlab-collapsed svg")).to_be_hidden()
            assert drawing.evaluate(SMALLEST_TEXT) >= MIN_TEXT - 0.01

            # legible in both themes: the explanation line and the highlighted row
            line = stepper.locator(".adlab-explain .adlab-text >> visible=true").element_handle()
            assert line.evaluate(CONTRAST) >= 4.5
            row = stepper.locator(f"tr[id$='-r{reverse[0].node}']").element_handle()
            assert row.evaluate(CONTRAST) >= 4.5
            stepper.scroll_into_view_if_needed()
            shot(page, f"stepper-1000-{tag}.png")
        except Exception:
            shot(page, f"stepper-1000-{tag}.fail.png")
            print(log.read_text()[-3000:])
            raise
