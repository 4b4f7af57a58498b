"""genlab's targets through albumentations and torchvision stages.

- albumentations: the stage's transform runs inside an ``A.Compose`` whose ``BboxParams`` and
  ``KeypointParams`` come from the pipeline's :class:`~genlab.targets.TargetFormat`
  (:func:`albumentations_params`: ``pascal_voc`` pixel boxes, ``min_area``, ``min_visibility``,
  clipping; ``xy`` keypoints kept when they leave the image), with the instance masks as
  ``masks`` and the semantic mask as ``mask``. The transform draws exactly what it draws on
  the image alone (the Compose's own draw uses a generator of its own).
- torchvision: the image goes in as ``tv_tensors.Image``, boxes as ``tv_tensors.BoundingBoxes``
  (XYXY, ``canvas_size``), masks as ``tv_tensors.Mask``, keypoints as ``tv_tensors.KeyPoints``,
  in a dict with ``labels`` (the instance numbers, so ``SanitizeBoundingBoxes`` drops the
  instances' other parts too).

Afterwards boxes are clipped and zero-size instances dropped (genlab's rule after every op),
keypoints that left the image get visibility 0, and instances the library dropped lose their
masks and keypoints with them. Neither library swaps ``flip_pairs``: genlab swaps them after
albumentations' ``HorizontalFlip`` / ``VerticalFlip`` when they applied (the transform's
record says so); torchvision does not say whether it flipped, so its ``RandomHorizontalFlip``
/ ``RandomVerticalFlip`` refuse keypoints with ``flip_pairs`` (use genlab's ``hflip``).
Other mirroring transforms of the libraries (``Transpose``, ``D4``) do not swap them.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from ..ops.targets_geometry import sanitize
from ..targets import TargetFormat, Targets

__all__ = [
    "albumentations_params",
    "albumentations_compose",
    "albumentations_call",
    "torchvision_call",
]

#: transform classes that mirror the image (their keypoints trade ``flip_pairs`` when applied)
MIRRORS = ("HorizontalFlip", "VerticalFlip", "RandomHorizontalFlip", "RandomVerticalFlip")


def _format(fmt: TargetFormat | None) -> TargetFormat:
    return TargetFormat() if fmt is None else fmt


#: albumentations' name for each box layout genlab declares, ``(box_format, normalized)``.
ALBUMENTATIONS_BOXES = {
    ("xyxy", False): "pascal_voc",
    ("xywh", False): "coco",
    ("cxcywh", True): "yolo",
    ("xyxy", True): "albumentations",
}


def albumentations_params(
    fmt: TargetFormat | None, label_fields=("instance",), *, declared: bool = False
) -> dict:
    """``bbox_params`` and ``keypoint_params`` for ``A.Compose`` from genlab's declaration.

    Inside genlab's stages (the default) boxes are genlab's own ``xyxy`` pixels (``pascal_voc``)
    and every keypoint carries its index. ``declared=True`` is for an exported Compose: boxes in
    the layout the :class:`~genlab.targets.TargetFormat` declares (a layout albumentations does
    not know, ``cxcywh`` in pixels or normalised ``xywh``, is a ValueError), class ids in
    ``label_fields``, keypoint parameters only when keypoints are named. ``min_area`` and
    ``min_visibility`` are genlab's; keypoints are kept when they leave the image (genlab marks
    them invisible instead of deleting them).

    >>> p = albumentations_params(TargetFormat(min_area=4.0, min_visibility=0.3))
    >>> p["bbox_params"].format, p["bbox_params"].min_visibility, p["keypoint_params"].remove_invisible
    ('pascal_voc', 0.3, False)
    >>> albumentations_params(TargetFormat(box_format="xywh"), ["labels"], declared=True)["bbox_params"].format
    'coco'
    """
    import albumentations as A  # the albumentations extra: only where its Compose is made

    fmt = _format(fmt)
    box_format = "pascal_voc"
    if declared:
        key = (fmt.box_format, fmt.normalized)
        if key not in ALBUMENTATIONS_BOXES:
            raise ValueError(
                f"albumentations has no box format for box_format={fmt.box_format!r} with "
                f"normalized={fmt.normalized!r}; known: {sorted(ALBUMENTATIONS_BOXES)}"
            )
        box_format = ALBUMENTATIONS_BOXES[key]
    params = {
        "bbox_params": A.BboxParams(
            format=box_format, label_fields=list(label_fields), min_area=fmt.min_area,
            min_visibility=fmt.min_visibility, clip=True,
        ),
    }  # fmt: skip
    if not declared:
        params["keypoint_params"] = A.KeypointParams(
            format="xy", label_fields=["keypoint_index"], remove_invisible=False
        )
    elif fmt.keypoint_names:
        params["keypoint_params"] = A.KeypointParams(format="xy", remove_invisible=False)
    return params


def albumentations_compose(transform: Any, fmt: TargetFormat | None) -> Any:
    """``transform`` in a Compose that carries targets; the Compose's own coin is its own, so
    the transform's draws are those it makes on the image alone."""
    import albumentations as A

    compose = A.Compose([transform], p=1.0, **albumentations_params(fmt))
    compose.set_random_state(np.random.default_rng(0), random.Random(0))
    return compose


def _mirrored(targets: Targets, fmt: TargetFormat) -> Targets:
    if targets.keypoints is None or not fmt.flip_pairs:
        return targets
    return targets.replace(keypoints=targets.keypoints[:, fmt.flip_permutation()])


def _finish(t: Targets, boxes, idx, masks, keypoints, mask, size_hw, fmt, mirrored) -> Targets:
    """The moved parts, aligned on the surviving instances ``idx``, sanitised."""
    idx = np.asarray(idx, np.int64).reshape(-1)
    kp = None
    if keypoints is not None:
        kp = np.array(t.keypoints, np.float32, copy=True)
        kp[..., :2] = np.asarray(keypoints, np.float32).reshape(kp.shape[:-1] + (2,))
        x, y = kp[..., 0], kp[..., 1]
        inside = (x >= 0) & (x <= size_hw[1]) & (y >= 0) & (y <= size_hw[0])
        kp[..., 2] = np.where(inside, kp[..., 2], 0.0)
        kp = kp[idx]
    out = Targets(
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4), labels=t.labels[idx], ids=t.ids[idx],
        masks=None if masks is None else np.asarray(masks, np.uint8)[idx], keypoints=kp,
        mask=None if mask is None else np.asarray(mask, np.uint8),
    )  # fmt: skip
    out = _mirrored(out, fmt) if mirrored else out
    return sanitize(out, size_hw, TargetFormat())  # the library applied min_area/min_visibility


def albumentations_call(
    compose: Any, transform: Any, image: np.ndarray, t: Targets, fmt: TargetFormat | None
) -> tuple[np.ndarray, Targets]:
    """One image and its targets through ``compose`` (:func:`albumentations_compose`)."""
    fmt = _format(fmt)
    n = len(t)
    data: dict[str, Any] = {"image": image, "bboxes": t.boxes, "instance": np.arange(n)}
    if t.masks is not None:
        data["masks"] = t.masks if n else np.zeros((0, *image.shape[:2]), np.uint8)
    if t.mask is not None:
        data["mask"] = t.mask
    k = 0 if t.keypoints is None else t.keypoints.shape[1]
    data["keypoints"] = (
        np.zeros((0, 2), np.float32) if not k else t.keypoints[..., :2].reshape(-1, 2)
    )
    data["keypoint_index"] = np.arange(n * k)
    out = compose(**data)
    keypoints = None
    if t.keypoints is not None:
        keypoints = np.zeros((n * k, 2), np.float32)
        keypoints[np.asarray(out["keypoint_index"], np.int64)] = np.asarray(out["keypoints"])[:, :2]
    mirrored = type(transform).__name__ in MIRRORS and bool(transform.params)
    moved = _finish(
        t, out["bboxes"], out["instance"], out.get("masks") if t.masks is not None else None,
        keypoints, out.get("mask") if t.mask is not None else None, out["image"].shape[:2], fmt,
        mirrored,
    )  # fmt: skip
    return out["image"], moved


def torchvision_call(
    transform: Any, image: Any, t: Targets, fmt: TargetFormat | None
) -> tuple[Any, Targets]:
    """One ``C x H x W`` image tensor and its targets through a torchvision v2 ``transform``."""
    import torch
    from torchvision import tv_tensors

    fmt = _format(fmt)
    if fmt.flip_pairs and t.keypoints is not None and type(transform).__name__ in MIRRORS:
        raise ValueError(
            f"torchvision.{type(transform).__name__}: torchvision does not say whether it "
            "flipped, so keypoints could not trade their flip_pairs; use genlab's hflip / vflip"
        )
    size = tuple(image.shape[-2:])
    n = len(t)
    data: dict[str, Any] = {
        "image": tv_tensors.Image(image),
        "boxes": tv_tensors.BoundingBoxes(
            torch.from_numpy(t.boxes), format="XYXY", canvas_size=size
        ),
        "labels": torch.arange(n),
    }
    if t.masks is not None:
        data["masks"] = tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(t.masks)))
    if t.mask is not None:
        data["mask"] = tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(t.mask)))
    if t.keypoints is not None:
        points = np.ascontiguousarray(t.keypoints[..., :2])
        data["keypoints"] = tv_tensors.KeyPoints(torch.from_numpy(points), canvas_size=size)
    out = transform(data)
    idx = out["labels"].numpy()
    masks = out["masks"].numpy() if "masks" in out else None
    if masks is not None and len(masks) != n:  # dropped with their boxes (SanitizeBoundingBoxes)
        full = np.zeros((n, *masks.shape[1:]), np.uint8)
        full[idx] = masks
        masks = full
    keypoints = out["keypoints"].numpy() if "keypoints" in out else None
    if keypoints is not None and keypoints.shape[:2] != t.keypoints.shape[:2]:
        raise ValueError(
            f"torchvision.{type(transform).__name__} removed keypoints; genlab keeps every "
            "keypoint of an instance and marks those outside the image invisible"
        )
    mask = out["mask"].numpy() if "mask" in out else None
    out_image = out["image"].as_subclass(torch.Tensor)
    moved = _finish(t, out["boxes"].numpy(), idx, masks, keypoints, mask,
                    tuple(out_image.shape[-2:]), fmt, False)  # fmt: skip
    return out_image, moved
