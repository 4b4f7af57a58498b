"""Targets drawn on an image: boxes with class names, translucent masks, keypoints and skeleton.

A pure function of arrays (Pillow's ``ImageDraw``, no matplotlib), used by
:mod:`genlab.plotting`'s grids and the lab's tiles. Boxes of instances an op dropped can be
drawn dashed on the original image (:func:`dropped_ids` compares the ids before and after).

>>> import numpy as np
>>> from genlab.targets import Targets
>>> image = np.zeros((40, 60, 3), np.uint8)
>>> t = Targets(boxes=[[5, 5, 30, 20]], labels=[0], masks=np.ones((1, 40, 60), np.uint8))
>>> out = draw_targets(image, t, class_names=["cat"])
>>> out.shape, out.dtype.name, bool(out[5, 5].any()), bool(out[39, 59].any())
((40, 60, 3), 'uint8', True, True)
>>> bool((draw_targets(image, t, masks=False)[39, 59] == 0).all())
True
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["PALETTE", "draw_targets", "dropped_ids", "format_options"]

#: Colours by class id (cycled): distinct on photographs, readable with white text.
PALETTE = np.array(
    [
        (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
        (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128),
        (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0), (170, 255, 195),
        (128, 128, 0),
    ],
    np.uint8,
)  # fmt: skip


def _colour(i: int) -> tuple[int, int, int]:
    r, g, b = PALETTE[int(i) % len(PALETTE)].tolist()
    return r, g, b


def dropped_ids(original, processed) -> set[int]:
    """The ids of ``original``'s instances that ``processed`` no longer has.

    >>> from genlab.targets import Targets
    >>> before = Targets(boxes=[[0, 0, 2, 2]] * 3, labels=[0, 1, 2])
    >>> sorted(dropped_ids(before, before.select([0, 2])))
    [1]
    """
    if original is None:
        return set()
    kept = set() if processed is None else set(processed.ids.tolist())
    return set(original.ids.tolist()) - kept


def _resized(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if mask.shape == size:
        return mask
    return np.asarray(Image.fromarray(mask).resize(size[::-1], Image.Resampling.NEAREST))


def _dashed_rectangle(draw, box, colour, width: int, dash: int = 5) -> None:
    x0, y0, x1, y1 = box
    for a, b, fixed, horizontal in ((x0, x1, y0, True), (x0, x1, y1, True),
                                    (y0, y1, x0, False), (y0, y1, x1, False)):  # fmt: skip
        start = a
        while start < b:
            end = min(start + dash, b)
            line = [(start, fixed), (end, fixed)] if horizontal else [(fixed, start), (fixed, end)]
            draw.line(line, fill=colour, width=width)
            start += 2 * dash


def draw_targets(
    image: np.ndarray,
    targets,
    *,
    class_names: Sequence[str] = (),
    skeleton: Sequence[tuple[int, int]] = (),
    boxes: bool = True,
    masks: bool = True,
    keypoints: bool = True,
    labels: bool = True,
    dashed: Collection[int] = (),
    canvas_size: tuple[int, int] | None = None,
    alpha: float = 0.45,
) -> np.ndarray:
    """``image`` (H x W x 3 uint8) with ``targets`` (a :class:`~genlab.targets.Targets`) drawn.

    Parameters
    ----------
    class_names
        Names written beside boxes (a class id without a name is written as its number).
    skeleton
        Pairs of keypoint indices joined by a line (see :func:`format_options`).
    boxes, masks, keypoints, labels
        Show or hide each kind (``labels``: the class names on boxes).
    dashed
        Ids of instances drawn with a dashed box (those an op dropped, :func:`dropped_ids`).
    canvas_size
        ``(height, width)`` of the pixels the targets are in, when ``image`` is shown at
        another size (a grid's cell): coordinates are scaled and masks resized (nearest).
    alpha
        Opacity of the mask colours.
    """
    image = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    if targets is None:
        return image
    height, width = image.shape[:2]
    canvas = canvas_size or (height, width)
    sx, sy = width / canvas[1], height / canvas[0]
    out = image.astype(np.float32)
    if masks and targets.mask is not None:
        semantic = _resized(targets.mask, (height, width))
        colours = np.vstack([np.zeros((1, 3), np.uint8), PALETTE[(np.arange(255)) % len(PALETTE)]])
        shade = semantic > 0
        out[shade] = (1 - alpha) * out[shade] + alpha * colours[semantic[shade]]
    if masks and targets.masks is not None:
        for mask, label in zip(targets.masks, targets.labels.tolist()):
            shade = _resized(mask, (height, width)).astype(bool)
            out[shade] = (1 - alpha) * out[shade] + alpha * np.array(_colour(label), np.float32)
    picture = Image.fromarray(out.round().astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    line = max(1, round(min(height, width) / 150))
    if boxes:
        for box, label, ident in zip(targets.boxes.tolist(), targets.labels.tolist(), targets.ids.tolist()):  # fmt: skip
            x0, y0, x1, y1 = box[0] * sx, box[1] * sy, box[2] * sx - 1, box[3] * sy - 1
            colour = _colour(label)
            if ident in dashed:
                _dashed_rectangle(draw, (x0, y0, x1, y1), colour, line)
            else:
                draw.rectangle((x0, y0, max(x0, x1), max(y0, y1)), outline=colour, width=line)
            if labels:
                name = class_names[label] if 0 <= label < len(class_names) else str(label)
                left, top, right, bottom = draw.textbbox((0, 0), name)
                w, h = right - left + 2, bottom - top + 2
                ty = y0 - h if y0 - h >= 0 else y0
                draw.rectangle((x0, ty, x0 + w, ty + h), fill=colour)
                draw.text((x0 + 1 - left, ty + 1 - top), name, fill=(255, 255, 255))
    if keypoints and targets.keypoints is not None:
        radius = max(1.5, line * 1.5)
        for points, label in zip(targets.keypoints, targets.labels.tolist()):
            xy = points[:, :2] * (sx, sy)
            seen = points[:, 2] > 0
            for a, b in skeleton:
                if seen[a] and seen[b]:
                    draw.line([tuple(xy[a]), tuple(xy[b])], fill=_colour(label), width=line)
            for (x, y), v in zip(xy.tolist(), points[:, 2].tolist()):
                if v > 0:  # 2 visible: filled; 1 labelled but hidden: hollow
                    fill = (255, 255, 255) if v >= 2 else None
                    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill,
                                 outline=_colour(label), width=1)  # fmt: skip
    return np.asarray(picture)


def format_options(target_format) -> dict:
    """:func:`draw_targets`' ``class_names`` and ``skeleton`` (as index pairs) from a
    :class:`~genlab.targets.TargetFormat` (or None)."""
    if target_format is None:
        return {}
    index = {n: i for i, n in enumerate(target_format.keypoint_names)}
    skeleton = [(index[a], index[b]) for a, b in target_format.skeleton]
    return {"class_names": target_format.class_names, "skeleton": skeleton}
