"""Pipeline: epochs, len, editing between epochs, determinism, trace, pickling, repr."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import genlab
from genlab import Pipeline, StageConfig

SMALL = [("read_images", {"target_size": (16, 16)}), ("augment", {"hflip": 0.5, "rotate90": True}),
         "rescale_images", "shuffle_samples"]  # fmt: skip


def epoch_arrays(p):
    xs, ys = zip(*p)
    return np.concatenate(xs), np.concatenate(ys)


def test_default_stages_are_the_posts_chain(digits_root):
    p = Pipeline.from_folder(digits_root)
    assert [s.name for s in p.stages] == list(genlab.pipeline.DEFAULT_STAGES)
    assert p.stage("read_images").params["target_size"] == (224, 224)
    assert p.stage("augment").params["rotate90"] == 1.0
    assert p.stage("rescale_images").params["mean"] == (103.939, 116.779, 123.68)


def test_len_class_names_and_epoch_content(digits_root):
    p = Pipeline.from_folder(digits_root, batch_size=16, seed=0, stages=SMALL)
    assert len(p) == 4  # 60 images
    assert p.class_names == tuple(str(d) for d in range(10))
    x, y = epoch_arrays(p)
    assert x.shape == (60, 16, 16, 3) and x.dtype == np.float32
    assert y.sum(0).tolist() == [6] * 10
    assert p.report.samples == 60 and p.report.batches == 4


def test_seed_reproduces_every_batch_and_epochs_differ(digits_root):
    a = Pipeline.from_folder(digits_root, batch_size=16, seed=7, stages=SMALL)
    b = Pipeline.from_folder(digits_root, batch_size=16, seed=7, stages=SMALL)
    a0, b0 = epoch_arrays(a), epoch_arrays(b)
    np.testing.assert_array_equal(a0[0], b0[0])
    np.testing.assert_array_equal(a0[1], b0[1])
    a1 = epoch_arrays(a)  # second iteration = epoch 1, reshuffled
    assert not np.array_equal(a0[1], a1[1])
    np.testing.assert_array_equal(epoch_arrays(b)[0], a1[0])
    c = Pipeline.from_folder(digits_root, batch_size=16, seed=8, stages=SMALL)
    assert not np.array_equal(epoch_arrays(c)[0], a0[0])


def test_augment_draws_do_not_depend_on_other_stages(digits_root):
    with_shuffle = Pipeline.from_folder(digits_root, batch_size=8, seed=2, stages=SMALL)
    without = with_shuffle.copy().disable("shuffle_samples").disable("rescale_images")
    a = next(iter(with_shuffle))
    b = next(iter(without))
    by_key_a = dict(zip(a.info.keys.tolist(), a.info.applied))
    by_key_b = dict(zip(b.info.keys.tolist(), b.info.applied))
    assert by_key_a == by_key_b and any(by_key_a.values())


def test_editing_between_epochs(digits_root):
    p = Pipeline.from_folder(digits_root, batch_size=10, stages=SMALL)
    p.set_params("read_images", target_size=(8, 12))
    p.disable("rescale_images")
    x, _ = next(iter(p))
    assert x.shape == (10, 12, 8, 3) and x.dtype == np.uint8
    p.enable("rescale_images").move("shuffle_samples", 0)
    assert [s.name for s in p.stages][0] == "shuffle_samples"
    p.remove("shuffle_samples").add("trace", label="t", index=1)
    assert [s.name for s in p.stages] == ["read_images", "trace", "augment", "rescale_images"]
    with pytest.raises(ValueError, match="augment: parameter 'hflip' must be between 0.0 and 1.0"):
        p.set_params("augment", hflip=3)
    assert p.stage("augment").params["hflip"] == 0.5  # unchanged after the refused edit
    with pytest.raises(ValueError, match="no stage named 'nope'"):
        p.disable("nope")
    with pytest.raises(ValueError, match="unknown stage 'nope'"):
        p.add("nope")


def test_trace_reports_shapes_bytes_and_growth(digits_root):
    p = Pipeline.from_folder(digits_root, batch_size=4, stages=SMALL)
    rows = {r.name: r for r in p.trace()}
    assert rows["read_images"].shape == (4, 16, 16, 3) and rows["read_images"].dtype == "uint8"
    assert rows["rescale_images"].nbytes == 4 * rows["read_images"].nbytes  # uint8 -> float32
    assert all(r.seconds >= 0 for r in rows.values())


def test_pickle_round_trip_gives_equal_pipeline_and_batches(digits_root):
    p = Pipeline.from_folder(digits_root, batch_size=16, seed=4, stages=SMALL)
    q = pickle.loads(pickle.dumps(p))
    assert q == p and q is not p
    np.testing.assert_array_equal(next(iter(q))[0], next(iter(p))[0])


def test_repr_reads_like_the_code_that_builds_it(digits_root):
    p = Pipeline.from_folder(digits_root, batch_size=16, seed=4, stages=SMALL)
    p.disable("shuffle_samples")
    text = repr(p)
    assert text.startswith("Pipeline.from_folder(")
    assert "StageConfig('shuffle_samples', enabled=False)" in text
    rebuilt = eval(text, {"Pipeline": Pipeline, "StageConfig": StageConfig})
    assert rebuilt == p


def test_bad_constructor_arguments(digits_root):
    with pytest.raises(ValueError, match="pipeline: parameter 'seed' must be between"):
        Pipeline.from_folder(digits_root, seed=-1)
    with pytest.raises(ValueError, match="dataset: parameter 'batch_size'"):
        Pipeline.from_folder(digits_root, batch_size=0)
    with pytest.raises(TypeError, match="a stage is a name"):
        Pipeline.from_folder(digits_root, stages=[3])
