"""The shapes sample: every layout holds the exact ground truth of what was drawn."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

import genlab
from genlab.sample_shapes import KEYPOINT_NAMES, SHAPE_CLASSES, shape_targets, shapes_format
from genlab.targets import boxes_to_xyxy

SIZE = (96, 64)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return genlab.make_sample_data(
        tmp_path_factory.mktemp("s") / "shapes", kind="shapes", n_per_class=3, size=SIZE
    )


def _truth(k):
    return shape_targets(0, k // 3, k % 3, SIZE)


def _rle_decode(rle):
    flat = np.repeat(np.arange(len(rle["counts"])) % 2, rle["counts"]).astype(np.uint8)
    return flat.reshape(rle["size"][::-1]).T


def test_boxes_are_the_tight_boxes_of_non_overlapping_masks():
    for k in range(6):
        t = _truth(k)
        assert 2 <= len(t) <= 5
        assert t.masks.sum(axis=0).max() == 1  # no two shapes share a pixel
        for box, mask in zip(t.boxes, t.masks):
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            assert box.tolist() == [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]


def test_rectangle_corners_are_box_corners_and_triangle_vertices_within_a_pixel():
    seen = set()
    for k in range(6):
        t = _truth(k)
        for box, label, points in zip(t.boxes, t.labels, t.keypoints):
            seen.add(int(label))
            x0, y0, x1, y1 = box
            visible = points[points[:, 2] > 0, :2]
            if label == 0:
                assert points[:, :2].tolist() == [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
            elif label == 1:
                assert len(visible) == 0
            else:
                assert len(visible) == 3
                assert np.all(visible >= box[:2] - 1) and np.all(visible <= box[2:] + 1)
    assert seen == {0, 1, 2}


def test_coco_layout_holds_the_truth(shapes):
    coco = json.loads((shapes / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == list(SHAPE_CLASSES)
    assert coco["categories"][0]["keypoints"] == list(KEYPOINT_NAMES)
    assert len(coco["images"]) == 6
    for k, image in enumerate(coco["images"]):
        t = _truth(k)
        anns = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
        boxes = boxes_to_xyxy([a["bbox"] for a in anns], "xywh")
        np.testing.assert_array_equal(boxes, t.boxes)
        assert [a["category_id"] - 1 for a in anns] == t.labels.tolist()
        for a, mask, points in zip(anns, t.masks, t.keypoints):
            np.testing.assert_array_equal(_rle_decode(a["segmentation"]), mask)
            np.testing.assert_allclose(np.reshape(a["keypoints"], (-1, 3)), points, atol=1e-3)


def test_pycocotools_reads_the_same_masks(shapes):
    mask_api = pytest.importorskip("pycocotools.mask")
    coco = json.loads((shapes / "annotations.json").read_text())
    a, image = coco["annotations"][0], coco["images"][0]
    rle = mask_api.frPyObjects(a["segmentation"], image["height"], image["width"])
    np.testing.assert_array_equal(mask_api.decode(rle), _truth(0).masks[0])


def test_yolo_voc_and_semantic_layouts_hold_the_truth(shapes):
    for k in range(6):
        t, stem = _truth(k), f"shapes-{k:05d}"
        rows = np.loadtxt(shapes / "labels" / f"{stem}.txt", ndmin=2)
        assert rows[:, 0].astype(int).tolist() == t.labels.tolist()
        boxes = boxes_to_xyxy(rows[:, 1:], "cxcywh", normalized=True, image_size=SIZE[::-1])
        np.testing.assert_allclose(boxes, t.boxes, atol=1e-3)
        voc = ET.parse(shapes / "Annotations" / f"{stem}.xml").getroot()
        names = [o.findtext("name") for o in voc.iter("object")]
        assert names == [SHAPE_CLASSES[i] for i in t.labels]
        semantic = np.asarray(Image.open(shapes / "masks" / f"{stem}.png"))
        expected = (t.masks * (t.labels[:, None, None] + 1)).sum(axis=0)
        np.testing.assert_array_equal(semantic, expected)
        assert Image.open(shapes / "images" / f"{stem}.jpg").size == SIZE
    assert "2: triangle" in (shapes / "data.yaml").read_text()


def test_same_seed_same_bytes_and_overwrite(shapes, tmp_path):
    again = genlab.make_sample_data(tmp_path / "a", kind="shapes", n_per_class=3, size=SIZE)
    for name in ("annotations.json", "images/shapes-00004.jpg", "masks/shapes-00004.png"):
        assert (again / name).read_bytes() == (shapes / name).read_bytes()
    genlab.make_sample_data(again, kind="shapes", n_per_class=1, size=SIZE, overwrite=True)
    assert len(list((again / "images").iterdir())) == 2


def test_the_format_names_flip_pairs():
    fmt = shapes_format()
    assert fmt.flip_permutation().tolist() == [1, 0, 3, 2]
