"""``rescale_images``: pixels to floating point, scaled and normalised per channel."""

from __future__ import annotations

import numpy as np

from ..batch import Batch
from ..params import Choice, Float, Floats
from .protocol import stage

__all__ = ["rescale_images"]


@stage(
    params={
        "scale": Float(1.0, low=1e-6, high=1e3, step=0.001, help="multiply pixels first (1/255 gives [0, 1])"),
        "mean": Floats((0.0, 0.0, 0.0), help="then subtract this per-channel mean (R, G, B)"),
        "std": Floats((1.0, 1.0, 1.0), low=1e-6, help="then divide by this per-channel std"),
        "dtype": Choice("float32", choices=("float32", "float16", "float64"), help="output dtype"),
    }
)  # fmt: skip
def rescale_images(batch: Batch, *, scale, mean, std, dtype) -> Batch:
    """Compute ``(x * scale - mean) / std`` in one new array of ``dtype``.

    The post's ``rescale_images(mean=[103.939, 116.779, 123.68])`` subtracts the
    ImageNet channel means from 0-255 pixels; ``scale=1/255, mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225)`` gives the torchvision convention.
    """
    out = batch.x.astype(dtype)  # the only copy
    if scale != 1.0:
        out *= np.asarray(scale, dtype=dtype)
    if any(mean):
        out -= np.asarray(mean, dtype=dtype)
    if any(s != 1.0 for s in std):
        out /= np.asarray(std, dtype=dtype)
    return batch.replace(x=out)
