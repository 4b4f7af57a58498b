"""Parquet files of encoded images as a streaming dataset: the layout Hugging Face ``datasets`` keeps.

``files`` is a path, a glob (``data/*.parquet``), a brace range
(``train-{00000..00003}-of-00004.parquet``), a folder, an fsspec URL (``https://``, ``s3://``) or a
list of these; local Arrow files that ``datasets`` keeps (``save_to_disk``, its cache) are read the
same way. The image column holds, per row, the encoded file: a struct ``{bytes, path}`` (what
``datasets.Image`` writes; a row whose ``bytes`` is null is read from ``path``, relative to the
Parquet file's folder), plain binary, or a path string. The label column holds class indices, class
names, or lists of either (multi-label: multi-hot ``y``); class names come from ``class_names``, else
from the ``ClassLabel`` feature kept in the schema's ``huggingface`` metadata, else from one pass
over the label column alone.

The unit of streaming is the row group (an Arrow file's record batch), as the shard is for tar
shards: an epoch reads the units in an order reshuffled per epoch from the seed, mixes their rows in
a bounded buffer of ``shuffle_buffer`` rows, and a split of the pipeline (``Pipeline.shard``, a torch
DataLoader worker, a rank) reads every ``count``-th unit of that order. So memory holds one row
group's two columns plus the buffer, never the whole file, and the same seed gives the same batches
with any number of workers. A sample's key is its row number in the dataset (files in order), and
its name ``file#row=N``: a bad image cell is skipped by ``read_images`` and reported with both.
"""

from __future__ import annotations

import functools
import json
import posixpath
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import storage
from .parquet_files import ColumnarFile, expand_files, open_columnar
from .streaming import shard_order, stream_batches
from .tar_stream import Skip

__all__ = ["ParquetIndex", "index_parquet", "parquet_batches", "schema_class_names"]


# --- labels: a Parquet label cell becomes a class code here (rows are made per batch) ---


def encode_labels(
    values: Sequence[object], class_names: tuple[str, ...], multi_label: bool
) -> tuple[list, dict[int, str]]:
    """The class codes of a unit's label cells (multi-label: a tuple of codes per cell), and
    ``{position: reason}`` for cells that have none (their code is 0 or ``()``: they are skipped).

    >>> encode_labels([1, "cat", None, 7], ("cat", "dog"), False)
    ([1, 0, 0, 0], {2: 'no label', 3: 'class index 7 out of range for 2 classes'})
    """
    positions = {name: i for i, name in enumerate(class_names)}
    bad: dict[int, str] = {}
    codes: list = []
    for i, value in enumerate(values):
        items = value if multi_label and isinstance(value, (list, tuple)) else [value]
        try:
            if value is None:
                raise ValueError("no label")
            found = tuple(_class_code(v, positions, len(class_names)) for v in items)
        except ValueError as e:
            bad[i] = str(e)
            found = ()
        codes.append(found if multi_label else (found[0] if found else 0))
    return codes, bad


def _class_code(value: object, positions: dict[str, int], n_classes: int) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= value < n_classes:
            raise ValueError(f"class index {value} out of range for {n_classes} classes")
        return int(value)
    if str(value) in positions:
        return positions[str(value)]
    raise ValueError(f"label {value!r} is not one of the class names {list(positions)[:10]}")


def schema_class_names(schema, label_column: str) -> list[str] | None:
    """The ``ClassLabel`` names that ``datasets`` keeps for ``label_column`` in the schema metadata.

    A ``Sequence``/``List`` of ``ClassLabel`` (multi-label) gives its inner names.
    """
    meta = (schema.metadata or {}).get(b"huggingface")
    if not meta:
        return None
    try:
        feature = json.loads(meta)["info"]["features"][label_column]
    except (ValueError, KeyError, TypeError):
        return None
    while isinstance(feature, dict) and "names" not in feature and "feature" in feature:
        feature = feature["feature"]  # Sequence(ClassLabel) / List(ClassLabel)
    if isinstance(feature, list) and feature:  # the old list form of a Sequence
        feature = feature[0]
    if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and feature.get("names"):
        return [str(n) for n in feature["names"]]
    return None


# --- the listing ---------------------------------------------------------------------------------


@dataclass
class ParquetIndex:
    """The files of a Parquet dataset, their units' row counts, the columns and the class names."""

    files: tuple[str, ...]
    unit_rows: tuple[tuple[int, ...], ...]
    image_column: str
    label_column: str
    class_names: tuple[str, ...]
    multi_label: bool
    ignored: tuple[tuple[str, str], ...] = field(default=())

    def __len__(self) -> int:
        """Rows in all files."""
        return sum(sum(rows) for rows in self.unit_rows)

    @functools.cached_property
    def units(self) -> tuple[tuple[int, int, int, int, int], ...]:
        """Per unit, in file order: ``(file position, unit, rows, first key, first row in file)``."""
        units, key = [], 0
        for position, rows in enumerate(self.unit_rows):
            row = 0
            for unit, n in enumerate(rows):
                units.append((position, unit, n, key, row))
                key, row = key + n, row + n
        return tuple(units)

    def class_counts(self) -> dict[str, int]:
        """Not known without reading every label: an empty dict (see the preview batch instead)."""
        return {}

    def read_unit(self, position: int, unit: int, policy, opened: dict) -> Iterator:
        """The image and label columns of one unit, as Arrow tables (here one); ``opened``
        keeps the file being read open.

        The footers read when listing are kept (per thread, not pickled), so an epoch opens no
        file again: a remote file's first epoch costs its footer once, then one range per chunk.
        """
        url = self.files[position]
        f = opened.get(url) or self._footers.get((url, threading.get_ident()))
        if f is None:
            f = open_columnar(url, policy)
        opened.clear()
        opened[url] = f
        yield f.read_unit(unit, [self.image_column, self.label_column])

    @functools.cached_property
    def _footers(self) -> dict:
        return {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_footers", None)  # open files stay in their process
        return state


def _check_columns(schema, url: str, image_column: str, label_column: str) -> None:
    names = list(schema.names)
    for role, name in (("image_column", image_column), ("label_column", label_column)):
        if name not in names:
            raise ValueError(
                f"parquet: {role} {name!r} is not a column of {url!r}; columns: {names}"
            )
    kind = _image_kind(schema.field(image_column).type)
    if kind is None:
        raise ValueError(
            f"parquet: image_column {image_column!r} of {url!r} holds {schema.field(image_column).type}; "
            f"expected encoded images (a struct of bytes and path, binary) or paths (string)"
        )


def _image_kind(arrow_type) -> str | None:
    import pyarrow as pa

    if pa.types.is_struct(arrow_type) and arrow_type.get_field_index("bytes") >= 0:
        return "struct"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "binary"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "path"
    return None


def _is_list(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)


def index_parquet(
    files: str | Sequence[str],
    *,
    image_column: str = "image",
    label_column: str = "label",
    class_names: Sequence[str] | None = None,
    policy=None,
) -> ParquetIndex:
    """List a Parquet dataset: read each file's footer (not its data) and find the class names.

    Raises
    ------
    ValueError
        A column is missing (the message names the file and lists its columns) or holds no
        images, or no class name can be found.
    FileNotFoundError
        A pattern matches no file.
    """
    urls = expand_files(files, policy)
    opened = [open_columnar(url, policy) for url in urls]
    for f in opened:
        _check_columns(f.schema, f.url, image_column, label_column)
    multi = any(_is_list(f.schema.field(label_column).type) for f in opened)
    names = list(class_names) if class_names is not None else None
    if names is None:
        names = schema_class_names(opened[0].schema, label_column)
    if names is None:
        names = _scan_class_names(opened, label_column)
    if not names:
        raise ValueError(f"parquet: no class name found in column {label_column!r} of {urls[0]!r}")
    index = ParquetIndex(
        urls, tuple(f.unit_rows for f in opened), image_column, label_column,
        tuple(str(n) for n in names), multi,
    )  # fmt: skip
    index._footers.update(((f.url, threading.get_ident()), f) for f in opened)
    return index


def _scan_class_names(opened: list[ColumnarFile], label_column: str) -> list[str]:
    """The distinct labels of the label column (read alone): integers in order, else sorted names."""
    values: set = set()
    for f in opened:
        for unit in range(len(f.unit_rows)):
            for value in f.read_unit(unit, [label_column]).column(0).to_pylist():
                values.update(value if isinstance(value, list) else [value])
    values.discard(None)
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return [str(i) for i in range(max(values) + 1)]
    return sorted(str(v) for v in values)


# --- the stream ----------------------------------------------------------------------------------


def _image_cells(column, url: str) -> list[bytes | str | None]:
    """Per row, the encoded image (bytes), a path to read it from, or None when there is neither."""
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    kind = _image_kind(column.type)
    if kind == "binary":
        return column.to_pylist()
    folder = url.rsplit("/", 1)[0] if "/" in url else "."
    paths = column.to_pylist() if kind == "path" else column.field("path").to_pylist()
    data = [None] * len(paths) if kind == "path" else column.field("bytes").to_pylist()
    cells: list[bytes | str | None] = []
    for blob, path in zip(data, paths):
        if blob is not None or not path:
            cells.append(blob)
        elif storage.is_url(path) or posixpath.isabs(path):
            cells.append(path)
        else:
            cells.append(storage.join(folder, path))
    return cells


def _stream(index: ParquetIndex, order: list[int], policy, on_error: str) -> Iterator[tuple | Skip]:
    """``(key, name, image bytes or path, label row)`` per usable row, and Skip records."""
    import pyarrow as pa

    opened: dict = {}
    for u in order:
        position, unit, n, key, row = index.units[u]
        url = index.files[position]
        tables, done = index.read_unit(position, unit, policy, opened), 0
        while True:
            try:
                table = next(tables, None)
            except (OSError, ValueError, pa.ArrowException) as e:
                if on_error == "raise":
                    raise OSError(f"parquet: {url!r} row group {unit}: {e}") from e
                first = row + done
                yield Skip(
                    f"{url}#rows={first}..{row + n - 1}", f"row group {unit} unreadable: {e}"
                )
                break
            if table is None:
                break
            yield from _rows(index, table, url, key + done, row + done, on_error)
            done += table.num_rows


def _rows(index: ParquetIndex, table, url: str, key: int, row: int, on_error: str) -> Iterator:
    images = _image_cells(table.column(0), url)
    codes, bad = encode_labels(table.column(1).to_pylist(), index.class_names, index.multi_label)
    for i, data in enumerate(images):
        where = f"{url}#row={row + i}"
        reason = bad.get(i) or ("no image bytes and no path" if data is None else None)
        if reason is not None:
            if on_error == "raise":
                raise ValueError(f"parquet: {where}: {reason}")
            yield Skip(where, reason)
            continue
        yield (key + i, where, data, codes[i])


def split_rows(index: ParquetIndex, *, shuffle: bool, seed: int, epoch: int, split) -> int:
    """How many rows a split streams in ``epoch``."""
    order = shard_order(len(index.units), shuffle=shuffle, seed=seed, epoch=epoch, split=split)
    return sum(index.units[u][2] for u in order)


def parquet_batches(
    index: ParquetIndex,
    *,
    batch_size: int,
    shuffle: bool,
    shuffle_buffer: int,
    drop_last: bool,
    seed: int,
    epoch: int,
    split: tuple[int, int] = (0, 1),
    policy=None,
    on_error: str = "skip",
) -> Iterator:
    """One epoch of ``(image bytes, labels)`` batches from the row groups of ``split``.

    ``info.paths`` names each sample ``file#row=N``; rows without an image or a usable label are
    reported in the ``skipped`` of the next batch delivered, as tar shards report theirs.
    """
    order = shard_order(len(index.units), shuffle=shuffle, seed=seed, epoch=epoch, split=split)
    return stream_batches(
        _stream(index, order, policy, on_error), index.class_names, index.multi_label,
        batch_size=batch_size,
        shuffle=shuffle, shuffle_buffer=shuffle_buffer, drop_last=drop_last, seed=seed,
        epoch=epoch, split=split, policy=policy, buffer_stream="parquet-buffer", what="parquet",
    )  # fmt: skip
