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


def _run_tuning_notebook(lab) -> None:
    """Open the tuning notebook, run every cell and wait until the lab has settled."""
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


def unfold(page, stage: str) -> None:
    """Open the folded box of ``stage`` (its settings become visible)."""
    fold = page.locator(f".genlab-stage-{stage} button.genlab-fold").first
    fold.scroll_into_view_if_needed()
    if fold.text_content().strip() == "▸":
        fold.click()
    page.locator(f".genlab-stage-{stage} .genlab-stage-body").first.wait_for(
        state="visible", timeout=WAIT_MS
    )


def _stage_names(page) -> list[str]:
    """The stage toggles' labels, top to bottom ("1. read_images", ...), numbers dropped."""
    labels = page.locator(".genlab-stages .genlab-toggle").all_text_contents()
    return [label.strip().split(". ", 1)[1] for label in labels]


def test_tuning_notebook_toggle_slider_export(lab, jupyterlab_server):
    page = lab.page
    _run_tuning_notebook(lab)
    exported = jupyterlab_server["root_dir"] / "exported" / "tuned.json"
    assert exported.exists()

    grid = _grid_src(page)
    memory = page.locator(".genlab-memory").first.text_content()
    assert "float32" in memory and "rescale_images" in memory

    # toggle rescale_images off: uint8 all the way, the costs fall
    toggle = page.locator(".genlab-toggle-rescale_images input[type=checkbox]").first
    toggle.scroll_into_view_if_needed()
    toggle.click()
    memory_off = _wait_for_change(page, ".genlab-memory", None, memory)
    assert "float32" not in memory_off

    # and on again: the float32 figures come back, and the very same grid
    toggle.click()
    memory_on = _wait_for_change(page, ".genlab-memory", None, memory_off)
    assert "float32" in memory_on
    _wait_until_settled(page, ["img.genlab-grid"])
    grid_on = _grid_src(page)
    assert grid_on == grid

    # move the hflip op's probability slider to its end (1.00), its folded box opened first
    unfold(page, "hflip")
    handle = page.locator(".genlab-stage-hflip .genlab-param-p .noUi-handle[role=slider]").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(5):  # a quick burst, like a drag: the lab throttles, the last value must land
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("End")
    page.wait_for_function(
        """() => document.querySelector('.genlab-stage-hflip .genlab-param-p .widget-readout')
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
    assert stages["hflip"]["params"]["p"] == 1.0
    assert stages["one_of"]["params"]["weights"] == [1.0, 3.0]  # set by the notebook's second cell
    assert stages["rescale_images"]["enabled"] is True
    page.locator(".genlab-lab").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.screenshot("tuning-notebook-lab")


def _add_from_dropdown(page, name: str) -> None:
    """Choose ``name`` in the grouped add menu, check its help line, press add."""
    choice = page.locator(".genlab-add-choice select").first
    choice.scroll_into_view_if_needed()
    choice.select_option(value=f"   {name}")  # entries are indented under their heading
    page.wait_for_function(
        "name => document.querySelector('.genlab-add-help').textContent.includes(name)",
        arg=name,
        timeout=WAIT_MS,
    )
    before = len(_stage_names(page))
    page.locator("button.genlab-add").first.click()
    page.wait_for_function(
        "n => document.querySelectorAll('.genlab-stages .genlab-toggle').length === n",
        arg=before + 1,
        timeout=WAIT_MS,
    )


def test_add_ops_from_the_grouped_dropdown_and_reorder(lab):
    page = lab.page
    _run_tuning_notebook(lab)
    options = page.locator(".genlab-add-choice select option").all_text_contents()
    options = [o.replace("\xa0", " ") for o in options]  # ipywidgets shows spaces as nbsp
    headings = [o.strip("\u2500 ") for o in options if o.startswith("\u2500")]
    assert headings[:2] == ["geometry", "colour"] and headings[-1] == "pipeline stages"
    grid = _grid_src(page)

    _add_from_dropdown(page, "random_resized_crop")
    help_line = page.locator(".genlab-add-help").first.text_content()
    assert "geometry" in help_line and "crop a random area" in help_line
    grid_crop = _wait_for_change(page, "img.genlab-grid", "src", grid)
    _add_from_dropdown(page, "color_jitter")
    grid_both = _wait_for_change(page, "img.genlab-grid", "src", grid_crop)
    names = _stage_names(page)
    assert names[3:5] == ["random_resized_crop", "color_jitter"]  # after the last op, one_of
    assert page.locator(".genlab-message").first.text_content().strip() == ""

    # colour jitter above the crop: the same draws in another order give another grid
    up = page.locator(".genlab-stage-color_jitter button.genlab-move-up").first
    up.scroll_into_view_if_needed()
    up.click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.genlab-stages .genlab-toggle')]
                   .map(el => el.textContent)[3].endsWith('4. color_jitter')""",
        timeout=WAIT_MS,
    )
    _wait_for_change(page, "img.genlab-grid", "src", grid_both)
    assert _stage_names(page)[3:5] == ["color_jitter", "random_resized_crop"]
    assert page.locator(".genlab-message").first.text_content().strip() == ""

    # the crop alone, 16 draws: its tab opens with the picture
    alone = page.locator(".genlab-stage-random_resized_crop button.genlab-show-op").first
    alone.scroll_into_view_if_needed()
    alone.click()
    page.wait_for_selector("img.genlab-op-draws[src]", state="visible", timeout=WAIT_MS)
    _wait_until_settled(page, ["img.genlab-op-draws"])
    # every tab title reads in full: no title is cut by its tab
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.genlab-views .lm-TabBar-tabLabel')]
                   .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent)"""
    )
    assert cut == []
    page.locator(".genlab-lab").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.screenshot("tuning-notebook-ops")


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


def run_generators_notebook(lab) -> None:
    """Open notebook 1, run every cell and wait until its chain steppers have settled."""
    page = lab.page
    lab.open_notebook("01_generators.ipynb")
    lab.run_all_cells()
    # the notebook's last cell prints this once every cell before it has run
    page.wait_for_selector(
        ".jp-OutputArea-output:has-text('error in stage 2 wants_uint8')", timeout=WAIT_MS
    )
    lab.wait_kernel_idle()
    _wait_until_settled(page, [".genlab-chain-stepper"])
    assert page.locator(".jupyter-widgets-error-widget").count() == 0, "a widget failed to render"


def test_generators_notebook_chain_stepper_one_batch(lab):
    page = lab.page
    run_generators_notebook(lab)
    chain = page.locator(".genlab-chain-stepper").first  # the post's three-stage chain, untouched

    def states():
        return [s.strip() for s in chain.locator(".genlab-chain-state").all_text_contents()]

    def thumbnails():
        return [img.get_attribute("src") for img in chain.locator("img.genlab-chain-thumb").all()]

    def click(css_class):
        history = ".genlab-chain-stepper .genlab-chain-history"  # redrawn last, after the diagram
        before = page.locator(history).first.text_content()
        button = chain.locator(f"button.{css_class}")
        button.scroll_into_view_if_needed()
        button.click()
        _wait_for_change(page, history, None, before)

    receive, emit = "suspended at receive", "suspended at emit"
    assert states() == ["created"] * 3 and thumbnails() == []
    for primed in range(1, 4):  # the driver's None, stage by stage
        click("genlab-chain-step")
        assert states() == [receive] * primed + ["created"] * (3 - primed)
    seen = []
    for sent in range(1, 4):  # the batch into each stage: its images appear in that stage's locals
        click("genlab-chain-step")
        assert states() == [emit] * sent + [receive] * (3 - sent)
        now = thumbnails()
        assert len(now) == sent and now[: len(seen)] == seen
        assert all(src.startswith("data:image/png;base64,") for src in now)
        seen = now
    # what rescale_images emitted travels on the last arrow, to the driver's for loop
    assert "(4, 48, 48, 3) float32" in chain.locator(".genlab-chain-arrow-3").text_content()
    click("genlab-chain-step")  # the batch leaves the chain
    assert "the batch leaves the chain" in chain.locator(".genlab-chain-history").text_content()
    click("genlab-chain-step-stage")  # the next batch: advance all, then into read_images
    assert states() == [emit, receive, receive]
    assert thumbnails()[0] != seen[0], "read_images' thumbnail did not change with the new batch"
    chain.scroll_into_view_if_needed()
    lab.screenshot("generators-notebook-chain-stepper")
