"""Write small WebDataset tar shards for tests: PNG images whose colour tells the class.

Import from a test as ``from shardfiles import write_shards``.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["COLOURS", "png", "write_shards", "add_member"]

COLOURS = {"blue": (0, 0, 255), "green": (0, 255, 0), "red": (255, 0, 0)}


def png(
    colour: tuple[int, int, int], size: tuple[int, int] = (12, 10), noise: int | None = None
) -> bytes:
    """A PNG of one colour; with ``noise`` (a seed) the low bits vary, so it does not compress."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8) + np.array(colour, np.uint8)
    if noise is not None:
        pixels ^= np.random.default_rng(noise).integers(0, 8, pixels.shape, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), 0
    tar.addfile(info, io.BytesIO(data))


def write_shards(
    folder: str | Path,
    n_shards: int,
    per_shard: int,
    *,
    label: str = "cls",
    multi: bool = False,
    size: tuple[int, int] = (12, 10),
    noise: bool = False,
) -> list[Path]:
    """``shard-0000.tar``, ... with ``per_shard`` samples each; sample ``i`` of the dataset has
    class ``i % 3`` (blue, green, red); ``label`` is the label member's extension. With ``multi``
    every even sample also carries the label ``"even"`` (a ``.json`` list). ``noise`` makes the
    images incompressible (large shards, for streaming tests)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(COLOURS)
    paths = []
    for s in range(n_shards):
        path = folder / f"shard-{s:04d}.tar"
        with tarfile.open(path, "w") as tar:
            for j in range(per_shard):
                i = s * per_shard + j
                name = names[i % 3]
                add_member(tar, f"{i:06d}.png", png(COLOURS[name], size, i if noise else None))
                if multi:
                    add_member(
                        tar,
                        f"{i:06d}.json",
                        json.dumps([name, *(["even"] if i % 2 == 0 else [])]).encode(),
                    )
                elif label == "cls":
                    add_member(tar, f"{i:06d}.cls", str(i % 3).encode())
                elif label == "txt":
                    add_member(tar, f"{i:06d}.txt", name.encode())
                else:
                    add_member(tar, f"{i:06d}.json", json.dumps({"label": name}).encode())
        paths.append(path)
    return paths
