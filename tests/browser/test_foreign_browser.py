"""JupyterLab in headless Chromium: an albumentations Compose in the lab, tuned with its own slider."""

from __future__ import annotations

import json

import pytest

from .test_lab_browser import (
    WAIT_MS,
    _grid_src,
    _wait_for_change,
    _wait_until_settled,
    click_export,
    unfold,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "05_bring_your_own_transforms.ipynb"
ROTATE = ".genlab-stage-albumentations\\.Rotate"  # the stage's box; the dot escaped for CSS


def test_albumentations_slider_moves_and_the_grid_changes(lab, jupyterlab_server):
    pytest.importorskip("albumentations")
    page = lab.page
    lab.open_notebook(NOTEBOOK)
    lab.run_all_cells()
    page.wait_for_selector("img.genlab-grid[src]", timeout=WAIT_MS)
    page.wait_for_selector(
        ".jp-OutputArea-output:has-text('trained on the tuned albumentations pipeline')",
        timeout=WAIT_MS,
    )
    lab.wait_kernel_idle()
    _wait_until_settled(page, [".genlab-memory", "img.genlab-grid", ".genlab-stages"])
    assert page.locator(".jupyter-widgets-error-widget").count() == 0, "a widget failed to render"

    # OpenCV's constants by name, the integers albumentations takes kept as values
    border = page.locator(f"{ROTATE} .genlab-param-border_mode select").first
    assert "BORDER_REFLECT_101" in border.locator("option").all_text_contents()
    interpolation = page.locator(f"{ROTATE} .genlab-param-interpolation select").first
    assert interpolation.evaluate("el => el.options[el.selectedIndex].text") == "INTER_LINEAR"
    unfold(page, "albumentations\\.Rotate")

    # the notebook set Rotate's p to 0.8 through the lab's methods: the slider shows it
    readout = f"{ROTATE} .genlab-param-p .widget-readout"
    assert page.locator(readout).first.text_content().strip() == "0.80"
    limit = page.locator(f"{ROTATE} .genlab-param-limit input").first
    assert limit.input_value() == "-30, 30"  # a range from albumentations' schema, as text

    grid = _grid_src(page)
    handle = page.locator(f"{ROTATE} .genlab-param-p .noUi-handle[role=slider]").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("End")
    page.wait_for_function(
        "selector => document.querySelector(selector).textContent.trim() === '1.00'",
        arg=readout,
        timeout=WAIT_MS,
    )
    _wait_for_change(page, "img.genlab-grid", "src", grid)
    assert page.locator(".genlab-message").first.text_content().strip() == ""

    # the export button writes the new value into genlab's spec and albumentations' own JSON
    exported = jupyterlab_server["root_dir"] / "exported" / "bring_your_own.albumentations.json"
    exported.unlink()  # written by the notebook; the button must write it again
    click_export(page, "albumentations.json")
    saved = json.loads(exported.read_text())["transform"]["transforms"]
    rotate = next(t for t in saved if t["__class_fullname__"] == "Rotate")
    assert rotate["p"] == 1.0 and rotate["limit"] == [-30.0, 30.0]
    page.locator(".genlab-lab").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.screenshot("foreign-albumentations-lab")
