"""Parquet image columns: genlab's throughput beside files, tar shards and ``datasets`` + DataLoader.

    python benchmarks/bench_parquet.py                         # 10,000 JPEGs, 10 memory epochs
    python benchmarks/bench_parquet.py --images 2000 --epochs 4

The images are genlab's sample photographs (500x375 JPEGs, two classes), written once as class
folders; ``materialize`` turns them into tar shards and into Parquet in the Hugging Face layout
(the image files' bytes as they are, in row groups of one batch). Every row then does the same
work: decode the JPEG and resize it to 224x224 (bilinear), deliver uint8 batches of 64.

- genlab over Parquet, class folders and tar shards: ``read_images`` alone, 2 workers (threads,
  genlab's default; and processes for Parquet);
- ``datasets``' own way: ``load_dataset("parquet")`` + ``with_transform`` (Pillow decode through
  its ``Image`` feature, ``resize((224, 224), BILINEAR)``, ``np.asarray``) under
  ``torch.utils.data.DataLoader(batch_size=64, num_workers=2)``.

First ``--epochs`` epochs of genlab over the Parquet files with 2 workers, each epoch's peak PSS
of the process tree sampled every 50 ms: the memory must stay flat (last epoch's peak within 5% of
the second's). Then each row is timed over the whole set after a short warm-up, the rows
interleaved for ``--rounds`` rounds (best of each kept), so the ratios are measured side by side in
this one run. Target: genlab over Parquet >= 1.5x the DataLoader.
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

import numpy as np  # noqa: E402
from image_sets import photo_set  # noqa: E402
from memwatch import PeakWatcher  # noqa: E402

import genlab  # noqa: E402
from genlab.integrations.dask import materialize  # noqa: E402

MB = 1024 * 1024
SIZE = (224, 224)
READ = [("read_images", {"target_size": SIZE})]


def genlab_rate(make, n_images: int) -> float:
    """Images per second of one epoch of ``make()`` (a fresh pipeline), after a short warm-up."""
    warm = make()
    for i, _batch in enumerate(warm):
        if i == 3:
            break
    pipeline = make()
    started = time.perf_counter()
    n = sum(batch.size for batch in pipeline)
    seconds = time.perf_counter() - started
    assert n == n_images, (n, n_images)
    return n / seconds


def dataloader_rate(parquet: Path, cache: Path, n_images: int) -> float:
    """``datasets`` + ``with_transform`` under a torch DataLoader(num_workers=2), images per second."""
    import datasets
    import torch
    from PIL import Image

    ds = datasets.load_dataset(
        "parquet", data_files=str(parquet / "*.parquet"), split="train", cache_dir=str(cache)
    )

    def transform(batch: dict) -> dict:
        images = [
            np.asarray(im.convert("RGB").resize(SIZE, Image.BILINEAR)) for im in batch["image"]
        ]
        return {"image": images, "label": batch["label"]}

    ds = ds.with_transform(transform)

    def collate(rows: list[dict]):
        return torch.from_numpy(np.stack([r["image"] for r in rows])), torch.tensor(
            [r["label"] for r in rows]
        )

    def loader(dataset):
        return torch.utils.data.DataLoader(
            dataset, batch_size=64, shuffle=True, num_workers=2, collate_fn=collate
        )

    for i, _batch in enumerate(loader(ds.select(range(256)))):
        if i == 3:
            break
    started = time.perf_counter()
    n = sum(len(y) for _x, y in loader(ds))
    seconds = time.perf_counter() - started
    assert n == n_images, (n, n_images)
    return n / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the memory run (0: none)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved timing rounds (0: none)")
    parser.add_argument("--work", default=None, help="folder for images, shards and Parquet")
    args = parser.parse_args(argv)

    work = Path(args.work or Path(tempfile.gettempdir()) / "genlab-bench-parquet")
    root = photo_set(work, args.images)
    folder = genlab.Pipeline.from_folder(root, batch_size=args.batch_size, stages=[])
    for kind in ("tar", "parquet"):
        if not (work / kind / "manifest.json").exists():
            materialize(folder, str(work / kind), client=False, format=kind, batches_per_task=16)
    parquet_bytes = sum(f.stat().st_size for f in (work / "parquet").glob("*.parquet"))
    print(
        f"{args.images} JPEGs 500x375 -> {SIZE}, batch {args.batch_size}; Parquet "
        f"{parquet_bytes / MB:.0f} MiB in {len(list((work / 'parquet').glob('*.parquet')))} files; "
        f"{os.cpu_count()} cores (shared with other jobs: timings are noisy, ratios are side by side)",
        flush=True,
    )

    def run_options(**extra):
        return {"batch_size": args.batch_size, "seed": 0, "stages": READ, "num_workers": 2, **extra}

    rows = {
        "genlab, Parquet, 2 thread workers": lambda: genlab.Pipeline.from_parquet(
            str(work / "parquet"), **run_options()
        ),
        "genlab, Parquet, 2 process workers": lambda: genlab.Pipeline.from_parquet(
            str(work / "parquet"), **run_options(worker_kind="process")
        ),
        "genlab, class folders, 2 thread workers": lambda: genlab.Pipeline.from_folder(
            root, **run_options()
        ),
        "genlab, tar shards, 2 thread workers": lambda: genlab.Pipeline.from_shards(
            str(work / "tar"), **run_options()
        ),
    }
    pipeline = genlab.Pipeline.from_parquet(str(work / "parquet"), **run_options())
    peaks = []
    for epoch in range(args.epochs):
        started = time.perf_counter()
        with PeakWatcher(os.getpid()) as watch:
            n = sum(batch.size for batch in pipeline)
        peaks.append(watch.peak)
        print(
            f"epoch {epoch + 1:2d}: {n} images in {time.perf_counter() - started:5.1f} s, "
            f"peak PSS {watch.peak / MB:7.1f} MiB",
            flush=True,
        )
    growth = 1.0
    if peaks:
        base = peaks[1] if len(peaks) > 1 else peaks[0]
        growth = peaks[-1] / base
        print(
            f"peak PSS: epoch 2 {base / MB:.1f} MiB, last {peaks[-1] / MB:.1f} MiB, ratio "
            f"{growth:.3f} (target <= 1.05; the Parquet files are {parquet_bytes / MB:.0f} MiB)"
        )
    if args.rounds == 0:
        return 0 if growth <= 1.05 else 1
    baseline = "datasets with_transform + DataLoader(2)"
    first = next(iter(rows))
    rows = {first: rows.pop(first), baseline: None, **rows}  # the two compared first
    rates: dict[str, float] = {}
    for round_ in range(args.rounds):  # rows interleaved, best of the rounds: load drifts
        for name, make in rows.items():
            if make is None:
                rate = dataloader_rate(work / "parquet", work / "hf-cache", args.images)
            else:
                rate = genlab_rate(make, args.images)
            rates[name] = max(rates.get(name, 0.0), rate)
            print(f"round {round_ + 1}: {name:45s} {rate:7.0f} img/s", flush=True)
    for name, rate in rates.items():
        print(f"best: {name:45s} {rate:7.0f} img/s ({rate / rates[baseline]:.2f}x the DataLoader)")
    best = max(rates[n] for n in rates if n.startswith("genlab, Parquet"))
    ratio = best / rates[baseline]
    print(f"genlab over Parquet / DataLoader: {ratio:.2f}x (target >= 1.5x)")

    ok = ratio >= 1.5 and growth <= 1.05
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
