"""YOLO (Darknet / Ultralytics) folders: ``images/**/x.jpg`` and ``labels/**/x.txt``.

Each line of a label file is ``class cx cy w h``, normalised by the image size (read from the
image's header per batch). An image without a label file has no objects (YOLO's convention);
a label file without an image is listed in ``ignored``. Class names come from ``class_names``,
else from ``data.yaml`` / ``dataset.yaml`` (``names:``) or ``classes.txt`` in the root, else
they are the class numbers. Polygon (segment) and pose lines are not read: they are reported as
bad annotations.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

import numpy as np

from ...targets import TargetFormat
from .. import storage
from ..discover import IMAGE_EXTENSIONS
from . import AnnotatedIndex, Problems, Record, check_instances, present_classes

__all__ = ["index_yolo", "yolo_names"]


def yolo_names(text: str) -> list[str]:
    """The ``names`` of a YOLO dataset YAML (a list, a ``[a, b]`` flow list or ``i: name`` lines).

    >>> yolo_names("path: .\\nnames:\\n  0: cat\\n  1: dog\\n")
    ['cat', 'dog']
    >>> yolo_names("names: [cat, 'dog']\\nnc: 2")
    ['cat', 'dog']
    """
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("names:"):
            continue
        rest = line[len("names:") :].strip()
        if rest.startswith("["):
            return [v.strip().strip("'\"") for v in rest.strip("[]").split(",") if v.strip()]
        found: dict[int, str] = {}
        for item in lines[i + 1 :]:
            if item and not item[0].isspace():
                break
            item = item.strip()
            if item.startswith("- "):
                found[len(found)] = item[2:].strip().strip("'\"")
            elif ":" in item:
                key, _, value = item.partition(":")
                found[int(key)] = value.strip().strip("'\"")
        return [found[k] for k in sorted(found)]
    return []


def _class_names(root: str, given: Sequence[str] | None, policy) -> tuple[str, ...]:
    if given:
        return tuple(given)
    for name in ("data.yaml", "dataset.yaml"):
        path = storage.join(root, name)
        if storage.exists(path):
            return tuple(yolo_names(storage.read_bytes(path, policy).decode("utf-8")))
    path = storage.join(root, "classes.txt")
    if storage.exists(path):
        text = storage.read_bytes(path, policy).decode("utf-8")
        return tuple(line.strip() for line in text.splitlines() if line.strip())
    return ()


def index_yolo(
    root: str,
    *,
    class_names: Sequence[str] | None = None,
    targets: dict | None = None,
    on_error: str = "skip",
    policy=None,
) -> AnnotatedIndex:
    """List a YOLO folder once: images in sorted order, their label files parsed."""
    root = str(root)
    if not storage.is_dir(storage.join(root, "images")):
        raise FileNotFoundError(f"yolo: {root!r} has no 'images' folder")
    files = sorted(storage.walk_files(storage.join(root, "images"), policy))
    labels_root = storage.join(root, "labels")
    label_files = set(storage.walk_files(labels_root, policy)) if storage.is_dir(labels_root) else set()  # fmt: skip
    names = _class_names(root, class_names, policy)
    problems = Problems(on_error, f"yolo {root!r}")
    paths, records, ignored, used = [], [], [], set()
    for rel in files:
        if posixpath.splitext(rel)[1].lower() not in IMAGE_EXTENSIONS:
            ignored.append((storage.join(root, "images/" + rel), "not an image"))
            continue
        label_rel = posixpath.splitext(rel)[0] + ".txt"
        used.add(label_rel)
        path = storage.join(root, "images/" + rel)
        lines = []
        if label_rel in label_files:
            label_path = storage.join(labels_root, label_rel)
            text = storage.read_bytes(label_path, policy).decode("utf-8", errors="replace")
            lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]  # fmt: skip
        else:
            label_path = storage.join(labels_root, label_rel)
        records.append(_record(lines, label_path, len(names) or None, problems))
        paths.append(path)
    for rel in sorted(label_files - used):
        if rel.endswith(".txt"):
            ignored.append((storage.join(labels_root, rel), "label file without an image"))
    if not paths:
        raise ValueError(f"yolo: {root!r} holds no images")
    if not names:
        top = max((int(r.labels.max()) for r in records if len(r.labels)), default=0)
        names = tuple(str(i) for i in range(top + 1))
    problems.warn()
    fmt = TargetFormat.from_dict({**(targets or {}), "class_names": list(names)})
    return AnnotatedIndex(
        root, tuple(paths), present_classes(records, len(names)), names,
        tuple(problems.rows + ignored), records=tuple(records), target_format=fmt, on_error=on_error,
    )  # fmt: skip


def _record(lines, label_path: str, n_classes: int | None, problems: Problems) -> Record:
    boxes, labels, ids = [], [], []
    for number, values in lines:
        try:
            if len(values) != 5:
                raise ValueError(f"{len(values)} values, a box line has 5 (class cx cy w h)")
            label, (cx, cy, w, h) = int(values[0]), (float(v) for v in values[1:])
        except ValueError as e:
            problems.bad(label_path, f"line {number}", str(e))
            continue
        boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        labels.append(label)
        ids.append(number - 1)
    limit = n_classes if n_classes is not None else 1 + max(labels, default=0)
    clipped, keep, bad = check_instances(boxes, labels, limit, size=None, normalized=True)
    for i, reason in bad:
        problems.bad(label_path, f"line {ids[i] + 1}", reason)
    return Record(
        boxes=clipped[keep], labels=np.asarray(labels, np.int64)[keep],
        ids=np.asarray(ids, np.int64)[keep], normalized=True,
    )  # fmt: skip
