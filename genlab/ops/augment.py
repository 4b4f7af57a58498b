"""Pure augmentation ops on uint8 ``H x W x 3`` images, with randomness drawn apart from applying.

Each :class:`AugmentOp` consumes a fixed number of uniforms in ``[0, 1)`` (whatever its
parameters, so switching one op off never shifts another op's draws), turns them into a small
JSON-serialisable record of what it will do (``draw``), and applies that record (``apply``).
A sample's records can therefore be stored, shown in a preview and replayed exactly with
:func:`apply_all`.

Ops run in this fixed order: hflip, vflip, rotate90, rotation, crop, brightness, contrast,
saturation, noise, cutout. Every op keeps the image shape, so batches stack.

Examples
--------
>>> import numpy as np
>>> img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
>>> out, records = augment_image(img, np.random.default_rng(0), {"hflip": 1.0})
>>> records
[{'op': 'hflip'}]
>>> bool((out == img[:, ::-1]).all()), bool((apply_all(img, records) == out).all())
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..params import Float, validate_params
from .geometry import flip, quarter_turns

__all__ = [
    "AUGMENT_DEFAULTS",
    "AUGMENT_PARAMS",
    "AUGMENT_OPS",
    "AugmentOp",
    "apply_all",
    "augment_image",
    "check_augment_params",
    "draw_all",
]

Drawn = dict  # JSON-serialisable values drawn for one op: {"k": 1}, {"angle": -12.5}, ...


@dataclass(frozen=True)
class AugmentOp:
    """One augmentation: how many uniforms it takes, how it draws, how it applies.

    Attributes
    ----------
    name : str
        The op's name, also the ``"op"`` field of its records.
    params : tuple of str
        The parameters it reads: its probability first, then its magnitude if any.
    n_uniforms : int
        Uniforms in ``[0, 1)`` that ``draw`` consumes, fixed whatever the parameters.
    draw : callable
        ``draw(u, params, shape) -> dict | None``: None when the op is not applied this time.
    apply : callable
        ``apply(img, drawn) -> img``: same shape and dtype; may return a view of ``img`` and
        never writes into it.
    """

    name: str
    params: tuple[str, ...]
    n_uniforms: int
    draw: Callable[[np.ndarray, Mapping[str, float], tuple[int, ...]], Drawn | None]
    apply: Callable[[np.ndarray, Mapping], np.ndarray]


# ----------------------------------------------------------------------------- helpers


def _gate(u: float, p: float) -> bool:
    """True with probability ``p`` for ``u`` uniform in [0, 1)."""
    return u < p


def _symmetric(u: float, magnitude: float) -> float:
    """Map ``u`` in [0, 1) to [-magnitude, magnitude)."""
    return (2.0 * u - 1.0) * magnitude


def _lut_apply(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Apply a pointwise float mapping of the 256 byte values, rounded and clipped."""
    lut = np.clip(np.rint(table), 0, 255).astype(np.uint8)
    return np.take(lut, img)


_LEVELS = np.arange(256, dtype=np.float32)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as PIL's convert("L")


# ----------------------------------------------------------------------------- ops


def _draw_hflip(u, params, shape):
    return {} if _gate(u[0], params["hflip"]) else None


def _apply_hflip(img, drawn):
    return flip(img, horizontal=True)


def _draw_vflip(u, params, shape):
    return {} if _gate(u[0], params["vflip"]) else None


def _apply_vflip(img, drawn):
    return flip(img, horizontal=False)


def _draw_rotate90(u, params, shape):
    if not _gate(u[0], params["rotate90"]):
        return None
    if shape[0] != shape[1]:  # a quarter turn would change the shape; a half turn does not
        return {"k": 2}
    return {"k": 1 + min(int(u[1] * 3), 2)}


def _apply_rotate90(img, drawn):
    return quarter_turns(img, drawn["k"])


def _draw_rotation(u, params, shape):
    degrees = params["rotation_degrees"]
    if not _gate(u[0], params["rotation_p"]) or degrees == 0:
        return None
    return {"angle": round(float(_symmetric(u[1], degrees)), 2)}


def _apply_rotation(img, drawn):
    """Rotate counter-clockwise by ``angle`` degrees about the centre, same size, black corners."""
    rotated = Image.fromarray(np.ascontiguousarray(img)).rotate(
        drawn["angle"], resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0)
    )
    return np.asarray(rotated)


_LOG_ASPECT = (math.log(3 / 4), math.log(4 / 3))


def _draw_crop(u, params, shape):
    if not _gate(u[0], params["crop_p"]):
        return None
    height, width = shape[0], shape[1]
    scale = params["crop_scale"]
    area = (scale + u[1] * (1.0 - scale)) * height * width
    aspect = math.exp(_LOG_ASPECT[0] + u[2] * (_LOG_ASPECT[1] - _LOG_ASPECT[0]))
    crop_w = min(width, max(1, round(math.sqrt(area * aspect))))
    crop_h = min(height, max(1, round(math.sqrt(area / aspect))))
    top = min(int(u[3] * (height - crop_h + 1)), height - crop_h)
    left = min(int(u[4] * (width - crop_w + 1)), width - crop_w)
    return {"top": top, "left": left, "height": crop_h, "width": crop_w}


def _apply_crop(img, drawn):
    """Cut the drawn box and resize it (bilinear) back to the input size."""
    top, left = drawn["top"], drawn["left"]
    box = (left, top, left + drawn["width"], top + drawn["height"])
    resized = Image.fromarray(np.ascontiguousarray(img)).resize(
        (img.shape[1], img.shape[0]), Image.Resampling.BILINEAR, box=box
    )
    return np.asarray(resized)


def _factor_drawer(p_name: str, magnitude_name: str):
    def draw(u, params, shape):
        magnitude = params[magnitude_name]
        if not _gate(u[0], params[p_name]) or magnitude == 0:
            return None
        return {"factor": round(float(1.0 + _symmetric(u[1], magnitude)), 4)}

    return draw


def _apply_brightness(img, drawn):
    """Multiply every channel by ``factor``."""
    return _lut_apply(img, _LEVELS * np.float32(drawn["factor"]))


def _apply_contrast(img, drawn):
    """Blend with the mean grey level: ``mean + factor * (img - mean)``."""
    mean = np.float32((img @ _LUMA).mean())
    return _lut_apply(img, mean + np.float32(drawn["factor"]) * (_LEVELS - mean))


def _apply_saturation(img, drawn):
    """Blend each pixel with its grey level: ``grey + factor * (img - grey)``."""
    factor = np.float32(drawn["factor"])
    grey = (img @ _LUMA)[:, :, np.newaxis] * (1 - factor)
    out = img * factor
    out += grey
    return np.clip(np.rint(out, out=out), 0, 255, out=out).astype(np.uint8)


def _draw_noise(u, params, shape):
    std = params["noise_std"]
    if not _gate(u[0], params["noise_p"]) or std == 0:
        return None
    return {"std": float(std), "seed": int(u[1] * 2**32)}


def _apply_noise(img, drawn):
    """Add gaussian noise of ``std`` (pixel units) generated from ``seed``."""
    noise = np.random.default_rng(drawn["seed"]).standard_normal(img.shape, dtype=np.float32)
    noise *= np.float32(drawn["std"])
    noise += img
    return np.clip(np.rint(noise, out=noise), 0, 255, out=noise).astype(np.uint8)


def _draw_cutout(u, params, shape):
    if not _gate(u[0], params["cutout_p"]):
        return None
    height, width = shape[0], shape[1]
    size = min(height, width, round(params["cutout_size"] * min(height, width)))
    if size == 0:
        return None
    top = min(int(u[1] * (height - size + 1)), height - size)
    left = min(int(u[2] * (width - size + 1)), width - size)
    return {"top": top, "left": left, "size": size}


def _apply_cutout(img, drawn):
    """Fill one ``size x size`` square with zeros."""
    out = np.array(img, copy=True, order="C")
    top, left, size = drawn["top"], drawn["left"], drawn["size"]
    out[top : top + size, left : left + size] = 0
    return out


AUGMENT_OPS: tuple[AugmentOp, ...] = (
    AugmentOp("hflip", ("hflip",), 1, _draw_hflip, _apply_hflip),
    AugmentOp("vflip", ("vflip",), 1, _draw_vflip, _apply_vflip),
    AugmentOp("rotate90", ("rotate90",), 2, _draw_rotate90, _apply_rotate90),
    AugmentOp("rotation", ("rotation_p", "rotation_degrees"), 2, _draw_rotation, _apply_rotation),
    AugmentOp("crop", ("crop_p", "crop_scale"), 5, _draw_crop, _apply_crop),
    AugmentOp(
        "brightness", ("brightness_p", "brightness"), 2,
        _factor_drawer("brightness_p", "brightness"), _apply_brightness,
    ),
    AugmentOp(
        "contrast", ("contrast_p", "contrast"), 2,
        _factor_drawer("contrast_p", "contrast"), _apply_contrast,
    ),
    AugmentOp(
        "saturation", ("saturation_p", "saturation"), 2,
        _factor_drawer("saturation_p", "saturation"), _apply_saturation,
    ),
    AugmentOp("noise", ("noise_p", "noise_std"), 2, _draw_noise, _apply_noise),
    AugmentOp("cutout", ("cutout_p", "cutout_size"), 3, _draw_cutout, _apply_cutout),
)  # fmt: skip

_OPS_BY_NAME = {op.name: op for op in AUGMENT_OPS}
_N_UNIFORMS = sum(op.n_uniforms for op in AUGMENT_OPS)


def _p(default: float, what: str) -> Float:
    return Float(default, low=0.0, high=1.0, help=f"probability of {what}")


#: The declared parameters of the ``augment`` stage (type, default, range, help): one
#: probability per op plus its magnitude. Only ``hflip`` is on by default; magnitudes are
#: ready for when a probability is raised.
AUGMENT_PARAMS: dict[str, Float] = {
    "hflip": _p(0.5, "a horizontal flip"),
    "vflip": _p(0.0, "a vertical flip"),
    "rotate90": _p(0.0, "a rotation by a random multiple of 90 degrees (True means 1)"),
    "rotation_p": _p(0.0, "a rotation by a random angle"),
    "rotation_degrees": Float(15.0, low=0.0, high=180.0, step=1.0, help="largest rotation angle, degrees"),
    "crop_p": _p(0.0, "a random resized crop"),
    "crop_scale": Float(0.5, low=0.05, high=1.0, help="smallest crop area, as a fraction of the image"),
    "brightness_p": _p(0.0, "a brightness change"),
    "brightness": Float(0.2, low=0.0, high=1.0, help="brightness factor drawn from [1-m, 1+m]"),
    "contrast_p": _p(0.0, "a contrast change"),
    "contrast": Float(0.2, low=0.0, high=1.0, help="contrast factor drawn from [1-m, 1+m]"),
    "saturation_p": _p(0.0, "a saturation change"),
    "saturation": Float(0.2, low=0.0, high=1.0, help="saturation factor drawn from [1-m, 1+m]"),
    "noise_p": _p(0.0, "added gaussian noise"),
    "noise_std": Float(10.0, low=0.0, high=100.0, step=0.5, help="noise standard deviation, in 0-255 pixel units"),
    "cutout_p": _p(0.0, "a cutout (one black square)"),
    "cutout_size": Float(0.25, low=0.01, high=0.9, help="cutout side as a fraction of the image side"),
}  # fmt: skip

AUGMENT_DEFAULTS: dict[str, float] = {name: p.default for name, p in AUGMENT_PARAMS.items()}


def check_augment_params(params: Mapping[str, float] | None = None) -> dict[str, float]:
    """Validate augmentation parameters and fill in the defaults.

    Raises
    ------
    ValueError
        Naming the unknown or out-of-range parameter and its value.

    Examples
    --------
    >>> check_augment_params({"vflip": True})["vflip"]
    1.0
    >>> check_augment_params({"crop_scale": 0})
    Traceback (most recent call last):
    ...
    ValueError: augment: parameter 'crop_scale' must be between 0.05 and 1.0, got 0.0
    """
    return validate_params("augment", AUGMENT_PARAMS, dict(params or {}))


def draw_all(
    rng: np.random.Generator, params: Mapping[str, float] | None, shape: Sequence[int]
) -> list[dict]:
    """Draw what every op does to one image of ``shape``.

    Always consumes the same number of uniforms from ``rng``, whatever ``params`` say.

    Parameters
    ----------
    rng : numpy.random.Generator
        The sample's generator.
    params : mapping or None
        Augmentation parameters, already checked (:func:`check_augment_params` does that);
        missing ones take their defaults.
    shape : sequence of int
        ``(height, width, ...)`` of the image.

    Returns
    -------
    list of dict
        One record per applied op, in order: ``{"op": name, **drawn}``.
    """
    params = {**AUGMENT_DEFAULTS, **(params or {})}
    shape = tuple(int(n) for n in shape)
    uniforms = rng.random(_N_UNIFORMS)
    records = []
    start = 0
    for op in AUGMENT_OPS:
        drawn = op.draw(uniforms[start : start + op.n_uniforms], params, shape)
        start += op.n_uniforms
        if drawn is not None:
            records.append({"op": op.name, **drawn})
    return records


def apply_all(img: np.ndarray, records: Sequence[Mapping]) -> np.ndarray:
    """Apply records from :func:`draw_all` in order (replay).

    Parameters
    ----------
    img : numpy.ndarray
        uint8 ``H x W x 3`` image; it is not modified.
    records : sequence of dict
        What to apply, as returned by :func:`draw_all` or stored in ``batch.info.applied``.

    Returns
    -------
    numpy.ndarray
        C-contiguous uint8 image of the same shape (``img`` itself when ``records`` is empty).
    """
    if not (isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3):
        got = (
            f"{img.dtype} array of shape {img.shape}" if isinstance(img, np.ndarray) else type(img)
        )
        raise ValueError(f"img must be a uint8 H x W x 3 array, got {got}")
    out = img
    for record in records:
        name = record.get("op")
        if name not in _OPS_BY_NAME:
            raise ValueError(f"unknown augment op {name!r} in record {dict(record)!r}")
        out = _OPS_BY_NAME[name].apply(out, record)
    return np.ascontiguousarray(out)


def augment_image(
    img: np.ndarray, rng: np.random.Generator, params: Mapping[str, float] | None = None
) -> tuple[np.ndarray, list[dict]]:
    """Draw and apply augmentations to one image.

    Parameters
    ----------
    img : numpy.ndarray
        uint8 ``H x W x 3`` image; it is not modified.
    rng : numpy.random.Generator
        The sample's generator.
    params : mapping, optional
        Augmentation parameters (see :func:`check_augment_params`).

    Returns
    -------
    (numpy.ndarray, list of dict)
        The augmented image (same shape and dtype) and the records that reproduce it.
    """
    records = draw_all(rng, check_augment_params(params), img.shape)
    return apply_all(img, records), records
