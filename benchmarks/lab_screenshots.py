"""Screenshots of every view of the lab for the docs (``docs/images/lab/*.png``), taken in
JupyterLab and headless Chromium on the tuning notebook with four ops added.

    python benchmarks/lab_screenshots.py                 # writes docs/images/lab/
    python benchmarks/lab_screenshots.py --out /tmp/shots

Run it again whenever the lab's look changes; docs/lab.md shows the files it writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lab_browser import HERE, open_tuning_lab, run_generators_notebook, unfold, wait_until_settled

OUT = HERE.parent / "docs" / "images" / "lab"


def _tab(page, title: str, picture: str) -> None:
    tab = page.locator(".genlab-views .lm-TabBar-tab", has_text=title).first
    tab.scroll_into_view_if_needed()
    tab.click()
    page.wait_for_selector(f"{picture}[src]", state="visible", timeout=60_000)
    wait_until_settled(page, [picture])


def _shot(page, out: Path, name: str, selector: str = ".genlab-lab") -> None:
    element = page.locator(selector).first
    element.evaluate("el => el.scrollIntoView({block: 'start'})")
    path = out / f"{name}.png"
    element.screenshot(path=str(path))
    print(f"wrote {path}")


def take(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open_tuning_lab() as lab:
        page = lab.page
        _shot(page, out, "lab-grid")
        for title, picture, name in (
            ("original vs processed", "img.genlab-compare", "lab-original-vs-processed"),
            ("one image, many draws", "img.genlab-draws", "lab-many-draws"),
            ("class mix", "img.genlab-class-mix", "lab-class-mix"),
            ("memory over time", "img.genlab-rss", "lab-memory"),
        ):
            _tab(page, title, picture)
            _shot(page, out, name, ".genlab-views")
        alone = page.locator(".genlab-stage-random_erasing button.genlab-show-op").first
        alone.scroll_into_view_if_needed()
        alone.click()
        page.wait_for_selector("img.genlab-op-draws[src]", state="visible", timeout=60_000)
        wait_until_settled(page, ["img.genlab-op-draws"])
        _shot(page, out, "lab-one-op-alone", ".genlab-views")

        pin = page.locator("button.genlab-pin-top").first
        pin.scroll_into_view_if_needed()
        pin.click()
        page.wait_for_selector("img.genlab-grid-a[src]", state="visible", timeout=60_000)
        unfold(page, "color_jitter")
        handle = page.locator(".genlab-stage-color_jitter .genlab-param-saturation .noUi-handle")
        handle.first.scroll_into_view_if_needed()
        handle.first.focus()
        page.keyboard.press("End")
        page.wait_for_function(
            "() => document.querySelector('.genlab-diff').textContent.includes('saturation')",
            timeout=60_000,
        )
        wait_until_settled(page, ["img.genlab-grid-b"])
        _shot(page, out, "lab-compare")

        _tab(page, "grid", "img.genlab-grid")
        page.locator(".genlab-tile").nth(1).click()
        page.wait_for_selector("img.genlab-zoom-image[src]", state="visible", timeout=60_000)
        wait_until_settled(page, ["img.genlab-zoom-image", ".genlab-zoom-record"])
        _shot(page, out, "lab-zoom", ".genlab-views")

        run_generators_notebook(lab)
        chain = page.locator(".genlab-chain-stepper").first
        for _ in range(4):
            chain.locator("button.genlab-chain-step").click()
            page.wait_for_timeout(400)
        wait_until_settled(page, [".genlab-chain-stepper"])
        _shot(page, out, "chain-stepper", ".genlab-chain-stepper")
        _shot(page, out, "chain-stepper-failure", ".genlab-chain-stepper >> nth=-1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    take(parser.parse_args().out)


if __name__ == "__main__":
    main()
