"""Policies: RandAugment, TrivialAugment Wide, AutoAugment, checked against torchvision.transforms.v2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import genlab
from genlab import Batch, BatchInfo, GeneratorPipeline, Pipeline
from genlab.transforms import get_op, replay
from genlab.transforms.policies import (
    AUTO_AUGMENT_POLICIES,
    AUTO_AUGMENT_SPACE,
    PRIMITIVES,
    RAND_AUGMENT_SPACE,
    TRIVIAL_AUGMENT_WIDE_SPACE,
    apply_primitive,
)

torch = pytest.importorskip("torch")
v2 = pytest.importorskip("torchvision.transforms.v2")
Image = pytest.importorskip("PIL.Image")

HEIGHT, WIDTH = 40, 56


def photo(seed=0, size=(HEIGHT, WIDTH)):
    """A smooth colour picture with an edge (so shears, blur and equalise all change it)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
    img = np.stack([xx * 4, yy * 5, (xx + yy) * 2], axis=-1) % 256
    img[size[0] // 3 :, : size[1] // 2] = 220
    noise = rng.integers(0, 20, size=(*size, 3))
    return np.clip(img + noise, 0, 255).astype(np.uint8)


# genlab's autocontrast follows torchvision's tensor arithmetic (its float32 rounding gives 254
# where Pillow's ImageOps gives 255); every other primitive follows torchvision's Pillow back end
ON_TENSORS = {"AutoContrast"}


def torchvision_primitive(img, name, magnitude, resample, fill):
    """What torchvision's AutoAugment family does for one (name, magnitude) on an image."""
    tv = v2.RandAugment(interpolation=resample, fill=list(fill))
    image = torch.from_numpy(img).permute(2, 0, 1) if name in ON_TENSORS else Image.fromarray(img)
    out = tv._apply_image_or_video_transform(
        image, name, magnitude, interpolation=tv.interpolation, fill=tv._fill
    )
    return out.permute(1, 2, 0).numpy() if name in ON_TENSORS else np.asarray(out)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_gives_the_bytes_torchvision_gives(name):
    space = {**RAND_AUGMENT_SPACE, **AUTO_AUGMENT_SPACE}
    magnitudes_of, signed = space[name]
    magnitudes = magnitudes_of(10, HEIGHT, WIDTH)
    cases = [0.0] if magnitudes is None else [float(magnitudes[i]) for i in (1, 5, 9)]
    if signed:
        cases += [-m for m in cases]
    img = photo()
    for magnitude in cases:
        for resample, fill in (("nearest", (0, 0, 0)), ("bilinear", (10, 200, 30))):
            ours = apply_primitive(img, {"name": name, "magnitude": magnitude}, resample, fill)
            theirs = torchvision_primitive(img, name, magnitude, resample, fill)
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{name} {magnitude} {resample}")
    if name not in ("Identity",):
        assert not np.array_equal(
            apply_primitive(img, {"name": name, "magnitude": cases[-1]}, "nearest", (0, 0, 0)), img
        )


TORCHVISION_SPACES = {
    "rand_augment": (RAND_AUGMENT_SPACE, v2.RandAugment._AUGMENTATION_SPACE),
    "trivial_augment_wide": (TRIVIAL_AUGMENT_WIDE_SPACE, v2.TrivialAugmentWide._AUGMENTATION_SPACE),
    "auto_augment": (AUTO_AUGMENT_SPACE, v2.AutoAugment._AUGMENTATION_SPACE),
}


@pytest.mark.parametrize("policy", sorted(TORCHVISION_SPACES))
@pytest.mark.parametrize("bins", [10, 31])
def test_op_spaces_and_magnitude_bins_are_torchvisions(policy, bins):
    ours, theirs = TORCHVISION_SPACES[policy]
    assert list(ours) == list(theirs)
    for name, (magnitudes_of, signed) in ours.items():
        tv_magnitudes_of, tv_signed = theirs[name]
        assert signed == tv_signed, name
        mine, tv = magnitudes_of(bins, HEIGHT, WIDTH), tv_magnitudes_of(bins, HEIGHT, WIDTH)
        if tv is None:
            assert mine is None, name
        else:
            np.testing.assert_allclose(mine, tv.numpy(), rtol=1e-6, atol=1e-5, err_msg=name)


def draws(name, n=300, **params):
    img = photo()
    op = get_op(name)
    return [op.on_image(img, np.random.default_rng(i), **params)[1] for i in range(n)]


def test_rand_augment_applies_num_ops_at_the_given_magnitude_with_both_signs():
    records = draws("rand_augment", num_ops=3, magnitude=7, num_magnitude_bins=11)
    seen = {}
    for record in records:
        assert len(record["ops"]) == 3
        for op in record["ops"]:
            seen.setdefault(op["name"], set()).add(op.get("magnitude"))
    assert set(seen) == set(RAND_AUGMENT_SPACE)  # 900 picks of 14: every op drawn
    for name, values in seen.items():
        magnitudes_of, signed = RAND_AUGMENT_SPACE[name]
        bins = magnitudes_of(11, HEIGHT, WIDTH)
        if bins is None:
            assert values == {None}
        else:
            expected = round(float(bins[7]), 6)
            assert values == ({expected, -expected} if signed else {expected}), name


def test_trivial_augment_wide_applies_one_op_at_any_bin():
    records = draws("trivial_augment_wide")
    rotations = [abs(r["ops"][0]["magnitude"]) for r in records if r["ops"][0]["name"] == "Rotate"]
    allowed = {round(float(v), 6) for v in np.linspace(0.0, 135.0, 31)}
    assert all(len(r["ops"]) == 1 for r in records)
    assert set(rotations) <= allowed and len(set(rotations)) > 3


def test_auto_augment_draws_learned_sub_policies_with_their_probabilities():
    records = draws("auto_augment", n=400)
    policies = AUTO_AUGMENT_POLICIES["imagenet"]
    for record in records:
        sub_policy = policies[record["sub_policy"]]
        names = [name for name, _, _ in sub_policy]
        assert [op["name"] for op in record["ops"]] in ([], names[:1], names[1:], names)
    # sub-policy 7 is (Posterize 0.4 ... 0.8, bin 5), (Equalize, 1.0): Equalize is always applied
    sevens = [r for r in records if r["sub_policy"] == 7]
    assert sevens and all(r["ops"][-1]["name"] == "Equalize" for r in sevens)
    posterized = [op["magnitude"] for r in sevens for op in r["ops"] if op["name"] == "Posterize"]
    assert set(posterized) == {6.0}  # bin 5 of round(8 - i / 2.25): 8 - 2.22 -> 6 bits
    # "Equalize, 0.0" never applies: sub-policy 12 shows at most its second op
    assert all(len(r["ops"]) <= 1 for r in records if r["sub_policy"] == 12)
    svhn = draws("auto_augment", n=50, policy="svhn")
    assert any(op["name"] == "ShearY" for r in svhn for op in r["ops"])


def image_batch(n=12):
    x = np.stack([photo(i) for i in range(n)])
    return Batch(x, np.eye(n, dtype=np.int64), BatchInfo(seed=3, keys=np.arange(n)))


@pytest.mark.parametrize("name", ["rand_augment", "trivial_augment_wide", "auto_augment"])
def test_policy_records_replay_exactly_and_runs_repeat(name):
    batch = image_batch()
    op = get_op(name)
    params = {"fill": (255, 0, 0), "resample": "bilinear"}
    out = next(GeneratorPipeline(iter([batch]), op(**params)))
    again = next(GeneratorPipeline(iter([batch]), op(**params)))
    np.testing.assert_array_equal(out.x, again.x)
    assert not np.array_equal(out.x, batch.x)
    for original, augmented, records in zip(batch.x, out.x, out.info.applied):
        assert records[0]["op"] == name and records[0]["fill"] == [255.0, 0.0, 0.0]
        np.testing.assert_array_equal(replay(original, records), augmented)


def test_policies_give_the_same_bytes_with_0_and_2_workers(digits_root):
    stages = [("read_images", {"target_size": (24, 24)}), "rand_augment", "trivial_augment_wide",
              "auto_augment", "rescale_images"]  # fmt: skip
    serial = Pipeline.from_folder(digits_root, batch_size=8, seed=2, stages=stages)
    parallel = Pipeline.from_folder(digits_root, batch_size=8, seed=2, stages=stages)
    parallel.num_workers = 2
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        assert a.info.applied == b.info.applied


@pytest.mark.parametrize(
    "name, params, message",
    [
        (
            "rand_augment",
            {"magnitude": 31},
            "rand_augment: parameter 'magnitude' must be below num_magnitude_bins \\(31\\)",
        ),
        (
            "rand_augment",
            {"magnitude": 5, "num_magnitude_bins": 5},
            "parameter 'magnitude' must be below",
        ),
        (
            "rand_augment",
            {"num_ops": -1},
            "rand_augment: parameter 'num_ops' must be between 0 and 16",
        ),
        (
            "trivial_augment_wide",
            {"num_magnitude_bins": 1},
            "parameter 'num_magnitude_bins' must be between 2",
        ),
        (
            "auto_augment",
            {"policy": "coco"},
            "auto_augment: parameter 'policy' must be one of \\['imagenet'",
        ),
        (
            "auto_augment",
            {"resample": "lanczos"},
            "auto_augment: parameter 'resample' must be one of",
        ),
        (
            "trivial_augment_wide",
            {"fill": (0, 0)},
            "trivial_augment_wide: parameter 'fill' must have 3 values",
        ),
    ],
)
def test_bad_policy_parameters_are_named(name, params, message):
    with pytest.raises(ValueError, match=message):
        get_op(name)(**params)


def test_an_unknown_operation_in_a_record_is_named():
    with pytest.raises(ValueError, match="unknown policy operation 'Shear'"):
        replay(
            photo(),
            [
                {
                    "op": "rand_augment",
                    "ops": [{"name": "Shear"}],
                    "resample": "nearest",
                    "fill": [0, 0, 0],
                }
            ],
        )


def test_a_policy_in_a_spec_round_trips(digits_root, tmp_path):
    stages = [
        ("read_images", {"target_size": (24, 24)}),
        ("rand_augment", {"num_ops": 1, "magnitude": 12}),
    ]
    p = Pipeline.from_folder(digits_root, batch_size=6, seed=1, stages=stages)
    q = genlab.load(p.save(tmp_path / "p.json"))
    np.testing.assert_array_equal(next(iter(p)).x, next(iter(q)).x)


def test_the_readme_names_the_back_end_autocontrast_follows():
    # 0.2's README said every operation gives the Pillow back end's bytes; AutoContrast gives
    # the tensor back end's (float32 rounding): say so, and check that it is so
    img = np.zeros((2, 2, 3), np.uint8)
    img[..., 0] = [[9, 10], [10, 9]]  # a channel spanning 9-10
    img[..., 1] = [[0, 255], [7, 100]]
    img[..., 2] = [[50, 60], [70, 80]]
    ours = apply_primitive(img, {"name": "AutoContrast", "magnitude": 0.0}, "nearest", (0, 0, 0))
    tensor = torchvision_primitive(img, "AutoContrast", 0.0, "nearest", (0, 0, 0))
    pillow = np.asarray(v2.functional.autocontrast(Image.fromarray(img)))
    np.testing.assert_array_equal(ours, tensor)
    assert ours[0, 1, 0] == 254 and pillow[0, 1, 0] == 255
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    policies = " ".join(readme.split("### Policies and batch mixing")[1].split("\n\n")[1].split())
    assert "except AutoContrast, which gives the bytes of torchvision's tensor back end" in policies
