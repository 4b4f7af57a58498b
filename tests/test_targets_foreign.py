"""Targets through albumentations and torchvision stages: the same draws as on images alone,
boxes, masks and keypoints moved by the library, instances kept aligned."""

from __future__ import annotations

import numpy as np
import pytest
from target_shapes import rectangles

from genlab import Batch, BatchInfo, GeneratorPipeline, StageError
from genlab.foreign import resolve
from genlab.targets import TargetFormat, Targets
from genlab.transforms import get_op

HEIGHT, WIDTH = 48, 64
NAMES = ("a", "b")
POSE = TargetFormat(keypoint_names=NAMES, flip_pairs=(NAMES,))


def shapes(seed: int, n: int = 4) -> Targets:
    boxes, masks = rectangles(np.random.default_rng(seed), (HEIGHT, WIDTH), n, (8, 24), (8, 20))
    points = [[[x0 + 1.5, y0 + 1.5, 2], [x1 - 1.5, y1 - 1.5, 2]] for x0, y0, x1, y1 in boxes]
    return Targets.from_boxes(boxes, [1, 2] * (n // 2), masks=masks, keypoints=points,
                              mask=masks.max(axis=0))  # fmt: skip


def batch_of(targets, fmt=POSE, seed=0) -> Batch:
    x = np.random.default_rng(seed).integers(0, 256, (len(targets), HEIGHT, WIDTH, 3), np.uint8)
    info = BatchInfo(
        seed=seed, keys=np.arange(len(targets)), targets=tuple(targets), target_format=fmt
    )
    return Batch(x, np.eye(len(targets), dtype=np.int64), info)


def run(name: str, batch: Batch, **params) -> Batch:
    return next(GeneratorPipeline(iter([batch]), resolve(name).factory(**params)))


def mask_box(m):
    ys, xs = np.nonzero(m)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def originals(n=4):
    return [shapes(i) for i in range(n)]


@pytest.mark.parametrize(
    "name", ["albumentations.HorizontalFlip", "torchvision.RandomHorizontalFlip"]
)
def test_a_library_flip_moves_targets_as_genlabs_hflip(name):
    pytest.importorskip(name.split(".")[0])
    fmt = TargetFormat(keypoint_names=NAMES)  # torchvision refuses flip_pairs (see below)
    batch = batch_of(originals(), fmt)
    theirs, ours = run(name, batch, p=1.0), get_op("hflip")(p=1.0)
    ours = next(GeneratorPipeline(iter([batch]), ours))
    np.testing.assert_array_equal(theirs.x, ours.x)
    for a, b in zip(theirs.targets, ours.targets):
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-4)
        np.testing.assert_array_equal(a.masks, b.masks)
        np.testing.assert_array_equal(a.mask, b.mask)
        assert (a.ids == b.ids).all() and (a.labels == b.labels).all()
        # the libraries flip keypoints as pixel indices (x -> W - 1 - x), genlab as coordinates
        np.testing.assert_allclose(a.keypoints[..., 0] + 1, b.keypoints[..., 0], atol=1e-4)


def test_albumentations_flips_swap_flip_pairs_when_they_apply():
    pytest.importorskip("albumentations")
    batch = batch_of(originals(), POSE)
    out = run("albumentations.HorizontalFlip", batch, p=1.0)
    for moved, original in zip(out.targets, batch.targets):
        # point "a" (top-left) is now where "b" went: the mirrored top-left corner is top-right
        np.testing.assert_allclose(
            moved.keypoints[:, 1, 0], WIDTH - 1 - original.keypoints[:, 0, 0]
        )
    not_applied = run("albumentations.HorizontalFlip", batch, p=0.0)
    for moved, original in zip(not_applied.targets, batch.targets):
        np.testing.assert_array_equal(moved.keypoints, original.keypoints)


def test_torchvision_flips_refuse_keypoints_with_flip_pairs():
    pytest.importorskip("torchvision")
    with pytest.raises(StageError, match="RandomHorizontalFlip: torchvision does not say"):
        run("torchvision.RandomHorizontalFlip", batch_of(originals(), POSE), p=1.0)


@pytest.mark.parametrize(
    "name, params",
    [
        ("albumentations.Rotate", {"limit": (-30, 30), "p": 1.0}),
        ("albumentations.Affine", {"scale": (0.8, 1.2), "rotate": (-20, 20), "p": 1.0}),
        ("albumentations.RandomCrop", {"height": 30, "width": 40}),
        ("albumentations.RandomResizedCrop", {"size": (40, 40), "scale": (0.3, 1.0)}),
        ("torchvision.RandomRotation", {"degrees": 30.0}),
        ("torchvision.RandomAffine", {"degrees": 20.0, "scale": (0.8, 1.2)}),
        ("torchvision.RandomResizedCrop", {"size": (40, 40), "scale": (0.3, 1.0)}),
    ],
)
def test_library_warps_move_masks_with_boxes_and_draw_as_on_images_alone(name, params):
    pytest.importorskip(name.split(".")[0])
    batch = batch_of(originals(6), TargetFormat())
    out = run(name, batch, **params)
    alone = run(name, batch.replace(targets=None), **params)
    np.testing.assert_array_equal(out.x, alone.x)  # the targets changed no draw
    assert out.info.applied == alone.info.applied
    kept = 0
    for t in out.targets:
        assert t.masks.shape[1:] == out.x.shape[1:3] and len(t.masks) == len(t) == len(t.keypoints)
        for box, m in zip(t.boxes, t.masks):
            if m.any():  # the moved mask lies within its moved box (to a resampled pixel)
                derived = mask_box(m)
                assert (derived[:2] >= box[:2] - 1.5).all() and (derived[2:] <= box[2:] + 1.5).all()
                kept += 1
        x, y, v = t.keypoints[..., 0], t.keypoints[..., 1], t.keypoints[..., 2]
        outside = (x < 0) | (x > out.x.shape[2]) | (y < 0) | (y > out.x.shape[1])
        assert (v[outside] == 0).all()
    assert kept


def test_albumentations_applies_min_visibility_from_the_target_format():
    pytest.importorskip("albumentations")
    t = Targets.from_boxes([[0, 0, 20, 20], [30, 10, 50, 30]], [1, 2],
                           masks=np.zeros((2, HEIGHT, WIDTH), np.uint8))  # fmt: skip
    batch = batch_of([t], TargetFormat(min_visibility=0.5))
    # a crop at the right half keeps none of box 0 and all of box 1
    out = run("albumentations.Crop", batch, x_min=25, y_min=0, x_max=64, y_max=48)
    assert out.targets[0].ids.tolist() == [1] and out.targets[0].masks.shape == (1, 48, 39)


@pytest.mark.parametrize(
    "name, params",
    [
        ("albumentations.RandomSizedBBoxSafeCrop", {"height": 40, "width": 40}),
        ("albumentations.MaskDropout", {}),
        ("torchvision.SanitizeBoundingBoxes", {}),
    ],
)
def test_transforms_of_targets_run_with_targets_and_refuse_batches_without(name, params):
    pytest.importorskip(name.split(".")[0])
    batch = batch_of(originals(), TargetFormat())
    out = run(name, batch, **params)
    assert all(t.masks.shape[1:] == out.x.shape[1:3] for t in out.targets)
    with pytest.raises(StageError, match=rf"ValueError: {name} .*; this batch has none"):
        run(name, batch.replace(targets=None), **params)


def test_torchvision_sanitize_drops_instances_with_all_their_parts():
    pytest.importorskip("torchvision")
    masks = np.zeros((3, HEIGHT, WIDTH), np.uint8)
    masks[0, :5, :5] = masks[2, 10:20, 10:20] = 1
    t = Targets(boxes=[[0, 0, 5, 5], [8, 8, 8, 12], [10, 10, 20, 20]], labels=[1, 2, 3],
                masks=masks, keypoints=np.ones((3, 2, 3)), ids=[4, 5, 6])  # fmt: skip
    out = run("torchvision.SanitizeBoundingBoxes", batch_of([t], TargetFormat())).targets[0]
    assert out.ids.tolist() == [4, 6] and out.labels.tolist() == [1, 3]
    np.testing.assert_array_equal(out.masks, masks[[0, 2]])
    assert out.keypoints.shape == (2, 2, 3)
