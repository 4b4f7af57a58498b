"""PyTorch: a pipeline as an ``IterableDataset`` that shards itself among workers and ranks.

>>> from torch.utils.data import DataLoader                           # doctest: +SKIP
>>> data = as_iterable_dataset(pipeline)                              # doctest: +SKIP
>>> loader = DataLoader(data, batch_size=None, num_workers=4)         # doctest: +SKIP
>>> for epoch in range(10):                                           # doctest: +SKIP
...     data.set_epoch(epoch)
...     for x, y in loader: ...

The pipeline makes whole batches, so the DataLoader must not batch again: pass ``batch_size=None``
(or use :func:`make_dataloader`). Each DataLoader worker of each distributed rank runs one shard
(``Pipeline.shard``): shard ``rank + world_size * worker_id`` of
``world_size * num_workers``, so a rank's batches are ``rank, rank + world_size, ...`` whatever its
number of workers; every sample is delivered exactly once per epoch over all ranks and workers. torch is an optional extra, imported when this module is.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

try:
    import torch
    from torch.utils.data import IterableDataset
except ImportError:  # the module still imports (doctest collection); using it raises
    torch = None
    IterableDataset = object  # type: ignore[assignment,misc]

__all__ = [
    "TorchIterableDataset", "as_iterable_dataset", "make_dataloader", "distributed_rank",
    "detection_targets",
]  # fmt: skip

LABEL_FORMATS = ("onehot", "index", "detection")


def _require_torch() -> None:
    if torch is None:
        raise ImportError(
            "genlab.integrations.torch needs PyTorch: pip install 'genlab[torch]' (or torch)"
        )


def distributed_rank() -> tuple[int, int]:
    """``(rank, world_size)`` of this process: torch.distributed when initialised, else the
    ``RANK``/``WORLD_SIZE`` variables that ``torchrun`` sets, else ``(0, 1)``."""
    _require_torch()
    import torch.distributed as dist  # torch.distributed is only needed to ask for the rank

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


class TorchIterableDataset(IterableDataset):
    """An ``IterableDataset`` over a genlab pipeline, one item per pipeline batch.

    Parameters
    ----------
    pipeline : Pipeline
        The pipeline; it is pickled into each DataLoader worker with its listing.
    channels_first : bool
        Give ``x`` as N x C x H x W (PyTorch's layout) instead of the pipeline's N x H x W x C.
    labels : {"onehot", "index"}
        ``y`` as the pipeline's one-hot rows, or as class indices (what ``cross_entropy`` takes).
        A multi-label pipeline needs ``"onehot"`` (its multi-hot rows). ``"detection"``: ``y``
        is the batch's targets in torchvision's detection format (:func:`detection_targets`).
    with_keys : bool
        Yield ``(x, y, keys)``: the sample keys, to check coverage or look samples up.
    rank, world_size : int, optional
        The distributed rank and size; found with :func:`distributed_rank` when not given.
    even : bool
        Give every rank the same number of batches by leaving out the last
        ``len(pipeline) % world_size`` batches of each epoch (distributed training waits on the
        slowest rank at every step, and a rank with one batch more would wait forever).
    """

    def __init__(
        self,
        pipeline,
        *,
        channels_first: bool = True,
        labels: str = "index",
        with_keys: bool = False,
        rank: int | None = None,
        world_size: int | None = None,
        even: bool = False,
    ):
        _require_torch()
        if labels not in LABEL_FORMATS:
            raise ValueError(
                f"TorchIterableDataset: labels must be one of {LABEL_FORMATS}, got {labels!r}"
            )
        if labels == "detection" and getattr(pipeline, "target_format", None) is None:
            raise ValueError("TorchIterableDataset: labels='detection' needs a source with targets")
        if labels == "index" and getattr(pipeline, "multi_label", False):
            raise ValueError(
                "TorchIterableDataset: the pipeline is multi-label (a sample may carry several "
                "labels); use labels='onehot' for its multi-hot rows (e.g. with BCEWithLogitsLoss)"
            )
        if (rank is None) != (world_size is None):
            raise ValueError("TorchIterableDataset: give both rank and world_size, or neither")
        if world_size is not None and not 0 <= rank < world_size:
            raise ValueError(f"TorchIterableDataset: rank {rank!r} not in [0, {world_size!r})")
        super().__init__()
        self.pipeline = pipeline
        self.channels_first = channels_first
        self.labels = labels
        self.with_keys = with_keys
        self.rank, self.world_size = rank, world_size
        self.even = even
        # the epoch lives in shared memory, so that DataLoader workers that outlive an epoch
        # (persistent_workers=True) see set_epoch too: forked workers share the page, spawned
        # ones get the tensor through torch's pickler, which shares its storage
        self._epoch = torch.full((1,), pipeline.epoch, dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        """The epoch the next iteration runs."""
        return int(self._epoch[0])

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch the next iteration runs; call it before each epoch, as with
        ``DistributedSampler``.

        The count is kept in shared memory: DataLoader workers read it when an epoch starts,
        whether they are new every epoch or persistent (``persistent_workers=True``).
        """
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"set_epoch: epoch must be an int >= 0, got {epoch!r}")
        self._epoch[0] = epoch

    def _rank(self) -> tuple[int, int]:
        if self.world_size is not None:
            return self.rank, self.world_size
        return distributed_rank()

    def shard_index(self) -> tuple[int, int]:
        """``(index, count)`` of the shard this process runs, from rank and DataLoader worker."""
        rank, world_size = self._rank()
        worker = torch.utils.data.get_worker_info()
        worker_id, num_workers = (0, 1) if worker is None else (worker.id, worker.num_workers)
        return rank + world_size * worker_id, world_size * num_workers

    def _n_batches(self, world_size: int) -> int:
        """The epoch's batches that are delivered (all, or a multiple of ``world_size``)."""
        n = len(self.pipeline)
        return n - n % world_size if self.even else n

    def __len__(self) -> int:
        """Batches per epoch this rank delivers (all its workers together)."""
        rank, world_size = self._rank()
        return len(range(rank, self._n_batches(world_size), world_size))

    def __iter__(self):
        index, count = self.shard_index()
        limit = self._n_batches(self._rank()[1])
        for batch in self.pipeline.shard(index, count).iter_epoch(self.epoch):
            if batch.info.index >= limit:  # batches come in increasing number
                break
            yield self.convert(batch)

    def convert(self, batch) -> tuple[Any, ...]:
        """A pipeline batch as torch tensors."""
        x, y = batch
        x = torch.from_numpy(x)
        if self.channels_first and x.ndim == 4:
            x = x.permute(0, 3, 1, 2).contiguous()
        y = detection_targets(batch) if self.labels == "detection" else torch.from_numpy(y)
        if self.labels == "index":
            y = y.argmax(dim=1)
        if self.with_keys:
            keys = getattr(getattr(batch, "info", None), "keys", None)
            if keys is None:
                raise ValueError(
                    "with_keys=True, but a stage of the pipeline dropped the sample keys"
                )
            return x, y, torch.from_numpy(keys)
        return x, y


def detection_targets(batch, *, label_offset: int = 1) -> list[dict]:
    """A batch's targets as torchvision's detection models and references take them.

    One dict per sample: ``boxes`` FloatTensor[N, 4] ``xyxy`` pixels, ``labels`` Int64Tensor[N]
    (class id + ``label_offset``: torchvision's models keep label 0 for the background, so
    give them ``num_classes = len(class_names) + 1``), and when present ``masks``
    UInt8Tensor[N, H, W], ``keypoints`` FloatTensor[N, K, 3] and ``mask`` (semantic,
    Int64Tensor[H, W]). A mask whose size is not the image's is a ValueError (an op that moved
    the pixels but not the targets).
    """
    _require_torch()
    targets = getattr(getattr(batch, "info", None), "targets", None)
    if targets is None:
        raise ValueError(
            "detection_targets: the batch carries no targets (a classification source)"
        )
    size = tuple(np.shape(batch[0])[1:3])
    out = []
    for i, t in enumerate(targets):
        for name, m in (("masks", t.masks), ("mask", t.mask)):
            if m is not None and tuple(m.shape[-2:]) != size:
                raise ValueError(
                    f"detection_targets: sample {i}'s {name} is {m.shape[-2:]}, its image {size}"
                )
        d = {
            "boxes": torch.from_numpy(np.array(t.boxes, np.float32)),
            "labels": torch.from_numpy(t.labels + label_offset),
        }
        if t.masks is not None:
            d["masks"] = torch.from_numpy(np.ascontiguousarray(t.masks, np.uint8))
        if t.keypoints is not None:
            d["keypoints"] = torch.from_numpy(np.array(t.keypoints, np.float32))
        if t.mask is not None:
            d["mask"] = torch.from_numpy(t.mask.astype(np.int64))
        out.append(d)
    return out


def as_iterable_dataset(pipeline, **options: Any) -> TorchIterableDataset:
    """Wrap ``pipeline`` as a :class:`TorchIterableDataset` (options as its constructor)."""
    return TorchIterableDataset(pipeline, **options)


def make_dataloader(pipeline, num_workers: int = 0, **loader_options: Any):
    """A ``DataLoader`` over ``pipeline`` with ``batch_size=None`` (the pipeline batches).

    ``loader_options`` go to the DataLoader (``pin_memory``, ``persistent_workers``, ...), except
    the dataset's own ``channels_first``, ``labels``, ``with_keys``, ``rank``, ``world_size`` and
    ``even``.
    """
    _require_torch()
    dataset_keys = ("channels_first", "labels", "with_keys", "rank", "world_size", "even")
    dataset_options = {k: loader_options.pop(k) for k in dataset_keys if k in loader_options}
    if loader_options.get("batch_size") is not None:
        raise ValueError("make_dataloader: the pipeline makes the batches; do not pass batch_size")
    loader_options.pop("batch_size", None)
    data = TorchIterableDataset(pipeline, **dataset_options)
    return torch.utils.data.DataLoader(
        data, batch_size=None, num_workers=num_workers, **loader_options
    )
