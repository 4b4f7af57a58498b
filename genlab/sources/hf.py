"""Hugging Face ``datasets`` objects as genlab sources (the ``genlab[hf]`` extra).

:func:`hf_pipeline` (``Pipeline.from_hf``) takes the dataset a notebook already holds:

- a ``datasets.Dataset`` whose rows are the Arrow files it keeps on disk (``load_dataset``,
  ``load_from_disk``, its cache) becomes a ``parquet`` source over those files, streamed by record
  batch; its spec records the files, the columns and the ``ClassLabel`` names, so it is saved and
  reloaded like any other pipeline;
- a ``Dataset`` held in memory (``Dataset.from_dict``), or one whose rows are a selection of its
  files (after ``shuffle``, ``select``, ``filter``, ``train_test_split``), or whose columns no
  longer match them (after ``rename_column``), becomes an ``hf`` source streamed from the object,
  by blocks of ``rows_per_unit`` rows: it runs, copies and pickles to workers, but saving its spec
  (``save``, ``to_python``) is refused with the way out (``save_to_disk`` or ``to_parquet``, then
  ``from_hf`` / ``from_parquet`` on the files);
- a ``DatasetDict`` needs ``split=`` (or index it yourself: ``dataset["train"]``).

Images stay encoded: the rows are read as Arrow, so an ``Image()`` column is the ``{bytes, path}``
struct whether the dataset decodes to PIL images (the default) or not (``Image(decode=False)``),
and genlab's own decoders read them. ``IterableDataset`` is refused with the way out (it has no
row count nor row groups to split by; ``to_parquet`` a ``Dataset`` instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .parquet import ParquetIndex

__all__ = ["hf_pipeline", "parquet_pipeline", "HFIndex", "IN_MEMORY"]

IN_MEMORY = "<in-memory datasets.Dataset>"
_SOURCE_OPTIONS = (
    "image_column", "label_column", "class_names", "shuffle_buffer", "on_error", "shuffle",
    "drop_last", "retry",
)  # fmt: skip


def parquet_pipeline(cls, files, *, batch_size: int = 32, stages=None, **options: Any):
    """``Pipeline.from_parquet``: source options into the spec's source, the rest are run settings."""
    source = {k: options.pop(k) for k in _SOURCE_OPTIONS if k in options}
    source = {"files": list(files) if isinstance(files, (list, tuple)) else str(files),
              "batch_size": batch_size, **source}  # fmt: skip
    return cls(source, stages, source_kind="parquet", **options)


def _datasets():
    try:
        import datasets
    except ImportError as e:
        raise ImportError("Pipeline.from_hf needs datasets: pip install 'genlab[hf]'") from e
    return datasets


def _pick_split(dataset: Any, split: str | None):
    datasets = _datasets()
    if isinstance(dataset, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        if split is None or split not in dataset:
            raise ValueError(
                f"from_hf: a DatasetDict holds several splits {list(dataset)}; pass split= one of "
                f"them (got {split!r}), or dataset['train']"
            )
        dataset = dataset[split]
    elif split is not None:
        raise ValueError(f"from_hf: split={split!r} is only for a DatasetDict")
    if isinstance(dataset, datasets.IterableDataset):
        raise TypeError(
            "from_hf: an IterableDataset has no row count or row groups to split by; write it "
            "with Dataset.from_generator(...).to_parquet(path) and use Pipeline.from_parquet(path)"
        )
    if not isinstance(dataset, datasets.Dataset):
        raise TypeError(
            f"from_hf: expected a datasets.Dataset or DatasetDict, got {type(dataset).__name__}"
        )
    return dataset


def _feature_names(dataset, image_column: str, label_column: str) -> list[str] | None:
    names = list(dataset.column_names)
    for role, name in (("image_column", image_column), ("label_column", label_column)):
        if name not in names:
            raise ValueError(
                f"from_hf: {role} {name!r} is not a column of the dataset; columns: {names}"
            )
    feature = dataset.features[label_column]
    while not hasattr(feature, "names") and hasattr(feature, "feature"):
        feature = feature.feature  # Sequence / List of ClassLabel: multi-label
    return list(feature.names) if hasattr(feature, "names") else None


def _files_on_disk(dataset, image_column: str, label_column: str) -> list[str] | None:
    """The Arrow files whose rows are exactly the dataset's rows and columns, or None."""
    import pyarrow as pa

    files = [c["filename"] for c in dataset.cache_files]
    if not files or dataset._indices is not None:
        return None
    rows = 0
    for name in files:
        try:
            with pa.memory_map(name) as source:
                reader = pa.ipc.open_stream(source)
                if not {image_column, label_column} <= set(reader.schema.names):
                    return None
                rows += sum(batch.num_rows for batch in reader)
        except (OSError, pa.ArrowInvalid):
            return None
    return files if rows == dataset.num_rows else None


def hf_pipeline(
    cls,
    dataset: Any,
    *,
    image_column: str = "image",
    label_column: str = "label",
    split: str | None = None,
    class_names: Sequence[str] | None = None,
    rows_per_unit: int = 1000,
    batch_size: int = 32,
    stages=None,
    **options: Any,
):
    """A pipeline over a ``datasets`` Dataset or DatasetDict split (``Pipeline.from_hf``).

    Class names come from ``class_names``, else the label column's ``ClassLabel``, else the
    labels themselves. ``rows_per_unit`` sizes the blocks an in-memory dataset is streamed and
    split by (the row group of a file). Other options are those of ``Pipeline.from_parquet``.
    """
    dataset = _pick_split(dataset, split)
    names = _feature_names(dataset, image_column, label_column)
    names = list(class_names) if class_names is not None else names
    options.update(image_column=image_column, label_column=label_column, class_names=names)
    files = _files_on_disk(dataset, image_column, label_column)
    if files is not None:
        return parquet_pipeline(cls, files, batch_size=batch_size, stages=stages, **options)
    if not isinstance(rows_per_unit, int) or rows_per_unit < 1:
        raise ValueError(f"from_hf: rows_per_unit must be an int >= 1, got {rows_per_unit!r}")
    n = dataset.num_rows
    units = tuple(
        [rows_per_unit] * (n // rows_per_unit) + ([n % rows_per_unit] if n % rows_per_unit else [])
    )
    if names is None:
        from .parquet import _scan_class_names

        names = _scan_class_names([_DatasetFile(dataset, units)], label_column)
        options["class_names"] = names
    index = HFIndex(
        (IN_MEMORY,), (units,), image_column, label_column, tuple(str(c) for c in names),
        _is_multi(dataset, label_column), dataset=dataset,
    )  # fmt: skip
    source = {k: options.pop(k) for k in _SOURCE_OPTIONS if k in options}
    source = {"dataset": IN_MEMORY, "batch_size": batch_size, **source}
    return cls(source, stages, source_kind="hf", index=index, **options)


def _is_multi(dataset, label_column: str) -> bool:
    import pyarrow as pa

    arrow_type = dataset.data.schema.field(label_column).type
    return pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)


@dataclass
class _DatasetFile:
    """A dataset's rows cut in units, read like a file's row groups."""

    dataset: Any
    unit_rows: tuple[int, ...]

    def read_unit(self, unit: int, columns: Sequence[str]):
        start = sum(self.unit_rows[:unit])
        rows = self.dataset.select_columns(list(columns)).with_format("arrow")
        return rows[start : start + self.unit_rows[unit]]


@dataclass
class HFIndex(ParquetIndex):
    """The listing of an in-memory dataset: its blocks of rows, columns and class names."""

    dataset: Any = None

    def read_unit(self, position: int, unit: int, policy, opened: dict):
        """The image and label columns of block ``unit`` (Arrow; images stay encoded)."""
        reader = _DatasetFile(self.dataset, self.unit_rows[0])
        return reader.read_unit(unit, [self.image_column, self.label_column])
