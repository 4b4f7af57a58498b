"""Filled rectangles whose boxes and masks are known by construction (test helper)."""

from __future__ import annotations

import numpy as np


def rectangles(
    rng: np.random.Generator, size_hw: tuple[int, int], n: int, widths=(6, 24), heights=(6, 20)
) -> tuple[list[list[int]], np.ndarray]:
    """``n`` random rectangles inside an image of ``size_hw``: xyxy boxes and their 0/1 masks."""
    height, width = size_hw
    boxes, masks = [], np.zeros((n, height, width), np.uint8)
    for i in range(n):
        w, h = int(rng.integers(*widths)), int(rng.integers(*heights))
        x0, y0 = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        masks[i, y0 : y0 + h, x0 : x0 + w] = 1
        boxes.append([x0, y0, x0 + w, y0 + h])
    return boxes, masks
