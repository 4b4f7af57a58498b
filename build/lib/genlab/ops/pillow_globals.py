"""The lock around Pillow's process-wide decode settings.

Pillow keeps two process-wide settings that matter to decoding, ``Image.MAX_IMAGE_PIXELS`` and
``ImageFile.LOAD_TRUNCATED_IMAGES``. genlab checks ``max_pixels`` itself on every call and only
changes those globals for the duration of a call that needs it (``max_pixels`` above Pillow's
limit, or a truncation setting different from Pillow's), restoring them afterwards; concurrent
genlab calls coordinate through :data:`PILLOW_GLOBALS` so one never sees another's truncation
setting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageFile

__all__ = ["PILLOW_GLOBALS", "PillowGlobals"]


class PillowGlobals:
    """Hold Pillow's process-wide decode settings steady while genlab calls run.

    Calls that ask for the same ``LOAD_TRUNCATED_IMAGES`` value run concurrently; a call asking
    for the other value waits until they are done. Pillow's pixel limit is lifted (set to None)
    while at least one running call allows more pixels than it; genlab's own per-call check then
    applies. The values found before the first call entered are restored after the last left.
    Code outside genlab running at the same time sees these temporary values.

    Examples
    --------
    >>> from PIL import ImageFile
    >>> before = ImageFile.LOAD_TRUNCATED_IMAGES
    >>> with PillowGlobals().hold(truncated=not before, max_pixels=None):
    ...     ImageFile.LOAD_TRUNCATED_IMAGES == (not before)
    True
    >>> ImageFile.LOAD_TRUNCATED_IMAGES == before
    True
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holders = 0  # calls that set LOAD_TRUNCATED_IMAGES, all to self._truncated
        self._truncated = False
        self._saved_truncated = False
        self._lifters = 0
        self._saved_limit: int | None = None

    @contextmanager
    def hold(self, *, truncated: bool | None, max_pixels: int | None) -> Iterator[None]:
        """Apply the settings for one call; ``truncated=None`` leaves truncation alone."""
        with self._cond:
            if truncated is not None:
                while self._holders and self._truncated != truncated:
                    self._cond.wait()
                if not self._holders:
                    self._saved_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
                    self._truncated = truncated
                    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
                self._holders += 1
            pillow_limit = self._saved_limit if self._lifters else Image.MAX_IMAGE_PIXELS
            lift = pillow_limit is not None and (max_pixels is None or max_pixels > pillow_limit)
            if lift:
                if not self._lifters:
                    self._saved_limit = Image.MAX_IMAGE_PIXELS
                    Image.MAX_IMAGE_PIXELS = None
                self._lifters += 1
        try:
            yield
        finally:
            with self._cond:
                if lift:
                    self._lifters -= 1
                    if not self._lifters:
                        Image.MAX_IMAGE_PIXELS = self._saved_limit
                if truncated is not None:
                    self._holders -= 1
                    if not self._holders:
                        ImageFile.LOAD_TRUNCATED_IMAGES = self._saved_truncated
                        self._cond.notify_all()


#: The one lock every genlab decode call goes through.
PILLOW_GLOBALS = PillowGlobals()
