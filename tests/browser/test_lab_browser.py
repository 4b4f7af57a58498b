"""JupyterLab in headless Chromium: run the tuning notebook and use the lab as a person would."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "03_tuning_augmentation.ipynb"
WAIT_MS = 60_000


def _grid_src(page) -> str:
    return page.locator("img.genlab-grid").first.get_attribute("src") or ""


def _wait_for_change(page, selector: str, attribute: str | None, old: str) -> str:
    """Wait until the element's attribute (or text, when ``attribute`` is None) differs from ``old``."""
    page.wait_for_function(
        """([selector, attribute, old]) => {
               const el = document.querySelector(selector);
               if (!el) return false;
               const now = attribute ? el.getAttribute(attribute) : el.textContent;
               return now !== null && now !== '' && now !== old;
           }""",
        arg=[selector, attribute, old],
        timeout=WAIT_MS,
    )
    element = page.locator(selector).first
    return element.get_attribute(attribute) if attribute else element.text_content()


def _wait_until_settled(page, selectors: list[str], quiet_ms: int = 1500) -> None:
    """Wait until none of the elements has changed for ``quiet_ms``.

    Widget updates from the last cells can reach the page after the cells' own outputs.
    """
    page.evaluate(
        """selectors => {
               window.__genlabLastChange = performance.now();
               for (const selector of selectors) {
                   new MutationObserver(() => { window.__genlabLastChange = performance.now(); })
                       .observe(document.querySelector(selector),
                                {attributes: true, childList: true, subtree: true, characterData: true});
               }
           }""",
        selectors,
    )
    page.wait_for_function(
        "quiet => performance.now() - window.__genlabLastChange > quiet",
        arg=quiet_ms,
        timeout=WAIT_MS,
    )


def click_export(page, written: str) -> None:
    """Click the lab's export button and wait until its message names ``written``."""
    button = page.locator("button.genlab-export").first
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_function(
        "text => document.querySelector('.genlab-export-result').textContent.includes(text)",
        arg=written,
        timeout=WAIT_MS,
    )


def test_tuning_notebook_toggle_slider_export(lab, jupyterlab_server):
    page = lab.page
    lab.open_notebook(NOTEBOOK)
    lab.run_all_cells()
    page.wait_for_selector("img.genlab-grid[src]", timeout=WAIT_MS)
    # the last cell prints this once every cell before it has run and updated the lab
    page.wait_for_selector(
        ".jp-OutputArea-output:has-text('the grid is batch 0 of epoch 0')", timeout=WAIT_MS
    )
    lab.wait_kernel_idle()
    _wait_until_settled(page, [".genlab-memory", "img.genlab-grid", ".genlab-stages"])
    assert page.locator(".jupyter-widgets-error-widget").count() == 0, "a widget failed to render"
    exported = jupyterlab_server["root_dir"] / "exported" / "tuned.json"
    assert exported.exists()

    grid = _grid_src(page)
    memory = page.locator(".genlab-memory").first.text_content()
    assert "float32" in memory and "rescale_images" in memory

    # toggle rescale_images off: uint8 all the way, the costs fall and the grid changes
    toggle = page.locator(".genlab-toggle-rescale_images input[type=checkbox]").first
    toggle.scroll_into_view_if_needed()
    toggle.click()
    memory_off = _wait_for_change(page, ".genlab-memory", None, memory)
    assert "float32" not in memory_off
    grid_off = _wait_for_change(page, "img.genlab-grid", "src", grid)

    # and on again: the float32 figures come back
    toggle.click()
    memory_on = _wait_for_change(page, ".genlab-memory", None, memory_off)
    assert "float32" in memory_on
    grid_on = _wait_for_change(page, "img.genlab-grid", "src", grid_off)

    # move the horizontal-flip slider of augment to its end (1.00)
    handle = page.locator(
        ".genlab-stage-augment .genlab-param-hflip .noUi-handle[role=slider]"
    ).first
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(5):  # a quick burst, like a drag: the lab throttles, the last value must land
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("End")
    page.wait_for_function(
        """() => document.querySelector('.genlab-stage-augment .genlab-param-hflip .widget-readout')
                   .textContent.trim() === '1.00'""",
        timeout=WAIT_MS,
    )
    _wait_for_change(page, "img.genlab-grid", "src", grid_on)
    assert page.locator(".genlab-message").first.text_content().strip() == ""

    # export: the written spec carries what the controls show
    exported.unlink()  # written by the notebook's last cell; the button must write it again
    click_export(page, "tuned.json")
    assert exported.exists() and exported.with_suffix(".py").exists()
    spec = json.loads(exported.read_text())
    stages = {s["name"]: s for s in spec["stages"]}
    assert stages["augment"]["params"]["hflip"] == 1.0
    assert stages["augment"]["params"]["rotation_p"] == 0.5  # set by the notebook's second cell
    assert stages["rescale_images"]["enabled"] is True
    page.locator(".genlab-lab").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.screenshot("tuning-notebook-lab")


def test_generators_notebook_stepper_buttons(lab):
    page = lab.page
    lab.open_notebook("01_generators.ipynb")
    lab.run_all_cells()
    page.wait_for_selector(".jp-OutputArea-output:has-text('send(Batch(')", timeout=WAIT_MS)
    lab.wait_kernel_idle()
    _wait_until_settled(page, [".genlab-stepper"])
    assert page.locator(".jupyter-widgets-error-widget").count() == 0, "a widget failed to render"
    catalan = page.locator(".genlab-stepper").first
    assert "14" in catalan.locator(".genlab-stepper-history").text_content()
    button = catalan.locator("button.genlab-stepper-next")
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_function(
        """() => document.querySelector('.genlab-stepper .genlab-stepper-history')
                   .textContent.includes('yielded 42')""",
        timeout=WAIT_MS,
    )
    paused = catalan.locator(".genlab-paused-line").text_content()
    assert "yield value" in paused
    catalan.locator("button.genlab-stepper-close").click()
    page.wait_for_function(
        "() => document.querySelector('.genlab-stepper .genlab-state-closed') !== null",
        timeout=WAIT_MS,
    )
    catalan.scroll_into_view_if_needed()
    lab.screenshot("generators-notebook-stepper")
