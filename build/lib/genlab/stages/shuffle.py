"""``shuffle_samples``: shuffle the samples inside a batch, labels kept aligned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import registry
from ..batch import Batch
from .protocol import stage

__all__ = ["shuffle_before_rescale", "shuffle_samples"]


@stage
def shuffle_samples(batch: Batch, *, rng) -> Batch:
    """Permute the samples of the batch (seeded by pipeline seed, epoch and batch).

    Whole-dataset shuffling is the source's job (``dataset(shuffle=True)``); this stage
    only mixes the order inside a batch, as the classic post does.
    """
    return batch.select(rng.permutation(batch.size))


def shuffle_before_rescale(configs: Sequence[Any]) -> list[Any]:
    """The stages ``configs`` (``.name``) with a ``shuffle_samples`` right after ``rescale_images`` moved before it.

    Same batches, cheaper: rescaling computes every pixel from itself alone, with the same
    constants for every sample, so it commutes with a permutation of the samples; and the
    permutation is drawn from the batch's info (seed, epoch, first key), which rescaling
    keeps. Before the float conversion the permutation moves the uint8 pixels, a quarter of
    the float32 bytes. Only genlab's own two stages are swapped, never a user's of that name.

    >>> from types import SimpleNamespace as S
    >>> names = ["read_images", "rescale_images", "shuffle_samples"]
    >>> [c.name for c in shuffle_before_rescale([S(name=n) for n in names])]
    ['read_images', 'shuffle_samples', 'rescale_images']
    """
    from .rescale import rescale_images

    own = {"rescale_images": rescale_images, "shuffle_samples": shuffle_samples}
    if any(registry.get(name).factory is not factory for name, factory in own.items()):
        return list(configs)
    out = list(configs)
    for i in range(len(out) - 1):
        if (out[i].name, out[i + 1].name) == ("rescale_images", "shuffle_samples"):
            out[i], out[i + 1] = out[i + 1], out[i]
    return out
