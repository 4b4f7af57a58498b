"""Where image bytes come from: local paths, or any fsspec URL (``file://``, ``memory://``,
``zip://``, and remote protocols when their fsspec extras are installed).

Local paths take a fast path through the operating system; everything else goes through
fsspec, whose file-system objects pickle, so workers can read too.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator

__all__ = ["is_url", "join", "walk_files", "list_dirs", "read_bytes", "exists", "is_dir"]


def is_url(path: str | os.PathLike) -> bool:
    """True for ``protocol://...`` paths, False for plain local paths."""
    return "://" in str(path)


def is_remote(path: str | os.PathLike) -> bool:
    """True for network protocols (http, s3, ...): reads there are retried and time-bounded."""
    if not is_url(path):
        return False
    from . import remote  # fsspec: imported only for URLs, not on a local pipeline's path

    return remote.is_remote(str(path))


def _fs(url: str):
    from . import remote  # fsspec takes ~0.4 s to import: only when a URL is read

    return remote.filesystem(url)  # fsspec.core.url_to_fs, with timeouts for http/s3


def join(root: str, relative: str) -> str:
    """Join a relative path onto a local root or a URL (``zip://::archive.zip`` included)."""
    root = str(root)
    if not is_url(root):
        return os.path.join(root, *relative.split("/"))
    head, sep, chain = root.partition("::")
    protocol, _, path = head.partition("://")
    joined = posixpath.join(path, relative) if path else relative
    return f"{protocol}://{joined}{sep}{chain}"


def exists(root: str) -> bool:
    """Whether ``root`` (a path or URL) exists; remote roots are checked by their listing."""
    if not is_url(root):
        return os.path.exists(root)
    if is_remote(root):
        return True  # checked by the one listing (FileNotFoundError naming the root)
    fs, path = _fs(root)
    return fs.exists(path) or path in ("", "/")


def is_dir(root: str) -> bool:
    """Whether ``root`` (a path or URL) is a folder; remote roots are checked by their listing."""
    if not is_url(root):
        return os.path.isdir(root)
    if is_remote(root):
        return True  # checked by the one listing
    fs, path = _fs(root)
    return path in ("", "/") or fs.isdir(path)


def walk_files(root: str, policy=None) -> Iterator[str]:
    """Every file below ``root`` as a '/'-separated path relative to it, in sorted order.

    Hidden files and folders (names starting with '.') are not entered or listed. ``policy``
    (a :class:`~genlab.sources.remote.RetryPolicy`) bounds a remote listing.
    """
    root = str(root)
    if not is_url(root):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = os.path.relpath(dirpath, root)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for name in sorted(filenames):
                if not name.startswith("."):
                    yield prefix + name
        return
    if is_remote(root):
        from . import remote  # fsspec takes ~0.4 s to import: only when a URL is read

        yield from remote.walk_files(root, policy=policy)  # one retried listing
        return
    fs, base = _fs(root)
    base = base.rstrip("/")
    for path in sorted(fs.find(base)):
        rel = path[len(base) :].lstrip("/") if base else path.lstrip("/")
        if not any(part.startswith(".") for part in rel.split("/")):
            yield rel


def list_dirs(root: str) -> list[str]:
    """The names of the non-hidden folders directly inside ``root``, sorted."""
    root = str(root)
    if not is_url(root):
        names = [e.name for e in os.scandir(root) if e.is_dir()]
    else:
        fs, base = _fs(root)
        entries = fs.ls(base.rstrip("/") or "/", detail=True)
        names = [
            posixpath.basename(e["name"].rstrip("/")) for e in entries if e["type"] == "directory"
        ]
    return sorted(n for n in names if not n.startswith("."))


def read_bytes(path: str | os.PathLike, policy=None) -> bytes:
    """The whole content of a local file or an fsspec URL (remote reads retried per ``policy``)."""
    path = str(path)
    if not is_url(path):
        with open(path, "rb") as f:
            return f.read()
    if is_remote(path):
        from . import remote  # fsspec takes ~0.4 s to import: only when a URL is read

        return remote.read_bytes(path, policy=policy)  # retried with backoff, bounded in time
    fs, inner = _fs(path)
    return fs.cat_file(inner)


def sample_bytes(item: object, path: str, policy=None) -> tuple[bytes, str]:
    """The stored bytes of a source sample (bytes as they are, or read from its path) and its
    image extension (``jpg`` for ``.jpeg``), as the writers of shards and Parquet store them."""
    data = (
        bytes(item)
        if isinstance(item, (bytes, bytearray, memoryview))
        else read_bytes(str(item), policy)
    )
    ext = posixpath.splitext(path.split("::")[0])[1].lower().lstrip(".") or "img"
    return data, {"jpeg": "jpg", "tiff": "tif"}.get(ext, ext)
