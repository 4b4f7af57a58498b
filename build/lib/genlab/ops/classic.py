"""The classic ``augment`` stage's kernels: pure functions on uint8 ``H x W x 3`` images.

They are kept apart from the composable ops' kernels (:mod:`genlab.ops.colour`, Pillow's
``ImageEnhance``) on purpose: specs saved by genlab 0.1 and 0.2 with ``augment`` must give the
very bytes they gave then, and these numpy look-up tables and blends are what made them.
Every function returns a new array (or a view of ``img``) and never writes into ``img``.

>>> import numpy as np
>>> img = np.full((2, 2, 3), 100, dtype=np.uint8)
>>> int(scale_levels(img, 1.5)[0, 0, 0]), int(fill_square(img, 0, 0, 1)[0, 0, 0])
(150, 0)
"""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = [
    "rotate_same_size",
    "crop_resize_back",
    "scale_levels",
    "blend_with_mean",
    "blend_with_grey",
    "add_gaussian_noise",
    "fill_square",
]

_LEVELS = np.arange(256, dtype=np.float32)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as PIL's convert("L")


def _lut_apply(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Apply a pointwise float mapping of the 256 byte values, rounded and clipped."""
    lut = np.clip(np.rint(table), 0, 255).astype(np.uint8)
    return np.take(lut, img)


def rotate_same_size(img: np.ndarray, angle: float) -> np.ndarray:
    """Rotate counter-clockwise by ``angle`` degrees about the centre, same size, black corners."""
    rotated = Image.fromarray(np.ascontiguousarray(img)).rotate(
        angle, resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0)
    )
    return np.asarray(rotated)


def crop_resize_back(img: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """Cut the box (``top``, ``left``, ``height``, ``width``) and resize it (bilinear) to ``img``'s size."""
    box = (left, top, left + width, top + height)
    resized = Image.fromarray(np.ascontiguousarray(img)).resize(
        (img.shape[1], img.shape[0]), Image.Resampling.BILINEAR, box=box
    )
    return np.asarray(resized)


def scale_levels(img: np.ndarray, factor: float) -> np.ndarray:
    """Multiply every channel by ``factor`` (brightness), rounded and clipped."""
    return _lut_apply(img, _LEVELS * np.float32(factor))


def blend_with_mean(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean grey level: ``mean + factor * (img - mean)`` (contrast)."""
    mean = np.float32((img @ _LUMA).mean())
    return _lut_apply(img, mean + np.float32(factor) * (_LEVELS - mean))


def blend_with_grey(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend each pixel with its grey level: ``grey + factor * (img - grey)`` (saturation)."""
    factor = np.float32(factor)
    grey = (img @ _LUMA)[:, :, np.newaxis] * (1 - factor)
    out = img * factor
    out += grey
    return np.clip(np.rint(out, out=out), 0, 255, out=out).astype(np.uint8)


def add_gaussian_noise(img: np.ndarray, std: float, seed: int) -> np.ndarray:
    """Add gaussian noise of ``std`` (pixel units) generated from ``seed``, rounded and clipped."""
    noise = np.random.default_rng(seed).standard_normal(img.shape, dtype=np.float32)
    noise *= np.float32(std)
    noise += img
    return np.clip(np.rint(noise, out=noise), 0, 255, out=noise).astype(np.uint8)


def fill_square(img: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """A copy of ``img`` with one ``size x size`` square at (``top``, ``left``) filled with zeros."""
    out = np.array(img, copy=True, order="C")
    out[top : top + size, left : left + size] = 0
    return out
