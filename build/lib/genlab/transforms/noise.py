"""Noise and erasing ops, with torchvision's parameter meanings."""

from __future__ import annotations

import math

from ..ops.noise import add_gaussian_noise, erase
from ..params import Float, Range
from .op import Op, fill_param, gate, probability, register_op

__all__ = ["gaussian_noise", "random_erasing"]


def _draw_noise(rng, params, size):
    if not gate(rng, params["p"]):
        return None
    # the noise itself is made in apply from this seed: a record stays a few bytes
    return {"mean": params["mean"], "sigma": params["sigma"], "seed": int(rng.integers(2**32))}


gaussian_noise = register_op(Op(
    "gaussian_noise", "noise",
    {
        "mean": Float(0.0, low=-1.0, high=1.0, help="noise mean as a fraction of the range (1 = 255 levels)"),
        "sigma": Float(0.1, low=0.0, high=1.0, step=0.005, help="noise standard deviation as a fraction of the range"),
        "p": probability(1.0, "adding noise"),
    },
    draw=_draw_noise,
    apply=lambda img, r: add_gaussian_noise(img, r["mean"], r["sigma"], r["seed"]),
    help="add Gaussian noise to every pixel (clipped to 0-255)",
    equivalents={"torchvision": "GaussianNoise", "albumentations": "GaussNoise"},
))  # fmt: skip


def erasing_box(rng, size, scale, ratio) -> tuple[int, int, int, int] | None:
    """torchvision's ``RandomErasing.get_params``: ``(top, left, height, width)`` or None.

    Up to ten tries at a box whose area is ``scale`` of the image and whose aspect
    (height / width, torchvision's meaning here) is log-uniform in ``ratio``.
    """
    height, width = size
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        area = height * width * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(*log_ratio))
        h = int(round(math.sqrt(area * aspect)))
        w = int(round(math.sqrt(area / aspect)))
        if h < height and w < width:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    return None


def _draw_erasing(rng, params, size):
    if not gate(rng, params["p"]):
        return None
    box = erasing_box(rng, size, params["scale"], params["ratio"])
    if box is None:
        return None
    top, left, height, width = box
    return {
        "top": top,
        "left": left,
        "height": height,
        "width": width,
        "fill": list(params["fill"]),
    }


random_erasing = register_op(Op(
    "random_erasing", "noise",
    {
        "scale": Range((0.02, 0.33), low=0.0, high=1.0, help="erased area as a fraction of the image: (min, max)"),
        "ratio": Range((0.3, 3.3), low=0.05, high=20.0, help="erased box aspect (height / width), log-uniform: (min, max)"),
        "fill": fill_param("the erased box"),
        "p": probability(0.5, "erasing a box"),
    },
    draw=_draw_erasing,
    apply=lambda img, r: erase(img, (r["top"], r["left"], r["height"], r["width"]), r["fill"]),
    help="paint a random box with fill (cutout)",
    equivalents={"torchvision": "RandomErasing", "albumentations": "Erasing"},
))  # fmt: skip
