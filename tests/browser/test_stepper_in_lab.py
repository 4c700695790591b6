"""The Stepper in a real JupyterLab, driven by Chromium: %%grad --step, then stepping."""

from __future__ import annotations

import adlab as ad
from adlab.core.events import OVERLINE, format_value
from tests.browser.conftest import (
    SHOWN_TEXT,
    current_node,
    stepper_program,
    wait_kernel_connected,
    write_stepper_notebook,
)


def test_grad_step_cell_steps_through_the_backward_pass(lab, page, shot):
    from playwright.sync_api import expect

    base, root, log = lab
    write_stepper_notebook(root / "stepper.ipynb")
    trace = ad.trace(stepper_program, 2.0, 3.0)
    # the page draws each adjoint's bar as a real overline, so its text has no combining marks
    explanations = [e.explain().replace(OVERLINE, "") for e in trace.backward_events()]
    n = len(explanations)
    try:
        page.goto(f"{base}/lab/tree/stepper.ipynb?token=adlab-test-token")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        wait_kernel_connected(base)
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()

        stepper = page.locator(".adlab-stepper")
        explain = stepper.locator(".adlab-explain >> visible=true")
        expect(explain).to_contain_text(f"step 1 of {n}")
        expect(explain).to_contain_text(explanations[0])
        element = stepper.element_handle()
        assert current_node(element) == "z"

        # the keyboard, on the focused step slider
        stepper.locator(".adlab-slider .noUi-handle >> visible=true").focus()
        page.keyboard.press("ArrowRight")
        expect(explain).to_contain_text(f"step 2 of {n}")
        expect(explain).to_contain_text(explanations[1])
        assert current_node(element) == trace.nodes[trace.backward_events()[1].node].name

        for k in range(3, n + 1):  # through the whole backward pass, one step at a time
            page.keyboard.press("ArrowRight")
            expect(explain).to_contain_text(f"step {k} of {n}")
            expect(explain).to_contain_text(explanations[k - 1])

        # the final adjoints of the inputs are the gradient in the GradResult table
        rows = stepper.locator(".adlab-wengert >> visible=true").locator("tbody tr")
        shown = page.locator(".adlab-gradresult tbody tr")
        expect(shown).to_have_count(2)
        gx, gy = trace.backward()
        for i, (name, g) in enumerate((("x", gx), ("y", gy))):
            expect(shown.nth(i).locator("td").nth(2)).to_have_text(format_value(g))
            expect(rows.nth(i).locator("td").nth(0)).to_have_text(name)
            last = rows.nth(i).locator("td").nth(3).element_handle()
            assert last.evaluate(SHOWN_TEXT) == format_value(g)  # the variant shown now
        stepper.scroll_into_view_if_needed()
        shot(page, "stepper-lab.png")
    except Exception:
        shot(page, "stepper-lab.fail.png")
        print(log.read_text()[-3000:])
        raise
