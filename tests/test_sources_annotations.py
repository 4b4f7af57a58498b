"""Annotated sources (COCO, YOLO, VOC, segmentation folders): exact targets, specs, bad annotations."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import genlab
from genlab.sample_shapes import SHAPE_CLASSES, shape_targets

SIZE = (96, 64)
N = 3  # images per photograph
SEG_NAMES = ["background", *SHAPE_CLASSES]
READ = ("read_images", {"target_size": SIZE})  # the original size: no resize moves targets


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return genlab.make_sample_data(
        tmp_path_factory.mktemp("a") / "shapes", kind="shapes", n_per_class=N, size=SIZE
    )


@pytest.fixture
def copy(shapes, tmp_path):
    return Path(shutil.copytree(shapes, tmp_path / "copy"))


def _truth(path):
    k = int(Path(path).stem.split("-")[1])
    return shape_targets(0, k // N, k % N, SIZE)


def _pipelines(root, **kw):
    return {
        "coco": genlab.Pipeline.from_coco(root / "annotations.json", **kw),
        "yolo": genlab.Pipeline.from_yolo(root, **kw),
        "voc": genlab.Pipeline.from_voc(root, class_names=list(SHAPE_CLASSES), **kw),
        "segmentation": genlab.Pipeline.from_segmentation(root, SEG_NAMES, **kw),
    }


@pytest.mark.parametrize("kind", ["coco", "yolo", "voc", "segmentation"])
def test_each_source_gives_the_exact_targets_of_each_image(shapes, kind):
    p = _pipelines(shapes, batch_size=4, stages=[READ, "shuffle_samples"])[kind]
    seen = 0
    for batch in p:
        assert batch.x.shape[1:] == (SIZE[1], SIZE[0], 3)
        assert batch.info.target_format == p.target_format
        for path, t, y in zip(batch.info.paths, batch.targets, batch.y):
            truth = _truth(path)
            if kind == "segmentation":
                semantic = (truth.masks * (truth.labels[:, None, None] + 1)).sum(0)
                np.testing.assert_array_equal(t.mask, semantic)
                assert y.tolist() == [0] + [int(c in truth.labels) for c in range(3)]
                continue
            np.testing.assert_allclose(t.boxes, truth.boxes, atol=1e-3 if kind == "yolo" else 0)
            assert t.labels.tolist() == truth.labels.tolist()
            assert y.tolist() == [int(c in truth.labels) for c in range(3)]
            if kind == "coco":
                np.testing.assert_array_equal(t.masks, truth.masks)
                np.testing.assert_allclose(t.keypoints, truth.keypoints, atol=1e-3)
            seen += 1
    assert p.report.samples == 2 * N and not p.report.ignored


def test_coco_reads_names_keypoints_and_skeleton_from_the_file(shapes):
    fmt = genlab.Pipeline.from_coco(shapes / "annotations.json").target_format
    assert fmt.class_names == SHAPE_CLASSES
    assert fmt.keypoint_names == ("top_left", "top_right", "bottom_right", "bottom_left")
    assert fmt.skeleton[0] == ("top_left", "top_right")


def test_targets_follow_their_samples_with_workers(shapes):
    def run(workers):
        p = genlab.Pipeline.from_coco(
            shapes / "annotations.json", batch_size=4, stages=[READ, "shuffle_samples"],
            num_workers=workers, seed=3,
        )  # fmt: skip
        return [(path, t.boxes.tolist()) for b in p for path, t in zip(b.info.paths, b.targets)]

    assert run(0) == run(2)
    assert all(boxes == _truth(path).boxes.tolist() for path, boxes in run(0))


@pytest.mark.parametrize("kind", ["coco", "yolo", "voc", "segmentation"])
def test_spec_and_python_export_rebuild_the_source(shapes, kind, tmp_path):
    settings = {"targets": {"min_area": 9.0, "flip_pairs": []}, "batch_size": 2}
    p = _pipelines(shapes, **settings)[kind]
    spec = p.to_spec()
    assert spec["source"]["name"] == kind
    assert spec["source"]["params"]["targets"]["min_area"] == 9.0
    loaded = genlab.spec.load(p.save(tmp_path / "p.json"))
    assert loaded == p and loaded.target_format == p.target_format
    namespace = {}
    exec(p.to_python(), namespace)  # the exported module builds the same pipeline
    assert namespace["pipeline"] == p


def test_coco_polygons_and_compressed_rle(copy):
    mask_api = pytest.importorskip("pycocotools.mask")
    path = copy / "annotations.json"
    coco = json.loads(path.read_text())
    truth = _truth("shapes-00000")
    rect = int(np.flatnonzero(truth.labels == 0)[0])
    x0, y0, x1, y1 = truth.boxes[rect].tolist()
    anns = [a for a in coco["annotations"] if a["image_id"] == 1]
    anns[rect]["segmentation"] = [[x0, y0, x1, y0, x1, y1, x0, y1]]
    other = (rect + 1) % len(anns)
    rle = mask_api.encode(np.asfortranarray(truth.masks[other]))
    anns[other]["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
    path.write_text(json.dumps(coco))
    p = genlab.Pipeline.from_coco(path, batch_size=1, shuffle=False, stages=[READ])
    t = next(iter(p)).targets[0]
    np.testing.assert_array_equal(t.masks[other], truth.masks[other])
    # pycocotools' polygon fill covers the rectangle, give or take its right and bottom edge
    assert t.masks[rect][truth.masks[rect] == 1].all()
    assert abs(int(t.masks[rect].sum()) - int(truth.masks[rect].sum())) <= (x1 - x0) + (y1 - y0) + 1


# -- bad annotations: skipped and counted, or raised naming the file and the annotation -------


def _edit_coco(root, change):
    path = root / "annotations.json"
    coco = json.loads(path.read_text())
    change(coco)
    path.write_text(json.dumps(coco))
    return path


def _first(coco):
    return coco["annotations"][0]


COCO_CASES = {
    "outside": (lambda c: _first(c).update(bbox=[90, 10, 30, 5]), "is outside the 96x64 image"),
    "negative": (lambda c: _first(c).update(bbox=[10, 10, -3, 5]), "negative or zero size"),
    "unknown class": (lambda c: _first(c).update(category_id=99), "class -1 is unknown"),
    "mask size": (
        lambda c: _first(c).update(segmentation={"size": [10, 10], "counts": [100]}),
        r"mask of size \[10, 10\]",
    ),
    "missing file": (lambda c: c["images"][0].update(file_name="gone.jpg"), "image file is missing"),
    "unknown image": (lambda c: _first(c).update(image_id=999), "image_id 999 is not in"),
    "keypoints": (lambda c: _first(c).update(keypoints=[1, 2, 2]), "3 keypoint values"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(COCO_CASES))
def test_coco_bad_annotation_is_skipped_and_counted_or_raised(copy, case):
    change, message = COCO_CASES[case]
    path = _edit_coco(copy, change)
    with pytest.warns(UserWarning, match="skipped 1 bad annotation"):
        p = genlab.Pipeline.from_coco(path, batch_size=8, stages=[READ])
        list(p)
    assert len(p.report.ignored) == 1
    file, reason = p.report.ignored[0]
    assert "annotation 1" in reason or case == "missing file"
    expected = {"missing file": "gone.jpg", "unknown image": "annotations.json"}
    assert expected.get(case, "shapes-00000.jpg") in file
    n_truth = sum(len(_truth(f"shapes-{k:05d}")) for k in range(2 * N))
    with pytest.warns(UserWarning):
        n_read = sum(
            len(t) for b in genlab.Pipeline.from_coco(path, stages=[READ]) for t in b.targets
        )
    assert n_read == n_truth - (len(_truth("shapes-00000")) if case == "missing file" else 1)
    with pytest.raises(ValueError, match=message):
        list(genlab.Pipeline.from_coco(path, on_error="raise", stages=[READ]))


def test_coco_crowd_regions_are_left_out_and_listed(copy):
    path = _edit_coco(copy, lambda c: _first(c).update(iscrowd=1))
    p = genlab.Pipeline.from_coco(path, stages=[READ])
    list(p)
    assert p.report.ignored == [(str(copy / "images" / "shapes-00000.jpg"), "crowd annotation 1 left out (iscrowd=1)")]  # fmt: skip


YOLO_CASES = {
    "outside": ("0 0.95 0.5 0.2 0.2", "is outside the unit square"),
    "negative": ("0 0.5 0.5 -0.2 0.2", "negative or zero size"),
    "unknown class": ("7 0.5 0.5 0.2 0.2", "class 7 is unknown"),
    "malformed": ("0 0.5 0.5 0.2", "4 values, a box line has 5"),
}


@pytest.mark.parametrize("case", sorted(YOLO_CASES))
def test_yolo_bad_line_is_skipped_and_counted_or_raised(copy, case):
    line, message = YOLO_CASES[case]
    label = copy / "labels" / "shapes-00002.txt"
    n = len(label.read_text().splitlines())
    label.write_text(label.read_text() + line + "\n")
    with pytest.warns(UserWarning, match="skipped 1 bad annotation"):
        p = genlab.Pipeline.from_yolo(copy, stages=[READ])
        ignored = p.index.ignored
    assert len(ignored) == 1 and ignored[0][0] == str(label)
    assert ignored[0][1].startswith(f"bad annotation: line {n + 1}: ")
    assert len(next(iter(p)).targets[0]) == len(_truth("shapes-00000"))
    with pytest.raises(ValueError, match=f"line {n + 1} of .*shapes-00002.txt.*{message}"):
        len(genlab.Pipeline.from_yolo(copy, on_error="raise"))


def test_yolo_label_without_image_and_image_without_labels(copy):
    (copy / "labels" / "orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (copy / "labels" / "shapes-00001.txt").unlink()
    p = genlab.Pipeline.from_yolo(copy, shuffle=False, batch_size=2, stages=[READ])
    assert p.index.ignored == (
        (str(copy / "labels" / "orphan.txt"), "label file without an image"),
    )
    assert len(next(iter(p)).targets[1]) == 0  # YOLO: no label file, no objects


def test_voc_refuses_entities_and_reports_bad_files(copy):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<annotation><filename>shapes-00000.jpg</filename><object><name>&lol2;</name></object></annotation>"
    )
    (copy / "Annotations" / "shapes-00000.xml").write_bytes(bomb)
    (copy / "Annotations" / "shapes-00001.xml").write_text("<annotation><object>")
    xml = copy / "Annotations" / "shapes-00002.xml"
    xml.write_text(xml.read_text().replace("<name>rectangle</name>", "<name>circle</name>", 1))
    with pytest.warns(UserWarning, match="skipped"):
        p = genlab.Pipeline.from_voc(copy, class_names=list(SHAPE_CLASSES), stages=[READ])
        reasons = dict(p.index.ignored)
    assert "entity" in reasons[str(copy / "Annotations" / "shapes-00000.xml")]
    assert "not valid XML" in reasons[str(copy / "Annotations" / "shapes-00001.xml")]
    if "circle" in xml.read_text():
        assert "'circle' is not in" in reasons[str(xml)]
    assert len(p.index) == 2 * N - 2
    with pytest.raises(ValueError, match="shapes-00000.xml.*entity"):
        len(genlab.Pipeline.from_voc(copy, on_error="raise"))


def test_voc_missing_image(copy):
    (copy / "images" / "shapes-00003.jpg").unlink()
    with pytest.raises(ValueError, match=r"shapes-00003.xml.*its image .* is missing"):
        len(genlab.Pipeline.from_voc(copy, on_error="raise"))


def test_segmentation_bad_masks_skip_their_sample_when_read(copy):
    Image.new("L", (10, 10)).save(copy / "masks" / "shapes-00001.png")  # wrong size
    Image.new("L", SIZE, 9).save(copy / "masks" / "shapes-00002.png")  # id beyond the names
    (copy / "masks" / "shapes-00003.png").unlink()  # no mask
    p = genlab.Pipeline.from_segmentation(copy, SEG_NAMES, batch_size=8, shuffle=False, stages=[READ])  # fmt: skip
    with pytest.warns(UserWarning, match="skipped"):
        batch = next(iter(p))
    assert len(batch.targets) == len(batch.x) == 2 * N - 3
    reasons = dict(p.report.skipped)
    assert "is 10x10, its image 96x64" in reasons[str(copy / "images" / "shapes-00001.jpg")]
    assert (
        "class id 9, beyond the 4 class names" in reasons[str(copy / "images" / "shapes-00002.jpg")]
    )
    assert "no mask file" in dict(p.report.ignored)[str(copy / "images" / "shapes-00003.jpg")]
    with pytest.raises(ValueError, match=r"shapes-00003.jpg': no mask file"):
        len(genlab.Pipeline.from_segmentation(copy, SEG_NAMES, on_error="raise"))
    Image.new("L", SIZE).save(copy / "masks" / "shapes-00003.png")
    with pytest.raises(ValueError, match=r"shapes-00001.*10x10"):
        list(genlab.Pipeline.from_segmentation(copy, SEG_NAMES, on_error="raise", stages=[READ]))


def test_segmentation_needs_class_names(shapes):
    with pytest.raises(ValueError, match="class_names is required"):
        len(genlab.Pipeline.from_segmentation(shapes, []))


def test_flip_pairs_are_checked_against_the_keypoints_the_file_names(shapes):
    pairs = [["top_left", "top_right"]]
    p = genlab.Pipeline.from_coco(shapes / "annotations.json", targets={"flip_pairs": pairs})
    assert p.target_format.flip_pairs == (("top_left", "top_right"),)
    bad = genlab.Pipeline.from_coco(shapes / "annotations.json", targets={"flip_pairs": [["top_left", "nose"]]})  # fmt: skip
    with pytest.raises(
        ValueError, match=r"\('top_left', 'nose'\) must be a pair of keypoint names"
    ):
        len(bad)
    with pytest.raises(ValueError, match="parameter 'targets' flip_pairs must be pairs"):
        genlab.Pipeline.from_coco(shapes / "annotations.json", targets={"flip_pairs": "ab"})
    with pytest.raises(
        ValueError, match=r"parameter 'targets' targets: unknown setting\(s\) \['min_size'\]"
    ):
        genlab.Pipeline.from_yolo(shapes, targets={"min_size": 3})


# -- tables with boxes, labels and mask-path columns ------------------------------------------


def _table(root, box_format="xyxy"):
    from genlab.targets import boxes_from_xyxy

    rows = {"file": [], "boxes": [], "classes": [], "mask": []}
    for k in range(2 * N):
        truth = _truth(f"shapes-{k:05d}")
        rows["file"].append(f"images/shapes-{k:05d}.jpg")
        rows["boxes"].append(boxes_from_xyxy(truth.boxes, box_format).tolist())
        rows["classes"].append([SHAPE_CLASSES[i] for i in truth.labels])
        rows["mask"].append(f"masks/shapes-{k:05d}.png")
    return rows


def test_an_annotated_table_gives_the_exact_targets(shapes, tmp_path):
    rows = _table(shapes, "xywh")
    p = genlab.Pipeline.from_annotated_table(
        rows, "file", "boxes", "classes", root=str(shapes), mask_column="mask",
        class_names=SEG_NAMES, targets={"box_format": "xywh"}, batch_size=3, stages=[READ],
    )  # fmt: skip
    seen = 0
    for batch in p:
        for path, t in zip(batch.info.paths, batch.targets):
            truth = _truth(path)
            seen += 1
            np.testing.assert_allclose(t.boxes, truth.boxes, atol=1e-4)
            assert t.labels.tolist() == (truth.labels + 1).tolist()  # names: background first
            np.testing.assert_array_equal(t.mask, (truth.masks * (truth.labels[:, None, None] + 1)).sum(0))  # fmt: skip
    assert seen == 2 * N and not p.report.skipped
    assert genlab.Pipeline.from_spec(p.to_spec()) == p
    # the same table as a CSV file, cells as JSON text
    import csv

    with open(tmp_path / "t.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "boxes", "classes"])
        for file, boxes, classes in zip(rows["file"], rows["boxes"], rows["classes"]):
            writer.writerow([file, json.dumps(boxes), json.dumps(classes)])
    q = genlab.Pipeline.from_annotated_table(
        str(tmp_path / "t.csv"), "file", "boxes", "classes", root=str(shapes),
        targets={"box_format": "xywh"}, shuffle=False, stages=[READ],
    )  # fmt: skip
    first = next(iter(q))
    np.testing.assert_allclose(first.targets[0].boxes, _truth(first.info.paths[0]).boxes, atol=1e-4)
    assert q.class_names == tuple(sorted(SHAPE_CLASSES))


def test_an_annotated_table_reports_bad_rows_and_boxes(shapes):
    rows = _table(shapes)
    rows["boxes"][0][0] = [10, 10, 5, 20]  # negative width
    rows["classes"][1][0] = "circle"  # unknown class
    rows["boxes"][2] = rows["boxes"][2][:-1]  # one box fewer than labels
    rows["boxes"][3][0] = [90, 10, 140, 20]  # beyond the 96 pixel wide image
    kw = {"root": str(shapes), "class_names": list(SHAPE_CLASSES), "batch_size": 8, "shuffle": False}  # fmt: skip
    p = genlab.Pipeline.from_annotated_table(rows, "file", "boxes", "classes", stages=[READ], **kw)
    with pytest.warns(UserWarning):
        batch = next(iter(p))
    reasons = [r for _, r in p.report.ignored]
    assert any("row 0 box 0" in r and "negative or zero size" in r for r in reasons)
    assert any("row 1 box 0" in r and "class -1 is unknown" in r for r in reasons)
    assert any("row 2" in r and "boxes but" in r for r in reasons)
    assert len(batch.targets) == 2 * N - 2  # row 2 left out when listed, row 3 when read
    assert "is outside the 96x64 image" in dict(p.report.skipped)[str(shapes / "images/shapes-00003.jpg")]  # fmt: skip
    with pytest.raises(ValueError, match=r"row 2 of .*shapes-00002.jpg.*\d boxes but \d labels"):
        len(genlab.Pipeline.from_annotated_table(rows, "file", "boxes", "classes", on_error="raise", **kw))  # fmt: skip
