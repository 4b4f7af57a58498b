"""The libjpeg-turbo decode path: JPEGs decoded at the smallest M/8 scale the output needs.

:mod:`genlab.ops.jpeg` reads the markers and calls libjpeg-turbo; this module decides the scale
for a whole-image resize (:func:`decode_turbo_path`) or a crop (:func:`crop_turbo_path`) and
renders the result with the same pixel conversion as the Pillow path. Each returns the source
(read into bytes once, for Pillow to reuse) and the array, or None in its place when the file is
not one libjpeg-turbo decodes exactly as Pillow would: the caller then decodes with Pillow,
which applies the error policy.
"""

from __future__ import annotations

import math
import os

import numpy as np

from . import jpeg  # called as jpeg.<name>, so tests can watch what it is asked
from .pixels import ORIENTATION_TRANSPOSE, render, resize_region
from .read_errors import ImageSource
from .resize_geometry import check_crop_inside, draft_request, stored_frame

__all__ = ["crop_turbo_path", "decode_turbo_path", "read_source_bytes"]


def read_source_bytes(source: ImageSource) -> ImageSource:
    """The encoded bytes of ``source``; a path that cannot be opened is returned as is."""
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as f:
                return f.read()
        except OSError:
            return source  # Pillow reports the missing file, the directory...
    if not isinstance(source, (bytes, bytearray, memoryview)):
        return source.read()
    return source


def _turbo_header(
    source: ImageSource, max_pixels: int | None
) -> tuple[ImageSource, jpeg.JpegHeader | None]:
    """The source's bytes and its JPEG header, or None for a file the fast path leaves to Pillow."""
    source = read_source_bytes(source)
    header = (
        jpeg.jpeg_header(source) if isinstance(source, (bytes, bytearray, memoryview)) else None
    )
    if header is None or not header.turbo_ready:
        return source, None
    if max_pixels is not None and header.width * header.height > max_pixels:
        return source, None  # Pillow refuses it from the header, with its message
    return source, header


def decode_turbo_path(
    source: ImageSource,
    name: str | None,
    size: tuple[int, int] | None,
    resize: str,
    resample: str,
    draft: bool,
    max_pixels: int | None,
    backend: str = "pillow",
) -> tuple[ImageSource, np.ndarray | None]:
    """The libjpeg-turbo path of ``decode_image``: ``(source, array)``, or ``(source, None)``."""
    source, header = _turbo_header(source, max_pixels)
    if header is None:
        return source, None
    original_size = (header.width, header.height)
    orientation = header.orientation
    need = None
    if draft and size is not None:
        need = draft_request(original_size, stored_frame(size, orientation), resize)
    decoded = jpeg.decode_turbo(source, header, need)
    if decoded is None:
        return source, None
    box = (0.0, 0.0, float(decoded.shape[1]), float(decoded.shape[0]))
    img = jpeg.as_image(decoded)
    arr = render(img, name, original_size, box, orientation, size, resize, resample, backend)
    arr.flags.writeable = False
    return source, arr


def crop_turbo_path(
    source: ImageSource,
    name: str | None,
    box: tuple[float, float, float, float],
    size: tuple[int, int],
    resample: str,
    max_pixels: int | None,
    limit: tuple[int, int] | None = None,
) -> tuple[ImageSource, np.ndarray | None]:
    """The libjpeg-turbo path of ``decode_crop``; None in place of the array for Pillow."""
    source, header = _turbo_header(source, max_pixels)
    if header is None:
        return source, None
    orientation = header.orientation
    upright = stored_frame((header.width, header.height), orientation)
    top, left, height, width = box
    check_crop_inside(box, upright, name)
    # the smallest decode at which the box keeps `size` pixels, in the stored frame
    need = (math.ceil(upright[0] * size[0] / width), math.ceil(upright[1] * size[1] / height))
    if limit is not None:  # no finer, per side, than a decode for a resize to `limit`
        need = (min(need[0], limit[0]), min(need[1], limit[1]))
    decoded = jpeg.decode_turbo(source, header, stored_frame(need, orientation))
    if decoded is None:
        return source, None
    img = jpeg.as_image(decoded)
    if orientation in ORIENTATION_TRANSPOSE:
        img = img.transpose(ORIENTATION_TRANSPOSE[orientation])
    fx, fy = img.width / upright[0], img.height / upright[1]
    scaled_box = (left * fx, top * fy, (left + width) * fx, (top + height) * fy)
    return source, resize_region(img, scaled_box, size, resample)
