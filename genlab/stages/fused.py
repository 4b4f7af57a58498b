"""Crop while decoding: ``read_images`` and a ``random_resized_crop`` right after it, as one stage.

A random resized crop keeps a part of the image; decoding the whole image at the read size
and then cropping makes pixels that are thrown away. When a :class:`~genlab.pipeline.Pipeline`
finds an enabled ``read_images`` (with ``fuse_crop``, the turbo decoder, ``draft`` and a
``stretch`` or ``center_crop`` resize) directly followed by an enabled ``random_resized_crop``,
it runs them as this one stage. Per sample it:

1. draws the crop box with the op's own draw, from the op's own random stream, on the size
   ``read_images`` would output (so the draws and the records are those of the two stages);
2. maps the box into the whole image (:func:`~genlab.ops.decode.crop_in_source`);
3. decodes only what the box needs (:func:`~genlab.ops.decode.decode_crop`): libjpeg-turbo
   at the smallest M/8 scale that gives the box its output size, but never finer than the
   scale ``read_images`` would have decoded at, then one resize of the box.

Shapes, labels, keys, skipped files (``on_error``) and ``batch.info.applied`` are those of the
two stages. Pixels differ slightly: one resize of the box instead of a resize of the whole
image then a resize of the crop, sometimes from a smaller DCT scale (the README gives the
measured difference). Files the fast path does not take (not a JPEG, CMYK, 12-bit, an EXIF
orientation it cannot read) run through the two stages' own code, with the same pixels.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .. import registry
from ..batch import Batch
from ..ops.decode import crop_in_source, decode_crop, decode_image, image_size
from ..ops.jpeg import jpeg_header
from ..params import HeightWidth
from ..seeding import Reseeder, sample_seeds
from .protocol import two_yield_stage
from .read import decode_options, read_each, read_images, resize_targets

__all__ = ["FUSED_NAME", "fusable", "read_and_crop"]

FUSED_NAME = "read_images+random_resized_crop"


def _builtin(name: str) -> Any:
    """The factory registered as ``name`` when it is genlab's own (not a user's stage of that name).

    genlab's ``random_resized_crop`` is an op of :mod:`genlab.transforms.geometry`, a layer above
    this one: it is recognised by where its draw is defined, not imported.
    """
    factory = registry.get(name).factory
    if name == "read_images":
        return factory if factory is read_images else None
    own = getattr(getattr(factory, "draw", None), "__module__", "") == "genlab.transforms.geometry"
    return factory if own else None


def fusable(first: Any, second: Any) -> bool:
    """True when two consecutive enabled stages (``.name``, ``.params``) can run as one fused stage.

    ``first`` must be genlab's ``read_images`` with ``fuse_crop``, ``decoder="turbo"``,
    ``draft``, a ``stretch`` or ``center_crop`` resize and Pillow resizing; ``second`` genlab's
    ``random_resized_crop``.
    """
    if (first.name, second.name) != ("read_images", "random_resized_crop"):
        return False
    if _builtin("read_images") is None or _builtin("random_resized_crop") is None:
        return False
    read = first.params
    return bool(read["fuse_crop"] and read["decoder"] == "turbo" and read["draft"]
                and read["resize"] in ("stretch", "center_crop")
                and read.get("resize_backend", "pillow") == "pillow")  # fmt: skip


def read_and_crop(read_params: dict, crop_params: dict, stream: str = "random_resized_crop"):
    """The fused stage: an unprimed two-yield generator named :data:`FUSED_NAME`.

    ``read_params`` and ``crop_params`` are the two stages' parameters (checked here, the
    defaults filled in), ``stream`` the crop op's random stream (``Pipeline.stream_of`` of
    its stage).
    """
    op = _builtin("random_resized_crop")
    read_params = registry.get("read_images").validate(dict(read_params))
    crop_params = op.validate(crop_params)

    def run(batch: Batch) -> Batch:
        return _read_and_crop(batch, read_params, op, crop_params, stream)

    return two_yield_stage(run, FUSED_NAME)


def _decode_box(
    data: bytes, path: str, record: dict, options: dict, size: tuple[int, int], op: Any
) -> np.ndarray:
    """One sample: the crop ``record`` of what ``read_images(**options)`` would give, decoded at once."""
    header = jpeg_header(data)
    if header is None or not header.turbo_ready:  # the two stages' own code
        return op.apply(decode_image(data, path=path, **options), record)
    box = (record["top"], record["left"], record["height"], record["width"])
    box, limit = crop_in_source(box, header.upright_size, options["target_size"], options["resize"])
    return decode_crop(
        data, box, size, resample=record["resample"], decoder="turbo", max_pixels=options["max_pixels"],
        allow_truncated=options["allow_truncated"], path=path, limit=limit,
    )  # fmt: skip


def _read_and_crop(batch: Batch, read: dict, op: Any, crop_params: dict, stream: str) -> Batch:
    options = decode_options(read)
    read_hw = HeightWidth.from_size(options["target_size"])
    out_w, out_h = crop_params["size"]  # (width, height), as every size parameter
    seeds = sample_seeds(batch.info, stream, len(batch.x)).tolist()
    reseeders = threading.local()  # one generator per thread decoding items (see read_each)
    records: dict[int, dict] = {}  # by the item's index in the batch, as the sizes
    sizes: dict[int, tuple[int, int]] = {}

    def decode(data: bytes, path: str, index: int, sample: int) -> np.ndarray:
        # the op's own generator for this sample (see Op.run); a keyless batch draws by
        # its place among the kept items, as the op would after read_images dropped a file
        if not hasattr(reseeders, "one"):
            reseeders.one = Reseeder()
        rng = reseeders.one.seed(seeds[sample])
        record = op.draw(rng, crop_params, read_hw)
        img = _decode_box(data, path, record, options, (out_w, out_h), op)
        if batch.info.targets is not None:
            sizes[index] = image_size(data, path=path)[::-1]
        records[index] = {"op": op.name, **record}
        return img

    out, kept = read_each(batch, decode, (out_h, out_w), read["on_error"], "read_images")
    kept_records = [records[i] for i in kept]
    out = out.replace(applied=out.info.with_applied([(r,) for r in kept_records]))
    if out.info.targets is None:
        return out
    # targets follow the two stages' geometry: the read's resize, then the crop's record
    out = resize_targets(out, sizes, kept, options["target_size"], options["resize"])
    fmt = out.info.target_format
    moved = tuple(
        op.carry_targets(t, r, read_hw, fmt)[0] for t, r in zip(out.info.targets, kept_records)
    )
    return out.replace(targets=moved)
