"""Detection, segmentation and keypoint sample data whose ground truth is exact by construction.

Filled shapes (rectangles, ellipses, right triangles) are drawn on jittered crops of the two
photographs scikit-learn ships, never overlapping, so every instance's mask is exactly the
pixels drawn, its box is the tight box of that mask (``xyxy`` pixels, continuous coordinates:
pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)``), and its keypoints are the shape's corners:

- a rectangle's four corners lie exactly on its box corners;
- a right triangle's three vertices are corners of its drawn outline (a pixel is inside when
  its centre is), so an acute vertex may lie up to a pixel outside the mask's tight box; the
  fourth keypoint is not labelled (visibility 0);
- an ellipse has no corner: its keypoints are all unlabelled.

Keypoints are named ``top_left, top_right, bottom_right, bottom_left``; a mirror swaps left and
right (:data:`FLIP_PAIRS`), and :data:`SKELETON` joins them in a loop.

One call writes every layout of the same images (:func:`write_shapes`)::

    dest/images/shapes-00000.jpg ...      the photographs with the shapes drawn
    dest/annotations.json                 COCO: boxes, masks (uncompressed RLE), keypoints
    dest/labels/shapes-00000.txt ...      YOLO: ``class cx cy w h``, normalised; dest/data.yaml names
    dest/Annotations/shapes-00000.xml     Pascal VOC boxes
    dest/masks/shapes-00000.png ...       semantic masks: 0 background, 1 + class index

:func:`shape_targets` gives an image's exact :class:`~genlab.targets.Targets` without reading
any file, for tests that compare what a source read or an op produced with the truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from .targets import TargetFormat, Targets, boxes_from_xyxy
from .targets_io import rle_encode

__all__ = ["SHAPE_CLASSES", "KEYPOINT_NAMES", "FLIP_PAIRS", "SKELETON", "shapes_format",
           "shape_targets", "write_shapes"]  # fmt: skip

SHAPE_CLASSES = ("rectangle", "ellipse", "triangle")
KEYPOINT_NAMES = ("top_left", "top_right", "bottom_right", "bottom_left")
FLIP_PAIRS = (("top_left", "top_right"), ("bottom_left", "bottom_right"))
SKELETON = (
    ("top_left", "top_right"), ("top_right", "bottom_right"),
    ("bottom_right", "bottom_left"), ("bottom_left", "top_left"),
)  # fmt: skip
FOLDERS = ("images", "labels", "masks", "Annotations")
_FILES = ("annotations.json", "data.yaml")
_PHOTO_NAMES = ("china", "flower")


def shapes_format() -> TargetFormat:
    """The :class:`~genlab.targets.TargetFormat` of the shapes sample (names, flip pairs, skeleton)."""
    return TargetFormat(
        class_names=SHAPE_CLASSES, keypoint_names=KEYPOINT_NAMES, flip_pairs=FLIP_PAIRS,
        skeleton=SKELETON,
    )  # fmt: skip


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 2, *key]))


def _layout(rng: np.random.Generator, size: tuple[int, int]) -> list[tuple[int, list[int], int]]:
    """Non-overlapping ``(class, [x0, y0, x1, y1] integer outline, corner)`` of 2 to 5 shapes."""
    width, height = size
    side = min(width, height)
    placed: list[tuple[int, list[int], int]] = []
    wanted = int(rng.integers(2, 6))
    for _ in range(60):
        if len(placed) == wanted:
            break
        w = int(rng.integers(max(4, side // 8), max(5, side * 2 // 5)))
        h = int(rng.integers(max(4, side // 8), max(5, side * 2 // 5)))
        x0 = int(rng.integers(0, width - w + 1))
        y0 = int(rng.integers(0, height - h + 1))
        box = [x0, y0, x0 + w, y0 + h]
        cls, corner = int(rng.integers(0, 3)), int(rng.integers(0, 4))
        gap = 2  # at least two pixels between shapes
        if all(
            box[0] >= b[2] + gap
            or b[0] >= box[2] + gap
            or box[1] >= b[3] + gap
            or b[1] >= box[3] + gap
            for _, b, _ in placed
        ):
            placed.append((cls, box, corner))
    return placed


def _shape_mask(cls: int, outline: list[int], corner: int, size: tuple[int, int]) -> np.ndarray:
    """The 0/1 mask of one shape: the pixels whose centre is inside it."""
    width, height = size
    x0, y0, x1, y1 = outline
    cx = np.arange(width, dtype=np.float64)[None, :] + 0.5
    cy = np.arange(height, dtype=np.float64)[:, None] + 0.5
    if cls == 0:
        inside = (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
    elif cls == 1:
        a, b = (x1 - x0) / 2, (y1 - y0) / 2
        inside = ((cx - (x0 + a)) / a) ** 2 + ((cy - (y0 + b)) / b) ** 2 <= 1
    else:  # a right triangle: the corner ``corner`` of the outline (tl, tr, br, bl) is cut away
        u = (cx - x0) / (x1 - x0)
        v = (cy - y0) / (y1 - y0)
        inside = [u + v >= 1, v >= u, u + v <= 1, u >= v][corner]
        inside = inside & (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    return inside.astype(np.uint8)


def _corners(cls: int, outline: list[int], corner: int) -> np.ndarray:
    x0, y0, x1, y1 = (float(v) for v in outline)
    points = np.array([[x0, y0, 2], [x1, y0, 2], [x1, y1, 2], [x0, y1, 2]], np.float32)
    if cls == 1:
        points[:] = 0
    elif cls == 2:
        points[corner] = 0
    return points


def _tight_box(mask: np.ndarray) -> list[float]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return [float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)]


def shape_targets(seed: int, photo: int, index: int, size: tuple[int, int]) -> Targets:
    """The exact targets of image ``index`` of photograph ``photo`` (0 china, 1 flower)."""
    layout = _layout(_rng(seed, photo, index), size)
    masks = np.stack([_shape_mask(c, o, k, size) for c, o, k in layout])
    return Targets(
        boxes=[_tight_box(m) for m in masks], labels=[c for c, _, _ in layout], masks=masks,
        keypoints=np.stack([_corners(c, o, k) for c, o, k in layout]),
    )  # fmt: skip


def _colours(rng: np.random.Generator, n: int) -> np.ndarray:
    hues = rng.uniform(0, 1, n)
    rgb = np.abs(((hues[:, None] * 6 + np.array([0, 4, 2])) % 6) - 3) - 1
    return (np.clip(rgb, 0, 1) * 200 + 40).astype(np.uint8)


def _voc_xml(name: str, size: tuple[int, int], targets: Targets) -> str:
    objects = "".join(
        f"<object><name>{SHAPE_CLASSES[label]}</name><difficult>0</difficult><bndbox>"
        f"<xmin>{b[0]:g}</xmin><ymin>{b[1]:g}</ymin><xmax>{b[2]:g}</xmax><ymax>{b[3]:g}</ymax>"
        f"</bndbox></object>"
        for b, label in zip(targets.boxes.tolist(), targets.labels.tolist())
    )
    return (
        f"<annotation><filename>{name}</filename><size><width>{size[0]}</width>"
        f"<height>{size[1]}</height><depth>3</depth></size>{objects}</annotation>\n"
    )


def write_shapes(
    dest: Path, n_per_photo: int, seed: int, size: tuple[int, int], photo_image: Callable
) -> list[str]:
    """Write ``2 * n_per_photo`` images and their annotations in every layout; returns the folders.

    ``photo_image(name, rng, size)`` makes each background (the photos sample set's own).
    """
    for folder in FOLDERS:
        (dest / folder).mkdir(exist_ok=True)
    width, height = size
    fmt = shapes_format()
    skeleton = [[KEYPOINT_NAMES.index(a) + 1, KEYPOINT_NAMES.index(b) + 1] for a, b in SKELETON]
    categories = [
        {"id": i + 1, "name": n, "supercategory": "shape", "keypoints": list(KEYPOINT_NAMES),
         "skeleton": skeleton}
        for i, n in enumerate(SHAPE_CLASSES)
    ]  # fmt: skip
    images, annotations = [], []
    for photo, photo_name in enumerate(_PHOTO_NAMES):
        for index in range(n_per_photo):
            stem = f"shapes-{photo * n_per_photo + index:05d}"
            rng = _rng(seed, photo, index, 1)
            pixels = np.array(photo_image(photo_name, rng, size))
            targets = shape_targets(seed, photo, index, size)
            semantic = np.zeros((height, width), np.uint8)
            for m, label, colour in zip(targets.masks, targets.labels, _colours(rng, len(targets))):
                pixels[m.astype(bool)] = colour
                semantic[m.astype(bool)] = label + 1
            Image.fromarray(pixels).save(dest / "images" / f"{stem}.jpg", quality=92)
            Image.fromarray(semantic).save(dest / "masks" / f"{stem}.png")
            image_id = len(images) + 1
            images.append(
                {"id": image_id, "file_name": f"{stem}.jpg", "width": width, "height": height}
            )
            for box, label, mask, points in zip(
                targets.boxes.tolist(), targets.labels.tolist(), targets.masks, targets.keypoints
            ):
                x0, y0, x1, y1 = box
                annotations.append({
                    "id": len(annotations) + 1, "image_id": image_id, "category_id": label + 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0], "area": int(mask.sum()), "iscrowd": 0,
                    "segmentation": rle_encode(mask), "keypoints": [round(float(v), 3) for v in points.ravel()],
                    "num_keypoints": int((points[:, 2] > 0).sum()),
                })  # fmt: skip
            cxcywh = boxes_from_xyxy(
                targets.boxes, "cxcywh", normalized=True, image_size=(height, width)
            )
            yolo = [
                f"{label} " + " ".join(f"{v:.6f}" for v in row)
                for label, row in zip(targets.labels.tolist(), cxcywh.tolist())
            ]
            (dest / "labels" / f"{stem}.txt").write_text("\n".join(yolo) + "\n", encoding="utf-8")
            xml = _voc_xml(f"{stem}.jpg", size, targets)
            (dest / "Annotations" / f"{stem}.xml").write_text(xml, encoding="utf-8")
    coco = {"info": {"description": "genlab shapes sample", "targets": fmt.to_dict()},
            "images": images, "annotations": annotations, "categories": categories}  # fmt: skip
    (dest / "annotations.json").write_text(json.dumps(coco) + "\n", encoding="utf-8")
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(SHAPE_CLASSES))
    (dest / "data.yaml").write_text(f"path: .\ntrain: images\nnames:\n{names}", encoding="utf-8")
    return list(FOLDERS)
