"""Per-op cost of every registered augmentation op, beside torchvision.transforms.v2.

    python benchmarks/bench_ops.py              # 16 photos, 7 interleaved repeats
    python benchmarks/bench_ops.py --repeat 15 --images 32
    python benchmarks/bench_ops.py --only rand_augment,mixup

Every op in ``genlab.transforms.op_names()`` is timed, so ops registered later are included
without editing this file. Each op runs with its default parameters (``p=1`` where it has a
``p``, so it always does its work) as a pipeline stage does: ``op.run(batch)`` on a batch of
224x224 uint8 photographs, per-sample draws and records included. Its torchvision.transforms.v2
equivalent (``Op.equivalents["torchvision"]``, parameters translated by :func:`torchvision_kwargs`)
runs on the same images as uint8 CHW tensors, one call per image as in a ``Dataset``, the
results stacked into a batch as ``DataLoader``'s collate does (genlab's stage also returns a
contiguous batch; without the stack, torchvision's crops and ``rot90`` return views and copy
nothing), with one torch thread (genlab uses one core per worker too). Batch-mixing ops run on the whole batch on
both sides (mixup on float32 images: torchvision's MixUp refuses uint8).

Rows are timed in turns (genlab, torchvision, next op, ..., then the next repeat), so a busy
neighbour on a shared machine slows both sides alike; the table shows medians in ms per image
and the ratio genlab / torchvision, flagged when above the 1.5x target.

The second table compares the default chain with 0.1's ``augment`` stage: the legacy
``augment(rotate90=True)`` against the composable ``hflip`` + ``rotate90(p=1)`` that does the
same, as pipeline stages on batches of decoded photographs (target: ratio <= 1).
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # this checkout's genlab, unless PYTHONPATH names another
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

from genlab import Batch, BatchInfo, GeneratorPipeline, augment  # noqa: E402
from genlab.transforms import BatchOp, get_op, op_names  # noqa: E402

TARGET_RATIO = 1.5
SIZE = 224

# Parameters that differ from an op's defaults for the timing: crops smaller than the image
# (a 224 crop of a 224 image does nothing) and groups with members.
GENLAB_PARAMS: dict[str, dict] = {
    "center_crop": {"size": (192, 192)},
    "random_crop": {"size": (192, 192), "padding": 8},
    "one_of": {"ops": [("hflip", {"p": 1.0}), ("vflip", {"p": 1.0})]},
    "some_of": {
        "ops": [("hflip", {"p": 1.0}), ("vflip", {"p": 1.0}), ("rotate90", {"p": 1.0})],
        "n": 2,
    },
}

# genlab parameter name -> torchvision keyword (same meaning); sizes are swapped to (h, w).
RENAMES = {"resample": "interpolation"}


def _auto_augment_kwargs(params: dict) -> dict:
    from torchvision.transforms.v2 import AutoAugmentPolicy

    return {"policy": AutoAugmentPolicy(params["policy"])}


# torchvision keywords that are not a renaming of genlab parameters, per op.
EXTRA_KWARGS: dict[str, Callable[[dict], dict]] = {
    "auto_augment": _auto_augment_kwargs,
    "random_resized_crop": lambda params: {"antialias": True},
}


def torchvision_kwargs(name: str, params: dict, cls: type) -> dict:
    """The keywords of torchvision's ``cls`` meaning what genlab's ``params`` mean.

    Parameters of the same name (after :data:`RENAMES`) are passed on when ``cls`` takes
    them, sizes turned from genlab's (width, height) into torchvision's (height, width).
    """
    accepted = inspect.signature(cls).parameters
    kwargs = {}
    for key, value in params.items():
        tv_key = RENAMES.get(key, key)
        if tv_key not in accepted:
            continue
        if key == "size":
            value = (value[1], value[0])
        elif isinstance(value, tuple):
            value = list(value)
        kwargs[tv_key] = value
    kwargs.update(EXTRA_KWARGS.get(name, lambda params: {})(params))
    return kwargs


def torchvision_transform(name: str, params: dict, n_classes: int) -> tuple[Callable | None, str]:
    """torchvision's equivalent of the op ``name`` with ``params``, and how it is written."""
    import torch
    from torchvision.transforms import v2

    op = get_op(name)
    if name == "rotate90":  # no transform class: torch's own quarter turn
        return (lambda t: torch.rot90(t, 1, (-2, -1))), "torch.rot90"
    cls_name = op.equivalents.get("torchvision")
    cls = getattr(v2, cls_name, None) if cls_name else None
    if cls is None:
        return None, "-"
    if name == "one_of":
        members = [
            torchvision_transform(m["name"], dict(m["params"]), n_classes)[0] for m in params["ops"]
        ]
        if any(m is None for m in members):
            return None, "-"
        weights = list(params["weights"]) or None
        return v2.RandomChoice(members, p=weights), "RandomChoice(...)"
    kwargs = torchvision_kwargs(name, params, cls)
    if op.kind == "mixing":
        kwargs["num_classes"] = n_classes
    try:
        transform = cls(**kwargs)
    except TypeError as e:  # a required argument genlab names differently
        return None, f"{cls_name}: {e}"
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if not callable(v))
    return transform, f"{cls_name}({shown})"[:70]


def photos(n: int) -> np.ndarray:
    """``n`` 224x224 uint8 crops of the photographs scikit-learn ships."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    rng = np.random.default_rng(0)
    sources = [Image.fromarray(load_sample_image(f)) for f in ("china.jpg", "flower.jpg")]
    out = []
    for i in range(n):
        source = sources[i % 2]
        side = int(rng.integers(240, min(source.size)))
        left = int(rng.integers(0, source.size[0] - side))
        top = int(rng.integers(0, source.size[1] - side))
        crop = source.crop((left, top, left + side, top + side)).resize(
            (SIZE, SIZE), Image.Resampling.BILINEAR
        )
        out.append(np.asarray(crop))
    return np.stack(out)


def genlab_runner(name: str, params: dict, x: np.ndarray) -> Callable[[], object]:
    op = get_op(name)
    values = op.validate(params)
    info = BatchInfo(seed=1, keys=np.arange(len(x)))
    if isinstance(op, BatchOp):
        batch = Batch(x.astype(np.float32) / 255 if name == "mixup" else x, np.eye(len(x)), info)
    else:
        batch = Batch(x, np.eye(len(x)), info)
    return lambda: op.run(batch, values, name)


def torchvision_runner(name: str, transform: Callable, x: np.ndarray) -> Callable[[], object]:
    import torch

    tensors = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    if get_op(name).kind == "mixing":
        images = tensors.float() / 255 if name == "mixup" else tensors
        labels = torch.arange(len(x))
        return lambda: transform(images, labels)
    images = list(tensors)
    return lambda: torch.stack([transform(t) for t in images])  # what DataLoader's collate does


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def op_rows(x: np.ndarray, repeat: int, only: list[str] | None) -> list[dict]:
    rows = []
    for name in op_names():
        if only and name not in only:
            continue
        op = get_op(name)
        params = {**({"p": 1.0} if "p" in op.params else {}), **GENLAB_PARAMS.get(name, {})}
        values = op.validate(params)
        transform, written = torchvision_transform(name, values, len(x))
        rows.append({"name": name, "kind": op.kind, "genlab": genlab_runner(name, params, x),
                     "torchvision": None if transform is None else torchvision_runner(name, transform, x),
                     "written": written, "times": {"genlab": [], "torchvision": []}})  # fmt: skip
    for row in rows:  # warm up: first calls import and build caches
        row["genlab"]()
        if row["torchvision"]:
            row["torchvision"]()
    for _ in range(repeat):
        for row in rows:
            for side in ("genlab", "torchvision"):
                if row[side] is not None:
                    row["times"][side].append(timed(row[side]) / len(x) * 1000)
    return rows


def seeding_cost(n: int) -> float:
    """Microseconds to seed one sample's generator, which every genlab op does per sample."""
    from genlab.seeding import sample_generators

    info = BatchInfo(seed=1, keys=np.arange(n))
    return (
        min(timed(lambda: list(sample_generators(info, "hflip", n))) for _ in range(20)) / n * 1e6
    )


def print_op_table(rows: list[dict]) -> None:
    print("| op | kind | genlab ms/img | torchvision ms/img | ratio | torchvision transform |")
    print("|---|---|---:|---:|---:|---|")
    for row in rows:
        ours = statistics.median(row["times"]["genlab"])
        if row["times"]["torchvision"]:
            theirs = statistics.median(row["times"]["torchvision"])
            ratio = ours / theirs
            flag = " **> 1.5x**" if ratio > TARGET_RATIO else ""
            cells = f"{theirs:.3f} | {ratio:.2f}{flag}"
        else:
            cells = "- | -"
        print(f"| {row['name']} | {row['kind']} | {ours:.3f} | {cells} | {row['written']} |")


def chain_rows(x: np.ndarray, repeat: int, n_batches: int) -> None:
    """Legacy ``augment(rotate90=True)`` against ``hflip`` + ``rotate90(p=1)``, as stages."""
    batches = [Batch(x, np.eye(len(x)), BatchInfo(seed=1, index=b, keys=np.arange(b * len(x), (b + 1) * len(x))))
               for b in range(n_batches)]  # fmt: skip

    def consume(*stages) -> Callable[[], None]:
        return lambda: [None for _ in GeneratorPipeline(iter(batches), *stages)]

    chains = {
        "legacy augment(rotate90=True)": lambda: consume(augment(rotate90=True))(),
        "hflip + rotate90(p=1)": lambda: consume(get_op("hflip")(), get_op("rotate90")(p=1.0))(),
    }
    times: dict[str, list[float]] = {label: [] for label in chains}
    for run in chains.values():
        run()
    for _ in range(repeat):
        for label, run in chains.items():
            times[label].append(timed(run) / (n_batches * len(x)) * 1000)
    legacy, composable = (statistics.median(t) for t in times.values())
    print("| chain | ms/img (median) |")
    print("|---|---:|")
    for label, t in times.items():
        print(f"| {label} | {statistics.median(t):.3f} |")
    verdict = "meets" if composable <= legacy else "MISSES"
    print(f"\ncomposable / legacy = {composable / legacy:.2f} ({verdict} the target <= 1.0)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=16, help="images per batch")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved repeats (median kept)")
    parser.add_argument("--only", default="", help="comma-separated op names (default: all)")
    parser.add_argument("--batches", type=int, default=8, help="batches for the chain comparison")
    args = parser.parse_args(argv)

    import torch
    import torchvision

    torch.set_num_threads(1)
    x = photos(args.images)
    print(f"genlab ops vs torchvision {torchvision.__version__} (torch {torch.__version__}, 1 thread), "
          f"{args.images} images of {SIZE}x{SIZE}, median of {args.repeat} interleaved repeats\n")  # fmt: skip
    only = [s for s in args.only.split(",") if s] or None
    print_op_table(op_rows(x, args.repeat, only))
    print(
        f"\nper-sample generator (seed, stream, epoch, key), seeded by every op for every image: "
        f"{seeding_cost(args.images):.1f} us (fastest of 20)"
    )
    if not only:
        print()
        chain_rows(photos(32), args.repeat, args.batches)


if __name__ == "__main__":
    main()
