"""Tests for genlab.lab.model: the lab's state, edits, views, costs and export, without widgets."""

from __future__ import annotations

import json

import numpy as np
import pytest

import genlab
from genlab.lab.model import LabModel
from genlab.stages.protocol import StageError


def small_pipeline(root, **kwargs):
    stages = [
        ("read_images", {"target_size": (32, 32)}),
        ("augment", {"hflip": 0.5, "rotate90": True}),
        ("rescale_images", {"scale": 1 / 255}),
        "shuffle_samples",
    ]
    return genlab.Pipeline.from_folder(root, batch_size=8, seed=3, stages=stages, **kwargs)


@pytest.fixture
def model(digits_root):
    return LabModel(small_pipeline(digits_root))


def test_preview_is_the_pipelines_own_batch(model):
    assert model.last.batch.x.shape == (8, 32, 32, 3)
    expected = model.pipeline.run_stages(model.source_batch())
    np.testing.assert_array_equal(model.last.batch.x, expected.x)
    np.testing.assert_array_equal(model.last.batch.y, expected.y)
    assert [r.name for r in model.last.rows] == [
        "dataset", "read_images", "augment", "rescale_images", "shuffle_samples",
    ]  # fmt: skip
    assert [r.dtype for r in model.last.rows[1:]] == ["uint8", "uint8", "float32", "float32"]
    assert model.last.rows[3].nbytes == 4 * model.last.rows[2].nbytes  # uint8 -> float32 images
    assert model.last.rows[3].nbytes == model.last.batch.x.nbytes


def test_edits_keep_the_source_batch_and_change_the_output(model):
    keys = model.source_batch().info.keys.copy()
    before = model.last.batch.x.copy()
    model.set_params(1, hflip=1.0, vflip=1.0)
    assert model.pipeline.stages[1].params["vflip"] == 1.0
    np.testing.assert_array_equal(model.source_batch().info.keys, keys)
    assert not np.array_equal(model.last.batch.x, before)
    model._outputs.clear()  # run again rather than reuse the cached outputs
    model.set_params(1, hflip=0.5, vflip=0.0)
    np.testing.assert_array_equal(model.last.batch.x, before)  # the same draws come back


def test_bad_values_raise_and_keep_the_last_good_state(model):
    good = model.pipeline.to_spec()
    shown = model.last
    with pytest.raises(ValueError, match="augment: parameter 'hflip' must be between 0.0 and 1.0"):
        model.set_params(1, hflip=3.0)
    with pytest.raises(StageError, match="augment works on uint8"):
        model.move(1, 3)  # augment after rescale fails when it runs
    with pytest.raises(ValueError, match="unknown stage 'nope'"):
        model.add("nope")
    assert model.pipeline.to_spec() == good
    assert model.last is shown


def test_toggle_changes_the_cost_figures(model):
    float_cost = model.memory_figures()
    model.enable(2, False)
    uint8_cost = model.memory_figures()
    assert float_cost.eager_dtype == "float32" and uint8_cost.eager_dtype == "uint8"
    assert float_cost.eager_bytes == 4 * uint8_cost.eager_bytes == 60 * 32 * 32 * 3 * 4
    assert float_cost.streaming_bytes == 4 * uint8_cost.streaming_bytes == 8 * 32 * 32 * 3 * 4
    model.set_params(0, target_size=(64, 48))
    bigger = model.memory_figures()
    assert bigger.eager_shape == (60, 48, 64, 3)
    assert bigger.eager_bytes == 60 * 48 * 64 * 3
    assert bigger.rss_bytes > 0


def test_structure_edits_add_move_remove(model):
    model.add("trace", 1, label="after read")
    assert [s.name for s in model.pipeline.stages][:2] == ["read_images", "trace"]
    model.move(1, 4)
    assert model.pipeline.stages[-1].name == "trace"
    model.remove(4)
    assert [s.name for s in model.pipeline.stages] == [
        "read_images", "augment", "rescale_images", "shuffle_samples",
    ]  # fmt: skip
    with pytest.raises(IndexError):
        model.move(0, 9)


def test_next_batch_and_new_draw(model):
    first = model.source_batch().info.keys.copy()
    model.next_batch()
    assert model.batch_index == 1
    assert not np.array_equal(model.source_batch().info.keys, first)
    for _ in range(len(model.pipeline) - 1):
        model.next_batch()
    assert (model.epoch, model.batch_index) == (1, 0)
    seed, keys = model.pipeline.seed, model.source_batch().info.keys.copy()
    before = model.last.batch.info.applied
    model.new_draw()
    assert model.pipeline.seed == seed and model.pipeline.stage("augment").params["seed"] == 1
    np.testing.assert_array_equal(model.source_batch().info.keys, keys)  # the same images
    assert model.last.batch.info.applied != before  # drawn anew


def test_export_rebuilds_exactly_the_preview(model, tmp_path):
    model.set_params(1, rotation_p=1.0, rotation_degrees=40.0, noise_p=0.5)
    model.next_batch()
    result = model.export(tmp_path / "tuned")
    assert result.spec_path.name == "tuned.json" and result.python_path.name == "tuned.py"
    assert json.loads(result.spec_path.read_text())["seed"] == model.pipeline.seed
    namespace: dict = {}
    exec(compile(result.python_path.read_text(), str(result.python_path), "exec"), namespace)
    for pipeline in (result.pipeline, genlab.load(result.spec_path), namespace["pipeline"]):
        batch = list(pipeline.iter_epoch(result.epoch))[result.batch_index]
        np.testing.assert_array_equal(batch.x, model.last.batch.x)
        np.testing.assert_array_equal(batch.y, model.last.batch.y)


def test_load_spec_back(model, digits_root, tmp_path):
    other = small_pipeline(digits_root)
    other.disable("augment")
    path = other.save(tmp_path / "other.json")
    model.next_batch()
    model.load(path)
    assert (model.epoch, model.batch_index) == (0, 0)
    assert model.pipeline == other
    bad = other.to_spec()
    bad["stages"][0]["params"]["target_size"] = [0, 0]
    with pytest.raises(ValueError, match="target_size"):
        model.load(bad)
    assert model.pipeline == other


def test_views_pairs_draws_and_class_counts(model):
    original, processed = model.original_pairs()
    assert original.x.dtype == np.uint8 and processed.x.dtype == np.float32
    np.testing.assert_array_equal(original.info.keys, processed.info.keys)
    np.testing.assert_array_equal(original.y, processed.y)
    draws = model.draws(6)
    assert draws.x.shape == (6, 32, 32, 3)
    assert len({d.tobytes() for d in draws.x}) > 1  # different draws of one image
    counts = model.class_counts()
    assert list(counts) == list(model.pipeline.class_names)
    assert sum(counts.values()) == 8


def test_source_settings(model):
    model.set_source(batch_size=5)
    assert model.last.batch.x.shape[0] == 5 and len(model.pipeline) == 12
    with pytest.raises(ValueError, match="batch_size"):
        model.set_source(batch_size=0)
    with pytest.raises(ValueError, match="'root' cannot be changed"):
        model.set_source(root="/elsewhere")
    assert model.pipeline.batch_size == 5
