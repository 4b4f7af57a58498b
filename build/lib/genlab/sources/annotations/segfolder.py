"""Semantic-segmentation folders: ``images/**/x.jpg`` and ``masks/**/x.png`` with matching stems.

A mask holds one class id per pixel (0 = ``class_names[0]``, usually the background), as a
greyscale, palette or integer PNG of the image's size. An image without a mask, or a mask
without an image, is listed in ``ignored``; a mask of the wrong size, with an id beyond
``class_names`` or that cannot be read skips its sample when the batch is read (reported) or
raises, per ``on_error``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

import numpy as np

from ...targets import TargetFormat
from .. import storage
from ..discover import IMAGE_EXTENSIONS
from . import AnnotatedIndex, Problems, Record

__all__ = ["index_segmentation"]


def index_segmentation(
    root: str,
    *,
    class_names: Sequence[str] | None = None,
    targets: dict | None = None,
    on_error: str = "skip",
    policy=None,
) -> AnnotatedIndex:
    """List a segmentation folder once: images in sorted order, each with its mask file."""
    root = str(root)
    if not class_names:
        raise ValueError(
            "segmentation: class_names is required (the name of each mask id, id 0 first)"
        )
    for name in ("images", "masks"):
        if not storage.is_dir(storage.join(root, name)):
            raise FileNotFoundError(f"segmentation: {root!r} has no {name!r} folder")
    masks = {}
    for rel in storage.walk_files(storage.join(root, "masks"), policy):
        masks.setdefault(posixpath.splitext(rel)[0], rel)
    problems = Problems(on_error, f"segmentation {root!r}")
    paths, records, used = [], [], set()
    for rel in sorted(storage.walk_files(storage.join(root, "images"), policy)):
        path = storage.join(root, "images/" + rel)
        if posixpath.splitext(rel)[1].lower() not in IMAGE_EXTENSIONS:
            continue
        stem = posixpath.splitext(rel)[0]
        if stem not in masks:
            problems.bad(path, "the image", "no mask file with its stem in 'masks'")
            continue
        used.add(stem)
        mask_path = storage.join(root, "masks/" + masks[stem])
        paths.append(path)
        records.append(Record(mask_path=mask_path))
    orphans = [(storage.join(root, "masks/" + masks[s]), "mask without an image")
               for s in sorted(set(masks) - used)]  # fmt: skip
    if not paths:
        raise ValueError(f"segmentation: {root!r} holds no image with a mask")
    problems.warn()
    names = tuple(class_names)
    fmt = TargetFormat.from_dict({**(targets or {}), "class_names": list(names)})
    labels = np.zeros((len(paths), len(names)), np.int64)  # known once masks are read
    return AnnotatedIndex(
        root, tuple(paths), labels, names, tuple(problems.rows + orphans),
        records=tuple(records), target_format=fmt, on_error=on_error,
    )  # fmt: skip
