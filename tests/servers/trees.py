"""Small class-folder image trees written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_image_tree(
    root: str | Path, counts: dict[str, int], *, size: tuple[int, int] = (24, 16), seed: int = 0
) -> list[Path]:
    """Write ``counts[class]`` random PNG/JPEG images per class folder under ``root``.

    Returns the written paths, sorted. Formats alternate so both decoders are exercised.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    written = []
    for class_name, count in counts.items():
        folder = root / class_name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
            suffix = ".png" if i % 2 == 0 else ".jpg"
            path = folder / f"img_{i:03d}{suffix}"
            Image.fromarray(pixels).save(path)
            written.append(path)
    return sorted(written)
