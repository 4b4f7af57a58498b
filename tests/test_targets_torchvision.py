"""Agreement with torchvision.transforms.v2 (tv_tensors) on boxes, masks and keypoints for the
same drawn parameters: genlab draws a record, torchvision's functional kernels apply it.

Tolerances (measured, stated here and in docs/targets.md):

- boxes: 1e-3 px (float32 rounding), every op; torchvision keeps boxes genlab drops (zero size),
  so genlab's surviving instances are compared by id;
- keypoints: 1e-3 px, except flips: torchvision treats a keypoint as a pixel index
  (``x -> W - 1 - x``), genlab as a continuous coordinate like boxes (``x -> W - x``),
  exactly 1 px apart;
- masks: identical for flips and crops; for warps at most ``MASK_TOLERANCE`` of a mask's
  pixels differ (nearest sampling of the same map at pixel centres: Pillow and torch round
  differently on the boundary); for resized crops they differ only within ``ceil(scale)``
  pixels of the mask's edge: torchvision resizes masks with its legacy "nearest", which
  samples at ``floor(i / scale)`` and so shifts them by up to a scaled half pixel from their
  boxes, where genlab samples pixel centres (its masks' boxes equal its boxes, see
  test_targets_ops).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tv = pytest.importorskip("torchvision")
from scipy.ndimage import binary_dilation, binary_erosion  # noqa: E402
from target_shapes import rectangles  # noqa: E402
from torchvision import tv_tensors  # noqa: E402
from torchvision.transforms.v2 import InterpolationMode  # noqa: E402
from torchvision.transforms.v2 import functional as F  # noqa: E402

from genlab.targets import TargetFormat, Targets  # noqa: E402
from genlab.transforms import get_op, replay_targets  # noqa: E402

HEIGHT, WIDTH = 60, 80
#: share of a mask's pixels allowed to differ after a warp or a resized crop
MASK_TOLERANCE = 0.02
FLIP_KEYPOINT_SHIFT = 1.0

needs_keypoints = pytest.mark.skipif(
    not hasattr(tv_tensors, "KeyPoints"), reason="torchvision without tv_tensors.KeyPoints"
)


def sample(seed: int) -> Targets:
    boxes, masks = rectangles(np.random.default_rng(seed), (HEIGHT, WIDTH), 5, (10, 30), (10, 25))
    points = [[[x0 + 2.5, y0 + 3.5, 2], [x1 - 1.5, y1 - 2.5, 2]] for x0, y0, x1, y1 in boxes]
    return Targets.from_boxes(boxes, [1] * 5, masks=masks, keypoints=points)


def with_torchvision(record: dict, t: Targets):
    """torchvision's kernels applied with ``record``'s parameters: (boxes, masks, keypoints)."""
    boxes = tv_tensors.BoundingBoxes(
        torch.from_numpy(t.boxes), format="XYXY", canvas_size=(HEIGHT, WIDTH)
    )
    masks = tv_tensors.Mask(torch.from_numpy(t.masks))
    kp = tv_tensors.KeyPoints(
        torch.from_numpy(t.keypoints[..., :2].reshape(-1, 2).copy()), canvas_size=(HEIGHT, WIDTH)
    )
    op, near = record["op"], InterpolationMode.NEAREST
    r = record
    if op == "hflip":
        call = F.horizontal_flip
    elif op == "vflip":
        call = F.vertical_flip
    elif op in ("random_crop", "center_crop"):
        h, w = r["size"]

        def call(x):
            return F.crop(x, r["top"], r["left"], h, w)
    elif op == "random_resized_crop":

        def call(x):
            return F.resized_crop(x, r["top"], r["left"], r["height"], r["width"], r["size"],
                                  interpolation=near)  # fmt: skip
    elif op == "random_rotation":

        def call(x):
            return F.rotate(x, r["angle"], interpolation=near, center=r["center"])
    elif op == "random_affine":

        def call(x):
            return F.affine(x, r["angle"], r["translate"], r["scale"], r["shear"],
                            interpolation=near, center=r["center"])  # fmt: skip
    elif op == "random_perspective":

        def call(x):
            return F.perspective(x, r["startpoints"], r["endpoints"], interpolation=near)

    out_boxes, out_masks, out_kp = call(boxes), call(masks), call(kp)
    shape = t.keypoints.shape[:2] + (2,)
    return out_boxes.numpy(), out_masks.numpy(), out_kp.numpy().reshape(shape)


OPS = {
    "hflip": {"p": 1.0},
    "vflip": {"p": 1.0},
    "random_crop": {"size": (50, 40), "padding": 8},
    "center_crop": {"size": (56, 44)},
    "random_resized_crop": {"size": (64, 64), "scale": (0.3, 1.0)},
    "random_rotation": {"degrees": (-35.0, 35.0)},
    "random_affine": {"degrees": (-25.0, 25.0), "translate": (0.15, 0.15), "scale": (0.8, 1.2),
                      "shear": (-12.0, 12.0), "shear_y": (-8.0, 8.0)},
    "random_perspective": {"p": 1.0, "distortion_scale": 0.5},
}  # fmt: skip


@needs_keypoints
@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("seed", range(5))
def test_boxes_masks_and_keypoints_agree_with_torchvision(name, seed):
    original = sample(seed)
    op = get_op(name)
    record = op.draw(np.random.default_rng(seed), op.validate(OPS[name]), (HEIGHT, WIDTH))
    record = {"op": name, **record}
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    _, ours = replay_targets(image, original, [record], TargetFormat())
    tv_boxes, tv_masks, tv_kp = with_torchvision(record, original)
    kept = ours.ids
    np.testing.assert_allclose(ours.boxes, tv_boxes[kept], atol=1e-3)
    shift = FLIP_KEYPOINT_SHIFT if name in ("hflip", "vflip") else 0.0
    diff = np.abs(ours.keypoints[..., :2] - tv_kp[kept])
    np.testing.assert_allclose(diff, np.full_like(diff, shift) * _flip_axis(name), atol=1e-3)
    for ours_mask, tv_mask in zip(ours.masks, tv_masks[kept]):
        differ = int((ours_mask != tv_mask).sum())
        if name in ("hflip", "vflip", "random_crop", "center_crop"):
            assert differ == 0
        elif name == "random_resized_crop":
            k = int(
                np.ceil(
                    max(r / s for r, s in zip(record["size"], (record["height"], record["width"])))
                )
            )
            band = binary_dilation(ours_mask, iterations=k) & ~binary_erosion(
                ours_mask, iterations=k
            )
            assert not ((ours_mask != tv_mask) & ~band).any()
        else:
            assert differ <= MASK_TOLERANCE * max(int(tv_mask.sum()), 1), (differ, tv_mask.sum())


def _flip_axis(name: str) -> np.ndarray:
    return {"hflip": np.array([1.0, 0.0]), "vflip": np.array([0.0, 1.0])}.get(name, np.zeros(2))
