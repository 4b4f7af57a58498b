"""Tests for genlab.transforms.classic (the classic augment): each op's pixels, replay, determinism, independence, odds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genlab.transforms.classic import (
    AUGMENT_DEFAULTS,
    AUGMENT_OPS,
    apply_all,
    augment_image,
    check_augment_params,
    draw_all,
)

OPS = {op.name: op for op in AUGMENT_OPS}
ALL_ON = {op.params[0]: 1.0 for op in AUGMENT_OPS}
ALL_OFF = {op.params[0]: 0.0 for op in AUGMENT_OPS}


def _image(height: int = 8, width: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _only(name: str, **magnitudes: float) -> dict:
    """Params with every op off except ``name``, which always fires."""
    return {**ALL_OFF, OPS[name].params[0]: 1.0, **magnitudes}


def _apply(name: str, img: np.ndarray, **drawn) -> np.ndarray:
    out = OPS[name].apply(img, drawn)
    assert out.shape == img.shape and out.dtype == np.uint8
    return out


# ----------------------------------------------------------------------------- each op


def test_flips_match_numpy():
    img = _image(5, 7)
    np.testing.assert_array_equal(_apply("hflip", img), np.fliplr(img))
    np.testing.assert_array_equal(_apply("vflip", img), np.flipud(img))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rotate90_matches_numpy(k):
    img = _image(6, 6)
    np.testing.assert_array_equal(_apply("rotate90", img, k=k), np.rot90(img, k))


def test_rotate90_draws_every_quarter_turn_for_square_images_and_only_half_turns_otherwise():
    params = _only("rotate90")
    rng = np.random.default_rng(0)
    square = {draw_all(rng, params, (8, 8, 3))[0]["k"] for _ in range(200)}
    wide = {draw_all(rng, params, (8, 12, 3))[0]["k"] for _ in range(200)}
    assert square == {1, 2, 3}
    assert wide == {2}


def test_rotation_by_a_quarter_turn_matches_numpy_and_keeps_the_size():
    img = _image(6, 6)
    np.testing.assert_array_equal(_apply("rotation", img, angle=90.0), np.rot90(img))
    wide = _image(6, 10)
    out = _apply("rotation", wide, angle=30.0)
    assert out.shape == wide.shape
    assert (out[0, 0] == 0).all() and (out[-1, -1] == 0).all()  # black corners


def test_rotation_angle_stays_within_the_magnitude():
    params = _only("rotation", rotation_degrees=12.0)
    rng = np.random.default_rng(1)
    angles = [draw_all(rng, params, (8, 8, 3))[0]["angle"] for _ in range(300)]
    assert max(abs(a) for a in angles) <= 12.0
    assert min(angles) < -8 and max(angles) > 8


def test_crop_of_the_whole_image_is_the_identity():
    img = _image(6, 9)
    out = _apply("crop", img, top=0, left=0, height=6, width=9)
    np.testing.assert_array_equal(out, img)


def test_crop_zooms_into_the_drawn_box():
    img = np.zeros((16, 16, 3), np.uint8)
    img[:, 8:] = 200
    left_box = _apply("crop", img, top=2, left=0, height=10, width=4)
    right_box = _apply("crop", img, top=0, left=12, height=16, width=4)
    assert (left_box == 0).all()
    assert (right_box == 200).all()


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(1, 64),
    width=st.integers(1, 64),
    scale=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_crop_box_is_inside_the_image_with_the_drawn_area_and_aspect(height, width, scale, seed):
    drawn = draw_all(np.random.default_rng(seed), _only("crop", crop_scale=scale), (height, width))
    box = drawn[0]
    assert 0 <= box["top"] and box["top"] + box["height"] <= height
    assert 0 <= box["left"] and box["left"] + box["width"] <= width
    assert box["height"] >= 1 and box["width"] >= 1
    if min(height, width) >= 32 and box["height"] < height and box["width"] < width:
        area = box["height"] * box["width"] / (height * width)
        aspect = box["width"] / box["height"]
        assert scale * 0.85 <= area <= 1.0
        assert 3 / 4 * 0.9 <= aspect <= 4 / 3 * 1.1


def test_brightness_multiplies_and_clips():
    img = np.array([[[100, 200, 0]]], np.uint8)
    np.testing.assert_array_equal(_apply("brightness", img, factor=1.5), [[[150, 255, 0]]])
    np.testing.assert_array_equal(_apply("brightness", img, factor=0.25), [[[25, 50, 0]]])


def test_contrast_blends_with_the_mean_grey():
    img = np.array([[[100] * 3, [200] * 3]], np.uint8)
    np.testing.assert_array_equal(_apply("contrast", img, factor=0.0), [[[150] * 3] * 2])
    np.testing.assert_array_equal(_apply("contrast", img, factor=2.0), [[[50] * 3, [250] * 3]])
    np.testing.assert_array_equal(_apply("contrast", img, factor=1.0), img)


def test_saturation_zero_gives_grey_and_grey_images_do_not_change():
    img = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    grey = _apply("saturation", img, factor=0.0)
    np.testing.assert_array_equal(grey, [[[76] * 3, [29] * 3]])  # ITU-R 601 luma
    np.testing.assert_array_equal(_apply("saturation", img, factor=1.0), img)
    flat = np.full((3, 3, 3), 90, np.uint8)
    np.testing.assert_array_equal(_apply("saturation", flat, factor=1.8), flat)


def test_noise_has_the_drawn_spread_and_is_fixed_by_its_seed():
    img = np.full((64, 64, 3), 128, np.uint8)
    out = _apply("noise", img, std=10.0, seed=7)
    delta = out.astype(float) - 128
    assert abs(delta.mean()) < 0.5 and 9.5 < delta.std() < 10.5
    np.testing.assert_array_equal(out, _apply("noise", img, std=10.0, seed=7))
    assert not np.array_equal(out, _apply("noise", img, std=10.0, seed=8))


def test_cutout_zeroes_one_square_and_nothing_else():
    img = np.full((10, 12, 3), 50, np.uint8)
    out = _apply("cutout", img, top=2, left=3, size=4)
    assert (out[2:6, 3:7] == 0).all()
    out[2:6, 3:7] = 50
    np.testing.assert_array_equal(out, img)
    assert (img == 50).all()  # the input is untouched


def test_cutout_size_is_a_fraction_of_the_short_side():
    drawn = draw_all(np.random.default_rng(0), _only("cutout", cutout_size=0.25), (40, 80, 3))
    assert drawn[0]["size"] == 10


# ----------------------------------------------------------------------------- all ops


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    seed=st.integers(0, 2**32 - 1),
    probabilities=st.lists(
        st.floats(0.0, 1.0), min_size=len(AUGMENT_OPS), max_size=len(AUGMENT_OPS)
    ),
)
def test_shape_dtype_input_and_replay(height, width, seed, probabilities):
    img = _image(height, width, seed=seed % 1000)
    before = img.copy()
    params = {op.params[0]: p for op, p in zip(AUGMENT_OPS, probabilities, strict=True)}
    out, records = augment_image(img, np.random.default_rng(seed), params)
    assert out.shape == img.shape and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(img, before)
    replayed = apply_all(img, json.loads(json.dumps(records)))
    np.testing.assert_array_equal(replayed, out)


def test_records_are_plain_json_values():
    records = draw_all(np.random.default_rng(3), ALL_ON, (32, 32, 3))
    assert [r["op"] for r in records] == [op.name for op in AUGMENT_OPS]
    for record in records:
        for value in record.values():
            assert type(value) in (str, int, float)
    assert json.loads(json.dumps(records)) == records


def test_same_seed_same_output():
    img = _image(16, 16)
    first = augment_image(img, np.random.default_rng(42), ALL_ON)
    second = augment_image(img, np.random.default_rng(42), ALL_ON)
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1] == second[1]
    third = augment_image(img, np.random.default_rng(43), ALL_ON)
    assert third[1] != first[1]


@pytest.mark.parametrize("disabled", [op.name for op in AUGMENT_OPS])
def test_disabling_one_op_leaves_the_others_draws_alone(disabled):
    params_off = {**ALL_ON, OPS[disabled].params[0]: 0.0}
    for seed in range(20):
        with_all = draw_all(np.random.default_rng(seed), ALL_ON, (24, 24, 3))
        without = draw_all(np.random.default_rng(seed), params_off, (24, 24, 3))
        assert without == [r for r in with_all if r["op"] != disabled]


def test_magnitudes_do_not_shift_the_stream():
    small = draw_all(np.random.default_rng(9), {**ALL_ON, "crop_scale": 0.9}, (20, 30, 3))
    large = draw_all(np.random.default_rng(9), {**ALL_ON, "crop_scale": 0.1}, (20, 30, 3))
    assert [r for r in small if r["op"] != "crop"] == [r for r in large if r["op"] != "crop"]
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    draw_all(rng_a, ALL_ON, (8, 8, 3))
    draw_all(rng_b, ALL_OFF, (8, 8, 3))
    assert rng_a.random() == rng_b.random()


@pytest.mark.parametrize("name", [op.name for op in AUGMENT_OPS])
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_probabilities_are_honoured(name, p):
    params = {**ALL_OFF, OPS[name].params[0]: p}
    rng = np.random.default_rng(1234)
    n = 2000
    hits = sum(bool(draw_all(rng, params, (16, 16, 3))) for _ in range(n))
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(hits - n * p) <= 5 * sigma  # exact for p = 0 and p = 1


def test_defaults_flip_horizontally_half_the_time_and_nothing_else():
    rng = np.random.default_rng(0)
    names = [r["op"] for _ in range(400) for r in draw_all(rng, None, (8, 8, 3))]
    assert set(names) == {"hflip"}
    assert 160 <= len(names) <= 240
    assert set(AUGMENT_DEFAULTS) == {name for op in AUGMENT_OPS for name in op.params}


def test_zero_magnitude_means_not_applied():
    params = {
        **ALL_ON,
        "rotation_degrees": 0.0,
        "brightness": 0.0,
        "contrast": 0.0,
        "saturation": 0.0,
        "noise_std": 0.0,
        "cutout_size": 0.0,
    }
    names = [r["op"] for r in draw_all(np.random.default_rng(0), params, (8, 8, 3))]
    assert names == ["hflip", "vflip", "rotate90", "crop"]


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"hflipp": 0.5}, "hflipp"),
        ({"hflip": 1.5}, "hflip"),
        ({"vflip": -0.1}, "vflip"),
        ({"crop_scale": 0.0}, "crop_scale"),
        ({"rotation_degrees": 200}, "rotation_degrees"),
        ({"brightness": "0.2"}, "brightness"),
        ({"noise_std": float("nan")}, "noise_std"),
        ({"cutout_size": None}, "cutout_size"),
    ],
)
def test_bad_parameters_name_the_parameter(params, parameter):
    with pytest.raises(ValueError, match=parameter):
        check_augment_params(params)
    with pytest.raises(ValueError, match=parameter):
        augment_image(_image(), np.random.default_rng(0), params)


def test_true_counts_as_probability_one():
    assert check_augment_params({"rotate90": True})["rotate90"] == 1.0


def test_apply_all_rejects_unknown_ops_and_non_images():
    with pytest.raises(ValueError, match="'twirl'"):
        apply_all(_image(), [{"op": "twirl"}])
    with pytest.raises(ValueError, match="uint8"):
        apply_all(_image().astype(np.float32), [])
