"""The augment, rescale and shuffle stages inside pipelines."""

from __future__ import annotations

import numpy as np
import pytest

import genlab
from genlab import Batch, BatchInfo, GeneratorPipeline
from genlab.transforms.classic import apply_all


def image_batch(n=6, seed=0, epoch=0):
    rng = np.random.default_rng(99)
    x = rng.integers(0, 256, size=(n, 10, 10, 3), dtype=np.uint8)
    info = BatchInfo(seed=seed, epoch=epoch, keys=np.arange(100, 100 + n))
    return Batch(x, np.eye(n, dtype=np.int64), info)


def run(batch, *steps):
    return next(GeneratorPipeline(iter([batch]), *steps))


def test_applied_records_replay_each_sample_exactly():
    params = dict(
        hflip=0.5,
        rotate90=0.5,
        rotation_p=0.5,
        crop_p=0.5,
        brightness_p=0.5,
        noise_p=0.5,
        cutout_p=0.5,
    )
    batch = image_batch()
    out = run(batch, genlab.augment(**params))
    assert len(out.info.applied) == 6 and any(out.info.applied)
    for original, augmented, records in zip(batch.x, out.x, out.info.applied):
        np.testing.assert_array_equal(apply_all(original, records), augmented)


@pytest.mark.parametrize("shape", [(10, 10), (8, 12)])
def test_flips_and_turns_copied_once_give_apply_alls_bytes(shape):
    # the stage composes leading flips and quarter turns as one view; apply_all runs each kernel
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(96, *shape, 3), dtype=np.uint8)
    batch = Batch(x, np.zeros((96, 1)), BatchInfo(seed=1, keys=np.arange(96)))
    out = run(batch, genlab.augment(hflip=0.5, vflip=0.5, rotate90=0.7, brightness_p=0.3))
    kinds = {tuple(r["op"] if r["op"] != "rotate90" else f"k{r['k']}" for r in records)
             for records in out.info.applied}  # fmt: skip
    assert ("hflip", "vflip", "k2", "brightness") in kinds and ("hflip", "vflip", "k2") in kinds
    if shape[0] == shape[1]:
        turned = {k for k in kinds if "k1" in k or "k3" in k}
        assert any(len(k) >= 3 for k in turned) and any(k[-1] == "brightness" for k in turned)
    for original, augmented, records in zip(x, out.x, out.info.applied):
        np.testing.assert_array_equal(apply_all(original, records), augmented)


def test_augment_is_deterministic_per_sample_not_per_batch_position():
    batch = image_batch()
    a = run(batch, genlab.augment(hflip=0.5, rotation_p=0.7))
    reversed_batch = batch.select(np.arange(5, -1, -1))
    b = run(reversed_batch, genlab.augment(hflip=0.5, rotation_p=0.7))
    np.testing.assert_array_equal(a.x[::-1], b.x)
    other_epoch = run(image_batch(epoch=1), genlab.augment(hflip=0.5, rotation_p=0.7))
    assert a.info.applied != other_epoch.info.applied


def test_augment_refuses_float_input_with_a_clear_message():
    batch = image_batch()
    with pytest.raises(
        genlab.StageError, match="augment works on uint8.*put it before rescale_images"
    ):
        run(batch, genlab.rescale_images(), genlab.augment())


def test_rescale_matches_the_formula():
    batch = image_batch()
    out = run(
        batch, genlab.rescale_images(scale=1 / 255, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.5))
    )
    expected = (
        batch.x.astype(np.float32) * np.float32(1 / 255) - np.float32([0.5, 0.4, 0.3])
    ) / np.float32([0.2, 0.25, 0.5])
    assert out.x.dtype == np.float32
    np.testing.assert_allclose(out.x, expected, rtol=1e-6)
    post = run(batch, genlab.rescale_images(mean=[103.939, 116.779, 123.68]))
    np.testing.assert_allclose(post.x, batch.x - np.float32([103.939, 116.779, 123.68]), rtol=1e-6)


def test_shuffle_keeps_labels_keys_and_paths_aligned():
    batch = image_batch(n=20)
    batch = batch.replace(paths=tuple(f"p{i}" for i in range(20)))
    out = run(batch, genlab.shuffle_samples())
    assert sorted(out.info.keys.tolist()) == batch.info.keys.tolist()
    assert out.info.keys.tolist() != batch.info.keys.tolist()
    for x, y, key, path in zip(out.x, out.y, out.info.keys, out.info.paths):
        i = int(key) - 100
        np.testing.assert_array_equal(x, batch.x[i])
        assert y.argmax() == i and path == f"p{i}"


def test_augment_seed_gives_new_draws_for_the_same_samples():
    batch = image_batch()
    params = dict(hflip=0.5, rotation_p=0.5, noise_p=0.5)
    first = run(batch, genlab.augment(**params))
    again = run(batch, genlab.augment(**params, seed=0))
    other = run(batch, genlab.augment(**params, seed=1))
    assert first.info.applied == again.info.applied
    assert other.info.applied != first.info.applied
    np.testing.assert_array_equal(other.info.keys, first.info.keys)
