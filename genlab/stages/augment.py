"""``augment``: random flips, rotations, crops, colour jitter, noise and cutout, per sample.

Every sample's draws come from its own generator (seed, "augment", epoch, sample key),
so they do not depend on the batch it lands in, on other stages, or on worker count.
What was drawn is kept in ``batch.info.applied`` so a preview can say exactly what was
done to each image, and :func:`genlab.ops.augment.apply_all` can replay it.
"""

from __future__ import annotations

import numpy as np

from ..batch import Batch
from ..ops.augment import augment_image
from ..params import Float
from ..seeding import sample_rngs
from .protocol import stage

__all__ = ["augment", "AUGMENT_PARAMS"]


def _p(default: float, what: str) -> Float:
    return Float(default, low=0.0, high=1.0, help=f"probability of {what}")


AUGMENT_PARAMS = {
    "hflip": _p(0.5, "a horizontal flip"),
    "vflip": _p(0.0, "a vertical flip"),
    "rotate90": _p(0.0, "a rotation by a random multiple of 90 degrees (True means 1)"),
    "rotation_p": _p(0.0, "a rotation by a random angle"),
    "rotation_degrees": Float(15.0, low=0.0, high=180.0, step=1.0, help="largest rotation angle, degrees"),
    "crop_p": _p(0.0, "a random resized crop"),
    "crop_scale": Float(0.5, low=0.05, high=1.0, help="smallest crop area, as a fraction of the image"),
    "brightness_p": _p(0.0, "a brightness change"),
    "brightness": Float(0.2, low=0.0, high=1.0, help="brightness factor drawn from [1-m, 1+m]"),
    "contrast_p": _p(0.0, "a contrast change"),
    "contrast": Float(0.2, low=0.0, high=1.0, help="contrast factor drawn from [1-m, 1+m]"),
    "saturation_p": _p(0.0, "a saturation change"),
    "saturation": Float(0.2, low=0.0, high=1.0, help="saturation factor drawn from [1-m, 1+m]"),
    "noise_p": _p(0.0, "added gaussian noise"),
    "noise_std": Float(10.0, low=0.0, high=100.0, step=0.5, help="noise standard deviation, in 0-255 pixel units"),
    "cutout_p": _p(0.0, "a cutout (one black square)"),
    "cutout_size": Float(0.25, low=0.01, high=0.9, help="cutout side as a fraction of the image side"),
}  # fmt: skip


@stage(params=AUGMENT_PARAMS)
def augment(batch: Batch, **params) -> Batch:
    """Apply the enabled random augmentations to each uint8 image of the batch."""
    x = batch.x
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4:
        got = f"{x.dtype} array of shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"augment works on uint8 N x H x W x 3 images (put it before rescale_images), got {got}")
    out = np.empty_like(x)
    applied = []
    for i, rng in enumerate(sample_rngs(batch.info, "augment", len(x))):
        out[i], records = augment_image(x[i], rng, params)
        applied.append(tuple(records))
    return batch.replace(x=out, applied=tuple(applied))
