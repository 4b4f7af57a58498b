"""Read the members of a tar stream one after the other, trusting none of its sizes.

Python's :mod:`tarfile` in stream mode seeks past every member it is not asked to extract by
reading blocks up to the size the header claims, so a header claiming 2**60 bytes spins for ever,
and its PAX parser recurses once per chained extended header. :func:`tar_members` reads the same
formats (ustar, GNU long names, PAX ``path`` and ``size`` records; each 512-byte header is decoded
by :meth:`tarfile.TarInfo.frombuf`) with every length bounded by the bytes actually there:

- an extended header (PAX or GNU long name) above ``MAX_HEADER_BYTES``, or more than
  ``MAX_EXTENDED_HEADERS`` of them before one member, is a damaged archive;
- a member is skipped by reading and discarding its bytes, so a false size ends at the real end
  of the stream, as a member cut short;
- a member above ``MAX_MEMBER_BYTES`` is skipped that way rather than held in memory.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

__all__ = [
    "MAX_EXTENDED_HEADERS", "MAX_HEADER_BYTES", "MAX_MEMBER_BYTES", "normalise_name", "tar_members",
]  # fmt: skip

BLOCK = tarfile.BLOCKSIZE
MAX_HEADER_BYTES = 1 << 16
"""An extended header (PAX records, a GNU long name) larger than this is refused (real ones hold a
few hundred bytes)."""
MAX_EXTENDED_HEADERS = 8
"""Extended headers allowed in a row before one member."""
MAX_MEMBER_BYTES = 1 << 30
"""A member larger than this (1 GiB) is skipped, by reading past it, not held in memory."""
_CHUNK = 1 << 20
_EXTENDED = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
_LONG_NAMES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_FILES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_LINKS = (tarfile.SYMTYPE, tarfile.LNKTYPE)
HIDDEN = "hidden member (a name starting with '.', or __MACOSX): not used"


class Header(NamedTuple):
    """One member's header, with what PAX and GNU extended headers said about it applied."""

    name: str
    size: int
    kind: bytes
    linkname: str


def normalise_name(name: str) -> str:
    """A member name as tar tools extract it: ``.`` components and repeated slashes removed.

    >>> normalise_name("./a//./0001.jpg")
    'a/0001.jpg'
    """
    return "/".join(part for part in name.split("/") if part not in ("", "."))


def refusal(header: Header) -> str | None:
    """Why a member is not used: a reason to report, ``""`` to pass over quietly, None to use it.

    >>> refusal(Header("a/../../etc/x.png", 3, tarfile.REGTYPE, ""))
    "unsafe name: a '..' component"
    >>> refusal(Header("./a/0001.png", 3, tarfile.REGTYPE, ""))
    """
    if header.name.startswith("/"):
        return "unsafe name: an absolute path"
    if ".." in header.name.split("/"):
        return "unsafe name: a '..' component"
    if header.kind == tarfile.DIRTYPE:
        return ""
    if header.kind in _LINKS:
        return f"a link (to {header.linkname!r}) is not followed"
    if header.kind not in _FILES:
        return f"not a regular file (tar member type {header.kind!r})"
    parts = normalise_name(header.name).split("/")
    if not parts[-1]:
        return "a file member with an empty name"
    if any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return HIDDEN
    if header.size > MAX_MEMBER_BYTES:
        return f"a member of {header.size} bytes, more than the limit of {MAX_MEMBER_BYTES}"
    return None


def read_up_to(f: BinaryIO, size: int) -> bytes:
    """``size`` bytes of ``f``, fewer only when the stream ends first (read in bounded chunks)."""
    parts, left = [], size
    while left:
        chunk = f.read(min(left, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def skip_up_to(f: BinaryIO, size: int) -> int:
    """Read and discard ``size`` bytes of ``f``; the number there were (fewer at the end)."""
    left = size
    while left:
        chunk = f.read(min(left, _CHUNK))
        if not chunk:
            break
        left -= len(chunk)
    return size - left


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


_RECORD_LENGTH = re.compile(rb"(\d{1,19}) ")


def pax_records(body: bytes) -> dict[str, str | int]:
    """The ``path`` and ``size`` records of a PAX extended header (linear, no regex backtracking).

    >>> pax_records(b"16 path=a/b.png\\n13 size=1234\\n")
    {'path': 'a/b.png', 'size': 1234}
    """
    records: dict[str, str | int] = {}
    pos = 0
    while pos < len(body) and body[pos] != 0:
        match = _RECORD_LENGTH.match(body, pos)
        length = int(match.group(1)) if match else 0
        end = pos + length
        if not match or end <= match.end() or end > len(body) or body[end - 1] != 0x0A:
            raise tarfile.ReadError(f"a damaged PAX header record at byte {pos}")
        keyword, equals, value = body[match.end() : end - 1].partition(b"=")
        if not equals:
            raise tarfile.ReadError(f"a damaged PAX header record at byte {pos}")
        if keyword == b"path":
            records["path"] = _text(value)
        elif keyword == b"size":
            if not re.fullmatch(rb"\d{1,19}", value):
                raise tarfile.ReadError(f"a PAX size record that is not a size: {value[:20]!r}")
            records["size"] = int(value)
        pos = end
    return records


def _next_header(f: BinaryIO) -> Header | None:
    """The next member's header, or None at the end-of-archive block; ReadError if damaged."""
    said: dict[str, str | int] = {}
    for _ in range(MAX_EXTENDED_HEADERS + 1):
        block = f.read(BLOCK)
        if not block:
            raise tarfile.ReadError("the archive is cut short (no end-of-archive blocks)")
        if len(block) < BLOCK:
            raise tarfile.ReadError("the archive is cut short inside a member header")
        if block.count(0) == BLOCK:
            return None
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as e:
            raise tarfile.ReadError(f"a damaged member header ({e})") from e
        if info.size < 0:
            raise tarfile.ReadError(f"a damaged member header (size {info.size})")
        if info.type not in _EXTENDED + _LONG_NAMES:
            name = said.get("path", info.name)
            size = said.get("size", info.size)
            return Header(str(name), int(size), info.type, info.linkname)
        if info.size > MAX_HEADER_BYTES:
            raise tarfile.ReadError(
                f"an extended header claims {info.size} bytes (the limit is {MAX_HEADER_BYTES})"
            )
        padded = info.size + -info.size % BLOCK
        body = read_up_to(f, padded)
        if len(body) < padded:
            raise tarfile.ReadError("the archive is cut short inside an extended header")
        body = body[: info.size]
        if info.type == tarfile.GNUTYPE_LONGNAME:
            said["path"] = _text(body.split(b"\0", 1)[0])
        elif info.type in _EXTENDED:
            records = pax_records(body)  # checked either way; a global header's are not used
            said.update(records if info.type != tarfile.XGLTYPE else {})
    raise tarfile.ReadError(f"more than {MAX_EXTENDED_HEADERS} extended headers before one member")


def _check_end(f: BinaryIO) -> None:
    """Raise ReadError unless only zeros follow the end-of-archive block, and some do.

    tar writes two zero blocks (the first was read as the end header) and pads to its record size;
    data after them is a damaged header or a second archive, and none at all is a cut file.
    """
    seen = 0
    while chunk := f.read(1 << 16):
        if chunk.count(0) != len(chunk):
            raise tarfile.ReadError("a damaged member header (data follows the end of the archive)")
        seen += len(chunk)
    if seen == 0:
        raise tarfile.ReadError("the archive is cut short (no end-of-archive blocks)")


def tar_members(f: BinaryIO) -> Iterator[tuple[str, bytes | None, str]]:
    """``(name, data, "")`` per member used, ``(name, None, reason)`` per member not used.

    ``name`` is the member's name as stored; ``reason`` is ``""`` for members passed over quietly
    (directories). A damaged or cut archive raises :class:`tarfile.ReadError` after
    the members before the damage.
    """
    while (header := _next_header(f)) is not None:
        reason = refusal(header)
        if reason is None:
            data = read_up_to(f, header.size)
            if len(data) < header.size:
                raise tarfile.ReadError(
                    f"member {header.name!r} is cut short ({len(data)} of {header.size} bytes)"
                )
            yield header.name, data, ""
        else:
            if skip_up_to(f, header.size) < header.size:
                raise tarfile.ReadError(
                    f"member {header.name!r} is cut short (it claims {header.size} bytes)"
                )
            yield header.name, None, reason
        padding = -header.size % BLOCK
        if skip_up_to(f, padding) < padding:
            raise tarfile.ReadError(f"the archive is cut short after member {header.name!r}")
    _check_end(f)
