"""Augmentation policies: RandAugment, TrivialAugment Wide and AutoAugment.

The op space, the magnitude of every bin and the signs follow torchvision.transforms.v2
exactly (``RandAugment``, ``TrivialAugmentWide``, ``AutoAugment``): a policy draws which
primitive operations to apply and their magnitudes, and records them, so a record replays
on its own::

    {"ops": [{"name": "ShearX", "magnitude": -0.09}, {"name": "Equalize"}],
     "resample": "nearest", "fill": [0.0, 0.0, 0.0]}

Magnitudes mean what they mean in torchvision: shears are ``tan`` of the shear angle,
translations pixels (truncated to whole pixels), rotations degrees counter-clockwise,
Brightness/Color/Contrast/Sharpness ``factor - 1``, Posterize bits kept, Solarize the
threshold as a fraction of 255.

>>> import numpy as np
>>> from genlab.transforms import get_op
>>> img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
>>> out, record = get_op("rand_augment").on_image(img, np.random.default_rng(1), num_ops=2)
>>> record["ops"]
[{'name': 'Brightness', 'magnitude': 0.27}, {'name': 'Color', 'magnitude': -0.27}]
>>> bool((get_op("rand_augment").apply(img, record) == out).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops.colour import (
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    equalize,
    invert,
    posterize,
    solarize,
)
from ..ops.geometry import affine_by, inverse_affine_matrix, rotate
from ..ops.targets_geometry import affine_forward
from ..params import Choice, Int
from .op import Op, fill_param, register_op
from .target_kernels import register_target_kernel, warp_kernel

__all__ = [
    "PRIMITIVES",
    "RAND_AUGMENT_SPACE",
    "TRIVIAL_AUGMENT_WIDE_SPACE",
    "AUTO_AUGMENT_SPACE",
    "AUTO_AUGMENT_POLICIES",
    "apply_primitive",
    "rand_augment",
    "trivial_augment_wide",
    "auto_augment",
]


# ----------------------------------------------------------------------------- primitives


def _shear(axis: int) -> Callable:
    def apply(img, m, resample, fill):
        shear = [0.0, 0.0]
        shear[axis] = math.degrees(math.atan(m))  # torchvision: (1, tan(level), 0, 0, 1, 0)
        return affine_by(img, shear=shear, center=(0, 0), resample=resample, fill=fill)

    return apply


def _translate(axis: int) -> Callable:
    def apply(img, m, resample, fill):
        translate = [0, 0]
        translate[axis] = int(m)
        return affine_by(img, translate=translate, resample=resample, fill=fill)

    return apply


#: name -> ``apply(img, magnitude, resample, fill)``: torchvision's ``_apply_image_or_video_transform``.
PRIMITIVES: dict[str, Callable[[np.ndarray, float, str, Any], np.ndarray]] = {
    "Identity": lambda img, m, resample, fill: img,
    "ShearX": _shear(0),
    "ShearY": _shear(1),
    "TranslateX": _translate(0),
    "TranslateY": _translate(1),
    "Rotate": lambda img, m, resample, fill: rotate(img, m, resample=resample, fill=fill),
    "Brightness": lambda img, m, resample, fill: adjust_brightness(img, 1.0 + m),
    "Color": lambda img, m, resample, fill: adjust_saturation(img, 1.0 + m),
    "Contrast": lambda img, m, resample, fill: adjust_contrast(img, 1.0 + m),
    "Sharpness": lambda img, m, resample, fill: adjust_sharpness(img, 1.0 + m),
    "Posterize": lambda img, m, resample, fill: posterize(img, int(m)),
    "Solarize": lambda img, m, resample, fill: solarize(img, 255.0 * m),
    "AutoContrast": lambda img, m, resample, fill: autocontrast(img),
    "Equalize": lambda img, m, resample, fill: equalize(img),
    "Invert": lambda img, m, resample, fill: invert(img),
}


def apply_primitive(img: np.ndarray, op: Mapping[str, Any], resample: str, fill) -> np.ndarray:
    """Apply one policy entry ``{"name": ..., "magnitude": ...}`` (magnitude 0 when absent)."""
    try:
        primitive = PRIMITIVES[op["name"]]
    except KeyError:
        raise ValueError(
            f"unknown policy operation {op.get('name')!r}; known: {list(PRIMITIVES)}"
        ) from None
    return primitive(img, float(op.get("magnitude", 0.0)), resample, fill)


def _apply_policy(img: np.ndarray, record: Mapping[str, Any]) -> np.ndarray:
    for op in record["ops"]:
        img = apply_primitive(img, op, record["resample"], record["fill"])
    return img


# ----------------------------------------------------------------------------- magnitude spaces

# name -> (magnitudes(num_bins, height, width) or None, signed), as torchvision's _AUGMENTATION_SPACE
Space = dict[str, tuple[Callable[[int, int, int], np.ndarray | None], bool]]


def _linear(high: float, low: float = 0.0) -> Callable[[int, int, int], np.ndarray]:
    return lambda bins, height, width: np.linspace(low, high, bins)


def _posterize_bits(span: int) -> Callable[[int, int, int], np.ndarray]:
    return lambda bins, height, width: np.round(8 - np.arange(bins) / ((bins - 1) / span)).astype(
        int
    )


def _none(bins: int, height: int, width: int) -> None:
    return None


_SHARED: Space = {
    "ShearX": (_linear(0.3), True),
    "ShearY": (_linear(0.3), True),
    "TranslateX": (lambda bins, height, width: np.linspace(0.0, 150.0 / 331.0 * width, bins), True),
    "TranslateY": (
        lambda bins, height, width: np.linspace(0.0, 150.0 / 331.0 * height, bins),
        True,
    ),
    "Rotate": (_linear(30.0), True),
    "Brightness": (_linear(0.9), True),
    "Color": (_linear(0.9), True),
    "Contrast": (_linear(0.9), True),
    "Sharpness": (_linear(0.9), True),
    "Posterize": (_posterize_bits(4), False),
    "Solarize": (_linear(0.0, low=1.0), False),
    "AutoContrast": (_none, False),
    "Equalize": (_none, False),
}

#: RandAugment's op space (torchvision ``RandAugment._AUGMENTATION_SPACE``).
RAND_AUGMENT_SPACE: Space = {"Identity": (_none, False), **_SHARED}

#: AutoAugment's op space: RandAugment's without Identity, with Invert.
AUTO_AUGMENT_SPACE: Space = {**_SHARED, "Invert": (_none, False)}

#: TrivialAugment Wide's op space: wider ranges.
TRIVIAL_AUGMENT_WIDE_SPACE: Space = {
    "Identity": (_none, False),
    "ShearX": (_linear(0.99), True),
    "ShearY": (_linear(0.99), True),
    "TranslateX": (_linear(32.0), True),
    "TranslateY": (_linear(32.0), True),
    "Rotate": (_linear(135.0), True),
    "Brightness": (_linear(0.99), True),
    "Color": (_linear(0.99), True),
    "Contrast": (_linear(0.99), True),
    "Sharpness": (_linear(0.99), True),
    "Posterize": (_posterize_bits(6), False),
    "Solarize": (_linear(0.0, low=1.0), False),
    "AutoContrast": (_none, False),
    "Equalize": (_none, False),
}


def _entry(rng, space: Space, name: str, bins: int, index: int | None, size) -> dict:
    """``{"name", "magnitude"}`` for bin ``index`` (None: a random bin), signed at random."""
    magnitudes_of, signed = space[name]
    magnitudes = magnitudes_of(bins, size[0], size[1])
    if magnitudes is None:
        return {"name": name}
    if index is None:
        index = int(rng.integers(bins))
    magnitude = float(magnitudes[index])
    if signed and rng.random() <= 0.5:
        magnitude = -magnitude
    return {"name": name, "magnitude": round(magnitude, 6) + 0.0}  # + 0.0: no -0.0 in records


def _record(ops: list[dict], params) -> dict:
    # filter and fill travel in the record, so it replays on its own
    return {"ops": ops, "resample": params["resample"], "fill": list(params["fill"])}


# ----------------------------------------------------------------------------- the policy ops


@dataclass(frozen=True, repr=False)
class _PolicyOp(Op):
    """An op whose parameters are also checked against each other (``check(values)``)."""

    check: Callable[[Mapping[str, Any]], None] | None = None

    def validate(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        values = super().validate(given)
        if self.check is not None:
            self.check(values)
        return values


def _policy_params(**params) -> dict:
    return {
        **params,
        "resample": Choice("nearest", choices=("nearest", "bilinear", "bicubic"),
                           help="resampling filter of shears, translations and rotations"),
        "fill": fill_param("pixels that geometric operations uncover"),
    }  # fmt: skip


def _draw_rand_augment(rng, params, size):
    names = list(RAND_AUGMENT_SPACE)
    ops = []
    for _ in range(params["num_ops"]):
        name = names[int(rng.integers(len(names)))]
        ops.append(
            _entry(
                rng,
                RAND_AUGMENT_SPACE,
                name,
                params["num_magnitude_bins"],
                params["magnitude"],
                size,
            )
        )
    return _record(ops, params)


def _check_rand_augment(values) -> None:
    if values["magnitude"] >= values["num_magnitude_bins"]:
        raise ValueError(
            f"rand_augment: parameter 'magnitude' must be below num_magnitude_bins "
            f"({values['num_magnitude_bins']}), got {values['magnitude']}"
        )


rand_augment = register_op(_PolicyOp(
    "rand_augment", "policy",
    _policy_params(
        num_ops=Int(2, low=0, high=16, help="how many operations to apply in a row"),
        magnitude=Int(9, low=0, high=100, help="magnitude bin of every operation (below num_magnitude_bins)"),
        num_magnitude_bins=Int(31, low=2, high=101, help="number of magnitude bins"),
    ),
    draw=_draw_rand_augment,
    apply=_apply_policy,
    help="RandAugment: num_ops operations picked at random, all at one magnitude",
    equivalents={"torchvision": "RandAugment"},
    check=_check_rand_augment,
))  # fmt: skip


def _draw_trivial_augment_wide(rng, params, size):
    names = list(TRIVIAL_AUGMENT_WIDE_SPACE)
    name = names[int(rng.integers(len(names)))]
    entry = _entry(rng, TRIVIAL_AUGMENT_WIDE_SPACE, name, params["num_magnitude_bins"], None, size)
    return _record([entry], params)


trivial_augment_wide = register_op(_PolicyOp(
    "trivial_augment_wide", "policy",
    _policy_params(num_magnitude_bins=Int(31, low=2, high=101, help="number of magnitude bins")),
    draw=_draw_trivial_augment_wide,
    apply=_apply_policy,
    help="TrivialAugment Wide: one operation picked at random, at a random magnitude",
    equivalents={"torchvision": "TrivialAugmentWide"},
))  # fmt: skip


#: AutoAugment's learned sub-policies: two (name, probability, magnitude bin of 10) each.
AUTO_AUGMENT_POLICIES: dict[str, list[tuple[tuple[str, float, int | None], ...]]] = {
    "imagenet": [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
        (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
        (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
        (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
        (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
        (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
        (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    "cifar10": [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
        (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
        (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
        (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
        (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
        (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
        (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
        (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
        (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
        (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
        (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
        (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
        (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
    "svhn": [
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
        (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
        (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
        (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
        (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
        (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ],
}


def _draw_auto_augment(rng, params, size):
    policies = AUTO_AUGMENT_POLICIES[params["policy"]]
    pick = int(rng.integers(len(policies)))
    ops = [
        _entry(rng, AUTO_AUGMENT_SPACE, name, 10, index, size)
        for name, probability, index in policies[pick]
        if rng.random() <= probability
    ]
    return {"sub_policy": pick, **_record(ops, params)}


auto_augment = register_op(_PolicyOp(
    "auto_augment", "policy",
    _policy_params(policy=Choice("imagenet", choices=tuple(AUTO_AUGMENT_POLICIES),
                                 help="the learned policy: which dataset it was searched on")),
    draw=_draw_auto_augment,
    apply=_apply_policy,
    help="AutoAugment: one of 25 learned pairs of operations, each applied with its probability",
    equivalents={"torchvision": "AutoAugment"},
))  # fmt: skip


# ----------------------------------------------------------------------------- target kernels


def _primitive_matrix(entry: Mapping[str, Any], size: tuple[int, int]) -> np.ndarray | None:
    """The point map of a geometric primitive (as its image kernel above), None for colour ones."""
    name, m = entry["name"], float(entry.get("magnitude", 0.0))
    centre = (size[1] * 0.5, size[0] * 0.5)
    if name in ("ShearX", "ShearY"):
        shear = [0.0, 0.0]
        shear[name == "ShearY"] = math.degrees(math.atan(m))
        return affine_forward(inverse_affine_matrix((0, 0), 0.0, shear=shear))
    if name in ("TranslateX", "TranslateY"):
        translate = [0, 0]
        translate[name == "TranslateY"] = int(m)
        return affine_forward(inverse_affine_matrix(centre, 0.0, translate))
    if name == "Rotate":  # Pillow's rotate: counter-clockwise about the middle
        return affine_forward(inverse_affine_matrix(centre, -m))
    return None


def _carry_policy(targets, record, size, fmt):
    """A policy's target kernel: each geometric primitive moves the targets, colour ones do not."""
    for entry in record["ops"]:
        if _primitive_matrix(entry, size) is None:
            continue
        kernel = warp_kernel(
            entry["name"],
            lambda img, r, entry=entry: apply_primitive(img, entry, r["resample"], r["fill"]),
            lambda r, s, entry=entry: (_primitive_matrix(entry, s), s),
        )
        targets, size = kernel(targets, record, size, fmt)
    return targets, size


for _policy in (rand_augment, trivial_augment_wide, auto_augment):
    register_target_kernel(_policy.name, _carry_policy)
