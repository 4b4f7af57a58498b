"""The kinds of source a :class:`~genlab.Pipeline` reads, by the name its spec records.

========  ==========================  =============================================================
name      built by                    what it lists and yields
========  ==========================  =============================================================
dataset   ``Pipeline.from_folder``    class folders; ``(paths, one-hot)`` batches
table     ``Pipeline.from_table``     a CSV / Parquet / DataFrame of paths and labels (multi-label)
shards    ``Pipeline.from_shards``    WebDataset tar shards, streamed; ``(image bytes, labels)``
========  ==========================  =============================================================

A kind declares its parameters (checked like a stage's), makes the listing once
(:meth:`SourceKind.listing`), and gives the batches of an epoch for a split ``(index, count)`` of
the pipeline. Specs name the kind; loading refuses a kind not listed here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from ..batch import Batch
from ..params import Choice, Int, Param, Text, validate_params
from .dataset import BATCH_PARAMS, SOURCE_PARAMS, index_batches, n_batches, policy_from_settings
from .discover import index_folder
from .table import index_table

__all__ = ["SourceKind", "SOURCE_KINDS", "source_kind"]


def _shards():
    """:mod:`genlab.sources.shards`, imported when a shards source is first used."""
    from . import shards  # it reads through fsspec (~0.4 s to import): only for tar shards

    return shards


class _Names(Param):
    """A list of class names, or None."""

    kind = "names"

    def coerce(self, value: Any) -> list[str]:
        if isinstance(value, str) or not hasattr(value, "__iter__"):
            raise TypeError(f"must be a list of class names, got {value!r}")
        names = [str(v) for v in value]
        if len(set(names)) != len(names):
            raise ValueError(f"must not repeat a class name, got {names!r}")
        return names


class _Table(Param):
    """A CSV/Parquet path or URL, or a dict of columns (what a DataFrame is recorded as)."""

    kind = "table"

    def coerce(self, value: Any) -> str | dict:
        if isinstance(value, str):
            if not value:
                raise ValueError(
                    "is required (a DataFrame, a dict of columns, or a CSV/Parquet path)"
                )
            return value
        if isinstance(value, dict):
            return {str(k): list(v) for k, v in value.items()}
        raise TypeError(f"must be a path, a URL or a dict of columns, got {type(value).__name__}")


class _Shards(Param):
    """A brace pattern, a folder, or a list of shard URLs."""

    kind = "shards"

    def coerce(self, value: Any) -> str | list[str]:
        if isinstance(value, str) and value:
            return value
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return list(value)
        raise TypeError(
            f"must be a URL pattern, a folder or a non-empty list of URLs, got {value!r}"
        )


class SourceKind:
    """One kind of source: its parameters, its listing, its batches (see the module docstring)."""

    name = ""
    method = ""
    params: dict[str, Param] = {}
    positional = ""  # the parameter written first, unnamed, in the Python expression

    def validate(self, given: dict) -> dict:
        """The parameters ``given``, checked and completed with defaults; ValueError naming a bad one."""
        params = validate_params(self.name, self.params, given)
        if self.positional and not params[self.positional]:
            raise ValueError(f"{self.name}: parameter {self.positional!r} is required")
        return params

    def policy(self, params: dict):
        """The retry policy of the ``retry`` settings in ``params``, None when they are unset."""
        return policy_from_settings(params["retry"])

    def listing(self, params: dict) -> Any:
        """The source's listing (paths or shards, and labels), made once per pipeline."""
        raise NotImplementedError

    def batches(
        self, params: dict, listing: Any, *, seed: int, epoch: int, split: tuple[int, int]
    ) -> Iterator[Batch]:
        """The batches of epoch ``epoch`` in the part ``split = (index, count)`` of the source."""
        batches = index_batches(listing, params, seed=seed, epoch=epoch, policy=self.policy(params))
        index, count = split
        return batches if count == 1 else itertools.islice(batches, index, None, count)

    def n_batches(
        self, params: dict, listing: Any, *, seed: int, epoch: int, split: tuple[int, int]
    ) -> int:
        """How many batches :meth:`batches` gives for the same arguments."""
        total = n_batches(len(listing), params["batch_size"], params["drop_last"])
        return len(range(split[0], total, split[1]))

    def describe_skip(self, listing: Any, path: str, reason: str) -> str:
        """The reason a run reports for a skipped sample (a table adds its row number)."""
        return reason

    def spec_params(self, params: dict) -> dict:
        """The parameters a spec records: unset retry settings are left out (as 0.1 wrote them)."""
        return {k: v for k, v in params.items() if not (k == "retry" and v is None)}


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
        **BATCH_PARAMS,
    }

    def listing(self, params: dict):
        return index_table(
            params["table"], path_column=params["path_column"], label_column=params["label_column"],
            root=params["root"] or None, label_separator=params["label_separator"],
            class_names=params["class_names"], policy=self.policy(params),
        )  # fmt: skip

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


SOURCE_KINDS: dict[str, SourceKind] = {
    k.name: k for k in (FolderSource(), TableSource(), ShardSource())
}


def source_kind(name: str) -> SourceKind:
    """The source kind called ``name``; ValueError listing the known kinds otherwise."""
    try:
        return SOURCE_KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown source kind {name!r}; known: {sorted(SOURCE_KINDS)}") from None
