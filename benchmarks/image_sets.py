"""Class-folder sets of photographic JPEGs for the benchmarks.

The images come from genlab's sample-data maker
(``genlab.sample_data.make_sample_data(kind="photos")``): random crops, flips
and colour jitter of the two photographs scikit-learn ships, encoded as JPEG,
so the decoder does the work it does on a user's photographs.

Sets are cached under a folder (``--data``, default a temporary folder) and
reused by later runs; a set is marked complete by a ``.complete`` file.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["photo_set", "subset", "warm_cache", "list_images"]


def photo_set(
    cache: Path, n_images: int, size: tuple[int, int] = (500, 375), seed: int = 0
) -> Path:
    """Return a class-folder set of ``n_images`` JPEG photographs of ``size`` (width, height)."""
    from genlab.sample_data import make_sample_data

    dest = Path(cache) / f"photos-{size[0]}x{size[1]}-{n_images}-seed{seed}"
    if (dest / ".complete").exists():
        return dest
    if n_images % 2:
        raise ValueError(f"n_images={n_images!r} must be even: the photo set has 2 classes")
    make_sample_data(
        dest, kind="photos", n_per_class=n_images // 2, size=size, seed=seed, overwrite=True
    )
    (dest / ".complete").write_text("genlab.sample_data.make_sample_data(kind='photos')\n")
    return dest


def list_images(root: Path) -> list[tuple[str, int]]:
    """(path, class index) for every image under ``root``, classes in sorted folder order."""
    root = Path(root)
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    items = []
    for index, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.suffix.lower() in (".jpg", ".jpeg", ".png") and not f.name.startswith("."):
                items.append((str(f), index))
    return items


def subset(root: Path, n_images: int) -> Path:
    """A set of the first ``n_images`` of ``root`` taken evenly from every class (hard links)."""
    root = Path(root)
    dest = root.with_name(f"{root.name}-first{n_images}")
    if (dest / ".complete").exists():
        return dest
    items = list_images(root)
    by_class: dict[int, list[str]] = {}
    for path, label in items:
        by_class.setdefault(label, []).append(path)
    per_class = n_images // len(by_class)
    if per_class * len(by_class) != n_images:
        raise ValueError(f"n_images={n_images!r} is not a multiple of the {len(by_class)} classes")
    for label, paths in by_class.items():
        if len(paths) < per_class:
            raise ValueError(
                f"class {label} of {str(root)!r} holds {len(paths)} images, need {per_class}"
            )
        for p in paths[:per_class]:
            target = dest / Path(p).parent.name / Path(p).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(p, target)
    (dest / ".complete").write_text(f"subset of {root}\n")
    return dest


def warm_cache(root: Path) -> int:
    """Read every file once so that runs measure decoding, not the disk; returns the bytes read."""
    total = 0
    for path, _ in list_images(root):
        with open(path, "rb") as f:
            total += len(f.read())
    return total
