"""Read a tar file as a stream of WebDataset samples, over any fsspec URL, with no random access.

A WebDataset shard is a plain tar whose members are grouped by *key*: the member name up to the
first dot of its base name (``images/0001.jpg`` and ``images/0001.cls`` form sample
``images/0001``, with fields ``jpg`` and ``cls``). Members of one sample are consecutive.

The bytes come through :class:`ResumableStream`: a sequential reader that, when a remote read
fails transiently (a reset or cut connection, a 5xx answer, a stall past the per-request timeout),
opens the file again at the byte it had reached (an HTTP ``Range`` request, or reading and
discarding up to there when the server ignores ranges), within the :class:`RetryPolicy`. So a
shard is never downloaded to disk and never read twice in full, and a stalled or trickling server
costs at most the policy's deadline, which bounds the whole shard. The members come from
:func:`~genlab.sources.tar_headers.tar_members`, which trusts none of the sizes the tar declares. A
tar that is itself cut short or corrupt ends its stream with a :class:`Skip` record naming the
shard, the last member reached and the reason, after the samples that arrived whole.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import storage
from .tar_headers import normalise_name, tar_members

if TYPE_CHECKING:
    from .remote import RetryPolicy

__all__ = ["ResumableStream", "Sample", "Skip", "iter_samples"]

_DISCARD_CHUNK = 1 << 20


class ResumableStream(io.RawIOBase):
    """A read-only, forward-only file over ``url`` that resumes where it was after a failure.

    Local paths are read directly. Network URLs are read through fsspec with the filesystem's
    per-request timeouts; each ``read`` is retried per ``policy``, and ``policy.deadline`` bounds
    the whole file, every read and retry included: past it a read raises ``TimeoutError``, however
    the server trickles its bytes. Over HTTP(S) a request or a read in progress is cancelled when
    the deadline comes (a server that never answers costs the deadline, not a socket timeout); on
    other protocols it ends within one per-request timeout. ``reopened`` counts the times the file
    had to be opened again.
    """

    def __init__(
        self,
        url: str,
        policy: RetryPolicy | None = None,
        storage_options: dict | None = None,
    ):
        super().__init__()
        self.url = str(url)
        self.storage_options = storage_options
        self.position = 0
        self.reopened = 0
        self._file = None
        self._remote = storage.is_remote(self.url)
        self._http = False
        self.policy = policy
        if storage.is_url(self.url):
            from . import remote  # fsspec: imported for URLs only, not for a local shard

            self.policy = policy or remote.default_policy()
            self._http = remote.protocol_of(self.url) in remote.HTTP_PROTOCOLS
        self._until: float | None = None  # the deadline of the whole file, from the first read

    def readable(self) -> bool:
        """Always True: the stream is read-only."""
        return True

    def _open(self, timeout: float | None = None):
        """The file, positioned at ``self.position``; over HTTP the request is made here, within
        ``timeout`` seconds (a server that is slow to answer costs this attempt's time, no more)."""
        if not storage.is_url(self.url):
            f = open(self.url, "rb")  # noqa: SIM115 - closed by close()
            f.seek(self.position)
            return f
        from . import remote  # fsspec: as in __init__, for URLs only

        fs, path = remote.filesystem(self.url, self.storage_options, self.policy)
        if not self._http:
            f = fs.open(path, "rb")
            f.seek(self.position)
            return f
        from fsspec.asyn import sync  # over HTTP: fsspec is imported by now

        headers = {"Range": f"bytes={self.position}-"} if self.position else {}
        # one streaming GET, sent by the first read; a size given spares the HEAD fsspec would make
        f = sync(fs.loop, fs.open_async, path, "rb", size=1, headers=headers)
        try:
            self._read_from(f, 0, timeout)  # the request and the answer's headers
            if self.position and f.r.status != 206:  # the server ignored the range
                left = self.position
                while left:  # each read returns what has arrived: the deadline is checked here
                    remaining = self._until - time.monotonic() if self._until else None
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(
                            f"reopening {self.url!r} passed its deadline of {self.policy.deadline:g}s "
                            f"{self.position - left} bytes into the {self.position} it had to skip"
                        )
                    chunk = self._read_from(f, min(left, _DISCARD_CHUNK), remaining)
                    if not chunk:
                        raise ConnectionError(
                            f"{self.url!r} ended at byte {self.position - left} on reopening"
                        )
                    left -= len(chunk)
        except BaseException:
            self._close(f)
            raise
        return f

    def _read_from(self, f, size: int, timeout: float | None) -> bytes:
        """One read of ``f``; over HTTP, cancelled after ``timeout`` seconds."""
        if self._http:
            from fsspec.asyn import sync  # over HTTP only: fsspec is already imported then

            return sync(
                f.fs.loop, f.read, size, timeout=None if timeout is None else max(timeout, 1e-3)
            )
        return f.read(size)

    def _close(self, f) -> None:
        """Close ``f``; an HTTP stream's connection is released on fsspec's loop, not waited for."""
        try:
            if self._http:
                asyncio.run_coroutine_threadsafe(f.close(), f.fs.loop)
            else:
                f.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped
            pass

    def _drop(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            self._close(f)

    def _read(self, size: int, timeout: float | None = None) -> bytes:
        """One attempt: (re)open if needed, then read; both within ``timeout`` seconds."""
        end = None if timeout is None else time.monotonic() + timeout
        if self._file is None:
            if self.position:
                self.reopened += 1
            self._file = self._open(timeout)
        try:
            return self._read_from(
                self._file, size, None if end is None else end - time.monotonic()
            )
        except BaseException:
            self._drop()
            raise

    def readinto(self, buffer) -> int:
        """Read up to ``len(buffer)`` bytes into ``buffer`` (retried per the policy); the count read."""
        size = len(buffer)
        if self._remote:
            if self._until is None:
                self._until = time.monotonic() + self.policy.deadline
            if time.monotonic() >= self._until:
                self._drop()
                raise TimeoutError(
                    f"streaming {self.url!r} passed its deadline of {self.policy.deadline:g}s "
                    f"at byte {self.position}"
                )
            from . import remote  # imported by __init__ already (a remote file is a URL)

            data = remote.with_retries(
                lambda timeout: self._read(size, timeout),
                url=self.url,
                action="streaming",
                policy=self.policy,
                until=self._until,
            )
        else:
            data = self._read(size)
        n = len(data)
        buffer[:n] = data
        self.position += n
        return n

    def close(self) -> None:
        """Close the underlying file or connection."""
        self._drop()
        super().close()


@dataclass(frozen=True)
class Sample:
    """One WebDataset sample: its key, its number in the shard and its fields (extension -> bytes)."""

    key: str
    number: int
    fields: dict


@dataclass(frozen=True)
class Skip:
    """Something of a shard that could not be used: ``where`` names the shard and member."""

    where: str
    reason: str


def split_name(name: str) -> tuple[str, str]:
    """``("dir/0001", "jpg")`` for ``"dir/0001.jpg"``: the key, and the extension after the first dot.

    >>> split_name("a/b/0001.seg.png")
    ('a/b/0001', 'seg.png')
    """
    folder, _, base = name.rpartition("/")
    stem, _, ext = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), ext.lower()


def iter_samples(
    url: str, policy: RetryPolicy | None = None, storage_options: dict | None = None
) -> Iterator[Sample | Skip]:
    """Stream the samples of one tar shard in member order; problems come as :class:`Skip` records.

    Nothing the shard could deliver is lost:

    - a member that is not used is named in a ``Skip``: an unsafe name (absolute, or with a
      ``..`` component), a link, a device or other non-file, a member larger than
      ``tar_headers.MAX_MEMBER_BYTES`` (1 GiB), a second member with the extension its sample
      already has (the first is kept), a hidden member (a component starting with ``.``, such
      as macOS' ``._0001.jpg``, or ``__MACOSX``). Directories are passed over;
    - names are normalised as tar tools do (``./a//0001.jpg`` is ``a/0001.jpg``);
    - a read that still fails after the retries or past the deadline, a member or header cut short
      and a damaged header end the shard with one ``Skip`` (a stream cannot step over them), after
      the sample in progress is delivered with the members that arrived whole.

    Skipped bytes are read and discarded, never sought past: a header claiming 2**60 bytes ends
    the shard at the real end of the file.
    """
    stream = ResumableStream(url, policy, storage_options)
    key, fields, number, last = None, {}, 0, "(start)"
    try:
        for name, data, reason in tar_members(io.BufferedReader(stream, 1 << 16)):
            last = name
            if data is None:
                if reason:
                    yield Skip(f"{url}#{name}", reason)
                continue
            member_key, ext = split_name(normalise_name(name))
            if member_key != key:
                if fields:
                    yield Sample(key, number, fields)
                    number += 1
                key, fields = member_key, {}
            if ext in fields:
                yield Skip(
                    f"{url}#{name}",
                    f"duplicate member: sample {key!r} already has a .{ext} member (the first is kept)",
                )
                continue
            fields[ext] = data
    except (tarfile.TarError, EOFError, OSError) as e:
        if fields:
            yield Sample(key, number, fields)
        yield Skip(
            f"{url}#{last}", f"shard unreadable after member {last!r}: {type(e).__name__}: {e}"
        )
        return
    finally:
        stream.close()
    if fields:
        yield Sample(key, number, fields)
