"""Colour ops, with torchvision's parameter meanings."""

from __future__ import annotations

from ..ops.colour import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation
from ..params import Float
from .geometry import probability
from .op import Op, register_op

__all__ = ["color_jitter"]

_JITTER = {
    "brightness": adjust_brightness,
    "contrast": adjust_contrast,
    "saturation": adjust_saturation,
    "hue": adjust_hue,
}


def _draw_color_jitter(rng, params, size):
    if not rng.random() < params["p"]:
        return None
    order = [int(i) for i in rng.permutation(4)]
    factors = {}
    for name in ("brightness", "contrast", "saturation"):
        m = params[name]
        factors[name] = round(float(rng.uniform(max(0.0, 1.0 - m), 1.0 + m)), 4)
    factors["hue"] = round(float(rng.uniform(-params["hue"], params["hue"])), 4)
    names = list(_JITTER)
    record = {"order": [names[i] for i in order if params[names[i]] > 0]}
    record.update({name: factors[name] for name in record["order"]})
    return record if record["order"] else None


def _apply_color_jitter(img, record):
    for name in record["order"]:
        img = _JITTER[name](img, record[name])
    return img


color_jitter = register_op(Op(
    "color_jitter", "colour",
    {
        "brightness": Float(0.4, low=0.0, high=2.0, help="brightness factor drawn from [max(0, 1 - m), 1 + m]"),
        "contrast": Float(0.4, low=0.0, high=2.0, help="contrast factor drawn from [max(0, 1 - m), 1 + m]"),
        "saturation": Float(0.4, low=0.0, high=2.0, help="saturation factor drawn from [max(0, 1 - m), 1 + m]"),
        "hue": Float(0.0, low=0.0, high=0.5, help="hue shift drawn from [-m, m] (fraction of the colour wheel)"),
        "p": probability(1.0, "jittering an image"),
    },
    draw=_draw_color_jitter,
    apply=_apply_color_jitter,
    help="change brightness, contrast, saturation and hue by random factors, in random order",
    equivalents={"torchvision": "ColorJitter", "albumentations": "ColorJitter"},
))  # fmt: skip
