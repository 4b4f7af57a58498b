"""Geometric ops: flips, quarter turns and crops, with torchvision's parameter meanings.

Sizes given as parameters are ``(width, height)``, as everywhere in genlab (Pillow's
order, like ``read_images(target_size=...)``); torchvision writes ``(height, width)``.
"""

from __future__ import annotations

import math

from ..ops.geometry import crop_or_pad, crop_resize, flip, quarter_turns
from ..params import Bool, Choice, Float, Floats, Int, Range, Size
from .op import Op, register_op

__all__ = ["hflip", "vflip", "rotate90", "random_resized_crop", "center_crop", "random_crop"]


def probability(default: float, what: str) -> Float:
    """The declaration of an op's probability of being applied."""
    return Float(default, low=0.0, high=1.0, help=f"probability of {what}")


def fill_param(what: str = "uncovered pixels") -> Floats:
    """The declaration of an (R, G, B) fill colour, 0-255."""
    return Floats((0.0, 0.0, 0.0), low=0.0, high=255.0, help=f"(R, G, B) colour of {what}")


RESAMPLE_PARAM = Choice(
    "bilinear", choices=("nearest", "bilinear", "bicubic"), help="resampling filter"
)


def _gate(rng, p: float) -> bool:
    """True with probability ``p``; always consumes one draw so later draws do not shift."""
    return bool(rng.random() < p)


# ----------------------------------------------------------------------------- flips


hflip = register_op(Op(
    "hflip", "geometry", {"p": probability(0.5, "a horizontal flip")},
    draw=lambda rng, params, size: {} if _gate(rng, params["p"]) else None,
    apply=lambda img, record: flip(img, horizontal=True),
    help="mirror the image left-right",
    equivalents={"torchvision": "RandomHorizontalFlip", "albumentations": "HorizontalFlip"},
))  # fmt: skip

vflip = register_op(Op(
    "vflip", "geometry", {"p": probability(0.5, "a vertical flip")},
    draw=lambda rng, params, size: {} if _gate(rng, params["p"]) else None,
    apply=lambda img, record: flip(img, horizontal=False),
    help="mirror the image top-bottom",
    equivalents={"torchvision": "RandomVerticalFlip", "albumentations": "VerticalFlip"},
))  # fmt: skip


def _draw_rotate90(rng, params, size):
    if not _gate(rng, params["p"]):
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


def _size_hw(params) -> tuple[int, int]:
    width, height = params["size"]
    return height, width


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


def _draw_center_crop(rng, params, size):
    out_h, out_w = _size_hw(params)
    # torchvision pads a too-small image symmetrically, then takes the centre
    return {"top": int(round((size[0] - out_h) / 2.0)), "left": int(round((size[1] - out_w) / 2.0)),
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
