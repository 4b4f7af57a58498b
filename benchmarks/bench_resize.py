"""Resize back ends on the scaled decode: speed and quality against a Lanczos reference.

    python benchmarks/bench_resize.py                # 300 photos 500x375 -> 224x224
    python benchmarks/bench_resize.py --images 100 --size 1024x768

Every image is decoded once by libjpeg-turbo at the smallest M/8 scale keeping 224x224 (what
``read_images(decoder="turbo")`` does), then resized to 224x224 by each back end, timed per image
in this one process (the rows interleaved image by image, so a busy spell hits all of them).
Quality: the mean absolute difference and PSNR against a reference made from the full-size
decode with Pillow's Lanczos filter (the best a resize can do), averaged over the images; the
"genlab today" row is ``decode_image``'s own output (turbo scaled decode + Pillow bilinear),
timed with its decode, shown for the bytes old specs keep.

Back ends: Pillow bilinear (genlab's today, antialiased: its filter widens with the scale
factor), Pillow bilinear with ``reducing_gap=2`` (an integer box reduction first when the scale
allows it), Pillow box, OpenCV ``INTER_LINEAR`` (no antialiasing) and ``INTER_AREA`` (box
averaging on downscale), when ``cv2`` is importable (it comes with albumentations).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))


def backends(size: tuple[int, int]) -> dict:
    """name -> resize(uint8 H x W x 3 array) -> uint8 array of ``size`` (width, height)."""
    rows = {
        "Pillow bilinear (genlab's resize)": lambda a: np.asarray(
            Image.fromarray(a).resize(size, Image.Resampling.BILINEAR)
        ),
        "Pillow bilinear, reducing_gap=2": lambda a: np.asarray(
            Image.fromarray(a).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        ),
        "Pillow box": lambda a: np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BOX)),
        "Pillow nearest": lambda a: np.asarray(
            Image.fromarray(a).resize(size, Image.Resampling.NEAREST)
        ),
    }
    try:
        import cv2
    except ImportError:
        return rows
    rows["OpenCV INTER_LINEAR"] = lambda a: cv2.resize(a, size, interpolation=cv2.INTER_LINEAR)
    rows["OpenCV INTER_AREA"] = lambda a: cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    return rows


def psnr(mad2: float) -> float:
    return 10 * np.log10(255.0**2 / mad2) if mad2 > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--size", default="500x375", help="the photos' width x height")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "genlab-bench"))
    args = parser.parse_args(argv)

    import simplejpeg
    from image_sets import list_images, photo_set

    from genlab.ops.decode import decode_image

    width, height = (int(v) for v in args.size.split("x"))
    root = photo_set(Path(args.data), args.images, size=(width, height))
    paths = [p for p, _ in list_images(root)][: args.images]
    target = (224, 224)
    rows = backends(target)
    seconds = {name: 0.0 for name in rows}
    seconds["genlab today: decode_image (turbo + Pillow bilinear)"] = 0.0
    decode_seconds = 0.0
    mad = {name: 0.0 for name in seconds}
    mse = {name: 0.0 for name in seconds}
    print(
        f"# {len(paths)} photos {width}x{height} -> 224x224; load average {os.getloadavg()[0]:.2f}"
    )
    for path in paths:
        data = Path(path).read_bytes()
        start = time.perf_counter()
        scaled = simplejpeg.decode_jpeg(data, colorspace="RGB", min_width=224, min_height=224)
        decode_seconds += time.perf_counter() - start
        full = Image.open(path).convert("RGB")
        reference = np.asarray(full.resize(target, Image.Resampling.LANCZOS), dtype=np.float64)
        outputs = {}
        for name, resize in rows.items():
            start = time.perf_counter()
            outputs[name] = resize(scaled)
            seconds[name] += time.perf_counter() - start
        start = time.perf_counter()
        outputs["genlab today: decode_image (turbo + Pillow bilinear)"] = decode_image(
            data, target, decoder="turbo"
        )
        seconds["genlab today: decode_image (turbo + Pillow bilinear)"] += (
            time.perf_counter() - start
        )
        for name, out in outputs.items():
            diff = out.astype(np.float64) - reference
            mad[name] += np.abs(diff).mean()
            mse[name] += (diff**2).mean()
    n = len(paths)
    print(f"\nscaled decode (simplejpeg, {scaled.shape[1]}x{scaled.shape[0]} for the last): "
          f"{decode_seconds / n * 1e3:.3f} ms/image\n")  # fmt: skip
    print(
        "| resize of the scaled decode to 224x224 | ms/image | mean abs diff vs Lanczos of the full decode | PSNR, dB |"
    )
    print("|---|---:|---:|---:|")
    for name in seconds:
        print(
            f"| {name} | {seconds[name] / n * 1e3:.3f} | {mad[name] / n:.2f} | {psnr(mse[name] / n):.1f} |"
        )
    print(f"\n# load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
