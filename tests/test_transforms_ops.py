"""Every per-sample op: determinism, exact replay, shapes, named errors, and what each one means."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import genlab
from genlab import Batch, BatchInfo, GeneratorPipeline, Pipeline
from genlab.params import Bool, Choice, Float, Floats, Int, Range, Size
from genlab.transforms import get_op, op_names, replay
from genlab.transforms.describe import describe_ops, ops_table

NOT_PER_SAMPLE = ("group", "policy", "mixing")
PER_SAMPLE_OPS = [n for n in op_names() if get_op(n).kind not in NOT_PER_SAMPLE]

#: Parameters that make an op fit the small test images; every op with a ``p`` gets p=1.
FITS = {
    "random_resized_crop": {"size": (20, 16)},
    "center_crop": {"size": (20, 16)},
    "random_crop": {"size": (20, 16)},
}


def applied_params(name: str, **given) -> dict:
    """Parameters with which ``name`` applies to every image of the test batches."""
    params = {"p": 1.0} if "p" in get_op(name).params else {}
    return {**params, **FITS.get(name, {}), **given}


def photo(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth test picture: colour gradients, a bright box and a dark disc, mild noise."""
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack(
        [xx * 200 / width + 20, yy * 200 / height + 30, (xx + yy) * 100 / (width + height) + 60], -1
    )
    img[height // 4 : height // 2, width // 3 : 2 * width // 3] = (235, 220, 40)
    img[(yy - 3 * height // 4) ** 2 + (xx - width // 4) ** 2 < (height // 6) ** 2] = (20, 30, 90)
    img += np.random.default_rng(seed).normal(0, 3, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def photo_batch(n: int = 6, size: tuple[int, int] = (24, 32), seed: int = 0) -> Batch:
    x = np.stack([photo(*size, seed=i) for i in range(n)])
    return Batch(
        x, np.eye(n, dtype=np.int64), BatchInfo(seed=seed, epoch=0, keys=np.arange(10, 10 + n))
    )


def run(batch: Batch, *steps) -> Batch:
    return next(GeneratorPipeline(iter([batch]), *steps))


def draws(name: str, size=(48, 64), n: int = 300, **given) -> list[dict]:
    """``n`` records of ``name`` drawn for an image of ``size``, from independent generators."""
    op = get_op(name)
    params = op.validate(applied_params(name, **given))
    return [op.draw(np.random.default_rng(i), params, size) for i in range(n)]


def apply_record(name: str, img: np.ndarray, **given):
    """``(output, record)`` of one application of ``name`` (always applied) to ``img``."""
    return get_op(name).on_image(img, np.random.default_rng(3), **applied_params(name, **given))


def bad_value(param):
    """A value the declaration must refuse, or None when the test has none for it."""
    if isinstance(param, Bool):
        return "yes"
    if isinstance(param, Choice):
        return "no-such-choice"
    if isinstance(param, Size):
        return (param.high + 1, 1)
    if isinstance(param, Range) and param.high is not None:
        return (param.high, param.high + 1)
    if isinstance(param, Floats) and param.high is not None:
        return [param.high + 1] * param.length
    if isinstance(param, (Float, Int)) and param.high is not None:
        return param.high + 1
    return None


# ----------------------------------------------------------------------------- every op


@pytest.mark.parametrize("name", PER_SAMPLE_OPS)
def test_same_seed_gives_the_same_bytes_and_records(name):
    batch = photo_batch()
    a = run(batch, get_op(name)(**applied_params(name)))
    b = run(batch, get_op(name)(**applied_params(name)))
    np.testing.assert_array_equal(a.x, b.x)
    assert a.info.applied == b.info.applied
    assert all(records for records in a.info.applied)  # p=1: applied to every image


@pytest.mark.parametrize("name", PER_SAMPLE_OPS)
def test_records_are_json_and_replay_exactly(name):
    batch = photo_batch()
    out = run(batch, get_op(name)(**applied_params(name)))
    records = json.loads(json.dumps(out.info.applied))
    for original, augmented, recorded in zip(batch.x, out.x, records):
        np.testing.assert_array_equal(replay(original, recorded), augmented)


@pytest.mark.parametrize("name", PER_SAMPLE_OPS)
def test_an_op_keeps_the_shape_unless_it_declares_an_output_size(name):
    op = get_op(name)
    batch = photo_batch()
    out = run(batch, op(**applied_params(name)))
    expected = op.out_size(op.validate(applied_params(name)), batch.x.shape[1:3])
    assert out.x.shape == (batch.size, *expected, 3) and out.x.dtype == np.uint8
    if op.output_size is None:
        assert expected == batch.x.shape[1:3]
    else:  # a resizing op's records say the size they make, so they replay on their own
        assert all(list(r[0]["size"]) == list(expected) for r in out.info.applied)


@pytest.mark.parametrize("name", [n for n in PER_SAMPLE_OPS if "p" in get_op(n).params])
def test_p0_never_applies_and_p1_always_does(name):
    batch = photo_batch(n=12)
    never = run(batch, get_op(name)(**applied_params(name, p=0.0)))
    assert never.info.applied == ((),) * 12
    np.testing.assert_array_equal(never.x, batch.x)
    always = run(batch, get_op(name)(**applied_params(name, p=1.0)))
    assert all(len(r) == 1 and r[0]["op"] == name for r in always.info.applied)


@pytest.mark.parametrize("name", PER_SAMPLE_OPS)
def test_bad_parameters_are_refused_naming_op_and_parameter(name):
    op = get_op(name)
    with pytest.raises(ValueError, match=f"{name}: unknown parameter 'no_such'"):
        op(no_such=1)
    tested = 0
    for pname, param in op.params.items():
        value = bad_value(param)
        if value is not None:
            with pytest.raises(ValueError, match=f"{name}: parameter '{pname}' must"):
                op(**{pname: value})
            tested += 1
    assert tested == len(op.params)  # every declared parameter has a refused value


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("gaussian_blur", {"kernel_size": 4}, "'kernel_size' must be odd, got 4"),
        ("gaussian_blur", {"sigma": (0.0, 1.0)}, "'sigma' must be between 0.01"),
        ("jpeg", {"quality": (0, 90)}, "'quality' must be between 1"),
        ("jpeg", {"quality": (50.5, 90)}, "'quality' must hold whole numbers"),
        ("random_affine", {"scale": (1.2, 0.8)}, "'scale' must be an interval"),
        ("random_affine", {"translate": (0.1,)}, "'translate' must have 2 values"),
        ("random_rotation", {"center": (0.5, 1.5)}, "'center' must be between 0.0 and 1.0"),
        ("random_erasing", {"ratio": (3.0, 0.3)}, "'ratio' must be an interval"),
        ("posterize", {"bits": 2.5}, "'bits' must be a whole number"),
    ],
)
def test_op_specific_bad_parameters(name, params, message):
    with pytest.raises(ValueError, match=f"{name}: parameter {message}"):
        get_op(name)(**params)


def every_op_chain() -> list:
    """A chain using every per-sample op (resizing ones agree on a size) and both groups."""
    stages = [("read_images", {"target_size": (32, 32)})]
    for name in PER_SAMPLE_OPS:
        given = {"size": (24, 24)} if "size" in get_op(name).params else {}
        stages.append((name, applied_params(name, **given)))
    members = [
        ("hflip", {"p": 1}),
        ("posterize", {"bits": 3, "p": 1}),
    ]  # whichever is picked applies
    stages.append(("one_of", {"ops": members, "weights": [1, 2]}))
    stages.append(
        ("some_of", {"ops": [("invert", {"p": 1}), ("random_rotation", {"degrees": 5})], "n": 1})
    )
    return stages


def test_a_chain_of_every_op_round_trips_through_json_and_python(digits_root, tmp_path):
    p = Pipeline.from_folder(digits_root, batch_size=5, seed=3, stages=every_op_chain())
    q = Pipeline.from_spec(json.loads(json.dumps(p.to_spec())))
    assert q == p
    namespace: dict = {}
    exec(compile(p.to_python(), "exported.py", "exec"), namespace)  # our own export
    r = namespace["pipeline"]
    assert r == p
    a, b, c = (next(iter(x)) for x in (p, q, r))
    names = [rec["op"] for rec in a.info.applied[0]]
    assert set(PER_SAMPLE_OPS) <= set(names) and {"one_of", "some_of"} <= set(names)
    for other in (b, c):
        np.testing.assert_array_equal(a.x, other.x)
        assert a.info.applied == other.info.applied


def test_a_chain_of_every_op_gives_the_same_bytes_with_0_and_2_workers(digits_root):
    serial = Pipeline.from_folder(digits_root, batch_size=8, seed=5, stages=every_op_chain())
    parallel = Pipeline.from_folder(digits_root, batch_size=8, seed=5, stages=every_op_chain())
    parallel.num_workers = 2
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        assert a.info.applied == b.info.applied


def test_the_readme_ops_table_is_the_registry_s():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = ops_table(describe_ops())
    assert table in readme, (
        "README ops table is stale: run python -m genlab.transforms.describe README.md"
    )
    assert all(f"| `{name}` |" in table for name in op_names())


# ----------------------------------------------------------------------------- geometry


def test_random_resized_crop_area_within_scale_and_aspect_within_ratio():
    size = (200, 300)
    boxes = draws("random_resized_crop", size=size, n=500, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    area = np.array([r["height"] * r["width"] for r in boxes]) / (size[0] * size[1])
    aspect = np.array([r["width"] / r["height"] for r in boxes])
    assert area.min() >= 0.2 * 0.97 and area.max() <= 0.6 * 1.03  # rounding to whole pixels
    assert aspect.min() >= 0.5 * 0.97 and aspect.max() <= 2.0 * 1.03
    assert area.max() - area.min() > 0.3 and aspect.max() / aspect.min() > 3  # the ranges are used
    assert all(
        0 <= r["top"] <= size[0] - r["height"] and 0 <= r["left"] <= size[1] - r["width"]
        for r in boxes
    )


def test_hflip_and_vflip_with_p1_are_the_mirrors():
    img = photo()
    np.testing.assert_array_equal(apply_record("hflip", img)[0], img[:, ::-1])
    np.testing.assert_array_equal(apply_record("vflip", img)[0], img[::-1])


def test_random_rotation_angles_stay_within_degrees():
    angles = [r["angle"] for r in draws("random_rotation", degrees=(-20, 35))]
    assert -20 <= min(angles) < -15 and 30 < max(angles) <= 35
    symmetric = [r["angle"] for r in draws("random_rotation", degrees=12)]  # 12 means (-12, 12)
    assert -12 <= min(symmetric) < -10 and 10 < max(symmetric) <= 12


def test_random_rotation_turns_counter_clockwise_about_the_centre():
    img = photo(40, 40)
    out, record = apply_record("random_rotation", img, degrees=(90, 90))
    assert record["angle"] == 90 and record["center"] == [20.0, 20.0]
    assert (out == np.rot90(img)).all(axis=-1).mean() > 0.99  # numpy's rot90 is counter-clockwise


def test_random_affine_with_only_translate_moves_content_by_the_drawn_pixels():
    img = photo()
    fixed = {"degrees": 0, "scale": (1, 1), "translate": (0.25, 0.25), "fill": (7, 8, 9)}
    for seed in range(5):
        out, r = get_op("random_affine").on_image(img, np.random.default_rng(seed), **fixed)
        tx, ty = r["translate"]
        assert abs(tx) <= 0.25 * 64 and abs(ty) <= 0.25 * 48 and (tx, ty) != (0, 0)
        expected = np.empty_like(img)
        expected[...] = (7, 8, 9)
        src = img[max(0, -ty) : 48 - max(0, ty), max(0, -tx) : 64 - max(0, tx)]
        expected[max(0, ty) : max(0, ty) + src.shape[0], max(0, tx) : max(0, tx) + src.shape[1]] = (
            src
        )
        np.testing.assert_array_equal(out, expected)


def test_random_affine_draws_stay_within_their_ranges():
    records = draws(
        "random_affine",
        degrees=(-5, 25),
        translate=(0.1, 0.2),
        scale=(0.7, 1.3),
        shear=(-10, 20),
        shear_y=4,
    )
    assert all(-5 <= r["angle"] <= 25 and 0.7 <= r["scale"] <= 1.3 for r in records)
    # whole pixels, rounded as torchvision rounds them: at most round(0.1 * 64), round(0.2 * 48)
    assert all(abs(r["translate"][0]) <= 6 and abs(r["translate"][1]) <= 10 for r in records)
    assert all(-10 <= r["shear"][0] <= 20 and -4 <= r["shear"][1] <= 4 for r in records)


def test_random_perspective_moves_corners_inwards_within_distortion_scale():
    height, width = 48, 64
    for r in draws("random_perspective", size=(height, width), distortion_scale=0.5):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = r["endpoints"]
        bw, bh = int(0.5 * (width // 2)) + 1, int(0.5 * (height // 2)) + 1
        assert max(x0, x3) < bw and min(x1, x2) >= width - bw
        assert max(y0, y1) < bh and min(y2, y3) >= height - bh
    img = photo(height, width)
    out, r = apply_record("random_perspective", img, distortion_scale=0.0, resample="nearest")
    assert r["endpoints"] == r["startpoints"]
    np.testing.assert_array_equal(out, img)


def torchvision_functional():
    pytest.importorskip("torchvision")
    from torchvision.transforms.v2 import functional

    return functional


def as_tensor(img):
    import torch

    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).contiguous()


def as_array(tensor):
    return tensor.permute(1, 2, 0).numpy()


# torchvision's own Pillow back end gives the same bytes; its tensor back end samples through
# grid_sample, whose pixel-centre rounding differs at edges: on the smooth 48 x 64 photo the
# mean absolute difference stays under 2 levels (measured 0.3-1.2).
TENSOR_TOLERANCE = 2.0


@pytest.mark.parametrize(
    "name, given, call",
    [
        ("random_rotation", {"degrees": (30, 30), "resample": "bilinear"},
         lambda F, x, r: F.rotate(x, 30.0, interpolation=F.InterpolationMode.BILINEAR)),
        ("random_affine", {"degrees": (30, 30), "translate": (0, 0), "scale": (1, 1)},
         lambda F, x, r: F.affine(x, 30.0, [0, 0], 1.0, [0.0, 0.0])),
        ("random_affine", {"degrees": (-20, -20), "translate": (0.2, 0.1), "scale": (1.2, 1.2),
                           "shear": (10, 10), "shear_y": (5, 5), "resample": "bilinear"},
         lambda F, x, r: F.affine(x, -20.0, r["translate"], 1.2, [10.0, 5.0],
                                  interpolation=F.InterpolationMode.BILINEAR)),
        ("random_perspective", {"distortion_scale": 0.6},
         lambda F, x, r: F.perspective(x, r["startpoints"], r["endpoints"])),
    ],
)  # fmt: skip
def test_geometry_means_what_torchvision_means(name, given, call):
    F = torchvision_functional()
    from PIL import Image

    img = photo()
    out, record = apply_record(name, img, **given)
    np.testing.assert_array_equal(np.asarray(call(F, Image.fromarray(img), record)), out)
    from_tensor = as_array(call(F, as_tensor(img), record)).astype(int)
    assert np.abs(from_tensor - out).mean() < TENSOR_TOLERANCE


# ----------------------------------------------------------------------------- colour


@pytest.mark.parametrize(
    "name, given, call, tolerance",
    [
        ("gaussian_blur", {"kernel_size": (7, 5), "sigma": (1.5, 1.5)},
         lambda F, x: F.gaussian_blur(x, [7, 5], [1.5, 1.5]), 1),
        ("sharpness", {"sharpness_factor": 2.5}, lambda F, x: F.adjust_sharpness(x, 2.5), 1),
        ("posterize", {"bits": 3}, lambda F, x: F.posterize(x, 3), 0),
        ("solarize", {"threshold": 100}, lambda F, x: F.solarize(x, 100), 0),
        ("equalize", {}, lambda F, x: F.equalize(x), 1),
        ("autocontrast", {}, lambda F, x: F.autocontrast(x), 0),
        ("invert", {}, lambda F, x: F.invert(x), 0),
        ("grayscale", {}, lambda F, x: F.rgb_to_grayscale(x, num_output_channels=3), 1),
    ],
)  # fmt: skip
def test_colour_ops_agree_with_torchvision_on_tensors(name, given, call, tolerance):
    F = torchvision_functional()
    img = photo()
    out, _ = apply_record(name, img, **given)
    expected = as_array(call(F, as_tensor(img))).astype(int)
    assert np.abs(expected - out).max() <= tolerance  # largest difference in levels


def test_grayscale_makes_three_equal_channels():
    out, _ = apply_record("grayscale", photo())
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert len(np.unique(photo()[..., 0] - photo()[..., 2])) > 1


def test_gaussian_blur_sigma_is_drawn_within_range_and_smooths():
    sigmas = [r["sigma"] for r in draws("gaussian_blur", sigma=(0.5, 3.0))]
    assert 0.5 <= min(sigmas) < 0.7 and 2.8 < max(sigmas) <= 3.0
    img = photo()
    out, _ = apply_record("gaussian_blur", img, sigma=(2, 2))
    roughness = lambda a: np.abs(np.diff(a.astype(int), axis=1)).mean()  # noqa: E731
    assert roughness(out) < 0.5 * roughness(img)


def test_sharpness_factor_1_keeps_the_image_and_2_adds_edge_contrast():
    img = photo()
    np.testing.assert_array_equal(apply_record("sharpness", img, sharpness_factor=1.0)[0], img)
    sharp, _ = apply_record("sharpness", img, sharpness_factor=3.0)
    assert (
        np.abs(np.diff(sharp.astype(int), axis=1)).mean()
        > np.abs(np.diff(img.astype(int), axis=1)).mean()
    )


@pytest.mark.parametrize("bits", [1, 3, 6])
def test_posterize_leaves_2_to_the_bits_levels(bits):
    img = np.arange(256, dtype=np.uint8).repeat(3).reshape(16, 16, 3)
    out, _ = apply_record("posterize", img, bits=bits)
    assert len(np.unique(out)) == 2**bits
    assert (out <= img).all() and (img - out < 2 ** (8 - bits)).all()


def test_solarize_inverts_at_and_above_the_threshold_only():
    img = np.arange(256, dtype=np.uint8).repeat(3).reshape(16, 16, 3)
    out, _ = apply_record("solarize", img, threshold=100)
    above = img >= 100
    np.testing.assert_array_equal(out[above], 255 - img[above])
    np.testing.assert_array_equal(out[~above], img[~above])


def test_invert_twice_is_the_identity():
    img = photo()
    once, _ = apply_record("invert", img)
    np.testing.assert_array_equal(once.astype(int), 255 - img.astype(int))
    np.testing.assert_array_equal(apply_record("invert", once)[0], img)


def test_equalize_flattens_the_histogram():
    img = (photo() // 4 + 80).astype(np.uint8)  # low contrast: 64 levels in the middle
    out, _ = apply_record("equalize", img)
    spread = lambda a: np.bincount(a[..., 1].ravel(), minlength=256).reshape(16, 16).sum(1).std()  # noqa: E731
    assert spread(out) < 0.5 * spread(img)
    assert out[..., 1].max() - out[..., 1].min() > 200


def test_autocontrast_stretches_each_channel_to_the_full_range():
    img = (photo() // 3 + 50).astype(np.uint8)
    out, _ = apply_record("autocontrast", img)
    assert (out.reshape(-1, 3).min(0) == 0).all() and (out.reshape(-1, 3).max(0) >= 254).all()
    flat = np.full((4, 4, 3), 77, np.uint8)
    np.testing.assert_array_equal(apply_record("autocontrast", flat)[0], flat)


def test_jpeg_quality_is_drawn_in_range_and_changes_pixels_but_not_the_shape():
    qualities = [r["quality"] for r in draws("jpeg", quality=(20, 25))]
    assert set(qualities) == set(range(20, 26))
    img = photo()
    low, _ = apply_record("jpeg", img, quality=(5, 5))
    high, _ = apply_record("jpeg", img, quality=(95, 95))
    assert low.shape == high.shape == img.shape
    error = lambda a: np.abs(a.astype(int) - img).mean()  # noqa: E731
    assert 0 < error(high) < error(low)


# ----------------------------------------------------------------------------- noise, erasing


def test_gaussian_noise_std_is_sigma_times_255_and_its_mean_is_mean():
    grey = np.full((64, 64, 3), 128, np.uint8)
    out, record = apply_record("gaussian_noise", grey, sigma=0.05, mean=0.1)
    diff = out.astype(float) - 128  # 128 +- 4 sigma stays inside 0-255: no clipping here
    assert abs(diff.std() - 0.05 * 255) < 0.5 and abs(diff.mean() - 0.1 * 255) < 0.5
    again, _ = get_op("gaussian_noise").on_image(
        grey, np.random.default_rng(4), sigma=0.05, mean=0.1
    )
    assert not (again == out).all()  # another sample, another noise
    white, _ = apply_record("gaussian_noise", np.full((8, 8, 3), 250, np.uint8), sigma=0.2)
    assert white.max() == 255  # clipped, not wrapped


def test_random_erasing_box_area_within_scale_and_ratio_within_ratio():
    size = (60, 80)
    boxes = [r for r in draws("random_erasing", size=size, n=400) if r is not None]
    assert len(boxes) > 390  # with the defaults nearly every try fits
    area = np.array([r["height"] * r["width"] for r in boxes]) / (size[0] * size[1])
    aspect = np.array([r["height"] / r["width"] for r in boxes])  # torchvision: height / width
    assert area.min() >= 0.02 * 0.8 and area.max() <= 0.33 * 1.1  # small boxes round coarsely
    assert aspect.min() >= 0.3 * 0.8 and aspect.max() <= 3.3 * 1.2
    assert all(
        r["top"] + r["height"] <= size[0] and r["left"] + r["width"] <= size[1] for r in boxes
    )


def test_random_erasing_paints_the_box_with_fill_and_nothing_else():
    img = photo()
    out, r = apply_record("random_erasing", img, fill=(1, 2, 3))
    box = (slice(r["top"], r["top"] + r["height"]), slice(r["left"], r["left"] + r["width"]))
    assert (out[box] == (1, 2, 3)).all()
    rest = np.ones(img.shape[:2], bool)
    rest[box] = False
    np.testing.assert_array_equal(out[rest], img[rest])


def test_random_erasing_that_never_fits_is_not_applied():
    assert draws("random_erasing", size=(4, 4), n=20, scale=(0.9, 1.0), ratio=(1, 1)) == [None] * 20


def test_every_op_declares_help_kind_and_a_torchvision_equivalent_where_one_exists():
    for name in PER_SAMPLE_OPS:
        op = get_op(name)
        assert op.help and all(p.help for p in op.params.values()), name
        assert genlab.registry.get(name).kind == op.kind
    assert get_op("random_affine").equivalents == {
        "torchvision": "RandomAffine",
        "albumentations": "Affine",
    }


@pytest.mark.parametrize(
    "image_hw, crop_hw",
    [
        ((5, 6), (8, 13)),
        ((9, 9), (16, 12)),
        ((4, 20), (11, 7)),
        ((10, 10), (7, 4)),
        ((6, 6), (7, 7)),
    ],
)
def test_center_crop_pads_where_torchvision_pads(image_hw, crop_hw):
    # smaller by an odd amount (3, 7, ...): torchvision pads d // 2 top/left, the extra pixel
    # bottom/right; 0.2 rounded -1.5 to -2 and put it top/left
    F = torchvision_functional()
    img = photo(*image_hw)
    out, _ = apply_record("center_crop", img, size=crop_hw[::-1], fill=(0, 0, 0))
    np.testing.assert_array_equal(as_array(F.center_crop(as_tensor(img), list(crop_hw))), out)


def test_adjust_hue_follows_torchvisions_pillow_path_with_rounded_steps():
    # the reference, stated in adjust_hue's docs: torchvision's Pillow path, but shift * 255
    # rounded to the nearest step (genlab 0.2's bytes) where torchvision truncates toward zero
    from PIL import Image

    from genlab.ops.colour import adjust_hue

    F = torchvision_functional()
    img = photo()
    differ = 0
    for shift in np.linspace(-0.49, 0.49, 50):
        ours = adjust_hue(img, float(shift))
        steps = round(float(shift) * 255)
        as_steps = (steps + 0.5 * np.sign(steps)) / 255  # truncates to exactly `steps`
        np.testing.assert_array_equal(
            ours, np.asarray(F.adjust_hue(Image.fromarray(img), as_steps))
        )
        theirs = np.asarray(F.adjust_hue(Image.fromarray(img), float(shift)))
        if int(float(shift) * 255) == steps:
            np.testing.assert_array_equal(ours, theirs)
        else:
            differ += 1
    assert differ > 0
    doc = " ".join(adjust_hue.__doc__.split())
    assert "genlab rounds ``shift * 255`` to the nearest step" in doc
    assert "where torchvision truncates toward zero" in doc


def test_every_size_parameter_is_width_height_and_every_output_size_height_width():
    # the one convention (docs/concepts.md): parameters (width, height), arrays and draws
    # (height, width)
    from genlab.params import HeightWidth, Size

    img = photo(30, 50)
    checked = []
    for name in op_names():
        op = get_op(name)
        sized = [p for p, decl in op.params.items() if isinstance(decl, Size)]
        if not sized or getattr(op, "output_size", None) is None:
            continue
        params = applied_params(name, **{sized[0]: (20, 10)})
        assert op.out_size(op.validate(params), HeightWidth(30, 50)) == HeightWidth(10, 20)
        out, _ = op.on_image(img, np.random.default_rng(0), **params)
        assert out.shape == (10, 20, 3), name
        checked.append(name)
    assert {"random_resized_crop", "center_crop", "random_crop"} <= set(checked)
