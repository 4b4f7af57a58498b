"""A table with one row per image: its path, its boxes and their labels, and/or a mask path.

The table is a pandas DataFrame, a dict of columns, or a CSV / Parquet path or URL (Parquet needs
``genlab[tables]``). A boxes cell is a list of boxes (or its JSON text) in the declared
``TargetFormat.box_format`` (``normalized`` by the image size when declared so); a labels cell
the list of their classes (names, or indices into ``class_names``; JSON text in a CSV). A mask
cell names a semantic class-id mask file, relative to ``root`` like the paths. A row whose
boxes or labels cannot be read, or a box with no size or of an unknown class, is a bad annotation
(``on_error``); pixel boxes are checked against the image's size when the batch is read (the
sample is skipped and reported, or raises).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...targets import TargetFormat, boxes_to_xyxy
from .. import storage
from . import AnnotatedIndex, Problems, Record, check_instances, present_classes

__all__ = ["index_annotated_table", "annotated_columns"]


def annotated_columns(table: Any, columns: Sequence[str]) -> dict[str, list] | str:
    """The ``columns`` of a DataFrame or dict as JSON-friendly lists (a path or URL as it is)."""
    if isinstance(table, (str, bytes)) or hasattr(table, "__fspath__"):
        return str(table)
    if hasattr(table, "columns") and hasattr(table, "to_dict"):
        table = {str(c): table[c].tolist() for c in table.columns}
    if not isinstance(table, dict):
        raise TypeError(f"table: expected a DataFrame, a dict of columns or a path, got {type(table).__name__}")  # fmt: skip
    missing = [c for c in columns if c and c not in table]
    if missing:
        raise ValueError(f"table: column {missing[0]!r} is missing; columns: {list(table)}")
    return {c: [_plain(v) for v in table[c]] for c in columns if c}


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def _read(url: str, columns: Sequence[str], policy) -> dict[str, list]:
    data = storage.read_bytes(url, policy)
    if url.lower().split("?")[0].endswith((".parquet", ".pq")):
        import pandas as pd

        return annotated_columns(pd.read_parquet(io.BytesIO(data)), columns)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    present = rows[0].keys() if rows else []
    missing = [c for c in columns if c and c not in present]
    if missing:
        raise ValueError(f"table {url!r}: column {missing[0]!r} is missing; columns: {list(present)}")  # fmt: skip
    return {c: [r[c] for r in rows] for c in columns if c}


def _cell(value: Any) -> list:
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)


def index_annotated_table(
    table: str | dict,
    *,
    path_column: str = "path",
    boxes_column: str = "boxes",
    labels_column: str = "labels",
    mask_column: str = "",
    root: str = "",
    class_names: Sequence[str] | None = None,
    targets: dict | None = None,
    on_error: str = "skip",
    policy=None,
) -> AnnotatedIndex:
    """List an annotated table once, row by row."""
    columns = [path_column, boxes_column, labels_column, mask_column]
    data = (
        _read(table, columns, policy)
        if isinstance(table, str)
        else annotated_columns(table, columns)
    )
    where = table if isinstance(table, str) else "<table>"
    fmt = TargetFormat.from_dict(dict(targets or {}))
    problems = Problems(on_error, f"table {where!r}")
    rows = []
    for row, path in enumerate(data[path_column]):
        if not path:
            problems.bad(f"row {row}", "the row", "no path")
            continue
        full = (
            storage.join(root, str(path)) if root and not storage.is_url(str(path)) else str(path)
        )
        try:
            boxes = _cell(data[boxes_column][row]) if boxes_column else []
            labels = _cell(data[labels_column][row]) if labels_column else []
            if len(boxes) != len(labels):
                raise ValueError(f"{len(boxes)} boxes but {len(labels)} labels")
        except (ValueError, TypeError) as e:
            problems.bad(full, f"row {row}", f"boxes or labels cannot be read: {e}")
            continue
        mask = data[mask_column][row] if mask_column else None
        mask = storage.join(root, str(mask)) if mask and root and not storage.is_url(str(mask)) else mask  # fmt: skip
        rows.append((row, full, boxes, labels, mask or None))
    given = tuple(class_names or ())
    values = [v for *_, labels, _ in rows for v in labels]
    if not given and values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        given = tuple(str(i) for i in range(max(values) + 1))  # class numbers, in numeric order
    names = given or tuple(sorted({str(v) for v in values}))
    index = {n: i for i, n in enumerate(names)}
    paths, records, numbers = [], [], []
    for row, full, boxes, labels, mask in rows:
        ids = [index.get(str(v), -1) if not (given and isinstance(v, int)) else v for v in labels]
        xyxy = boxes_to_xyxy(boxes, fmt.box_format) if boxes else np.zeros((0, 4), np.float32)
        clipped, keep, bad = check_instances(xyxy, ids, len(names), size=None, normalized=fmt.normalized)  # fmt: skip
        for i, reason in bad:
            problems.bad(full, f"row {row} box {i}", reason)
        paths.append(full)
        numbers.append(row)
        records.append(Record(
            boxes=clipped[keep], labels=np.asarray(ids, np.int64)[keep], ids=np.flatnonzero(keep),
            normalized=fmt.normalized, mask_path=mask, check_size=not fmt.normalized,
        ))  # fmt: skip
    if not paths:
        raise ValueError(f"table {where!r} has no row with a path")
    problems.warn()
    fmt = TargetFormat.from_dict({**fmt.to_dict(), "class_names": list(names)})
    return AnnotatedIndex(
        root or where, tuple(paths), present_classes(records, len(names)), names,
        tuple(problems.rows), np.asarray(numbers, np.int64), records=tuple(records),
        target_format=fmt, on_error=on_error,
    )  # fmt: skip
