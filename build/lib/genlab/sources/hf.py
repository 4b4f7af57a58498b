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
- an ``IterableDataset`` (``to_iterable_dataset``, ``from_generator``, ``load_dataset(...,
  streaming=True)`` on local files) is streamed shard by shard, its shards being the units (one
  shard: one unit, so a split of two gives one part all of it); the rows per shard and, without a
  ``ClassLabel``, the class names come from one pass over it when the pipeline is built. It is
  held in memory like the in-memory ``Dataset`` (not saveable);
- a ``DatasetDict`` needs ``split=`` (or index it yourself: ``dataset["train"]``).

Images stay encoded: the rows are read as Arrow, so an ``Image()`` column is the ``{bytes, path}``
struct whether the dataset decodes to PIL images (the default) or not (``Image(decode=False)``),
and genlab's own decoders read them; PIL images a generator yields are encoded by ``datasets``
(PNG) on the way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .parquet import ParquetIndex
from .parquet_files import ARROW_SUFFIXES, PARQUET_SUFFIXES

__all__ = ["hf_pipeline", "parquet_pipeline", "pipeline_for_target", "HFIndex", "IN_MEMORY"]

IN_MEMORY = "<in-memory datasets.{}>"
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


def pipeline_for_target(
    cls, target: Any, *, image_column: str = "image", label_column: str = "label", **options: Any
):
    """The pipeline a user means by ``target`` (the lab's and the command line's source choice).

    A ``datasets`` object gives ``from_hf``; Parquet/Arrow files, patterns of them, or a list
    of them give ``from_parquet``; anything else is a class-folder root (``from_folder``).
    """
    if hasattr(target, "features") or type(target).__name__ in (
        "DatasetDict",
        "IterableDatasetDict",
    ):
        return cls.from_hf(target, image_column, label_column, **options)
    names = [str(t) for t in target] if isinstance(target, (list, tuple)) else [str(target)]
    if names and all(n.lower().endswith(PARQUET_SUFFIXES + ARROW_SUFFIXES) for n in names):
        files = names if isinstance(target, (list, tuple)) else names[0]
        return cls.from_parquet(
            files, image_column=image_column, label_column=label_column, **options
        )
    if len(names) != 1:
        raise ValueError(f"several targets must all be Parquet/Arrow files; got {names!r}")
    return cls.from_folder(names[0], **options)


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
    if not isinstance(dataset, (datasets.Dataset, datasets.IterableDataset)):
        raise TypeError(
            f"from_hf: expected a datasets.Dataset, IterableDataset or DatasetDict, got "
            f"{type(dataset).__name__}"
        )
    return dataset


def _feature_names(dataset, image_column: str, label_column: str) -> list[str] | None:
    if dataset.features is None:  # an IterableDataset from a generator: known once read
        return None
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

    files = [c["filename"] for c in getattr(dataset, "cache_files", ())]
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
    """A pipeline over a ``datasets`` Dataset, IterableDataset or DatasetDict split (``Pipeline.from_hf``).

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
    rows = _IterableRows(dataset) if not hasattr(dataset, "num_rows") else None
    if rows is not None:
        units, multi, values = rows.count(image_column, label_column)
    else:
        n = dataset.num_rows
        units = (rows_per_unit,) * (n // rows_per_unit) + (
            (n % rows_per_unit,) if n % rows_per_unit else ()
        )
        multi, values = _is_multi(dataset.data.schema, label_column), None
    if names is None:
        from .parquet import _scan_class_names

        names = _scan_class_names([values or _DatasetRows(dataset, units)], label_column)
        options["class_names"] = names
    held = IN_MEMORY.format(type(dataset).__name__)
    index = HFIndex(
        (held,), (units,), image_column, label_column, tuple(str(c) for c in names),
        multi, dataset=dataset,
    )  # fmt: skip
    source = {k: options.pop(k) for k in _SOURCE_OPTIONS if k in options}
    source = {"dataset": held, "batch_size": batch_size, **source}
    return cls(source, stages, source_kind="hf", index=index, **options)


def _is_multi(schema, label_column: str) -> bool:
    import pyarrow as pa

    arrow_type = schema.field(label_column).type
    return pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)


@dataclass
class _DatasetRows:
    """A Dataset's rows cut in blocks, read like a file's row groups (as Arrow: images encoded)."""

    dataset: Any
    unit_rows: tuple[int, ...]

    def read_unit(self, unit: int, columns: Sequence[str]):
        start = sum(self.unit_rows[:unit])
        rows = self.dataset.select_columns(list(columns)).with_format("arrow")
        return rows[start : start + self.unit_rows[unit]]

    def iter_unit(self, unit: int, columns: Sequence[str]) -> Iterator:
        yield self.read_unit(unit, columns)


@dataclass
class _IterableRows:
    """An IterableDataset's shards as units, streamed in Arrow blocks of ``block`` rows."""

    dataset: Any
    block: int = 256

    def iter_unit(self, unit: int, columns: Sequence[str] | None) -> Iterator:
        part = self.dataset
        if part.n_shards > 1:
            part = part.shard(num_shards=part.n_shards, index=unit, contiguous=True)
        if columns is not None:
            part = part.select_columns(list(columns))
        yield from part.with_format("arrow").iter(self.block)

    def count(self, image_column: str, label_column: str) -> tuple[tuple[int, ...], bool, Any]:
        """One pass over the labels: rows per shard, multi-label or not, the labels' values."""
        import pyarrow as pa

        counts, labels, multi = [], [], False
        for unit in range(self.dataset.n_shards):
            n = 0
            for table in self.iter_unit(unit, None):
                for role, name in (("image_column", image_column), ("label_column", label_column)):
                    if name not in table.schema.names:
                        raise ValueError(
                            f"from_hf: {role} {name!r} is not a column of the dataset; columns: "
                            f"{table.schema.names}"
                        )
                n += table.num_rows
                multi = multi or _is_multi(table.schema, label_column)
                labels.append(table.select([label_column]))
            counts.append(n)
        if not labels:
            raise ValueError("from_hf: the IterableDataset gave no rows")
        table = pa.concat_tables(labels, promote_options="default")
        return tuple(counts), multi, _Labels(table)


@dataclass
class _Labels:
    """Labels read once, scanned for class names as a file's label column is."""

    table: Any
    unit_rows: tuple[int, ...] = (0,)

    def read_unit(self, unit: int, columns: Sequence[str]):
        return self.table


@dataclass
class HFIndex(ParquetIndex):
    """The listing of a dataset held in memory: its units (blocks of rows, or an
    IterableDataset's shards), columns and class names."""

    dataset: Any = None

    def read_unit(self, position: int, unit: int, policy, opened: dict) -> Iterator:
        """The image and label columns of ``unit`` as Arrow tables (images stay encoded)."""
        columns = [self.image_column, self.label_column]
        if hasattr(self.dataset, "num_rows"):
            return _DatasetRows(self.dataset, self.unit_rows[0]).iter_unit(unit, columns)
        return _IterableRows(self.dataset).iter_unit(unit, columns)
