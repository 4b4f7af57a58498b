"""The libjpeg-turbo path (decoder="turbo"): DCT scale, orientation, fallbacks, error policy."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import simplejpeg
from PIL import Image, ImageOps

from genlab.ops import jpeg
from genlab.ops.decode import DEFAULT_MAX_PIXELS, ImageReadError, decode_crop, decode_image


def _encode(img: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _smooth(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width] / np.array([height - 1, width - 1])[:, None, None]
    waves = 0.5 + 0.5 * np.sin(np.stack([3 * x, 2 * y, 2 * (x + y)], axis=2) * np.pi)
    return (waves * 255).round().astype(np.uint8)


def _photo(width: int, height: int, **options) -> bytes:
    return _encode(Image.fromarray(_smooth(width, height)), quality=90, **options)


def _with_orientation(width: int, height: int, orientation: int, *, endian: str = "<") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif.endian = endian
    return _encode(Image.fromarray(_smooth(width, height)), quality=90, exif=exif.tobytes())


@pytest.fixture
def decoded_shapes(monkeypatch):
    """Record the shape of every array libjpeg-turbo returns."""
    shapes = []
    real = simplejpeg.decode_jpeg

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        shapes.append(out.shape)
        return out

    monkeypatch.setattr(simplejpeg, "decode_jpeg", spy)
    return shapes


def _smallest_scale(source, need):
    """(width, height) of the smallest M/8 decode with both sides >= need (ceil rounding)."""
    for m in range(1, 9):
        size = (math.ceil(source[0] * m / 8), math.ceil(source[1] * m / 8))
        if size[0] >= need[0] and size[1] >= need[1]:
            return size
    return source


# ----------------------------------------------------------------------------- the DCT scale


@pytest.mark.parametrize(
    "resize, need",
    [("stretch", (224, 224)), ("center_crop", (299, 224)), ("pad", (224, 168))],
)
def test_decodes_at_the_smallest_scale_the_policy_needs(resize, need, decoded_shapes):
    data = _photo(500, 375)
    out = decode_image(data, (224, 224), resize=resize, decoder="turbo")
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8 and not out.flags.writeable
    width, height = _smallest_scale((500, 375), need)
    assert decoded_shapes == [(height, width, 3)]
    assert width < 500  # scaled, not a full decode


def test_draft_off_decodes_at_full_size(decoded_shapes):
    decode_image(_photo(500, 375), (224, 224), draft=False, decoder="turbo")
    assert decoded_shapes == [(375, 500, 3)]


@pytest.mark.parametrize("resize", ["stretch", "center_crop", "pad"])
def test_pixels_stay_close_to_pillows(resize):
    data = _photo(640, 480)
    turbo = decode_image(data, (200, 160), resize=resize, decoder="turbo").astype(int)
    pillow = decode_image(data, (200, 160), resize=resize, decoder="pillow").astype(int)
    assert np.abs(turbo - pillow).mean() < 1.5


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_full_size_decode_matches_pillow_exactly(mode):
    data = _encode(Image.fromarray(_smooth(90, 70)).convert(mode), quality=85)
    np.testing.assert_array_equal(
        decode_image(data, None, decoder="turbo"), decode_image(data, None, decoder="pillow")
    )


def test_progressive_jpeg_takes_the_fast_path(decoded_shapes):
    data = _photo(400, 300, progressive=True)
    out = decode_image(data, (100, 100), decoder="turbo")
    width, height = _smallest_scale((400, 300), (100, 100))
    assert decoded_shapes == [(height, width, 3)] and width < 400 and out.shape == (100, 100, 3)


# ----------------------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("endian", ["<", ">"])
def test_exif_orientation_matches_pillow(orientation, endian):
    data = _with_orientation(48, 32, orientation, endian=endian)
    assert jpeg.jpeg_header(data).orientation == orientation
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    np.testing.assert_array_equal(decode_image(data, None, decoder="turbo"), expected)


@pytest.mark.parametrize("orientation", [5, 6, 8])
def test_orientation_is_applied_around_the_scaled_resize(orientation):
    data = _with_orientation(400, 200, orientation)
    turbo = decode_image(data, (50, 90), decoder="turbo").astype(int)
    pillow = decode_image(data, (50, 90), decoder="pillow").astype(int)
    assert turbo.shape == pillow.shape == (90, 50, 3)
    assert np.abs(turbo - pillow).mean() < 2


def test_orientation_only_in_xmp_is_left_to_pillow(decoded_shapes):
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    data = _encode(Image.fromarray(_smooth(40, 20)), quality=90, xmp=xmp)
    assert jpeg.jpeg_header(data).orientation is None
    out = decode_image(data, None, decoder="turbo")
    assert out.shape == (40, 20, 3) and decoded_shapes == []  # upright, as Pillow reads it


# ----------------------------------------------------------------------------- fallbacks


@pytest.mark.parametrize(
    "make",
    [
        lambda: _encode(Image.fromarray(_smooth(60, 40)).convert("CMYK"), quality=90),
        lambda: _encode(Image.fromarray(_smooth(60, 40)), "PNG"),
        lambda: _encode(Image.fromarray(_smooth(60, 40)), "WEBP"),
    ],
    ids=["cmyk-jpeg", "png", "webp"],
)
def test_what_turbo_declines_is_decoded_by_pillow(make, decoded_shapes):
    data = make()
    np.testing.assert_array_equal(
        decode_image(data, (30, 20), decoder="turbo"),
        decode_image(data, (30, 20), decoder="pillow"),
    )
    assert decoded_shapes == []


def test_truncated_jpeg_is_an_error_unless_allowed(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noise))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"cut\.jpg.*truncated"):
        decode_image(path, (32, 32), decoder="turbo")
    np.testing.assert_array_equal(
        decode_image(path, (32, 32), allow_truncated=True, decoder="turbo"),
        decode_image(path, (32, 32), allow_truncated=True, decoder="pillow"),
    )


@pytest.mark.parametrize(
    "data, message",
    [(b"", "empty file"), (b"\xff\xd8\xff\xe0 not really", "corrupt|not an image"),
     (b"hello", "not an image")],
)  # fmt: skip
def test_unreadable_data_raises_naming_the_file(data, message):
    with pytest.raises(ImageReadError, match=rf"'x\.jpg'.*({message})"):
        decode_image(data, (8, 8), path="x.jpg", decoder="turbo")


def test_missing_file_is_an_image_read_error(tmp_path):
    with pytest.raises(ImageReadError, match="nope.jpg"):
        decode_image(tmp_path / "nope.jpg", (8, 8), decoder="turbo")


def test_bomb_limit_is_checked_from_the_header_before_decoding(decoded_shapes):
    data = _photo(40, 30)
    with pytest.raises(ImageReadError, match=r"decompression bomb: 40x30 = 1200 pixels"):
        decode_image(data, (8, 8), max_pixels=1199, decoder="turbo")
    assert decoded_shapes == []
    assert decode_image(data, (8, 8), max_pixels=1200, decoder="turbo").shape == (8, 8, 3)
    assert Image.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS


def test_paths_bytes_and_file_objects_decode_alike(tmp_path):
    data = _photo(120, 90)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    by_bytes = decode_image(data, (32, 32), decoder="turbo")
    np.testing.assert_array_equal(decode_image(path, (32, 32), decoder="turbo"), by_bytes)
    with open(path, "rb") as f:
        np.testing.assert_array_equal(decode_image(f, (32, 32), decoder="turbo"), by_bytes)


def test_unknown_decoder_is_named():
    with pytest.raises(ValueError, match="decoder must be one of.*'libjpeg'"):
        decode_image(_photo(16, 16), (8, 8), decoder="libjpeg")


def test_header_parse_of_a_non_jpeg_and_a_bad_segment_is_none():
    assert jpeg.jpeg_header(b"\x89PNG\r\n\x1a\n") is None
    assert jpeg.jpeg_header(b"\xff\xd8\xff\xe0\x00\x40short") is None  # length past the end


# ----------------------------------------------------------------------------- crop while decoding


def _reference_crop(data, box, size):
    """Full Pillow decode, upright, then crop ``box`` and resize: what a random resized crop does."""
    top, left, height, width = box
    full = Image.fromarray(decode_image(data, None, decoder="pillow"))
    return np.asarray(
        full.resize(size, Image.Resampling.BILINEAR, box=(left, top, left + width, top + height))
    )


@pytest.mark.parametrize("box", [(0, 0, 375, 500), (20, 100, 300, 360), (150, 200, 40, 30)])
def test_decode_crop_with_pillow_is_crop_after_full_decode(box):
    data = _photo(500, 375)
    np.testing.assert_array_equal(
        decode_crop(data, box, (64, 48), decoder="pillow"), _reference_crop(data, box, (64, 48))
    )


def test_a_small_crop_needs_the_full_scale_and_matches_exactly(decoded_shapes):
    data = _photo(500, 375)
    box = (150, 200, 40, 30)  # 30x40 pixels -> 64x48 needs every source pixel
    out = decode_crop(data, box, (64, 48), decoder="turbo")
    assert decoded_shapes == [(375, 500, 3)]
    np.testing.assert_array_equal(out, _reference_crop(data, box, (64, 48)))


@pytest.mark.parametrize("box", [(0, 0, 375, 500), (20, 100, 300, 360)])
def test_a_large_crop_is_decoded_at_a_smaller_scale_within_tolerance(box, decoded_shapes):
    data = _photo(500, 375)
    out = decode_crop(data, box, (64, 48), decoder="turbo")
    height, width, _ = decoded_shapes[0]
    assert width < 500 and width * box[3] / 500 >= 64 and height * box[2] / 375 >= 48
    assert out.shape == (48, 64, 3)
    assert np.abs(out.astype(int) - _reference_crop(data, box, (64, 48))).mean() < 1.5


@pytest.mark.parametrize("orientation", [3, 6, 7])
def test_crop_boxes_are_in_upright_pixels(orientation, decoded_shapes):
    data = _with_orientation(400, 200, orientation)
    upright_width = 200 if orientation in (6, 7) else 400
    box = (10, upright_width // 2, 150, upright_width // 2 - 10)
    out = decode_crop(data, box, (40, 60), decoder="turbo").astype(int)
    assert decoded_shapes and decoded_shapes[0][1] < 400  # scaled
    assert np.abs(out - _reference_crop(data, box, (40, 60))).mean() < 2


def test_a_box_outside_the_image_is_named():
    data = _photo(100, 80)
    for decoder in ("turbo", "pillow"):
        with pytest.raises(
            ValueError, match=r"box \(top=0, left=50, height=10, width=60\) is outside the 100x80"
        ):
            decode_crop(data, (0, 50, 10, 60), (8, 8), decoder=decoder)
    with pytest.raises(ValueError, match="box must be"):
        decode_crop(data, (0, 0, 0, 10), (8, 8))
