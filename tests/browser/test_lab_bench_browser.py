"""JupyterLab in headless Chromium: the lab as a tuning bench, used as a person would.

Folding and the op just added, an error kept at its stage, compare A/B, zoom, soft labels under
mixing, the export/load round trip, and the chain stepper holding still while it steps.
"""

from __future__ import annotations

import re

import pytest

from .test_lab_browser import (
    WAIT_MS,
    _add_from_dropdown,
    _grid_src,
    _run_tuning_notebook,
    _stage_names,
    _wait_for_change,
    _wait_until_settled,
    click_export,
    run_generators_notebook,
    unfold,
)

pytestmark = pytest.mark.browser


def _wait_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        """([selector, text]) => [...document.querySelectorAll(selector)]
               .some(el => el.textContent.includes(text))""",
        arg=[selector, text],
        timeout=WAIT_MS,
    )


def _grid_bytes(page) -> str:
    """The bytes the grid shows (base64), whatever URL the page gave them."""
    return page.locator("img.genlab-grid").first.evaluate(
        """async img => {
               const data = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
               let text = '';
               for (const byte of data) text += String.fromCharCode(byte);
               return btoa(text);
           }"""
    )


def _open_tab(page, title: str) -> None:
    tab = page.locator(".genlab-views .lm-TabBar-tab", has_text=title).first
    tab.scroll_into_view_if_needed()
    tab.click()


def _slider_to_end(page, stage: str, param: str, readout: str = "1.00") -> None:
    unfold(page, stage)
    handle = page.locator(f".genlab-stage-{stage} .genlab-param-{param} .noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("End")
    page.wait_for_function(
        """([selector, value]) => document.querySelector(selector).textContent.trim() === value""",
        arg=[f".genlab-stage-{stage} .genlab-param-{param} .widget-readout", readout],
        timeout=WAIT_MS,
    )


def test_fold_error_compare_and_zoom(lab, jupyterlab_server):
    page = lab.page
    _run_tuning_notebook(lab)

    # every stage is one line with its full name; only the op just added opens, in view
    assert page.locator(".genlab-stage-body:visible").count() == 1  # the notebook's one_of
    _add_from_dropdown(page, "gaussian_blur")
    new = page.locator(".genlab-stage-new")
    new.first.wait_for(state="visible", timeout=WAIT_MS)
    assert new.count() == 1 and "gaussian_blur" in new.first.get_attribute("class")
    assert page.locator(".genlab-stage-body:visible").count() == 1
    in_view = new.first.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert in_view, "the op just added is not in view"
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.genlab-stages .genlab-toggle label, '
                                              + '.genlab-stages .genlab-toggle .widget-label-basic')]
                   .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent)"""
    )
    assert cut == [], f"stage names cut: {cut}"
    names = _stage_names(page)
    assert names.index("gaussian_blur") < names.index("rescale_images")

    # a bad op name in a group's JSON: the error at the group's box, the text kept
    unfold(page, "one_of")
    text = page.locator(".genlab-stage-one_of .genlab-param-ops textarea").first
    text.scroll_into_view_if_needed()
    text.fill('["hflip", "vflp"]')
    text.blur()
    _wait_text(page, ".genlab-stage-one_of .genlab-stage-error", "did you mean 'vflip'")
    error = page.locator(".genlab-stage-one_of .genlab-stage-error").first.text_content()
    assert "posterize" not in error  # not the whole registry
    assert text.input_value() == '["hflip", "vflp"]'
    assert page.locator(".genlab-message").first.text_content().strip() == ""
    text.fill('["vflip", ["rotate90", {"p": 1.0}]]')
    text.blur()
    page.wait_for_function(
        "() => document.querySelector('.genlab-stage-one_of .genlab-stage-error')"
        ".textContent.trim() === ''",
        timeout=WAIT_MS,
    )

    # compare: pin A, tune B, both grids, the diff in one line, export B
    pin = page.locator("button.genlab-pin-top").first
    pin.scroll_into_view_if_needed()
    pin.click()
    page.wait_for_selector("img.genlab-grid-a[src]", state="visible", timeout=WAIT_MS)
    _wait_text(page, ".genlab-diff", "the same settings")
    b_before = page.locator("img.genlab-grid-b").first.get_attribute("src")
    _slider_to_end(page, "hflip", "p")
    _wait_text(page, ".genlab-diff", "hflip.p 0.5 → 1")
    _wait_for_change(page, "img.genlab-grid-b", "src", b_before)
    a = page.locator("img.genlab-grid-a").first
    b = page.locator("img.genlab-grid-b").first
    assert a.is_visible() and b.is_visible() and a.get_attribute("src") != b.get_attribute("src")
    assert a.bounding_box()["width"] > 150 and b.bounding_box()["width"] > 150
    export_b = page.locator("button.genlab-export-b").first
    export_b.scroll_into_view_if_needed()
    export_b.click()
    _wait_text(page, ".genlab-compare-result", "tuned-B.json")
    assert (jupyterlab_server["root_dir"] / "exported" / "tuned-B.json").exists()
    page.locator(".genlab-lab").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.screenshot("lab-compare")

    # zoom: a click on the third tile opens it large, with its record and the original
    _open_tab(page, "grid")
    tile = page.locator(".genlab-tile").nth(2)
    tile.scroll_into_view_if_needed()
    tile_width = tile.bounding_box()["width"]
    tile.click()
    page.wait_for_selector("img.genlab-zoom-image[src]", state="visible", timeout=WAIT_MS)
    assert page.locator(".genlab-zoom-sample input").first.input_value() == "2"
    assert page.locator("img.genlab-zoom-original[src]").first.is_visible()
    _wait_text(page, ".genlab-zoom-labels", "label:")
    record = page.locator(".genlab-zoom-record").first.text_content()
    assert "what was drawn" in record or "no random op" in record
    assert page.locator("img.genlab-zoom-image").first.bounding_box()["width"] >= 2.5 * tile_width
    page.locator(".genlab-lab").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.screenshot("lab-zoom")


def test_mixing_fractions_and_the_load_round_trip(lab, jupyterlab_server):
    page = lab.page
    _run_tuning_notebook(lab)

    # cutmix on every batch: soft labels, counted with their fractions
    _add_from_dropdown(page, "cutmix")
    names = _stage_names(page)
    assert names.index("cutmix") < names.index("rescale_images")
    page.wait_for_function(  # cutmix mixes every sample by default (p = 1)
        r"() => /\d\.\d\d/.test(document.querySelector('.genlab-class-line').textContent)",
        timeout=WAIT_MS,
    )
    assert "alpha" not in page.locator(".genlab-stage-cutmix .genlab-summary").first.text_content()
    line = page.locator(".genlab-class-line").first.text_content()
    counts = [float(v) for v in re.findall(r"(?:china|flower)\s([\d.]+)", line)]
    assert len(counts) == 2 and sum(counts) == pytest.approx(16, abs=0.05)
    assert any(not c.is_integer() for c in counts), f"no fraction in {line!r}"

    # export batch 1 after a new draw, move on, load it back: the very same grid
    grid = _grid_src(page)
    next_batch = page.locator("button.genlab-next-batch").first
    next_batch.scroll_into_view_if_needed()
    next_batch.click()
    grid = _wait_for_change(page, "img.genlab-grid", "src", grid)
    page.locator("button.genlab-new-draw").first.click()
    exported_grid = _wait_for_change(page, "img.genlab-grid", "src", grid)
    _wait_until_settled(page, ["img.genlab-grid"])
    exported_grid, exported_bytes = _grid_src(page), _grid_bytes(page)
    click_export(page, "tuned.json")
    next_batch.click()
    _wait_for_change(page, "img.genlab-grid", "src", exported_grid)
    refresh = page.locator("button.genlab-load-refresh").first
    refresh.scroll_into_view_if_needed()
    refresh.click()
    choice = page.locator(".genlab-load-choice select").first
    page.wait_for_function(
        """() => [...document.querySelectorAll('.genlab-load-choice select option')]
                   .some(o => o.textContent === 'exported/tuned.json')""",
        timeout=WAIT_MS,
    )
    choice.select_option(label="exported/tuned.json")
    page.locator("button.genlab-load").first.click()
    _wait_text(page, ".genlab-load-result", "batch 1 of epoch 0, draw 1")
    _wait_until_settled(page, ["img.genlab-grid"])
    assert _grid_bytes(page) == exported_bytes


def test_chain_stepper_holds_still_while_stepping(lab):
    page = lab.page
    run_generators_notebook(lab)
    chain = page.locator(".genlab-chain-stepper").first
    chain.scroll_into_view_if_needed()
    assert chain.locator(".genlab-chain-legend").count() == 1
    # held as one DOM element: JupyterLab renders cells lazily, so a locator's ".first" may
    # resolve to another cell's stepper once the notebook scrolls
    stepper = chain.element_handle()

    def boxes():  # relative to the stepper: the notebook may scroll
        origin = stepper.bounding_box()
        return [
            (round(b["x"] - origin["x"]), round(b["y"] - origin["y"]), round(b["width"]))
            for b in (el.bounding_box() for el in stepper.query_selector_all(".genlab-chain-stage"))
        ]

    before, previous = boxes(), None
    for _ in range(40):  # the baseline once JupyterLab has laid out the cells above (lazy render)
        if before == previous:
            break
        page.wait_for_timeout(250)
        previous, before = before, boxes()
    history = ".genlab-chain-stepper .genlab-chain-history"
    for _ in range(7):  # primes, sends, the batch out: states, locals and thumbnails change
        text = page.locator(history).first.text_content()
        stepper.query_selector("button.genlab-chain-step").click()
        _wait_for_change(page, history, None, text)
        assert boxes() == before, "a stage box moved"
    assert len(before) == 3 and len({y for _x, y, _w in before}) == 1  # one row
    lab.screenshot("chain-stepper-steady")
