"""A table of image paths and labels as a dataset: a CSV or Parquet file (local or a URL), a
pandas DataFrame, or a dict of columns, the form Kaggle datasets and Keras'
``flow_from_dataframe`` use.

Labels are class names, integers, or, for multi-label data, lists of names or a
``label_separator``-joined string (``"cat|outdoor"``), kept as class codes and turned into multi-hot
rows per batch (those of scikit-learn's ``MultiLabelBinarizer``, :mod:`genlab.sources.labels`). A sample's key is its position in the listing; ``DatasetIndex.rows`` says
which table row (0-based, header not counted) it came from, and a row without a path or label is
listed in ``ignored`` by row number, never dropped silently.

CSV is read with the standard library (through fsspec for URLs); Parquet and DataFrames need
pandas / pyarrow, the ``genlab[tables]`` extra.
"""

from __future__ import annotations

import csv
import io
import math
import posixpath
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import storage
from .discover import DatasetIndex
from .labels import MultiLabels, class_positions

__all__ = ["index_table", "outside_root", "table_columns"]

_MULTI = (list, tuple, np.ndarray)


def _is_dataframe(table: Any) -> bool:
    return hasattr(table, "columns") and hasattr(table, "to_dict") and hasattr(table, "iloc")


def _jsonable_cell(value: Any) -> Any:
    if isinstance(value, _MULTI):
        return [_jsonable_cell(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):  # a Parquet binary column: text stored as bytes
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"a cell of {len(value)} bytes is not UTF-8 text") from None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def table_columns(table: Any, path_column: str, label_column: str) -> dict[str, list] | str:
    """The two columns a source needs, as JSON-friendly lists (a path or URL is kept as it is).

    A DataFrame or a dict of columns becomes ``{path_column: [...], label_column: [...]}``, so a
    pipeline's spec records the table itself. A bad column name is a ValueError listing the columns.
    """
    if isinstance(table, (str, bytes)) or hasattr(table, "__fspath__"):
        return str(table)
    if _is_dataframe(table):
        columns = [str(c) for c in table.columns]
        _check_columns(columns, path_column, label_column, "the DataFrame")
        return {
            path_column: [_jsonable_cell(v) for v in table[path_column].tolist()],
            label_column: [_jsonable_cell(v) for v in table[label_column].tolist()],
        }
    if isinstance(table, dict):
        _check_columns([str(c) for c in table], path_column, label_column, "the table")
        paths, labels = list(table[path_column]), list(table[label_column])
        if len(paths) != len(labels):
            raise ValueError(
                f"table: columns {path_column!r} and {label_column!r} differ in length "
                f"({len(paths)} and {len(labels)})"
            )
        return {
            path_column: [_jsonable_cell(v) for v in paths],
            label_column: [_jsonable_cell(v) for v in labels],
        }
    raise TypeError(
        f"table: expected a DataFrame, a dict of columns or a CSV/Parquet path or URL, got {type(table).__name__}"
    )


def _check_columns(columns: Sequence[str], path_column: str, label_column: str, what: str) -> None:
    for role, name in (("path_column", path_column), ("label_column", label_column)):
        if name not in columns:
            raise ValueError(
                f"table: {role} {name!r} is not a column of {what}; columns: {list(columns)}"
            )


def _read_file(url: str, path_column: str, label_column: str, policy) -> tuple[list, list]:
    lower = url.lower().split("?")[0]
    if lower.endswith((".parquet", ".pq")):
        try:
            import pandas as pd  # pandas is an optional extra (tables): only for Parquet
        except ImportError as e:
            raise ImportError(
                "reading a Parquet table needs pandas and pyarrow: pip install 'genlab[tables]'"
            ) from e
        try:
            frame = pd.read_parquet(io.BytesIO(storage.read_bytes(url, policy)))
        except (OSError, ImportError):
            raise
        except Exception as e:  # noqa: BLE001 - pyarrow's errors; the message may quote the file
            raise ValueError(
                f"table {url!r} is not a readable Parquet file ({type(e).__name__})"
            ) from None
        try:
            columns = table_columns(frame, path_column, label_column)
        except ValueError as e:
            raise ValueError(f"table {url!r}: {e}") from None
        return columns[path_column], columns[label_column]
    raw = storage.read_bytes(url, policy)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"table {url!r} is not UTF-8 text (byte {e.start}); save the CSV as UTF-8"
        ) from None
    delimiter = "\t" if lower.endswith((".tsv", ".tab")) else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    for role, name in (("path_column", path_column), ("label_column", label_column)):
        if name not in header:  # the header is not listed: the file may be no table at all
            raise ValueError(
                f"table {url!r}: {role} {name!r} is not a column of its header row "
                f"({len(header)} columns)"
            )
    paths, labels = [], []
    try:
        for record in reader:
            paths.append(record[path_column])
            labels.append(record[label_column])
    except csv.Error as e:  # a field over csv.field_size_limit(), ...
        raise ValueError(
            f"table {url!r} cannot be read as CSV after line {reader.line_num}: {e}"
        ) from None
    return paths, labels


def outside_root(path: str) -> bool:
    """Whether a table's path would leave its root: absolute, a URL, or ``..`` past the top.

    >>> [outside_root(p) for p in ("a/b.png", "a/../b.png", "../b.png", "/b.png", "s3://x/b.png")]
    [False, False, True, True, True]
    """
    path = path.replace("\\", "/")
    if storage.is_url(path) or path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return True
    normal = posixpath.normpath(path)
    return normal == ".." or normal.startswith("../")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_label(value: Any) -> int | str:
    """An integer label (from an int or an integer-looking string), else a name."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


def _label_set(value: Any, separator: str) -> list[str]:
    if _missing(value):
        return []
    items = (
        value
        if isinstance(value, _MULTI)
        else str(value).split(separator)
        if separator
        else [value]
    )
    return sorted({str(_as_label(v)) for v in items if not _missing(v)})


def _class_names(values: list, given: Sequence[str] | None) -> tuple[str, ...]:
    if given:
        return tuple(str(c) for c in given)
    if all(isinstance(v, int) for v in values):
        return tuple(str(v) for v in sorted(set(values)))
    return tuple(sorted({str(v) for v in values}))


def index_table(
    table: str | dict,
    *,
    path_column: str = "path",
    label_column: str = "label",
    root: str | None = None,
    label_separator: str = "",
    class_names: Sequence[str] | None = None,
    policy=None,
    confine_to_root: bool = False,
) -> DatasetIndex:
    """List a table of paths and labels once.

    With ``confine_to_root`` a row whose path leaves ``root`` (absolute, a URL, ``..`` past the
    top; see :func:`outside_root`) is not read: it is listed in ``ignored`` with its row number.

    Single-label tables give class indices; a table with list-valued labels, or read with a
    ``label_separator``, gives multi-hot rows. Without ``class_names`` the classes are the sorted
    distinct labels (integers in numeric order); with them, an integer label is an index into them.

    >>> index = index_table({"file": ["a.png", "b.png", "c.png"], "tags": ["cat", "cat|dog", ""]},
    ...                     path_column="file", label_column="tags", root="/data", label_separator="|")
    >>> index.class_names, index.labels.tolist(), index.paths[0]
    (('cat', 'dog'), [[1, 0], [1, 1], [0, 0]], '/data/a.png')

    Raises
    ------
    ValueError
        A column is missing (the message lists the columns), a label is not in ``class_names``,
        or no row is left.
    """
    if confine_to_root and not root:
        raise ValueError(
            "table: confine_to_root needs a 'root' (the folder the paths must stay in)"
        )
    if isinstance(table, str):
        raw_paths, raw_labels = _read_file(table, path_column, label_column, policy)
        where = table
    else:
        _check_columns(list(table), path_column, label_column, "the table")
        raw_paths, raw_labels = table[path_column], table[label_column]
        where = "<table>"
    multi = bool(label_separator) or any(isinstance(v, _MULTI) for v in raw_labels)
    paths, labels, rows, ignored = [], [], [], []
    for row, (path, label) in enumerate(zip(raw_paths, raw_labels, strict=True)):
        if _missing(path):
            ignored.append((f"row {row}", "no path"))
            continue
        path = str(path).strip()
        if confine_to_root and outside_root(path):
            ignored.append((path, f"row {row}: outside the root (confine_to_root)"))
            continue
        full = (
            storage.join(root, path)
            if root and not storage.is_url(path) and not path.startswith("/")
            else path
        )
        if not multi and _missing(label):
            ignored.append((full, f"row {row}: no label"))
            continue
        paths.append(full)
        labels.append(_label_set(label, label_separator) if multi else _as_label(label))
        rows.append(row)
    if not paths:
        raise ValueError(f"table {where!r} has no row with a path and a label")
    if multi:
        names = _class_names([name for s in labels for name in s], class_names)
        positions = class_positions(names)
        unknown = sorted({n for s in labels for n in s} - positions.keys())
        if unknown:
            raise ValueError(
                f"table {where!r}: label {unknown[0]!r} is not in class_names {list(names)}"
            )
        y = MultiLabels.from_code_sets([[positions[n] for n in s] for s in labels], len(names))
    else:
        names = _class_names(labels, class_names)
        positions = class_positions(names)
        y = np.array(
            [_class_position(v, names, positions, class_names is not None, where) for v in labels],
            np.int64,
        )
    return DatasetIndex(
        root or where, tuple(paths), y, names, tuple(ignored), np.asarray(rows, dtype=np.int64)
    )


def _class_position(
    label: int | str, names: tuple[str, ...], positions: dict[str, int], given: bool, where: str
) -> int:
    if given and isinstance(label, int):
        if not 0 <= label < len(names):
            raise ValueError(
                f"table {where!r}: integer label {label} is not an index into class_names {list(names)}"
            )
        return label
    try:
        return positions[str(label)]
    except KeyError:
        raise ValueError(
            f"table {where!r}: label {label!r} is not in class_names {list(names)}"
        ) from None
