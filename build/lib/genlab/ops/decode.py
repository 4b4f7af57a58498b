"""Decode image files into uint8 RGB arrays: the public entry points and their parameters.

Pure functions used by the ``read_images`` stage and the validation pass. ``target_size``
follows Pillow's convention ``(width, height)``; the returned array is ``height x width x 3``.

This module picks the path and checks the parameters; each job lives in a module named for it:

- :mod:`genlab.ops.pillow_decode`: the Pillow path (open, bomb check, draft, load, EXIF),
  :func:`image_size`, :func:`verify_image`;
- :mod:`genlab.ops.turbo_decode` with :mod:`genlab.ops.jpeg`: the libjpeg-turbo path;
- :mod:`genlab.ops.resize_geometry`: sizes, crop boxes, padding, :func:`crop_in_source` and
  :func:`~genlab.ops.resize_geometry.resize_mapping` (where the resize puts each point);
- :mod:`genlab.ops.pixels`: resizing and conversion to RGB (transparency onto black, 16-bit
  scaled, documented there);
- :mod:`genlab.ops.pillow_globals`: the lock around Pillow's process-wide settings;
- :mod:`genlab.ops.read_errors`: :class:`ImageReadError`.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from .pillow_decode import (
    DEFAULT_MAX_PIXELS,
    check_max_pixels,
    decode_with_pillow,
    image_size,
    verify_image,
)
from .pixels import RESAMPLE_FILTERS, check_resize_backend, resize_region
from .read_errors import ImageReadError, ImageSource, describe_source
from .resize_geometry import (
    RESIZE_POLICIES,
    check_crop_box,
    check_crop_inside,
    crop_in_source,
    is_int,
    normalise_target_size,
)
from .turbo_decode import crop_turbo_path, decode_turbo_path

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "RESAMPLE_FILTERS",
    "RESIZE_POLICIES",
    "ImageReadError",
    "ImageSource",
    "check_decode_params",
    "crop_in_source",
    "decode_crop",
    "decode_image",
    "image_size",
    "verify_image",
]

_DECODERS = ("turbo", "pillow")


def check_decode_params(
    target_size: tuple[int, int] | None,
    resize: str,
    resample: str,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> None:
    """Validate decode parameters before any image is read.

    Parameters
    ----------
    target_size : (int, int) or None
        Output ``(width, height)``, or None to keep each image's size.
    resize : str
        One of ``"stretch"``, ``"center_crop"``, ``"pad"``.
    resample : str
        One of ``"nearest"``, ``"bilinear"``, ``"bicubic"``, ``"lanczos"``, ``"box"``, ``"hamming"``.
    max_pixels : int or None, optional
        Largest accepted ``width * height``; None disables the check.

    Raises
    ------
    ValueError
        Naming the offending parameter and value.

    Examples
    --------
    >>> check_decode_params((224, 224), "pad", "bicubic")
    >>> check_decode_params((224, 0), "pad", "bicubic")
    Traceback (most recent call last):
    ...
    ValueError: target_size must be None or a (width, height) pair of positive ints, got (224, 0)
    """
    _checked_target_size(target_size, resize, resample, max_pixels)


def _checked_target_size(
    target_size: object, resize: object, resample: object, max_pixels: object
) -> tuple[int, int] | None:
    """Validate the decode parameters; return ``target_size`` as a tuple of ints (or None)."""
    size = normalise_target_size(target_size)
    if resize not in RESIZE_POLICIES:
        raise ValueError(f"resize must be one of {RESIZE_POLICIES}, got {resize!r}")
    if resample not in RESAMPLE_FILTERS:
        raise ValueError(f"resample must be one of {tuple(RESAMPLE_FILTERS)}, got {resample!r}")
    check_max_pixels(max_pixels)
    return size


def decode_image(
    source: ImageSource,
    target_size: tuple[int, int] | None = (224, 224),
    *,
    resize: str = "stretch",
    resample: str = "bilinear",
    draft: bool = True,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    allow_truncated: bool = False,
    path: str | os.PathLike[str] | None = None,
    decoder: str = "pillow",
    resize_backend: str = "pillow",
) -> np.ndarray:
    """Read an image into a uint8 ``height x width x 3`` RGB array.

    Parameters
    ----------
    source : bytes, str, os.PathLike or binary file object
        The encoded image. The format is recognised from the content, not the file name.
    target_size : (int, int) or None, optional
        Output ``(width, height)`` (Pillow's order), or None to keep the image's own size.
    resize : {"stretch", "center_crop", "pad"}, optional
        ``"stretch"`` resizes to ``target_size`` ignoring aspect; ``"center_crop"`` scales so
        the image covers ``target_size`` and crops the centre; ``"pad"`` scales so it fits inside
        and letterboxes with zeros.
    resample : {"nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"}, optional
        Pillow resampling filter.
    draft : bool, optional
        Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 while decoding when the image is at
        least twice the needed size (faster; pixels differ slightly from a full decode).
        Smaller images and other formats decode exactly as without it.
    max_pixels : int or None, optional
        Refuse images with more than this many pixels before decoding them (decompression bombs).
    allow_truncated : bool, optional
        Accept truncated files, filling the missing part as Pillow does. Off by default:
        truncated data is an error, never silently padded.
    path : str or os.PathLike, optional
        Name used in error messages when ``source`` is bytes or a file object.
    decoder : {"pillow", "turbo"}, optional
        ``"turbo"`` decodes JPEGs with libjpeg-turbo at the smallest M/8 scale the output
        needs (see :mod:`genlab.ops.jpeg`; with ``draft=False`` at full size), then resizes
        with Pillow; every other file, and every JPEG it declines, goes through Pillow.
    resize_backend : {"pillow", "opencv"}, optional
        The library that resizes: Pillow (genlab's bytes since 0.1), or OpenCV (``cv2``, an
        optional dependency; no antialiasing, several times faster after a scaled decode;
        ``resample`` "box" and "hamming" are Pillow's only). See :mod:`genlab.ops.pixels`.

    Returns
    -------
    numpy.ndarray
        C-contiguous, read-only uint8 array of shape ``(height, width, 3)``, upright according
        to the EXIF orientation. Use ``.copy()`` to get a writable array.

    Raises
    ------
    ValueError
        For a bad parameter, naming it.
    ImageReadError
        For a missing, empty, non-image, corrupt, truncated or too large file.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("L", (64, 48), 200).save(buf, "PNG")
    >>> decode_image(buf.getvalue(), (32, 16)).shape
    (16, 32, 3)
    >>> decode_image(buf.getvalue(), (32, 32), resize="pad")[0, 0].tolist()
    [0, 0, 0]
    """
    size = _checked_target_size(target_size, resize, resample, max_pixels)
    check_resize_backend(resize_backend, resample)
    name = describe_source(source, path)
    if decoder == "turbo":
        source, arr = decode_turbo_path(source, name, size, resize, resample, draft, max_pixels,
                                        resize_backend)  # fmt: skip
        if arr is not None:
            return arr
    elif decoder != "pillow":
        raise ValueError(f"decoder must be one of {_DECODERS}, got {decoder!r}")
    return decode_with_pillow(
        source, name, size, resize, resample, draft, max_pixels, allow_truncated, resize_backend
    )


def decode_crop(
    source: ImageSource,
    box: tuple[float, float, float, float],
    size: tuple[int, int],
    *,
    resample: str = "bilinear",
    decoder: str = "turbo",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    allow_truncated: bool = False,
    path: str | os.PathLike[str] | None = None,
    limit: tuple[int, int] | None = None,
) -> np.ndarray:
    """Decode the region ``box`` of an image, resized to ``size``: crop while decoding.

    The result is that of decoding the whole image upright, cropping ``box`` and resizing
    it to ``size`` with ``resample`` (what a random resized crop does after a full decode),
    but with ``decoder="turbo"`` a JPEG is decoded at the smallest M/8 DCT scale at which
    the box still has ``size`` pixels, so a large crop of a large photograph costs a small
    decode. Pixels differ from the full-decode result by the DCT scale (measured in the
    README); at scale 8/8 (small boxes) they are the same.

    Parameters
    ----------
    source : bytes, str, os.PathLike or binary file object
        The encoded image.
    box : (number, number, number, number)
        ``(top, left, height, width)`` in pixels of the full, upright image (torchvision's
        order, as ``random_resized_crop`` records it); read the full size with
        :func:`image_size`. Fractional values are sampled as such (a box mapped from a
        resized image's pixels).
    size : (int, int)
        Output ``(width, height)``.
    resample, max_pixels, allow_truncated, path
        As in :func:`decode_image`.
    decoder : {"turbo", "pillow"}, optional
        ``"pillow"`` decodes the whole image with Pillow, then crops and resizes.
    limit : (int, int), optional
        Decode no finer than a ``(width, height)`` of the whole upright image, per side: the
        detail a resize of the whole image to that size would keep (what ``read_images``
        asks of the decoder). A box smaller than ``size`` then gets no more detail than a
        crop of that resized image would. None: as fine as ``size`` needs.

    Returns
    -------
    numpy.ndarray
        Read-only uint8 array of shape ``(size[1], size[0], 3)``.

    Raises
    ------
    ValueError
        For a bad parameter, or a box outside the image, naming it.
    ImageReadError
        As :func:`decode_image`.
    """
    out_size = _checked_target_size(size, "stretch", resample, max_pixels)
    top, left, height, width = check_crop_box(box)
    if limit is not None and not (
        isinstance(limit, (tuple, list))
        and len(limit) == 2
        and all(is_int(v) and v > 0 for v in limit)
    ):
        raise ValueError(
            f"limit must be None or a (width, height) pair of positive ints, got {limit!r}"
        )
    name = describe_source(source, path)
    if decoder == "turbo":
        source, arr = crop_turbo_path(source, name, (top, left, height, width), out_size, resample,
                                      max_pixels, limit)  # fmt: skip
        if arr is not None:
            return arr
    elif decoder != "pillow":
        raise ValueError(f"decoder must be one of {_DECODERS}, got {decoder!r}")
    full = decode_image(source, None, max_pixels=max_pixels, allow_truncated=allow_truncated,
                        path=name, decoder="pillow")  # fmt: skip
    check_crop_inside((top, left, height, width), full.shape[1::-1], name)
    return resize_region(Image.fromarray(full), (left, top, left + width, top + height), out_size,
                         resample)  # fmt: skip
