"""The cost of carrying boxes + masks through a detection chain: genlab vs image only, vs albumentations.

    python benchmarks/bench_targets.py            # 128 images of 480 x 640, 8 objects each, 5 rounds
    python benchmarks/bench_targets.py --quick    # 32 images, 2 rounds

The detection chain (the same in both libraries, same parameters): horizontal flip (p=0.5),
random resized crop to 512 x 512 (scale 0.5-1), rotation of up to 10 degrees, colour jitter.
Each image has 8 objects: a box, a class label and an instance mask each (N x H x W, uint8).
Both sides get the same decoded images in one process, on one thread: genlab runs its ops on
batches of 32 (each image from its own generator, with records; targets in
``batch.info.targets``); albumentations calls its ``Compose`` (``BboxParams`` pascal_voc with a
label field, ``masks=``) on every image. Rounds are interleaved, the fastest of each kept.

Printed: each side's time per image with and without targets, the cost of carrying the targets
(with / without), and genlab's time with targets over albumentations' (target: <= 1.0).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_foreign import images as square_images  # noqa: E402

from genlab.batch import Batch, BatchInfo  # noqa: E402
from genlab.stages.protocol import GeneratorPipeline  # noqa: E402
from genlab.targets import TargetFormat, Targets  # noqa: E402
from genlab.transforms import get_op  # noqa: E402

BATCH = 32
HEIGHT, WIDTH, OBJECTS, OUT = 480, 640, 8, 512
CHAIN = [
    ("hflip", {"p": 0.5}),
    ("random_resized_crop", {"size": (OUT, OUT), "scale": (0.5, 1.0)}),
    ("random_rotation", {"degrees": (-10.0, 10.0)}),
    ("color_jitter", {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2}),
]


def images(n: int) -> np.ndarray:
    """Smooth random pictures (bench_foreign's), cut to ``HEIGHT x WIDTH``."""
    return np.ascontiguousarray(square_images(n, WIDTH)[:, :HEIGHT])


def objects(n: int) -> list[Targets]:
    """``OBJECTS`` filled ellipses per image: boxes, labels, instance masks."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    out = []
    for _ in range(n):
        boxes, masks = [], []
        for _ in range(OBJECTS):
            w, h = int(rng.integers(40, 200)), int(rng.integers(40, 160))
            x0, y0 = int(rng.integers(0, WIDTH - w)), int(rng.integers(0, HEIGHT - h))
            cx, cy = x0 + w / 2, y0 + h / 2
            m = (((xx + 0.5 - cx) / (w / 2)) ** 2 + ((yy + 0.5 - cy) / (h / 2)) ** 2) <= 1
            boxes.append([x0, y0, x0 + w, y0 + h])
            masks.append(m.astype(np.uint8))
        out.append(Targets.from_boxes(boxes, rng.integers(1, 5, OBJECTS), masks=np.stack(masks)))
    return out


def batches(x: np.ndarray, targets: list[Targets] | None) -> list[Batch]:
    out = []
    for i, start in enumerate(range(0, len(x), BATCH)):
        chunk = x[start : start + BATCH]
        info = BatchInfo(seed=0, index=i, keys=np.arange(start, start + len(chunk)))
        if targets is not None:
            info = BatchInfo(seed=0, index=i, keys=info.keys, target_format=TargetFormat(),
                             targets=tuple(targets[start : start + len(chunk)]))  # fmt: skip
        out.append(Batch(chunk, np.zeros((len(chunk), 1), np.int64), info))
    return out


def run_genlab(data: list[Batch]) -> float:
    stages = [get_op(name)(**params) for name, params in CHAIN]
    started = time.perf_counter()
    with GeneratorPipeline(iter(data), *stages) as run:
        for _ in run:
            pass
    return time.perf_counter() - started


def albumentations_compose(with_targets: bool):
    import albumentations as A

    transforms = [
        A.HorizontalFlip(p=0.5),
        A.RandomResizedCrop(size=(OUT, OUT), scale=(0.5, 1.0), p=1.0),
        A.Rotate(limit=10, border_mode=0, p=1.0),
        A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.0, p=1.0),
    ]
    if not with_targets:
        return A.Compose(transforms, seed=0)
    bbox = A.BboxParams(format="pascal_voc", label_fields=["labels"], clip=True)
    return A.Compose(transforms, bbox_params=bbox, seed=0)


def run_albumentations(x: np.ndarray, targets: list[Targets] | None) -> float:
    compose = albumentations_compose(targets is not None)
    started = time.perf_counter()
    for start in range(0, len(x), BATCH):
        outs, kept = [], []
        for i in range(start, min(start + BATCH, len(x))):
            if targets is None:
                outs.append(compose(image=x[i])["image"])
            else:
                t = targets[i]
                out = compose(image=x[i], masks=t.masks, bboxes=t.boxes, labels=t.labels)
                outs.append(out["image"])
                kept.append((out["bboxes"], out["labels"], out["masks"]))
        np.stack(outs)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 images, 2 rounds")
    args = parser.parse_args()
    n, rounds = (32, 2) if args.quick else (128, 5)
    x, targets = images(n), objects(n)
    plain, carried = batches(x, None), batches(x, targets)
    best = {k: float("inf") for k in ("genlab", "genlab+targets", "alb", "alb+targets")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(rounds):  # interleaved, so a busy moment hits every side
            best["genlab"] = min(best["genlab"], run_genlab(plain))
            best["genlab+targets"] = min(best["genlab+targets"], run_genlab(carried))
            best["alb"] = min(best["alb"], run_albumentations(x, None))
            best["alb+targets"] = min(best["alb+targets"], run_albumentations(x, targets))
    ms = {k: 1000 * v / n for k, v in best.items()}
    print(f"{n} images {WIDTH}x{HEIGHT} -> {OUT}x{OUT}, {OBJECTS} objects (box + mask) each, "
          f"best of {rounds} rounds, ms per image:")  # fmt: skip
    for k, v in ms.items():
        print(f"  {k:<16} {v:7.2f}")
    print(f"carrying targets, genlab:         x{ms['genlab+targets'] / ms['genlab']:.2f} of image only "
          f"(+{ms['genlab+targets'] - ms['genlab']:.2f} ms)")  # fmt: skip
    print(f"carrying targets, albumentations: x{ms['alb+targets'] / ms['alb']:.2f} of image only "
          f"(+{ms['alb+targets'] - ms['alb']:.2f} ms)")  # fmt: skip
    print(f"genlab with targets / albumentations with targets: "
          f"{ms['genlab+targets'] / ms['alb+targets']:.2f} (target <= 1.0)")  # fmt: skip


if __name__ == "__main__":
    main()
