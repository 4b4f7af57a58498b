"""Replaying records: apply what a pipeline stored in ``batch.info.applied`` to an image again, exactly.

Every record is an op record, ``{"op": name, **drawn}``, looked up in the one stage registry
(:func:`~genlab.transforms.op.get_op`). The compatibility path: the members of the classic
``augment`` (:mod:`genlab.transforms.classic`) that are not registered ops of their own
(``rotation``, ``crop``, ``brightness``, ``contrast``, ``saturation``, ``noise``, ``cutout``)
are found among its members; ``hflip``, ``vflip`` and ``rotate90`` records replay through the
registered ops, whose records and pixels are the same.

>>> import numpy as np
>>> from genlab.transforms.classic import augment_image
>>> img = np.random.default_rng(0).integers(0, 256, (6, 6, 3), dtype=np.uint8)
>>> params = {"hflip": 1.0, "crop_p": 1.0, "noise_p": 1.0}
>>> out, records = augment_image(img, np.random.default_rng(1), params)
>>> [r["op"] for r in records]
['hflip', 'crop', 'noise']
>>> bool((replay(img, records) == out).all())
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..targets import TargetFormat, Targets
from .classic import MEMBERS
from .op import BatchOp, _op_or_none, get_op
from .target_kernels import carry_targets

__all__ = ["replay", "replay_targets"]


def replay(image: np.ndarray, records: Sequence[Mapping]) -> np.ndarray:
    """Apply per-sample records (as stored in ``batch.info.applied``) to one image, in order.

    Records of the classic ``augment`` stage replay too. Batch-mixing records need the whole
    batch: see ``genlab.transforms.mixing.replay_batch``.
    """
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3):
        raise ValueError(f"image must be a uint8 H x W x 3 array, got {image!r:.80}")
    out = image
    for record in records:
        name = record.get("op")
        op = _op_or_none(name) or MEMBERS.get(name)
        if op is None:
            raise ValueError(f"unknown op {name!r} in record {dict(record)!r}")
        if isinstance(op, BatchOp):
            raise ValueError(f"record {dict(record)!r} mixes samples; replay it with replay_batch")
        out = op.apply(out, record)
    return np.ascontiguousarray(out)


def replay_targets(
    image: np.ndarray,
    targets: Targets | None,
    records: Sequence[Mapping[str, Any]],
    fmt: TargetFormat | None = None,
) -> tuple[np.ndarray, Targets | None]:
    """Apply one sample's records (``batch.info.applied[i]``) to its image AND its targets.

    Given the image and targets the first op received, this gives the sample's image and
    targets exactly (the same kernels, the same records). Batch-mixing records need the batch.
    """
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3):
        raise ValueError(f"image must be a uint8 H x W x 3 array, got {image!r:.80}")
    out = image
    for record in records:
        op = get_op(record.get("op"))
        if isinstance(op, BatchOp):
            raise ValueError(f"record {dict(record)!r} mixes samples; it cannot replay alone")
        targets, _ = carry_targets(op, targets, record, out.shape[:2], fmt)
        out = replay(out, [record])
    return out, targets
