"""What the writers of tar shards and Parquet files share: each sample's stored bytes, and the file.

:func:`stored_samples` gives the samples of a source batch with the bytes to store (a sample whose
file cannot be read is recorded in ``skipped`` with its reason); :func:`write_shard` writes one
finished file to the destination and returns its manifest record.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator
from typing import Any

from ..batch import Batch
from ..sources.storage import sample_bytes

__all__ = ["stored_samples", "write_shard"]


def stored_samples(batch: Batch, skipped: list) -> Iterator[tuple[int, str, bytes, str]]:
    """``(position, path, bytes, image extension)`` per readable sample of a source ``batch``;
    ``[path, reason]`` appended to ``skipped`` for each one that cannot be read."""
    policy = batch.info.extra.get("retry")
    for i, item in enumerate(batch.x):
        path = batch.info.paths[i] if batch.info.paths is not None else str(item)
        try:
            data, ext = sample_bytes(item, path, policy)
        except OSError as e:
            skipped.append([path, str(e)])
            continue
        yield i, path, data, ext


def write_shard(job: Any, name: str, data: bytes, n: int, skipped: list) -> list[dict]:
    """Write ``data`` as ``name`` under ``job.dest``; its manifest record (in a list, as tasks
    return them)."""
    import fsspec  # fsspec takes ~0.4 s to import: only when files are written

    with fsspec.open(posixpath.join(job.dest, name), "wb", **job.storage_options) as f:
        f.write(data)
    return [{
        "file": name, "n": n, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "skipped": skipped,
    }]  # fmt: skip
