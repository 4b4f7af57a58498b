"""Targets at the edges where they leave genlab: JSON records.

(An exported ``A.Compose``'s ``bbox_params`` / ``keypoint_params`` come from
:func:`genlab.foreign.targets.albumentations_params`.)

- :func:`targets_to_json` / :func:`targets_from_json`: one sample's targets as a JSON object
  (boxes in the declared box format, masks as COCO uncompressed RLE), what ``materialize`` writes
  beside each image of a tar shard (``KEY.json``) and what a shard source reads back.
"""

from __future__ import annotations

import numpy as np

from .targets import TargetFormat, Targets, boxes_from_xyxy, boxes_to_xyxy

__all__ = ["targets_to_json", "targets_from_json", "rle_encode", "rle_decode"]  # fmt: skip


#: genlab's (box_format, normalized) -> albumentations' name for it.
def rle_encode(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE of a 0/1 mask (column-major runs, zeros first).

    >>> rle_encode(np.array([[0, 1], [1, 1]], np.uint8))
    {'size': [2, 2], 'counts': [1, 3]}
    """
    flat = np.asarray(mask).reshape(-1, order="F") != 0
    change = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    return {"size": list(np.shape(mask)), "counts": [0, *counts] if flat[0] else counts}


def rle_decode(rle: dict) -> np.ndarray:
    """The mask of :func:`rle_encode`'s RLE (uint8, 0/1)."""
    counts = np.asarray(rle["counts"], np.int64)
    height, width = rle["size"]
    if counts.sum() != height * width:
        raise ValueError(f"RLE counts cover {int(counts.sum())} pixels, its size {height}x{width}")
    flat = np.repeat(np.arange(len(counts), dtype=np.uint8) % 2, counts)
    return flat.reshape(width, height).T.copy()


def targets_to_json(
    targets: Targets, fmt: TargetFormat, image_size: tuple[int, int] | None = None
) -> dict:
    """One sample's targets as JSON (boxes in ``fmt``'s box format; normalised formats need
    the ``image_size = (height, width)``).

    >>> t = Targets(boxes=[[10, 20, 30, 40]], labels=[1], ids=[7])
    >>> d = targets_to_json(t, TargetFormat(box_format="xywh"), (100, 200))
    >>> d["boxes"], d["labels"], d["ids"]
    ([[10.0, 20.0, 20.0, 20.0]], [1], [7])
    >>> targets_from_json(d, TargetFormat(box_format="xywh")).boxes.tolist()
    [[10.0, 20.0, 30.0, 40.0]]
    """
    boxes = boxes_from_xyxy(targets.boxes, fmt.box_format, normalized=fmt.normalized, image_size=image_size)  # fmt: skip
    out: dict = {"boxes": boxes.tolist(), "labels": targets.labels.tolist(), "ids": targets.ids.tolist()}  # fmt: skip
    if image_size is not None:
        out["image_size"] = list(image_size)
    if targets.masks is not None:
        out["masks"] = [rle_encode(m) for m in targets.masks]
    if targets.keypoints is not None:
        out["keypoints"] = targets.keypoints.tolist()
    if targets.mask is not None:
        out["mask"] = {"size": list(targets.mask.shape), "values": targets.mask.ravel().tolist()}
    return out


def targets_from_json(d: dict, fmt: TargetFormat) -> Targets:
    """The inverse of :func:`targets_to_json`; ValueError naming a missing or bad part."""
    try:
        size = tuple(d["image_size"]) if "image_size" in d else None
        boxes = boxes_to_xyxy(d["boxes"], fmt.box_format, normalized=fmt.normalized, image_size=size)  # fmt: skip
        masks = np.stack([rle_decode(r) for r in d["masks"]]) if d.get("masks") else None
        mask = None
        if d.get("mask") is not None:
            mask = np.asarray(d["mask"]["values"], np.uint8).reshape(d["mask"]["size"])
        keypoints = (
            np.asarray(d["keypoints"], np.float32) if d.get("keypoints") is not None else None
        )
        return Targets(
            boxes=boxes, labels=d["labels"], ids=d.get("ids"), masks=masks,
            keypoints=None if keypoints is None else keypoints.reshape(len(boxes), -1, 3), mask=mask,
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"targets record: {type(e).__name__}: {e}") from e
