"""Pure image operations: decoding files into arrays and the kernels that augment arrays.

Pure functions only: no stage machinery, no declared parameters and no randomness here (a
kernel that adds noise takes the seed it was given). The stages in :mod:`genlab.stages` and
the ops in :mod:`genlab.transforms` call them; the ops draw their random values apart.
"""

from __future__ import annotations

from genlab.ops.decode import (
    DEFAULT_MAX_PIXELS,
    ImageReadError,
    check_decode_params,
    crop_in_source,
    decode_crop,
    decode_image,
    image_size,
    verify_image,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageReadError",
    "check_decode_params",
    "crop_in_source",
    "decode_crop",
    "decode_image",
    "image_size",
    "verify_image",
]
