"""Pure colour operations on uint8 ``H x W x 3`` images (no randomness here).

Factors mean what they mean in torchvision (whose Pillow back end these follow): 1 leaves
the image as it is, 0 gives black (brightness), uniform grey (contrast) or grey levels
(saturation); ``hue`` shifts the hue by a fraction of the colour wheel in ``[-0.5, 0.5]``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageEnhance, ImageOps, ImageStat

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_hue",
    "to_grayscale",
    "gaussian_kernel",
    "gaussian_blur",
    "adjust_sharpness",
    "posterize",
    "solarize",
    "equalize",
    "autocontrast",
    "invert",
    "jpeg_roundtrip",
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
    """Rotate the hue by ``shift`` turns of the colour wheel (``-0.5 <= shift <= 0.5``).

    The reference is torchvision's Pillow path (HSV through Pillow, the hue channel shifted by
    whole steps of 1/255 with wrap-around), with one documented difference: genlab rounds
    ``shift * 255`` to the nearest step (half to even) where torchvision truncates toward zero.
    So the two agree whenever ``shift * 255`` rounds and truncates alike (a fraction below .5)
    and differ by one hue step otherwise. genlab keeps rounding because specs saved by genlab 0.2
    (``color_jitter`` with ``hue``) must keep giving their bytes. torchvision's tensor path
    turns hue without quantising and differs from both by up to a level per channel.

    >>> img = np.array([[[200, 40, 40]]], np.uint8)
    >>> adjust_hue(img, 0.1).tolist()  # 25.5 steps: 26 here, 25 in torchvision (200, 134, 40)
    [[[200, 138, 40]]]
    """
    if not -0.5 <= shift <= 0.5:
        raise ValueError(f"hue shift must be in [-0.5, 0.5], got {shift!r}")
    h, s, v = _pil(img).convert("HSV").split()
    hue = np.asarray(h, dtype=np.uint8) + np.uint8(round(shift * 255) % 256)  # wraps around
    return np.asarray(Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert("RGB"))


def to_grayscale(img: np.ndarray) -> np.ndarray:
    """Grey levels (ITU-R 601 luma, as Pillow's ``convert("L")``) in all three channels."""
    return np.asarray(_pil(img).convert("L").convert("RGB"))


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """torchvision's 1-D kernel: the normal density at ``size`` integer offsets, summing to 1."""
    x = np.linspace(-(size - 1) / 2, (size - 1) / 2, size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return (pdf / pdf.sum()).astype(np.float32)


def _taps(padded: np.ndarray, kernel: np.ndarray, axis: int, length: int) -> np.ndarray:
    """Correlate ``padded`` with the symmetric ``kernel`` along ``axis``, ``length`` outputs."""

    def window(i: int) -> np.ndarray:
        return padded[i : i + length] if axis == 0 else padded[:, i : i + length]

    k = len(kernel)
    out = window(k // 2) * kernel[k // 2]
    pair = np.empty_like(out)
    for i in range(k // 2):  # the kernel is symmetric: add the mirrored taps first
        np.add(window(i), window(k - 1 - i), out=pair)
        pair *= kernel[i]
        out += pair
    return out


def gaussian_blur(img: np.ndarray, kernel_size: Sequence[int], sigma: float) -> np.ndarray:
    """Blur with a ``kernel_size = (x, y)`` Gaussian of ``sigma``, as torchvision's GaussianBlur.

    The kernel is truncated to ``kernel_size`` (odd) and normalised; borders are mirrored
    without repeating the edge pixel, as torchvision's ``reflect`` padding.

    >>> img = np.zeros((5, 5, 3), np.uint8); img[2, 2] = 255
    >>> gaussian_blur(img, (3, 3), 100.0)[1:4, 1:4, 0].tolist()  # nearly a 3x3 box
    [[28, 28, 28], [28, 28, 28], [28, 28, 28]]
    """
    kx, ky = (int(k) for k in kernel_size)
    height, width = img.shape[:2]
    pad = ((ky // 2, ky // 2), (kx // 2, kx // 2), (0, 0))
    padded = np.pad(img.astype(np.float32), pad, mode="reflect")
    out = _taps(padded, gaussian_kernel(ky, sigma), 0, height)
    out = _taps(out, gaussian_kernel(kx, sigma), 1, width)
    np.rint(out, out=out)
    return np.clip(out, 0, 255, out=out).astype(np.uint8)


def adjust_sharpness(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with a smoothed copy: 1 keeps the image, 0 smooths it, 2 sharpens it (Pillow's)."""
    return np.asarray(ImageEnhance.Sharpness(_pil(img)).enhance(factor))


def _lut(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Map every channel of ``img`` through one 256-entry table (Pillow's C point())."""
    return np.asarray(_pil(img).point(np.tile(table.astype(np.uint8), 3).tolist()))


def posterize(img: np.ndarray, bits: int) -> np.ndarray:
    """Keep the ``bits`` high bits of every channel (2 ** bits levels).

    >>> posterize(np.full((1, 1, 3), 0b10110111, np.uint8), 2).ravel().tolist()
    [128, 128, 128]
    """
    return img & np.uint8((0xFF << (8 - bits)) & 0xFF)


def solarize(img: np.ndarray, threshold: float) -> np.ndarray:
    """Invert the channel values at or above ``threshold``.

    >>> solarize(np.array([[[10, 128, 200]]], np.uint8), 128).ravel().tolist()
    [10, 127, 55]
    """
    levels = np.arange(256)
    return _lut(img, np.where(levels >= threshold, 255 - levels, levels))


def equalize(img: np.ndarray) -> np.ndarray:
    """Equalise the histogram of each channel (Pillow's, which torchvision's follows)."""
    return np.asarray(ImageOps.equalize(_pil(img)))


def autocontrast(img: np.ndarray) -> np.ndarray:
    """Stretch each channel to span 0-255 (a constant channel is left as it is).

    Bit-for-bit torchvision's arithmetic, float32 rounding included (so 254, not 255, here):

    >>> autocontrast(np.array([[[50, 7, 9]], [[100, 7, 10]]], np.uint8))[:, 0].tolist()
    [[0, 7, 0], [254, 7, 254]]
    """
    pil = _pil(img)
    levels = np.arange(256, dtype=np.float32)
    tables = []
    for low, high in pil.getextrema():
        if high == low:
            tables.append(levels)
        else:  # torchvision's float32 arithmetic: (x - min) / ((max - min) / 255), truncated
            inv_scale = np.float32(high - low) * np.float32(1.0 / 255)
            tables.append(np.clip((levels - np.float32(low)) / inv_scale, 0, 255))
    return np.asarray(pil.point(np.concatenate(tables).astype(np.uint8).tolist()))


def invert(img: np.ndarray) -> np.ndarray:
    """``255 - img``."""
    return np.subtract(np.uint8(255), img)


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at ``quality`` (1-100) with Pillow and decode again."""
    buffer = io.BytesIO()
    _pil(img).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"))
