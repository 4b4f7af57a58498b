"""Pure noise and erasing operations on uint8 ``H x W x 3`` images (no hidden randomness).

Noise is generated from a seed given as an argument, so a recorded seed replays exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["add_gaussian_noise", "erase"]


def add_gaussian_noise(img: np.ndarray, mean: float, sigma: float, seed: int) -> np.ndarray:
    """Add ``N(mean, sigma)`` noise, both in units of the full range (1.0 = 255 levels).

    The noise comes from NumPy's SFC64 generator seeded with ``seed`` (its normals are ~15%
    cheaper than PCG64's, and they are most of this op's cost); the sum is rounded and
    clipped to 0-255 (torchvision's GaussianNoise on a [0, 1] image with ``clip=True``).

    >>> img = np.full((64, 64, 3), 128, np.uint8)
    >>> out = add_gaussian_noise(img, 0.0, 0.1, seed=1)
    >>> bool(abs(out.std() - 25.5) < 1.0), bool((add_gaussian_noise(img, 0.0, 0.1, 1) == out).all())
    (True, True)
    """
    noise = np.random.Generator(np.random.SFC64(seed)).standard_normal(img.shape, dtype=np.float32)
    noise *= np.float32(sigma * 255.0)
    noise += np.float32(mean * 255.0)
    noise += img
    np.rint(noise, out=noise)
    return np.clip(noise, 0, 255, out=noise).astype(np.uint8)


def erase(img: np.ndarray, box: Sequence[int], fill: Sequence[float] = (0, 0, 0)) -> np.ndarray:
    """A copy of ``img`` with ``box = (top, left, height, width)`` painted ``fill``.

    >>> erase(np.full((3, 3, 3), 9, np.uint8), (1, 0, 1, 2))[:, :, 0].tolist()
    [[9, 9, 9], [0, 0, 9], [9, 9, 9]]
    """
    top, left, height, width = (int(v) for v in box)
    out = img.copy()
    out[top : top + height, left : left + width] = np.clip(np.rint(fill), 0, 255).astype(np.uint8)
    return out
