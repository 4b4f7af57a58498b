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
    """Compute ``(x * scale - mean) / std`` into one new array of ``dtype``.

    The post's ``rescale_images(mean=[103.939, 116.779, 123.68])`` subtracts the
    ImageNet channel means from 0-255 pixels; ``scale=1/255, mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225)`` gives the torchvision convention.
    """
    x = batch.x
    out = np.empty(x.shape, dtype=dtype)
    # One pass per operation that is not the identity, the first reading the uint8 pixels and
    # writing floats (no separate astype copy). Rows of whole images with the per-channel
    # constants tiled along them keep NumPy's inner loop long instead of 3 values wide.
    per_channel = x.ndim > 1 and x.size and x.shape[-1] == len(mean)
    rows_in = x.reshape(len(x), -1) if per_channel else x
    rows_out = out.reshape(rows_in.shape)

    def along_rows(values) -> np.ndarray:
        values = np.asarray(values, dtype=dtype)
        return np.tile(values, rows_in.shape[-1] // len(values)) if per_channel else values

    current = rows_in
    steps = [(np.multiply, scale, scale != 1.0), (np.subtract, mean, any(mean)),
             (np.divide, std, any(s != 1.0 for s in std))]  # fmt: skip
    for ufunc, value, needed in steps:
        if needed:
            operand = np.asarray(value, dtype=dtype) if ufunc is np.multiply else along_rows(value)
            current = ufunc(current, operand, out=rows_out, casting="unsafe")
    if current is rows_in:
        np.copyto(rows_out, rows_in, casting="unsafe")
    return batch.replace(x=out)
