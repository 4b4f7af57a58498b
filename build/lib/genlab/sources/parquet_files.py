"""Find and open the files of a columnar dataset: Parquet (local or any fsspec URL) and the Arrow
files Hugging Face ``datasets`` keeps on disk, one *unit* (a row group, an Arrow record batch) at
a time.

A remote Parquet file is read through :class:`RangeFile`: a seekable file whose every read is one
ranged request retried per the source's :class:`~genlab.sources.remote.RetryPolicy`, so a dropped
connection costs one range again (the footer, or one column chunk of one row group), never the
whole file, and a stalled server costs at most the policy's deadline.

pyarrow is imported when a file is opened (the ``genlab[tables]`` extra), never with genlab.
"""

from __future__ import annotations

import glob
import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from fsspec.asyn import AsyncFileSystem, sync

from . import remote, storage

__all__ = ["RangeFile", "ColumnarFile", "expand_files", "open_columnar", "ARROW_SUFFIXES"]

PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow",)
_GLOB = ("*", "?", "[")


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 - the submodule the readers use
    except ImportError as e:
        raise ImportError(
            "reading Parquet needs pyarrow: pip install 'genlab[tables]' (or pyarrow)"
        ) from e
    return pyarrow


def _is_columnar(name: str) -> bool:
    return name.lower().split("?")[0].endswith(PARQUET_SUFFIXES + ARROW_SUFFIXES)


def expand_files(files: str | Sequence[str], policy=None) -> tuple[str, ...]:
    """The files of a pattern, a list, or a folder (its ``*.parquet`` / ``*.arrow`` files, sorted).

    A pattern may hold brace ranges (``train-{00000..00003}-of-00004.parquet``) and globs
    (``data/*.parquet``, also on fsspec URLs: ``s3://bucket/data/*.parquet``).

    >>> expand_files(["a/train-{0..1}.parquet", "b.parquet"])
    ('a/train-0.parquet', 'a/train-1.parquet', 'b.parquet')
    """
    from .shards import expand_braces

    patterns = [str(f) for f in files] if isinstance(files, (list, tuple)) else [str(files)]
    if not patterns or not all(patterns):
        raise ValueError(f"parquet: no file given, got {files!r}")
    found: list[str] = []
    for pattern in patterns:
        for name in expand_braces(pattern):
            found.extend(_expand_one(name, policy))
    return tuple(found)


def _expand_one(name: str, policy) -> list[str]:
    if any(c in name.split("://")[-1] for c in _GLOB):
        if storage.is_url(name):
            fs, path = remote.filesystem(name, policy=policy)
            protocol = name.split("://", 1)[0]
            matches = remote.with_retries(
                lambda _t: sorted(fs.glob(path)), url=name, action="listing", policy=policy
            )
            matches = [f"{protocol}://{m.split('://')[-1]}" for m in matches]
        else:
            matches = sorted(glob.glob(name))
        if not matches:
            raise FileNotFoundError(f"parquet: no file matches {name!r}")
        return matches
    if _is_columnar(name) or storage.is_remote(name):
        return [name]
    if not storage.is_url(name) and not os.path.isdir(name):
        raise FileNotFoundError(f"parquet: {name!r} is not a .parquet file, a pattern or a folder")
    urls = [storage.join(name, r) for r in storage.walk_files(name, policy) if _is_columnar(r)]
    if not urls:
        raise FileNotFoundError(f"parquet: folder {name!r} holds no .parquet or .arrow files")
    return urls


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over a remote URL: each read is one ranged request, retried.

    pyarrow reads a Parquet file as a footer and then column chunks: each of those is one
    ``read`` here, retried per ``policy`` as a whole when the connection drops or stalls.
    """

    def __init__(self, url: str, policy: remote.RetryPolicy | None = None):
        super().__init__()
        self.url = url
        self.policy = policy or remote.default_policy()
        self.fs, self.path = remote.filesystem(url, policy=self.policy)
        self.position = 0
        self.requests = 0
        self.whole_reads = 0
        self.size = remote.with_retries(self._size, url=url, action="sizing", policy=self.policy)

    def _size(self, _timeout: float) -> int:
        try:
            return int(self.fs.size(self.path))
        except FileNotFoundError as e:  # fsspec's http says "not found" for a dropped connection
            cause = e.__cause__ or e.__context__
            if cause is not None and remote.is_transient(cause):
                raise ConnectionError(f"{type(cause).__name__}: {cause}") from cause
            raise

    def readable(self) -> bool:
        """Always True: the file is read-only."""
        return True

    def seekable(self) -> bool:
        """Always True: reads are ranged requests."""
        return True

    def tell(self) -> int:
        """The current position."""
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset`` (from the start, the current position or the end)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def _range(self, start: int, end: int, timeout: float) -> bytes:
        self.requests += 1
        if isinstance(self.fs, AsyncFileSystem) and self.fs.asynchronous is False:
            return sync(
                self.fs.loop, self.fs._cat_file, self.path, start=start, end=end, timeout=timeout
            )
        return self.fs.cat_file(self.path, start=start, end=end)

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current position (all that is left for ``-1``)."""
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        if end <= self.position:
            return b""
        start = self.position
        data = remote.with_retries(
            lambda t: self._range(start, end, t), url=self.url, action="reading", policy=self.policy
        )
        if len(data) == self.size and end - start != self.size:  # the server ignored the range
            if not self.whole_reads:
                warnings.warn(
                    f"{self.url!r}: the server ignores Range requests, so every read of a row "
                    f"group downloads the whole file ({self.size} bytes)",
                    stacklevel=2,
                )
            self.whole_reads += 1
            data = data[start:end]
        if len(data) != end - start:
            raise OSError(
                f"reading {self.url!r}: asked bytes {start}..{end}, got {len(data)} bytes"
            )
        self.position = end
        return data

    def readinto(self, buffer) -> int:
        """Read into ``buffer``; the count read."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class ColumnarFile:
    """One opened file: its Arrow schema and, per unit (row group or record batch), its rows."""

    url: str
    schema: object
    unit_rows: tuple[int, ...]
    _parquet: object = None
    _arrow_path: str | None = None

    def read_unit(self, unit: int, columns: Sequence[str]):
        """The ``columns`` of one unit as a ``pyarrow.Table`` (only that unit is read)."""
        pa = _pyarrow()
        if self._parquet is not None:
            return self._parquet.read_row_group(unit, columns=list(columns))
        with pa.memory_map(self._arrow_path) as source:
            reader = pa.ipc.open_stream(source)
            for i, batch in enumerate(reader):
                if i == unit:
                    return pa.Table.from_batches([batch]).select(list(columns))
        raise IndexError(f"{self.url!r} has no record batch {unit}")


def open_columnar(url: str, policy=None) -> ColumnarFile:
    """Open a Parquet file (a path or any fsspec URL) or a local Arrow stream file: read its footer
    or batch headers, not its data."""
    pa = _pyarrow()
    name = url.lower().split("?")[0]
    try:
        if name.endswith(ARROW_SUFFIXES):
            if storage.is_url(url):
                raise ValueError(f"parquet: Arrow files are read from local disk only, got {url!r}")
            with pa.memory_map(url) as source:
                reader = pa.ipc.open_stream(source)
                rows = tuple(batch.num_rows for batch in reader)
                schema = reader.schema
            return ColumnarFile(url, schema, rows, _arrow_path=url)
        source = url if not storage.is_url(url) else _open_remote(url, policy)
        parquet = pa.parquet.ParquetFile(source)
        meta = parquet.metadata
        rows = tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
        return ColumnarFile(url, parquet.schema_arrow, rows, _parquet=parquet)
    except pa.ArrowInvalid as e:
        raise ValueError(f"parquet: {url!r} is not a readable Parquet/Arrow file: {e}") from e


def _open_remote(url: str, policy):
    if storage.is_remote(url):
        return RangeFile(url, policy)
    fs, path = remote.filesystem(url, policy=policy)  # memory://, zip:// ...: seekable already
    return fs.open(path, "rb")
