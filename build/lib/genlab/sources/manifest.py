"""A dataset listing saved as data, so a run over a large remote tree does not list it again.

The manifest is a JSON-friendly dict that records what :func:`~genlab.sources.discover.index_folder`
found: the class names and, per class, the files relative to the class folder, in index order.
Rebuilding the index from it gives the same sample keys (positions) as listing again would, so
shuffles, shards and augmentation draws are unchanged::

    {"version": 1, "n_files": 5,
     "classes": {"cats": ["a.png", "b.jpg"], "dogs": ["c.png", "d.png", "sub/e.png"]}}
"""

from __future__ import annotations

import numpy as np

from . import storage
from .discover import DatasetIndex

__all__ = ["MANIFEST_VERSION", "index_to_manifest", "index_from_manifest"]

MANIFEST_VERSION = 1


def index_to_manifest(index: DatasetIndex) -> dict:
    """The manifest of a dataset listing (plain JSON types).

    Raises
    ------
    ValueError
        A path of the index is not below its root (the index was not made by ``index_folder``).
    """
    classes: dict[str, list[str]] = {name: [] for name in index.class_names}
    for path, label in zip(index.paths, index.labels.tolist(), strict=True):
        class_name = index.class_names[label]
        classes[class_name].append(_relative_to_class(index.root, class_name, path))
    return {"version": MANIFEST_VERSION, "n_files": len(index.paths), "classes": classes}


def _relative_to_class(root: str, class_name: str, path: str) -> str:
    """``path`` relative to ``root/class_name`` (URL chains such as ``zip://...::a.zip`` included)."""
    prefix, sep, chain = storage.join(root, class_name).partition("::")
    body = path[: len(path) - len(sep + chain)] if sep and path.endswith(sep + chain) else path
    rel = body[len(prefix) + 1 :].replace("\\", "/")
    if not body.startswith(prefix) or storage.join(root, f"{class_name}/{rel}") != path:
        raise ValueError(
            f"manifest: {path!r} is not inside class folder {class_name!r} of {root!r}"
        )
    return rel


def index_from_manifest(root: str, manifest: dict) -> DatasetIndex:
    """Rebuild the listing of ``root`` from its manifest, without touching storage.

    Raises
    ------
    ValueError
        The manifest is malformed: wrong version, a class with no files, a path that leaves its
        class folder (absolute, ``..``), or a file count that does not add up. The message names
        the offending entry.

    Examples
    --------
    >>> manifest = {"version": 1, "n_files": 3, "classes": {"cat": ["a.png"], "dog": ["b.png", "c.png"]}}
    >>> index = index_from_manifest("memory://pets", manifest)
    >>> index.paths[1], index.labels.tolist(), index.class_names
    ('memory://pets/dog/b.png', [0, 1, 1], ('cat', 'dog'))
    >>> index_to_manifest(index) == manifest
    True
    """
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        version = manifest.get("version") if isinstance(manifest, dict) else manifest
        raise ValueError(f"manifest: version must be {MANIFEST_VERSION}, got {version!r}")
    classes = manifest.get("classes")
    if not isinstance(classes, dict) or not classes:
        raise ValueError(f"manifest: 'classes' must map class names to file lists, got {classes!r}")
    class_names = tuple(sorted(classes))
    if list(classes) != list(class_names):
        raise ValueError(f"manifest: classes must be in sorted order, got {list(classes)!r}")
    paths: list[str] = []
    counts: list[int] = []
    for class_name in class_names:
        files = classes[class_name]
        _check_name(class_name, "class name")
        if not isinstance(files, list) or not files:
            raise ValueError(f"manifest: class {class_name!r} has no files")
        for rel in files:
            _check_relative(rel, class_name)
            paths.append(storage.join(root, f"{class_name}/{rel}"))
        counts.append(len(files))
    if manifest.get("n_files", len(paths)) != len(paths):
        raise ValueError(
            f"manifest: 'n_files' is {manifest.get('n_files')!r} but the classes list {len(paths)}"
        )
    labels = np.repeat(np.arange(len(class_names)), counts).astype(np.int64)
    return DatasetIndex(str(root), tuple(paths), labels, class_names)


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise ValueError(f"manifest: bad {what} {name!r}")


def _check_relative(rel: object, class_name: str) -> None:
    if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel:
        raise ValueError(f"manifest: bad file {rel!r} in class {class_name!r}")
    if any(part in ("", ".", "..") for part in rel.split("/")):
        raise ValueError(f"manifest: file {rel!r} in class {class_name!r} leaves its folder")
