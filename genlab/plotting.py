"""Pictures of batches: a grid of images with their class names, rendered to PNG.

Uses matplotlib's object API with the Agg canvas (no ``pyplot``, no global state), imported
only when a picture is asked for, so the core imports without matplotlib.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["displayable", "render_grid"]


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


def render_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    columns: int | None = None,
    tile_inches: float = 1.6,
    dpi: int = 80,
) -> bytes:
    """A PNG (bytes) showing ``images`` (N x H x W x 3) in a grid, each titled.

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install "genlab[lab]"``).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError('drawing a grid needs matplotlib: pip install "genlab[lab]"') from e
    images = displayable(np.asarray(images))
    n = max(len(images), 1)
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    fig = Figure(figsize=(columns * tile_inches, rows * tile_inches), dpi=dpi)
    FigureCanvasAgg(fig)
    for i, image in enumerate(images):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(image, interpolation="nearest")
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout(pad=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
