"""The lab's timings as a person sees them: in JupyterLab, in headless Chromium.

    python benchmarks/bench_lab_browser.py               # 15 of each action
    python benchmarks/bench_lab_browser.py --repeats 30

The tuning notebook is run and four ops are added from the menu (``lab_browser.ADDED_OPS``), as
in issue 18. Each action is timed in the page, from the key press or click to the moment the
picture's ``src`` changes (a MutationObserver notes ``performance.now()``):

- key press -> new grid: ``ArrowRight``/``ArrowLeft`` on color_jitter's brightness slider;
- new draw, next batch: the buttons, to the new grid;
- one image, many draws: "new draw" with that tab open, to its new picture.

Where the time goes: the lab's status line says how long the stages ran and how long the grid's
picture took in the kernel; the rest is the widget round trip (comm, transfer, decoding and
paint in the browser) and, for "one image, many draws", the 16 runs of the chain that view makes. Then, side by side in this process on the same 16 images: the grid drawn
by matplotlib and encoded as PNG (genlab 0.2's lab) against the Pillow tiles encoded as JPEG.

Targets (issue 18): key press to new grid <= 100 ms median and <= 200 ms max; new draw and
next batch <= 150 ms; one image, many draws <= 400 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from lab_browser import open_tuning_lab, unfold, wait_until_settled

TARGETS_MS = {
    "key press -> new grid": (100.0, 200.0),
    "new draw": (150.0, None),
    "next batch": (150.0, None),
    "one image, many draws": (400.0, None),
}

_OBSERVE = """selectors => {
    window.__genlabChanged = {};
    for (const selector of selectors) {
        const el = document.querySelector(selector);
        new MutationObserver(() => { window.__genlabChanged[selector] = performance.now(); })
            .observe(el, {attributes: true, attributeFilter: ['src']});
    }
}"""


def timed(page, selector: str, act) -> dict[str, float]:
    """Milliseconds from ``act()`` to the ``src`` of ``selector`` changing, and the kernel's split."""
    old = page.locator(selector).first.get_attribute("src")
    started = page.evaluate("performance.now()")
    act()
    page.wait_for_function(
        "([s, old]) => document.querySelector(s).getAttribute('src') !== old",
        arg=[selector, old],
        timeout=60_000,
    )
    changed = page.evaluate("s => window.__genlabChanged[s]", selector)
    stages = float(page.locator(".genlab-stage-ms").first.text_content())
    picture = float(page.locator(".genlab-picture-ms").first.text_content())
    time.sleep(0.3)  # past the lab's throttle: every action is a first change
    return {"total": changed - started, "stages": stages, "picture": picture}


def summary(name: str, rows: list[dict[str, float]]) -> str:
    total = [r["total"] for r in rows]
    median, worst = statistics.median(total), max(total)
    stages = statistics.median(r["stages"] for r in rows)
    picture = statistics.median(r["picture"] for r in rows)
    median_target, max_target = TARGETS_MS[name]
    verdict = (
        "met"
        if median <= median_target and (max_target is None or worst <= max_target)
        else "NOT met"
    )
    target = f"<= {median_target:.0f} median" + (f", <= {max_target:.0f} max" if max_target else "")
    return (
        f"{name:24} median {median:6.0f} ms  max {worst:6.0f} ms  | kernel: stages {stages:4.0f},"
        f" grid picture {picture:3.0f}, rest {median - stages - picture:4.0f} | target {target}: {verdict}"
    )


def browser_timings(repeats: int) -> list[str]:
    with open_tuning_lab() as lab:
        page = lab.page
        page.evaluate(_OBSERVE, ["img.genlab-grid", "img.genlab-draws"])
        unfold(page, "color_jitter")
        handle = page.locator(
            ".genlab-stage-color_jitter .genlab-param-brightness .noUi-handle"
        ).first
        handle.scroll_into_view_if_needed()
        rows = {name: [] for name in TARGETS_MS}
        for _ in range(repeats):  # one way: every value is new (none is in the lab's cache)
            handle.focus()
            rows["key press -> new grid"].append(
                timed(page, "img.genlab-grid", lambda: page.keyboard.press("ArrowRight"))
            )
        new_draw = page.locator("button.genlab-new-draw").first
        next_batch = page.locator("button.genlab-next-batch").first
        for _ in range(repeats):
            rows["new draw"].append(timed(page, "img.genlab-grid", new_draw.click))
        for _ in range(repeats):
            rows["next batch"].append(timed(page, "img.genlab-grid", next_batch.click))
        page.locator(".genlab-views .lm-TabBar-tab", has_text="one image, many draws").first.click()
        page.wait_for_selector("img.genlab-draws[src]", timeout=60_000)
        wait_until_settled(page, ["img.genlab-draws"])
        for _ in range(repeats):
            rows["one image, many draws"].append(timed(page, "img.genlab-draws", new_draw.click))
        return [summary(name, values) for name, values in rows.items()]


def kernel_side_by_side(repeats: int) -> str:
    """genlab 0.2's grid (matplotlib text, PNG) against the tiles (Pillow, JPEG), same images."""
    import genlab
    from genlab.lab.render import displayable_batch
    from genlab.lab.tiles import grid_picture, soft_labels
    from genlab.plotting import GridRenderer, encode_image, labels_of

    root = genlab.ensure_sample_data("photos")
    pipeline = genlab.Pipeline.from_folder(
        root, batch_size=16, stages=[("read_images", {"target_size": (224, 224)}), "rescale_images"]
    )
    batch = next(iter(pipeline))
    names = pipeline.class_names
    renderer = GridRenderer(capacity=16, columns=4, image_format="png")
    header = iter(range(10**6))

    def old() -> bytes:  # a new header each time, as when the draw moves on
        return renderer.render(
            displayable_batch(batch.x), labels_of(batch.y, names), f"draw {next(header)}"
        )

    def new() -> bytes:
        picture = grid_picture(
            displayable_batch(batch.x), soft_labels(batch.y, names), f"draw {next(header)}"
        )
        return encode_image(picture, "jpeg")

    times = {"old": [], "new": []}
    for _ in range(repeats):
        for name, draw in (("old", old), ("new", new)):
            started = time.perf_counter()
            data = draw()
            times[name].append((time.perf_counter() - started) * 1000)
            times[f"{name} bytes"] = len(data)
    old_ms, new_ms = statistics.median(times["old"]), statistics.median(times["new"])
    return (
        f"grid picture in the kernel, 16 images at 224 px, side by side: matplotlib + PNG "
        f"{old_ms:.0f} ms ({times['old bytes'] // 1024} KiB), Pillow tiles + JPEG {new_ms:.0f} ms "
        f"({times['new bytes'] // 1024} KiB): {old_ms / new_ms:.1f}x faster, "
        f"{times['old bytes'] / times['new bytes']:.1f}x fewer bytes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(kernel_side_by_side(args.repeats))
    for line in browser_timings(args.repeats):
        print(line)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
