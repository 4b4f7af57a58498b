"""JupyterLab in headless Chromium: a COCO sample in the lab, its boxes and masks drawn and
switchable, a rotation slider redrawing them."""

from __future__ import annotations

import json

import nbformat
import pytest

from .test_lab_browser import WAIT_MS, _grid_src, _wait_for_change, _wait_until_settled, unfold

pytestmark = pytest.mark.browser

NOTEBOOK = "targets_lab.ipynb"
ROTATION = ".genlab-stage-random_rotation"
SETUP = """import json
from pathlib import Path

import genlab
from genlab.lab import PipelineLab

root = genlab.make_sample_data(Path("shapes-browser"), kind="shapes", n_per_class=4,
                               size=(128, 96), overwrite=True)
pipeline = genlab.Pipeline.from_coco(root / "annotations.json", batch_size=8, shuffle=False, stages=[
    ("read_images", {"target_size": (128, 96)}), ("random_rotation", {"degrees": (30.0, 30.0)})])
lab = PipelineLab(pipeline)


def record(change=None):  # what the grid shows, for the test to read
    Path("boxes.json").write_text(json.dumps(lab.model.last.batch.targets[0].boxes.tolist()))


lab.grid.observe(record, names="value")
record()
lab"""


def _open_targets_lab(lab, root_dir) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell("print('lab ready')"),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}  # fmt: skip
    nbformat.write(notebook, root_dir / NOTEBOOK)
    page = lab.page
    lab.open_notebook(NOTEBOOK)
    lab.run_all_cells()
    page.wait_for_selector("img.genlab-grid[src]", timeout=WAIT_MS)
    page.wait_for_selector(".jp-OutputArea-output:has-text('lab ready')", timeout=WAIT_MS)
    lab.wait_kernel_idle()
    _wait_until_settled(page, ["img.genlab-grid", ".genlab-stages"])
    assert page.locator(".jupyter-widgets-error-widget").count() == 0, "a widget failed to render"


def _rotate(page) -> None:
    """Move the upper end of the rotation's degrees to its maximum (its folded box opened first)."""
    unfold(page, "random_rotation")
    handle = page.locator(f"{ROTATION} .genlab-param-degrees .noUi-handle[role=slider]").last
    handle.wait_for(state="visible", timeout=WAIT_MS)
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("End")


def _grid_digest(page) -> str:
    """SHA-256 of the grid picture's bytes (its src is a new blob URL at every update)."""
    return page.evaluate(
        """async () => {
               const response = await fetch(document.querySelector('img.genlab-grid').src);
               const digest = await crypto.subtle.digest('SHA-256', await response.arrayBuffer());
               return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
           }"""
    )


def _toggled(page, kind: str) -> str:
    """Click a show/hide box, wait for the grid's redraw; the new picture's digest."""
    src = _grid_src(page)
    box = page.locator(f".genlab-show-{kind} input[type=checkbox]").first
    box.scroll_into_view_if_needed()
    box.click()
    _wait_for_change(page, "img.genlab-grid", "src", src)
    _wait_until_settled(page, ["img.genlab-grid"])
    return _grid_digest(page)


def test_boxes_and_masks_are_drawn_switchable_and_redrawn_by_the_rotation_slider(
    lab, jupyterlab_server
):
    page = lab.page
    _open_targets_lab(lab, jupyterlab_server["root_dir"])
    assert page.locator(".genlab-target-toggles").first.is_visible()
    drawn = _grid_digest(page)
    no_masks = _toggled(page, "masks")
    bare = _toggled(page, "boxes")
    assert len({drawn, no_masks, bare}) == 3  # masks and boxes were both drawn
    assert _toggled(page, "masks") not in (drawn, bare)
    assert _toggled(page, "boxes") == drawn  # both back: the first picture again

    src = _grid_src(page)
    _rotate(page)
    _wait_for_change(page, "img.genlab-grid", "src", src)
    _wait_until_settled(page, ["img.genlab-grid"])
    assert _grid_digest(page) != drawn
    assert page.locator(".genlab-message").first.text_content().strip() == ""
    page.locator(".genlab-lab").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.screenshot("targets-lab")


def test_the_rotation_slider_moves_the_boxes(lab, jupyterlab_server):
    page = lab.page
    root_dir = jupyterlab_server["root_dir"]
    _open_targets_lab(lab, root_dir)
    before = (root_dir / "boxes.json").read_text()
    drawn = _grid_src(page)
    _rotate(page)
    _wait_for_change(page, "img.genlab-grid", "src", drawn)
    _wait_until_settled(page, ["img.genlab-grid"])
    assert json.loads((root_dir / "boxes.json").read_text()) != json.loads(before)
