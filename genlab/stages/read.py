"""``read_images``: paths or encoded bytes in, a uint8 image array out (libjpeg-turbo or Pillow decode, Pillow resize)."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from ..batch import Batch
from ..ops.decode import ImageReadError, decode_image
from ..params import Bool, Choice, Int, Size
from ..sources.storage import read_bytes
from .protocol import stage

__all__ = ["read_images", "READ_PARAMS"]

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
    "draft": Bool(True, help="let JPEG decode at a reduced scale when downscaling (much faster)"),
    "on_error": Choice(
        "skip", choices=("skip", "raise"),
        help="an unreadable file is skipped (warned, counted) or raises naming the file",
    ),
    "allow_truncated": Bool(False, help="decode truncated files, padding the missing part"),
    "max_pixels": Int(89_478_485, low=1, high=2**40, help="larger images are refused (decompression bombs)"),
}  # fmt: skip


def _read_one(path: str, options: dict, policy=None) -> np.ndarray:
    try:
        data = read_bytes(path, policy)
    except OSError as e:
        raise ImageReadError(f"cannot read {path!r}: {e}", path=path, reason=str(e)) from e
    return decode_image(data, path=path, **options)


@stage(params=READ_PARAMS)
def read_images(
    batch: Batch, *, target_size, resize, resample, decoder, draft, on_error, allow_truncated,
    max_pixels,
) -> Batch:
    """Decode each path, convert to RGB and resize to ``target_size``.

    ``decoder="turbo"`` (the default) decodes JPEGs with libjpeg-turbo at the smallest DCT
    scale that keeps the output's resolution; other formats, and JPEGs it cannot decode
    exactly as Pillow would, go through Pillow (``decoder="pillow"``, what genlab 0.1 did).

    An item of ``x`` that is already bytes (a tar shard's member) is decoded as it is, named by
    ``info.paths``. Remote reads follow the source's retry settings (``info.extra["retry"]``).
    A file that cannot be read is skipped (``on_error="skip"``: warned once, counted in
    ``batch.info.skipped``, and its label dropped with it) or raises naming the file.
    """
    options = dict(
        target_size=target_size, resize=resize, resample=resample, decoder=decoder, draft=draft,
        allow_truncated=allow_truncated, max_pixels=max_pixels,
    )  # fmt: skip
    width, height = target_size
    out = np.empty((len(batch.x), height, width, 3), dtype=np.uint8)
    kept: list[int] = []
    skipped: list[tuple[str, str]] = []
    policy = batch.info.extra.get("retry")
    names = batch.info.paths
    for i, item in enumerate(batch.x):
        is_data = isinstance(item, (bytes, bytearray, memoryview))
        path = (names[i] if names is not None else f"sample {i}") if is_data else str(item)
        try:
            if is_data:
                out[len(kept)] = decode_image(bytes(item), path=path, **options)
            else:
                out[len(kept)] = _read_one(path, options, policy)
        except ImageReadError as e:
            if on_error == "raise":
                raise
            warnings.warn(f"read_images skipped {e.path!r}: {e.reason}", stacklevel=2)
            skipped.append((str(path), e.reason))
            continue
        kept.append(i)
    if not skipped:
        return Batch(out, batch.y, batch.info)
    info = batch.info.select(kept)
    info = replace(info, skipped=info.skipped + tuple(skipped))
    return Batch(out[: len(kept)], batch.y[kept], info)
