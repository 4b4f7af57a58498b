"""The source of a pipeline: batches of ``(paths, one-hot labels)`` from a class-folder dataset."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence

import numpy as np

from ..batch import Batch, BatchInfo
from ..params import Bool, Int, Param, Text, validate_params
from ..seeding import epoch_rng
from .discover import IMAGE_EXTENSIONS, DatasetIndex, index_folder

__all__ = ["dataset", "epoch_order", "n_batches", "index_batches", "SOURCE_PARAMS", "BATCH_PARAMS"]


class RetrySettings(Param):
    """Retry settings for remote storage (``attempts``, ``timeout``, ``deadline``, ``backoff``)."""

    kind = "retry"

    def coerce(self, value):
        from .remote import check_retry_settings  # fsspec (~0.4 s): only for remote roots

        return check_retry_settings(value)


BATCH_PARAMS: dict[str, Param] = {
    "batch_size": Int(32, low=1, high=65536, help="samples per batch"),
    "shuffle": Bool(True, help="shuffle the sample order over the whole dataset, anew each epoch"),
    "drop_last": Bool(False, help="drop the last batch when it is smaller than batch_size"),
    "retry": RetrySettings(
        None, optional=True, help="remote retry settings; unset ones come from GENLAB_REMOTE_*"
    ),
}

SOURCE_PARAMS: dict[str, Param] = {
    "root": Text("", help="class-folder dataset: a local path or an fsspec URL"),
    **BATCH_PARAMS,
}


def epoch_order(n: int, *, shuffle: bool, seed: int, epoch: int) -> np.ndarray:
    """The order of the sample keys in an epoch: seeded, and different every epoch.

    >>> epoch_order(5, shuffle=False, seed=0, epoch=0).tolist()
    [0, 1, 2, 3, 4]
    >>> epoch_order(5, shuffle=True, seed=0, epoch=1).tolist() == epoch_order(5, shuffle=True, seed=0, epoch=1).tolist()
    True
    """
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return epoch_rng(seed, "dataset", epoch).permutation(n).astype(np.int64)


def n_batches(n_samples: int, batch_size: int, drop_last: bool) -> int:
    """How many batches an epoch of ``n_samples`` gives."""
    return n_samples // batch_size if drop_last else math.ceil(n_samples / batch_size)


def dataset(
    root: str | os.PathLike,
    batch_size: int = 32,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: int = 0,
    epoch: int = 0,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    index: DatasetIndex | None = None,
    retry: dict | None = None,
) -> Iterator[Batch]:
    """Yield one epoch of ``(paths, one-hot labels)`` batches from a class-folder dataset.

    The order is shuffled over the whole dataset (seeded, anew each epoch) unless
    ``shuffle=False``: shuffling only inside a batch leaves most batches holding a single
    class when the files are listed folder by folder. Arguments are checked, and the folder
    listed, at the call, before the first ``next()``.

    Parameters
    ----------
    root
        A local folder or an fsspec URL holding one subfolder per class.
    batch_size, shuffle, drop_last
        Batching of the epoch.
    seed, epoch
        Together they fix the order of the epoch.
    index
        A listing made earlier by :func:`index_folder`, to avoid listing again.
    retry
        Retry settings for a remote root (see :class:`~genlab.sources.remote.RetryPolicy`); they
        travel with each batch to ``read_images``.
    """
    given = {
        "root": str(root),
        "batch_size": batch_size,
        "shuffle": shuffle,
        "drop_last": drop_last,
        "retry": retry,
    }
    params = validate_params("dataset", SOURCE_PARAMS, given)
    policy = policy_from_settings(params["retry"])
    if index is None:
        index = index_folder(params["root"], extensions, policy)
    return index_batches(index, params, seed=seed, epoch=epoch, policy=policy)


def index_batches(
    index: DatasetIndex, params: dict, *, seed: int, epoch: int, policy=None
) -> Iterator[Batch]:
    """The batches of an epoch over a listing (a class folder's or a table's): paths and labels."""
    order = epoch_order(len(index), shuffle=params["shuffle"], seed=seed, epoch=epoch)
    return _batches(index, order, params["batch_size"], params["drop_last"], seed, epoch, policy)


def _batches(
    index: DatasetIndex,
    order: np.ndarray,
    batch_size: int,
    drop_last: bool,
    seed: int,
    epoch: int,
    policy=None,
) -> Iterator[Batch]:
    extra = {"retry": policy} if policy is not None else {}
    for number in range(n_batches(len(order), batch_size, drop_last)):
        keys = order[number * batch_size : (number + 1) * batch_size]
        paths = tuple(index.paths[k] for k in keys)
        info = BatchInfo(
            seed, epoch, number, keys, paths, class_names=index.class_names, extra=dict(extra)
        )
        yield Batch(list(paths), index.one_hot(keys), info)


def policy_from_settings(settings: dict | None):
    """The :class:`~genlab.sources.remote.RetryPolicy` of ``retry`` settings, None when unset."""
    if not settings:
        return None
    from .remote import policy_from_settings as from_settings  # fsspec (~0.4 s), as above

    return from_settings(settings)
