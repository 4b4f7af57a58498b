"""Decode JPEG with libjpeg-turbo at the smallest DCT scale the output needs.

libjpeg-turbo can scale a JPEG by ``M/8`` (``M = 1..8`` downwards) while decoding it, so
only the pixels that survive the resize are made: a 500x375 photograph meant for 224x224 is
decoded at 5/8 (313x235) and then resized once with Pillow. Pillow's ``draft`` offers only
1/2, 1/4 and 1/8. The library is reached through ``simplejpeg`` (a small wheel bundling
libjpeg-turbo, which releases the GIL while it decodes).

The fast path reads the JPEG markers itself (size, coding process, precision, components
and the EXIF orientation) and declines, returning None, whatever it does not handle exactly
as Pillow would: CMYK/YCCK, 12-bit, arithmetic or lossless coding, an orientation it cannot
read, images over ``max_pixels``, and any data libjpeg-turbo reports as corrupt or
truncated. The caller then decodes with Pillow, so the error policy, messages, the bomb
limit and ``allow_truncated`` are those of :func:`genlab.ops.decode.decode_image` (see :mod:`genlab.ops.turbo_decode`).

Pixels differ slightly from Pillow's (a different DCT scale before the same resize): see
:func:`pillow_difference` and the README for the measured mean absolute difference.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["DECODERS", "JpegHeader", "as_image", "decode_turbo", "jpeg_header"]

DECODERS = ("turbo", "pillow")

# Start-of-frame markers libjpeg-turbo decodes here: baseline, extended and progressive Huffman.
_HUFFMAN_SOF = frozenset({0xC0, 0xC1, 0xC2})
_ALL_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # C4 DHT, C8 JPG, CC DAC
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length field
_EXIF = b"Exif\0\0"
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_ORIENTATION_TAG = 0x0112


@dataclass(frozen=True)
class JpegHeader:
    """What the markers before the scan say about a JPEG.

    ``width`` and ``height`` are stored (not upright) pixels; ``orientation`` is the EXIF
    value 1..8 as Pillow reads it (1 when absent), or None when it cannot be read cheaply.
    """

    width: int
    height: int
    sof: int
    precision: int
    components: int
    orientation: int | None

    @property
    def upright_size(self) -> tuple[int, int]:
        """``(width, height)`` as displayed: swapped by the EXIF orientations 5 to 8."""
        swapped = self.orientation in (5, 6, 7, 8)
        return (self.height, self.width) if swapped else (self.width, self.height)

    @property
    def turbo_ready(self) -> bool:
        """True when libjpeg-turbo decodes this exactly as Pillow would (8-bit Huffman Y/YCbCr)."""
        return (
            self.sof in _HUFFMAN_SOF
            and self.precision == 8
            and self.components in (1, 3)
            and self.orientation is not None
        )


def jpeg_header(data: bytes | bytearray | memoryview) -> JpegHeader | None:
    """Parse the markers of a JPEG up to its first scan; None if it is not a readable JPEG.

    Parameters
    ----------
    data : bytes-like
        The whole file.

    Returns
    -------
    JpegHeader or None

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("RGB", (40, 30)).save(buf, "JPEG")
    >>> h = jpeg_header(buf.getvalue())
    >>> (h.width, h.height, h.components, h.orientation, h.turbo_ready)
    (40, 30, 3, 1, True)
    >>> jpeg_header(b"GIF89a") is None
    True
    """
    view = memoryview(data).cast("B")
    if len(view) < 4 or view[0] != 0xFF or view[1] != 0xD8:
        return None
    exif = b""
    xmp = False
    frame = None
    pos = 2
    end = len(view)
    while pos + 1 < end:
        if view[pos] != 0xFF:
            return None
        while pos < end and view[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            return None
        marker = view[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if pos + 2 > end:
            return None
        length = (view[pos] << 8) | view[pos + 1]
        if length < 2 or pos + length > end:
            return None
        segment = view[pos + 2 : pos + length]
        pos += length
        if marker == 0xE1:
            head = bytes(segment[:29])
            if head.startswith(_EXIF):
                exif = bytes(segment) if not exif else exif + bytes(segment[6:])
            elif head.startswith(_XMP):
                xmp = True
        elif marker in _ALL_SOF and frame is None:
            if len(segment) < 6:
                return None
            precision, height, width, components = struct.unpack(">BHHB", segment[:6])
            frame = (marker, precision, height, width, components)
        elif marker == 0xDA:  # start of scan: no more header markers
            break
    if frame is None:
        return None
    sof, precision, height, width, components = frame
    orientation = _exif_orientation(exif) if exif else -1
    if orientation == -1 and xmp:  # no EXIF orientation: Pillow looks in the XMP packet
        orientation = None
    elif orientation == -1:
        orientation = 1
    return JpegHeader(width, height, sof, precision, components, orientation)


def _exif_orientation(exif: bytes) -> int | None:
    """Orientation from IFD0 of an ``Exif\\0\\0`` block: 1..8, -1 if absent, None if unsure.

    Mirrors ``pillow_decode._orientation``: a value outside 1..8 reads as 1.
    """
    tiff = exif[6:]
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for i in range(count):
            tag, kind, n = struct.unpack_from(order + "HHI", tiff, ifd + 2 + 12 * i)
            if tag != _ORIENTATION_TAG:
                continue
            if kind != 3 or n != 1:  # not one SHORT: leave it to Pillow
                return None
            (value,) = struct.unpack_from(order + "H", tiff, ifd + 2 + 12 * i + 8)
            return value if 1 <= value <= 8 else 1
    except struct.error:
        return None
    return -1


def decode_turbo(
    data: bytes,
    header: JpegHeader,
    need: tuple[int, int] | None,
) -> np.ndarray | None:
    """Decode ``data`` at the smallest M/8 scale keeping at least ``need`` = (width, height).

    ``need`` is in the stored frame; None decodes at full size. Returns the ``H x W x 3``
    uint8 array, or None when libjpeg-turbo reports the data as corrupt or truncated
    (the caller then asks Pillow, which applies the error policy).
    """
    import simplejpeg

    min_width, min_height = need if need is not None else (header.width, header.height)
    try:
        return simplejpeg.decode_jpeg(
            data, colorspace="RGB", min_width=int(min_width), min_height=int(min_height)
        )
    except (ValueError, RuntimeError, OSError):
        return None


def as_image(arr: np.ndarray) -> Image.Image:
    """A Pillow RGB image over ``arr`` (no copy when Pillow can share the buffer)."""
    return Image.fromarray(arr, "RGB")
