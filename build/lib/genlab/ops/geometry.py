"""Pure geometric operations on uint8 ``H x W x 3`` images (no randomness here).

Sizes follow NumPy (``height, width``) unless a name says otherwise; boxes are
``(top, left, height, width)`` in input pixels, as torchvision's crop parameters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

__all__ = [
    "RESAMPLE",
    "copy_view",
    "flip",
    "quarter_turns",
    "crop_resize",
    "crop_or_pad",
    "inverse_affine_matrix",
    "affine",
    "affine_by",
    "rotate",
    "perspective_coefficients",
    "perspective",
]

#: Resampling filters by name (the names ``read_images`` uses too).
RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}


def _pil(img: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(img))


def _per_channel(img: np.ndarray, view) -> np.ndarray:
    """A new image holding ``view(plane)`` of every channel plane (a reversed or turned view).

    NumPy copies a reversed or turned view of a whole ``H x W x 3`` image slowly (3-byte
    pixels defeat its strided loops: ~450 us at 224 px); plane by plane the copies are 1-byte
    strided loops, faster than Pillow's round trip (fromarray, transpose, asarray): about
    95 against 150 us for a mirror, 70 against 120-170 us for a quarter turn, at 224 px.
    """
    first = view(img[..., 0])
    out = np.empty((*first.shape, img.shape[2]), dtype=img.dtype)
    for c in range(img.shape[2]):
        out[..., c] = view(img[..., c])
    return out


def copy_view(dest: np.ndarray, view: np.ndarray) -> None:
    """Write ``view`` (an ``H x W x C`` image, any strides: mirrored, turned) into ``dest``,
    plane by plane when it is not contiguous (see :func:`_per_channel`), else at memcpy speed.

    >>> img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    >>> dest = np.empty((3, 2, 3), dtype=np.uint8)
    >>> copy_view(dest, np.rot90(img[:, ::-1]))
    >>> bool((dest == quarter_turns(flip(img), 1)).all())
    True
    """
    if view.flags.c_contiguous or view.ndim != 3:
        np.copyto(dest, view)
        return
    for c in range(view.shape[2]):
        dest[..., c] = view[..., c]


def flip(img: np.ndarray, horizontal: bool = True) -> np.ndarray:
    """Mirror left-right (``horizontal``) or top-bottom.

    >>> img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    >>> bool((flip(img) == img[:, ::-1]).all()), bool((flip(img, False) == img[::-1]).all())
    (True, True)
    """
    if horizontal:
        return _per_channel(img, lambda plane: plane[:, ::-1])
    return np.ascontiguousarray(img[::-1])  # whole rows: copied at memcpy speed


def quarter_turns(img: np.ndarray, k: int) -> np.ndarray:
    """Rotate counter-clockwise by ``k`` quarter turns.

    >>> img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    >>> bool((quarter_turns(img, 1) == np.rot90(img)).all()), quarter_turns(img, 3).shape
    (True, (3, 2, 3))
    """
    k %= 4
    return img if k == 0 else _per_channel(img, lambda plane: np.rot90(plane, k))


def crop_resize(
    img: np.ndarray, box: Sequence[int], size_hw: Sequence[int], resample: str = "bilinear"
) -> np.ndarray:
    """Cut ``box = (top, left, height, width)`` and resize it to ``size_hw``.

    >>> img = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    >>> crop_resize(img, (1, 1, 2, 2), (2, 2)).tolist() == img[1:3, 1:3].tolist()
    True
    """
    top, left, height, width = (int(v) for v in box)
    out_h, out_w = (int(v) for v in size_hw)
    if (height, width) == (out_h, out_w):
        return img[top : top + height, left : left + width]
    pil_box = (left, top, left + width, top + height)
    return np.asarray(_pil(img).resize((out_w, out_h), RESAMPLE[resample], box=pil_box))


def crop_or_pad(
    img: np.ndarray, top: int, left: int, size_hw: Sequence[int], fill: Sequence[float] = (0, 0, 0)
) -> np.ndarray:
    """The ``size_hw`` window whose corner is at ``(top, left)``; outside the image is ``fill``.

    ``top`` and ``left`` may be negative (the window starts above or left of the image), as
    in a padded crop.

    >>> img = np.full((2, 2, 3), 9, np.uint8)
    >>> crop_or_pad(img, -1, -1, (4, 4))[:, :, 0].tolist()
    [[0, 0, 0, 0], [0, 9, 9, 0], [0, 9, 9, 0], [0, 0, 0, 0]]
    """
    out_h, out_w = (int(v) for v in size_hw)
    height, width = img.shape[:2]
    if top >= 0 and left >= 0 and top + out_h <= height and left + out_w <= width:
        return img[top : top + out_h, left : left + out_w]
    out = np.empty((out_h, out_w, img.shape[2]), dtype=img.dtype)
    out[...] = np.clip(np.rint(fill), 0, 255).astype(img.dtype)
    src_top, src_left = max(top, 0), max(left, 0)
    src_bottom, src_right = min(top + out_h, height), min(left + out_w, width)
    if src_bottom > src_top and src_right > src_left:
        out[src_top - top : src_bottom - top, src_left - left : src_right - left] = img[
            src_top:src_bottom, src_left:src_right
        ]
    return out


def _warp(img, method: Image.Transform, data: Sequence[float], resample: str, fill) -> np.ndarray:
    """Pillow's ``transform`` keeping the size: output pixel -> input pixel by ``data``."""
    colour = tuple(int(v) for v in np.clip(np.rint(fill), 0, 255))
    size = (img.shape[1], img.shape[0])
    out = _pil(img).transform(size, method, tuple(data), RESAMPLE[resample], fillcolor=colour)
    return np.asarray(out)


def inverse_affine_matrix(
    center: Sequence[float],
    angle: float,
    translate: Sequence[float] = (0.0, 0.0),
    scale: float = 1.0,
    shear: Sequence[float] = (0.0, 0.0),
) -> list[float]:
    """The 6 coefficients mapping output pixels to input pixels, as torchvision computes them.

    The forward transform is ``T * C * R(angle) * S(scale) * SHy(shear_y) * SHx(shear_x) * C^-1``
    (torchvision's ``_get_inverse_affine_matrix``, the matrix its Pillow back end hands to
    ``Image.transform``): rotation by ``angle`` degrees clockwise on screen, about ``center``
    ``(x, y)``; ``translate`` ``(tx, ty)`` in pixels; shears in degrees.

    >>> [round(v, 6) + 0.0 for v in inverse_affine_matrix((2, 2), 0.0, (1, 0))]
    [1.0, 0.0, -1.0, 0.0, 1.0, 0.0]
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [v / scale for v in (d, -b, 0.0, -c, a, 0.0)]  # the inverse of [[a, b], [c, d]] (det 1)
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def affine(
    img: np.ndarray,
    matrix: Sequence[float],
    resample: str = "nearest",
    fill: Sequence[float] = (0, 0, 0),
) -> np.ndarray:
    """Warp by the inverse affine ``matrix`` (output -> input pixels); uncovered pixels are ``fill``."""
    return _warp(img, Image.Transform.AFFINE, matrix, resample, fill)


def affine_by(
    img: np.ndarray,
    angle: float = 0.0,
    translate: Sequence[float] = (0.0, 0.0),
    scale: float = 1.0,
    shear: Sequence[float] = (0.0, 0.0),
    center: Sequence[float] | None = None,
    resample: str = "nearest",
    fill: Sequence[float] = (0, 0, 0),
) -> np.ndarray:
    """torchvision's ``affine(img, angle, translate, scale, shear)``, same size out.

    ``center`` is the ``(x, y)`` pixel the image turns and shears about (default: the
    middle, ``(width / 2, height / 2)``).

    >>> img = np.zeros((3, 3, 3), np.uint8); img[1, 1] = 200
    >>> int(affine_by(img, translate=(1, 0))[1, 2, 0])
    200
    """
    height, width = img.shape[:2]
    if center is None:
        center = (width * 0.5, height * 0.5)
    return affine(
        img, inverse_affine_matrix(center, angle, translate, scale, shear), resample, fill
    )


def rotate(
    img: np.ndarray, angle: float, resample: str = "nearest", fill: Sequence[float] = (0, 0, 0)
) -> np.ndarray:
    """Turn ``angle`` degrees counter-clockwise about the middle, keeping the size."""
    colour = tuple(int(v) for v in np.clip(np.rint(fill), 0, 255))
    return np.asarray(_pil(img).rotate(angle, RESAMPLE[resample], fillcolor=colour))


def perspective_coefficients(
    startpoints: Sequence[Sequence[float]], endpoints: Sequence[Sequence[float]]
) -> list[float]:
    """The 8 coefficients mapping the ``endpoints`` quadrilateral back onto ``startpoints``.

    Output pixel ``(x, y)`` samples the input at ``((a x + b y + c) / (g x + h y + 1),
    (d x + e y + f) / (g x + h y + 1))``: torchvision's ``_get_perspective_coeffs``
    (solved in double precision, kept in single precision as torchvision does).

    >>> corners = [[0, 0], [9, 0], [9, 9], [0, 9]]
    >>> [round(v, 6) + 0.0 for v in perspective_coefficients(corners, corners)]
    [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    """
    rows = []
    for (x, y), (u, v) in zip(endpoints, startpoints):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    target = np.asarray(startpoints, np.float64).ravel()
    solution = np.linalg.lstsq(np.asarray(rows, np.float64), target, rcond=None)[0]
    return [float(v) for v in solution.astype(np.float32)]


def perspective(
    img: np.ndarray,
    coefficients: Sequence[float],
    resample: str = "bilinear",
    fill: Sequence[float] = (0, 0, 0),
) -> np.ndarray:
    """Warp by the perspective ``coefficients`` (output -> input); uncovered pixels are ``fill``."""
    return _warp(img, Image.Transform.PERSPECTIVE, coefficients, resample, fill)
