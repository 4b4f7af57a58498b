"""Streamed sources batched: a stream of samples (tar shards, Parquet row groups) becomes batches.

The unit order of an epoch (:func:`shard_order`: shards or row groups, reshuffled per epoch and
split among workers and ranks), a bounded shuffle buffer, and the batching loop that reports each
skipped sample in the next batch delivered (:func:`stream_batches`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np

from ..batch import Batch, BatchInfo
from ..seeding import epoch_rng, stream_id
from ..targets import TargetFormat, Targets
from .labels import label_rows
from .tar_stream import Skip

__all__ = ["shard_order", "stream_batches"]


def shard_order(
    n: int, *, shuffle: bool, seed: int, epoch: int, split: tuple[int, int]
) -> list[int]:
    """The positions of the shards this split reads in ``epoch``: the seeded order, every count-th.

    >>> shard_order(5, shuffle=False, seed=0, epoch=0, split=(1, 2))
    [1, 3]
    """
    order = epoch_rng(seed, "shards", epoch).permutation(n) if shuffle else np.arange(n)
    index, count = split
    return [int(i) for i in order[index::count]]


def _shuffled(items: Iterator, size: int, rng: np.random.Generator) -> Iterator:
    """A bounded shuffle buffer: holds at most ``size`` samples; Skip records pass straight through."""
    buffer: list = []
    for item in items:
        if isinstance(item, Skip):
            yield item
        elif len(buffer) < size:
            buffer.append(item)
        else:
            j = int(rng.integers(size))
            yield buffer[j]
            buffer[j] = item
    while buffer:
        j = int(rng.integers(len(buffer)))
        buffer[j], buffer[-1] = buffer[-1], buffer[j]
        yield buffer.pop()


def stream_batches(
    items: Iterator[tuple | Skip],
    class_names: Sequence[str],
    multi_label: bool,
    *,
    batch_size: int,
    shuffle: bool,
    shuffle_buffer: int,
    drop_last: bool,
    seed: int,
    epoch: int,
    split: tuple[int, int],
    policy=None,
    buffer_stream: str,
    what: str,
    target_format: TargetFormat | None = None,
) -> Iterator[Batch]:
    """Batches of a stream of ``(key, name, data, class code)`` samples and :class:`Skip` records
    (multi-label: a tuple of codes per sample); the batch's label rows are made from the codes.

    The stream is mixed in a bounded buffer of ``shuffle_buffer`` samples (seeded from ``seed``,
    ``buffer_stream``, ``epoch`` and ``split``) when ``shuffle``; skips are reported in the next
    batch delivered. Tar shards and Parquet row groups are both streamed through here.
    """
    class_names = tuple(class_names)
    if shuffle:
        rng = np.random.default_rng([seed, stream_id(buffer_stream), epoch, split[0], split[1]])
        items = _shuffled(items, shuffle_buffer, rng)
    extra = {"retry": policy} if policy is not None else {}
    skipped: list[tuple[str, str]] = []
    pending: Batch | None = None
    number = 0
    samples: list[tuple] = []

    def make(group: list[tuple]) -> Batch:
        info = BatchInfo(
            seed, epoch, number, np.array([s[0] for s in group], np.int64), tuple(s[1] for s in group),
            class_names=class_names, extra=dict(extra),
        )  # fmt: skip
        y = label_rows([s[3] for s in group], len(class_names), multi_label)
        if any(len(s) > 4 and s[4] is not None for s in group):  # a shard's .json targets
            fmt = target_format or TargetFormat(class_names=class_names)
            targets = tuple(s[4] if len(s) > 4 and s[4] is not None else Targets() for s in group)
            info = dataclasses.replace(info, targets=targets, target_format=fmt)
        return Batch([s[2] for s in group], y, info)

    for item in items:
        if isinstance(item, Skip):
            skipped.append((item.where, item.reason))
            continue
        samples.append(item)
        if len(samples) == batch_size:
            if pending is not None:
                yield _with_skips(pending, skipped)
                skipped = []
            pending, samples, number = make(samples), [], number + 1
    if samples and not drop_last:
        if pending is not None:
            yield _with_skips(pending, skipped)
            skipped = []
        pending = make(samples)
    if pending is not None:
        yield _with_skips(pending, skipped)
    elif skipped:
        raise OSError(
            f"{what}: no sample could be read; first problem: {skipped[0][0]}: {skipped[0][1]}"
        )


def _with_skips(batch: Batch, skipped: list[tuple[str, str]]) -> Batch:
    if not skipped:
        return batch
    return batch.replace(skipped=batch.info.skipped + tuple(skipped))
