"""CutMix for targets: the targets of a sample with a region of another pasted over it (pure).

>>> a = Targets.from_boxes([[0, 0, 10, 4]], [1]); b = Targets.from_boxes([[2, 2, 8, 8]], [2])
>>> paste_targets(a, b, (5, 0, 10, 10)).ids.tolist() == [0, PARTNER_ID_OFFSET]
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..targets import TargetFormat, Targets
from .targets_geometry import box_areas

__all__ = ["PARTNER_ID_OFFSET", "paste_targets"]


#: Instances pasted from another sample (CutMix) get their id plus this offset, so they never
#: collide with the sample's own ids and ``id - PARTNER_ID_OFFSET`` names them in the partner.
PARTNER_ID_OFFSET = 1 << 32


def _outside_region(boxes: np.ndarray, region: Sequence[float]) -> np.ndarray:
    """The enclosing boxes of ``boxes`` minus the rectangle ``region`` (xyxy): a box shrinks
    only where the region covers it across one whole side."""
    rx0, ry0, rx1, ry1 = region
    out = boxes.copy()
    x0, y0, x1, y1 = boxes.T
    spans_y, spans_x = (ry0 <= y0) & (ry1 >= y1), (rx0 <= x0) & (rx1 >= x1)
    # covered across the full height: the left or right part remains
    out[:, 0] = np.where(spans_y & (rx0 <= x0), np.maximum(x0, rx1), x0)
    out[:, 2] = np.where(spans_y & (rx1 >= x1), np.minimum(x1, rx0), x1)
    out[:, 1] = np.where(spans_x & (ry0 <= y0), np.maximum(y0, ry1), y0)
    out[:, 3] = np.where(spans_x & (ry1 >= y1), np.minimum(y1, ry0), y1)
    return out


def _overlap(boxes: np.ndarray, region: Sequence[float]) -> np.ndarray:
    lo = np.maximum(boxes[:, :2], region[:2])
    hi = np.minimum(boxes[:, 2:], region[2:])
    return np.concatenate([lo, hi], axis=1)


def _part(name: str, a: Any, b: Any, what: str) -> None:
    if (a is None) != (b is None):
        raise ValueError(f"{name}: one sample has {what} and its partner has none")


def paste_targets(
    base: Targets,
    patch: Targets,
    region: Sequence[int],
    fmt: TargetFormat | None = None,
    name: str = "cutmix",
) -> Targets:
    """The targets of ``base`` with the ``region`` (xyxy pixels) of a same-size image pasted
    over it from the sample whose targets are ``patch`` (CutMix).

    ``base``'s instances lose what the region covers (masks zeroed there, keypoints under it
    invisible, boxes shrunk where the region covers a whole side); ``patch``'s keep what is
    inside (boxes and masks cut to the region, keypoints outside it invisible), their ids
    offset by :data:`PARTNER_ID_OFFSET`. Visibility for ``min_visibility`` is the area of each
    box left uncovered (base) or inside the region (patch) over its area; zero-size and
    ``min_area`` rules as :func:`sanitize`. The semantic mask takes the patch's inside the region.

    >>> a = Targets.from_boxes([[0, 0, 10, 4]], [1]); b = Targets.from_boxes([[2, 2, 8, 8]], [2])
    >>> t = paste_targets(a, b, (5, 0, 10, 10))
    >>> t.boxes.tolist(), t.labels.tolist()
    ([[0.0, 0.0, 5.0, 4.0], [5.0, 2.0, 8.0, 8.0]], [1, 2])
    """
    fmt = TargetFormat() if fmt is None else fmt
    for part, what in (("masks", "instance masks"), ("keypoints", "keypoints"), ("mask", "a semantic mask")):  # fmt: skip
        _part(name, getattr(base, part), getattr(patch, part), what)
    rx0, ry0, rx1, ry1 = (float(v) for v in region)
    reg = np.array([rx0, ry0, rx1, ry1], np.float32)

    def keep(boxes, visible_area, full_area):
        ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1]) & (visible_area > 0)
        if fmt.min_area > 0:
            ok &= visible_area >= fmt.min_area
        if fmt.min_visibility > 0:
            ok &= visible_area >= fmt.min_visibility * full_area
        return ok

    def kp_inside(kp):
        x, y = kp[..., 0], kp[..., 1]
        return (x > rx0) & (x < rx1) & (y > ry0) & (y < ry1)

    area = box_areas(base.boxes)
    own = base.replace(boxes=_outside_region(base.boxes, reg))
    if base.keypoints is not None:
        kp = base.keypoints.copy()
        kp[..., 2] = np.where(kp_inside(kp), 0.0, kp[..., 2])
        own = own.replace(keypoints=kp)
    if base.masks is not None:
        masks = base.masks.copy()
        masks[:, int(ry0) : int(ry1), int(rx0) : int(rx1)] = 0
        own = own.replace(masks=masks)
    own = own.select(keep(own.boxes, area - box_areas(_overlap(base.boxes, reg)), area))

    inside = _overlap(patch.boxes, reg)
    pasted = patch.replace(boxes=inside, ids=patch.ids + PARTNER_ID_OFFSET)
    if patch.keypoints is not None:
        kp = patch.keypoints.copy()
        kp[..., 2] = np.where(kp_inside(kp), kp[..., 2], 0.0)
        pasted = pasted.replace(keypoints=kp)
    if patch.masks is not None:
        masks = np.zeros_like(patch.masks)
        rows, cols = slice(int(ry0), int(ry1)), slice(int(rx0), int(rx1))
        masks[:, rows, cols] = patch.masks[:, rows, cols]
        pasted = pasted.replace(masks=masks)
    pasted = pasted.select(keep(inside, box_areas(inside), box_areas(patch.boxes)))

    semantic = None
    if base.mask is not None:
        semantic = base.mask.copy()
        rows, cols = slice(int(ry0), int(ry1)), slice(int(rx0), int(rx1))
        semantic[rows, cols] = patch.mask[rows, cols]

    def joined(a, b):
        return None if a is None else np.concatenate([a, b], axis=0)

    return Targets(
        boxes=joined(own.boxes, pasted.boxes), labels=joined(own.labels, pasted.labels),
        ids=joined(own.ids, pasted.ids), masks=joined(own.masks, pasted.masks),
        keypoints=joined(own.keypoints, pasted.keypoints), mask=semantic,
    )  # fmt: skip
