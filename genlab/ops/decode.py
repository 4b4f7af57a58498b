"""Decode image files into uint8 RGB arrays with Pillow.

Pure functions used by the ``read_images`` stage and the validation pass. Images are recognised
by content, never by file extension. ``target_size`` follows Pillow's convention ``(width,
height)``; the returned array is ``height x width x 3``.

Conversions to RGB (documented choices):

- transparency (RGBA, LA, PA, P or L/RGB with a transparent colour) is composited onto **black**,
  which is the premultiplied colour and matches the zero padding of ``resize="pad"``;
- 16-bit modes (``I;16*``) are scaled to 8 bits with ``round(v * 255 / 65535)``, not clipped;
  mode ``I`` is read as 16-bit data in ``[0, 65535]`` (values outside are clipped) and mode ``F``
  as floats in ``[0.0, 1.0]`` (clipped), each scaled to ``[0, 255]``;
- ``1``, ``L``, ``P``, ``CMYK``, ``RGBX`` and the rest go through Pillow's own conversion.

Pillow keeps two process-wide settings that matter here, ``Image.MAX_IMAGE_PIXELS`` and
``ImageFile.LOAD_TRUNCATED_IMAGES``. genlab checks ``max_pixels`` itself on every call and only
changes those globals for the duration of a call that needs it (``max_pixels`` above Pillow's
limit, or a truncation setting different from Pillow's), restoring them afterwards; concurrent
genlab calls coordinate through a lock so one never sees another's truncation setting.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Union

import numpy as np
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

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

#: What :func:`decode_image` reads: bytes, a path, or a binary file object.
ImageSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]

#: Pillow's default decompression-bomb limit (about 89.5 megapixels).
DEFAULT_MAX_PIXELS = 89_478_485

RESIZE_POLICIES = ("stretch", "center_crop", "pad")

RESAMPLE_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}

# EXIF orientation -> the transpose that displays the image upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa"})
_TRANSPARENT_COLOUR_MODES = frozenset({"L", "RGB", "P"})  # may carry info["transparency"]
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


class ImageReadError(OSError):
    """An image could not be read; ``.path`` names the file and ``.reason`` says why.

    Parameters
    ----------
    message : str
        The full message, naming the file and the reason.
    path : str, optional
        The file the data came from (None for anonymous bytes or file objects).
    reason : str, optional
        A short reason such as ``"empty file (0 bytes)"``; defaults to ``message``.

    Examples
    --------
    >>> err = ImageReadError("cannot read 'cats/1.jpg': empty", path="cats/1.jpg", reason="empty")
    >>> err.path, err.reason, isinstance(err, OSError)
    ('cats/1.jpg', 'empty', True)
    """

    def __init__(self, message: str, *, path: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.reason = message if reason is None else reason


def _read_error(path: str | None, reason: str) -> ImageReadError:
    """An ImageReadError whose message names ``path`` (or in-memory data) and ``reason``."""
    where = repr(path) if path is not None else "<in-memory data>"
    return ImageReadError(f"cannot read image {where}: {reason}", path=path, reason=reason)


class _PillowGlobals:
    """Hold Pillow's process-wide decode settings steady while genlab calls run.

    Calls that ask for the same ``LOAD_TRUNCATED_IMAGES`` value run concurrently; a call asking
    for the other value waits until they are done. Pillow's pixel limit is lifted (set to None)
    while at least one running call allows more pixels than it; genlab's own per-call check then
    applies. The values found before the first call entered are restored after the last left.
    Code outside genlab running at the same time sees these temporary values.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holders = 0  # calls that set LOAD_TRUNCATED_IMAGES, all to self._truncated
        self._truncated = False
        self._saved_truncated = False
        self._lifters = 0
        self._saved_limit: int | None = None

    @contextmanager
    def hold(self, *, truncated: bool | None, max_pixels: int | None) -> Iterator[None]:
        """Apply the settings for one call; ``truncated=None`` leaves truncation alone."""
        with self._cond:
            if truncated is not None:
                while self._holders and self._truncated != truncated:
                    self._cond.wait()
                if not self._holders:
                    self._saved_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
                    self._truncated = truncated
                    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
                self._holders += 1
            pillow_limit = self._saved_limit if self._lifters else Image.MAX_IMAGE_PIXELS
            lift = pillow_limit is not None and (max_pixels is None or max_pixels > pillow_limit)
            if lift:
                if not self._lifters:
                    self._saved_limit = Image.MAX_IMAGE_PIXELS
                    Image.MAX_IMAGE_PIXELS = None
                self._lifters += 1
        try:
            yield
        finally:
            with self._cond:
                if lift:
                    self._lifters -= 1
                    if not self._lifters:
                        Image.MAX_IMAGE_PIXELS = self._saved_limit
                if truncated is not None:
                    self._holders -= 1
                    if not self._holders:
                        ImageFile.LOAD_TRUNCATED_IMAGES = self._saved_truncated
                        self._cond.notify_all()


_PILLOW = _PillowGlobals()


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
    size = _normalise_target_size(target_size)
    if resize not in RESIZE_POLICIES:
        raise ValueError(f"resize must be one of {RESIZE_POLICIES}, got {resize!r}")
    if resample not in RESAMPLE_FILTERS:
        raise ValueError(f"resample must be one of {tuple(RESAMPLE_FILTERS)}, got {resample!r}")
    _check_max_pixels(max_pixels)
    return size


def _check_max_pixels(max_pixels: object) -> None:
    if max_pixels is not None and not (_is_int(max_pixels) and max_pixels > 0):
        raise ValueError(f"max_pixels must be None or a positive int, got {max_pixels!r}")


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
    name = _describe(source, path)
    if decoder == "turbo":
        source, arr = _decode_turbo(source, name, size, resize, resample, draft, max_pixels)
        if arr is not None:
            return arr
    elif decoder != "pillow":
        raise ValueError(f"decoder must be one of ('turbo', 'pillow'), got {decoder!r}")
    with _PILLOW.hold(truncated=bool(allow_truncated), max_pixels=max_pixels):
        img = _open(source, name, max_pixels)
        try:
            original_size = img.size
            orientation = _orientation(img, header_only=True)
            draft_box = None
            if draft and size is not None and orientation is not None:
                request = _draft_request(original_size, _raw_target(size, orientation), resize)
                drafted = img.draft("RGB", request)
                draft_box = drafted[1] if drafted else None
            _load(img, name)
        except BaseException:
            img.close()
            raise
    with img:
        if orientation is None:
            orientation = _orientation(img, header_only=False)
        arr = _render(img, name, original_size, draft_box, orientation, size, resize, resample)
    arr.flags.writeable = False
    return arr


def _decode_turbo(
    source: ImageSource,
    name: str | None,
    size: tuple[int, int] | None,
    resize: str,
    resample: str,
    draft: bool,
    max_pixels: int | None,
) -> tuple[ImageSource, np.ndarray | None]:
    """The libjpeg-turbo path: ``(source, array)``, or ``(source, None)`` to decode with Pillow.

    A path or file object is read here once; the bytes are handed back for Pillow to reuse.
    """
    from .jpeg import as_image, decode_turbo, jpeg_header

    source = _as_bytes(source)
    header = jpeg_header(source) if isinstance(source, (bytes, bytearray, memoryview)) else None
    if header is None or not header.turbo_ready:
        return source, None
    if max_pixels is not None and header.width * header.height > max_pixels:
        return source, None  # Pillow refuses it from the header, with its message
    original_size = (header.width, header.height)
    orientation = header.orientation
    need = None
    if draft and size is not None:
        need = _draft_request(original_size, _raw_target(size, orientation), resize)
    decoded = decode_turbo(source, header, need)
    if decoded is None:
        return source, None
    box = (0.0, 0.0, float(decoded.shape[1]), float(decoded.shape[0]))
    img = as_image(decoded)
    arr = _render(img, name, original_size, box, orientation, size, resize, resample)
    arr.flags.writeable = False
    return source, arr


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
    top, left, height, width = _checked_box(box)
    if limit is not None and not (
        isinstance(limit, (tuple, list))
        and len(limit) == 2
        and all(_is_int(v) and v > 0 for v in limit)
    ):
        raise ValueError(
            f"limit must be None or a (width, height) pair of positive ints, got {limit!r}"
        )
    name = _describe(source, path)
    if decoder == "turbo":
        source, arr = _crop_turbo(source, name, (top, left, height, width), out_size, resample,
                                  max_pixels, limit)  # fmt: skip
        if arr is not None:
            return arr
    elif decoder != "pillow":
        raise ValueError(f"decoder must be one of ('turbo', 'pillow'), got {decoder!r}")
    full = decode_image(source, None, max_pixels=max_pixels, allow_truncated=allow_truncated,
                        path=name, decoder="pillow")  # fmt: skip
    _check_box_inside((top, left, height, width), full.shape[1::-1], name)
    return _resize_box(Image.fromarray(full), (left, top, left + width, top + height), out_size,
                       resample)  # fmt: skip


def _checked_box(box: object) -> tuple[float, float, float, float]:
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
    return tuple(int(v) if _is_int(v) else float(v) for v in values)  # type: ignore[return-value]


def _is_number(value: object) -> bool:
    return _is_int(value) or (isinstance(value, (float, np.floating)) and math.isfinite(value))


def _check_box_inside(box: tuple[float, ...], full: tuple[int, int], name: str | None) -> None:
    top, left, height, width = box
    if left + width > full[0] or top + height > full[1]:
        raise ValueError(
            f"box (top={top}, left={left}, height={height}, width={width}) is outside the "
            f"{full[0]}x{full[1]} image {name!r}"
        )


def _resize_box(img: Image.Image, box, size: tuple[int, int], resample: str) -> np.ndarray:
    img = img.resize(size, RESAMPLE_FILTERS[resample], box=box)
    arr = np.asarray(img)
    arr.flags.writeable = False
    return arr


def _crop_turbo(
    source: ImageSource,
    name: str | None,
    box: tuple[float, float, float, float],
    size: tuple[int, int],
    resample: str,
    max_pixels: int | None,
    limit: tuple[int, int] | None = None,
) -> tuple[ImageSource, np.ndarray | None]:
    """The libjpeg-turbo path of :func:`decode_crop`; None in place of the array for Pillow."""
    from .jpeg import as_image, decode_turbo, jpeg_header

    source = _as_bytes(source)
    header = jpeg_header(source) if isinstance(source, (bytes, bytearray, memoryview)) else None
    if header is None or not header.turbo_ready:
        return source, None
    if max_pixels is not None and header.width * header.height > max_pixels:
        return source, None
    orientation = header.orientation
    upright = _raw_target((header.width, header.height), orientation)
    top, left, height, width = box
    _check_box_inside(box, upright, name)
    # the smallest decode at which the box keeps `size` pixels, in the stored frame
    need = (math.ceil(upright[0] * size[0] / width), math.ceil(upright[1] * size[1] / height))
    if limit is not None:  # no finer, per side, than a decode for a resize to `limit`
        need = (min(need[0], limit[0]), min(need[1], limit[1]))
    decoded = decode_turbo(source, header, _raw_target(need, orientation))
    if decoded is None:
        return source, None
    img = as_image(decoded)
    if orientation in _ORIENTATION_TRANSPOSE:
        img = img.transpose(_ORIENTATION_TRANSPOSE[orientation])
    fx, fy = img.width / upright[0], img.height / upright[1]
    scaled_box = (left * fx, top * fy, (left + width) * fx, (top + height) * fy)
    return source, _resize_box(img, scaled_box, size, resample)


def _as_bytes(source: ImageSource) -> ImageSource:
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
    name = _describe(source, path)
    with _PILLOW.hold(truncated=None, max_pixels=None):
        img = _open(source, name, None)
    with img:
        width, height = img.size
        orientation = _orientation(img, header_only=True)
    return (height, width) if orientation in _SWAPS_AXES else (width, height)


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
        As in :func:`decode_image`.
    allow_truncated : bool, optional
        As in :func:`decode_image`.

    Raises
    ------
    ImageReadError
        For a missing, empty, non-image, corrupt, truncated or too large file.
    """
    _check_max_pixels(max_pixels)
    name = _describe(source, path)
    with _PILLOW.hold(truncated=bool(allow_truncated), max_pixels=max_pixels):
        img = _open(source, name, max_pixels)
        with img:
            _load(img, name)


# ----------------------------------------------------------------------------- reading


def _describe(source: ImageSource, path: str | os.PathLike[str] | None) -> str | None:
    """The name errors use for ``source``: ``path``, the file path, or a file object's name."""
    if path is not None:
        return os.fspath(path)
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else None


def _open(source: ImageSource, name: str | None, max_pixels: int | None) -> Image.Image:
    """Identify the image from its header and apply the ``max_pixels`` check."""
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    try:
        img = Image.open(fp)
    except UnidentifiedImageError as e:
        raise _read_error(name, _unidentified_reason(source)) from e
    except Image.DecompressionBombError as e:
        raise _read_error(name, f"decompression bomb ({e})") from e
    except OSError as e:
        if e.errno is not None:  # the file system: missing file, directory, permission
            raise _read_error(name, e.strerror or str(e)) from e
        raise _read_error(name, f"corrupt image header ({e})") from e
    except Exception as e:  # plugins raise SyntaxError, ValueError, struct.error... on bad headers
        raise _read_error(name, f"corrupt image header ({type(e).__name__}: {e})") from e
    width, height = img.size
    if max_pixels is not None and width * height > max_pixels:
        img.close()
        raise _read_error(
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
        raise _read_error(name, f"decompression bomb ({e})") from e
    except Exception as e:  # OSError "image file is truncated", SyntaxError, ValueError...
        if "truncated" in str(e).lower():
            reason = f"truncated image data ({e})"
        else:
            reason = f"corrupt image data ({type(e).__name__}: {e})"
        raise _read_error(name, reason) from e


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
    return value if value in _ORIENTATION_TRANSPOSE else 1


# ----------------------------------------------------------------------------- geometry


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _normalise_target_size(target_size: object) -> tuple[int, int] | None:
    if target_size is None:
        return None
    try:
        width, height = target_size  # type: ignore[misc]
    except (TypeError, ValueError):
        width = height = None
    if not (_is_int(width) and _is_int(height) and width > 0 and height > 0):
        raise ValueError(
            "target_size must be None or a (width, height) pair of positive ints, "
            f"got {target_size!r}"
        )
    return int(width), int(height)


def _raw_target(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The target size in the stored (not yet upright) frame of the image."""
    return (size[1], size[0]) if orientation in _SWAPS_AXES else size


def _fit_scale(source: tuple[int, int], target: tuple[int, int], resize: str) -> float:
    """Scale factor from source to output: cover the target for crop, fit inside for pad."""
    sx, sy = target[0] / source[0], target[1] / source[1]
    return max(sx, sy) if resize == "center_crop" else min(sx, sy)


def _pad_inner_size(source: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    scale = _fit_scale(source, target, "pad")
    return (
        min(target[0], max(1, round(source[0] * scale))),
        min(target[1], max(1, round(source[1] * scale))),
    )


def _draft_request(
    source: tuple[int, int], target: tuple[int, int], resize: str
) -> tuple[int, int]:
    """The smallest decode size that still gives ``target`` full resolution after resizing."""
    if resize == "stretch":
        return target
    if resize == "pad":
        return _pad_inner_size(source, target)
    scale = _fit_scale(source, target, "center_crop")
    return math.ceil(source[0] * scale), math.ceil(source[1] * scale)


def _resize_geometry(
    source: tuple[int, int], target: tuple[int, int], resize: str
) -> tuple[tuple[int, int], tuple[float, float, float, float]]:
    """Output size and source box (in original pixel units) for ``Image.resize``."""
    width, height = source
    if resize == "stretch":
        return target, (0.0, 0.0, float(width), float(height))
    if resize == "pad":
        return _pad_inner_size(source, target), (0.0, 0.0, float(width), float(height))
    scale = _fit_scale(source, target, "center_crop")
    crop_w, crop_h = min(width, target[0] / scale), min(height, target[1] / scale)
    left, top = (width - crop_w) / 2, (height - crop_h) / 2  # never negative (rounding)
    return target, (left, top, left + crop_w, top + crop_h)


def crop_in_source(
    box: tuple[int, int, int, int], full: tuple[int, int], target_size: tuple[int, int], resize: str
) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """Where a crop of :func:`decode_image`'s output lies in the whole image, for :func:`decode_crop`.

    Parameters
    ----------
    box : (int, int, int, int)
        ``(top, left, height, width)`` in pixels of ``decode_image(..., target_size, resize=resize)``.
    full : (int, int)
        The upright ``(width, height)`` of the whole image (:func:`image_size`).
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
    _, (x0, y0, x1, y1) = _resize_geometry(full, target_size, resize)
    sx, sy = (x1 - x0) / target_size[0], (y1 - y0) / target_size[1]
    top, left, height, width = box
    src_top, src_left = y0 + top * sy, x0 + left * sx
    # clamp the far edges: float rounding must not put them a hair outside the image
    src_height = min(y0 + (top + height) * sy, float(full[1])) - src_top
    src_width = min(x0 + (left + width) * sx, float(full[0])) - src_left
    return (src_top, src_left, src_height, src_width), _draft_request(full, target_size, resize)


# ----------------------------------------------------------------------------- pixels


def _render(
    img: Image.Image,
    name: str | None,
    original_size: tuple[int, int],
    draft_box: tuple[float, float, float, float] | None,
    orientation: int,
    size: tuple[int, int] | None,
    resize: str,
    resample: str,
) -> np.ndarray:
    """Resize the loaded image, turn it upright and convert it to a uint8 RGB array."""
    img = _resizable(img, name)
    if size is not None:
        raw_target = _raw_target(size, orientation)
        out_size, box = _resize_geometry(original_size, raw_target, resize)
        # Drafting shrank the decoded image; map the box into its pixel units.
        fx = (draft_box[2] - draft_box[0]) / original_size[0] if draft_box else 1.0
        fy = (draft_box[3] - draft_box[1]) / original_size[1] if draft_box else 1.0
        box = (box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy)
        if out_size != img.size or box != (0, 0, *img.size):
            img = img.resize(out_size, RESAMPLE_FILTERS[resample], box=box)
    if orientation in _ORIENTATION_TRANSPOSE:
        img = img.transpose(_ORIENTATION_TRANSPOSE[orientation])
    arr = _to_rgb_array(img)
    if size is not None and resize == "pad" and arr.shape[:2] != (size[1], size[0]):
        canvas = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        top, left = (size[1] - arr.shape[0]) // 2, (size[0] - arr.shape[1]) // 2
        canvas[top : top + arr.shape[0], left : left + arr.shape[1]] = arr
        arr = canvas
    return arr


def _resizable(img: Image.Image, name: str | None) -> Image.Image:
    """Bring the image to a mode that resizes correctly and cheaply.

    Alpha is premultiplied (``RGBa``), so dropping it later composites onto black; palettes are
    expanded; 1-bit becomes ``L``; ``L``, ``RGB``, ``CMYK``, 16-bit, ``I`` and ``F`` stay as they
    are and are converted after resizing, on fewer pixels.
    """
    mode = img.mode
    if mode in _ALPHA_MODES or (mode in _TRANSPARENT_COLOUR_MODES and "transparency" in img.info):
        if mode != "RGBa":
            img = img.convert("RGBA") if mode != "RGBA" else img
            img = img.convert("RGBa")
        return img
    if mode == "1":
        return img.convert("L")
    if mode in ("L", "RGB", "CMYK", "RGBX", "I", "F") or mode in _SIXTEEN_BIT_MODES:
        return img
    try:
        return img.convert("RGB")  # P, YCbCr, HSV...
    except ValueError as e:
        raise _read_error(name, f"unsupported image mode {mode!r}") from e


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """uint8 ``H x W x 3`` array of a resized image in one of the modes ``_resizable`` gives."""
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img)
    if mode == "RGBa":
        return np.ascontiguousarray(np.asarray(img)[:, :, :3])
    if mode in ("L", "CMYK", "RGBX"):
        return np.asarray(img.convert("RGB"))
    values = np.asarray(img)
    if mode == "F":
        gray = np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
    else:  # 16-bit and I: [0, 65535] -> [0, 255] with rounding
        wide = np.clip(values, 0, 65535).astype(np.uint32)
        gray = ((wide * 255 + 32767) // 65535).astype(np.uint8)
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)
