"""Pictures of batches: a grid of images with their class names, rendered to PNG.

Uses matplotlib's object API with the Agg canvas (no ``pyplot``, no global state), imported
only when a picture is asked for, so the core imports without matplotlib. The same
:class:`GridRenderer` draws the command line's grid and the lab's live grid.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

__all__ = ["GridRenderer", "displayable", "encode_image", "labels_of", "render_grid"]


def displayable(images: np.ndarray) -> np.ndarray:
    """Images as uint8 for display: uint8 as is, floats stretched per image to 0-255.

    >>> displayable(np.array([[[[-1.0, 0.0, 1.0]]]])).tolist()
    [[[[0, 127, 255]]]]
    """
    if images.dtype == np.uint8:
        return images
    x = images.astype(np.float32)
    axes = tuple(range(1, x.ndim))
    low = x.min(axis=axes, keepdims=True)
    span = np.maximum(x.max(axis=axes, keepdims=True) - low, 1e-12)
    return ((x - low) / span * 255).astype(np.uint8)


def labels_of(y: np.ndarray, class_names: Sequence[str]) -> list[str]:
    """Return the class name of each one-hot row of ``y`` (its index when names are unknown).

    A multi-hot row (multi-label data) gives its names joined by ``"|"``:

    >>> labels_of(np.array([[1, 0, 0], [0, 1, 1]]), ["cat", "dog", "outdoor"])
    ['cat', 'dog|outdoor']
    """
    y = np.asarray(y)

    def name(i: int) -> str:
        return class_names[i] if i < len(class_names) else str(i)

    if y.ndim == 2 and len(y) and (y.sum(axis=1) != 1).any():
        return ["|".join(name(i) for i in np.flatnonzero(row)) for row in y]
    return [name(i) for i in y.argmax(axis=1)]


class GridRenderer:
    """Draw up to ``capacity`` images in a grid with their titles, reusing one figure.

    Matplotlib (Agg) draws the titles and header onto a white canvas; the images are pasted into
    the cells of that canvas at one screen pixel per image pixel. The drawn text layer is kept and
    reused while the titles stay the same (a slider moved on the same batch), so a redraw costs
    pasting the images and encoding the picture.

    Parameters
    ----------
    capacity
        Most images shown; a batch with more shows its first ``capacity``.
    columns
        Images per row.
    cell_px
        Side of one cell in pixels; images of another size are resized to fit it (aspect kept).
        The default, 112, halves 224-pixel images exactly (a fast box filter).
    image_format
        ``"png"`` (lossless, fast compression) or ``"jpeg"`` (quality 90, several times faster
        to encode and smaller).
    """

    title_px = 16
    header_px = 20
    gap_px = 3

    def __init__(
        self, capacity: int = 16, columns: int = 4, cell_px: int = 112, image_format: str = "png"
    ) -> None:
        if capacity < 1 or columns < 1 or cell_px < 8:
            raise ValueError(
                f"capacity, columns and cell_px must be positive (cell_px >= 8), "
                f"got {capacity!r}, {columns!r}, {cell_px!r}"
            )
        if image_format not in ("png", "jpeg"):
            raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
        self.capacity = capacity
        self.columns = min(columns, capacity)
        self.cell_px = cell_px
        self.image_format = image_format
        rows = math.ceil(capacity / self.columns)
        self.width = self.columns * (cell_px + self.gap_px) - self.gap_px
        self.height = self.header_px + rows * (cell_px + self.title_px)
        try:  # imported here so that the core imports without matplotlib
            from matplotlib.backends.backend_agg import (
                FigureCanvasAgg,
            )  # matplotlib only when a grid is drawn (import genlab stays light)
            from matplotlib.figure import Figure  # as above
        except ImportError as e:
            raise ImportError('drawing a grid needs matplotlib: pip install "genlab[lab]"') from e
        self.figure = Figure(figsize=(self.width / 100, self.height / 100), dpi=100)
        self.canvas = FigureCanvasAgg(self.figure)
        self._titles = [
            self.figure.text(*self._title_xy(i), "", ha="center", va="center", fontsize=8)
            for i in range(capacity)
        ]
        self._header = self.figure.text(
            0.5, 1 - self.header_px / 2 / self.height, "", ha="center", va="center", fontsize=9
        )
        self._text_layer: tuple[tuple[str, ...], np.ndarray] | None = None

    def _cell_origin(self, i: int) -> tuple[int, int]:
        row, column = divmod(i, self.columns)
        top = self.header_px + row * (self.cell_px + self.title_px) + self.title_px
        return top, column * (self.cell_px + self.gap_px)

    def _title_xy(self, i: int) -> tuple[float, float]:
        top, left = self._cell_origin(i)
        return (left + self.cell_px / 2) / self.width, 1 - (top - self.title_px / 2) / self.height

    def _fit(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        if max(height, width) == self.cell_px:
            return image
        picture = Image.fromarray(image)
        factor = max(height, width) / self.cell_px
        if factor.is_integer() and height % factor == 0 and width % factor == 0:
            return np.asarray(picture.reduce(int(factor)))  # box filter, several times faster
        scale = 1 / factor
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return np.asarray(picture.resize(size, Image.BILINEAR))

    def _text(self, titles: Sequence[str], header: str) -> np.ndarray:
        key = (*titles, header)
        if self._text_layer is None or self._text_layer[0] != key:
            for text, title in zip(self._titles, [*titles, *[""] * self.capacity]):
                text.set_text(title)
            self._header.set_text(header)
            self.canvas.draw()
            layer = np.asarray(self.canvas.buffer_rgba())[..., :3].copy()
            self._text_layer = (key, layer)
        return self._text_layer[1]

    def mosaic(
        self, images: np.ndarray | Sequence[np.ndarray], titles: Sequence[str], header: str = "",
        *, targets: Sequence | None = None, target_format=None, show: dict | None = None,
        dashed: Sequence | None = None,
    ) -> np.ndarray:  # fmt: skip
        """Return the grid as an RGB uint8 array (titles drawn by matplotlib).

        ``images`` is an N x H x W x C array or a sequence of H x W x C images of any sizes.
        ``targets`` (one :class:`~genlab.targets.Targets` or None per image, in the images'
        pixels) are drawn on the cells by :func:`genlab.overlay.draw_targets`, with the names
        and skeleton of ``target_format`` and the switches in ``show`` (``boxes``, ``masks``,
        ``keypoints``, ``labels``); ``dashed[i]`` holds the ids of image ``i``'s instances drawn
        dashed (those an op dropped).
        """
        if targets is not None:
            from .overlay import draw_targets, format_options

            options = {**format_options(target_format), **(show or {})}
        shown = images[: self.capacity]
        if isinstance(shown, np.ndarray):
            shown = displayable(shown)
        titles = [titles[i] if i < len(titles) else "" for i in range(len(shown))]
        picture = self._text(titles, header).copy()
        for i, image in enumerate(shown):
            if image.dtype != np.uint8:
                image = displayable(image[None])[0]
            if image.shape[-1] == 1:
                image = np.repeat(image, 3, axis=-1)
            canvas = image.shape[:2]
            image = self._fit(image)
            if targets is not None and i < len(targets):
                gone = dashed[i] if dashed is not None and i < len(dashed) else ()
                image = draw_targets(image, targets[i], canvas_size=canvas, dashed=gone, **options)
            top, left = self._cell_origin(i)
            picture[top : top + image.shape[0], left : left + image.shape[1]] = image[..., :3]
        rows_used = max(1, math.ceil(len(shown) / self.columns))
        return picture[: self.header_px + rows_used * (self.cell_px + self.title_px)]

    def render(
        self, images: np.ndarray | Sequence[np.ndarray], titles: Sequence[str], header: str = "",
        **targets,
    ) -> bytes:  # fmt: skip
        """Return the grid of the first ``capacity`` images as PNG (or JPEG) bytes (``targets``:
        as :meth:`mosaic`'s)."""
        return encode_image(self.mosaic(images, titles, header, **targets), self.image_format)


def encode_image(rgb: np.ndarray, image_format: str = "png") -> bytes:
    """Encode an RGB uint8 array as PNG (fast, level 1 compression) or JPEG (quality 90)."""
    buffer = io.BytesIO()
    picture = Image.fromarray(np.ascontiguousarray(rgb))
    if image_format == "jpeg":
        picture.save(buffer, "JPEG", quality=90)
    else:
        picture.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def render_grid(
    images: np.ndarray, titles: Sequence[str] | None = None, *, columns: int | None = None,
    targets: Sequence | None = None, target_format=None, show: dict | None = None,
    dashed: Sequence | None = None,
) -> bytes:  # fmt: skip
    """A PNG (bytes) showing ``images`` (N x H x W x C) in a grid, each titled, with their
    ``targets`` drawn when given (see :meth:`GridRenderer.mosaic`).

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install "genlab[lab]"``).
    """
    n = max(len(images), 1)
    renderer = GridRenderer(capacity=n, columns=columns or math.ceil(math.sqrt(n)))
    drawn = {"targets": targets, "target_format": target_format, "show": show, "dashed": dashed}
    return renderer.render(images, list(titles or []), **drawn)
