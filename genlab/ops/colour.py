"""Pure colour operations on uint8 ``H x W x 3`` images (no randomness here).

Factors mean what they mean in torchvision (whose Pillow back end these follow): 1 leaves
the image as it is, 0 gives black (brightness), uniform grey (contrast) or grey levels
(saturation); ``hue`` shifts the hue by a fraction of the colour wheel in ``[-0.5, 0.5]``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance, ImageOps, ImageStat

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_hue",
    "adjust_sharpness",
    "to_grayscale",
    "posterize",
    "solarize",
    "autocontrast",
    "equalize",
    "invert",
]


def _pil(img: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(img))


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with black: ``factor * img``.

    >>> adjust_brightness(np.full((1, 1, 3), 100, np.uint8), 1.5).ravel().tolist()
    [150, 150, 150]
    """
    pil = _pil(img)
    return np.asarray(Image.blend(Image.new("RGB", pil.size), pil, factor))


def adjust_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the image's mean grey level."""
    pil = _pil(img)
    mean = int(ImageStat.Stat(pil.convert("L")).mean[0] + 0.5)
    return np.asarray(Image.blend(Image.new("RGB", pil.size, (mean,) * 3), pil, factor))


def adjust_saturation(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend each pixel with its own grey level."""
    pil = _pil(img)
    return np.asarray(Image.blend(pil.convert("L").convert("RGB"), pil, factor))


def adjust_hue(img: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue by ``shift`` turns of the colour wheel (``-0.5 <= shift <= 0.5``)."""
    if not -0.5 <= shift <= 0.5:
        raise ValueError(f"hue shift must be in [-0.5, 0.5], got {shift!r}")
    h, s, v = _pil(img).convert("HSV").split()
    hue = np.asarray(h, dtype=np.uint8) + np.uint8(round(shift * 255) % 256)  # wraps around
    return np.asarray(Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert("RGB"))


def to_grayscale(img: np.ndarray) -> np.ndarray:
    """Grey levels (ITU-R 601 luma, as Pillow's ``convert("L")``) in all three channels."""
    return np.asarray(_pil(img).convert("L").convert("RGB"))


def adjust_sharpness(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with a smoothed copy: 0 gives the smoothed image, 1 the image, 2 a sharpened one.

    Pillow's ``ImageEnhance.Sharpness`` (3 x 3 smoothing, border pixels kept), as torchvision.
    """
    return np.asarray(ImageEnhance.Sharpness(_pil(img)).enhance(factor))


def _lut(img: np.ndarray, table: list[int]) -> np.ndarray:
    """Map every channel value through ``table`` (256 entries), with Pillow's C lookup."""
    return np.asarray(_pil(img).point(table * 3))


def posterize(img: np.ndarray, bits: int) -> np.ndarray:
    """Keep the ``bits`` highest bits of every channel value (0 <= bits <= 8).

    >>> posterize(np.full((1, 1, 3), 0b10110111, np.uint8), 3).ravel().tolist()
    [160, 160, 160]
    """
    if not 0 <= int(bits) <= 8:
        raise ValueError(f"posterize: bits must be between 0 and 8, got {bits!r}")
    mask = (0xFF << (8 - int(bits))) & 0xFF
    return _lut(img, [v & mask for v in range(256)])


def solarize(img: np.ndarray, threshold: float) -> np.ndarray:
    """Invert every channel value at or above ``threshold`` (0-255; may be fractional).

    >>> solarize(np.array([[[10, 200, 128]]], np.uint8), 128).ravel().tolist()
    [10, 55, 127]
    """
    return _lut(img, [255 - v if v >= threshold else v for v in range(256)])


def autocontrast(img: np.ndarray) -> np.ndarray:
    """Stretch each channel so its darkest value becomes 0 and its brightest 255."""
    return np.asarray(ImageOps.autocontrast(_pil(img)))


def equalize(img: np.ndarray) -> np.ndarray:
    """Equalise the histogram of each channel (Pillow's ``ImageOps.equalize``)."""
    return np.asarray(ImageOps.equalize(_pil(img)))


def invert(img: np.ndarray) -> np.ndarray:
    """``255 - img``.

    >>> invert(np.array([[[0, 100, 255]]], np.uint8)).ravel().tolist()
    [255, 155, 0]
    """
    return _lut(img, list(range(255, -1, -1)))
