"""Crop while decoding: read_images(256) + random_resized_crop(224), fused vs the two stages.

    python benchmarks/bench_crop_decode.py                 # 200 photos per size, 5 repeats
    python benchmarks/bench_crop_decode.py --images 400 --repeat 7

For 500x375 and 1024x768 photographic JPEGs (``image_sets.photo_set``) the same pipeline,
``read_images(target_size=(256, 256))`` then ``random_resized_crop(size=(224, 224))``, runs
in one process (0 workers) both ways: fused (the default: one stage decodes each crop's box at
the smallest DCT scale serving it, see ``genlab.stages.fused``) and apart
(``Pipeline.run_stages(fuse=False)``: decode the whole image at 256, then crop). The two run in
turns, batch by batch, so a busy neighbour slows both alike; the table gives the median over
repeats of CPU ms per image (this process's CPU time: steadier than wall time on a shared
machine) and the ratio apart / fused.

The second table is the pixel difference between the two ways on the same batches (same
draws): mean absolute difference per pixel and channel, in 0-255 levels, per image.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:  # this checkout's genlab, unless PYTHONPATH names another
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

from image_sets import photo_set, warm_cache  # noqa: E402

from genlab import Pipeline  # noqa: E402

SIZES = ((500, 375), (1024, 768))
STAGES = [
    ("read_images", {"target_size": (256, 256)}),
    ("random_resized_crop", {"size": (224, 224)}),
]


def pipeline(root: Path) -> Pipeline:
    return Pipeline.from_folder(root, batch_size=32, seed=0, shuffle=False, stages=STAGES)


def cpu_ms_per_image(p: Pipeline, sources: list, fuse: bool) -> float:
    started = time.process_time()
    images = sum(p.run_stages(s, fuse=fuse).size for s in sources)
    return (time.process_time() - started) * 1000 / images


def measure(root: Path, repeat: int) -> dict[str, float]:
    """Median CPU ms per image of each way, over ``repeat`` interleaved passes."""
    p = pipeline(root)
    sources = list(p.source_batches(0))
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeat):
        for fuse in (True, False):
            times[fuse].append(cpu_ms_per_image(p, sources, fuse))
    return {"fused": statistics.median(times[True]), "apart": statistics.median(times[False])}


def differences(root: Path) -> tuple[float, float, float]:
    """Mean, 95th percentile and worst per-image MAD between fused and apart."""
    p = pipeline(root)
    per_image = []
    for source in p.source_batches(0):
        fused, apart = p.run_stages(source), p.run_stages(source, fuse=False)
        assert fused.info.applied == apart.info.applied  # the same draws, or the comparison is void
        d = np.abs(fused.x.astype(np.int16) - apart.x.astype(np.int16))
        per_image += d.reshape(len(d), -1).mean(axis=1).tolist()
    return float(np.mean(per_image)), float(np.percentile(per_image, 95)), float(np.max(per_image))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="photos per size (even)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved passes, median kept")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "genlab-bench"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    roots = {size: photo_set(Path(args.data), args.images, size) for size in SIZES}
    print(f"read_images(256) + random_resized_crop(224), {args.images} photos, 0 workers, "
          f"median of {args.repeat}, CPU ms per image\n")  # fmt: skip
    print(
        "| source | apart (decode at 256, then crop) | fused (crop while decoding) | apart / fused |"
    )
    print("|---|---:|---:|---:|")
    for size, root in roots.items():
        warm_cache(root)
        t = measure(root, args.repeat)
        print(
            f"| {size[0]}x{size[1]} | {t['apart']:.2f} | {t['fused']:.2f} | {t['apart'] / t['fused']:.2f}x |"
        )
    print("\n| source | fused vs apart: mean | 95th percentile | worst image |")
    print("|---|---:|---:|---:|")
    for size, root in roots.items():
        mean, p95, worst = differences(root)
        print(f"| {size[0]}x{size[1]} | {mean:.2f} | {p95:.2f} | {worst:.2f} |")


if __name__ == "__main__":
    main()
