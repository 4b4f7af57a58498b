"""Soak: many epochs over tar shards with worker processes; memory, file descriptors and
shared-memory segments must not grow.

    python benchmarks/soak_shards.py                          # 10,000 images, 20 epochs, 2 workers
    python benchmarks/soak_shards.py --images 2000 --epochs 6 # a shorter run

The images (genlab's two-class sample photos at 64x48) are written once, turned into WebDataset shards with
``materialize(..., format="tar")``, and streamed back with ``Pipeline.from_shards`` through
read -> augment -> rescale, with ``num_workers`` workers (processes by default, ``--worker-kind``). Each epoch's peak PSS of the
process tree (this process and its workers, shared pages counted once) is sampled every 50 ms.
Pass: the last epoch's peak within 5% of epoch 2's (epoch 1 warms caches and imports), and the
open file descriptors and /dev/shm segments the same after the run as before it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

import psutil  # noqa: E402
from memwatch import PeakWatcher  # noqa: E402

import genlab  # noqa: E402
from genlab.integrations.dask import materialize  # noqa: E402

MB = 1024 * 1024


def shm_segments() -> set[str]:
    try:
        return set(os.listdir("/dev/shm"))
    except FileNotFoundError:
        return set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--worker-kind", choices=("process", "thread"), default="process",
        help="worker processes (shared-memory slots: the case with most to leak) or threads",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--shard-batches", type=int, default=16, help="source batches per tar shard"
    )
    parser.add_argument("--work", default=None, help="folder for the images and shards (temporary)")
    args = parser.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="genlab-soak-"))
    root = genlab.make_sample_data(
        work / "images", kind="photos", n_per_class=args.images // 2, size=(64, 48)
    )
    shards = work / "shards"
    if not (shards / "manifest.json").exists():
        folder = genlab.Pipeline.from_folder(root, batch_size=args.batch_size, stages=[])
        manifest = materialize(
            folder, str(shards), client=False, format="tar", batches_per_task=args.shard_batches
        )
        print(
            f"wrote {manifest['n_samples']} images into {len(manifest['shards'])} shards",
            flush=True,
        )
    stages = [
        ("read_images", {"target_size": (48, 48)}),
        ("augment", {"rotate90": True}),
        "rescale_images",
    ]
    pipeline = genlab.Pipeline.from_shards(
        str(shards), batch_size=args.batch_size, seed=1, stages=stages,
        shuffle_buffer=500, num_workers=args.workers, worker_kind=args.worker_kind,
    )  # fmt: skip
    me = psutil.Process()
    fds_before, shm_before = me.num_fds(), shm_segments()
    peaks = []
    for epoch in range(args.epochs):
        started = time.perf_counter()
        with PeakWatcher(os.getpid()) as watch:
            n = sum(batch.size for batch in pipeline)
        peaks.append(watch.peak)
        print(
            f"epoch {epoch + 1:2d}: {n} images in {time.perf_counter() - started:5.1f} s, "
            f"peak PSS {watch.peak / MB:7.1f} MiB ({watch.max_processes} processes), "
            f"skipped {pipeline.report.n_skipped}",
            flush=True,
        )
    fds_after, shm_after = me.num_fds(), shm_segments()
    base = peaks[1] if len(peaks) > 1 else peaks[0]
    ratio = peaks[-1] / base
    print(
        f"peak PSS: epoch 2 {base / MB:.1f} MiB, last epoch {peaks[-1] / MB:.1f} MiB, ratio {ratio:.3f} (target <= 1.05)"
    )
    print(
        f"open fds: before {fds_before}, after {fds_after}; /dev/shm segments: before {len(shm_before)}, after {len(shm_after)}"
    )
    ok = ratio <= 1.05 and fds_after == fds_before and shm_after == shm_before
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
