"""The kinds of source a :class:`~genlab.Pipeline` reads, by the name its spec records.

========  ==========================  =============================================================
name      built by                    what it lists and yields
========  ==========================  =============================================================
dataset   ``Pipeline.from_folder``    class folders; ``(paths, one-hot)`` batches
table     ``Pipeline.from_table``     a CSV / Parquet / DataFrame of paths and labels (multi-label)
shards    ``Pipeline.from_shards``    WebDataset tar shards, streamed; ``(image bytes, labels)``
parquet   ``Pipeline.from_parquet``   Parquet / Arrow image columns (the hub's layout), streamed
                                      by row group; ``from_hf`` on a dataset with files on disk
hf        ``Pipeline.from_hf``        a ``datasets`` object held in memory (not saveable in a spec)
========  ==========================  =============================================================

Sources whose samples carry boxes, masks and keypoints (``coco``, ``yolo``, ``voc``,
``segmentation``) are in :mod:`genlab.sources.annotations`.

A kind declares its parameters (checked like a stage's), makes the listing once
(:meth:`SourceKind.listing`), and gives the batches of an epoch for a split ``(index, count)`` of
the pipeline. Specs name the kind; loading refuses a kind not listed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..batch import Batch
from ..params import Bool, Choice, Int, Text
from .annotations.kinds import ANNOTATED_KINDS
from .dataset import BATCH_PARAMS, SOURCE_PARAMS, n_batches
from .discover import index_folder
from .source_kind import SourceKind, _Names, _Shards, _Table
from .table import index_table

__all__ = ["SourceKind", "SOURCE_KINDS", "source_kind"]


def _shards():
    """:mod:`genlab.sources.shards`, imported when a shards source is first used."""
    from . import shards  # it reads through fsspec (~0.4 s to import): only for tar shards

    return shards


def _parquet():
    """:mod:`genlab.sources.parquet`, imported when a Parquet source is first used."""
    from . import parquet  # it reads through fsspec's async layer and pyarrow: only for Parquet

    return parquet


class FolderSource(SourceKind):
    name, method, positional = "dataset", "from_folder", "root"
    params = SOURCE_PARAMS

    def listing(self, params: dict):
        return index_folder(params["root"], policy=self.policy(params))


class TableSource(SourceKind):
    name, method, positional = "table", "from_table", "table"
    params = {
        "table": _Table("", help="a CSV/Parquet path or URL, or the table's columns"),
        "path_column": Text("path", help="the column of image paths"),
        "label_column": Text("label", help="the column of labels"),
        "root": Text("", help="folder or fsspec URL the paths are relative to"),
        "label_separator": Text("", help="labels joined by this in one string mean multi-label"),
        "class_names": _Names(None, optional=True, help="the classes, in column order"),
        "confine_to_root": Bool(False, help="refuse rows whose path leaves root (../, absolute)"),
        **BATCH_PARAMS,
    }

    def listing(self, params: dict):
        return index_table(
            params["table"], path_column=params["path_column"], label_column=params["label_column"],
            root=params["root"] or None, label_separator=params["label_separator"],
            class_names=params["class_names"], policy=self.policy(params),
            confine_to_root=params["confine_to_root"],
        )  # fmt: skip

    def spec_params(self, params: dict) -> dict:
        """As for every kind; ``confine_to_root`` only when set (specs of 0.2 did not have it)."""
        recorded = super().spec_params(params)
        if not recorded.get("confine_to_root"):
            recorded.pop("confine_to_root", None)
        return recorded

    def describe_skip(self, listing: Any, path: str, reason: str) -> str:
        rows = _row_lookup(listing)
        return f"row {rows[path]}: {reason}" if path in rows else reason


def _row_lookup(listing) -> dict[str, int]:
    cached = getattr(listing, "_row_of", None)
    if cached is None:
        cached = dict(zip(listing.paths, listing.rows.tolist()))
        object.__setattr__(listing, "_row_of", cached)
    return cached


class ShardSource(SourceKind):
    name, method, positional = "shards", "from_shards", "shards"
    params = {
        "shards": _Shards("", help="brace pattern, folder or list of .tar URLs"),
        "class_names": _Names(
            None, optional=True, help="the classes (else from the manifest or a scan)"
        ),
        "label_separator": Text("", help="a .txt label joined by this means several labels"),
        "shuffle_buffer": Int(1000, low=1, high=10_000_000, help="samples held to mix the stream"),
        "on_error": Choice(
            "skip",
            choices=("skip", "raise"),
            help="a damaged shard or sample is skipped and reported, or raises",
        ),
        **BATCH_PARAMS,
    }

    def listing(self, params: dict):
        return _shards().index_shards(
            params["shards"], class_names=params["class_names"],
            label_separator=params["label_separator"], policy=self.policy(params),
        )  # fmt: skip

    def batches(
        self, params: dict, listing: Any, *, seed: int, epoch: int, split: tuple[int, int]
    ) -> Iterator[Batch]:
        return _shards().shard_batches(
            listing, batch_size=params["batch_size"], shuffle=params["shuffle"],
            shuffle_buffer=params["shuffle_buffer"], drop_last=params["drop_last"],
            seed=seed, epoch=epoch, split=split, policy=self.policy(params), on_error=params["on_error"],
        )  # fmt: skip

    def n_batches(
        self, params: dict, listing: Any, *, seed: int, epoch: int, split: tuple[int, int]
    ) -> int:
        n = (
            _shards().split_samples(
                listing, shuffle=params["shuffle"], seed=seed, epoch=epoch, split=split
            )
            if split[1] > 1
            else len(listing)
        )
        return n_batches(n, params["batch_size"], params["drop_last"])


class ParquetSource(ShardSource):
    """Streamed like tar shards, with the row group as the unit (see :mod:`genlab.sources.parquet`)."""

    name, method, positional = "parquet", "from_parquet", "files"
    params = {
        "files": _Shards("", help="Parquet file, glob, brace pattern, folder, URL or list of them"),
        "image_column": Text("image", help="the column of encoded images ({bytes, path} or binary)"),
        "label_column": Text("label", help="the column of labels (index, name or list of them)"),
        "class_names": _Names(None, optional=True, help="the classes (else the schema's ClassLabel)"),
        **{k: v for k, v in ShardSource.params.items() if k not in ("shards", "class_names",
                                                                   "label_separator")},
    }  # fmt: skip

    def listing(self, params: dict):
        return _parquet().index_parquet(
            params["files"], image_column=params["image_column"], class_names=params["class_names"],
            label_column=params["label_column"], policy=self.policy(params),
        )  # fmt: skip

    def batches(self, params, listing, *, seed, epoch, split):
        return _parquet().parquet_batches(
            listing, batch_size=params["batch_size"], shuffle=params["shuffle"],
            shuffle_buffer=params["shuffle_buffer"], drop_last=params["drop_last"],
            seed=seed, epoch=epoch, split=split, policy=self.policy(params), on_error=params["on_error"],
        )  # fmt: skip

    def n_batches(self, params, listing, *, seed, epoch, split) -> int:
        n = _parquet().split_rows(
            listing, shuffle=params["shuffle"], seed=seed, epoch=epoch, split=split
        )
        return n_batches(n, params["batch_size"], params["drop_last"])


class HFSource(ParquetSource):
    """A ``datasets.Dataset`` held in memory (:mod:`genlab.sources.hf`): runs, is not saved."""

    name, method, positional = "hf", "from_hf", "dataset"
    params = {
        "dataset": Text("", help="what the dataset was (it is held in memory, not in the spec)"),
        **{k: v for k, v in ParquetSource.params.items() if k != "files"},
    }

    def listing(self, params: dict):
        raise ValueError(
            f"source 'hf': the dataset was {params['dataset']}, held in memory by the process that "
            f"built the pipeline; save it (dataset.save_to_disk(path) or to_parquet) and use "
            f"Pipeline.from_hf(datasets.load_from_disk(path)) or Pipeline.from_parquet(path)"
        )

    def unsaveable(self, params: dict) -> str | None:
        return (
            f"a pipeline over an {params['dataset']} cannot be saved: its rows are not in "
            "files; write them (dataset.save_to_disk(path) or dataset.to_parquet(path)) and build "
            "the pipeline with Pipeline.from_hf(datasets.load_from_disk(path)) or "
            "Pipeline.from_parquet(path)"
        )


SOURCE_KINDS: dict[str, SourceKind] = {
    k.name: k
    for k in (
        FolderSource(),
        TableSource(),
        ShardSource(),
        ParquetSource(),
        HFSource(),
        *ANNOTATED_KINDS,
    )  # fmt: skip
}


def source_kind(name: str) -> SourceKind:
    """The source kind called ``name``; ValueError listing the known kinds otherwise."""
    try:
        return SOURCE_KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown source kind {name!r}; known: {sorted(SOURCE_KINDS)}") from None
