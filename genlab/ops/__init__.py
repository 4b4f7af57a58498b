"""Pure image operations: decoding files into arrays and augmenting arrays.

No stage machinery and no hidden randomness here: the stages in :mod:`genlab.stages` call
these functions, and augmentation draws its random values apart from applying them.
"""

from __future__ import annotations

from genlab.ops.augment import (
    AUGMENT_DEFAULTS,
    AUGMENT_OPS,
    AugmentOp,
    apply_all,
    augment_image,
    check_augment_params,
    draw_all,
)
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
    "AUGMENT_DEFAULTS",
    "AUGMENT_OPS",
    "DEFAULT_MAX_PIXELS",
    "AugmentOp",
    "ImageReadError",
    "apply_all",
    "augment_image",
    "check_augment_params",
    "check_decode_params",
    "crop_in_source",
    "decode_crop",
    "decode_image",
    "draw_all",
    "image_size",
    "verify_image",
]
