"""The classic ``augment`` stage: a fixed-order group of :class:`~genlab.transforms.op.Op` s.

``augment(hflip=0.5, rotate90=True, crop_p=0.3, ...)`` is the classic post's stage, kept with
its parameters and its bytes. It is built from the op model like every other augmentation:
each of its ten members is an :class:`Op` (``draw(rng, params, (height, width))`` then
``apply(image, record)``), run in this fixed order: hflip, vflip, rotate90, rotation, crop,
brightness, contrast, saturation, noise, cutout. ``hflip`` and ``vflip`` are the registered
ops themselves; the others keep the draws and kernels (:mod:`genlab.ops.classic`) that genlab
0.1 and 0.2 had, so saved specs give the same bytes.

Two things are kept from 0.1 for those bytes, and only here:

- every member consumes a fixed number of uniforms whatever its parameters (switching one
  off never shifts another's draws), so a sample always takes 23 uniforms;
- the random stream: ``"augment"``, or ``"augment/{seed}"`` with the stage's own ``seed``
  parameter (:func:`classic_stream`), where ops draw from
  :func:`~genlab.transforms.op.stream_name` (name, occurrence and the pipeline's
  ``augment_seed``). A "new draw" of a classic ``augment`` changes its ``seed`` parameter.

Records are op records, ``{"op": member, **drawn}``, one per applied member;
:func:`genlab.transforms.replay` replays them like any other op's.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..batch import Batch
from ..ops import classic as kernels
from ..ops.geometry import copy_view, quarter_turns
from ..params import Float, HeightWidth, Int, Param, validate_params
from ..seeding import sample_rngs
from ..stages.protocol import stage
from .geometry import hflip, vflip
from .op import Op

__all__ = [
    "AUGMENT_DEFAULTS",
    "AUGMENT_OPS",
    "AUGMENT_PARAMS",
    "Member",
    "apply_all",
    "augment",
    "augment_image",
    "check_augment_params",
    "classic_stream",
    "draw_all",
]


def _p(default: float, what: str) -> Float:
    return Float(default, low=0.0, high=1.0, help=f"probability of {what}")


#: The declared parameters of the ``augment`` stage (type, default, range, help): one
#: probability per member plus its magnitude. Only ``hflip`` is on by default; magnitudes are
#: ready for when a probability is raised.
AUGMENT_PARAMS: dict[str, Param] = {
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


@dataclass(frozen=True)
class Member:
    """One op of the classic ``augment``, and which of ``augment``'s parameters feed it.

    Attributes
    ----------
    op : Op
        The op: its draw consumes a fixed number of uniforms, whatever its parameters.
    params : tuple of str
        The ``augment`` parameters it reads, its probability first, then its magnitude if any.
    op_params : tuple of str
        The op's own parameter names they feed, in the same order (``"p"``, ``"degrees"``, ...).
    """

    op: Op
    params: tuple[str, ...]
    op_params: tuple[str, ...] = ("p",)

    @property
    def name(self) -> str:
        """The op's name, also the ``"op"`` field of its records."""
        return self.op.name

    def apply(self, img: np.ndarray, record: Mapping) -> np.ndarray:
        """The op's apply: same shape and dtype; never writes into ``img``."""
        return self.op.apply(img, record)

    def draw(self, rng: np.random.Generator, params: Mapping, size: tuple[int, int]) -> dict | None:
        """The op's draw, from ``augment``'s parameters."""
        own = {mine: params[theirs] for theirs, mine in zip(self.params, self.op_params)}
        return self.op.draw(rng, own, HeightWidth(*size[:2]))


def _symmetric(u: float, magnitude: float) -> float:
    """Map ``u`` in [0, 1) to [-magnitude, magnitude)."""
    return (2.0 * u - 1.0) * magnitude


def _draw_rotate90(rng, params, size):
    u = rng.random(2)
    if not u[0] < params["p"]:
        return None
    if size.height != size.width:  # a quarter turn would change the shape; a half turn does not
        return {"k": 2}
    return {"k": 1 + min(int(u[1] * 3), 2)}


def _draw_rotation(rng, params, size):
    u = rng.random(2)
    if not u[0] < params["p"] or params["degrees"] == 0:
        return None
    return {"angle": round(float(_symmetric(u[1], params["degrees"])), 2)}


_LOG_ASPECT = (math.log(3 / 4), math.log(4 / 3))


def _draw_crop(rng, params, size):
    u = rng.random(5)
    if not u[0] < params["p"]:
        return None
    height, width = size
    area = (params["scale"] + u[1] * (1.0 - params["scale"])) * height * width
    aspect = math.exp(_LOG_ASPECT[0] + u[2] * (_LOG_ASPECT[1] - _LOG_ASPECT[0]))
    crop_w = min(width, max(1, round(math.sqrt(area * aspect))))
    crop_h = min(height, max(1, round(math.sqrt(area / aspect))))
    top = min(int(u[3] * (height - crop_h + 1)), height - crop_h)
    left = min(int(u[4] * (width - crop_w + 1)), width - crop_w)
    return {"top": top, "left": left, "height": crop_h, "width": crop_w}


def _draw_factor(rng, params, size):
    u = rng.random(2)
    if not u[0] < params["p"] or params["magnitude"] == 0:
        return None
    return {"factor": round(float(1.0 + _symmetric(u[1], params["magnitude"])), 4)}


def _draw_noise(rng, params, size):
    u = rng.random(2)
    if not u[0] < params["p"] or params["std"] == 0:
        return None
    return {"std": float(params["std"]), "seed": int(u[1] * 2**32)}


def _draw_cutout(rng, params, size):
    u = rng.random(3)
    if not u[0] < params["p"]:
        return None
    height, width = size
    side = min(height, width, round(params["size"] * min(height, width)))
    if side == 0:
        return None
    top = min(int(u[1] * (height - side + 1)), height - side)
    left = min(int(u[2] * (width - side + 1)), width - side)
    return {"top": top, "left": left, "size": side}


def _member(name, kind, draw, apply, help, **params: str) -> Member:
    """A member op declared from ``augment``'s own parameters (``params``: op name -> augment name)."""
    op = Op(name, kind, {mine: AUGMENT_PARAMS[theirs] for mine, theirs in params.items()},
            draw=draw, apply=apply, help=help)  # fmt: skip
    return Member(op, tuple(params.values()), tuple(params))


def _colour(name: str, kernel) -> Member:
    return _member(name, "colour", _draw_factor, lambda img, r: kernel(img, r["factor"]),
                   f"{name} factor drawn from [1-m, 1+m]", p=f"{name}_p", magnitude=name)  # fmt: skip


#: The members of the classic ``augment``, in the order they run.
AUGMENT_OPS: tuple[Member, ...] = (
    Member(hflip, ("hflip",)),
    Member(vflip, ("vflip",)),
    _member("rotate90", "geometry", _draw_rotate90, lambda img, r: quarter_turns(img, r["k"]),
            "a turn by a random multiple of 90 degrees (half turns on non-square images)", p="rotate90"),
    _member("rotation", "geometry", _draw_rotation, lambda img, r: kernels.rotate_same_size(img, r["angle"]),
            "a rotation by a random angle, same size, black corners", p="rotation_p", degrees="rotation_degrees"),
    _member("crop", "geometry", _draw_crop,
            lambda img, r: kernels.crop_resize_back(img, r["top"], r["left"], r["height"], r["width"]),
            "a random crop resized back to the input size", p="crop_p", scale="crop_scale"),
    _colour("brightness", kernels.scale_levels),
    _colour("contrast", kernels.blend_with_mean),
    _colour("saturation", kernels.blend_with_grey),
    _member("noise", "noise", _draw_noise, lambda img, r: kernels.add_gaussian_noise(img, r["std"], r["seed"]),
            "added gaussian noise", p="noise_p", std="noise_std"),
    _member("cutout", "noise", _draw_cutout, lambda img, r: kernels.fill_square(img, r["top"], r["left"], r["size"]),
            "one black square", p="cutout_p", size="cutout_size"),
)  # fmt: skip

MEMBERS: dict[str, Member] = {m.name: m for m in AUGMENT_OPS}


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
    """Draw what every member does to one image of ``shape``.

    Always consumes the same number of uniforms from ``rng``, whatever ``params`` say.

    Parameters
    ----------
    rng : numpy.random.Generator
        The sample's generator.
    params : mapping or None
        ``augment``'s parameters, already checked (:func:`check_augment_params` does that);
        missing ones take their defaults.
    shape : sequence of int
        ``(height, width, ...)`` of the image.

    Returns
    -------
    list of dict
        One record per applied member, in order: ``{"op": name, **drawn}``.
    """
    params = {**AUGMENT_DEFAULTS, **(params or {})}
    size = HeightWidth(int(shape[0]), int(shape[1]))  # shape: (height, width, channels)
    records = []
    for member in AUGMENT_OPS:
        drawn = member.draw(rng, params, size)
        if drawn is not None:
            records.append({"op": member.name, **drawn})
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
        if name not in MEMBERS:
            raise ValueError(f"unknown augment op {name!r} in record {dict(record)!r}")
        out = MEMBERS[name].apply(out, record)
    return np.ascontiguousarray(out)


def augment_image(
    img: np.ndarray, rng: np.random.Generator, params: Mapping[str, float] | None = None
) -> tuple[np.ndarray, list[dict]]:
    """Draw and apply the classic augmentations to one image: ``(augmented, records)``."""
    records = draw_all(rng, check_augment_params(params), img.shape)
    return apply_all(img, records), records


def classic_stream(seed: int = 0) -> str:
    """The random stream of the classic ``augment`` (genlab 0.1's scheme, kept for saved specs).

    >>> classic_stream(), classic_stream(3)
    ('augment', 'augment/3')
    """
    return "augment" if seed == 0 else f"augment/{seed}"


@stage(
    params={
        **AUGMENT_PARAMS,
        "seed": Int(
            0, low=0, high=2**31 - 1, help="change it for new random draws on the same images"
        ),
    }
)
def augment(batch: Batch, *, seed: int, **params) -> Batch:
    """Apply the enabled random augmentations to each uint8 image of the batch.

    Every sample's draws come from its own generator (seed, :func:`classic_stream`, epoch,
    sample key), so they do not depend on the batch it lands in, on other stages, or on worker
    count. ``seed`` is mixed into this stage's draws only (0: the pipeline seed alone), so a new
    draw leaves the sample order, and every other stage, as it was.
    """
    x = batch.x
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4:
        got = (
            f"{x.dtype} array of shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        )
        raise TypeError(
            f"augment works on uint8 N x H x W x 3 images (put it before rescale_images), got {got}"
        )
    out = np.empty_like(x)
    drawn = []
    for i, rng in enumerate(sample_rngs(batch.info, classic_stream(seed), len(x))):
        records = draw_all(rng, params, x[i].shape)
        _apply_into(out[i], x[i], records)
        drawn.append(records)
    return batch.replace(x=out, applied=batch.info.with_applied(drawn))


#: The members whose kernels only move pixels by index, as NumPy views of their input.
_AS_VIEW = {
    "hflip": lambda img, record: img[:, ::-1],
    "vflip": lambda img, record: img[::-1],
    "rotate90": lambda img, record: np.rot90(img, record["k"]),
}


def _apply_into(dest: np.ndarray, img: np.ndarray, records: Sequence[Mapping]) -> None:
    """``dest[...] = apply_all(img, records)`` with fewer copies: the leading flips and quarter
    turns (the default chain's only members) are composed as one view of ``img`` and copied
    once, straight into ``dest``; the members after them run as :func:`apply_all` runs them.
    The same bytes: a view moves each pixel where the kernels would (tested against apply_all)."""
    view, done = img, 0
    while done < len(records) and records[done].get("op") in _AS_VIEW:
        view = _AS_VIEW[records[done]["op"]](view, records[done])
        done += 1
    if done == len(records):
        copy_view(dest, view)
        return
    if done:  # the members after the view take a contiguous image, as from apply_all
        moved = np.empty(view.shape, img.dtype)
        copy_view(moved, view)
        view = moved
    dest[...] = apply_all(view, records[done:])
