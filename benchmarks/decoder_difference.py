"""How different are decoder="turbo" and decoder="pillow"? Mean absolute difference per pixel.

    python benchmarks/decoder_difference.py          # the 100 sample photos (500x375) -> 224x224

For each resize policy, over genlab's sample photos (``genlab.ensure_sample_data("photos")``),
prints the mean absolute difference per pixel and channel (0-255 levels) between the two
decoders, and between each and a reference: a full-size decode resized with Lanczos (the
sharpest antialiased filter Pillow has), so one can see which is nearer the picture.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

TARGET = (224, 224)


def differences(paths: list[str], resize: str) -> dict[str, float]:
    """Mean absolute differences (levels per pixel and channel) over ``paths``."""
    from genlab.ops.decode import decode_image

    sums = {"turbo vs pillow": 0.0, "turbo vs reference": 0.0, "pillow vs reference": 0.0}
    worst = 0.0
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        turbo = decode_image(data, TARGET, resize=resize, decoder="turbo").astype(np.int16)
        pillow = decode_image(data, TARGET, resize=resize, decoder="pillow").astype(np.int16)
        ref = decode_image(data, TARGET, resize=resize, resample="lanczos", draft=False)
        ref = ref.astype(np.int16)
        diff = float(np.abs(turbo - pillow).mean())
        worst = max(worst, diff)
        sums["turbo vs pillow"] += diff
        sums["turbo vs reference"] += float(np.abs(turbo - ref).mean())
        sums["pillow vs reference"] += float(np.abs(pillow - ref).mean())
    out = {k: v / len(paths) for k, v in sums.items()}
    out["turbo vs pillow, worst image"] = worst
    return out


def random_box(rng, width: int, height: int) -> tuple[int, int, int, int]:
    """A (top, left, height, width) box as torchvision's RandomResizedCrop draws it (defaults)."""
    import math

    area = width * height
    for _ in range(10):
        target = area * rng.uniform(0.08, 1.0)
        aspect = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    return 0, 0, height, width


def crop_differences(paths: list[str], seed: int = 0) -> tuple[float, float, float]:
    """Mean, 95th percentile and worst MAD of decode_crop(turbo) vs crop after a full decode."""
    from genlab.ops.decode import decode_crop, image_size

    rng = np.random.default_rng(seed)
    diffs = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        box = random_box(rng, *image_size(data))
        turbo = decode_crop(data, box, TARGET, decoder="turbo").astype(np.int16)
        pillow = decode_crop(data, box, TARGET, decoder="pillow").astype(np.int16)
        diffs.append(float(np.abs(turbo - pillow).mean()))
    return float(np.mean(diffs)), float(np.percentile(diffs, 95)), float(np.max(diffs))


def report(root: Path | None = None) -> list[str]:
    """Markdown table rows of :func:`differences` for every resize policy."""
    import genlab

    root = Path(root) if root is not None else genlab.ensure_sample_data("photos")
    paths = sorted(str(p) for p in root.glob("*/*.jpg"))
    lines = [
        f"| {len(paths)} sample photos -> 224x224, bilinear | turbo vs pillow | worst image "
        "| turbo vs Lanczos reference | pillow vs Lanczos reference |",
        "|---|---:|---:|---:|---:|",
    ]
    for resize in ("stretch", "center_crop", "pad"):
        d = differences(paths, resize)
        lines.append(
            f"| resize={resize!r} | {d['turbo vs pillow']:.2f} | {d['turbo vs pillow, worst image']:.2f} "
            f"| {d['turbo vs reference']:.2f} | {d['pillow vs reference']:.2f} |"
        )
    mean, p95, worst = crop_differences(paths)
    lines += [
        "",
        "| crop while decoding, torchvision-style random boxes -> 224x224 | mean | 95th percentile | worst |",
        "|---|---:|---:|---:|",
        f"| decode_crop turbo vs crop after a full Pillow decode | {mean:.2f} | {p95:.2f} | {worst:.2f} |",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(report(Path(sys.argv[1]) if len(sys.argv) > 1 else None)))
