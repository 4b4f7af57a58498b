"""Batch mixing: MixUp and CutMix, which mix each sample with its neighbour in the batch.

As in torchvision.transforms.v2, sample ``i`` is mixed with sample ``i - 1`` (the batch
rolled by one; the first sample with the last). Each sample draws its own ``lam`` from
``Beta(alpha, alpha)`` with its own generator, so the draws do not depend on the number of
workers. One-hot labels become soft labels, float32 rows summing to 1:
``lam * y[i] + (1 - lam) * y[partner]``. Multi-label (multi-hot) rows mix the same way;
their rows then sum to the mixed label mass, ``lam * y[i].sum() + (1 - lam) * y[j].sum()``.

Every sample gets a record ``{"op": "mixup", "partner": j, "lam": l}`` (``lam=1`` and
``partner=i`` when the ``p`` gate fails), so records stay aligned across the batch;
CutMix adds the pasted box, ``top, left, height, width``. :func:`replay_batch` re-applies
a batch's records.

>>> import numpy as np
>>> from genlab import Batch, BatchInfo, GeneratorPipeline
>>> from genlab.transforms import get_op
>>> x = np.stack([np.full((2, 2, 3), v, np.uint8) for v in (0, 100, 200)])
>>> batch = Batch(x, np.eye(3, dtype=np.int64), BatchInfo(seed=1, keys=np.arange(3)))
>>> out = next(GeneratorPipeline(iter([batch]), get_op("mixup")()))
>>> out.y.sum(axis=1).round(6).tolist()
[1.0, 1.0, 1.0]
>>> [r[0]["partner"] for r in out.info.applied]
[2, 0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..batch import BatchInfo
from ..ops.targets_paste import paste_targets
from ..params import Float
from .op import BatchOp, get_op, probability, register_op
from .records import replay, replay_targets
from .target_kernels import carry_mixed, register_mixed_kernel

__all__ = ["mixup", "cutmix", "replay_batch"]


def _mixing_params() -> dict:
    return {
        "alpha": Float(1.0, low=0.001, high=100.0, help="lam is drawn from Beta(alpha, alpha)"),
        "p": probability(1.0, "mixing a sample"),
    }


def _draw_mixup(rngs, params, shape) -> list[dict]:
    n = len(rngs)
    records = []
    for i, rng in enumerate(rngs):
        mixed = rng.random() < params["p"]  # every draw is made, so later draws never shift
        lam = round(float(rng.beta(params["alpha"], params["alpha"])), 6)
        records.append(
            {"partner": (i - 1) % n, "lam": lam} if mixed else {"partner": i, "lam": 1.0}
        )
    return records


def _draw_cutmix(rngs, params, shape) -> list[dict]:
    """torchvision's CutMix box: centre uniform, sides ``sqrt(1 - lam)`` of the image's, clipped.

    ``lam`` is then the fraction of the image left uncovered by the box (what the label gets).
    """
    n, height, width = len(rngs), shape[1], shape[2]
    records = []
    for i, rng in enumerate(rngs):
        mixed = rng.random() < params["p"]
        lam = float(rng.beta(params["alpha"], params["alpha"]))
        centre_x, centre_y = int(rng.integers(width)), int(rng.integers(height))
        if not mixed:
            records.append({"partner": i, "lam": 1.0})
            continue
        r = 0.5 * math.sqrt(1.0 - lam)
        half_w, half_h = int(r * width), int(r * height)
        left, top = max(centre_x - half_w, 0), max(centre_y - half_h, 0)
        right, bottom = min(centre_x + half_w, width), min(centre_y + half_h, height)
        area = (right - left) * (bottom - top)
        records.append({"partner": (i - 1) % n, "lam": 1.0 - area / (width * height),
                        "top": top, "left": left, "height": bottom - top, "width": right - left})  # fmt: skip
    return records


def _check_labels(name: str, x: np.ndarray, y: Any) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 2 or len(y) != len(x):
        raise ValueError(
            f"{name} needs one-hot (or multi-hot) labels, an N x classes array with one row per "
            f"image ({len(x)}), got labels of shape {y.shape}"
        )
    return y


def _mix_labels(y: np.ndarray, partners: np.ndarray, lam: np.ndarray) -> np.ndarray:
    y = y.astype(np.float64)
    return (lam[:, None] * y + (1.0 - lam[:, None]) * y[partners]).astype(np.float32)


def _partners_and_lams(records: Sequence[Mapping]) -> tuple[np.ndarray, np.ndarray]:
    partners = np.array([int(r["partner"]) for r in records], dtype=np.intp)
    return partners, np.array([float(r["lam"]) for r in records])


def _as_dtype(mixed: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(mixed), info.min, info.max).astype(dtype)
    return mixed.astype(dtype, copy=False)


def _apply_mixup(
    x: np.ndarray, y: Any, records: Sequence[Mapping]
) -> tuple[np.ndarray, np.ndarray]:
    y = _check_labels("mixup", x, y)
    partners, lam = _partners_and_lams(records)
    out = x.copy()
    mixed = np.flatnonzero(lam != 1.0)
    if len(mixed):
        work = np.float32 if x.dtype in (np.uint8, np.float32) else np.float64
        weight = lam[mixed].astype(work)[:, None, None, None]
        blend = weight * x[mixed].astype(work) + (1 - weight) * x[partners[mixed]].astype(work)
        out[mixed] = _as_dtype(blend, x.dtype)
    return out, _mix_labels(y, partners, lam)


def _apply_cutmix(
    x: np.ndarray, y: Any, records: Sequence[Mapping]
) -> tuple[np.ndarray, np.ndarray]:
    y = _check_labels("cutmix", x, y)
    partners, lam = _partners_and_lams(records)
    out = x.copy()
    for i, r in enumerate(records):
        if "top" in r:
            rows = slice(r["top"], r["top"] + r["height"])
            cols = slice(r["left"], r["left"] + r["width"])
            out[i, rows, cols] = x[partners[i], rows, cols]
    return out, _mix_labels(y, partners, lam)


mixup = register_op(BatchOp(
    "mixup", "mixing",
    _mixing_params(),
    draw=_draw_mixup,
    apply=_apply_mixup,
    help="blend each image and its label with the previous sample's, by lam ~ Beta(alpha, alpha)",
    equivalents={"torchvision": "MixUp"},
))  # fmt: skip

cutmix = register_op(BatchOp(
    "cutmix", "mixing",
    _mixing_params(),
    draw=_draw_cutmix,
    apply=_apply_cutmix,
    help="paste a box of the previous sample into each image; labels mixed by the box's area",
    equivalents={"torchvision": "CutMix"},
))  # fmt: skip


def replay_batch(
    x: np.ndarray,
    y: Any,
    applied: Sequence[Sequence[Mapping]],
    targets: Sequence | None = None,
    target_format: Any = None,
) -> tuple:
    """Re-apply a batch's records (``batch.info.applied``) to its original images and labels.

    Per-sample records are replayed with :func:`genlab.transforms.replay` between the mixing
    steps, each mixing step on the whole batch. Stages that record nothing (``rescale_images``)
    are not replayed: give ``x`` as it was when the first recorded op saw it.

    Parameters
    ----------
    x : ndarray
        ``N x H x W x C`` images (uint8 when per-sample records are to be replayed).
    y : array_like
        ``N x classes`` labels.
    applied : sequence of sequences of dict
        One sequence of records per sample.
    targets : sequence of Targets or None, optional
        The samples' targets as the first recorded op saw them: they are replayed too
        (:func:`genlab.transforms.replay_targets`, CutMix's rule), with ``target_format``.

    Returns
    -------
    (x, y) or (x, y, targets) : tuple
        The images and labels the pipeline made, and its targets when ``targets`` are given.
    """
    x = np.asarray(x)
    if len(applied) != len(x):
        raise ValueError(f"replay_batch: {len(applied)} records for {len(x)} images")
    steps = [_split_at_mixing(records) for records in applied]
    mixes = [mix for _, mix in steps]
    if any([m["op"] for m in mix] != [m["op"] for m in mixes[0]] for mix in mixes):
        raise ValueError("replay_batch: the samples' records disagree on the mixing steps")
    images = list(x)
    moved = None if targets is None else list(targets)
    for k in range(len(mixes[0]) + 1):
        segments = [segs[k] for segs, _ in steps]
        for i, seg in enumerate(segments):
            if seg and moved is None:
                images[i] = replay(images[i], seg)
            elif seg:
                images[i], moved[i] = replay_targets(images[i], moved[i], seg, target_format)
        if k < len(mixes[0]):
            records = [mix[k] for mix in mixes]
            op = get_op(records[0]["op"])
            batch_x = np.stack(images)
            if moved is not None:
                info = BatchInfo(targets=tuple(moved), target_format=target_format)
                moved = list(
                    carry_mixed(op, info, records, batch_x.shape[1:3]).get("targets", moved)
                )
            batch_x, y = op.apply(batch_x, y, records)
            images = list(batch_x)
    out = (np.stack(images), np.asarray(y))
    return out if moved is None else (*out, tuple(moved))


def _split_at_mixing(records: Sequence[Mapping]) -> tuple[list[list[Mapping]], list[Mapping]]:
    """Per-sample records cut into segments at the mixing records, and those records."""
    segments: list[list[Mapping]] = [[]]
    mixes: list[Mapping] = []
    for record in records:
        if isinstance(_registered(record.get("op")), BatchOp):
            mixes.append(record)
            segments.append([])
        else:
            segments[-1].append(record)
    return segments, mixes


def _registered(name: Any):
    try:
        return get_op(name) if isinstance(name, str) else None
    except ValueError:  # a record of a classic ``augment`` member
        return None


def _cutmix_targets(targets, records, size, fmt):
    """CutMix's rule for targets (:func:`~genlab.ops.targets_geometry.paste_targets`)."""
    out = []
    for i, r in enumerate(records):
        t, partner = targets[i], targets[int(r["partner"])]
        if "top" in r and (t is None) != (partner is None):
            raise ValueError(f"cutmix: sample {i} or its partner {r['partner']} has no targets")
        if "top" in r and t is not None:
            region = (r["left"], r["top"], r["left"] + r["width"], r["top"] + r["height"])
            t = paste_targets(t, partner, region, fmt)
        out.append(t)
    return tuple(out)


register_mixed_kernel("cutmix", _cutmix_targets)
