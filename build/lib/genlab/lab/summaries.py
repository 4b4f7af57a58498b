"""One-line summaries of the values a paused frame holds, and thumbnails of image arrays.

Arrays are summarised by shape, dtype and bytes, containers by their length, so the locals of a
stage holding a batch of images stay readable; :func:`thumbnail_png` draws the first images of an
image array as a small strip. Widget-free: numpy and Pillow only.

>>> import numpy as np
>>> summarise(np.zeros((4, 64, 64, 3), np.uint8))
'ndarray (4, 64, 64, 3) uint8, 48.0 KiB'
>>> summarise(["a.jpg", "b.jpg", "c.jpg"] * 3)
'list of 9'
>>> summarise((np.zeros((2, 8, 8, 3), np.uint8), np.eye(2, dtype=np.int64)))
'(ndarray (2, 8, 8, 3) uint8, 384 B, ndarray (2, 2) int64, 32 B)'
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from PIL import Image

from genlab.lab.generator_model import short_repr
from genlab.memory import batch_nbytes, format_bytes
from genlab.plotting import displayable, encode_image

__all__ = ["is_image_array", "summarise", "thumbnail_png", "travelled"]

_CONTAINERS = (list, tuple, dict, set, frozenset)


def summarise(value: Any, limit: int = 80) -> str:
    """Return ``value`` as one short line: arrays by shape, dtype and bytes, long containers by length.

    A pair holding an array or a list (a batch ``(x, y)``) shows both of its parts; short
    containers of plain values and everything else use :func:`~genlab.lab.generator_model.short_repr`.
    """
    if isinstance(value, np.ndarray):
        return f"ndarray {tuple(value.shape)} {value.dtype}, {format_bytes(value.nbytes)}"
    if isinstance(value, tuple) and len(value) == 2 and _holds_data(value):
        prefix = "" if type(value) is tuple else type(value).__name__
        return f"{prefix}({summarise(value[0], limit)}, {summarise(value[1], limit)})"
    if isinstance(value, _CONTAINERS):
        text = short_repr(value, limit)
        if len(value) > 6 or len(text) > 40 or _holds_data(value):
            return f"{type(value).__name__} of {len(value)}"
        return text
    if inspect.isfunction(value) or inspect.ismethod(value) or inspect.isbuiltin(value):
        return f"function {value.__qualname__}"
    return short_repr(value, limit)


def travelled(value: Any) -> str:
    """Describe what went along an arrow of the chain: the shape, dtype and bytes of ``x`` and ``y``.

    >>> travelled((np.zeros((4, 8, 8, 3), np.uint8), np.zeros((4, 2), np.int64)))
    'x (4, 8, 8, 3) uint8 768 B · y (4, 2) int64 64 B'
    >>> travelled((["a.jpg", "b.jpg"], np.zeros((2, 2), np.int64)))
    'x list of 2 · y (2, 2) int64 32 B'
    """
    if isinstance(value, tuple) and len(value) == 2:
        return f"x {_brief(value[0])} · y {_brief(value[1])}"
    return _brief(value)


def _brief(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{tuple(value.shape)} {value.dtype} {format_bytes(batch_nbytes(value))}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    return summarise(value, limit=40)


def _holds_data(container: Any) -> bool:
    items = container.values() if isinstance(container, dict) else container
    return any(isinstance(item, (np.ndarray, list)) for item in items)


def is_image_array(value: Any) -> bool:
    """Whether ``value`` is an image (H x W x C) or a batch of images (N x H x W x C), C in 1, 3, 4.

    >>> is_image_array(np.zeros((4, 32, 32, 3))), is_image_array(np.zeros((4, 10)))
    (True, False)
    """
    if not isinstance(value, np.ndarray) or value.ndim not in (3, 4) or value.size == 0:
        return False
    height, width, channels = value.shape[-3:]
    return channels in (1, 3, 4) and height >= 4 and width >= 4 and value.dtype.kind in "uif"


def image_array_of(value: Any) -> np.ndarray | None:
    """The image array ``value`` is or holds as ``x`` (a batch ``(x, y)``), else None."""
    if isinstance(value, tuple) and len(value) == 2:
        value = value[0]
    return value if is_image_array(value) else None


def thumbnail_png(value: Any, height: int = 40, count: int = 4) -> bytes | None:
    """Return a PNG strip of the first ``count`` images of ``value``, ``height`` pixels high.

    ``value`` is an image array or a batch whose ``x`` is one; anything else gives None.
    Floating-point images are stretched per image to 0-255 (as the lab's grid shows them).
    """
    images = image_array_of(value)
    if images is None:
        return None
    if images.ndim == 3:
        images = images[None]
    images = displayable(np.ascontiguousarray(images[:count]))
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    width = max(1, round(images.shape[2] * height / images.shape[1]))
    gap = 2
    strip = np.full((height, len(images) * (width + gap) - gap, 3), 255, np.uint8)
    for i, image in enumerate(images):
        small = Image.fromarray(np.ascontiguousarray(image[..., :3])).resize((width, height))
        strip[:, i * (width + gap) : i * (width + gap) + width] = np.asarray(small)
    return encode_image(strip)
