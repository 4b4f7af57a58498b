"""The lab's pictures of samples, drawn with Pillow and numpy: tiles, grids, labels, records.

:func:`tile` is the one place a sample becomes a picture (image array + its text lines -> tile):
anything drawn over a sample (boxes, masks, keypoints) is added there. :func:`grid` lays tiles
out under a header; :func:`grid_picture` does both for a batch. No matplotlib: text is drawn with
Pillow's own font, so a redraw costs fitting the images, a few text lines and the encoding.

>>> import numpy as np
>>> picture = grid_picture(np.zeros((3, 8, 8, 3), np.uint8), ["a", "b", "c"], "header", size=32)
>>> picture.shape, picture.dtype
((67, 104, 3), dtype('uint8'))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from genlab.overlay import draw_targets, format_options
from genlab.plotting import displayable

__all__ = [
    "GAP_PX",
    "HEADER_PX",
    "LINE_PX",
    "describe_record",
    "fit",
    "grid",
    "grid_geometry",
    "grid_picture",
    "soft_labels",
    "tile",
    "was_applied",
]

#: Height of one text line under a tile, of the header line, and the gap between tiles.
LINE_PX = 13
HEADER_PX = 18
GAP_PX = 4
_BACKGROUND = 255
_MUTED = (110, 118, 129)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _shorten(text: str, width: int, font: Any) -> str:
    """``text`` cut with an ellipsis so that it fits in ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def fit(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` (H x W x C, uint8) scaled so that its longer side is ``size`` pixels.

    An exact integer reduction uses Pillow's box filter (several times faster), else bilinear.
    """
    height, width = image.shape[:2]
    if max(height, width) == size:
        return image
    picture = Image.fromarray(image)
    factor = max(height, width) / size
    if factor.is_integer() and height % factor == 0 and width % factor == 0:
        return np.asarray(picture.reduce(int(factor)))
    shape = (max(1, round(width / factor)), max(1, round(height / factor)))
    return np.asarray(picture.resize(shape, Image.BILINEAR))


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        image = displayable(image[None])[0]
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def tile(
    image: np.ndarray, lines: Sequence[str], size: int = 112, muted: Sequence[bool] = ()
) -> np.ndarray:
    """One sample as a picture: ``image`` fitted in a ``size`` square, ``lines`` of text under it.

    ``muted[i]`` draws line ``i`` grey (a draw where an op did not apply). Lines too long for
    the tile end with an ellipsis. Returns an RGB uint8 array ``size + LINE_PX * len(lines)``
    high and ``size`` wide.

    >>> tile(np.zeros((64, 32, 3), np.uint8), ["cat", "0.5"], size=48).shape
    (74, 48, 3)
    """
    out = np.full((size + LINE_PX * len(lines), size, 3), _BACKGROUND, np.uint8)
    fitted = fit(_rgb(image), size)
    top, left = (size - fitted.shape[0]) // 2, (size - fitted.shape[1]) // 2
    out[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    if lines:
        font = _font(10)
        text = Image.fromarray(out[size:])
        draw = ImageDraw.Draw(text)
        for i, line in enumerate(lines):
            colour = _MUTED if i < len(muted) and muted[i] else (0, 0, 0)
            shown = _shorten(line, size - 2, font)
            x = (size - font.getlength(shown)) / 2
            draw.text((x, i * LINE_PX + 1), shown, fill=colour, font=font)
        out[size:] = np.asarray(text)
    return out


def grid_geometry(count: int, columns: int, size: int, lines: int) -> tuple[int, int, int, int]:
    """``(rows, width, height, cell_height)`` of a grid of ``count`` tiles."""
    columns = max(1, min(columns, count))
    rows = max(1, math.ceil(count / columns))
    cell_height = size + LINE_PX * lines
    width = columns * (size + GAP_PX) - GAP_PX
    return rows, width, HEADER_PX + rows * (cell_height + GAP_PX), cell_height


def grid(tiles: Sequence[np.ndarray], columns: int, header: str = "") -> np.ndarray:
    """Lay ``tiles`` (all the same shape) out ``columns`` to a row under a ``header`` line."""
    if not tiles:
        tiles = [np.full((8, 8, 3), _BACKGROUND, np.uint8)]
    cell_height, size = tiles[0].shape[:2]
    lines = (cell_height - size) // LINE_PX
    rows, width, height, _ = grid_geometry(len(tiles), columns, size, lines)
    columns = max(1, min(columns, len(tiles)))
    out = np.full((height, width, 3), _BACKGROUND, np.uint8)
    for i, picture in enumerate(tiles):
        row, column = divmod(i, columns)
        top = HEADER_PX + row * (cell_height + GAP_PX)
        left = column * (size + GAP_PX)
        out[top : top + cell_height, left : left + size] = picture
    if header:
        font = _font(11)
        band = Image.fromarray(out[:HEADER_PX])
        shown = _shorten(header, width - 4, font)
        ImageDraw.Draw(band).text(
            ((width - font.getlength(shown)) / 2, 3), shown, fill=(0, 0, 0), font=font
        )
        out[:HEADER_PX] = np.asarray(band)
    return out


def grid_picture(
    images: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str],
    header: str = "",
    *,
    columns: int = 4,
    size: int = 112,
    muted: Sequence[bool] = (),
    targets: Sequence | None = None,
    target_format: Any = None,
    show: dict | None = None,
    dashed: Sequence | None = None,
) -> np.ndarray:
    """A grid of ``images``, each titled; a title holding ``"\\n"`` takes two lines.

    ``muted[i]`` greys the title of image ``i``. ``targets`` (one
    :class:`~genlab.targets.Targets` or None per image, in the image's pixels) are drawn over
    the fitted images by :func:`genlab.overlay.draw_targets` with the names and skeleton of
    ``target_format`` and the switches in ``show`` (``boxes``, ``masks``, ``keypoints``,
    ``labels``); ``dashed[i]`` holds the ids of image ``i``'s instances drawn dashed (dropped).
    """
    split = [str(t).split("\n") for t in titles]
    lines = max((len(s) for s in split), default=1)
    options = {**format_options(target_format), **(show or {})}
    tiles = []
    for i, image in enumerate(images):
        if targets is not None and i < len(targets) and targets[i] is not None:
            gone = dashed[i] if dashed is not None and i < len(dashed) else ()
            image = draw_targets(
                fit(_rgb(image), size), targets[i], canvas_size=image.shape[:2], dashed=gone,
                **options,
            )  # fmt: skip
        text = split[i] if i < len(split) else []
        grey = [i < len(muted) and bool(muted[i])] * len(text)
        tiles.append(_pad_lines(tile(image, text, size, grey), size, lines))
    return grid(tiles, columns, header)


def _pad_lines(picture: np.ndarray, size: int, lines: int) -> np.ndarray:
    height = size + LINE_PX * lines
    if picture.shape[0] == height:
        return picture
    out = np.full((height, size, 3), _BACKGROUND, np.uint8)
    out[: picture.shape[0]] = picture
    return out


def soft_labels(y: np.ndarray, class_names: Sequence[str], most: int = 3) -> list[str]:
    """Each row of ``y`` as tile text: a class name, names joined by ``|`` (multi-hot), or soft
    label fractions, largest first, when mixing made the row fractional.

    >>> soft_labels(np.array([[0, 1], [0.62, 0.38], [1, 1]]), ["china", "flower"])
    ['flower', 'china 0.62 / flower 0.38', 'china|flower']
    """
    y = np.asarray(y, dtype=np.float64)

    def name(i: int) -> str:
        return class_names[i] if i < len(class_names) else str(i)

    out = []
    for row in y.reshape(len(y), -1):
        present = np.flatnonzero(row)
        if np.all((row == 0) | (row == 1)):
            out.append(
                "|".join(name(i) for i in present) if len(present) != 1 else name(present[0])
            )
            continue
        order = present[np.argsort(-row[present], kind="stable")][:most]
        out.append(" / ".join(f"{name(i)} {row[i]:.2f}" for i in order))
    return out


def describe_record(record: dict[str, Any]) -> str:
    """One op's record of what it drew, as a readable line.

    >>> describe_record({"op": "random_resized_crop", "top": 40, "left": 36, "size": [224, 224]})
    'random_resized_crop: top 40, left 36, size 224×224'
    >>> describe_record({"op": "hflip"})
    'hflip: applied'
    >>> describe_record({"op": "Rotate", "applied": True, "params": {"matrix": [[1, 0], [0, 1]]}})
    'Rotate: matrix 2×2 matrix'
    """
    name = str(record.get("op", record.get("name", "?")))
    if record.get("applied") is False:
        return f"{name}: not applied"
    items = {k: v for k, v in record.items() if k not in ("op", "name", "applied")}
    if isinstance(items.get("params"), dict):  # a foreign transform's drawn parameters
        items.update(items.pop("params"))
    parts = [f"{key.replace('_', ' ')} {_value_text(value)}" for key, value in items.items()]
    return f"{name}: " + (", ".join(parts) if parts else "applied")


def was_applied(records: Sequence[dict[str, Any]]) -> bool:
    """Whether a draw's records say its op applied (an empty record or ``applied: False``: not).

    >>> was_applied([]), was_applied([{"op": "x", "applied": False}]), was_applied([{"op": "x"}])
    (False, False, True)
    """
    return any(r.get("applied", True) is not False for r in records)


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (list, tuple)) for v in value):
            return f"{len(value)}×{len(value[0])} matrix"
        if len(value) == 2 and all(isinstance(v, int) for v in value):
            return f"{value[0]}×{value[1]}"
        if all(isinstance(v, str) for v in value):
            return " → ".join(value)
        return "(" + ", ".join(_value_text(v) for v in value) + ")"
    if isinstance(value, dict):
        name = value.get("op", value.get("name"))
        if name is not None:
            return "[" + describe_record(value) + "]"
        return "{" + ", ".join(f"{k} {_value_text(v)}" for k, v in value.items()) + "}"
    return str(value)
