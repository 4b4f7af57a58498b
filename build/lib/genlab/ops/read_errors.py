"""What image reading reports when it fails, and how it names what it read.

:class:`ImageReadError` is the one error every decode path raises for a file it cannot read;
its message names the file (or says the data came from memory) and the reason.
"""

from __future__ import annotations

import os
from typing import IO, Union

__all__ = ["ImageReadError", "ImageSource", "describe_source", "read_error"]

#: What the decoders read: bytes, a path, or a binary file object.
ImageSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]


class ImageReadError(OSError):
    """An image could not be read; ``.path`` names the file and ``.reason`` says why.

    Parameters
    ----------
    message : str
        The full message, naming the file and the reason.
    path : str, optional
        The file the data came from (None for anonymous bytes or file objects).
    reason : str, optional
        A short reason such as ``"empty file (0 bytes)"``; defaults to ``message``.

    Examples
    --------
    >>> err = ImageReadError("cannot read 'cats/1.jpg': empty", path="cats/1.jpg", reason="empty")
    >>> err.path, err.reason, isinstance(err, OSError)
    ('cats/1.jpg', 'empty', True)
    """

    def __init__(self, message: str, *, path: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.reason = message if reason is None else reason


def read_error(path: str | None, reason: str) -> ImageReadError:
    """An ImageReadError whose message names ``path`` (or in-memory data) and ``reason``.

    Examples
    --------
    >>> str(read_error(None, "empty file (0 bytes)"))
    'cannot read image <in-memory data>: empty file (0 bytes)'
    """
    where = repr(path) if path is not None else "<in-memory data>"
    return ImageReadError(f"cannot read image {where}: {reason}", path=path, reason=reason)


def describe_source(source: ImageSource, path: str | os.PathLike[str] | None) -> str | None:
    """The name errors use for ``source``: ``path``, the file path, or a file object's name.

    Examples
    --------
    >>> describe_source(b"...", None) is None, describe_source("a/b.jpg", None)
    (True, 'a/b.jpg')
    """
    if path is not None:
        return os.fspath(path)
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else None
