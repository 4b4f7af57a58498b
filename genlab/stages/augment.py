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
from ..params import Int
from ..seeding import sample_rngs
from .protocol import stage

__all__ = ["augment"]


@stage(
    params={
        **AUGMENT_PARAMS,
        "seed": Int(
            0, low=0, high=2**31 - 1, help="change it for new random draws on the same images"
        ),
    }
)
def augment(batch: Batch, *, seed: int, **params) -> Batch:
    """Apply the enabled random augmentations to each uint8 image of the batch.

    ``seed`` is mixed into this stage's draws only (0: the pipeline seed alone), so a new
    draw leaves the sample order, and every other stage, as it was.
    """
    x = batch.x
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4:
        got = (
            f"{x.dtype} array of shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        )
        raise TypeError(
            f"augment works on uint8 N x H x W x 3 images (put it before rescale_images), got {got}"
        )
    out = np.empty_like(x)
    drawn = []
    stream = "augment" if seed == 0 else f"augment/{seed}"
    for i, rng in enumerate(sample_rngs(batch.info, stream, len(x))):
        records = draw_all(rng, params, x[i].shape)
        out[i] = apply_all(x[i], records)
        drawn.append(records)
    return batch.replace(x=out, applied=batch.info.with_applied(drawn))
