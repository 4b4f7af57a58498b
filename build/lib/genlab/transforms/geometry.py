"""Geometric ops: flips, quarter turns and crops, with torchvision's parameter meanings.

Sizes given as parameters are ``(width, height)``, as everywhere in genlab (Pillow's
order, like ``read_images(target_size=...)``); torchvision writes ``(height, width)``.
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.geometry import (
    affine,
    crop_or_pad,
    crop_resize,
    flip,
    inverse_affine_matrix,
    perspective,
    perspective_coefficients,
    quarter_turns,
)
from ..ops.targets_geometry import (
    affine_forward,
    crop_matrix,
    crop_planes,
    flip_matrix,
    perspective_forward,
    quarter_turn_matrix,
)
from ..params import Bool, Float, Floats, HeightWidth, Int, Range, Size
from .op import Op, fill_param, gate, probability, register_op, resample_param
from .target_kernels import register_target_kernel, warp_kernel

__all__ = [
    "hflip",
    "vflip",
    "rotate90",
    "random_resized_crop",
    "center_crop",
    "random_crop",
    "random_rotation",
    "random_affine",
    "random_perspective",
]


RESAMPLE_PARAM = resample_param("bilinear")


# ----------------------------------------------------------------------------- flips


hflip = register_op(Op(
    "hflip", "geometry", {"p": probability(0.5, "a horizontal flip")},
    draw=lambda rng, params, size: {} if gate(rng, params["p"]) else None,
    apply=lambda img, record: flip(img, horizontal=True),
    help="mirror the image left-right",
    equivalents={"torchvision": "RandomHorizontalFlip", "albumentations": "HorizontalFlip"},
))  # fmt: skip

vflip = register_op(Op(
    "vflip", "geometry", {"p": probability(0.5, "a vertical flip")},
    draw=lambda rng, params, size: {} if gate(rng, params["p"]) else None,
    apply=lambda img, record: flip(img, horizontal=False),
    help="mirror the image top-bottom",
    equivalents={"torchvision": "RandomVerticalFlip", "albumentations": "VerticalFlip"},
))  # fmt: skip


def _draw_rotate90(rng, params, size):
    if not gate(rng, params["p"]):
        return None
    turns = rng.integers(1, 4)
    if size[0] != size[1]:  # a quarter turn would change the shape; a half turn does not
        return {"k": 2}
    return {"k": int(turns)}


rotate90 = register_op(Op(
    "rotate90", "geometry", {"p": probability(0.5, "a turn by 90, 180 or 270 degrees")},
    draw=_draw_rotate90,
    apply=lambda img, record: quarter_turns(img, record["k"]),
    help="turn by a random multiple of 90 degrees (half turns only on non-square images)",
    equivalents={"albumentations": "RandomRotate90"},
))  # fmt: skip


# ----------------------------------------------------------------------------- crops


def _size_hw(params) -> HeightWidth:
    return HeightWidth.from_size(params["size"])


def rrc_box(rng, size_hw, scale, ratio) -> tuple[int, int, int, int]:
    """torchvision's ``RandomResizedCrop.get_params``: ``(top, left, height, width)``.

    Up to ten tries at a box whose area is ``scale`` of the image and whose aspect
    (width / height) is log-uniform in ``ratio``; else the central box of the nearest aspect.
    """
    height, width = size_hw
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(rng.integers(0, height - h + 1))
            left = int(rng.integers(0, width - w + 1))
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _draw_rrc(rng, params, size):
    top, left, height, width = rrc_box(rng, size, params["scale"], params["ratio"])
    # the output size and filter travel in the record, so it replays on its own
    return {"top": top, "left": left, "height": height, "width": width,
            "size": list(_size_hw(params)), "resample": params["resample"]}  # fmt: skip


random_resized_crop = register_op(Op(
    "random_resized_crop", "geometry",
    {
        "size": Size((224, 224), help="output (width, height) in pixels"),
        "scale": Range((0.08, 1.0), low=0.0, high=1.0, help="crop area as a fraction of the image: (min, max)"),
        "ratio": Range((3 / 4, 4 / 3), low=0.05, high=20.0, help="crop aspect (width / height), log-uniform: (min, max)"),
        "resample": RESAMPLE_PARAM,
    },
    draw=_draw_rrc,
    apply=lambda img, r: crop_resize(
        img, (r["top"], r["left"], r["height"], r["width"]), r["size"], r["resample"]
    ),
    help="crop a random area and aspect, resize to size (the ImageNet training crop)",
    equivalents={"torchvision": "RandomResizedCrop", "albumentations": "RandomResizedCrop"},
    output_size=lambda params, size: _size_hw(params),
))  # fmt: skip


def _centred(length: int, out: int) -> int:
    """Where an ``out``-long window centred on ``length`` pixels starts, as torchvision's CenterCrop.

    Cropping, the start is ``round((length - out) / 2)``; padding (``out > length`` by ``d``),
    ``d // 2`` pixels go before and the extra one after, so the start is ``-(d // 2)``.

    >>> _centred(10, 4), _centred(4, 7), _centred(4, 11)
    (3, -1, -3)
    """
    return int(round((length - out) / 2.0)) if out <= length else -((out - length) // 2)


def _draw_center_crop(rng, params, size):
    out_h, out_w = _size_hw(params)
    return {"top": _centred(size[0], out_h), "left": _centred(size[1], out_w),
            "size": [out_h, out_w], "fill": list(params["fill"])}  # fmt: skip


center_crop = register_op(Op(
    "center_crop", "geometry",
    {"size": Size((224, 224), help="output (width, height) in pixels"), "fill": fill_param("padding")},
    draw=_draw_center_crop,
    apply=lambda img, r: crop_or_pad(img, r["top"], r["left"], r["size"], r["fill"]),
    help="cut the central window of size (padding with fill when the image is smaller)",
    equivalents={"torchvision": "CenterCrop", "albumentations": "CenterCrop"},
    output_size=lambda params, size: _size_hw(params),
))  # fmt: skip


def _draw_random_crop(rng, params, size):
    out_h, out_w = _size_hw(params)
    pad_h = pad_w = params["padding"]
    if params["pad_if_needed"]:  # as torchvision: the shortfall is added on both sides
        pad_h += max(0, out_h - (size[0] + 2 * pad_h))
        pad_w += max(0, out_w - (size[1] + 2 * pad_w))
    height, width = size[0] + 2 * pad_h, size[1] + 2 * pad_w
    if out_h > height or out_w > width:
        raise ValueError(
            f"random_crop: size {params['size']} is larger than the (padded) image "
            f"{(width, height)}; raise padding or set pad_if_needed"
        )
    top = int(rng.integers(0, height - out_h + 1)) - pad_h
    left = int(rng.integers(0, width - out_w + 1)) - pad_w
    return {"top": top, "left": left, "size": [out_h, out_w], "fill": list(params["fill"])}


random_crop = register_op(Op(
    "random_crop", "geometry",
    {
        "size": Size((224, 224), help="output (width, height) in pixels"),
        "padding": Int(0, low=0, high=1024, help="pixels of fill added on every side first"),
        "pad_if_needed": Bool(False, help="pad an image smaller than size instead of failing"),
        "fill": fill_param("padding"),
    },
    draw=_draw_random_crop,
    apply=lambda img, r: crop_or_pad(img, r["top"], r["left"], r["size"], r["fill"]),
    help="cut a window of size at a random place, after optional padding",
    equivalents={"torchvision": "RandomCrop", "albumentations": "RandomCrop"},
    output_size=lambda params, size: _size_hw(params),
))  # fmt: skip


# ----------------------------------------------------------------------------- warps

CENTER_PARAM = Floats(
    (0.5, 0.5), length=2, low=0.0, high=1.0,
    help="(x, y) turning point as fractions of width and height (torchvision's center in "
    "pixels divided by the image size)",
)  # fmt: skip


def _warp_fields(params, size) -> dict:
    """What every warp record carries besides its geometry: centre in pixels, filter, fill."""
    height, width = size
    fx, fy = params["center"]
    return {"center": [fx * width, fy * height], "resample": params["resample"],
            "fill": list(params["fill"])}  # fmt: skip


def _draw_rotation(rng, params, size):
    if not gate(rng, params["p"]):
        return None
    angle = round(float(rng.uniform(*params["degrees"])), 4)
    return {"angle": angle, **_warp_fields(params, size)}


def _apply_rotation(img, r):
    # torchvision's rotate turns counter-clockwise: its affine matrix of -angle
    matrix = inverse_affine_matrix(r["center"], -r["angle"])
    return affine(img, matrix, r["resample"], r["fill"])


random_rotation = register_op(Op(
    "random_rotation", "geometry",
    {
        "degrees": Range((-15.0, 15.0), low=-180.0, high=180.0, step=1.0, symmetric=True,
                         help="angle range in degrees, counter-clockwise (d stands for (-d, d))"),
        "center": CENTER_PARAM,
        "resample": resample_param("nearest"),
        "fill": fill_param(),
        "p": probability(1.0, "a rotation"),
    },
    draw=_draw_rotation,
    apply=_apply_rotation,
    help="turn by a random angle about the centre, keeping the size (corners get fill)",
    equivalents={"torchvision": "RandomRotation", "albumentations": "Rotate"},
))  # fmt: skip


def _draw_affine(rng, params, size):
    """torchvision's RandomAffine draw: angle, integer translation, scale, shear x then y."""
    if not gate(rng, params["p"]):
        return None
    height, width = size
    angle = float(rng.uniform(*params["degrees"]))
    max_dx, max_dy = params["translate"][0] * width, params["translate"][1] * height
    translate = [int(round(rng.uniform(-max_dx, max_dx))), int(round(rng.uniform(-max_dy, max_dy)))]
    scale = float(rng.uniform(*params["scale"]))
    shear = [float(rng.uniform(*params["shear"])), float(rng.uniform(*params["shear_y"]))]
    return {"angle": round(angle, 4), "translate": translate, "scale": round(scale, 4),
            "shear": [round(v, 4) for v in shear], **_warp_fields(params, size)}  # fmt: skip


def _apply_affine(img, r):
    matrix = inverse_affine_matrix(r["center"], r["angle"], r["translate"], r["scale"], r["shear"])
    return affine(img, matrix, r["resample"], r["fill"])


random_affine = register_op(Op(
    "random_affine", "geometry",
    {
        "degrees": Range((-10.0, 10.0), low=-180.0, high=180.0, step=1.0, symmetric=True,
                         help="rotation range in degrees, clockwise (d stands for (-d, d))"),
        "translate": Floats((0.1, 0.1), length=2, low=0.0, high=1.0,
                            help="largest shift as fractions of (width, height), either way"),
        "scale": Range((0.9, 1.1), low=0.01, high=10.0, help="zoom factor range (1: no zoom)"),
        "shear": Range((0.0, 0.0), low=-89.0, high=89.0, step=1.0, symmetric=True,
                       help="x shear range in degrees (s stands for (-s, s))"),
        "shear_y": Range((0.0, 0.0), low=-89.0, high=89.0, step=1.0, symmetric=True,
                         help="y shear range in degrees (torchvision's 3rd and 4th shear values)"),
        "center": CENTER_PARAM,
        "resample": resample_param("nearest"),
        "fill": fill_param(),
        "p": probability(1.0, "an affine warp"),
    },
    draw=_draw_affine,
    apply=_apply_affine,
    help="rotate, shift, zoom and shear by random amounts, keeping the size",
    equivalents={"torchvision": "RandomAffine", "albumentations": "Affine"},
))  # fmt: skip


def _draw_perspective(rng, params, size):
    """torchvision's RandomPerspective draw: each corner moves inwards by a random amount."""
    if not gate(rng, params["p"]):
        return None
    height, width = size
    bound_h = int(params["distortion_scale"] * (height // 2)) + 1
    bound_w = int(params["distortion_scale"] * (width // 2)) + 1

    def near(low_w, low_h):  # one corner, drawn x then y as torchvision does
        x = int(rng.integers(0, bound_w)) if low_w else int(rng.integers(width - bound_w, width))
        y = int(rng.integers(0, bound_h)) if low_h else int(rng.integers(height - bound_h, height))
        return [x, y]

    endpoints = [near(True, True), near(False, True), near(False, False), near(True, False)]
    startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
    return {"startpoints": startpoints, "endpoints": endpoints,
            "resample": params["resample"], "fill": list(params["fill"])}  # fmt: skip


random_perspective = register_op(Op(
    "random_perspective", "geometry",
    {
        "distortion_scale": Float(0.5, low=0.0, high=1.0,
                                  help="how far the corners may move in, as a fraction of half the size"),
        "resample": resample_param("bilinear"),
        "fill": fill_param(),
        "p": probability(0.5, "a perspective warp"),
    },
    draw=_draw_perspective,
    apply=lambda img, r: perspective(
        img, perspective_coefficients(r["startpoints"], r["endpoints"]), r["resample"], r["fill"]
    ),
    help="move the four corners inwards at random: a change of viewpoint",
    equivalents={"torchvision": "RandomPerspective", "albumentations": "Perspective"},
))  # fmt: skip


# ----------------------------------------------------------------------------- target kernels
# Each op's point map for a drawn record (genlab.transforms.target_kernels): boxes, masks and
# keypoints move with the same record as the pixels.


def _same_size(matrix_of):
    return lambda r, size: (matrix_of(r, size), size)


def _crop_geometry(r, size):
    out_hw = tuple(r["size"])
    if "height" in r:  # random_resized_crop: a box scaled to the output size
        return crop_matrix(r["top"], r["left"], r["height"], r["width"], out_hw), out_hw
    return crop_matrix(r["top"], r["left"], *out_hw), out_hw


def _rotate90_geometry(r, size):
    k = int(r["k"]) % 4
    return quarter_turn_matrix(size, k), (size[::-1] if k % 2 else size)


def _rotation_matrix(r, size):
    return affine_forward(inverse_affine_matrix(r["center"], -r["angle"]))


def _affine_matrix(r, size):
    inverse = inverse_affine_matrix(r["center"], r["angle"], r["translate"], r["scale"], r["shear"])
    return affine_forward(inverse)


def _perspective_matrix(r, size):
    return perspective_forward(perspective_coefficients(r["startpoints"], r["endpoints"]))


def _crop_planes(a, r):
    return crop_planes(a, r["top"], r["left"], r["size"])


# op, its point map, whether it mirrors, its move of whole pixels on mask arrays (or None)
for _op, _geometry, _mirrors, _planes in [
    (hflip, _same_size(lambda r, size: flip_matrix(size, horizontal=True)), True,
     lambda a, r: a[..., :, ::-1]),
    (vflip, _same_size(lambda r, size: flip_matrix(size, horizontal=False)), True,
     lambda a, r: a[..., ::-1, :]),
    (rotate90, _rotate90_geometry, False, lambda a, r: np.rot90(a, r["k"], axes=(-2, -1))),
    (random_resized_crop, _crop_geometry, False, None),
    (center_crop, _crop_geometry, False, _crop_planes),
    (random_crop, _crop_geometry, False, _crop_planes),
    (random_rotation, _same_size(_rotation_matrix), False, None),
    (random_affine, _same_size(_affine_matrix), False, None),
    (random_perspective, _same_size(_perspective_matrix), False, None),
]:  # fmt: skip
    register_target_kernel(_op.name, warp_kernel(_op.name, _op.apply, _geometry, _mirrors, _planes))
