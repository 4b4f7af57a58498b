"""``trace``: a pass-through stage that prints what flows by (Beazley's debugging idea)."""

from __future__ import annotations

import sys

import numpy as np

from ..batch import Batch
from ..params import Text
from .protocol import stage

__all__ = ["trace", "describe_batch"]


def describe_batch(batch: Batch) -> str:
    """One line: shapes, dtypes, value range and bytes of a batch."""
    x = batch.x
    if isinstance(x, np.ndarray) and x.size:
        data = f"x {x.shape} {x.dtype} [{x.min():.3g}, {x.max():.3g}] {x.nbytes} B"
    else:
        data = f"x {type(x).__name__} of {len(x)}"
    info = batch.info
    return f"epoch {info.epoch} batch {info.index}: {data}; y {np.shape(batch.y)}; skipped {len(info.skipped)}"


@stage(params={"label": Text("trace", help="prefix of each printed line")})
def trace(batch: Batch, *, label) -> Batch:
    """Print one line per batch to stderr and pass the batch on unchanged."""
    print(f"[{label}] {describe_batch(batch)}", file=sys.stderr)
    return batch
