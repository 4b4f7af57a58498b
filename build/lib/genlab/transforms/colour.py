"""Colour ops, with torchvision's parameter meanings."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from ..ops import colour as pure  # the pure functions, named like the ops below
from ..ops.colour import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation
from ..params import Float, Int, Range, Size
from .op import Op, gate, probability, register_op

__all__ = [
    "color_jitter",
    "grayscale",
    "gaussian_blur",
    "sharpness",
    "posterize",
    "solarize",
    "equalize",
    "autocontrast",
    "invert",
    "jpeg",
]

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


def _jitter_strength(what: str) -> Float:
    return Float(0.4, low=0.0, high=2.0, help=f"{what} factor drawn from [max(0, 1 - m), 1 + m]")


color_jitter = register_op(Op(
    "color_jitter", "colour",
    {
        "brightness": _jitter_strength("brightness"),
        "contrast": _jitter_strength("contrast"),
        "saturation": _jitter_strength("saturation"),
        "hue": Float(0.0, low=0.0, high=0.5, help="hue shift drawn from [-m, m] (fraction of the colour wheel)"),
        "p": probability(1.0, "jittering an image"),
    },
    draw=_draw_color_jitter,
    apply=_apply_color_jitter,
    help="change brightness, contrast, saturation and hue by random factors, in random order",
    equivalents={"torchvision": "ColorJitter", "albumentations": "ColorJitter"},
))  # fmt: skip


# ----------------------------------------------------------------------------- the rest


@dataclass(frozen=True)
class KernelSize(Size):
    """An odd ``(x, y)`` kernel size; one number ``k`` stands for ``(k, k)``."""

    def coerce(self, value: Any) -> tuple[int, int]:
        single = isinstance(value, numbers.Real) and not isinstance(value, bool)
        out = super().coerce((value, value) if single else value)
        if any(v % 2 == 0 for v in out):
            raise ValueError(f"must be odd, got {value!r}")
        return out


@dataclass(frozen=True)
class WholeRange(Range):
    """A ``(low, high)`` interval of whole numbers, both ends included."""

    def coerce(self, value: Any) -> tuple[int, int]:
        out = super().coerce(value)
        if not all(float(v).is_integer() for v in out):
            raise ValueError(f"must hold whole numbers, got {value!r}")
        return int(out[0]), int(out[1])


def _gated(**fields: str):
    """A draw applying with probability ``p``, recording ``{field: params[name]}``."""

    def draw(rng, params, size):
        return {f: params[name] for f, name in fields.items()} if gate(rng, params["p"]) else None

    return draw


def _sometimes(name: str, p: float, what: str, function, **fields) -> Op:
    """Register a colour op whose only parameter is its probability ``p`` of applying ``function``."""
    return register_op(Op(
        name, "colour", {"p": probability(p, what)},
        draw=_gated(), apply=lambda img, record: function(img), **fields,
    ))  # fmt: skip


grayscale = _sometimes(
    "grayscale", 0.1, "turning an image grey", pure.to_grayscale,
    help="turn the image grey (three equal channels, ITU-R 601 luma)",
    equivalents={"torchvision": "RandomGrayscale", "albumentations": "ToGray"},
)  # fmt: skip


def _draw_blur(rng, params, size):
    if not gate(rng, params["p"]):
        return None
    sigma = round(float(rng.uniform(*params["sigma"])), 4)
    return {"kernel_size": list(params["kernel_size"]), "sigma": sigma}


gaussian_blur = register_op(Op(
    "gaussian_blur", "colour",
    {
        "kernel_size": KernelSize((9, 9), low=1, high=255, help="odd (x, y) size of the kernel"),
        "sigma": Range((0.1, 2.0), low=0.01, high=100.0, help="standard deviation range in pixels"),
        "p": probability(1.0, "blurring an image"),
    },
    draw=_draw_blur,
    apply=lambda img, r: pure.gaussian_blur(img, r["kernel_size"], r["sigma"]),
    help="blur with a Gaussian of random width",
    equivalents={"torchvision": "GaussianBlur", "albumentations": "GaussianBlur"},
))  # fmt: skip

sharpness = register_op(Op(
    "sharpness", "colour",
    {
        "sharpness_factor": Float(2.0, low=0.0, high=10.0, help="0 smooths, 1 keeps, 2 doubles the sharpness"),
        "p": probability(0.5, "adjusting the sharpness"),
    },
    draw=_gated(factor="sharpness_factor"),
    apply=lambda img, r: pure.adjust_sharpness(img, r["factor"]),
    help="sharpen (or smooth) by a fixed factor",
    equivalents={"torchvision": "RandomAdjustSharpness", "albumentations": "Sharpen"},
))  # fmt: skip

posterize = register_op(Op(
    "posterize", "colour",
    {
        "bits": Int(4, low=0, high=8, help="bits kept per channel (2 ** bits levels)"),
        "p": probability(0.5, "posterizing"),
    },
    draw=_gated(bits="bits"),
    apply=lambda img, r: pure.posterize(img, r["bits"]),
    help="keep fewer levels per channel",
    equivalents={"torchvision": "RandomPosterize", "albumentations": "Posterize"},
))  # fmt: skip

solarize = register_op(Op(
    "solarize", "colour",
    {
        "threshold": Float(128.0, low=0.0, high=256.0, step=1.0, help="values at or above it are inverted"),
        "p": probability(0.5, "solarizing"),
    },
    draw=_gated(threshold="threshold"),
    apply=lambda img, r: pure.solarize(img, r["threshold"]),
    help="invert the bright values",
    equivalents={"torchvision": "RandomSolarize", "albumentations": "Solarize"},
))  # fmt: skip

equalize = _sometimes(
    "equalize", 0.5, "equalising", pure.equalize,
    help="flatten the histogram of each channel",
    equivalents={"torchvision": "RandomEqualize", "albumentations": "Equalize"},
)  # fmt: skip

autocontrast = _sometimes(
    "autocontrast", 0.5, "stretching the contrast", pure.autocontrast,
    help="stretch each channel to the full 0-255 range",
    equivalents={"torchvision": "RandomAutocontrast", "albumentations": "AutoContrast"},
)  # fmt: skip

invert = _sometimes(
    "invert", 0.5, "inverting", pure.invert,
    help="the negative: 255 - value",
    equivalents={"torchvision": "RandomInvert", "albumentations": "InvertImg"},
)  # fmt: skip


def _draw_jpeg(rng, params, size):
    if not gate(rng, params["p"]):
        return None
    low, high = params["quality"]
    return {"quality": int(rng.integers(low, high + 1))}


jpeg = register_op(Op(
    "jpeg", "colour",
    {
        "quality": WholeRange((50, 95), low=1, high=100, step=1.0, help="JPEG quality range, both ends included"),
        "p": probability(1.0, "re-encoding"),
    },
    draw=_draw_jpeg,
    apply=lambda img, r: pure.jpeg_roundtrip(img, r["quality"]),
    help="encode as JPEG at a random quality and decode (compression artefacts)",
    equivalents={"torchvision": "JPEG", "albumentations": "ImageCompression"},
))  # fmt: skip
