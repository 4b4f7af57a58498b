"""The geometry of resizing: output sizes, source boxes, crops and padding, as pure functions.

Nothing here touches pixels. Sizes passed to ``read_images`` follow Pillow's ``(width, height)``;
:func:`resize_mapping` speaks ``(height, width)`` like :mod:`genlab.targets` and says which axis
each number belongs to by name.

Coordinates are continuous pixel edges: ``x = 0`` is the left edge of the first column and
``x = width`` the right edge of the last, as boxes in :mod:`genlab.targets`, torchvision and Pillow's
``resize(box=...)`` use them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "RESIZE_POLICIES",
    "SWAPS_AXES",
    "ResizeMapping",
    "check_crop_box",
    "check_crop_inside",
    "crop_in_source",
    "draft_request",
    "is_int",
    "normalise_target_size",
    "pad_inner_size",
    "pad_offset",
    "resize_mapping",
    "resize_source_box",
    "stored_frame",
]

#: ``read_images``' ``resize`` policies.
RESIZE_POLICIES = ("stretch", "center_crop", "pad")

#: EXIF orientations whose upright image swaps width and height.
SWAPS_AXES = frozenset({5, 6, 7, 8})


def is_int(value: object) -> bool:
    """True for Python and numpy integers, False for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: object) -> bool:
    return is_int(value) or (isinstance(value, (float, np.floating)) and math.isfinite(value))


def normalise_target_size(target_size: object) -> tuple[int, int] | None:
    """``target_size`` as a ``(width, height)`` tuple of ints, or None; ValueError otherwise.

    Examples
    --------
    >>> normalise_target_size([224, 160])
    (224, 160)
    """
    if target_size is None:
        return None
    try:
        width, height = target_size  # type: ignore[misc]
    except (TypeError, ValueError):
        width = height = None
    if not (is_int(width) and is_int(height) and width > 0 and height > 0):
        raise ValueError(
            "target_size must be None or a (width, height) pair of positive ints, "
            f"got {target_size!r}"
        )
    return int(width), int(height)


def stored_frame(size: tuple[int, int], orientation: int | None) -> tuple[int, int]:
    """A ``(width, height)`` of the upright image in the stored (not yet upright) frame."""
    return (size[1], size[0]) if orientation in SWAPS_AXES else size


def _fit_scale(source: tuple[int, int], target: tuple[int, int], resize: str) -> float:
    """Scale factor from source to output: cover the target for crop, fit inside for pad."""
    sx, sy = target[0] / source[0], target[1] / source[1]
    return max(sx, sy) if resize == "center_crop" else min(sx, sy)


def pad_inner_size(source: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The ``(width, height)`` the image is resized to inside a ``"pad"`` target."""
    scale = _fit_scale(source, target, "pad")
    return (
        min(target[0], max(1, round(source[0] * scale))),
        min(target[1], max(1, round(source[1] * scale))),
    )


def pad_offset(inner: int, target: int) -> int:
    """Where a resized side of length ``inner`` starts inside a padded side of ``target``."""
    return (target - inner) // 2


def draft_request(source: tuple[int, int], target: tuple[int, int], resize: str) -> tuple[int, int]:
    """The smallest decode size that still gives ``target`` full resolution after resizing."""
    if resize == "stretch":
        return target
    if resize == "pad":
        return pad_inner_size(source, target)
    scale = _fit_scale(source, target, "center_crop")
    return math.ceil(source[0] * scale), math.ceil(source[1] * scale)


def resize_source_box(
    source: tuple[int, int], target: tuple[int, int], resize: str
) -> tuple[tuple[int, int], tuple[float, float, float, float]]:
    """Output size and source box (in original pixel units) for Pillow's ``Image.resize``.

    Sizes are ``(width, height)``; the box is Pillow's ``(left, top, right, bottom)``.
    """
    width, height = source
    if resize == "stretch":
        return target, (0.0, 0.0, float(width), float(height))
    if resize == "pad":
        return pad_inner_size(source, target), (0.0, 0.0, float(width), float(height))
    scale = _fit_scale(source, target, "center_crop")
    crop_w, crop_h = min(width, target[0] / scale), min(height, target[1] / scale)
    left, top = (width - crop_w) / 2, (height - crop_h) / 2  # never negative (rounding)
    return target, (left, top, left + crop_w, top + crop_h)


@dataclass(frozen=True)
class ResizeMapping:
    """Where ``read_images``' resize puts each point: ``out = in * scale + offset`` per axis.

    Coordinates are continuous pixel edges in the upright image (see the module docstring);
    a point mapped outside ``0 <= y <= output_height``, ``0 <= x <= output_width`` was cropped
    away. Padding shows as a positive offset, a centre crop as a negative one.
    """

    scale_y: float
    scale_x: float
    offset_y: float
    offset_x: float
    output_height: int
    output_width: int


def resize_mapping(
    image_size: tuple[int, int], output_size: tuple[int, int], resize: str
) -> ResizeMapping:
    """The affine map of ``read_images``' resize from the original image to its output.

    Parameters
    ----------
    image_size : (int, int)
        ``(height, width)`` of the original, upright image.
    output_size : (int, int)
        ``(height, width)`` of the output: ``read_images``' ``target_size`` reversed (it is
        Pillow's ``(width, height)``).
    resize : {"stretch", "center_crop", "pad"}
        ``read_images``' resize policy.

    Returns
    -------
    ResizeMapping
        Scale and offset per axis: ``y_out = y * scale_y + offset_y``, same for ``x``.

    Examples
    --------
    >>> resize_mapping((375, 500), (224, 224), "stretch")
    ResizeMapping(scale_y=0.5973333333333334, scale_x=0.448, offset_y=0.0, offset_x=0.0, output_height=224, output_width=224)
    >>> m = resize_mapping((100, 200), (50, 50), "center_crop")
    >>> m.scale_x, m.offset_x, m.offset_y
    (0.5, -25.0, 0.0)
    >>> m = resize_mapping((100, 200), (50, 50), "pad")
    >>> m.scale_y, m.offset_y, m.offset_x
    (0.25, 12.0, 0.0)
    """
    if resize not in RESIZE_POLICIES:
        raise ValueError(f"resize must be one of {RESIZE_POLICIES}, got {resize!r}")
    for name, value in (("image_size", image_size), ("output_size", output_size)):
        if not (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(is_int(v) and v > 0 for v in value)
        ):
            raise ValueError(
                f"{name} must be a (height, width) pair of positive ints, got {value!r}"
            )
    (height, width), (out_h, out_w) = image_size, output_size
    inner, (left, top, right, bottom) = resize_source_box((width, height), (out_w, out_h), resize)
    scale_x, scale_y = inner[0] / (right - left), inner[1] / (bottom - top)
    offset_x, offset_y = 0.0 - left * scale_x, 0.0 - top * scale_y
    if resize == "pad":
        offset_x, offset_y = float(pad_offset(inner[0], out_w)), float(pad_offset(inner[1], out_h))
    return ResizeMapping(scale_y, scale_x, offset_y, offset_x, int(out_h), int(out_w))


def check_crop_box(box: object) -> tuple[float, float, float, float]:
    """``box`` as ``(top, left, height, width)`` numbers, ints kept as ints; ValueError otherwise."""
    try:
        top, left, height, width = box  # type: ignore[misc]
    except (TypeError, ValueError):
        top = None
    values = (top, left, height, width) if top is not None else ()
    if not (values and all(_is_number(v) for v in values) and top >= 0 and left >= 0
            and height > 0 and width > 0):  # fmt: skip
        raise ValueError(
            f"box must be (top, left, height, width) numbers inside the image, got {box!r}"
        )
    return tuple(int(v) if is_int(v) else float(v) for v in values)  # type: ignore[return-value]


def check_crop_inside(box: tuple[float, ...], full: tuple[int, int], name: str | None) -> None:
    """ValueError unless the ``(top, left, height, width)`` box lies inside a ``(width, height)``."""
    top, left, height, width = box
    if left + width > full[0] or top + height > full[1]:
        raise ValueError(
            f"box (top={top}, left={left}, height={height}, width={width}) is outside the "
            f"{full[0]}x{full[1]} image {name!r}"
        )


def crop_in_source(
    box: tuple[int, int, int, int], full: tuple[int, int], target_size: tuple[int, int], resize: str
) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """Where a crop of :func:`~genlab.ops.decode.decode_image`'s output lies in the whole image.

    For :func:`~genlab.ops.decode.decode_crop`.

    Parameters
    ----------
    box : (int, int, int, int)
        ``(top, left, height, width)`` in pixels of ``decode_image(..., target_size, resize=resize)``.
    full : (int, int)
        The upright ``(width, height)`` of the whole image
        (:func:`~genlab.ops.decode.image_size`).
    target_size : (int, int)
        ``decode_image``'s output ``(width, height)``.
    resize : {"stretch", "center_crop"}
        Its resize policy (a padded output has no source pixels under its padding).

    Returns
    -------
    box : (float, float, float, float)
        ``(top, left, height, width)`` in pixels of the whole upright image.
    limit : (int, int)
        The decode size ``decode_image`` asks for: pass it as ``decode_crop(limit=...)`` so the
        crop gets no more detail than a crop of the resized image had.

    Examples
    --------
    >>> crop_in_source((0, 56, 112, 112), (448, 448), (224, 224), "stretch")
    ((0.0, 112.0, 224.0, 224.0), (224, 224))
    >>> [round(v, 6) for v in crop_in_source((0, 0, 224, 224), (400, 200), (224, 224), "center_crop")[0]]
    [0.0, 100.0, 200.0, 200.0]
    """
    if resize not in ("stretch", "center_crop"):
        raise ValueError(
            f"resize must be 'stretch' or 'center_crop' to map a crop to the source, got {resize!r}"
        )
    _, (x0, y0, x1, y1) = resize_source_box(full, target_size, resize)
    sx, sy = (x1 - x0) / target_size[0], (y1 - y0) / target_size[1]
    top, left, height, width = box
    src_top, src_left = y0 + top * sy, x0 + left * sx
    # clamp the far edges: float rounding must not put them a hair outside the image
    src_height = min(y0 + (top + height) * sy, float(full[1])) - src_top
    src_width = min(x0 + (left + width) * sx, float(full[0])) - src_left
    return (src_top, src_left, src_height, src_width), draft_request(full, target_size, resize)
