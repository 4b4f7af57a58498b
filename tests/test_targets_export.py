"""Targets leaving genlab: albumentations' Compose settings, torchvision's detection format."""

import numpy as np
import pytest

import genlab
from genlab.foreign.targets import albumentations_params
from genlab.sample_shapes import shape_targets, shapes_format
from genlab.targets import TargetFormat
from genlab.targets_io import targets_from_json, targets_to_json

SIZE = (96, 64)
READ = ("read_images", {"target_size": SIZE})


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    root = genlab.make_sample_data(
        tmp_path_factory.mktemp("e") / "shapes", kind="shapes", n_per_class=2, size=SIZE
    )
    return root / "annotations.json"


def test_json_record_round_trips_every_part():
    truth = shape_targets(0, 1, 1, SIZE).replace(mask=np.arange(64 * 96).reshape(64, 96) % 4)
    for fmt in (TargetFormat(), TargetFormat(box_format="cxcywh", normalized=True)):
        back = targets_from_json(targets_to_json(truth, fmt, SIZE[::-1]), fmt)
        np.testing.assert_allclose(back.boxes, truth.boxes, atol=1e-4)
        for part in ("labels", "ids", "masks", "keypoints", "mask"):
            np.testing.assert_array_equal(getattr(back, part), getattr(truth, part))
    with pytest.raises(ValueError, match="targets record: KeyError"):
        targets_from_json({"boxes": []}, TargetFormat())


def test_to_albumentations_declares_boxes_and_keypoints(coco):
    A = pytest.importorskip("albumentations")
    p = genlab.Pipeline.from_coco(
        coco, targets={"min_area": 5.0}, stages=[READ, *genlab.from_albumentations(A.HorizontalFlip(p=1))]
    )  # fmt: skip
    with pytest.warns(UserWarning, match=r"stages \['read_images'\] are not albumentations"):
        compose = genlab.to_albumentations(p)
    assert compose.processors["bboxes"].params.format == "pascal_voc"
    assert compose.processors["bboxes"].params.min_area == 5.0
    assert compose.processors["keypoints"].params.format == "xy"
    truth = shape_targets(0, 0, 0, SIZE)
    out = compose(
        image=np.zeros((64, 96, 3), np.uint8), bboxes=truth.boxes, labels=truth.labels,
        masks=list(truth.masks), keypoints=truth.keypoints[:, :, :2].reshape(-1, 2),
    )  # fmt: skip
    flipped = np.asarray(out["bboxes"])
    np.testing.assert_allclose(flipped[:, [2, 0]], 96 - truth.boxes[:, [0, 2]], atol=1e-4)
    np.testing.assert_array_equal(np.asarray(out["masks"]), truth.masks[:, :, ::-1])


def test_albumentations_refuses_a_box_layout_it_does_not_know():
    pytest.importorskip("albumentations")
    assert albumentations_params(TargetFormat(box_format="cxcywh", normalized=True), ["labels"], declared=True)["bbox_params"].format == "yolo"  # fmt: skip
    with pytest.raises(ValueError, match="no box format for box_format='cxcywh'"):
        albumentations_params(TargetFormat(box_format="cxcywh"), ["labels"], declared=True)
    assert "keypoint_params" not in albumentations_params(TargetFormat(), ["labels"], declared=True)
    assert "keypoint_params" in albumentations_params(shapes_format(), ["labels"], declared=True)


def test_torch_dataset_yields_torchvision_detection_targets(coco):
    torch = pytest.importorskip("torch")
    from genlab.integrations.torch import as_iterable_dataset

    p = genlab.Pipeline.from_coco(
        coco, batch_size=2, shuffle=False, stages=[READ, "rescale_images"]
    )
    x, targets = next(iter(as_iterable_dataset(p, labels="detection")))
    assert x.shape == (2, 3, 64, 96) and len(targets) == 2
    truth = shape_targets(0, 0, 0, SIZE)
    t = targets[0]
    assert t["boxes"].dtype == torch.float32 and t["labels"].dtype == torch.int64
    assert t["masks"].dtype == torch.uint8 and t["masks"].shape == (len(truth), 64, 96)
    assert t["keypoints"].shape == (len(truth), 4, 3)
    np.testing.assert_array_equal(t["boxes"].numpy(), truth.boxes)
    assert (t["labels"].numpy() == truth.labels + 1).all()  # 0 is torchvision's background
    folders = genlab.make_sample_data(coco.parent.parent / "digits", n_per_class=1)
    with pytest.raises(ValueError, match="needs a source with targets"):
        as_iterable_dataset(genlab.Pipeline.from_folder(folders), labels="detection")


def test_detection_targets_refuse_targets_of_another_size(coco):
    pytest.importorskip("torch")
    from genlab.integrations.torch import detection_targets

    p = genlab.Pipeline.from_coco(coco, batch_size=2, stages=[READ])
    batch = next(iter(p))
    smaller = batch.replace(x=batch.x[:, :32, :48])
    if smaller.targets[0].masks.shape[-2:] != (32, 48):  # targets not moved with the pixels
        with pytest.raises(
            ValueError, match=r"sample 0's masks is \(64, 96\), its image \(32, 48\)"
        ):
            detection_targets(smaller)


def test_a_torchvision_mask_rcnn_trains_on_the_batches(coco):
    torch = pytest.importorskip("torch")
    detection = pytest.importorskip("torchvision.models.detection")
    from torchvision.ops import MultiScaleRoIAlign

    from genlab.integrations.torch import as_iterable_dataset

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only contend
    backbone = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.ReLU(),
    )  # fmt: skip
    backbone.out_channels = 32
    model = detection.MaskRCNN(
        backbone, num_classes=len(shapes_format().class_names) + 1, min_size=64, max_size=96,
        rpn_anchor_generator=detection.anchor_utils.AnchorGenerator(((8, 16, 32),), ((0.5, 1.0, 2.0),)),
        box_roi_pool=MultiScaleRoIAlign(["0"], 7, 2), mask_roi_pool=MultiScaleRoIAlign(["0"], 14, 2),
        rpn_pre_nms_top_n_train=200, rpn_post_nms_top_n_train=100, box_batch_size_per_image=64,
    )  # fmt: skip
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    p = genlab.Pipeline.from_coco(coco, batch_size=2, stages=[READ, ("rescale_images", {"scale": 1 / 255})])  # fmt: skip
    try:
        model.train()
        for images, targets in as_iterable_dataset(p, labels="detection"):
            losses = model(list(images), targets)
            assert {"loss_classifier", "loss_box_reg", "loss_mask"} <= set(losses)
            total = sum(losses.values())
            assert torch.isfinite(total)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)


def _same(a, b):
    np.testing.assert_array_equal(a.boxes, b.boxes)
    for part in ("labels", "ids", "masks", "keypoints"):
        np.testing.assert_array_equal(getattr(a, part), getattr(b, part))


def test_tar_shards_carry_targets_beside_each_image(coco, tmp_path):
    from genlab.integrations.dask import materialize

    p = genlab.Pipeline.from_coco(
        coco, batch_size=2, shuffle=False, targets={"min_area": 3.0}, stages=[READ]
    )
    manifest = materialize(p, str(tmp_path / "tar"), client=False, format="tar")
    assert manifest["target_format"]["min_area"] == 3.0
    back = genlab.Pipeline.from_shards(
        str(tmp_path / "tar"), batch_size=2, shuffle=False, stages=[READ]
    )
    assert back.target_format == p.target_format
    original = {path.rsplit("/", 1)[1]: t for b in p for path, t in zip(b.info.paths, b.targets)}
    read = [(t, b.info.target_format) for b in back for t in b.targets]
    assert len(read) == len(original) == 4
    for (t, fmt), truth in zip(read, original.values()):
        _same(t, truth)
        assert fmt == p.target_format


def test_npz_batches_carry_targets(coco, tmp_path):
    from genlab.integrations.dask import iter_shards, materialize

    p = genlab.Pipeline.from_coco(coco, batch_size=2, shuffle=False, stages=[READ])
    materialize(p, str(tmp_path / "npz"), client=False)
    for made, read in zip(p, iter_shards(str(tmp_path / "npz"))):
        assert read.info.target_format == p.target_format
        for a, b in zip(made.targets, read.targets):
            _same(a, b)


def test_a_mask_png_member_is_a_semantic_mask(tmp_path):
    import io
    import tarfile

    from PIL import Image

    mask = (np.arange(12 * 16).reshape(12, 16) % 3).astype(np.uint8)
    members = {"000.jpg": Image.new("RGB", (16, 12)), "000.mask.png": Image.fromarray(mask)}
    with tarfile.open(tmp_path / "s.tar", "w") as tar:
        for name, image in members.items():
            data = io.BytesIO()
            image.save(data, format="PNG" if name.endswith("png") else "JPEG")
            info = tarfile.TarInfo(name)
            info.size = len(data.getvalue())
            tar.addfile(info, io.BytesIO(data.getvalue()))
        info = tarfile.TarInfo("000.cls")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"0"))
    batch = next(iter(genlab.Pipeline.from_shards(str(tmp_path / "s.tar"), stages=[])))
    np.testing.assert_array_equal(batch.targets[0].mask, mask)
    assert len(batch.targets[0]) == 0
