"""How a :class:`~genlab.Pipeline` is made from each kind of data: the ``from_*`` constructors.

They live here, as a base class of :class:`~genlab.Pipeline`, so that ``pipeline.py`` holds what a
pipeline does and this module what it can be made from: class folders, tables, tar shards, Parquet
and Hugging Face datasets, and annotated data (COCO, YOLO, Pascal VOC, segmentation folders,
annotated tables). Each builds the source's parameters (:mod:`genlab.sources.kinds`) and calls the
class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .sources.kinds import source_kind as _source_kind
from .sources.table import table_columns
from .spec_format import RUN_PARAMS

__all__ = ["SourceConstructors"]


class SourceConstructors:
    """The ``from_*`` constructors of :class:`~genlab.Pipeline` (one per kind of source)."""

    @classmethod
    def from_folder(
        cls,
        root: str,
        batch_size: int = 32,
        *,
        seed: int = 0,
        stages: Sequence[Any] | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
        num_workers: int = 0,
        prefetch: int = 2,
        augment_seed: int = 0,
        worker_kind: str = RUN_PARAMS["worker_kind"].default,
    ):
        """A pipeline over a class-folder dataset; ``stages=None`` gives the post's chain."""
        source = {
            "root": str(root),
            "batch_size": batch_size,
            "shuffle": shuffle,
            "drop_last": drop_last,
        }
        return cls(
            source, stages, seed=seed, num_workers=num_workers, prefetch=prefetch,
            augment_seed=augment_seed, worker_kind=worker_kind,
        )  # fmt: skip

    @classmethod
    def from_table(
        cls,
        table: Any,
        path_column: str = "path",
        label_column: str = "label",
        root: str | None = None,
        *,
        label_separator: str = "",
        class_names: Sequence[str] | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        drop_last: bool = False,
        retry: dict | None = None,
        confine_to_root: bool = False,
        stages: Sequence[Any] | None = None,
        **options: Any,
    ):
        """A pipeline over a table of image paths and labels (Keras' ``flow_from_dataframe``).

        ``table`` is a pandas DataFrame, a dict of columns, or a CSV/Parquet path or fsspec URL;
        paths are relative to ``root`` (a folder or URL) when given. Labels are class names,
        integers, or lists / ``label_separator``-joined strings for multi-label data (multi-hot
        ``y``). A row without a path or label is reported in ``report.ignored`` by row number;
        a row whose file cannot be read follows ``read_images``' ``on_error`` and is reported
        by row number and path. With ``confine_to_root`` (for tables from untrusted hands) a row
        whose path leaves ``root`` is not read and is reported in ``ignored``. See
        :mod:`genlab.sources.table`.

        ``options`` are the run settings of :class:`Pipeline` (``seed``, ``num_workers``,
        ``worker_kind``, ``prefetch``, ``augment_seed``), as for :meth:`from_folder`.
        """
        source = {
            "table": table_columns(table, path_column, label_column), "path_column": path_column,
            "label_column": label_column, "root": str(root or ""), "label_separator": label_separator,
            "class_names": class_names, "batch_size": batch_size, "shuffle": shuffle,
            "drop_last": drop_last, "retry": retry, "confine_to_root": confine_to_root,
        }  # fmt: skip
        return cls(source, stages, source_kind="table", **options)

    @classmethod
    def from_shards(
        cls,
        shards: str | Sequence[str],
        batch_size: int = 32,
        *,
        class_names: Sequence[str] | None = None,
        label_separator: str = "",
        shuffle_buffer: int = 1000,
        on_error: str = "skip",
        shuffle: bool = True,
        drop_last: bool = False,
        retry: dict | None = None,
        stages: Sequence[Any] | None = None,
        **options: Any,
    ):
        """A pipeline streaming WebDataset tar shards: ``"s3://b/train-{000000..000099}.tar"``,
        a list of URLs or a folder, read over fsspec with the retry policy of remote roots.

        Shard order is reshuffled per epoch from the seed; samples are mixed in a buffer of
        ``shuffle_buffer`` (bounded memory, approximate shuffle). See :mod:`genlab.sources.shards`.
        ``options`` are the run settings of :class:`Pipeline`, as for :meth:`from_table`.
        """
        source = {
            "shards": list(shards) if isinstance(shards, (list, tuple)) else str(shards),
            "class_names": class_names, "label_separator": label_separator,
            "shuffle_buffer": shuffle_buffer, "on_error": on_error, "batch_size": batch_size,
            "shuffle": shuffle, "drop_last": drop_last, "retry": retry,
        }  # fmt: skip
        return cls(source, stages, source_kind="shards", **options)

    @classmethod
    def from_parquet(cls, files: str | Sequence[str], batch_size: int = 32, **options: Any):
        """A pipeline streaming Parquet image columns (the hub's layout) by row group: files,
        globs, brace ranges, folders or fsspec URLs; ``image_column="image"``,
        ``label_column="label"``, ``class_names``, ``shuffle_buffer``, ``on_error``, ``retry`` and
        the run settings as for :meth:`from_shards`. See :mod:`genlab.sources.parquet`."""
        from .sources.hf import parquet_pipeline  # fsspec's async layer, pyarrow: only for Parquet

        return parquet_pipeline(cls, files, batch_size=batch_size, **options)

    @classmethod
    def from_hf(
        cls, dataset: Any, image_column: str = "image", label_column: str = "label", **options: Any
    ):
        """A pipeline over a Hugging Face ``datasets`` Dataset, DatasetDict split or
        IterableDataset you already have; see :func:`genlab.sources.hf.hf_pipeline`."""
        from .sources.hf import hf_pipeline  # (as in from_parquet)

        return hf_pipeline(
            cls, dataset, image_column=image_column, label_column=label_column, **options
        )

    @classmethod
    def from_coco(
        cls, annotations: str, images_root: str = "", *, stages: Sequence[Any] | None = None,
        **settings: Any,
    ):  # fmt: skip
        """A pipeline over a COCO annotation file: batches carry boxes, masks and keypoints.

        ``settings`` are the source's (``masks``, ``targets`` (a
        :class:`~genlab.targets.TargetFormat` or its dict: ``min_area``, ``flip_pairs``, ...),
        ``on_error``, ``batch_size``, ``shuffle``, ``drop_last``, ``retry``) and the run settings
        of :class:`Pipeline`. See :mod:`genlab.sources.annotations`.
        """
        given = {"annotations": str(annotations), "images_root": str(images_root or "")}
        return cls._annotated("coco", stages, {**given, **settings})

    @classmethod
    def from_yolo(cls, root: str, *, stages: Sequence[Any] | None = None, **settings: Any):
        """A pipeline over a YOLO folder (``images/``, ``labels/``); settings as :meth:`from_coco`'s
        plus ``class_names``."""
        return cls._annotated("yolo", stages, {"root": str(root), **settings})

    @classmethod
    def from_voc(cls, root: str, *, stages: Sequence[Any] | None = None, **settings: Any):
        """A pipeline over a Pascal VOC folder (``Annotations/``, ``JPEGImages/``); settings as
        :meth:`from_yolo`'s."""
        return cls._annotated("voc", stages, {"root": str(root), **settings})

    @classmethod
    def from_segmentation(
        cls, root: str, class_names: Sequence[str], *, stages: Sequence[Any] | None = None,
        **settings: Any,
    ):  # fmt: skip
        """A pipeline over ``images/`` and ``masks/`` (class-id PNGs, same stems); ``class_names``
        names mask ids 0, 1, ...; settings as :meth:`from_yolo`'s."""
        given = {"root": str(root), "class_names": list(class_names)}
        return cls._annotated("segmentation", stages, {**given, **settings})

    @classmethod
    def from_annotated_table(
        cls, table: Any, path_column: str = "path", boxes_column: str = "boxes",
        labels_column: str = "labels", *, stages: Sequence[Any] | None = None, **settings: Any,
    ):  # fmt: skip
        """A pipeline over a table with one row per image: its path, boxes and their labels
        (``mask_column``: a semantic mask path); ``table`` as :meth:`from_table`'s; settings as
        :meth:`from_yolo`'s plus ``root`` and ``mask_column``."""
        from .sources.annotations.table import annotated_columns

        columns = [path_column, boxes_column, labels_column, settings.get("mask_column", "")]
        given = {"table": annotated_columns(table, columns), "path_column": path_column,
                 "boxes_column": boxes_column, "labels_column": labels_column}  # fmt: skip
        return cls._annotated("annotated_table", stages, {**given, **settings})

    @classmethod
    def _annotated(cls, kind: str, stages: Sequence[Any] | None, given: dict):
        declared = _source_kind(kind).params
        source = {k: v for k, v in given.items() if k in declared}
        run = {k: v for k, v in given.items() if k not in declared}
        return cls(source, stages, source_kind=kind, **run)
