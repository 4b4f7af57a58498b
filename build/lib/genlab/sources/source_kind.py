"""The base of every source kind: :class:`SourceKind` and the parameter types of sources.

A kind declares its parameters (checked like a stage's), makes the listing once
(:meth:`SourceKind.listing`), and gives the batches of an epoch for a split ``(index, count)`` of
the pipeline. The kinds themselves are in :mod:`genlab.sources.kinds` (folders, tables, shards,
Parquet) and :mod:`genlab.sources.annotations.kinds` (COCO, YOLO, VOC, segmentation folders).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from ..batch import Batch
from ..params import Param, validate_params
from .dataset import index_batches, n_batches, policy_from_settings

__all__ = ["SourceKind"]


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

    def unsaveable(self, params: dict) -> str | None:
        """Why a spec of this source cannot be saved to a file, or None when it can."""
        return None

    def spec_params(self, params: dict) -> dict:
        """The parameters a spec records: unset retry settings are left out (as 0.1 wrote them)."""
        return {k: v for k, v in params.items() if not (k == "retry" and v is None)}
