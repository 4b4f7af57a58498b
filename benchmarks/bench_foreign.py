"""genlab's chain of foreign transforms vs the same transforms in the library's own loop.

    python benchmarks/bench_foreign.py            # 256 images of 256 x 256, 5 rounds
    python benchmarks/bench_foreign.py --quick    # 64 images, 2 rounds

Both sides get the same decoded uint8 images in batches of 32, in one process, and give
stacked batches, on one thread: the library's loop calls its ``Compose`` on every image and stacks the
results (what a ``Dataset`` + collate does); genlab runs one stage per transform, each image
seeded from its own per-sample generator, with records. The rounds are interleaved and the
fastest of each side kept; the ratio is genlab's time over the library's (target: <= 1.10).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import genlab  # noqa: E402
from genlab.batch import Batch, BatchInfo  # noqa: E402
from genlab.stages.protocol import GeneratorPipeline  # noqa: E402

BATCH = 32


def images(n: int, size: int) -> np.ndarray:
    """Smooth random pictures (gradients plus noise), like photos to the transforms' cost."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        a, b, c = rng.random(3)
        base = np.stack([xx * a, yy * b, (xx + yy) * c / 2], axis=-1) * 255
        out[i] = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    return out


def batches(x: np.ndarray) -> list[Batch]:
    out = []
    for i, start in enumerate(range(0, len(x), BATCH)):
        chunk = x[start : start + BATCH]
        y = np.zeros((len(chunk), 1), np.int64)
        out.append(
            Batch(chunk, y, BatchInfo(seed=0, index=i, keys=np.arange(start, start + len(chunk))))
        )
    return out


def run_genlab(stages: list, data: list[Batch]) -> float:
    started = time.perf_counter()
    with GeneratorPipeline(iter(data), *[s.build() for s in stages]) as run:
        for _batch in run:
            pass
    return time.perf_counter() - started


def albumentations_side(x: np.ndarray):
    import albumentations as A

    compose = A.Compose([
        A.RandomResizedCrop(size=(224, 224), scale=(0.3, 1.0)),
        A.HorizontalFlip(),
        A.Rotate(limit=15),
        A.RandomBrightnessContrast(p=0.8),
        A.HueSaturationValue(p=0.5),
        A.CoarseDropout(p=0.3),
        A.Normalize(),
    ], seed=0)  # fmt: skip

    def library() -> float:
        started = time.perf_counter()
        for start in range(0, len(x), BATCH):
            np.stack([compose(image=img)["image"] for img in x[start : start + BATCH]])
        return time.perf_counter() - started

    return compose, genlab.from_albumentations(compose), library


def torchvision_side(x: np.ndarray):
    import torch
    from torchvision.transforms import v2

    torch.set_num_threads(1)  # one process, one thread: the cores are not what is compared
    compose = v2.Compose([
        v2.RandomResizedCrop(224, scale=(0.3, 1.0)),
        v2.RandomHorizontalFlip(),
        v2.RandomRotation(15),
        v2.ColorJitter(0.3, 0.3, 0.3),
        v2.RandomErasing(p=0.3),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])  # fmt: skip
    tensors = [torch.from_numpy(img).permute(2, 0, 1) for img in x]

    def library() -> float:
        torch.manual_seed(0)
        started = time.perf_counter()
        for start in range(0, len(tensors), BATCH):
            torch.stack([compose(t) for t in tensors[start : start + BATCH]])
        return time.perf_counter() - started

    return compose, genlab.from_torchvision(compose), library


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, rounds = (64, 2) if args.quick else (256, 5)
    x = images(n, 256)
    data = batches(x)
    print(f"{n} images of 256 x 256, batches of {BATCH}, 1 process, fastest of {rounds} rounds\n")
    print("| library | library's own loop (ms/image) | genlab chain (ms/image) | ratio |")
    print("|---|---|---|---|")
    for name, side in (
        ("albumentations", albumentations_side),
        ("torchvision v2", torchvision_side),
    ):
        _compose, stages, library = side(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            own, ours = [], []
            for _ in range(rounds):
                own.append(library())
                ours.append(run_genlab(stages, data))
        a, b = min(own), min(ours)
        print(
            f"| {name} ({len(stages)} transforms) | {a / n * 1000:.2f} | {b / n * 1000:.2f} | {b / a:.3f} |"
        )


if __name__ == "__main__":
    main()
