"""``augment``: random flips, rotations, crops, colour jitter, noise and cutout, per sample.

Every sample's draws come from its own generator (seed, "augment", epoch, sample key),
so they do not depend on the batch it lands in, on other stages, or on worker count.
What was drawn is kept in ``batch.info.applied`` so a preview can say exactly what was
done to each image, and :func:`genlab.ops.augment.apply_all` can replay it.
"""

from __future__ import annotations

import numpy as np

from ..batch import Batch
from ..ops.augment import AUGMENT_PARAMS, apply_all, draw_all
from ..seeding import sample_rngs
from .protocol import stage

__all__ = ["augment"]


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
        records = draw_all(rng, params, x[i].shape)
        out[i] = apply_all(x[i], records)
        applied.append(tuple(records))
    return batch.replace(x=out, applied=tuple(applied))
