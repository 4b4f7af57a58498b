"""Time from a parameter change in ``PipelineLab`` to a redrawn 16-image grid at 224 px.

    python benchmarks/bench_lab_redraw.py            # 30 changes per row
    python benchmarks/bench_lab_redraw.py --changes 60

Target: median under 150 ms on a 2-core machine for a change of an augmentation parameter
(the slider a person drags). Each row sets a control's value the way the browser does (the
traitlet changes, the lab's observer runs) and stops the clock when the grid image's value has
been replaced: stages re-run on the same source batch, grid drawn with matplotlib (Agg) and
encoded. The comm transport to the browser and the browser's paint are not included.

Rows, side by side on the same 16 photos (500x375 JPEGs decoded to 224x224):

- augment slider, PNG grid: the lab as shipped (prefix of unchanged stages reused, text layer of
  the figure reused, images pasted at one pixel per pixel).
- augment slider, JPEG grid: the same with ``image_format="jpeg"``.
- read_images change: a new ``max_pixels``, so every file is decoded again (worst case).
- naive redraw: what the obvious code costs: ``Pipeline.run_stages`` on the batch (every stage,
  files decoded again) and a matplotlib figure of 16 subplots (``subplot_grid`` below).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # this checkout's genlab, unless PYTHONPATH names another
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

import genlab  # noqa: E402
from genlab.lab import PipelineLab  # noqa: E402
from genlab.plotting import displayable, labels_of  # noqa: E402

TARGET_MS = 150.0


def make_pipeline(root: Path) -> genlab.Pipeline:
    """The post's chain at 224 px with a few augmentations on, batches of 16."""
    return genlab.Pipeline.from_folder(
        root,
        batch_size=16,
        seed=0,
        stages=[
            ("read_images", {"target_size": (224, 224)}),
            ("augment", {"hflip": 0.5, "rotate90": True, "rotation_p": 0.5, "brightness_p": 0.5}),
            ("rescale_images", {"mean": (103.939, 116.779, 123.68)}),
            "shuffle_samples",
        ],
    )


def time_control(lab: PipelineLab, position: int, name: str, values: list) -> list[float]:
    """Milliseconds from setting the control to the grid image being replaced, per change."""
    control = lab.controls[(position, name)]
    times = []
    for value in values:
        before = lab.redraws
        started = time.perf_counter()
        control.widget.value = value
        elapsed = time.perf_counter() - started
        if lab.redraws != before + 1 or lab.message.value:
            raise RuntimeError(f"setting {name}={value!r} did not redraw: {lab.message.value}")
        times.append(elapsed * 1000)
    return times


def subplot_grid(images, titles, columns: int = 4) -> bytes:
    """The obvious way to draw a titled grid: one matplotlib subplot per image, saved as PNG."""
    import io
    import math

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = math.ceil(len(images) / columns)
    figure = Figure(figsize=(columns * 1.6, rows * 1.6), dpi=80)
    FigureCanvasAgg(figure)
    for i, (image, title) in enumerate(zip(displayable(images), titles)):
        ax = figure.add_subplot(rows, columns, i + 1)
        ax.imshow(image, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(title, fontsize=8)
    figure.tight_layout(pad=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def time_naive(pipeline: genlab.Pipeline, changes: int) -> list[float]:
    source = next(iter(pipeline.source_batches(0)))
    names = pipeline.class_names
    times = []
    for k in range(changes):
        started = time.perf_counter()
        pipeline.set_params("augment", rotation_degrees=float(5 + k % 40))
        batch = pipeline.run_stages(source)
        subplot_grid(batch.x, labels_of(batch.y, names), columns=4)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30, help="parameter changes per row")
    args = parser.parse_args()
    n = args.changes
    # distinct values, so that no change can be served from the lab's cache of earlier outputs
    slider_values = [round(0.01 + 0.98 * k / n, 2) for k in range(n)]

    with tempfile.TemporaryDirectory() as tmp:
        root = genlab.make_sample_data(Path(tmp) / "photos", kind="photos", n_per_class=8)
        rows = []
        for label, image_format in (
            ("augment slider, PNG grid", "png"),
            ("augment slider, JPEG grid", "jpeg"),
        ):
            lab = PipelineLab(make_pipeline(root), throttle=0, image_format=image_format)
            time_control(lab, 1, "rotation_degrees", [1.0, 2.0])  # warm up
            rows.append((label, time_control(lab, 1, "hflip", slider_values)))
        lab = PipelineLab(make_pipeline(root), throttle=0)
        # a new max_pixels (same pictures) changes read_images, so all 16 files are decoded again
        rows.append(
            (
                "read_images change (files decoded again)",
                time_control(lab, 0, "max_pixels", [50_000_000 + k for k in range(n)]),
            )
        )
        rows.append(("naive: run_stages + 16-subplot figure", time_naive(make_pipeline(root), n)))

    print(f"16-image grid at 224 px, {n} changes per row, {os.cpu_count()} CPUs\n")
    print("| row | median ms | p90 ms | min ms |")
    print("|---|---:|---:|---:|")
    for label, times in rows:
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"| {label} | {statistics.median(times):.0f} | {p90:.0f} | {min(times):.0f} |")
    shipped = statistics.median(rows[0][1])
    naive = statistics.median(rows[-1][1])
    verdict = "meets" if shipped < TARGET_MS else "MISSES"
    print(
        f"\naugment slider (PNG): median {shipped:.0f} ms, {verdict} the {TARGET_MS:.0f} ms target; "
        f"{naive / shipped:.1f}x faster than the naive redraw"
    )


if __name__ == "__main__":
    main()
