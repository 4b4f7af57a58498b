"""Matplotlib charts for the lab (class mix, memory over time), drawn with Agg into PNG bytes.

The image grid itself is :class:`genlab.plotting.GridRenderer`, shared with the command line.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from genlab.plotting import GridRenderer, encode_image, labels_of

__all__ = [
    "GridRenderer",
    "class_mix_png",
    "channel_extremes",
    "displayable_batch",
    "encode_image",
    "figure_png",
    "labels_of",
    "rss_png",
]


def displayable_batch(images: np.ndarray) -> np.ndarray:
    """Images as uint8 for display, stretched per channel over the whole batch, not per image.

    A normalised float batch (``rescale_images``) is shown with one gain and offset per
    channel for every image, so a darker or flatter image (``color_jitter``) still looks
    darker or flatter than its neighbours; uint8 images are shown as they are.

    >>> x = np.array([[[[0.0, 0.0, 0.0]]], [[[0.5, 1.0, 2.0]]]])
    >>> displayable_batch(x)[:, 0, 0].tolist()
    [[0, 0, 0], [255, 255, 255]]
    """
    if not isinstance(images, np.ndarray) or images.dtype == np.uint8 or images.ndim != 4:
        return images
    x = np.array(images, dtype=np.float32, order="C")  # one copy, then in place
    low, high = channel_extremes(x)
    # on rows of whole image lines with the per-channel constants tiled along them (a 3-value
    # inner loop is many times slower); the same values, operation for operation
    rows = x.reshape(-1, x.shape[-2] * x.shape[-1])
    rows -= np.tile(low, x.shape[-2])
    rows *= np.tile(255 / np.maximum(high - low, 1e-12), x.shape[-2])
    rows += 0.5
    return x.astype(np.uint8)


def channel_extremes(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel minimum and maximum of a channel-last array, over every other axis.

    Reduces rows of ``width * channels`` values (then folds the columns) rather than asking
    numpy for ``min(axis=(0, 1, 2))``, whose three-value inner loop is some 50 times slower.

    >>> x = np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3)
    >>> [v.tolist() for v in channel_extremes(x)]
    [[0.0, 1.0, 2.0], [21.0, 22.0, 23.0]]
    """
    x = np.ascontiguousarray(images)
    channels = x.shape[-1]
    rows = x.reshape(-1, x.shape[-2] * channels)
    low = rows.min(axis=0).reshape(-1, channels).min(axis=0)
    high = rows.max(axis=0).reshape(-1, channels).max(axis=0)
    return low, high


def figure_png(figure: Figure) -> bytes:
    """Draw ``figure`` with Agg and return it as PNG bytes."""
    canvas = (
        figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    )
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()


def class_mix_png(
    labels: Sequence[str], class_names: Sequence[str], counts: dict[str, int] | None = None
) -> bytes:
    """Return a bar chart PNG of how many samples of each class the batch holds.

    ``counts`` (class name -> samples carrying it) is given for multi-label batches, where a
    sample counts once for each of its labels.
    """
    names = list(class_names) or sorted(set(labels))
    if counts is not None:
        counts = [float(counts.get(name, 0)) for name in names]
    else:
        counts = [sum(1 for label in labels if label == name) for name in names]
    figure = Figure(figsize=(max(3.0, 0.35 * len(names) + 1.5), 2.2), dpi=80)
    ax = figure.subplots()
    colours = ["#cf222e" if count == len(labels) else "#0969da" for count in counts]
    ax.bar(range(len(names)), counts, color=colours)
    ax.set_xticks(range(len(names)), names, fontsize=8, rotation=45 if len(names) > 8 else 0)
    present = sum(1 for count in counts if count)
    warning = "  ONE CLASS ONLY" if present == 1 and len(names) > 1 else ""
    ax.set_title(
        f"class mix: {present} of {len(names)} classes in {len(labels)} samples{warning}",
        fontsize=9,
    )
    figure.tight_layout()
    return figure_png(figure)


def rss_png(seconds: Sequence[float], rss_bytes: Sequence[int]) -> bytes:
    """Return a small line plot PNG of the process's resident memory over time."""
    figure = Figure(figsize=(4.0, 1.8), dpi=80)
    ax = figure.subplots()
    ax.plot(list(seconds), [b / 2**20 for b in rss_bytes], marker=".", color="#8250df")
    ax.set_xlabel("seconds since the lab opened", fontsize=8)
    ax.set_ylabel("RSS, MiB", fontsize=8)
    ax.tick_params(labelsize=7)
    figure.tight_layout()
    return figure_png(figure)
