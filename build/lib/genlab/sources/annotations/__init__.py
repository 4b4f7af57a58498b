"""Sources whose samples carry targets: boxes, masks and keypoints (see :mod:`genlab.targets`).

===================  ==================================  ================================================
kind                 built by                            reads
===================  ==================================  ================================================
``coco``             ``Pipeline.from_coco``              a COCO JSON: boxes, polygon / RLE masks, keypoints
``yolo``             ``Pipeline.from_yolo``              ``images/`` + ``labels/*.txt`` (``class cx cy w h``)
``voc``              ``Pipeline.from_voc``               ``JPEGImages/`` (or ``images/``) + ``Annotations/*.xml``
``segmentation``     ``Pipeline.from_segmentation``      ``images/`` + ``masks/`` (class-id PNGs, same stems)
``annotated_table``  ``Pipeline.from_annotated_table``   a table: path, boxes, labels (and mask path) columns
===================  ==================================  ================================================

Each lists its annotations once into an :class:`AnnotatedIndex` (one compact :class:`Record` per
image) and gives batches of ``(paths, y)`` whose ``info.targets`` holds each image's
:class:`~genlab.targets.Targets` in the image's original pixels (``read_images`` moves them with
the pixels it resizes) and whose ``info.target_format`` is the pipeline's
:class:`~genlab.targets.TargetFormat`. ``y`` is a multi-hot row of the classes present in each
image, so ``for x, y in pipeline`` still works.

Bad annotations follow ``on_error``, as unreadable images do: ``"skip"`` leaves the annotation
out, counts it in ``pipeline.report.ignored`` (naming the file and the annotation) and warns once;
``"raise"`` raises a ValueError naming them. Caught while listing: a box outside the image (more
than :data:`EDGE_TOLERANCE` pixels beyond an edge; closer boxes are clipped), a box of zero or
negative size, an unknown class, a mask whose size is not the image's, an annotation of a
missing image. Caught while reading a batch (the sample is skipped and reported, or raises): a
missing or unreadable mask file, a mask of the wrong size.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...batch import Batch
from ...targets import TargetFormat, Targets
from .. import storage
from ..discover import DatasetIndex, multi_hot

__all__ = ["EDGE_TOLERANCE", "Record", "AnnotatedIndex", "Problems", "check_instances",
           "attach_targets", "image_size"]  # fmt: skip

#: Pixels a box may stick out of the image before it counts as outside (it is clipped).
EDGE_TOLERANCE = 1.0


class BadAnnotation(ValueError):
    """An annotation that cannot be read; the message names the file and the annotation."""


@dataclass(frozen=True, eq=False)
class Record:
    """One image's annotations as listed (compact: masks are decoded per batch).

    ``boxes`` are ``xyxy``, in pixels, or normalised by the image size when ``normalized``
    (YOLO, whose files do not say the size). ``size`` is ``(height, width)`` when the
    annotations declare it, else read from the image's header per batch. ``segmentations``
    holds one COCO segmentation (polygons or RLE) or None per instance; ``mask_path`` names a
    semantic class-id mask file. ``check_size``: the boxes are checked against the image's size
    (read from its header) per batch, for annotations that do not declare the size.
    """

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ids: np.ndarray | None = None
    normalized: bool = False
    size: tuple[int, int] | None = None
    keypoints: np.ndarray | None = None
    segmentations: tuple | None = None
    mask_path: str | None = None
    check_size: bool = False  # pixel boxes checked against the image's size when read


@dataclass(frozen=True, eq=False)
class AnnotatedIndex(DatasetIndex):
    """A :class:`~genlab.sources.discover.DatasetIndex` with one :class:`Record` per image and
    the :class:`~genlab.targets.TargetFormat` they follow."""

    records: tuple[Record, ...] = ()
    target_format: TargetFormat = field(default_factory=TargetFormat)
    on_error: str = "skip"


class Problems:
    """Bad annotations met while listing: raised at once, or kept as ``(file, reason)`` rows."""

    def __init__(self, on_error: str, where: str) -> None:
        self.on_error, self.where, self.rows = on_error, where, []

    def bad(self, file: str, what: str, reason: str) -> None:
        """Report annotation ``what`` of ``file`` (raises under ``on_error="raise"``)."""
        if self.on_error == "raise":
            raise BadAnnotation(f"{self.where}: {what} of {file!r}: {reason}")
        self.rows.append((file, f"bad annotation: {what}: {reason}"))

    def warn(self) -> None:
        """Warn once about what was skipped."""
        if self.rows:
            file, reason = self.rows[0]
            warnings.warn(
                f"{self.where}: skipped {len(self.rows)} bad annotation(s), first {file!r}: "
                f"{reason}; all are listed in pipeline.report.ignored",
                stacklevel=4,
            )


def check_instances(
    boxes: Any,
    labels: Any,
    n_classes: int,
    *,
    size: tuple[int, int] | None,
    normalized: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
    """Check ``xyxy`` boxes and labels; returns every box clipped to the image, a mask of the
    good ones and ``(instance, reason)`` for each bad one.

    >>> b, keep, bad = check_instances([[0, 0, 10, 8.5], [5, 5, 3, 9], [-9, 0, 4, 4], [0, 0, 2, 2]],
    ...                                [0, 0, 0, 7], 2, size=(8, 20))
    >>> b[keep].tolist(), keep.tolist(), [i for i, _ in bad]
    ([[0.0, 0.0, 10.0, 8.0]], [True, False, False, False], [1, 2, 3])
    >>> bad[0][1]
    'box [5.0, 5.0, 3.0, 9.0] has a negative or zero size'
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1)
    keep = np.ones(len(boxes), bool)
    bad: list[tuple[int, str]] = []
    if normalized:
        limit_w = limit_h = 1.0
        tol = 1e-3
    elif size is not None:
        limit_h, limit_w = size
        tol = EDGE_TOLERANCE
    for i, (box, label) in enumerate(zip(boxes.tolist(), labels.tolist())):
        reason = None
        if not np.all(np.isfinite(box)):
            reason = f"box {box} is not finite"
        elif box[2] <= box[0] or box[3] <= box[1]:
            reason = f"box {box} has a negative or zero size"
        elif (normalized or size is not None) and (
            box[0] < -tol or box[1] < -tol or box[2] > limit_w + tol or box[3] > limit_h + tol
        ):
            where = "the unit square" if normalized else f"the {limit_w}x{limit_h} image"
            reason = f"box {box} is outside {where}"
        elif not (isinstance(label, int) and 0 <= label < n_classes):
            reason = f"class {label!r} is unknown ({n_classes} classes)"
        if reason is not None:
            keep[i] = False
            bad.append((i, reason))
    if normalized or size is not None:
        boxes = np.clip(boxes, 0, [limit_w, limit_h, limit_w, limit_h]).astype(np.float32)
    return boxes, keep, bad


def image_size(path: str, policy=None) -> tuple[int, int]:
    """``(height, width)`` of an image as displayed (EXIF orientation applied), from its header."""
    from io import BytesIO

    from PIL import Image

    source = path if not storage.is_url(path) else BytesIO(storage.read_bytes(path, policy))
    with Image.open(source) as img:
        width, height = img.size
        if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            width, height = height, width
    return height, width


def _semantic_mask(path: str, size: tuple[int, int], n_classes: int, policy) -> np.ndarray:
    from io import BytesIO

    from PIL import Image

    try:
        data = storage.read_bytes(path, policy)
        with Image.open(BytesIO(data)) as img:
            if img.mode not in ("L", "P", "I", "I;16", "1"):
                raise BadAnnotation(
                    f"mask {path!r} has mode {img.mode!r}; a mask holds class ids (L, P or I)"
                )
            mask = np.asarray(img)
    except OSError as e:
        raise BadAnnotation(f"mask {path!r} cannot be read: {e}") from e
    if mask.shape != size:
        raise BadAnnotation(
            f"mask {path!r} is {mask.shape[1]}x{mask.shape[0]}, its image {size[1]}x{size[0]}"
        )
    if mask.max(initial=0) >= n_classes:
        raise BadAnnotation(
            f"mask {path!r} holds class id {int(mask.max())}, beyond the {n_classes} class names"
        )
    return mask.astype(np.uint8)


def record_targets(record: Record, path: str, n_classes: int = 256, policy=None) -> Targets:
    """The :class:`~genlab.targets.Targets` of one image, masks decoded, boxes in pixels."""
    size = record.size
    if size is None and (record.normalized or record.mask_path or record.segmentations or record.check_size):  # fmt: skip
        size = image_size(path, policy)
    boxes = record.boxes
    if record.check_size:
        boxes, keep, bad = check_instances(boxes, record.labels, 2**62, size=size)
        if bad:
            raise BadAnnotation(f"box {bad[0][0]}: {bad[0][1]}")
    if record.normalized:
        boxes = boxes * np.array([size[1], size[0], size[1], size[0]], np.float32)
    masks = mask = None
    if record.segmentations is not None:
        from .coco import decode_segmentation

        masks = np.zeros((len(boxes), *size), np.uint8)
        for i, seg in enumerate(record.segmentations):
            if seg is None:  # an instance without a mask: its box
                x0, y0, x1, y1 = np.round(boxes[i]).astype(int)
                masks[i, y0:y1, x0:x1] = 1
            else:
                masks[i] = decode_segmentation(seg, size)
    if record.mask_path is not None:
        mask = _semantic_mask(record.mask_path, size, n_classes, policy)
    return Targets(
        boxes=boxes, labels=record.labels, ids=record.ids, masks=masks,
        keypoints=record.keypoints, mask=mask,
    )  # fmt: skip


def attach_targets(batch: Batch, index: AnnotatedIndex) -> Batch:
    """``batch`` (paths and the keys of ``index``) with each sample's targets and a multi-hot
    ``y`` of the classes it holds; a sample whose mask cannot be read is skipped or raises."""
    policy = batch.info.extra.get("retry")
    targets, kept, skipped = [], [], []
    for i, (key, path) in enumerate(zip(batch.info.keys.tolist(), batch.x)):
        try:
            n = len(index.class_names)
            targets.append(record_targets(index.records[key], path, n, policy))
        except (BadAnnotation, OSError) as e:
            if index.on_error == "raise":
                raise BadAnnotation(f"{path!r}: {e}") from e
            warnings.warn(f"source skipped {path!r}: {e}", stacklevel=2)
            skipped.append((path, f"bad annotation: {e}"))
            continue
        kept.append(i)
    n = len(index.class_names)
    y = np.zeros((len(kept), n), np.int64)
    for row, t in enumerate(targets):
        present = t.labels if t.mask is None else np.unique(t.mask[t.mask > 0])
        y[row, present[present < n]] = 1
    info = batch.info if not skipped else batch.info.select(kept)
    info = replace(
        info, skipped=info.skipped + tuple(skipped), targets=tuple(targets),
        target_format=index.target_format,
    )  # fmt: skip
    return Batch([batch.x[i] for i in kept], y, info)


def present_classes(records: list[Record], n_classes: int) -> np.ndarray:
    """The multi-hot ``labels`` of a listing: the classes each record's instances hold."""
    names = [str(i) for i in range(n_classes)]
    return multi_hot([[str(v) for v in set(r.labels.tolist())] for r in records], names)
