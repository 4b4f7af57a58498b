"""Tests for genlab.lab.lab_compare, lab_files and tiles: compare A/B, the load round trip,
soft labels under mixing and where a new op goes; no widgets."""

from __future__ import annotations

import json

import numpy as np
import pytest

import genlab
from genlab.lab.lab_compare import Comparison, parameter_diff
from genlab.lab.lab_files import find_specs, read_position
from genlab.lab.lab_model import LabModel
from genlab.lab.tiles import describe_record, grid_picture, soft_labels, tile


def op_model(root, stages=None):
    stages = stages or [
        ("read_images", {"target_size": (32, 32)}),
        ("random_resized_crop", {"size": (24, 24)}),
        "hflip",
        ("color_jitter", {"brightness": 0.5}),
        "rescale_images",
        "shuffle_samples",
    ]
    return LabModel(genlab.Pipeline.from_folder(root, batch_size=8, seed=3, stages=stages))


def test_a_per_image_op_goes_before_mixing_rescale_and_shuffle(digits_root):
    model = op_model(digits_root)
    model.add("cutmix")
    names = [s.name for s in model.pipeline.stages]
    assert names.index("cutmix") == 4  # after the last op, before rescale_images
    model.add("one_of", ops=["vflip"])
    model.add("gaussian_blur")
    names = [s.name for s in model.pipeline.stages]
    assert names[4:8] == ["one_of", "gaussian_blur", "cutmix", "rescale_images"]
    model.add("mixup")
    assert [s.name for s in model.pipeline.stages][7] == "mixup"  # after cutmix
    bare = op_model(digits_root, ["read_images", "rescale_images", "shuffle_samples"])
    assert bare.place_for("hflip") == 1 and bare.place_for("trace") == 3


def test_soft_labels_are_counted_the_same_in_line_and_tiles(digits_root):
    model = op_model(digits_root)
    model.add("cutmix", p=1.0)
    y = np.asarray(model.last.batch.y, dtype=float)
    assert ((y > 0) & (y < 1)).any()  # mixing made fractions
    counts = model.class_counts()
    assert sum(counts.values()) == pytest.approx(8, abs=0.05)  # nothing floored away
    expected = y.sum(axis=0)
    for name, value in zip(model.pipeline.class_names, expected):
        assert counts[name] == pytest.approx(value, abs=0.006)
    labels = soft_labels(y, model.pipeline.class_names)
    mixed = [text for text, row in zip(labels, y) if ((row > 0) & (row < 1)).any()]
    assert mixed and all(" / " in text for text in mixed)
    first = mixed[0].split(" / ")
    assert float(first[0].rsplit(" ", 1)[1]) >= float(first[1].rsplit(" ", 1)[1])  # largest first


def test_compare_keeps_a_on_the_same_batch_and_draws(digits_root, tmp_path):
    model = op_model(digits_root)
    comparison = Comparison(model)
    with pytest.raises(RuntimeError, match="nothing is pinned"):
        comparison.diff()
    before = model.last.batch.x.copy()
    comparison.pin()
    model.set_params("color_jitter", brightness=0.9)
    model.new_draw()  # A follows B's draw, so the ops the two share draw the same
    a, b = comparison.run_a().batch, model.last.batch
    assert a.x.shape == b.x.shape and not np.array_equal(a.x, before)
    crops = [[r for r in recs if r["op"] == "random_resized_crop"] for recs in a.info.applied]
    crops_b = [[r for r in recs if r["op"] == "random_resized_crop"] for recs in b.info.applied]
    assert crops == crops_b  # the shared op drew the same crops
    jitter_a = [[r for r in recs if r["op"] == "color_jitter"] for recs in a.info.applied]
    assert comparison.diff() == ["color_jitter.brightness 0.5 → 0.9"]
    result = comparison.export("A", tmp_path / "a")
    rebuilt = genlab.load(result.spec_path)
    batch = next(iter(rebuilt.iter_epoch(model.epoch)))
    np.testing.assert_array_equal(batch.x, a.x)
    comparison.swap()
    assert model.pipeline.stage("color_jitter").params["brightness"] == 0.5
    assert comparison.diff() == ["color_jitter.brightness 0.9 → 0.5"]
    after = [
        [r for r in recs if r["op"] == "color_jitter"] for recs in model.last.batch.info.applied
    ]
    assert after == jitter_a
    with pytest.raises(ValueError, match="'A' or 'B'"):
        comparison.export("C")
    comparison.drop()
    assert not comparison.active


def test_parameter_diff_names_added_removed_switched_and_moved_stages(digits_root):
    a = op_model(digits_root).pipeline
    b = a.copy().remove("hflip").add("vflip", 1).enable("color_jitter", False)
    b.set_source(batch_size=4)
    assert parameter_diff(a, b) == [
        "batch_size 8 → 4", "+ vflip", "color_jitter off", "− hflip",
    ]  # fmt: skip
    c = a.copy().move("hflip", 1)
    assert parameter_diff(a, c)[-1].startswith("order read_images → hflip → random_resized_crop")


def test_load_after_export_shows_the_exported_grid(digits_root, tmp_path):
    model = op_model(digits_root)
    model.next_batch()
    model.new_draw()
    model.new_draw()
    shown = model.last.batch.x.copy()
    result = model.export(tmp_path / "specs" / "tuned")
    assert read_position(result.spec_path) == (0, 1)
    fresh = op_model(digits_root)
    fresh.load(result.spec_path)
    assert (fresh.epoch, fresh.batch_index, fresh.pipeline.augment_seed) == (0, 1, 2)
    np.testing.assert_array_equal(fresh.last.batch.x, shown)
    assert find_specs(tmp_path) == [result.spec_path.relative_to(tmp_path)]
    (tmp_path / "specs" / "tuned.lab.json").write_text(json.dumps({"epoch": -1}))
    with pytest.raises(ValueError, match="tuned.lab.json: not a lab position file"):
        fresh.load(result.spec_path)
    assert (fresh.epoch, fresh.batch_index) == (0, 1)  # the last good state


def test_tile_text_and_records_read_well():
    picture = tile(
        np.zeros((40, 40, 3), np.uint8), ["a very long class name 0.62 / other 0.38"], 48
    )
    assert picture.shape == (48 + 13, 48, 3) and picture[48:].min() < 128  # text drawn
    grid = grid_picture(np.zeros((2, 8, 8, 3), np.uint8), ["a\nb", "c"], "h", size=16)
    assert grid.shape[0] == 18 + 16 + 2 * 13 + 4  # two lines under every tile
    assert describe_record({"op": "color_jitter", "order": ["hue", "contrast"], "hue": 0.0123}) == (
        "color_jitter: order hue → contrast, hue 0.0123"
    )
