"""The unit that flows through a pipeline: a ``(x, y)`` pair that also knows where it came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["Batch", "BatchInfo"]


@dataclass(frozen=True)
class BatchInfo:
    """What a batch carries besides its data.

    Parameters
    ----------
    seed, epoch, index
        The pipeline seed, the epoch and the batch's number within the epoch. Every random
        draw in genlab derives from these and the sample keys, never from global state.
    keys
        One integer per sample: the sample's position in the dataset's sorted file index.
        Stable across epochs and across worker processes. ``None`` when unknown (for
        example after a hand-written stage changed the number of samples).
    paths
        The file each sample was read from, when known.
    applied
        Per sample, the list of augmentation records ``augment`` drew for it.
    skipped
        ``(path, reason)`` for every file dropped from this batch.
    class_names
        The names behind the one-hot columns of ``y``.
    targets
        Per sample, its boxes, masks and keypoints (a :class:`genlab.targets.Targets`, or None),
        when the source reads annotations; None for classification data.
    target_format
        The pipeline's :class:`genlab.targets.TargetFormat` (formats, class and keypoint names,
        flip pairs, ``min_area`` / ``min_visibility``), when there are targets.
    """

    seed: int = 0
    epoch: int = 0
    index: int = 0
    keys: np.ndarray | None = None
    paths: tuple[str, ...] | None = None
    applied: tuple[tuple[dict, ...], ...] | None = None
    skipped: tuple[tuple[str, str], ...] = ()
    class_names: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    targets: tuple[Any, ...] | None = None
    target_format: Any = None

    def with_applied(self, records: Sequence[Sequence[dict]]) -> tuple[tuple[dict, ...], ...]:
        """``applied`` with ``records[i]`` (what a stage drew for sample ``i``) added after each sample's own.

        Records that do not line up with ``records`` (none yet, or a stage changed the samples)
        start empty.

        >>> BatchInfo(applied=(({"op": "hflip"},), ())).with_applied([(), ({"op": "vflip"},)])
        (({'op': 'hflip'},), ({'op': 'vflip'},))
        """
        prior = self.applied
        if prior is None or len(prior) != len(records):
            prior = ((),) * len(records)
        return tuple(tuple(p) + tuple(r) for p, r in zip(prior, records))

    def select(self, indices: Sequence[int] | np.ndarray) -> BatchInfo:
        """Keep the per-sample fields of the samples at ``indices``, in that order."""
        idx = np.asarray(indices, dtype=np.intp)
        return replace(
            self,
            keys=None if self.keys is None else self.keys[idx],
            paths=None if self.paths is None else tuple(self.paths[i] for i in idx),
            applied=None if self.applied is None else tuple(self.applied[i] for i in idx),
            targets=None if self.targets is None else tuple(self.targets[i] for i in idx),
        )


class Batch(tuple):
    """A ``(x, y)`` tuple that also carries a :class:`BatchInfo` as ``.info``.

    It unpacks like the classic post's tuples, so hand-written stages keep working:

    >>> import numpy as np
    >>> b = Batch(np.zeros((2, 4, 4, 3), np.uint8), np.eye(2, dtype=np.int64))
    >>> x, y = b
    >>> x.shape, len(b.info.skipped)
    ((2, 4, 4, 3), 0)
    >>> b.select([1]).y.tolist()
    [[0, 1]]
    """

    info: BatchInfo

    def __new__(cls, x: Any, y: Any, info: BatchInfo | None = None) -> Batch:
        self = super().__new__(cls, (x, y))
        self.info = info if info is not None else BatchInfo()
        return self

    def __reduce__(self):
        return (Batch, (self[0], self[1], self.info))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The images ``x`` as an array, NumPy 2's protocol (``copy`` as ``numpy.asarray`` gives it).

        >>> import numpy as np
        >>> b = Batch(np.zeros((2, 4, 4, 3), np.uint8), np.eye(2, dtype=np.int64))
        >>> np.asarray(b).shape, np.asarray(b, copy=True) is not b.x, np.asarray(b, dtype=np.float32).dtype.name
        ((2, 4, 4, 3), True, 'float32')
        """
        x = self[0]
        if copy is False:
            if not isinstance(x, np.ndarray) or (dtype is not None and np.dtype(dtype) != x.dtype):
                raise ValueError("Batch: x cannot be given as an array without a copy (copy=False)")
            return x
        out = np.asarray(x, dtype=dtype)
        if copy and out is x:
            out = out.copy()
        return out

    @property
    def x(self) -> Any:
        """The samples: a list of paths from a source, an array after ``read_images``."""
        return self[0]

    @property
    def y(self) -> Any:
        """The one-hot labels, aligned with ``x``."""
        return self[1]

    @property
    def targets(self) -> tuple | None:
        """Per sample, its :class:`genlab.targets.Targets` (boxes, masks, keypoints), or None
        when the batch has no targets (classification)."""
        return self.info.targets

    @property
    def size(self) -> int:
        """The number of samples in the batch."""
        return len(self[1])

    def replace(self, x: Any = None, y: Any = None, **info_changes: Any) -> Batch:
        """A new batch with ``x``, ``y`` or fields of the info replaced."""
        info = replace(self.info, **info_changes) if info_changes else self.info
        return Batch(self.x if x is None else x, self.y if y is None else y, info)

    def select(self, indices: Sequence[int] | np.ndarray) -> Batch:
        """The samples at ``indices`` (ints or a boolean mask), with labels and info kept aligned."""
        idx = np.asarray(indices)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        x = self.x[idx] if isinstance(self.x, np.ndarray) else [self.x[i] for i in idx]
        return Batch(x, self.y[idx], self.info.select(idx))

    def __repr__(self) -> str:
        def describe(v: Any) -> str:
            if isinstance(v, np.ndarray):
                return f"array(shape={v.shape}, dtype={v.dtype})"
            return f"{type(v).__name__}(len={len(v)})"

        return (
            f"Batch(x={describe(self.x)}, y={describe(self.y)}, "
            f"epoch={self.info.epoch}, index={self.info.index})"
        )
