"""COCO JSON annotations: boxes, polygon and RLE masks, keypoints with their names and skeleton.

``bbox`` is ``[x, y, width, height]`` in pixels; ``segmentation`` is a list of polygons, an
uncompressed RLE (``counts`` a list, decoded here) or a compressed one (``counts`` a string);
polygons and compressed RLE are decoded by ``pycocotools`` (``pip install 'genlab[coco]'``).
``keypoints`` is ``[x, y, v] * K`` with the names and the 1-based skeleton of the category.
Class ``i`` is the ``i``-th category by id (COCO's ids are not contiguous; the names keep them).
Crowd regions (``iscrowd: 1``) are left out, as torchvision's detection references do, and
listed in the report's ``ignored`` rows.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections import defaultdict

import numpy as np

from ...targets import TargetFormat
from ...targets_io import rle_decode
from .. import storage
from . import AnnotatedIndex, Problems, Record, check_instances, present_classes

__all__ = ["index_coco", "decode_segmentation"]


def _pycocotools_mask():
    try:
        from pycocotools import mask
    except ImportError as e:
        raise ImportError(
            "COCO polygons and compressed RLE masks are decoded by pycocotools: "
            "pip install 'genlab[coco]'"
        ) from e
    return mask


def decode_segmentation(segmentation, size: tuple[int, int]) -> np.ndarray:
    """A COCO ``segmentation`` (polygons or RLE) as a ``size = (height, width)`` 0/1 uint8 mask.

    >>> decode_segmentation({"size": [2, 3], "counts": [1, 2, 3]}, (2, 3)).tolist()
    [[0, 1, 0], [1, 0, 0]]
    """
    height, width = size
    if isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), list):
        return rle_decode(segmentation)
    mask_api = _pycocotools_mask()
    if isinstance(segmentation, dict):
        rle = dict(segmentation)
        if isinstance(rle["counts"], str):
            rle["counts"] = rle["counts"].encode("ascii")
    else:
        rle = mask_api.merge(mask_api.frPyObjects(segmentation, height, width))
    return np.ascontiguousarray(mask_api.decode(rle), dtype=np.uint8)


def _check_segmentation(seg, size: tuple[int, int]) -> str | None:
    """Why a segmentation cannot be this image's mask, or None."""
    if isinstance(seg, dict):
        given = list(seg.get("size", []))
        if given != list(size):
            return f"mask of size {given} (height, width), the image is {list(size)}"
        counts = seg.get("counts")
        if isinstance(counts, list) and sum(counts) != size[0] * size[1]:
            return f"RLE counts cover {sum(counts)} pixels, the image has {size[0] * size[1]}"
        return None
    if not isinstance(seg, list) or not seg:
        return f"segmentation {str(seg)[:40]!r} is neither polygons nor RLE"
    for polygon in seg:
        if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
            return f"polygon {str(polygon)[:40]} needs an even number (>= 6) of coordinates"
    return None


def _keypoint_format(categories: list[dict]) -> tuple[tuple[str, ...], tuple]:
    for c in categories:
        names = tuple(str(n) for n in c.get("keypoints") or ())
        if names:
            skeleton = tuple(
                (names[a - 1], names[b - 1])
                for a, b in c.get("skeleton") or ()
                if 1 <= a <= len(names) and 1 <= b <= len(names)
            )
            return names, skeleton
    return (), ()


def index_coco(
    annotations: str,
    images_root: str = "",
    *,
    targets: dict | None = None,
    masks: bool = True,
    on_error: str = "skip",
    policy=None,
) -> AnnotatedIndex:
    """List a COCO annotation file once (images in id order).

    ``images_root`` holds the images (``file_name`` is relative to it); empty means the
    annotation file's folder, or its ``images`` subfolder when there is one. ``targets`` are
    :class:`~genlab.targets.TargetFormat` settings; class and keypoint names and the skeleton
    come from the file unless given there. ``masks=False`` reads boxes and keypoints only.
    """
    try:
        data = json.loads(storage.read_bytes(annotations, policy))
    except ValueError as e:
        raise ValueError(f"coco: {annotations!r} is not valid JSON: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise ValueError(f"coco: {annotations!r} has no 'images' list; is it a COCO file?")
    root = images_root or _default_root(annotations)
    categories = sorted(data.get("categories") or [], key=lambda c: c["id"])
    class_of = {c["id"]: i for i, c in enumerate(categories)}
    keypoint_names, skeleton = _keypoint_format(categories)
    given = dict(targets or {})
    fmt = TargetFormat.from_dict({
        **given,
        "class_names": given.get("class_names") or [str(c["name"]) for c in categories],
        "keypoint_names": given.get("keypoint_names") or list(keypoint_names),
        "skeleton": given.get("skeleton") or [list(p) for p in skeleton],
    })  # fmt: skip
    problems = Problems(on_error, f"coco {annotations!r}")
    images = sorted(data["images"], key=lambda im: im["id"])
    known = {im["id"] for im in images}
    by_image = defaultdict(list)
    for n, ann in enumerate(data.get("annotations") or []):
        if ann.get("image_id") not in known:
            problems.bad(annotations, f"annotation {ann.get('id', n)!r}", f"image_id {ann.get('image_id')!r} is not in 'images'")  # fmt: skip
        else:
            by_image[ann["image_id"]].append(ann)
    check_files = not storage.is_url(root)
    paths, records, ignored = [], [], []
    for im in images:
        path = storage.join(root, str(im["file_name"]))
        anns = by_image.get(im["id"], [])
        if check_files and not os.path.isfile(path):
            problems.bad(path, f"image {im['id']!r}", f"the image file is missing ({len(anns)} annotations left out)")  # fmt: skip
            continue
        record, crowd = _record(im, anns, path, class_of, len(keypoint_names), masks, problems)
        ignored.extend(crowd)
        paths.append(path)
        records.append(record)
    if not paths:
        raise ValueError(f"coco: {annotations!r} lists no image found under {root!r}")
    problems.warn()
    labels = present_classes(records, len(fmt.class_names))
    return AnnotatedIndex(
        root, tuple(paths), labels, fmt.class_names, tuple(problems.rows + ignored),
        records=tuple(records), target_format=fmt, on_error=on_error,
    )  # fmt: skip


def _default_root(annotations: str) -> str:
    folder = posixpath.dirname(str(annotations)) or "."
    images = storage.join(folder, "images")
    return images if storage.exists(images) and storage.is_dir(images) else folder


def _record(im, anns, path, class_of, n_keypoints, masks, problems):
    size = (int(im["height"]), int(im["width"]))
    crowd = [(path, f"crowd annotation {a.get('id')!r} left out (iscrowd=1)")
             for a in anns if a.get("iscrowd")]  # fmt: skip
    anns = [a for a in anns if not a.get("iscrowd")]
    boxes, labels = [], []
    for a in anns:
        bbox = a.get("bbox") or [0, 0, 0, 0]
        boxes.append([bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]] if len(bbox) == 4 else [0, 0, 0, 0])  # fmt: skip
        labels.append(class_of.get(a.get("category_id"), -1))
    clipped, keep, bad = check_instances(boxes, labels, len(class_of), size=size)
    for i, reason in bad:
        problems.bad(path, f"annotation {anns[i].get('id')!r}", reason)
    segs, points = [], []
    for i, a in enumerate(anns):
        if not keep[i]:
            continue
        seg = a.get("segmentation") if masks else None
        reason = None if seg is None or seg == [] else _check_segmentation(seg, size)
        kp = a.get("keypoints")
        if n_keypoints and kp and len(kp) != 3 * n_keypoints:
            reason = f"{len(kp)} keypoint values, the category has {n_keypoints} keypoints"
        if reason is not None:
            problems.bad(path, f"annotation {a.get('id')!r}", reason)
            keep[i] = False
            continue
        segs.append(seg or None)
        points.append(np.reshape(kp, (-1, 3)) if kp else np.zeros((n_keypoints, 3)))
    ids = np.array([a.get("id", i) for i, a in enumerate(anns) if keep[i]], np.int64)
    record = Record(
        boxes=clipped[keep], labels=np.asarray(labels, np.int64)[keep], ids=ids, size=size,
        keypoints=np.asarray(points, np.float32).reshape(len(ids), n_keypoints, 3) if n_keypoints else None,
        segmentations=tuple(segs) if masks and any(s is not None for s in segs) else None,
    )  # fmt: skip
    return record, crowd
