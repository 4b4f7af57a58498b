"""The op model: an augmentation is declared parameters, a draw, and an apply.

An :class:`Op` owns its parameters and nothing else. ``draw(rng, params, (height, width))``
turns one sample's random generator into a small JSON-serialisable record of what it will
do (or None: not applied this time); ``apply(image, record)`` does it, with no randomness.
Drawing apart from applying is what makes previews, replay and worker-independence easy:
the record is stored in ``batch.info.applied`` and :func:`replay` applies it again exactly.

Registering an op (:func:`register_op`) also registers a stage of the same name, so an op
can be used wherever a stage can: ``Pipeline(stages=["hflip", ("color_jitter", {...})])``,
a spec, the lab, or the classic ``GeneratorPipeline(source, read_images(), hflip(p=1.0))``.

>>> import numpy as np
>>> from genlab.transforms import get_op
>>> img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
>>> flip = get_op("hflip")
>>> out, record = flip.on_image(img, np.random.default_rng(0), p=1.0)
>>> record, bool((out == img[:, ::-1]).all())
({}, True)
>>> from genlab import GeneratorPipeline, Batch
>>> x, y = next(GeneratorPipeline(iter([Batch(img[None], np.eye(1))]), flip(p=1.0)))
>>> bool((x[0] == img[:, ::-1]).all())
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import registry
from ..batch import Batch
from ..params import Choice, Float, Floats, HeightWidth, Param, validate_params
from ..seeding import sample_generators, sample_rngs
from ..stages.protocol import two_yield_stage
from .target_kernels import carry_batch, carry_mixed, carry_targets

__all__ = [
    "KINDS",
    "Op",
    "BatchOp",
    "register_op",
    "get_op",
    "op_names",
    "stream_name",
    "probability",
    "fill_param",
    "resample_param",
    "gate",
]

#: The kinds of op, in the order the lab lists them.
KINDS = ("geometry", "colour", "noise", "policy", "mixing", "group")

Record = dict  # JSON-serialisable: {"top": 3, "left": 0, "height": 20, "width": 18}, {} ...


@dataclass(frozen=True, repr=False)
class Op:
    """One per-sample augmentation.

    Attributes
    ----------
    name : str
        Its registered name, also the ``"op"`` field of its records.
    kind : str
        One of :data:`KINDS`; the lab groups its "add" menu by it.
    params : dict of str to Param
        Declared parameters (type, default, range, help).
    draw : callable
        ``draw(rng, params, size) -> dict | None``: what this op does to one image of ``size``
        (a :class:`~genlab.params.HeightWidth`, ``(height, width)``), drawn from the sample's own
        generator; None when it is not applied. The record names its numbers' axes.
    apply : callable
        ``apply(image, record) -> image``: uint8 ``H x W x 3`` in and out, no randomness;
        never writes into ``image``.
    help : str
        One line: what it does.
    equivalents : dict
        The same transform's name in other libraries (``{"torchvision": "RandomHorizontalFlip"}``).
    output_size : callable, optional
        ``output_size(params, (height, width)) -> (height, width)`` for ops that resize; the
        output of every sample then has that size (None: the input size).
    """

    name: str
    kind: str
    params: Mapping[str, Param]
    draw: Callable[[np.random.Generator, Mapping[str, Any], tuple[int, int]], Record | None]
    apply: Callable[[np.ndarray, Mapping[str, Any]], np.ndarray]
    help: str = ""
    equivalents: Mapping[str, str] = field(default_factory=dict)
    output_size: Callable[[Mapping[str, Any], tuple[int, int]], tuple[int, int]] | None = None

    def validate(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Complete ``given`` with defaults and check it; ValueError names op and parameter."""
        return validate_params(self.name, dict(self.params), dict(given or {}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, kind={self.kind!r})"

    def out_size(self, params: Mapping[str, Any], size: tuple[int, int]) -> HeightWidth:
        """The ``(height, width)`` this op makes of an image of ``size``."""
        return HeightWidth(*(size if self.output_size is None else self.output_size(params, size)))

    def __call__(self, *, stream: str | None = None, **params: Any):
        """The stage: check ``params`` now, return an unprimed two-yield generator."""
        values, stream = self.validate(params), stream or self.name
        return two_yield_stage(lambda batch: self.run(batch, values, stream), self.name)

    def on_image(self, image: np.ndarray, rng: np.random.Generator, **params: Any):
        """Draw and apply on one image: ``(augmented, record or None)``."""
        values = self.validate(params)
        record = self.draw(rng, values, HeightWidth(*image.shape[:2]))
        return (image if record is None else self.apply(image, record)), record

    def carry_targets(self, targets: Any, record: Record | None, size_in: Sequence[int], fmt=None):
        """One sample's targets through this op's drawn ``record``: ``(targets, size_out)``
        (:func:`~genlab.transforms.target_kernels.carry_targets`; the fused crop-in-decode, a
        layer below, moves its targets through it)."""
        return carry_targets(self, targets, record, size_in, fmt)

    def run(self, batch: Batch, params: Mapping[str, Any], stream: str) -> Batch:
        """Apply this op to every image of ``batch``, each with its own generator."""
        x = _check_images(self.name, batch.x)
        size = HeightWidth(*x.shape[1:3])
        height, width = self.out_size(params, size)
        resizes = (height, width) != tuple(size)
        out = None
        drawn: list[tuple] = [()] * len(x)
        records: list[Record | None] = [None] * len(x)  # for the targets' kernels
        for i, rng in enumerate(sample_generators(batch.info, stream, len(x))):
            record = records[i] = self.draw(rng, params, size)
            if record is None:
                if resizes:
                    raise RuntimeError(f"{self.name}: an op that resizes must apply to every image")
                if out is not None:
                    out[i] = x[i]
                continue
            if out is None:
                out = np.empty((len(x), height, width, 3), dtype=np.uint8)
                if i:  # the samples before were not applied, so they kept their size
                    out[:i] = x[:i]
            out[i] = self.apply(x[i], record)
            drawn[i] = ({"op": self.name, **record},)
        applied = batch.info.with_applied(drawn)
        # boxes, masks and keypoints follow the same records (genlab.transforms.target_kernels)
        targets = carry_batch(self, batch.info, records, size)
        if out is None:
            return batch.replace(applied=applied, **targets)
        return batch.replace(x=out, applied=applied, **targets)


@dataclass(frozen=True, repr=False)
class BatchOp:
    """An augmentation that mixes the samples of a batch (MixUp, CutMix).

    ``draw(rngs, params, x.shape) -> list of records`` draws one record per sample from the
    samples' own generators (every sample gets one, so records stay aligned across the batch);
    ``apply(x, y, records) -> (x, y)`` mixes images and labels with no randomness.
    """

    name: str
    kind: str
    params: Mapping[str, Param]
    draw: Callable[[list, Mapping[str, Any], tuple[int, ...]], list[Record]]
    apply: Callable[[np.ndarray, np.ndarray, Sequence[Mapping]], tuple[np.ndarray, np.ndarray]]
    help: str = ""
    equivalents: Mapping[str, str] = field(default_factory=dict)

    def validate(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Complete ``given`` with defaults and check it; ValueError names op and parameter."""
        return validate_params(self.name, dict(self.params), dict(given or {}))

    def __call__(self, *, stream: str | None = None, **params: Any):
        """The stage: check ``params`` now, return an unprimed two-yield generator."""
        values, stream = self.validate(params), stream or self.name
        return two_yield_stage(lambda batch: self.run(batch, values, stream), self.name)

    __repr__ = Op.__repr__

    def run(self, batch: Batch, params: Mapping[str, Any], stream: str) -> Batch:
        """Mix the samples of ``batch``; labels become float32 rows summing to 1."""
        x = np.asarray(batch.x)
        if x.ndim != 4:
            raise TypeError(
                f"{self.name} works on N x H x W x C image batches, got shape {x.shape}"
            )
        records = self.draw(sample_rngs(batch.info, stream, len(x)), params, x.shape)
        targets = carry_mixed(self, batch.info, records, x.shape[1:3])  # refuses without a rule
        mixed_x, mixed_y = self.apply(x, np.asarray(batch.y), records)
        applied = batch.info.with_applied([({"op": self.name, **r},) for r in records])
        return batch.replace(x=mixed_x, y=mixed_y, applied=applied, **targets)


def _check_images(name: str, x: Any) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        got = (
            f"{x.dtype} array of shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        )
        raise TypeError(
            f"{name} works on uint8 N x H x W x 3 images (put it after read_images and before "
            f"rescale_images), got {got}"
        )
    return x


# ----------------------------------------------------------------------------- declaring ops


def probability(default: float, what: str) -> Float:
    """The declaration of an op's probability of being applied."""
    return Float(default, low=0.0, high=1.0, help=f"probability of {what}")


def fill_param(what: str = "uncovered pixels") -> Floats:
    """The declaration of an (R, G, B) fill colour, 0-255."""
    return Floats((0.0, 0.0, 0.0), low=0.0, high=255.0, help=f"(R, G, B) colour of {what}")


def resample_param(default: str = "bilinear") -> Choice:
    """The declaration of a resampling filter."""
    return Choice(default, choices=("nearest", "bilinear", "bicubic"), help="resampling filter")


def gate(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p``; always consumes one draw, so later draws do not shift."""
    return bool(rng.random() < p)


# ----------------------------------------------------------------------------- registry


def stream_name(name: str, occurrence: int = 0, augment_seed: int = 0) -> str:
    """The random stream of the ``occurrence``-th stage called ``name`` in a chain.

    A stage's draws depend on its name and on how many stages of the same name come before it,
    not on its position: switching other stages off or moving them changes nothing, while two
    ``color_jitter`` stages draw independently. ``augment_seed`` (the lab's "new draw") gives
    every op new draws on the same images.

    >>> stream_name("color_jitter"), stream_name("color_jitter", 1), stream_name("hflip", 0, 2)
    ('color_jitter', 'color_jitter/1', 'hflip@2')
    """
    stream = name if occurrence == 0 else f"{name}/{occurrence}"
    return stream if augment_seed == 0 else f"{stream}@{augment_seed}"


def register_op(op: Op | BatchOp) -> Op | BatchOp:
    """Register ``op``, which is also the factory of a stage of the same name; returns ``op``.

    Calling the op checks its parameters and returns an unprimed two-yield generator;
    ``stream=`` (set by :class:`~genlab.pipeline.Pipeline` from the stage's place, see
    :func:`stream_name`) names its random stream and defaults to the op's name.
    """
    if op.kind not in KINDS:
        raise ValueError(f"op {op.name!r}: kind must be one of {list(KINDS)}, got {op.kind!r}")
    registry.register(op.name, op, dict(op.params), op.help, kind=op.kind, streamed=True)
    return op


def _op_or_none(name: Any) -> Op | BatchOp | None:
    """The op registered as ``name`` (genlab's own when a user's stage shadows its name), or None."""
    if not isinstance(name, str):
        return None
    for info in (registry.lookup(name), registry.builtin(name)):
        if info is not None and isinstance(info.factory, (Op, BatchOp)):
            return info.factory
    return None


def get_op(name: str) -> Op | BatchOp:
    """The registered op called ``name``; ValueError listing the known ops otherwise.

    Ops live in the one stage registry (:mod:`genlab.registry`), as the factories of their stages.
    """
    op = _op_or_none(name)
    if op is None:
        raise ValueError(f"unknown op {name!r}; registered ops: {op_names()}")
    return op


def op_names(kind: str | None = None) -> list[str]:
    """Registered op names (of one kind, if given), sorted."""
    return sorted(
        name
        for name, info in registry.entries(kind).items()
        if isinstance(info.factory, (Op, BatchOp))
    )
