"""Pure geometry of targets: boxes, keypoints and masks moved by a point map (no randomness).

Every geometric op of genlab moves the points of the plane by a projective map: flips, quarter
turns, crops, resizes, affine warps and perspective warps are all a ``3 x 3`` matrix acting on
continuous pixel coordinates (pixel ``(row r, column c)`` covers ``[c, c + 1) x [r, r + 1)``).
So one kernel per target kind serves every op, given the op's matrix for a drawn record:

- boxes: the four corners are mapped, the enclosing box is taken (torchvision's rule for
  rotations, affine and perspective warps; exact for flips, turns, crops and scaling) and
  clipped to the image;
- keypoints: mapped; a point that leaves the image gets visibility 0 and is kept;
- masks: warped by the op's own image kernel with nearest-neighbour sampling and fill 0, eight
  instance masks to a byte (:func:`pack_masks`), so one warp moves 24 masks.

>>> import numpy as np
>>> m = flip_matrix((10, 20), horizontal=True)
>>> map_boxes(np.array([[2, 3, 6, 7]], np.float32), m).tolist()
[[14.0, 3.0, 18.0, 7.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..targets import TargetFormat, Targets
from .resize_geometry import resize_mapping, resize_source_box

__all__ = [
    "flip_matrix",
    "quarter_turn_matrix",
    "crop_matrix",
    "affine_forward",
    "perspective_forward",
    "map_points",
    "map_boxes",
    "clip_boxes",
    "box_areas",
    "map_keypoints",
    "pack_masks",
    "unpack_masks",
    "warp_masks",
    "sanitize",
    "check_mask_size",
    "move_targets",
    "resize_geometry",
    "resize_nearest",
    "crop_planes",
]


def flip_matrix(size_hw: Sequence[int], horizontal: bool) -> np.ndarray:
    """The mirror of an image of ``size_hw`` left-right (``horizontal``) or top-bottom."""
    height, width = size_hw
    if horizontal:
        return np.array([[-1, 0, width], [0, 1, 0], [0, 0, 1]], np.float64)
    return np.array([[1, 0, 0], [0, -1, height], [0, 0, 1]], np.float64)


def quarter_turn_matrix(size_hw: Sequence[int], k: int) -> np.ndarray:
    """``k`` counter-clockwise quarter turns (``numpy.rot90``) of an image of ``size_hw``.

    >>> quarter_turn_matrix((2, 3), 1) @ np.array([3.0, 0.0, 1.0])  # top-right corner -> top-left
    array([0., 0., 1.])
    """
    height, width = size_hw
    return {
        0: np.eye(3),
        1: np.array([[0, 1, 0], [-1, 0, width], [0, 0, 1]], np.float64),
        2: np.array([[-1, 0, width], [0, -1, height], [0, 0, 1]], np.float64),
        3: np.array([[0, -1, height], [1, 0, 0], [0, 0, 1]], np.float64),
    }[int(k) % 4]


def crop_matrix(
    top: float, left: float, height: float, width: float, out_hw: Sequence[int] | None = None
) -> np.ndarray:
    """The window ``(top, left, height, width)`` moved to the origin and scaled to ``out_hw``."""
    sy = 1.0 if out_hw is None else out_hw[0] / height
    sx = 1.0 if out_hw is None else out_hw[1] / width
    return np.array([[sx, 0, -left * sx], [0, sy, -top * sy], [0, 0, 1]], np.float64)


def affine_forward(inverse: Sequence[float]) -> np.ndarray:
    """The forward map of Pillow's 6 affine coefficients (output -> input pixels, sampled at
    pixel centres, so they act on continuous coordinates)."""
    a, b, c, d, e, f = (float(v) for v in inverse)
    return np.linalg.inv(np.array([[a, b, c], [d, e, f], [0, 0, 1]], np.float64))


def perspective_forward(coefficients: Sequence[float]) -> np.ndarray:
    """The forward map of Pillow's 8 perspective coefficients (output -> input pixels)."""
    a, b, c, d, e, f, g, h = (float(v) for v in coefficients)
    return np.linalg.inv(np.array([[a, b, c], [d, e, f], [g, h, 1]], np.float64))


def map_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``N x 2`` points ``(x, y)`` through the ``3 x 3`` map, as float32."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    out = pts @ matrix[:2, :2].T + matrix[:2, 2]
    w = pts @ matrix[2, :2] + matrix[2, 2]
    if not np.all(w == 1.0):
        out = out / np.where(np.abs(w) < 1e-12, 1e-12, w)[:, None]
    return out.astype(np.float32)


def map_boxes(boxes: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``N x 4`` xyxy boxes -> the enclosing boxes of their four mapped corners (not clipped)."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    corners = b[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)
    mapped = map_points(corners, matrix).reshape(-1, 4, 2)
    return np.concatenate([mapped.min(axis=1), mapped.max(axis=1)], axis=1).astype(np.float32)


def clip_boxes(boxes: np.ndarray, size_hw: Sequence[int]) -> np.ndarray:
    """Boxes clipped to an image of ``size_hw`` (``[0, width] x [0, height]``)."""
    height, width = size_hw
    limit = np.array([width, height, width, height], np.float32)
    return np.clip(boxes, 0, limit).astype(np.float32)


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """Areas of xyxy boxes (0 for inverted ones)."""
    wh = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None)
    return (wh[:, 0] * wh[:, 1]).astype(np.float64)


def map_keypoints(keypoints: np.ndarray, matrix: np.ndarray, size_hw: Sequence[int]) -> np.ndarray:
    """``N x K x 3`` keypoints ``(x, y, v)`` mapped; those outside the image get ``v = 0``.

    >>> kp = np.array([[[1, 1, 2], [9, 1, 2]]], np.float32)
    >>> map_keypoints(kp, crop_matrix(0, 4, 4, 4), (4, 4)).tolist()
    [[[-3.0, 1.0, 0.0], [5.0, 1.0, 0.0]]]
    """
    kp = np.array(keypoints, np.float32, copy=True)
    if kp.size == 0:
        return kp
    xy = map_points(kp[..., :2].reshape(-1, 2), matrix).reshape(kp.shape[:-1] + (2,))
    height, width = size_hw
    inside = (xy[..., 0] >= 0) & (xy[..., 0] <= width) & (xy[..., 1] >= 0) & (xy[..., 1] <= height)
    kp[..., :2] = xy
    kp[..., 2] = np.where(inside, kp[..., 2], 0.0)
    return kp


def pack_masks(masks: np.ndarray | None, mask: np.ndarray | None) -> list[np.ndarray]:
    """Instance masks (``N x H x W``, 0/1) and a semantic mask (``H x W``) as ``H x W x 3`` uint8
    images: eight instance masks to a byte, the semantic mask in a plane of its own.

    Nearest-neighbour warps copy bytes, so warping these images and unpacking them
    (:func:`unpack_masks`) warps every mask exactly as warping each one would.
    """
    planes = []
    if masks is not None and len(masks):
        masks = np.asarray(masks)
        bit = np.empty(masks.shape[1:], bool)
        for start in range(0, len(masks), 8):  # bit b of plane p: mask 8 p + b
            plane = np.not_equal(masks[start], 0, out=bit).astype(np.uint8)
            weighted = np.empty_like(plane)
            for b, m in enumerate(masks[start + 1 : start + 8], start=1):
                # multiply by a uint8 power of two: 50x faster than a shift by a Python int
                np.multiply(
                    np.not_equal(m, 0, out=bit).view(np.uint8), np.uint8(1 << b), out=weighted
                )
                np.bitwise_or(plane, weighted, out=plane)
            planes.append(plane)
    if mask is not None:
        planes.append(np.asarray(mask, np.uint8))
    images = []
    for i in range(0, len(planes), 3):
        image = np.zeros((*planes[0].shape, 3), np.uint8)
        for c, plane in enumerate(planes[i : i + 3]):
            image[..., c] = plane
        images.append(image)
    return images


def unpack_masks(
    images: Sequence[np.ndarray], n: int | None, semantic: bool
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The inverse of :func:`pack_masks` for ``n`` instance masks (None: none) and a semantic mask."""
    if not images:
        return (None if n is None else np.zeros((0, 0, 0), np.uint8)), None
    shape = images[0].shape[:2]
    n_bytes = 0 if not n else (n + 7) // 8

    def plane(p: int) -> np.ndarray:  # one contiguous copy of the plane, then fast byte ops
        return np.ascontiguousarray(images[p // 3][..., p % 3])

    masks = None
    if n is not None:
        masks = np.empty((n, *shape), np.uint8)
        bit = np.empty(shape, bool)
        for p in range(n_bytes):
            packed = plane(p)
            for k in range(8 * p, min(n, 8 * p + 8)):
                np.bitwise_and(packed, np.uint8(1 << (k % 8)), out=masks[k])
                masks[k] = np.not_equal(masks[k], 0, out=bit)
    mask = plane(n_bytes) if semantic else None
    return masks, mask


def warp_masks(
    masks: np.ndarray | None,
    mask: np.ndarray | None,
    warp: Callable[[np.ndarray], np.ndarray],
    out_hw: Sequence[int],
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Instance and semantic masks through ``warp`` (an image kernel set to nearest, fill 0),
    giving masks of ``out_hw``.

    >>> masks = np.zeros((2, 2, 3), np.uint8); masks[0, 0, 0] = masks[1, 1, 2] = 1
    >>> out, _ = warp_masks(masks, None, lambda img: img[:, ::-1], (2, 3))
    >>> out[0].tolist(), out[1].tolist()
    ([[0, 0, 1], [0, 0, 0]], [[0, 0, 0], [1, 0, 0]])
    """
    images = [np.asarray(warp(img)) for img in pack_masks(masks, mask)]
    if not images:
        return (None if masks is None else np.zeros((0, *out_hw), np.uint8)), None
    return unpack_masks(images, None if masks is None else len(masks), mask is not None)


def sanitize(targets: Targets, size_hw: Sequence[int], fmt: TargetFormat | None = None) -> Targets:
    """Clip the (mapped) boxes of ``targets`` to ``size_hw`` and drop the instances that
    ``fmt``'s ``min_area`` / ``min_visibility`` (or a zero size) rule out, every part aligned.

    ``min_visibility`` compares the clipped box with the mapped, unclipped one (the share of
    the box the op kept, whatever it scaled), as albumentations does.

    >>> t = Targets.from_boxes([[-5, 0, 5, 10], [0, 0, 0, 4]], [1, 2])
    >>> kept = sanitize(t, (8, 8), TargetFormat(min_visibility=0.4))
    >>> kept.boxes.tolist(), kept.labels.tolist()
    ([[0.0, 0.0, 5.0, 8.0]], [1])
    """
    fmt = TargetFormat() if fmt is None else fmt
    raw = targets.boxes
    clipped = clip_boxes(raw, size_hw)
    area = box_areas(clipped)
    keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    if fmt.min_area > 0:
        keep &= area >= fmt.min_area
    if fmt.min_visibility > 0:
        keep &= area >= fmt.min_visibility * box_areas(raw)
    moved = targets.replace(boxes=clipped)
    return moved if keep.all() else moved.select(keep)


def check_mask_size(name: str, targets: Targets, size_hw: Sequence[int]) -> None:
    """ValueError naming ``name`` when the masks of ``targets`` are not of the image's size."""
    for part in (targets.masks, targets.mask):
        if part is not None and np.ndim(part) >= 2 and tuple(part.shape[-2:]) != tuple(size_hw):
            raise ValueError(
                f"{name}: masks of size {tuple(part.shape[-2:])} on an image of {tuple(size_hw)}; "
                "masks must have the image's height and width"
            )


def move_targets(
    targets: Targets,
    matrix: np.ndarray,
    size_out: Sequence[int],
    warp: Callable[[np.ndarray], np.ndarray],
    fmt: TargetFormat | None = None,
    *,
    mirrors: bool = False,
    name: str = "op",
    planes: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Targets:
    """``targets`` moved by the point map ``matrix`` onto an image of ``size_out``, their masks
    by ``warp`` (the image kernel at nearest, fill 0), then :func:`sanitize`-d.

    ``mirrors``: the map is a mirror, so keypoints named in ``fmt.flip_pairs`` trade places.
    ``planes``: for ops that move whole pixels (flips, quarter turns, crops), the same move on
    arrays whose last two axes are rows and columns, used on the masks instead of ``warp``.
    """
    fmt = TargetFormat() if fmt is None else fmt
    size_out = (int(size_out[0]), int(size_out[1]))
    keypoints = targets.keypoints
    if keypoints is not None:
        keypoints = map_keypoints(keypoints, matrix, size_out)
        if mirrors and fmt.flip_pairs:
            if keypoints.shape[1] != len(fmt.keypoint_names):
                raise ValueError(
                    f"{name}: {keypoints.shape[1]} keypoints per instance but "
                    f"{len(fmt.keypoint_names)} keypoint_names to swap flip_pairs by"
                )
            keypoints = keypoints[:, fmt.flip_permutation()]
    if planes is not None:  # the op only moves whole pixels: straight on the mask arrays
        masks, mask = (None if m is None else np.ascontiguousarray(planes(m))
                       for m in (targets.masks, targets.mask))  # fmt: skip
    else:
        masks, mask = warp_masks(targets.masks, targets.mask, warp, size_out)
    moved = targets.replace(
        boxes=map_boxes(targets.boxes, matrix), keypoints=keypoints, masks=masks, mask=mask
    )
    return sanitize(moved, size_out, fmt)


def resize_geometry(
    source_hw: Sequence[int], target_size: Sequence[int], resize: str
) -> tuple[np.ndarray, tuple[int, int], tuple[float, float, float, float], tuple[int, int]]:
    """The geometry of ``read_images``' resize of an upright ``source_hw`` image to
    ``target_size = (width, height)``, as a point map (from
    :func:`~genlab.ops.resize_geometry.resize_mapping`, the decoder's own geometry).

    Returns the point map, the output ``(height, width)``, the source box ``(left, top, right,
    bottom)`` that is resized and the ``(width, height)`` it is resized to (placed at the
    centre of the output when ``resize="pad"``).

    >>> m, out_hw, box, inner = resize_geometry((100, 200), (50, 50), "pad")
    >>> out_hw, box, inner, map_points([[0, 0], [200, 100]], m).tolist()
    ((50, 50), (0.0, 0.0, 200.0, 100.0), (50, 25), [[0.0, 12.0], [50.0, 37.0]])
    """
    height, width = (int(v) for v in source_hw)
    tw, th = (int(v) for v in target_size)
    m = resize_mapping((height, width), (th, tw), resize)  # the decoder's own geometry
    inner, box = resize_source_box((width, height), (tw, th), resize)
    matrix = np.array(
        [[m.scale_x, 0, m.offset_x], [0, m.scale_y, m.offset_y], [0, 0, 1]], np.float64
    )
    return matrix, (th, tw), tuple(float(v) for v in box), (int(inner[0]), int(inner[1]))


def resize_nearest(
    img: np.ndarray, source_hw: Sequence[int], target_size: Sequence[int], resize: str
) -> np.ndarray:
    """``read_images``' resize of an ``H x W x 3`` uint8 image with nearest sampling, fill 0
    (how masks follow it)."""
    from PIL import Image

    _, (th, tw), box, inner = resize_geometry(source_hw, target_size, resize)
    out = np.asarray(Image.fromarray(img).resize(inner, Image.Resampling.NEAREST, box=box))
    if inner == (tw, th):
        return out
    canvas = np.zeros((th, tw, img.shape[2]), np.uint8)
    top, left = (th - inner[1]) // 2, (tw - inner[0]) // 2
    canvas[top : top + inner[1], left : left + inner[0]] = out
    return canvas


def crop_planes(planes: np.ndarray, top: int, left: int, size_hw: Sequence[int]) -> np.ndarray:
    """The ``size_hw`` window at ``(top, left)`` of arrays whose last two axes are rows and
    columns (masks), 0 outside them: :func:`genlab.ops.geometry.crop_or_pad` for masks.

    >>> crop_planes(np.ones((1, 2, 2), np.uint8), -1, 0, (3, 2))[0].tolist()
    [[0, 0], [1, 1], [1, 1]]
    """
    out_h, out_w = (int(v) for v in size_hw)
    height, width = planes.shape[-2:]
    if top >= 0 and left >= 0 and top + out_h <= height and left + out_w <= width:
        return planes[..., top : top + out_h, left : left + out_w]
    out = np.zeros((*planes.shape[:-2], out_h, out_w), planes.dtype)
    src_top, src_left = max(top, 0), max(left, 0)
    src_bottom, src_right = min(top + out_h, height), min(left + out_w, width)
    if src_bottom > src_top and src_right > src_left:
        out[..., src_top - top : src_bottom - top, src_left - left : src_right - left] = planes[
            ..., src_top:src_bottom, src_left:src_right
        ]
    return out
