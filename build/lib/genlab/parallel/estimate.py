"""How much memory a streaming run will hold, known before it starts.

The batches in flight are bounded, never the dataset: each worker may hold
``prefetch`` finished batches, the consumer holds the one it is using (and
the previous one while asking for the next), and each worker builds one
batch at a time through the stages (the uint8 images, the augmented copy,
the float32 result).  The shape and dtype come from the stage settings:
``read_images``' ``target_size`` and ``rescale_images``' ``dtype``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import psutil

from ..memory import format_bytes, nbytes_of, streaming_footprint

__all__ = [
    "MemoryBudgetWarning",
    "MemoryEstimate",
    "batch_layout",
    "estimate_memory",
    "check_memory",
]

HELD_BY_CONSUMER = 2
"""Batches the consumer may hold: the current one and the previous one during ``next()``."""

WORK_COPIES = 3
"""Batches a worker holds while building one: the stage input, its output and a temporary."""


class MemoryBudgetWarning(UserWarning):
    """A run would hold more memory than is available (shown by default, unlike ResourceWarning)."""


def batch_layout(pipeline) -> tuple[tuple[int, ...], np.dtype] | None:
    """Shape and dtype of the batches the enabled stages produce, from their settings.

    None when no enabled ``read_images`` stage says what size the images are.
    Stages genlab does not know are assumed to keep shape and dtype.
    """
    shape: tuple[int, ...] | None = None
    dtype = np.dtype(np.uint8)
    for config in pipeline.stages:
        if not config.enabled:
            continue
        if config.name == "read_images":
            width, height = config.params["target_size"]
            shape = (pipeline.batch_size, int(height), int(width), 3)
            dtype = np.dtype(np.uint8)
        elif config.name == "rescale_images" and shape is not None:
            dtype = np.dtype(config.params.get("dtype", "float32"))
    return None if shape is None else (shape, dtype)


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a streaming run holds at most for its batches, and the memory available."""

    batch_shape: tuple[int, ...]
    dtype: str
    num_workers: int
    prefetch: int
    batch_bytes: int
    in_flight_bytes: int
    working_bytes: int
    available: int

    @property
    def total(self) -> int:
        """Bytes the run holds at most: batches in flight plus the workers' working memory."""
        return self.in_flight_bytes + self.working_bytes

    @property
    def fits(self) -> bool:
        """Whether :attr:`total` fits in the memory available."""
        return self.total <= self.available

    def __str__(self) -> str:
        shape = "x".join(str(n) for n in self.batch_shape)
        return (
            f"{format_bytes(self.total)} for batches ({shape} {self.dtype}, {format_bytes(self.batch_bytes)} each): "
            f"{format_bytes(self.in_flight_bytes)} in flight with {self.num_workers} workers x prefetch "
            f"{self.prefetch} + {HELD_BY_CONSUMER} held, {format_bytes(self.working_bytes)} being built; "
            f"{format_bytes(self.available)} available"
        )


def estimate_memory(
    pipeline, num_workers: int | None = None, prefetch: int | None = None
) -> MemoryEstimate | None:
    """Estimate the batch memory of iterating ``pipeline``; None if its batch size is unknown.

    Parameters
    ----------
    pipeline : genlab.Pipeline
        The pipeline; its ``num_workers`` and ``prefetch`` unless given here.
    num_workers, prefetch : int, optional
        Settings to estimate instead of the pipeline's.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> p = NS(batch_size=32, num_workers=2, prefetch=2, stages=[
    ...     NS(name="read_images", enabled=True, params={"target_size": (224, 224)}),
    ...     NS(name="rescale_images", enabled=True, params={"dtype": "float32"})])
    >>> e = estimate_memory(p)
    >>> e.batch_shape, e.dtype, format_bytes(e.batch_bytes), format_bytes(e.total)
    ((32, 224, 224, 3), 'float32', '18.4 MiB', '220.5 MiB')
    """
    layout = batch_layout(pipeline)
    if layout is None:
        return None
    shape, dtype = layout
    workers = pipeline.num_workers if num_workers is None else num_workers
    prefetch = pipeline.prefetch if prefetch is None else prefetch
    batch_bytes = nbytes_of(shape, dtype)
    in_flight = streaming_footprint(shape, dtype, prefetch=prefetch, workers=workers)
    in_flight += HELD_BY_CONSUMER * batch_bytes if workers > 0 else 0
    working = WORK_COPIES * batch_bytes * max(1, workers)
    return MemoryEstimate(
        batch_shape=tuple(shape), dtype=dtype.name, num_workers=workers, prefetch=prefetch,
        batch_bytes=batch_bytes, in_flight_bytes=in_flight, working_bytes=working,
        available=psutil.virtual_memory().available,
    )  # fmt: skip


def check_memory(
    pipeline, num_workers: int | None = None, prefetch: int | None = None
) -> MemoryEstimate | None:
    """:func:`estimate_memory`, warning with :class:`MemoryBudgetWarning` when it exceeds what is free."""
    estimate = estimate_memory(pipeline, num_workers, prefetch)
    if estimate is not None and not estimate.fits:
        warnings.warn(
            f"this run would hold {estimate}; lower batch_size, prefetch or num_workers",
            MemoryBudgetWarning,
            stacklevel=3,
        )
    return estimate
