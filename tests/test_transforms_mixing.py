"""Batch mixing: mixup and cutmix as batch ops, their records and replay_batch."""

from __future__ import annotations

import numpy as np
import pytest

import genlab
from genlab import Batch, BatchInfo, GeneratorPipeline, Pipeline
from genlab.transforms import get_op
from genlab.transforms.mixing import replay_batch


def image_batch(n=10, size=(20, 30), seed=0, labels=None):
    x = np.random.default_rng(7).integers(0, 256, size=(n, *size, 3), dtype=np.uint8)
    y = np.eye(n, dtype=np.int64) if labels is None else labels
    return Batch(x, y, BatchInfo(seed=seed, keys=np.arange(100, 100 + n)))


def run(batch, *steps):
    return next(GeneratorPipeline(iter([batch]), *steps))


def records_of(out, name):
    return [next(r for r in rec if r["op"] == name) for rec in out.info.applied]


def test_mixup_blends_each_sample_with_the_previous_one_by_its_recorded_lam():
    batch = image_batch()
    out = run(batch, get_op("mixup")())
    records = records_of(out, "mixup")
    assert out.y.dtype == np.float32 and out.x.dtype == np.uint8
    np.testing.assert_allclose(out.y.sum(axis=1), 1.0, atol=1e-6)
    for i, r in enumerate(records):
        j, lam = r["partner"], r["lam"]
        assert j == (i - 1) % len(batch.x) and 0.0 < lam < 1.0
        expected = lam * batch.x[i].astype(float) + (1 - lam) * batch.x[j].astype(float)
        assert (
            np.abs(out.x[i].astype(float) - expected).max() <= 0.5 + 1e-4
        )  # rounded back to uint8
        row = np.zeros(len(batch.x))
        row[i] += lam
        row[j] += 1 - lam
        np.testing.assert_allclose(out.y[i], row, atol=1e-6)
    assert len({r["lam"] for r in records}) == len(records)  # each sample draws its own lam


def test_mixup_alpha_is_the_beta_distribution_parameter():
    def lams(alpha):
        return np.array(
            [
                r["lam"]
                for r in records_of(run(image_batch(n=200), get_op("mixup")(alpha=alpha)), "mixup")
            ]
        )

    peaked, u_shaped = lams(50.0), lams(0.1)
    assert np.abs(peaked - 0.5).mean() < 0.1  # Beta(50, 50): close to 1/2
    assert np.abs(u_shaped - 0.5).mean() > 0.35  # Beta(0.1, 0.1): close to 0 or 1


def test_a_failed_p_gate_records_lam_1_and_the_sample_itself():
    batch = image_batch()
    for name in ("mixup", "cutmix"):
        out = run(batch, get_op(name)(p=0.0))
        assert records_of(out, name) == [{"op": name, "partner": i, "lam": 1.0} for i in range(10)]
        np.testing.assert_array_equal(out.x, batch.x)
        np.testing.assert_array_equal(out.y, np.eye(10, dtype=np.float32))
    half = records_of(run(image_batch(n=60), get_op("mixup")(p=0.5)), "mixup")
    assert 15 <= sum(r["lam"] == 1.0 for r in half) <= 45


def test_cutmix_pastes_the_partners_box_and_sets_lam_to_the_uncovered_area():
    batch = image_batch(n=40)
    out = run(batch, get_op("cutmix")())
    height, width = batch.x.shape[1:3]
    boxes = 0
    for i, r in enumerate(records_of(out, "cutmix")):
        j = r["partner"]
        assert j == (i - 1) % 40
        inside = np.zeros((height, width), bool)
        inside[r["top"] : r["top"] + r["height"], r["left"] : r["left"] + r["width"]] = True
        boxes += inside.any()
        assert r["lam"] == pytest.approx(1 - inside.mean())
        np.testing.assert_array_equal(out.x[i][inside], batch.x[j][inside])
        np.testing.assert_array_equal(out.x[i][~inside], batch.x[i][~inside])
        assert out.y[i, i] == pytest.approx(r["lam"]) and out.y[i, j] == pytest.approx(1 - r["lam"])
    assert boxes > 30
    np.testing.assert_allclose(out.y.sum(axis=1), 1.0, atol=1e-6)


def test_mixing_works_on_float_images_after_rescale_images():
    batch = image_batch()
    out = run(batch, genlab.rescale_images(), get_op("mixup")(), get_op("cutmix")())
    scaled = run(batch, genlab.rescale_images()).x
    assert out.x.dtype == scaled.dtype == np.float32
    replayed_x, replayed_y = replay_batch(scaled, batch.y, out.info.applied)
    np.testing.assert_allclose(replayed_x, out.x, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(replayed_y, out.y)
    mix, cut = records_of(out, "mixup")[3], records_of(out, "cutmix")[3]
    outside = np.ones(scaled.shape[1:3], bool)  # outside the cutmix box: the mixup blend, unrounded
    outside[cut["top"] : cut["top"] + cut["height"], cut["left"] : cut["left"] + cut["width"]] = (
        False
    )
    assert outside.any() and 0 < mix["lam"] < 1
    blend = mix["lam"] * scaled[3] + (1 - mix["lam"]) * scaled[2]
    np.testing.assert_allclose(out.x[3][outside], blend[outside], atol=1e-5)


def test_multi_hot_rows_mix_to_the_mixed_label_mass():
    labels = np.zeros((6, 4), np.int64)
    labels[:, 0] = 1
    labels[::2, 1] = 1  # even samples carry two labels
    out = run(image_batch(n=6, labels=labels), get_op("mixup")())
    for i, r in enumerate(records_of(out, "mixup")):
        mass = r["lam"] * labels[i].sum() + (1 - r["lam"]) * labels[r["partner"]].sum()
        assert out.y[i].sum() == pytest.approx(mass, abs=1e-6)


def test_replay_batch_reproduces_a_chain_of_per_sample_ops_and_mixing():
    batch = image_batch()
    steps = [get_op("hflip")(), get_op("cutmix")(alpha=0.5), get_op("color_jitter")(hue=0.1),
             get_op("mixup")(p=0.7), get_op("rotate90")()]  # fmt: skip
    out = run(batch, *steps)
    assert [r["op"] for r in out.info.applied[0] if r["op"] in ("mixup", "cutmix")] == [
        "cutmix",
        "mixup",
    ]
    x, y = replay_batch(batch.x, batch.y, out.info.applied)
    np.testing.assert_array_equal(x, out.x)
    np.testing.assert_array_equal(y, out.y)


def test_mixing_gives_the_same_bytes_with_0_and_2_workers_and_from_its_spec(digits_root, tmp_path):
    stages = [("read_images", {"target_size": (20, 20)}), "hflip", ("cutmix", {"p": 0.5}),
              "rescale_images", ("mixup", {"alpha": 0.4})]  # fmt: skip
    serial = list(Pipeline.from_folder(digits_root, batch_size=8, seed=5, stages=stages))
    parallel = Pipeline.from_folder(digits_root, batch_size=8, seed=5, stages=stages)
    parallel.num_workers = 2
    loaded = genlab.load(parallel.save(tmp_path / "mixing.json"))
    for a, b, c in zip(serial, parallel, loaded, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
        np.testing.assert_array_equal(a.x, c.x)
        assert a.info.applied == b.info.applied == c.info.applied
    assert all(b.y.dtype == np.float32 for b in serial)
    np.testing.assert_allclose(np.concatenate([b.y for b in serial]).sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("mixup", {"alpha": 0.0}, "mixup: parameter 'alpha' must be between 0.001 and 100.0"),
        ("cutmix", {"p": 1.5}, "cutmix: parameter 'p' must be between 0.0 and 1.0"),
        ("cutmix", {"lam": 0.5}, "cutmix: unknown parameter 'lam'"),
    ],
)
def test_bad_mixing_parameters_are_named(name, params, message):
    with pytest.raises(ValueError, match=message):
        get_op(name)(**params)


def test_labels_that_are_not_one_hot_rows_are_refused_with_the_shape():
    batch = Batch(image_batch().x, np.arange(10), BatchInfo(keys=np.arange(10)))
    with pytest.raises(
        genlab.StageError, match=r"mixup needs one-hot .* got labels of shape \(10,\)"
    ):
        run(batch, get_op("mixup")())


def test_replay_batch_refuses_records_that_do_not_fit():
    batch = image_batch()
    out = run(batch, get_op("mixup")())
    with pytest.raises(ValueError, match="replay_batch: 9 records for 10 images"):
        replay_batch(batch.x, batch.y, out.info.applied[:9])
    broken = (
        out.info.applied[0] + ({"op": "cutmix", "partner": 0, "lam": 1.0},),
    ) + out.info.applied[1:]
    with pytest.raises(ValueError, match="disagree on the mixing steps"):
        replay_batch(batch.x, batch.y, broken)
