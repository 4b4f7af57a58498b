"""Targets through every op: a target kernel per op, registered beside its image kernel.

As in torchvision.transforms.v2, an op has one draw and kernels per kind of data: ``Op.apply``
for the image and, registered here under the op's name, a *target kernel* for the sample's
:class:`~genlab.targets.Targets`. Both receive the SAME drawn record, so boxes, masks and
keypoints move exactly with the pixels. Geometric ops declare their kernel in one line with
:func:`warp_kernel`: the op's point map for a record (a ``3 x 3`` matrix, see
:mod:`genlab.ops.targets_geometry`) and its output size; the mask kernel is the op's own image
kernel run with nearest-neighbour sampling and fill 0. Ops of kind ``colour`` and ``noise``
(``random_erasing`` included) leave targets as they are. A geometric op without a target
kernel refuses a batch with targets, naming itself, rather than letting its targets go stale.

After every geometric op (and every member of a group or policy) the instances are
sanitised (:func:`sanitize`): boxes are clipped to the image; an instance whose clipped box
has no width or height, is smaller than ``TargetFormat.min_area`` pixels, or keeps less than
``min_visibility`` of its (mapped, unclipped) box is dropped with its label, mask and
keypoints; keypoints that leave the image get visibility 0; mirrors swap ``flip_pairs``.

>>> import numpy as np
>>> from genlab.targets import Targets
>>> from genlab.transforms import get_op
>>> img = np.zeros((10, 20, 3), np.uint8)
>>> t = Targets.from_boxes([[2, 3, 6, 7]], [1])
>>> from genlab.transforms import replay_targets
>>> out, moved = replay_targets(img, t, [{"op": "hflip"}])
>>> moved.boxes.tolist()
[[14.0, 3.0, 18.0, 7.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..ops.targets_geometry import check_mask_size, move_targets
from ..targets import TargetFormat, Targets  # noqa: F401  (the types named in hints)

__all__ = [
    "TargetKernel",
    "register_target_kernel",
    "target_kernel",
    "warp_kernel",
    "nearest_record",
    "carry_targets",
    "carry_batch",
    "carry_mixed",
]

#: ``kernel(targets, record, size_in, fmt) -> (targets, size_out)``: one sample's targets
#: through one drawn record of an op, on an image of ``size_in = (height, width)``.
TargetKernel = Callable[[Targets, Mapping[str, Any], tuple[int, int], TargetFormat], tuple]

_KERNELS: dict[str, TargetKernel] = {}

#: Kinds of op that never move pixels: their targets pass through unchanged.
PIXEL_KINDS = ("colour", "noise")


def register_target_kernel(name: str, kernel: TargetKernel) -> TargetKernel:
    """Register ``kernel`` as the target kernel of the op called ``name``; returns it."""
    _KERNELS[name] = kernel
    return kernel


def target_kernel(name: str) -> TargetKernel | None:
    """The target kernel registered for the op ``name`` (None: none)."""
    return _KERNELS.get(name)


def nearest_record(record: Mapping[str, Any]) -> dict:
    """``record`` (and the records of its members) set to nearest sampling and fill 0: how the
    image kernel of an op moves masks."""
    out = {**record, "resample": "nearest", "fill": [0.0, 0.0, 0.0]}
    if isinstance(record.get("ops"), list):
        out["ops"] = [nearest_record(m) if isinstance(m, Mapping) else m for m in record["ops"]]
    return out


def warp_kernel(
    name: str,
    apply: Callable[[np.ndarray, Mapping[str, Any]], np.ndarray],
    geometry: Callable[[Mapping[str, Any], tuple[int, int]], tuple[np.ndarray, tuple[int, int]]],
    mirrors: bool = False,
    planes: Callable[[np.ndarray, Mapping[str, Any]], np.ndarray] | None = None,
) -> TargetKernel:
    """The target kernel of a geometric op.

    Parameters
    ----------
    name
        The op's name (for errors).
    apply
        The op's image kernel ``apply(image, record)``; masks go through it with
        :func:`nearest_record`.
    geometry
        ``geometry(record, (height, width)) -> (matrix, (out_height, out_width))``: the ``3 x 3``
        point map of the record in continuous pixel coordinates and the output size.
    mirrors
        The op mirrors the image: keypoints named in ``flip_pairs`` trade places.
    planes
        For ops that move whole pixels (flips, quarter turns, crops without resizing):
        ``planes(array, record)``, the same move on arrays whose last two axes are rows and
        columns, applied to the masks directly (exact, and no packing).
    """

    def kernel(targets, record, size_in, fmt):
        check_mask_size(name, targets, size_in)
        matrix, size_out = geometry(record, tuple(size_in))
        nearest = nearest_record(record)
        moved = move_targets(
            targets, matrix, size_out, lambda img: apply(img, nearest), fmt, mirrors=mirrors,
            name=name, planes=None if planes is None else (lambda a: planes(a, record)),
        )  # fmt: skip
        return moved, (int(size_out[0]), int(size_out[1]))

    return kernel


def carry_targets(
    op: Any,
    targets: Targets | None,
    record: Mapping[str, Any] | None,
    size_in: Sequence[int],
    fmt: TargetFormat | None = None,
) -> tuple[Targets | None, tuple[int, int] | None]:
    """One sample's ``targets`` through ``op``'s drawn ``record`` (None: not applied), on an
    image of ``size_in``: ``(targets, size_out)``; ``size_out`` is None when the op said nothing
    of it (not applied, or an op of kind colour or noise)."""
    if targets is None or record is None:
        return targets, None
    kernel = _KERNELS.get(op.name)
    if kernel is None:
        if op.kind in PIXEL_KINDS:
            return targets, None
        raise ValueError(
            f"{op.name}: this {op.kind} op has no target kernel, so boxes, masks and keypoints "
            "cannot follow it; remove it from a chain with targets or register one with "
            "genlab.transforms.target_kernels.register_target_kernel"
        )
    return kernel(targets, record, (int(size_in[0]), int(size_in[1])), fmt)


def carry_batch(
    op: Any, info: Any, records: Sequence[Mapping[str, Any] | None], size_in: Sequence[int]
) -> dict:
    """``{"targets": ...}`` for ``Batch.replace``: each sample's targets through its record
    (``{}`` when the batch has no targets)."""
    if info.targets is None:
        return {}
    moved = tuple(
        carry_targets(op, t, r, size_in, info.target_format)[0]
        for t, r in zip(info.targets, records)
    )
    return {"targets": moved}


#: ``kernel(targets, records, size, fmt) -> targets``: a batch-mixing op's rule for the
#: targets of the whole batch (one record per sample, as its ``apply`` receives them).
MixedKernel = Callable[[Sequence, Sequence[Mapping[str, Any]], tuple[int, int], Any], tuple]

_MIXED: dict[str, MixedKernel] = {}

#: Why a batch-mixing op without a target rule refuses targets (torchvision's MixUp and CutMix
#: refuse boxes and masks too).
NO_MIXED_RULE = {
    "mixup": "a blend of two images has no sound rule for boxes, masks and keypoints (each "
    "pixel is two objects at once; torchvision's MixUp refuses them too)",
}


def register_mixed_kernel(name: str, kernel: MixedKernel) -> MixedKernel:
    """Register the target rule of the batch-mixing op ``name``; returns it."""
    _MIXED[name] = kernel
    return kernel


def carry_mixed(
    op: Any, info: Any, records: Sequence[Mapping[str, Any]], size: Sequence[int]
) -> dict:
    """``{"targets": ...}`` for a batch-mixing op (``{}`` without targets); ValueError naming
    the op where it has no rule for targets."""
    if info.targets is None or all(t is None for t in info.targets):
        return {}
    kernel = _MIXED.get(op.name)
    if kernel is None:
        reason = NO_MIXED_RULE.get(op.name, "it has no rule for boxes, masks and keypoints")
        raise ValueError(
            f"{op.name}: refused on a batch with targets: {reason}; use it for classification "
            "only, or remove it from this chain"
        )
    return {
        "targets": kernel(info.targets, records, (int(size[0]), int(size[1])), info.target_format)
    }
