"""``shuffle_samples``: shuffle the samples inside a batch, labels kept aligned."""

from __future__ import annotations

from ..batch import Batch
from .protocol import stage

__all__ = ["shuffle_samples"]


@stage
def shuffle_samples(batch: Batch, *, rng) -> Batch:
    """Permute the samples of the batch (seeded by pipeline seed, epoch and batch).

    Whole-dataset shuffling is the source's job (``dataset(shuffle=True)``); this stage
    only mixes the order inside a batch, as the classic post does.
    """
    return batch.select(rng.permutation(batch.size))
