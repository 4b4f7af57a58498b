"""Pure noise and erasing operations on uint8 ``H x W x 3`` images (no hidden randomness).

Noise is generated from a seed given as an argument, so a recorded seed replays exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

__all__ = ["add_gaussian_noise", "erase"]


@functools.cache
def _normal_quantiles() -> np.ndarray:
    """The standard normal's quantiles at the centres of 65536 equal-probability bins."""
    inv_cdf = NormalDist().inv_cdf
    return np.array([inv_cdf((i + 0.5) / 65536) for i in range(65536)], dtype=np.float32)


def add_gaussian_noise(img: np.ndarray, mean: float, sigma: float, seed: int) -> np.ndarray:
    """Add ``N(mean, sigma)`` noise, both in units of the full range (1.0 = 255 levels).

    Each pixel's noise is the normal quantile of a uniform 16-bit draw from NumPy's
    generator seeded with ``seed`` (inverse-transform sampling: 3x cheaper than NumPy's
    normals, and the same distribution but for tails cut at 4.3 sigma, which 2 pixels in
    100,000 would pass), rounded to whole levels; the sum is clipped to 0-255
    (torchvision's GaussianNoise on a [0, 1] image with ``clip=True``).

    >>> img = np.full((64, 64, 3), 128, np.uint8)
    >>> out = add_gaussian_noise(img, 0.0, 0.1, seed=1)
    >>> bool(abs(out.std() - 25.5) < 1.0), bool((add_gaussian_noise(img, 0.0, 0.1, 1) == out).all())
    (True, True)
    """
    levels = _normal_quantiles() * np.float32(sigma * 255.0)
    levels += np.float32(mean * 255.0)
    levels = np.clip(np.rint(levels), -255, 255).astype(np.int16)
    bins = np.random.default_rng(seed).integers(0, 65536, size=img.shape, dtype=np.uint16)
    out = np.take(levels, bins)
    out += img
    return np.clip(out, 0, 255, out=out).astype(np.uint8)


def erase(img: np.ndarray, box: Sequence[int], fill: Sequence[float] = (0, 0, 0)) -> np.ndarray:
    """A copy of ``img`` with ``box = (top, left, height, width)`` painted ``fill``.

    >>> erase(np.full((3, 3, 3), 9, np.uint8), (1, 0, 1, 2))[:, :, 0].tolist()
    [[9, 9, 9], [0, 0, 9], [9, 9, 9]]
    """
    top, left, height, width = (int(v) for v in box)
    out = img.copy()
    out[top : top + height, left : left + width] = np.clip(np.rint(fill), 0, 255).astype(np.uint8)
    return out
