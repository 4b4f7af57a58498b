"""Pure colour operations on uint8 ``H x W x 3`` images (no randomness here).

Factors mean what they mean in torchvision (whose Pillow back end these follow): 1 leaves
the image as it is, 0 gives black (brightness), uniform grey (contrast) or grey levels
(saturation); ``hue`` shifts the hue by a fraction of the colour wheel in ``[-0.5, 0.5]``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageStat

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "to_grayscale"]


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
