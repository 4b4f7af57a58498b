"""Tests for genlab.ops.decode: modes, orientation, draft, resize policies, errors."""

from __future__ import annotations

import io
import pickle
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, ImageOps

from genlab.ops.decode import (
    DEFAULT_MAX_PIXELS,
    ImageReadError,
    check_decode_params,
    decode_image,
    image_size,
    verify_image,
)


def _encode(img: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _gradient(width: int, height: int) -> np.ndarray:
    """A smooth RGB image whose every pixel differs from its mirror images."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack(
        [x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x * 7 + y * 3) % 256],
        axis=2,
    ).astype(np.uint8)


def _smooth(width: int, height: int) -> np.ndarray:
    """A smooth RGB image (no sharp edges, so JPEG and resampling errors stay small)."""
    y, x = (
        np.mgrid[0:height, 0:width]
        / np.array([max(1, height - 1), max(1, width - 1)])[:, None, None]
    )
    waves = 0.5 + 0.5 * np.sin(np.stack([3 * x, 2 * y, 2 * (x + y)], axis=2) * np.pi)
    return (waves * 255).round().astype(np.uint8)


def _photo_jpeg(width: int, height: int, **options) -> bytes:
    return _encode(Image.fromarray(_smooth(width, height)), "JPEG", quality=90, **options)


def _with_orientation(img: Image.Image, orientation: int, fmt: str) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(img, fmt, exif=exif.tobytes())


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size in its header and holds no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"")


# ----------------------------------------------------------------------------- sources, shape


def test_target_size_is_width_height_and_output_is_c_contiguous_uint8():
    data = _encode(Image.fromarray(_gradient(60, 40)))
    out = decode_image(data, (30, 10))
    assert out.shape == (10, 30, 3)
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    assert not out.flags.writeable


def test_target_size_none_keeps_the_original_pixels():
    pixels = _gradient(23, 17)
    out = decode_image(_encode(Image.fromarray(pixels)), None)
    np.testing.assert_array_equal(out, pixels)


def test_bytes_paths_and_file_objects_decode_alike(tmp_path):
    data = _encode(Image.fromarray(_gradient(50, 30)))
    path = tmp_path / "a.png"
    path.write_bytes(data)
    expected = decode_image(data, (20, 20))
    with open(path, "rb") as fileobj:
        from_file = decode_image(fileobj, (20, 20))
    for out in (
        decode_image(str(path), (20, 20)),
        decode_image(path, (20, 20)),
        decode_image(bytearray(data), (20, 20)),
        decode_image(memoryview(data), (20, 20)),
        from_file,
    ):
        np.testing.assert_array_equal(out, expected)


def test_png_named_jpg_is_read_by_content(tmp_path):
    pixels = _gradient(12, 8)
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes(_encode(Image.fromarray(pixels), "PNG"))
    np.testing.assert_array_equal(decode_image(path, None), pixels)
    assert image_size(path) == (12, 8)
    verify_image(path)


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    target=st.tuples(st.integers(1, 50), st.integers(1, 50)),
    resize=st.sampled_from(["stretch", "center_crop", "pad"]),
)
@example(
    width=1, height=7, target=(1, 41), resize="center_crop"
)  # a crop box a rounding error too tall
def test_every_policy_gives_the_target_shape(width, height, target, resize):
    data = _encode(Image.fromarray(_gradient(width, height)))
    out = decode_image(data, target, resize=resize)
    assert out.shape == (target[1], target[0], 3)


# ----------------------------------------------------------------------------- modes


def test_one_bit_becomes_black_and_white():
    bits = np.array([[True, False, True], [False, False, True]])
    out = decode_image(_encode(Image.fromarray(bits)), None)
    np.testing.assert_array_equal(out, np.repeat((bits * 255)[:, :, None], 3, axis=2))


def test_grey_is_repeated_over_three_channels():
    grey = _gradient(9, 5)[:, :, 0]
    out = decode_image(_encode(Image.fromarray(grey, "L")), None)
    np.testing.assert_array_equal(out, np.repeat(grey[:, :, None], 3, axis=2))


def test_rgba_is_composited_onto_black():
    rgb = _gradient(8, 6)
    alpha = np.linspace(0, 255, 48).astype(np.uint8).reshape(6, 8, 1)
    data = _encode(Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA"))
    out = decode_image(data, None).astype(int)
    expected = rgb.astype(int) * alpha.astype(int) / 255
    assert np.abs(out - expected).max() <= 1
    assert (out[alpha[:, :, 0] == 0] == 0).all()


def test_grey_with_alpha_is_composited_onto_black():
    grey = np.full((4, 4), 200, np.uint8)
    alpha = np.array([[0, 64, 128, 255]] * 4, np.uint8)
    data = _encode(Image.fromarray(np.stack([grey, alpha], axis=2), "LA"))
    out = decode_image(data, None).astype(int)
    expected = np.repeat((200 * alpha.astype(int) / 255)[:, :, None], 3, axis=2)
    assert np.abs(out - expected).max() <= 1


def test_palette_with_a_transparent_index_is_composited_onto_black():
    indices = np.array([[0, 1], [2, 1]], np.uint8)
    img = Image.fromarray(indices, "P")
    img.putpalette([10, 20, 30, 200, 100, 50, 0, 255, 0] + [0] * (256 * 3 - 9))
    opaque = decode_image(_encode(img), None)
    np.testing.assert_array_equal(opaque[0, 1], [200, 100, 50])
    np.testing.assert_array_equal(opaque[1, 0], [0, 255, 0])
    out = decode_image(_encode(img, transparency=1), None)
    np.testing.assert_array_equal(out[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(out[0, 1], [0, 0, 0])
    np.testing.assert_array_equal(out[1, 1], [0, 0, 0])


def test_rgb_with_a_transparent_colour_is_composited_onto_black():
    pixels = np.array([[[1, 2, 3], [9, 9, 9]]], np.uint8)
    out = decode_image(_encode(Image.fromarray(pixels), transparency=(9, 9, 9)), None)
    np.testing.assert_array_equal(out, [[[1, 2, 3], [0, 0, 0]]])


@pytest.mark.parametrize("fmt", ["TIFF", "JPEG"])
def test_cmyk_matches_pillows_conversion(fmt):
    cmyk = np.random.default_rng(0).integers(0, 256, (6, 5, 4), dtype=np.uint8)
    data = _encode(Image.fromarray(cmyk, "CMYK"), fmt)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(decode_image(data, None), expected)


def test_sixteen_bit_is_scaled_not_clipped():
    values = np.array([[0, 257, 32768, 65535], [1000, 20000, 40000, 65000]], np.uint16)
    img = Image.fromarray(values)
    assert img.mode == "I;16"
    out = decode_image(_encode(img), None)
    expected = np.rint(values.astype(float) * 255 / 65535).astype(np.uint8)
    np.testing.assert_array_equal(out[:, :, 0], expected)
    np.testing.assert_array_equal(out[:, :, 0], out[:, :, 2])
    assert out[0, 2, 0] == 128  # Pillow's own convert("L") would clip this to 255


def test_sixteen_bit_resized_keeps_its_level():
    img = Image.fromarray(np.full((40, 40), 32768, np.uint16))
    assert (decode_image(_encode(img), (10, 10)) == 128).all()


def test_mode_i_is_read_as_sixteen_bit_and_clipped():
    values = np.array([[-5, 0, 32768, 70000]], np.int32)
    out = decode_image(_encode(Image.fromarray(values, "I"), "TIFF"), None)
    np.testing.assert_array_equal(out[0, :, 1], [0, 0, 128, 255])


def test_mode_f_is_read_as_zero_to_one_and_clipped():
    values = np.array([[-0.5, 0.0, 0.5, 1.0, 2.0]], np.float32)
    out = decode_image(_encode(Image.fromarray(values, "F"), "TIFF"), None)
    np.testing.assert_array_equal(out[0, :, 2], [0, 0, 128, 255, 255])


# ----------------------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillows_exif_transpose(orientation):
    data = _with_orientation(Image.fromarray(_gradient(6, 4)), orientation, "PNG")
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    np.testing.assert_array_equal(decode_image(data, None), expected)
    assert image_size(data) == expected.shape[1::-1]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_before_resizing_a_jpeg(orientation):
    data = _with_orientation(Image.fromarray(_gradient(64, 32)), orientation, "JPEG")
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    expected = np.asarray(upright.resize((8, 12), Image.Resampling.BILINEAR)).astype(int)
    out = decode_image(data, (8, 12), draft=False)
    assert out.shape == (12, 8, 3)
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_orientation_and_draft_together_give_the_upright_image():
    data = _with_orientation(Image.fromarray(_smooth(400, 200)), 6, "JPEG")
    full = decode_image(data, (50, 100), draft=False).astype(int)
    drafted = decode_image(data, (50, 100), draft=True).astype(int)
    assert drafted.shape == (100, 50, 3)
    assert np.abs(full - drafted).mean() < 2


# ----------------------------------------------------------------------------- draft, resize


def test_draft_decodes_a_large_jpeg_at_reduced_scale():
    data = _photo_jpeg(896, 672)
    full = decode_image(data, (224, 224), draft=False).astype(int)
    drafted = decode_image(data, (224, 224), draft=True).astype(int)
    assert not np.array_equal(full, drafted)  # a different decode path was taken
    assert np.abs(full - drafted).mean() < 2


@pytest.mark.parametrize("resize", ["stretch", "center_crop", "pad"])
def test_draft_keeps_geometry_for_every_policy(resize):
    data = _photo_jpeg(800, 400)
    full = decode_image(data, (100, 100), resize=resize, draft=False).astype(int)
    drafted = decode_image(data, (100, 100), resize=resize, draft=True).astype(int)
    assert np.abs(full - drafted).mean() < 2


def test_draft_leaves_a_jpeg_under_twice_the_target_untouched():
    data = _photo_jpeg(300, 300)
    np.testing.assert_array_equal(
        decode_image(data, (224, 224), draft=True), decode_image(data, (224, 224), draft=False)
    )


def test_stretch_is_a_plain_resize():
    img = Image.fromarray(_gradient(70, 30))
    expected = np.asarray(img.resize((20, 25), Image.Resampling.BICUBIC))
    out = decode_image(_encode(img), (20, 25), resample="bicubic")
    np.testing.assert_array_equal(out, expected)


def test_center_crop_keeps_the_middle_of_a_wide_image():
    img = Image.fromarray(_smooth(200, 100))
    expected = np.asarray(img.crop((50, 0, 150, 100)).resize((50, 50), Image.Resampling.BILINEAR))
    out = decode_image(_encode(img), (50, 50), resize="center_crop")
    assert np.abs(out.astype(int) - expected).max() <= 2


def test_center_crop_keeps_the_middle_of_a_tall_image():
    img = Image.fromarray(_gradient(40, 120))
    expected = np.asarray(img.crop((0, 40, 40, 80)))
    np.testing.assert_array_equal(
        decode_image(_encode(img), (40, 40), resize="center_crop"), expected
    )


def test_pad_letterboxes_a_wide_image_with_zeros():
    img = Image.fromarray(_gradient(200, 100) | 1)  # no zero pixels in the image itself
    out = decode_image(_encode(img), (50, 50), resize="pad")
    expected_inner = np.asarray(img.resize((50, 25), Image.Resampling.BILINEAR))
    assert (out[:12] == 0).all() and (out[37:] == 0).all()
    np.testing.assert_array_equal(out[12:37], expected_inner)


def test_pad_pillarboxes_a_tall_image_with_zeros():
    img = Image.fromarray(_gradient(30, 60) | 1)
    out = decode_image(_encode(img), (40, 40), resize="pad")
    assert (out[:, :10] == 0).all() and (out[:, 30:] == 0).all()
    assert (out[:, 10:30] != 0).all()


def test_nearest_upscale_repeats_pixels():
    pixels = _gradient(3, 2)
    out = decode_image(_encode(Image.fromarray(pixels)), (6, 4), resample="nearest")
    np.testing.assert_array_equal(out, pixels.repeat(2, axis=0).repeat(2, axis=1))


# ----------------------------------------------------------------------------- errors


def test_zero_byte_file_names_the_path(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.jpg.*empty file \(0 bytes\)") as info:
        decode_image(path)
    assert info.value.path == str(path)
    assert info.value.reason == "empty file (0 bytes)"
    with pytest.raises(ImageReadError, match="empty file"):
        decode_image(b"", path="from/bucket.jpg")
    with pytest.raises(ImageReadError, match="empty file"):
        verify_image(io.BytesIO(b""))


def test_text_file_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n")
    with pytest.raises(ImageReadError, match=r"notes\.png.*not an image"):
        decode_image(path)
    with pytest.raises(ImageReadError, match="not an image"):
        image_size(path)


def test_missing_file_is_an_image_read_error(tmp_path):
    with pytest.raises(ImageReadError, match="missing.png") as info:
        decode_image(tmp_path / "missing.png")
    assert isinstance(info.value, OSError)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_an_error_unless_allowed(tmp_path, fmt):
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noise), fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"cut\..*truncated"):
        decode_image(path, (32, 32))
    with pytest.raises(ImageReadError, match="truncated"):
        verify_image(path)
    out = decode_image(path, (32, 32), allow_truncated=True)
    assert out.shape == (32, 32, 3)
    verify_image(path, allow_truncated=True)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncation_is_refused_even_if_pillow_was_told_to_allow_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = _photo_jpeg(64, 64)
    with pytest.raises(ImageReadError, match="truncated"):
        decode_image(data[: len(data) // 2], (32, 32))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_concurrent_calls_keep_their_own_truncation_setting():
    data = _photo_jpeg(96, 96)
    cut = data[: len(data) // 2]

    def attempt(allow: bool) -> bool:
        try:
            decode_image(cut, (16, 16), allow_truncated=allow)
        except ImageReadError:
            return False
        return True

    flags = [i % 2 == 0 for i in range(120)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, flags))
    assert results == flags
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_decompression_bomb_is_refused_before_decoding():
    data = _encode(Image.fromarray(_gradient(20, 20)))
    with pytest.raises(ImageReadError, match=r"decompression bomb: 20x20 = 400 pixels.*100"):
        decode_image(data, (8, 8), max_pixels=100)
    with pytest.raises(ImageReadError, match="decompression bomb"):
        verify_image(data, max_pixels=399)
    assert decode_image(data, (8, 8), max_pixels=400).shape == (8, 8, 3)
    assert Image.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS


def test_huge_header_is_sized_but_not_decoded():
    data = _png_header(100_000, 100_000)
    assert image_size(data) == (100_000, 100_000)
    with pytest.raises(ImageReadError, match="decompression bomb"):
        decode_image(data, path="huge.png")


def test_max_pixels_above_pillows_limit_is_honoured_without_warnings(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    data = _encode(Image.fromarray(_gradient(20, 20)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decode_image(data, None, max_pixels=1000).shape == (20, 20, 3)
        assert decode_image(data, None, max_pixels=None).shape == (20, 20, 3)
    assert Image.MAX_IMAGE_PIXELS == 50


def test_pillows_own_bomb_error_becomes_an_image_read_error(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    data = _encode(Image.fromarray(_gradient(20, 20)))
    with pytest.raises(ImageReadError, match="decompression bomb"):
        decode_image(data, None, max_pixels=40)


def test_image_read_error_survives_pickling():
    with pytest.raises(ImageReadError) as info:
        decode_image(b"", path="cats/0.jpg")
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.path, clone.reason, str(clone)) == (
        "cats/0.jpg",
        info.value.reason,
        str(info.value),
    )


def test_verify_image_accepts_a_good_file():
    assert verify_image(_photo_jpeg(32, 32)) is None


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"target_size": (0, 5)}, "target_size"),
        ({"target_size": (5,)}, "target_size"),
        ({"target_size": "224"}, "target_size"),
        ({"target_size": (224.0, 224)}, "target_size"),
        ({"target_size": (True, 3)}, "target_size"),
        ({"resize": "fill"}, "resize"),
        ({"resample": "cubic"}, "resample"),
        ({"max_pixels": 0}, "max_pixels"),
        ({"max_pixels": 1.5}, "max_pixels"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, parameter, tmp_path):
    params = {"target_size": (8, 8), "resize": "stretch", "resample": "bilinear", **kwargs}
    with pytest.raises(ValueError, match=parameter):
        check_decode_params(
            params["target_size"], params["resize"], params["resample"],
            max_pixels=kwargs.get("max_pixels", DEFAULT_MAX_PIXELS),
        )  # fmt: skip
    with pytest.raises(ValueError, match=parameter):  # checked before the (missing) file
        decode_image(tmp_path / "missing.png", **kwargs)


def test_verify_image_checks_max_pixels():
    with pytest.raises(ValueError, match="max_pixels"):
        verify_image(_photo_jpeg(8, 8), max_pixels=-1)


def test_good_parameters_pass():
    check_decode_params(None, "pad", "lanczos", max_pixels=None)
    check_decode_params((np.int64(3), 4), "center_crop", "hamming")
