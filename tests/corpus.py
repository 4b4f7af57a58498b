"""Write small image folders for tests: good class folders and a corpus of bad input.

Import from a test as ``from corpus import write_bad_corpus, write_class_folders``.

:func:`write_corpus` lays out two class folders, ``cats`` and ``dogs``::

    root/
      cats/  good-0.png good-1.jpg good-2.png  png-named.jpg   (good, read)
             corrupt.jpg truncated.jpg empty.jpg text.jpg      (bad, skipped)
             ._good-0.png .ipynb_checkpoints/good-0-checkpoint.png   (hidden, ignored)
      dogs/  good-0.png good-1.jpg good-2.png                  (good, read)
             truncated.png bomb.png                            (bad, skipped)
             .DS_Store                                         (hidden, ignored)
      .ipynb_checkpoints/cats/good-0.png                       (hidden, ignored: not a class)
      .DS_Store                                                (hidden, ignored)

so a reader run with ``on_error="skip"`` and ``max_pixels`` below :data:`BOMB_PIXELS`
reads ``len(corpus.good)`` images of two classes and skips ``len(corpus.bad)`` files.
Without ``max_pixels``, ``bomb.png`` decodes (36 million pixels, slow but valid).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "BOMB_PIXELS",
    "BOMB_SIZE",
    "CLASS_COLOURS",
    "Corpus",
    "write_bad_corpus",
    "write_class_folders",
    "write_corpus",
]

BOMB_SIZE = (6000, 6000)
"""(width, height) of ``bomb.png``: large dimensions in a file of a few kilobytes."""
BOMB_PIXELS = BOMB_SIZE[0] * BOMB_SIZE[1]
"""Any ``max_pixels`` below this rejects ``bomb.png``; every good file has < 2,000 pixels."""

CLASS_COLOURS = (
    (200, 40, 40),
    (40, 160, 60),
    (50, 70, 210),
    (220, 200, 40),
    (150, 60, 170),
    (40, 180, 190),
    (240, 130, 30),
    (120, 120, 120),
)
"""Mean colour of the images of class i (cycled) in :func:`write_class_folders`."""


@dataclass
class Corpus:
    """Paths written by :func:`write_corpus`, as strings joined onto the given root."""

    root: Path
    good: list[str] = field(default_factory=list)
    """Valid images that must be read (includes a PNG named ``.jpg``)."""
    bad: dict[str, str] = field(default_factory=dict)
    """Each file that must be rejected, mapped to the reason."""
    hidden: list[str] = field(default_factory=list)
    """Hidden files and files in hidden folders, which must be ignored (neither read nor skipped)."""
    class_names: tuple[str, ...] = ("cats", "dogs")


def write_class_folders(
    root: str | os.PathLike[str],
    classes: Sequence[str] | int,
    n_per_class: int,
    size: tuple[int, int] = (32, 24),
    seed: int = 0,
    ext: str = ".png",
) -> list[str]:
    """Write a small synthetic class-folder dataset of valid images; return the paths.

    Class ``i`` gets images of colour ``CLASS_COLOURS[i % 8]`` plus noise, so the classes
    are easy to tell apart. Files are ``root/<class>/<class>-<k:03d><ext>``.

    Parameters
    ----------
    root : path-like
        Folder to write into (created if missing).
    classes : sequence of str or int
        Class folder names, or a count ``n`` for names ``"class0"`` .. ``"class<n-1>"``.
    n_per_class : int
        Images per class.
    size : (width, height)
        Image size in Pillow order: arrays read from the files are height x width x 3.
    seed : int
        Seed of the noise; the same arguments write the same bytes.
    ext : {".png", ".jpg"}
        File format; PNG is lossless, so pixels read back equal the ones written.

    Returns
    -------
    list of str
        The written paths in sorted order (class, then index).
    """
    if isinstance(classes, int):
        classes = [f"class{i}" for i in range(classes)]
    if ext not in (".png", ".jpg"):
        raise ValueError(f"write_class_folders: ext must be '.png' or '.jpg', got {ext!r}")
    width, height = size
    rng = np.random.default_rng(seed)
    paths = []
    for label, name in enumerate(classes):
        folder = Path(root, name)
        folder.mkdir(parents=True, exist_ok=True)
        colour = np.array(CLASS_COLOURS[label % len(CLASS_COLOURS)], dtype=np.float64)
        for k in range(n_per_class):
            noise = rng.normal(0.0, 20.0, size=(height, width, 3))
            pixels = np.clip(np.round(colour + noise), 0, 255).astype(np.uint8)
            path = folder / f"{name}-{k:03d}{ext}"
            Image.fromarray(pixels, mode="RGB").save(path, quality=95)
            paths.append(str(path))
    return sorted(paths)


def write_bad_corpus(root: str | os.PathLike[str]) -> dict[str, str]:
    """Write the corpus of :func:`write_corpus` and return its bad files with reasons."""
    return write_corpus(root).bad


def write_corpus(root: str | os.PathLike[str]) -> Corpus:
    """Write good, bad and hidden files in two class folders (see the module docstring)."""
    root = Path(root)
    corpus = Corpus(root=root)
    cats, dogs = root / "cats", root / "dogs"
    for folder in (cats, dogs, cats / ".ipynb_checkpoints", root / ".ipynb_checkpoints" / "cats"):
        folder.mkdir(parents=True, exist_ok=True)

    def good(path: Path, data: bytes) -> None:
        path.write_bytes(data)
        corpus.good.append(str(path))

    def bad(path: Path, data: bytes, reason: str) -> None:
        path.write_bytes(data)
        corpus.bad[str(path)] = reason

    def hidden(path: Path, data: bytes) -> None:
        path.write_bytes(data)
        corpus.hidden.append(str(path))

    rng = np.random.default_rng(1234)
    for label, folder in enumerate((cats, dogs)):
        for k, fmt in enumerate(("PNG", "JPEG", "PNG")):
            ext = ".png" if fmt == "PNG" else ".jpg"
            good(folder / f"good-{k}{ext}", _encode(_noise(rng, label), fmt))
    good(cats / "png-named.jpg", _encode(_noise(rng, 0), "PNG"))

    jpeg = _encode(_noise(rng, 0, size=(64, 48)), "JPEG")
    png = _encode(_noise(rng, 1, size=(64, 48)), "PNG")
    garbage = rng.integers(0, 256, size=2048, dtype=np.uint8).tobytes()
    bad(cats / "corrupt.jpg", b"\xff\xd8\xff\xe0" + garbage, "JPEG header followed by garbage")
    bad(cats / "truncated.jpg", _cut_jpeg(jpeg), "JPEG cut in the middle of its scan data")
    bad(cats / "empty.jpg", b"", "zero-byte file")
    bad(cats / "text.jpg", b"this is not an image\n" * 8, "text file named .jpg")
    bad(dogs / "truncated.png", _cut_png(png), "PNG cut in the middle of its IDAT data")
    bad(dogs / "bomb.png", _bomb_png(), f"{BOMB_SIZE[0]}x{BOMB_SIZE[1]} pixels: decompression bomb")

    hidden(root / ".DS_Store", b"\x00\x00\x00\x01Bud1" + garbage[:64])
    hidden(dogs / ".DS_Store", b"\x00\x00\x00\x01Bud1" + garbage[64:128])
    hidden(cats / "._good-0.png", b"\x00\x05\x16\x07" + garbage[:64])  # AppleDouble
    hidden(cats / ".ipynb_checkpoints" / "good-0-checkpoint.png", _encode(_noise(rng, 0), "PNG"))
    hidden(root / ".ipynb_checkpoints" / "cats" / "good-0.png", _encode(_noise(rng, 0), "PNG"))

    corpus.good.sort()
    corpus.hidden.sort()
    return corpus


# -- helpers -----------------------------------------------------------------------------


def _noise(rng: np.random.Generator, label: int, size: tuple[int, int] = (32, 24)) -> np.ndarray:
    colour = np.array(CLASS_COLOURS[label], dtype=np.float64)
    pixels = colour + rng.normal(0.0, 40.0, size=(size[1], size[0], 3))
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


def _encode(pixels: np.ndarray, fmt: str) -> bytes:
    out = BytesIO()
    Image.fromarray(pixels, mode="RGB").save(out, format=fmt, quality=90)
    return out.getvalue()


def _cut_jpeg(data: bytes) -> bytes:
    """Keep the headers and half of the entropy-coded data after the SOS marker."""
    sos = data.index(b"\xff\xda")
    return data[: sos + (len(data) - sos) // 2]


def _cut_png(data: bytes) -> bytes:
    """Keep the headers and half of the first IDAT chunk."""
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    return data[: idat + 4 + length // 2]


def _bomb_png() -> bytes:
    """A valid 1-bit PNG of BOMB_SIZE, all black: a few kilobytes that decode to 36 Mpx."""
    width, height = BOMB_SIZE
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    raw = compressor.compress(row * height) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
