"""Pascal VOC folders: ``Annotations/*.xml`` beside ``JPEGImages/`` (or ``images/``).

Each XML names its image (``<filename>``), its ``<size>`` and its ``<object>`` boxes
(``<name>``, ``<bndbox>`` ``xmin ymin xmax ymax``, read as ``xyxy`` pixel coordinates, as
torchvision and albumentations' ``pascal_voc`` read them). Class names are ``class_names``, else
the sorted names found. Files are parsed with the standard library with every DTD refused, so
an entity expansion ("billion laughs") or an external entity never runs; a file that cannot be
parsed leaves its image out, listed in ``ignored`` (or raises, ``on_error="raise"``).
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import numpy as np

from ...targets import TargetFormat
from .. import storage
from . import AnnotatedIndex, Problems, Record, check_instances, present_classes

__all__ = ["index_voc", "parse_voc"]


def parse_voc(data: bytes) -> tuple[str, tuple[int, int] | None, list[tuple[str, list[float]]]]:
    """``(filename, (height, width) or None, [(name, [xmin, ymin, xmax, ymax]), ...])``.

    ValueError for a DTD (refused: entities), bad XML or a missing field.

    >>> parse_voc(b"<annotation><filename>a.jpg</filename><object><name>cat</name>"
    ...           b"<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox>"
    ...           b"</object></annotation>")
    ('a.jpg', None, [('cat', [1.0, 2.0, 3.0, 4.0])])
    """
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise ValueError("a DTD or entity declaration is refused (entity expansion)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ValueError(f"not valid XML: {e}") from None
    filename = (root.findtext("filename") or "").strip()
    size = None
    if root.find("size") is not None:
        try:
            size = (
                int(float(root.findtext("size/height"))),
                int(float(root.findtext("size/width"))),
            )
        except (TypeError, ValueError):
            raise ValueError("<size> needs a <width> and a <height>") from None
    objects = []
    for n, obj in enumerate(root.iter("object")):
        try:
            box = [float(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
        except (TypeError, ValueError):
            raise ValueError(f"object {n}: <bndbox> needs xmin, ymin, xmax, ymax") from None
        objects.append(((obj.findtext("name") or "").strip(), box))
    return filename, size, objects


def index_voc(
    root: str,
    *,
    class_names: Sequence[str] | None = None,
    targets: dict | None = None,
    on_error: str = "skip",
    policy=None,
) -> AnnotatedIndex:
    """List a Pascal VOC folder once: annotation files in sorted order."""
    root = str(root)
    folder = storage.join(root, "Annotations")
    if not storage.is_dir(folder):
        raise FileNotFoundError(f"voc: {root!r} has no 'Annotations' folder")
    images = storage.join(root, "JPEGImages")
    if not storage.is_dir(images):
        images = storage.join(root, "images")
    problems = Problems(on_error, f"voc {root!r}")
    parsed = []
    for rel in sorted(storage.walk_files(folder, policy)):
        xml_path = storage.join(folder, rel)
        if not rel.lower().endswith(".xml"):
            continue
        try:
            filename, size, objects = parse_voc(storage.read_bytes(xml_path, policy))
        except ValueError as e:
            problems.bad(xml_path, "the file", str(e))
            continue
        image = storage.join(images, filename or posixpath.splitext(rel)[0] + ".jpg")
        if not storage.is_url(image) and not storage.exists(image):
            problems.bad(xml_path, "the file", f"its image {image!r} is missing")
            continue
        parsed.append((image, xml_path, size, objects))
    names = tuple(class_names or sorted({name for *_, objs in parsed for name, _ in objs}))
    index = {name: i for i, name in enumerate(names)}
    paths, records = [], []
    for image, xml_path, size, objects in parsed:
        labels = [index.get(name, -1) for name, _ in objects]
        boxes, keep, bad = check_instances([b for _, b in objects], labels, len(names), size=size)
        for i, reason in bad:
            reason = f"class {objects[i][0]!r} is not in {list(names)}" if labels[i] < 0 else reason
            problems.bad(xml_path, f"object {i}", reason)
        ids = np.flatnonzero(keep)
        paths.append(image)
        records.append(Record(boxes=boxes[keep], labels=np.asarray(labels, np.int64)[keep], ids=ids, size=size))  # fmt: skip
    if not paths:
        raise ValueError(f"voc: {root!r} holds no readable annotation file")
    problems.warn()
    fmt = TargetFormat.from_dict({**(targets or {}), "class_names": list(names)})
    return AnnotatedIndex(
        root, tuple(paths), present_classes(records, len(names)), names, tuple(problems.rows),
        records=tuple(records), target_format=fmt, on_error=on_error,
    )  # fmt: skip
