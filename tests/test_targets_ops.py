"""Boxes, masks and keypoints through every op: properties that need no reference.

For filled rectangles whose masks, boxes and corner keypoints are known by construction:
the box of the transformed mask lies within the transformed box (equals it, to the pixel, for
flips, crops, quarter turns and scaling); keypoints on mask corners stay on them; flips swap
``flip_pairs``; ``min_area`` / ``min_visibility`` drop whole instances; replay is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from target_shapes import rectangles

from genlab import Batch, BatchInfo
from genlab.ops.targets_geometry import sanitize
from genlab.ops.targets_paste import PARTNER_ID_OFFSET
from genlab.targets import TargetFormat, Targets
from genlab.transforms import get_op, op_names, replay_targets
from genlab.transforms.mixing import replay_batch
from genlab.transforms.op import Op

HEIGHT, WIDTH = 48, 64

#: op -> (parameters that make it apply, whether the transformed mask's box must EQUAL the
#: transformed box (flips, crops, turns, scaling) or only lie within it (warps)).
GEOMETRY = {
    "hflip": ({"p": 1.0}, True),
    "vflip": ({"p": 1.0}, True),
    "rotate90": ({"p": 1.0}, True),
    "random_crop": ({"size": (40, 30), "padding": 6}, True),
    "center_crop": ({"size": (80, 36)}, True),
    "random_resized_crop": ({"size": (96, 72), "scale": (0.3, 1.0)}, True),
    "random_rotation": ({"degrees": (-40.0, 40.0)}, False),
    "random_affine": (
        {"degrees": (-30.0, 30.0), "translate": (0.2, 0.2), "scale": (0.7, 1.3),
         "shear": (-15.0, 15.0), "shear_y": (-10.0, 10.0)},
        False,
    ),
    "random_perspective": ({"p": 1.0, "distortion_scale": 0.6}, False),
    "rand_augment": ({"num_ops": 3, "magnitude": 9}, False),
    "trivial_augment_wide": ({}, False),
    "auto_augment": ({}, False),
    "one_of": ({"ops": ["hflip", ("random_rotation", {"degrees": (-30.0, 30.0)})]}, False),
    "some_of": ({"ops": [("vflip", {"p": 1.0}), "random_affine", "rotate90"], "n": 2}, False),
}  # fmt: skip

#: tolerance of "lies within" per warp: a pixel whose centre is inside the warped rectangle is
#: in the nearest-sampled mask and may reach half a pixel past the exact box (a mask warped
#: twice, by two members of a group or policy, may be off by twice that)
WARP_TOLERANCE = 0.5 + 1e-3
#: how far a corner keypoint may be from the nearest pixel of its (warped) mask: one pixel,
#: a pixel's diagonal after warps that make corners acute (shear, perspective), as the tip of
#: a wedge may hold no pixel centre
CORNER_TOLERANCE = 2**0.5
WARPS = ("random_rotation", "random_affine", "random_perspective", "ShearX", "ShearY", "Rotate")


def warps_in(records) -> int:
    """How many nearest-neighbour warps (not exact pixel moves) ``records`` made."""
    n = 0
    for r in records:
        n += r.get("op", r.get("name")) in WARPS
        if isinstance(r.get("ops"), list):  # a group's or a policy's members
            n += warps_in(r["ops"])
    return n


KEYPOINTS = ("top_left", "top_right", "bottom_right", "bottom_left")
FORMAT = TargetFormat(
    class_names=("bg", "a", "b", "c"),
    keypoint_names=KEYPOINTS,
    flip_pairs=(("top_left", "top_right"), ("bottom_left", "bottom_right")),
)


def shapes(rng: np.random.Generator, n: int = 4) -> Targets:
    """``n`` filled rectangles: masks, their exact boxes and corner keypoints, a semantic mask."""
    boxes, masks = rectangles(rng, (HEIGHT, WIDTH), n)
    semantic = np.zeros((HEIGHT, WIDTH), np.uint8)
    for i, m in enumerate(masks):
        semantic[m == 1] = i % 3 + 1
    keypoints = [[[x0, y0, 2], [x1, y0, 2], [x1, y1, 2], [x0, y1, 2]] for x0, y0, x1, y1 in boxes]
    return Targets.from_boxes(
        boxes, [i % 3 + 1 for i in range(n)], masks=masks, keypoints=keypoints, mask=semantic
    )


def batch_of(targets: list[Targets], fmt: TargetFormat = FORMAT, seed: int = 0) -> Batch:
    x = np.random.default_rng(seed).integers(0, 256, (len(targets), HEIGHT, WIDTH, 3), np.uint8)
    info = BatchInfo(seed=seed, keys=np.arange(len(targets)), targets=tuple(targets),
                     target_format=fmt)  # fmt: skip
    return Batch(x, np.eye(len(targets), dtype=np.int64), info)


def run(name: str, batch: Batch, **params) -> Batch:
    op = get_op(name)
    return op.run(batch, op.validate(params), name)


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def check_sample(
    t: Targets, image_hw, exact: bool, original: Targets, warps: int = 1, chained: bool = False
) -> None:
    height, width = image_hw
    assert t.masks.shape[1:] == (height, width) and t.mask.shape == (height, width)
    assert (t.boxes[:, :2] >= 0).all() and (t.boxes[:, 2] <= width).all()
    assert (t.boxes[:, 3] <= height).all()
    assert ((t.boxes[:, 2:] - t.boxes[:, :2]) > 0).all()  # zero-size always dropped
    assert set(t.ids.tolist()) <= set(original.ids.tolist())
    assert (t.labels == original.labels[t.ids]).all()  # labels stay with their instance
    for box, m, kps in zip(t.boxes, t.masks, t.keypoints):
        derived = mask_box(m)
        if derived is None:
            # a box at least one pixel wide and high holds a pixel centre, so a moved rectangle
            # (flips, crops, scaling) keeps mask pixels; a warped one may keep only a corner
            # sliver (inside the image) that holds none
            assert not exact or (box[2:] - box[:2]).min() < 1.0, box
            continue
        if exact:
            np.testing.assert_allclose(derived, box, atol=1.0 if exact == "scaled" else 0)
        else:
            tolerance = WARP_TOLERANCE * max(warps, 1)
            assert (derived[:2] >= box[:2] - tolerance).all(), (derived, box)
            assert (derived[2:] <= box[2:] + tolerance).all(), (derived, box)
        ys, xs = np.nonzero(m)
        for x, y, v in kps:
            inside = 0 <= x <= width and 0 <= y <= height
            # outside: invisible, kept; inside: as it was, unless an earlier step of a chain
            # (group, policy) took it outside, whose pixels are gone (it stays invisible)
            assert (v == 0) if not inside else (v == 2 or chained), (x, y, v)
            # a corner keypoint stays on its mask's corner (one at the border may have lost
            # the wedge of mask that met there: checked a pixel inside the border)
            if v > 0 and 1 <= x <= width - 1 and 1 <= y <= height - 1:
                dx = np.maximum(np.maximum(xs - x, x - (xs + 1)), 0)  # to the pixel's square
                dy = np.maximum(np.maximum(ys - y, y - (ys + 1)), 0)
                assert np.hypot(dx, dy).min() <= (
                    1.0 if exact else CORNER_TOLERANCE * max(warps, 1)
                ), (x, y)
    # the semantic mask moved with the instance masks (same kernel, same record)
    union = t.masks.any(axis=0)
    assert (t.mask[union] > 0).mean() > 0.99 if union.any() else True


@pytest.mark.parametrize("name", sorted(GEOMETRY))
@pytest.mark.parametrize("seed", range(12))
def test_targets_move_with_the_pixels(name, seed):
    params, exact = GEOMETRY[name]
    if name == "random_resized_crop":
        exact = "scaled"
    rng = np.random.default_rng(seed)
    originals = [shapes(rng) for _ in range(3)]
    out = run(name, batch_of(originals, seed=seed), **params)
    for t, original, records in zip(out.targets, originals, out.info.applied):
        mirrors = sum(r["op"] in ("hflip", "vflip") for r in records)
        if mirrors % 2:  # the corners named by flip_pairs traded places: undo to check them
            t = t.replace(keypoints=t.keypoints[:, FORMAT.flip_permutation()])
        chained = get_op(name).kind in ("group", "policy")
        check_sample(t, out.x.shape[1:3], exact, original, warps_in(records), chained)


@settings(max_examples=40, deadline=None)
@given(
    angle=st.floats(-180, 180), scale=st.floats(0.5, 1.6), tx=st.integers(-20, 20),
    ty=st.integers(-20, 20), shear=st.floats(-30, 30), seed=st.integers(0, 2**16),
)  # fmt: skip
def test_affine_records_of_any_value_keep_masks_inside_boxes(angle, scale, tx, ty, shear, seed):
    original = shapes(np.random.default_rng(seed))
    record = {"op": "random_affine", "angle": angle, "translate": [tx, ty], "scale": scale,
              "shear": [shear, 0.0], "center": [WIDTH / 2, HEIGHT / 2], "resample": "nearest",
              "fill": [0, 0, 0]}  # fmt: skip
    _, t = replay_targets(np.zeros((HEIGHT, WIDTH, 3), np.uint8), original, [record], FORMAT)
    check_sample(t, (HEIGHT, WIDTH), False, original)


def test_hflip_moves_keypoints_and_swaps_flip_pairs():
    t = Targets.from_boxes([[10, 4, 20, 14]], [1], keypoints=[[[10, 4, 2], [20, 4, 1], [20, 14, 2], [10, 14, 0]]])  # fmt: skip
    out = run("hflip", batch_of([t]), p=1.0).targets[0]
    # the point that was top-left lands top-right, and is now named top_right's slot's partner
    np.testing.assert_array_equal(
        out.keypoints[0], [[44, 4, 1], [54, 4, 2], [54, 14, 0], [44, 14, 2]]
    )
    np.testing.assert_array_equal(out.boxes, [[44, 4, 54, 14]])
    plain = run("hflip", batch_of([t], TargetFormat(keypoint_names=KEYPOINTS)), p=1.0)
    np.testing.assert_array_equal(plain.targets[0].keypoints[0, 0], [54, 4, 2])  # no pairs: no swap


def test_vflip_swaps_flip_pairs_too():
    t = Targets.from_boxes([[10, 4, 20, 14]], [1], keypoints=[[[10, 4, 2], [20, 4, 1], [20, 14, 2], [10, 14, 0]]])  # fmt: skip
    out = run("vflip", batch_of([t]), p=1.0).targets[0]
    np.testing.assert_array_equal(out.keypoints[0, :2], [[20, 44, 1], [10, 44, 2]])


def test_keypoints_leaving_the_image_get_visibility_zero_and_stay():
    t = Targets.from_boxes([[0, 0, 30, 30]], [1], keypoints=[[[1, 1, 2], [29, 29, 2], [5, 5, 0], [20, 2, 1]]])  # fmt: skip
    record = {"op": "random_crop", "top": 10, "left": 10, "size": [20, 20], "fill": [0, 0, 0]}
    _, out = replay_targets(np.zeros((HEIGHT, WIDTH, 3), np.uint8), t, [record], FORMAT)
    np.testing.assert_array_equal(
        out.keypoints[0], [[-9, -9, 0], [19, 19, 2], [-5, -5, 0], [10, -8, 0]]
    )


def test_min_area_and_min_visibility_drop_whole_instances():
    masks = np.zeros((3, HEIGHT, WIDTH), np.uint8)
    masks[0, 0:10, 0:10] = masks[1, 20:40, 20:40] = masks[2, 0:4, 56:64] = 1
    t = Targets(boxes=[[0, 0, 10, 10], [20, 20, 40, 40], [56, 0, 64, 4]], labels=[1, 2, 3],
                masks=masks, keypoints=np.ones((3, 4, 3)), ids=[7, 8, 9])  # fmt: skip
    record = {"op": "random_crop", "top": 2, "left": 6, "size": [40, 50], "fill": [0, 0, 0]}
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    # box 0 keeps 4 x 8 of its 10 x 10 (0.32); box 2 keeps 0 x 2 (cut off); box 1 all of it
    _, out = replay_targets(image, t, [record], TargetFormat(min_visibility=0.4))
    assert out.ids.tolist() == [8] and out.labels.tolist() == [2]
    assert out.masks.shape == (1, 40, 50) and out.keypoints.shape == (1, 4, 3)
    assert out.masks[0].sum() == 400
    _, out = replay_targets(image, t, [record], TargetFormat(min_area=33))
    assert out.ids.tolist() == [8]
    _, out = replay_targets(image, t, [record], TargetFormat())
    assert out.ids.tolist() == [7, 8] and out.boxes[0].tolist() == [0, 0, 4, 8]


def test_sanitize_always_drops_zero_size_boxes():
    t = Targets.from_boxes([[5, 5, 5, 9], [1, 1, 3, 3], [-4, 2, -1, 6]], [1, 2, 3])
    assert sanitize(t, (10, 10)).labels.tolist() == [2]


@pytest.mark.parametrize("name", ["color_jitter", "random_erasing", "gaussian_noise", "grayscale"])
def test_colour_and_noise_ops_leave_targets_alone(name):
    if name not in op_names():
        pytest.skip(f"{name} is not an op here")
    original = shapes(np.random.default_rng(1))
    params = {"p": 1.0} if "p" in get_op(name).params else {}
    out = run(name, batch_of([original]), **params).targets[0]
    assert out is original


def test_replay_gives_the_same_image_and_targets():
    rng = np.random.default_rng(3)
    originals = [shapes(rng) for _ in range(4)]
    batch = batch_of(originals, seed=5)
    chain = [
        ("random_affine", {"degrees": (-20.0, 20.0)}),
        ("one_of", {"ops": ["hflip", "rotate90"]}),
        ("rand_augment", {"num_ops": 2}),
        ("color_jitter", {"brightness": 0.3}),
        ("random_resized_crop", {"size": (40, 32)}),
    ]
    out = batch
    for name, params in chain:
        out = run(name, out, **params)
    for i, original in enumerate(originals):
        image, t = replay_targets(batch.x[i], original, out.info.applied[i], FORMAT)
        np.testing.assert_array_equal(image, out.x[i])
        moved = out.targets[i]
        for part in ("boxes", "labels", "ids", "masks", "keypoints", "mask"):
            np.testing.assert_array_equal(getattr(t, part), getattr(moved, part))


def test_a_geometric_op_without_a_target_kernel_refuses_targets():
    op = Op("test_targets_shift", "geometry", {}, draw=lambda rng, p, s: {},
            apply=lambda img, r: np.roll(img, 1, axis=1))  # fmt: skip
    batch = batch_of([shapes(np.random.default_rng(0))])
    with pytest.raises(
        ValueError, match="test_targets_shift: this geometry op has no target kernel"
    ):
        op.run(batch, {}, op.name)
    assert op.run(batch.replace(targets=None), {}, op.name).targets is None  # classification: fine


def test_masks_of_the_wrong_size_are_refused_naming_the_op():
    t = Targets.from_boxes([[0, 0, 4, 4]], [1], masks=np.zeros((1, 10, 10), np.uint8))
    with pytest.raises(
        ValueError, match=r"vflip: masks of size \(10, 10\) on an image of \(48, 64\)"
    ):
        run("vflip", batch_of([t]), p=1.0)


def test_samples_without_targets_pass_through_beside_others():
    original = shapes(np.random.default_rng(0))
    batch = batch_of([original, original])
    batch = batch.replace(targets=(None, original))
    out = run("hflip", batch, p=1.0)
    assert out.targets[0] is None and len(out.targets[1]) == len(original)


def test_mixup_refuses_targets_naming_itself_and_why():
    batch = batch_of([shapes(np.random.default_rng(i)) for i in range(2)])
    with pytest.raises(ValueError, match="mixup: refused on a batch with targets: a blend"):
        run("mixup", batch)
    assert run("mixup", batch.replace(targets=None)).targets is None


@pytest.mark.parametrize("seed", range(8))
def test_cutmix_pastes_the_partners_targets_with_its_pixels(seed):
    originals = [shapes(np.random.default_rng(seed * 10 + i), n=5) for i in range(3)]
    out = run("cutmix", batch_of(originals, seed=seed), alpha=1.0)
    for i, (t, (record,)) in enumerate(zip(out.targets, out.info.applied)):
        own, partner = originals[i], originals[record["partner"]]
        if "top" not in record:
            assert t is own
            continue
        rows = slice(record["top"], record["top"] + record["height"])
        cols = slice(record["left"], record["left"] + record["width"])
        pasted = t.ids >= PARTNER_ID_OFFSET
        # masks: the sample's own outside the region, the partner's inside it
        for m, instance, from_partner in zip(t.masks, t.ids % PARTNER_ID_OFFSET, pasted):
            source = (partner if from_partner else own).masks[instance]
            region = np.zeros_like(m, bool)
            region[rows, cols] = True
            np.testing.assert_array_equal(m, source * (region if from_partner else ~region))
        for box, m, exact in zip(t.boxes, t.masks, pasted):
            derived = mask_box(m)
            if derived is None:
                continue
            if exact:  # a rectangle cut by a rectangle
                np.testing.assert_array_equal(derived, box)
            else:
                assert (derived[:2] >= box[:2]).all() and (derived[2:] <= box[2:]).all()
        expected = own.mask.copy()
        expected[rows, cols] = partner.mask[rows, cols]
        np.testing.assert_array_equal(t.mask, expected)
        assert (t.labels == np.where(pasted, partner.labels[t.ids % PARTNER_ID_OFFSET], own.labels[t.ids % PARTNER_ID_OFFSET])).all()  # fmt: skip


def test_replay_batch_replays_targets_through_cutmix():
    originals = [shapes(np.random.default_rng(40 + i), n=5) for i in range(4)]
    batch = batch_of(originals, seed=2)
    out = batch
    for name, params in [("random_affine", {}), ("cutmix", {}), ("hflip", {"p": 0.5})]:
        out = run(name, out, **params)
    x, y, targets = replay_batch(batch.x, batch.y, out.info.applied, batch.targets, FORMAT)
    np.testing.assert_array_equal(x, out.x)
    np.testing.assert_array_equal(y, out.y)
    assert any((t.ids >= PARTNER_ID_OFFSET).any() for t in targets)
    for a, b in zip(targets, out.targets):
        for part in ("boxes", "labels", "ids", "masks", "keypoints", "mask"):
            np.testing.assert_array_equal(getattr(a, part), getattr(b, part))
    assert len(replay_batch(batch.x, batch.y, out.info.applied)) == 2  # without targets: as before
