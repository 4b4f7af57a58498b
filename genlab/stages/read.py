"""``read_images``: paths or encoded bytes in, a uint8 image array out (libjpeg-turbo or Pillow decode, Pillow resize)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial

import numpy as np

from ..batch import Batch
from ..ops.decode import ImageReadError, decode_image, image_size
from ..ops.targets_geometry import check_mask_size, move_targets, resize_geometry, resize_nearest
from ..params import Bool, Choice, Int, Size
from ..sources.storage import read_bytes
from .item_workers import map_items
from .protocol import stage

__all__ = ["read_images", "read_each", "resize_targets", "READ_PARAMS"]

READ_PARAMS = {
    "target_size": Size((224, 224), help="output (width, height) in pixels"),
    "resize": Choice(
        "stretch", choices=("stretch", "center_crop", "pad"),
        help="stretch to the size, crop the centre, or keep the aspect and pad",
    ),
    "resample": Choice(
        "bilinear", choices=("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"),
        help="Pillow resampling filter",
    ),
    "decoder": Choice(
        "turbo", choices=("turbo", "pillow"),
        help="turbo: JPEG through libjpeg-turbo at the smallest DCT scale needed (other formats: Pillow)",
    ),
    "resize_backend": Choice(
        "pillow", choices=("pillow", "opencv"),
        help="the library that resizes: Pillow (genlab's bytes) or OpenCV (optional, faster, no antialiasing)",
    ),
    "draft": Bool(True, help="let JPEG decode at a reduced scale when downscaling (much faster)"),
    "on_error": Choice(
        "skip", choices=("skip", "raise"),
        help="an unreadable file is skipped (warned, counted) or raises naming the file",
    ),
    "allow_truncated": Bool(False, help="decode truncated files, padding the missing part"),
    "max_pixels": Int(89_478_485, low=1, high=2**40, help="larger images are refused (decompression bombs)"),
    "fuse_crop": Bool(
        True,
        help="in a Pipeline, a random_resized_crop right after decodes only its box (same draws; turbo, not pad)",
    ),
}  # fmt: skip


def _data_of(item, path: str, policy) -> bytes:
    """The encoded bytes of one item of ``x``: the item itself, or the file it names."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    try:
        return read_bytes(path, policy)
    except OSError as e:
        raise ImageReadError(f"cannot read {path!r}: {e}", path=path, reason=str(e)) from e


def read_each(
    batch: Batch, decode: Callable, size_hw: tuple[int, int], on_error: str, stage: str
) -> tuple[Batch, list[int]]:
    """Decode every item of ``batch.x`` with ``decode(data, path, index, sample)`` into one array.

    ``index`` is the item's place in ``batch``; ``sample`` the place its random draws come
    from: ``index`` when the batch has sample keys, else its place among the items kept so far
    (as a later stage would see it). An unreadable item (:class:`ImageReadError`) is skipped
    (warned, counted in ``info.skipped``, its label and per-sample info dropped with it) or
    raised, per ``on_error``. Returns the batch and the ``index`` of each item kept, in order.

    The items of a keyed batch may be decoded by several threads at once when some are lent
    (:mod:`genlab.stages.item_workers`); ``decode`` then keeps any side results by ``index``.
    """
    n = len(batch.x)
    out = np.empty((n, *size_hw, 3), dtype=np.uint8)
    policy = batch.info.extra.get("retry")
    names = batch.info.paths

    def path_of(i: int) -> str:
        if isinstance(batch.x[i], (bytes, bytearray, memoryview)):
            return names[i] if names is not None else f"sample {i}"
        return str(batch.x[i])

    def one(i: int, sample: int) -> np.ndarray:
        path = path_of(i)
        return decode(_data_of(batch.x[i], path, policy), path, i, sample)

    kept: list[int] = []
    skipped: list[tuple[str, str]] = []

    def keep_or_skip(i: int, result) -> None:
        if isinstance(result, ImageReadError):
            if on_error == "raise":
                raise result
            warnings.warn(f"{stage} skipped {result.path!r}: {result.reason}", stacklevel=4)
            skipped.append((str(path_of(i)), result.reason))
        elif isinstance(result, BaseException):
            raise result
        else:
            out[len(kept)] = result
            kept.append(i)

    if batch.info.keys is not None:  # draws by index: the items may be decoded in any order
        map_items(lambda i: one(i, i), n, keep_or_skip)
    else:
        for i in range(n):
            try:
                result = one(i, len(kept))
            except ImageReadError as e:
                result = e
            keep_or_skip(i, result)
    if not skipped:
        return Batch(out, batch.y, batch.info), kept
    info = batch.info.select(kept)
    info = replace(info, skipped=info.skipped + tuple(skipped))
    return Batch(out[: len(kept)], batch.y[kept], info), kept


def decode_options(params: dict) -> dict:
    """The keyword arguments of :func:`~genlab.ops.decode.decode_image` among ``read_images``' parameters."""
    names = (
        "target_size",
        "resize",
        "resample",
        "decoder",
        "draft",
        "allow_truncated",
        "max_pixels",
        "resize_backend",
    )
    return {k: params[k] for k in names}


@stage(params=READ_PARAMS)
def read_images(
    batch: Batch,
    *,
    target_size,
    resize,
    resample,
    decoder,
    draft,
    on_error,
    allow_truncated,
    max_pixels,
    fuse_crop,
    resize_backend,
) -> Batch:
    """Decode each path, convert to RGB and resize to ``target_size``.

    ``decoder="turbo"`` (the default) decodes JPEGs with libjpeg-turbo at the smallest DCT
    scale that keeps the output's resolution; other formats, and JPEGs it cannot decode
    exactly as Pillow would, go through Pillow (``decoder="pillow"``, what genlab 0.1 did).

    An item of ``x`` that is already bytes (a tar shard's member) is decoded as it is, named by
    ``info.paths``. Remote reads follow the source's retry settings (``info.extra["retry"]``).
    A file that cannot be read is skipped (``on_error="skip"``: warned once, counted in
    ``batch.info.skipped``, and its label dropped with it) or raises naming the file.

    ``fuse_crop`` changes nothing here: a :class:`~genlab.pipeline.Pipeline` reads it to run
    this stage and a ``random_resized_crop`` right after it as one stage that decodes only the
    crop's box (see :mod:`genlab.stages.fused`).
    """
    options = decode_options(locals())
    width, height = target_size
    sizes: dict[int, tuple[int, int]] = {}  # each decoded item's upright (height, width)

    def decode(data: bytes, path: str, index: int, sample: int) -> np.ndarray:
        image = decode_image(data, path=path, **options)
        if batch.info.targets is not None:
            sizes[index] = image_size(data, path=path)[::-1]
        return image

    out, kept = read_each(batch, decode, (height, width), on_error, "read_images")
    return resize_targets(out, sizes, kept, target_size, resize)


def resize_targets(
    batch: Batch,
    sizes: Mapping[int, tuple[int, int]],
    kept: Sequence[int],
    target_size: tuple[int, int],
    resize: str,
) -> Batch:
    """``batch`` with each sample's targets moved by ``read_images``' resize of its image to
    ``target_size``: boxes and keypoints scaled (cropped, padded), masks resized with nearest
    sampling (:mod:`genlab.ops.targets_geometry`). ``kept`` are the batch's items as
    :func:`read_each` returns them, ``sizes[index]`` each one's upright ``(height, width)``."""
    if batch.info.targets is None:
        return batch
    fmt = batch.info.target_format
    moved = []
    for t, size in zip(batch.info.targets, (sizes[i] for i in kept)):
        if t is not None:
            check_mask_size(f"read_images (an image of {size[::-1]} pixels)", t, size)
            matrix, out_hw, _, _ = resize_geometry(size, target_size, resize)
            warp = partial(resize_nearest, source_hw=size, target_size=target_size, resize=resize)
            t = move_targets(t, matrix, out_hw, warp, fmt, name="read_images")
        moved.append(t)
    return batch.replace(targets=tuple(moved))
