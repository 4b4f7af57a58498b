"""The Pillow decode path: open, check, decode (with Pillow's JPEG draft) and render an image.

Images are recognised by content, never by file extension. Every failure is an
:class:`~genlab.ops.read_errors.ImageReadError` naming the file and the reason. Pillow's
process-wide settings are held through :data:`~genlab.ops.pillow_globals.PILLOW_GLOBALS`.
"""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from .pillow_globals import PILLOW_GLOBALS
from .pixels import ORIENTATION_TRANSPOSE, render
from .read_errors import ImageSource, describe_source, read_error
from .resize_geometry import SWAPS_AXES, draft_request, is_int, stored_frame

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "check_max_pixels",
    "decode_with_pillow",
    "image_size",
    "verify_image",
]

#: Pillow's default decompression-bomb limit (about 89.5 megapixels).
DEFAULT_MAX_PIXELS = 89_478_485


def check_max_pixels(max_pixels: object) -> None:
    """ValueError unless ``max_pixels`` is None or a positive int."""
    if max_pixels is not None and not (is_int(max_pixels) and max_pixels > 0):
        raise ValueError(f"max_pixels must be None or a positive int, got {max_pixels!r}")


def decode_with_pillow(
    source: ImageSource,
    name: str | None,
    size: tuple[int, int] | None,
    resize: str,
    resample: str,
    draft: bool,
    max_pixels: int | None,
    allow_truncated: bool,
    backend: str = "pillow",
) -> np.ndarray:
    """:func:`~genlab.ops.decode.decode_image` with Pillow, on checked parameters."""
    with PILLOW_GLOBALS.hold(truncated=bool(allow_truncated), max_pixels=max_pixels):
        img = _open(source, name, max_pixels)
        try:
            original_size = img.size
            orientation = _orientation(img, header_only=True)
            draft_box = None
            if draft and size is not None and orientation is not None:
                request = draft_request(original_size, stored_frame(size, orientation), resize)
                drafted = img.draft("RGB", request)
                draft_box = drafted[1] if drafted else None
            _load(img, name)
        except BaseException:
            img.close()
            raise
    with img:
        if orientation is None:
            orientation = _orientation(img, header_only=False)
        arr = render(
            img, name, original_size, draft_box, orientation, size, resize, resample, backend
        )
    arr.flags.writeable = False
    return arr


def image_size(
    source: ImageSource, *, path: str | os.PathLike[str] | None = None
) -> tuple[int, int]:
    """Return the ``(width, height)`` that ``decode_image(source, None)`` would give.

    Only the header is read (the EXIF orientation is honoured when it is in the header, which
    is where cameras and Pillow put it).

    Parameters
    ----------
    source : bytes, str, os.PathLike or binary file object
        The encoded image.
    path : str or os.PathLike, optional
        Name used in error messages when ``source`` is bytes or a file object.

    Returns
    -------
    (int, int)
        Width and height in pixels, upright.

    Raises
    ------
    ImageReadError
        For a missing, empty, non-image or corrupt file.
    """
    name = describe_source(source, path)
    with PILLOW_GLOBALS.hold(truncated=None, max_pixels=None):
        img = _open(source, name, None)
    with img:
        width, height = img.size
        orientation = _orientation(img, header_only=True)
    return (height, width) if orientation in SWAPS_AXES else (width, height)


def verify_image(
    source: ImageSource,
    path: str | os.PathLike[str] | None = None,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    allow_truncated: bool = False,
) -> None:
    """Decode an image fully and raise ImageReadError if that fails.

    Parameters
    ----------
    source : bytes, str, os.PathLike or binary file object
        The encoded image.
    path : str or os.PathLike, optional
        Name used in error messages when ``source`` is bytes or a file object.
    max_pixels : int or None, optional
        As in :func:`~genlab.ops.decode.decode_image`.
    allow_truncated : bool, optional
        As in :func:`~genlab.ops.decode.decode_image`.

    Raises
    ------
    ImageReadError
        For a missing, empty, non-image, corrupt, truncated or too large file.
    """
    check_max_pixels(max_pixels)
    name = describe_source(source, path)
    with PILLOW_GLOBALS.hold(truncated=bool(allow_truncated), max_pixels=max_pixels):
        img = _open(source, name, max_pixels)
        with img:
            _load(img, name)


def _open(source: ImageSource, name: str | None, max_pixels: int | None) -> Image.Image:
    """Identify the image from its header and apply the ``max_pixels`` check."""
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    try:
        img = Image.open(fp)
    except UnidentifiedImageError as e:
        raise read_error(name, _unidentified_reason(source)) from e
    except Image.DecompressionBombError as e:
        raise read_error(name, f"decompression bomb ({e})") from e
    except OSError as e:
        if e.errno is not None:  # the file system: missing file, directory, permission
            raise read_error(name, e.strerror or str(e)) from e
        raise read_error(name, f"corrupt image header ({e})") from e
    except Exception as e:  # plugins raise SyntaxError, ValueError, struct.error... on bad headers
        raise read_error(name, f"corrupt image header ({type(e).__name__}: {e})") from e
    width, height = img.size
    if max_pixels is not None and width * height > max_pixels:
        img.close()
        raise read_error(
            name,
            f"decompression bomb: {width}x{height} = {width * height} pixels "
            f"exceeds max_pixels={max_pixels}",
        )
    return img


def _unidentified_reason(source: ImageSource) -> str:
    """Tell an empty file from data in no format Pillow knows (only called on failure)."""
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            length = len(source)
        elif isinstance(source, (str, os.PathLike)):
            length = os.path.getsize(source)
        else:
            position = source.tell()
            length = source.seek(0, io.SEEK_END)
            source.seek(position)
    except (OSError, AttributeError, ValueError):
        length = None
    if length == 0:
        return "empty file (0 bytes)"
    return "not an image (unrecognised format)"


def _load(img: Image.Image, name: str | None) -> None:
    """Decode the pixel data, reporting truncated or corrupt data as ImageReadError."""
    try:
        img.load()
    except Image.DecompressionBombError as e:
        raise read_error(name, f"decompression bomb ({e})") from e
    except Exception as e:  # OSError "image file is truncated", SyntaxError, ValueError...
        if "truncated" in str(e).lower():
            reason = f"truncated image data ({e})"
        else:
            reason = f"corrupt image data ({type(e).__name__}: {e})"
        raise read_error(name, reason) from e


def _orientation(img: Image.Image, *, header_only: bool) -> int | None:
    """EXIF orientation 1..8 (1 when absent or invalid).

    With ``header_only``, returns None for a PNG without EXIF in its header, because Pillow
    decodes a PNG's pixels to look for EXIF stored after them.
    """
    if header_only and img.format == "PNG" and "exif" not in img.info:
        return None
    try:
        value = img.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # malformed EXIF does not make the pixels unreadable
        return 1
    return value if value in ORIENTATION_TRANSPOSE else 1
