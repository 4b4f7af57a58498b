"""Find the images of a class-folder dataset, like torchvision's ImageFolder.

``root/<class name>/**/<image>``: classes are the sorted subfolder names, extensions are
matched case-insensitively, hidden files and folders are skipped. Anything else found is
not dropped silently: it is listed in :attr:`DatasetIndex.ignored` with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import storage
from .labels import MultiLabels, multi_hot, one_hot

__all__ = [
    "IMAGE_EXTENSIONS", "DatasetIndex", "discover_images", "index_folder", "multi_hot", "one_hot",
]  # fmt: skip

IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
)  # fmt: skip


def _is_image(name: str, extensions: Sequence[str]) -> bool:
    return os.path.splitext(name)[1].lower() in extensions


def discover_images(
    folder: str | os.PathLike, extensions: Sequence[str] = IMAGE_EXTENSIONS
) -> Iterator[tuple[str, str]]:
    """Yield ``(path, class_name)`` for every image of a class-folder dataset, in sorted order.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["cat/a.JPG", "dog/b.png", "dog/.DS_Store", "dog/notes.txt"]:
    ...     (root / name).parent.mkdir(exist_ok=True)
    ...     _ = (root / name).write_bytes(b"")
    >>> [(pathlib.Path(p).name, c) for p, c in discover_images(root)]
    [('a.JPG', 'cat'), ('b.png', 'dog')]
    """
    extensions = tuple(e.lower() for e in extensions)
    root = str(folder)
    for rel in storage.walk_files(root):
        cls, sep, rest = rel.partition("/")
        if sep and _is_image(rest, extensions):
            yield storage.join(root, rel), cls


@dataclass(frozen=True)
class DatasetIndex:
    """The listing of a dataset, made once: every sample's path and class, in sorted order.

    A sample's *key* is its position here; it names the sample across epochs and workers.
    ``labels`` holds one class index per sample, or (multi-label) a
    :class:`~genlab.sources.labels.MultiLabels` of each sample's class indices, whose
    ``labels[keys]`` are multi-hot rows; rows are made per batch (:meth:`one_hot`).
    ``rows`` says, for a table, which table row each sample came from.
    """

    root: str
    paths: tuple[str, ...]
    labels: np.ndarray | MultiLabels
    class_names: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...] = field(default=())
    rows: np.ndarray | None = None

    @property
    def multi_label(self) -> bool:
        """True when a sample may carry several labels (multi-hot rows)."""
        return self.labels.ndim == 2

    def __len__(self) -> int:
        return len(self.paths)

    def one_hot(self, keys: np.ndarray) -> np.ndarray:
        """The one-hot (multi-label: multi-hot) int64 rows of the samples ``keys``."""
        if self.multi_label:
            return self.labels[keys]
        return one_hot(self.labels[keys], len(self.class_names))

    def class_counts(self) -> dict[str, int]:
        """Samples per class, by class name (multi-label: samples carrying each label)."""
        if self.multi_label:
            return dict(zip(self.class_names, self.labels.counts().tolist()))
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return dict(zip(self.class_names, counts.tolist()))


def index_folder(
    root: str | os.PathLike, extensions: Sequence[str] = IMAGE_EXTENSIONS, policy=None
) -> DatasetIndex:
    """List a class-folder dataset once (a remote listing retried per ``policy``).

    Raises
    ------
    FileNotFoundError
        ``root`` does not exist or is not a folder.
    ValueError
        ``root`` has no class folders, or a class folder holds no images.
    """
    root = str(root)
    if not storage.exists(root) or not storage.is_dir(root):
        raise FileNotFoundError(f"dataset root {root!r} does not exist or is not a folder")
    extensions = tuple(e.lower() for e in extensions)
    files = list(storage.walk_files(root, policy))
    # a remote tree is listed once: its class folders are the first components of its files
    dirs = (
        {r.split("/", 1)[0] for r in files if "/" in r}
        if storage.is_remote(root)
        else storage.list_dirs(root)
    )
    by_class: dict[str, list[str]] = {name: [] for name in sorted(dirs)}
    ignored: list[tuple[str, str]] = []
    for rel in files:
        cls, sep, rest = rel.partition("/")
        path = storage.join(root, rel)
        if not sep:
            ignored.append((path, "file outside any class folder"))
            continue
        if _is_image(rest, extensions):
            by_class.setdefault(cls, []).append(path)
        else:
            ignored.append((path, f"extension not in {list(extensions)}"))
    if not by_class:
        raise ValueError(f"dataset root {root!r} has no class folders")
    empty = [c for c, files in by_class.items() if not files]
    if empty:
        raise ValueError(
            f"class folder {storage.join(root, empty[0])!r} holds no images "
            f"(extensions {list(extensions)})"
        )
    class_names = tuple(sorted(by_class))
    paths = [p for c in class_names for p in by_class[c]]
    labels = np.repeat(np.arange(len(class_names)), [len(by_class[c]) for c in class_names])
    return DatasetIndex(root, tuple(paths), labels.astype(np.int64), class_names, tuple(ignored))
