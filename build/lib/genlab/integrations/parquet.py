"""Write source batches as Parquet in the Hugging Face ``datasets`` layout (``materialize(format="parquet")``).

Each file holds an ``image`` column, a struct ``{bytes, path}`` with every image file as it is
stored (no decode, no re-encode), and a ``label`` column: the class index (``ClassLabel``), or for
multi-label data the list of class indices (a list of ``ClassLabel``). The schema's
``huggingface`` metadata names the features and the classes, so ``datasets.load_dataset("parquet",
data_files=...)`` gives an ``Image`` column and the class names, and ``Pipeline.from_parquet``
reads the files back with the same names. One row group per source batch.
"""

from __future__ import annotations

import io
import json
import posixpath
from collections.abc import Sequence

import numpy as np

from .shard_files import stored_samples, write_shard

__all__ = ["hf_schema", "write_parquet_task", "parquet_name"]


def parquet_name(number: int, total: int) -> str:
    """The file name of part ``number`` of ``total``, as the hub names them.

    >>> parquet_name(0, 4)
    'train-00000-of-00004.parquet'
    """
    return f"train-{number:05d}-of-{total:05d}.parquet"


def hf_schema(class_names: Sequence[str], multi_label: bool):
    """The Arrow schema of genlab's Parquet output, with the ``huggingface`` features metadata."""
    import pyarrow as pa

    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    label = {"names": list(class_names), "_type": "ClassLabel"}
    if multi_label:
        label = {"feature": label, "_type": "List"}
    features = {"image": {"_type": "Image"}, "label": label}
    meta = {"huggingface": json.dumps({"info": {"features": features}})}
    label_type = pa.list_(pa.int64()) if multi_label else pa.int64()
    return pa.schema([("image", image), ("label", label_type)], metadata=meta)


def write_parquet_task(shared: tuple, task: tuple[int, int, list]) -> list[dict]:
    """Write part ``number`` of ``total`` from the source batches ``task``; its manifest record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    _pipeline, job = shared
    number, total, batches = task
    schema = hf_schema(job.class_names, job.multi_label)
    buffer, n, skipped = io.BytesIO(), 0, []
    with pq.ParquetWriter(buffer, schema) as writer:
        for batch in batches:
            images, labels = [], []
            for i, path, data, _ext in stored_samples(batch, skipped):
                row = np.asarray(batch.y[i])
                images.append({"bytes": data, "path": posixpath.basename(path.split("::")[0])})
                labels.append(
                    np.flatnonzero(row).tolist() if job.multi_label else int(row.argmax())
                )
            if images:
                writer.write_table(pa.table([images, labels], schema=schema))
                n += len(images)
    return write_shard(job, parquet_name(number, total), buffer.getvalue(), n, skipped)
