"""Targets that live in the image: boxes with class labels, masks and keypoints of one sample.

The model (the contract every op, source, view and export follows):

- A sample's targets are one :class:`Targets`: ``N`` *instances* (objects), each with a box and its
  class label, and optionally its own mask and its keypoints, plus an optional semantic mask of the
  whole image. Dropping an instance (a crop cut it away, ``min_area``) drops all of its parts, as
  torchvision's detection format keeps ``boxes``, ``labels``, ``masks`` and ``keypoints`` aligned.
- Inside genlab, boxes are always ``xyxy`` in pixels, ``float32``, in continuous coordinates: pixel
  ``(row r, column c)`` covers ``[c, c + 1) x [r, r + 1)``, so a box covering a whole ``W x H`` image is
  ``(0, 0, W, H)``. Keypoints use the same coordinates (``x, y, visibility``, COCO's visibility:
  0 not labelled or outside the image, 1 labelled but hidden, 2 visible). Formats (``xyxy``, ``xywh``
  as COCO, ``cxcywh`` as YOLO; pixels or normalised) exist only at the edges: where a source reads
  annotations and where an export writes them, through :func:`boxes_to_xyxy` / :func:`boxes_from_xyxy`
  and the :class:`TargetFormat` declared once per pipeline.
- Masks are ``uint8``: ``masks`` is ``N x H x W`` (0/1, one per instance), ``mask`` is ``H x W``
  class ids (semantic segmentation, 0 = background). Geometry moves them with nearest-neighbour
  sampling and fills uncovered pixels with 0.
- ``ids`` numbers the instances as the source gave them; ops keep each surviving instance's id, so a
  view can tell which of the original instances an op dropped.

A batch carries its samples' targets in ``batch.info.targets`` (a tuple with one :class:`Targets`
or None per sample; ``batch.targets`` reads it) and the declaration in ``batch.info.target_format``,
so the classic ``(x, y)`` two-yield form works unchanged for classification.

>>> import numpy as np
>>> t = Targets.from_boxes([[10, 20, 30, 40]], [1], image_size=(100, 200), box_format="xywh")
>>> t.boxes.tolist(), t.labels.tolist(), len(t)
([[10.0, 20.0, 40.0, 60.0]], [1], 1)
>>> [round(float(v), 3) for v in boxes_from_xyxy(t.boxes, "cxcywh", normalized=True, image_size=(100, 200))[0]]
[0.125, 0.4, 0.15, 0.4]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["BOX_FORMATS", "Targets", "TargetFormat", "boxes_to_xyxy", "boxes_from_xyxy"]

#: Box layouts accepted at the edges: ``xyxy`` (Pascal VOC, torchvision), ``xywh`` (COCO),
#: ``cxcywh`` (YOLO, usually normalised).
BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


def _scale(image_size: tuple[int, int]) -> np.ndarray:
    height, width = image_size
    return np.array([width, height, width, height], dtype=np.float32)


def boxes_to_xyxy(
    boxes: Any, box_format: str = "xyxy", *, normalized: bool = False, image_size=None
) -> np.ndarray:
    """``N x 4`` boxes in ``box_format`` (normalised by ``image_size = (height, width)`` when
    ``normalized``) as genlab's internal ``xyxy`` pixels, ``float32``."""
    if box_format not in BOX_FORMATS:
        raise ValueError(f"box_format must be one of {list(BOX_FORMATS)}, got {box_format!r}")
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if normalized:
        if image_size is None:
            raise ValueError("normalized boxes need the image_size (height, width)")
        b = b * _scale(image_size)
    if box_format == "xywh":
        b = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    elif box_format == "cxcywh":
        half = b[:, 2:] / 2
        b = np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)
    return b.astype(np.float32, copy=False)


def boxes_from_xyxy(
    boxes: Any, box_format: str = "xyxy", *, normalized: bool = False, image_size=None
) -> np.ndarray:
    """The inverse of :func:`boxes_to_xyxy`: internal ``xyxy`` pixels in ``box_format``."""
    if box_format not in BOX_FORMATS:
        raise ValueError(f"box_format must be one of {list(BOX_FORMATS)}, got {box_format!r}")
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if box_format == "xywh":
        b = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
    elif box_format == "cxcywh":
        b = np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], axis=1)
    if normalized:
        if image_size is None:
            raise ValueError("normalized boxes need the image_size (height, width)")
        b = b / _scale(image_size)
    return b.astype(np.float32, copy=False)


@dataclass(frozen=True)
class TargetFormat:
    """What a pipeline's targets are, declared once (a spec's ``"targets"`` entry).

    Parameters
    ----------
    box_format, normalized
        How boxes are written where they enter (a table column, hand-made targets) and leave
        (exports); inside genlab they are always ``xyxy`` pixels.
    class_names
        The names of box labels and of semantic mask ids (id ``i`` is ``class_names[i]``).
    keypoint_names
        The names of the ``K`` keypoints of every instance, in order.
    flip_pairs
        Pairs of keypoint names that trade places when the image is mirrored
        (``("left_eye", "right_eye")``): a flip moves the points, then swaps these.
    skeleton
        Pairs of keypoint names joined by a line when drawn.
    min_area, min_visibility
        After each op, an instance whose clipped box is smaller than ``min_area`` pixels, or keeps
        less than ``min_visibility`` of the area it had before the op, is dropped with its label,
        mask and keypoints (albumentations' ``BboxParams``). A box of zero width or height is
        always dropped.
    """

    box_format: str = "xyxy"
    normalized: bool = False
    class_names: tuple[str, ...] = ()
    keypoint_names: tuple[str, ...] = ()
    flip_pairs: tuple[tuple[str, str], ...] = ()
    skeleton: tuple[tuple[str, str], ...] = ()
    min_area: float = 0.0
    min_visibility: float = 0.0

    def __post_init__(self) -> None:
        if self.box_format not in BOX_FORMATS:
            raise ValueError(
                f"targets: box_format must be one of {list(BOX_FORMATS)}, got {self.box_format!r}"
            )
        if not (self.min_area >= 0):
            raise ValueError(f"targets: min_area must be >= 0, got {self.min_area!r}")
        if not (0 <= self.min_visibility <= 1):
            raise ValueError(
                f"targets: min_visibility must be within [0, 1], got {self.min_visibility!r}"
            )
        names = set(self.keypoint_names)
        for pair in (*self.flip_pairs, *self.skeleton):
            unknown = [n for n in pair if n not in names]
            if len(pair) != 2 or unknown:
                raise ValueError(
                    f"targets: {pair!r} must be a pair of keypoint names from {list(self.keypoint_names)}"
                )

    def flip_permutation(self) -> np.ndarray:
        """The keypoint order after a mirror: ``permutation[k]`` is the index that lands at ``k``."""
        index = {n: i for i, n in enumerate(self.keypoint_names)}
        perm = np.arange(len(self.keypoint_names))
        for a, b in self.flip_pairs:
            perm[index[a]], perm[index[b]] = index[b], index[a]
        return perm

    def to_dict(self) -> dict:
        """The JSON-ready form a spec stores."""
        return {
            "box_format": self.box_format, "normalized": self.normalized,
            "class_names": list(self.class_names), "keypoint_names": list(self.keypoint_names),
            "flip_pairs": [list(p) for p in self.flip_pairs], "skeleton": [list(p) for p in self.skeleton],
            "min_area": self.min_area, "min_visibility": self.min_visibility,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> TargetFormat:
        """Read :meth:`to_dict`'s form; ValueError naming an unknown key."""
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"targets: unknown setting(s) {unknown}")
        return cls(
            box_format=d.get("box_format", "xyxy"),
            normalized=bool(d.get("normalized", False)),
            class_names=tuple(d.get("class_names", ())),
            keypoint_names=tuple(d.get("keypoint_names", ())),
            flip_pairs=tuple(tuple(p) for p in d.get("flip_pairs", ())),
            skeleton=tuple(tuple(p) for p in d.get("skeleton", ())),
            min_area=float(d.get("min_area", 0.0)),
            min_visibility=float(d.get("min_visibility", 0.0)),
        )


def _empty_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


@dataclass(frozen=True, eq=False)
class Targets:
    """The targets of one sample (see the module's docstring for the model).

    Attributes
    ----------
    boxes : float32 array, N x 4
        ``xyxy`` pixels.
    labels : int64 array, N
        Class ids of the instances (indices into ``TargetFormat.class_names``).
    masks : uint8 array, N x H x W, or None
        One 0/1 mask per instance.
    keypoints : float32 array, N x K x 3, or None
        ``x, y, visibility`` per keypoint of each instance.
    mask : uint8 array, H x W, or None
        Semantic class ids of every pixel.
    ids : int64 array, N
        Each instance's number as the source gave it (kept through ops).
    """

    boxes: np.ndarray = field(default_factory=_empty_boxes)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    masks: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    mask: np.ndarray | None = None
    ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        n = len(boxes)
        labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if len(labels) != n:
            raise ValueError(f"targets: {n} boxes but {len(labels)} labels")
        ids = np.arange(n, dtype=np.int64) if self.ids is None else np.asarray(self.ids, np.int64)
        if len(ids) != n:
            raise ValueError(f"targets: {n} boxes but {len(ids)} ids")
        if self.masks is not None and (np.ndim(self.masks) != 3 or len(self.masks) != n):
            raise ValueError(f"targets: masks must be N x H x W with N = {n} boxes")
        if self.keypoints is not None and (
            np.ndim(self.keypoints) != 3 or len(self.keypoints) != n
        ):
            raise ValueError(f"targets: keypoints must be N x K x 3 with N = {n} boxes")
        if self.mask is not None and np.ndim(self.mask) != 2:
            raise ValueError("targets: mask must be H x W class ids")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "ids", ids)
        if self.keypoints is not None:
            object.__setattr__(self, "keypoints", np.asarray(self.keypoints, np.float32))

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def from_boxes(
        cls,
        boxes: Sequence,
        labels: Sequence[int],
        *,
        image_size: tuple[int, int] | None = None,
        box_format: str = "xyxy",
        normalized: bool = False,
        **parts: Any,
    ) -> Targets:
        """Targets from boxes in any :data:`BOX_FORMATS` (``image_size = (height, width)``)."""
        xyxy = boxes_to_xyxy(boxes, box_format, normalized=normalized, image_size=image_size)
        return cls(boxes=xyxy, labels=labels, **parts)

    def select(self, keep: Any) -> Targets:
        """The instances at ``keep`` (indices or a boolean mask), every part kept aligned."""
        idx = np.asarray(keep)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return replace(
            self,
            boxes=self.boxes[idx],
            labels=self.labels[idx],
            ids=self.ids[idx],
            masks=None if self.masks is None else self.masks[idx],
            keypoints=None if self.keypoints is None else self.keypoints[idx],
        )

    def replace(self, **parts: Any) -> Targets:
        """A copy with some parts replaced."""
        return replace(self, **parts)

    def nbytes(self) -> int:
        """Bytes held by the arrays (for memory tables)."""
        parts = (self.boxes, self.labels, self.ids, self.masks, self.keypoints, self.mask)
        return sum(p.nbytes for p in parts if p is not None)

    def __repr__(self) -> str:
        held = [f"{len(self)} boxes"]
        if self.masks is not None:
            held.append(f"masks {self.masks.shape}")
        if self.keypoints is not None:
            held.append(f"keypoints {self.keypoints.shape}")
        if self.mask is not None:
            held.append(f"mask {self.mask.shape}")
        return f"Targets({', '.join(held)})"
