"""Composable augmentation: ops you put in any order, groups of ops, policies, batch mixing.

Every op is a registered stage of its own, usable wherever a stage is::

    Pipeline.from_folder(root, stages=[
        ("read_images", {"target_size": (256, 256)}),
        ("random_resized_crop", {"size": (224, 224)}),
        "hflip",
        ("color_jitter", {"brightness": 0.4, "hue": 0.1}),
        "rescale_images",
    ])

or in the classic form, ``GeneratorPipeline(source, read_images(), hflip(p=1.0), ...)``.
Each op draws per sample from (seed, its name and place, epoch, sample key), records what
it drew in ``batch.info.applied``, and :func:`replay` re-applies those records exactly.
Names and parameter meanings follow torchvision.transforms.v2 (in snake_case).
"""

from __future__ import annotations

from . import colour, geometry, groups, mixing, noise, policies  # noqa: F401  (registers the ops)
from .classic import augment
from .op import KINDS, BatchOp, Op, get_op, op_names, register_op, stream_name
from .records import replay, replay_targets

__all__ = [
    "KINDS",
    "Op",
    "BatchOp",
    "augment",
    "get_op",
    "op_names",
    "register_op",
    "replay",
    "replay_targets",
    "stream_name",
]
