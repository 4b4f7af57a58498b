"""Pixel conversion: from a decoded Pillow image to the uint8 ``H x W x 3`` RGB array genlab uses.

Conversions to RGB (documented choices):

- transparency (RGBA, LA, PA, P or L/RGB with a transparent colour) is composited onto **black**,
  which is the premultiplied colour and matches the zero padding of ``resize="pad"``;
- 16-bit modes (``I;16*``) are scaled to 8 bits with ``round(v * 255 / 65535)``, not clipped;
  mode ``I`` is read as 16-bit data in ``[0, 65535]`` (values outside are clipped) and mode ``F``
  as floats in ``[0.0, 1.0]`` (clipped), each scaled to ``[0, 255]``;
- ``1``, ``L``, ``P``, ``CMYK``, ``RGBX`` and the rest go through Pillow's own conversion.

The resize itself runs here too, on the decoded pixels, with the geometry of
:mod:`genlab.ops.resize_geometry`; the image is turned upright after resizing (fewer pixels).
"""

from __future__ import annotations

import importlib.util

import numpy as np
from PIL import Image

from .read_errors import read_error
from .resize_geometry import pad_offset, resize_source_box, stored_frame

__all__ = [
    "ORIENTATION_TRANSPOSE", "RESAMPLE_FILTERS", "RESIZE_BACKENDS", "check_resize_backend", "render",
    "resize_region",
]  # fmt: skip

#: Resampling filter names (``read_images``' ``resample``) -> Pillow's filters.
RESAMPLE_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}

#: Libraries that resize: ``"pillow"`` (genlab's resize since 0.1) or ``"opencv"`` (``cv2``,
#: optional: 8-bit images only; 16-bit and float images are still resized by Pillow).
RESIZE_BACKENDS = ("pillow", "opencv")
_OPENCV_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos")
_EIGHT_BIT_MODES = frozenset({"L", "RGB", "RGBa", "RGBA", "CMYK", "RGBX"})

#: EXIF orientation -> the transpose that displays the image upright (as ImageOps.exif_transpose).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa"})
_TRANSPARENT_COLOUR_MODES = frozenset({"L", "RGB", "P"})  # may carry info["transparency"]
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def render(
    img: Image.Image,
    name: str | None,
    original_size: tuple[int, int],
    draft_box: tuple[float, float, float, float] | None,
    orientation: int,
    size: tuple[int, int] | None,
    resize: str,
    resample: str,
    backend: str = "pillow",
) -> np.ndarray:
    """Resize the loaded image, turn it upright and convert it to a uint8 RGB array.

    ``original_size`` is the stored ``(width, height)`` before any scaled decode; ``draft_box``
    the part of it the decoded ``img`` covers (None: all of it, at full size); ``size`` the
    upright output ``(width, height)``, or None to keep the decoded size; ``backend`` the
    library that resizes (:data:`RESIZE_BACKENDS`).
    """
    img = _resizable(img, name)
    if size is not None:
        raw_target = stored_frame(size, orientation)
        out_size, box = resize_source_box(original_size, raw_target, resize)
        # Drafting shrank the decoded image; map the box into its pixel units.
        fx = (draft_box[2] - draft_box[0]) / original_size[0] if draft_box else 1.0
        fy = (draft_box[3] - draft_box[1]) / original_size[1] if draft_box else 1.0
        box = (box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy)
        if out_size != img.size or box != (0, 0, *img.size):
            img = _resize(img, out_size, box, resample, backend)
    if orientation in ORIENTATION_TRANSPOSE:
        img = img.transpose(ORIENTATION_TRANSPOSE[orientation])
    arr = _to_rgb_array(img)
    if size is not None and resize == "pad" and arr.shape[:2] != (size[1], size[0]):
        canvas = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        top, left = pad_offset(arr.shape[0], size[1]), pad_offset(arr.shape[1], size[0])
        canvas[top : top + arr.shape[0], left : left + arr.shape[1]] = arr
        arr = canvas
    return arr


def check_resize_backend(backend: object, resample: object) -> None:
    """ValueError naming a bad ``resize_backend``; ImportError when OpenCV is asked for but absent.

    >>> check_resize_backend("opencv", "hamming")
    Traceback (most recent call last):
    ...
    ValueError: resize_backend='opencv' resamples with one of ('nearest', 'bilinear', 'bicubic', 'lanczos'), got resample='hamming'
    """
    if backend not in RESIZE_BACKENDS:
        raise ValueError(f"resize_backend must be one of {RESIZE_BACKENDS}, got {backend!r}")
    if backend == "opencv":
        if resample not in _OPENCV_FILTERS:
            raise ValueError(
                f"resize_backend='opencv' resamples with one of {_OPENCV_FILTERS}, "
                f"got resample={resample!r}"
            )
        if importlib.util.find_spec("cv2") is None:
            raise ImportError(
                "resize_backend='opencv' needs OpenCV: pip install opencv-python-headless "
                "(albumentations brings it)"
            )


def _resize(
    img: Image.Image,
    size: tuple[int, int],
    box: tuple[float, float, float, float],
    resample: str,
    backend: str,
) -> Image.Image:
    """``img.resize(size, box=box)`` with Pillow, or with OpenCV for 8-bit modes."""
    if backend == "pillow" or img.mode not in _EIGHT_BIT_MODES:
        return img.resize(size, RESAMPLE_FILTERS[resample], box=box)
    out = _opencv_resize(np.asarray(img), size, box, resample)
    return Image.frombuffer(img.mode, size, out, "raw", img.mode, 0, 1)


def _opencv_resize(
    arr: np.ndarray, size: tuple[int, int], box: tuple[float, float, float, float], resample: str
) -> np.ndarray:
    """OpenCV's resize of the ``box`` of ``arr`` (Pillow's pixel-centre convention), contiguous.

    OpenCV's bilinear, bicubic and Lanczos filters do not widen when they shrink (no
    antialiasing): after a scaled decode the remaining shrink is under 2x per side, where
    ``benchmarks/bench_resize.py`` measures them close to Pillow's.
    """
    import cv2  # optional: only resize_backend="opencv" needs it

    flag = getattr(cv2, {"nearest": "INTER_NEAREST", "bilinear": "INTER_LINEAR",
                         "bicubic": "INTER_CUBIC", "lanczos": "INTER_LANCZOS4"}[resample])  # fmt: skip
    height, width = arr.shape[:2]
    if box == (0, 0, width, height):
        out = cv2.resize(arr, size, interpolation=flag)
    else:  # a sub-pixel box: output pixel centres mapped into the input by one affine map
        sx, sy = (box[2] - box[0]) / size[0], (box[3] - box[1]) / size[1]
        matrix = np.array([[sx, 0.0, box[0] + 0.5 * sx - 0.5], [0.0, sy, box[1] + 0.5 * sy - 0.5]])
        out = cv2.warpAffine(arr, matrix, size, flags=flag | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return np.ascontiguousarray(out)


def resize_region(
    img: Image.Image, box: tuple[float, float, float, float], size: tuple[int, int], resample: str
) -> np.ndarray:
    """The ``(left, top, right, bottom)`` region of an RGB image resized to ``size``, read-only."""
    img = img.resize(size, RESAMPLE_FILTERS[resample], box=box)
    arr = np.asarray(img)
    arr.flags.writeable = False
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
        raise read_error(name, f"unsupported image mode {mode!r}") from e


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
