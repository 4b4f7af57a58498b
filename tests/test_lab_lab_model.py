"""Tests for genlab.lab.lab_model: the lab's state, edits, views, costs and export, without widgets."""

from __future__ import annotations

import json

import numpy as np
import pytest

import genlab
from genlab.lab.lab_model import LabModel
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


# -- composable ops in the lab ----------------------------------------------------------------


def op_pipeline(root, **kwargs):
    stages = [
        ("read_images", {"target_size": (32, 32)}),
        ("random_resized_crop", {"size": (24, 24), "scale": (0.3, 1.0)}),
        "hflip",
        ("color_jitter", {"brightness": 0.5, "hue": 0.1}),
        "shuffle_samples",
    ]
    return genlab.Pipeline.from_folder(root, batch_size=8, seed=5, stages=stages, **kwargs)


@pytest.fixture
def op_model(digits_root):
    return LabModel(op_pipeline(digits_root))


def applied_ops(batch, op):
    """Per sample, the records ``op`` left in ``batch.info.applied``."""
    return [tuple(r for r in records if r["op"] == op) for records in batch.info.applied]


def test_ops_move_toggle_remove_keep_each_ops_own_draws(op_model):
    jitter = applied_ops(op_model.last.batch, "color_jitter")
    crops = applied_ops(op_model.last.batch, "random_resized_crop")
    assert all(len(r) == 1 for r in jitter) and all(len(r) == 1 for r in crops)
    op_model.move(3, 1)  # color_jitter before the crop: the same draws, in another order
    assert [s.name for s in op_model.pipeline.stages][1:3] == [
        "color_jitter",
        "random_resized_crop",
    ]
    assert applied_ops(op_model.last.batch, "color_jitter") == jitter
    assert applied_ops(op_model.last.batch, "random_resized_crop") == crops
    op_model.enable(2, False)  # the crop off: the images keep their size, jitter draws the same
    assert op_model.last.batch.x.shape[1:3] == (32, 32)
    assert applied_ops(op_model.last.batch, "color_jitter") == jitter
    op_model.remove(2)
    assert "random_resized_crop" not in [s.name for s in op_model.pipeline.stages]
    assert applied_ops(op_model.last.batch, "random_resized_crop") == [()] * 8


def test_the_same_op_twice_draws_independently(op_model):
    op_model.add("color_jitter", 4, brightness=0.5, hue=0.1)
    names = [s.name for s in op_model.pipeline.stages]
    assert names.count("color_jitter") == 2
    first, second = zip(*applied_ops(op_model.last.batch, "color_jitter"))
    assert first != second  # two streams, two draws per image
    with pytest.raises(ValueError, match="color_jitter: parameter 'hue' must be between"):
        op_model.set_params(4, hue=0.9)
    assert op_model.pipeline.stages[4].params["hue"] == 0.1


def test_original_vs_processed_with_a_resizing_op(op_model):
    original, processed = op_model.original_pairs()
    assert original.x.shape[1:3] == (32, 32) and processed.x.shape[1:3] == (24, 24)
    np.testing.assert_array_equal(original.info.keys, processed.info.keys)


def test_one_op_alone_on_one_image(op_model):
    image = op_model.original().x[2]
    op_model.set_params("hflip", p=1.0)
    flips = op_model.op_draws("hflip", 16, sample=2)
    assert flips.x.shape == (16, 32, 32, 3)  # the crop before it does not run
    for x in flips.x:
        np.testing.assert_array_equal(x, image[:, ::-1])
    assert all(records == ({"op": "hflip"},) for records in flips.info.applied)

    jitter = op_model.op_draws(3, 16, sample=2)
    assert len({x.tobytes() for x in jitter.x}) == 16  # 16 different draws
    factors = {records[0]["brightness"] for records in jitter.info.applied}
    assert len(factors) == 16 and all(0.5 <= f <= 1.5 for f in factors)
    assert jitter.info.applied[0] != op_model.op_draws(3, 16, sample=1).info.applied[0]

    op_model.enable(3, False)  # a switched-off op can still be looked at
    op_model.set_params(3, p=0.0)
    never = op_model.op_draws("color_jitter", 4, sample=2)
    assert never.info.applied == ((),) * 4
    for x in never.x:
        np.testing.assert_array_equal(x, image)

    crops = op_model.op_draws("random_resized_crop", 16)
    assert crops.x.shape == (16, 24, 24, 3)
    areas = [r[0]["height"] * r[0]["width"] / (32 * 32) for r in crops.info.applied]
    assert all(0.3 - 0.05 <= a <= 1.0 for a in areas) and len(set(areas)) > 1
    with pytest.raises(IndexError, match="sample 8 out of range"):
        op_model.op_draws("hflip", 2, sample=8)


def test_one_op_alone_gets_the_whole_batch_when_it_mixes(op_model):
    """A batch-mixing stage sees the preview's other images as partners."""

    def swap_for_lab_test(stream="swap_for_lab_test"):
        while True:
            batch = yield
            yield batch.replace(x=batch.x[::-1].copy())  # each sample takes its mirror's image

    genlab.registry.register("swap_for_lab_test", swap_for_lab_test, kind="mixing", streamed=True)
    try:
        op_model.add("swap_for_lab_test")
        original = op_model.original()
        swapped = op_model.op_draws("swap_for_lab_test", 3, sample=1)
        for x in swapped.x:
            np.testing.assert_array_equal(x, original.x[-2])
    finally:
        genlab.registry.unregister("swap_for_lab_test")


def test_many_draws_of_one_image_under_the_op_chain(op_model):
    draws = op_model.draws(5, sample=3)
    assert draws.x.shape == (5, 24, 24, 3)
    assert len({x.tobytes() for x in draws.x}) == 5
    assert all(
        [r["op"] for r in records] == ["random_resized_crop", "color_jitter"]
        or [r["op"] for r in records] == ["random_resized_crop", "hflip", "color_jitter"]
        for records in draws.info.applied
    )
    pipeline = op_model.pipeline.copy()  # draw k is the chain run with seed + k
    pipeline.seed += 2
    single = op_model.source_batch().select([3]).replace(seed=pipeline.seed)
    np.testing.assert_array_equal(pipeline.run_stages(single).x[0], draws.x[2])


def test_new_draw_with_ops_and_export(op_model, tmp_path):
    before = op_model.last.batch
    op_model.new_draw()
    assert op_model.pipeline.augment_seed == 1
    np.testing.assert_array_equal(op_model.last.batch.info.keys, before.info.keys)
    assert applied_ops(op_model.last.batch, "color_jitter") != applied_ops(before, "color_jitter")
    result = op_model.export(tmp_path / "ops")
    batch = list(genlab.load(result.spec_path).iter_epoch(result.epoch))[result.batch_index]
    np.testing.assert_array_equal(batch.x, op_model.last.batch.x)


def test_groups_in_the_lab(op_model):
    op_model.add("one_of", 3, ops=["vflip", ("rotate90", {"p": 1.0})], weights=[0.0, 1.0])
    group = op_model.pipeline.stages[3]
    assert [m["name"] for m in group.params["ops"]] == ["vflip", "rotate90"]
    picked = applied_ops(op_model.last.batch, "one_of")
    assert all(r[0]["ops"][0]["op"] == "rotate90" for r in picked)
    with pytest.raises(ValueError, match="one_of: parameter 'ops' member 1: unknown op 'nope'"):
        op_model.set_params(3, ops=["vflip", "nope"])
    with pytest.raises(StageError, match="one_of: parameter 'weights' must hold one"):
        op_model.set_params(3, weights=[1.0])  # checked against the ops when it runs
    assert op_model.pipeline.stages[3].params == group.params
    alone = op_model.op_draws("one_of", 4)
    assert all(r[0]["ops"][0]["op"] == "rotate90" for r in alone.info.applied)


def test_photo_pipeline_is_the_labs_default(tmp_path, monkeypatch):
    photos = genlab.make_sample_data(tmp_path / "photos", kind="photos", n_per_class=4)
    monkeypatch.setattr(
        "genlab.lab.lab_model.ensure_sample_data", lambda kind: photos if kind == "photos" else None
    )
    from genlab.lab.lab_model import photo_pipeline

    model = LabModel(photo_pipeline(batch_size=4))
    assert model.pipeline.class_names == ("china", "flower")
    assert model.last.batch.x.shape == (4, 224, 224, 3)
    assert [s.name for s in model.pipeline.stages][1:4] == [
        "random_resized_crop",
        "hflip",
        "color_jitter",
    ]


def test_where_a_new_stage_goes_by_default(op_model):
    assert op_model.place_for("hflip") == 4  # after the last op, before shuffle_samples
    assert op_model.place_for("trace") == 5  # a pipeline stage: at the end
    op_model.add("vflip")
    assert [s.name for s in op_model.pipeline.stages][4] == "vflip"
    for _ in range(4):
        op_model.remove(1)
    assert [s.name for s in op_model.pipeline.stages] == ["read_images", "shuffle_samples"]
    assert op_model.place_for("color_jitter") == 1  # no op left: after reading
