"""Pipeline.shard(index, count): disjoint, covering, the very batches of the whole pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from servers.trees import write_image_tree

import genlab

STAGES = [("read_images", {"target_size": (6, 6)}), ("augment", {"hflip": 0.5}), "shuffle_samples"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("shard_tree")
    write_image_tree(root, {"a": 8, "b": 7, "c": 4}, size=(8, 8))
    return genlab.Pipeline.from_folder(root, batch_size=3, seed=21, stages=STAGES)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 10])
def test_shards_are_disjoint_cover_the_epoch_and_equal_its_batches(pipeline, count):
    whole = {b.info.index: b for b in pipeline.iter_epoch(4)}
    seen_batches, seen_keys = [], []
    for index in range(count):
        part = pipeline.shard(index, count)
        batches = list(part.iter_epoch(4))
        assert len(batches) == len(part)
        for batch in batches:
            want = whole[batch.info.index]
            np.testing.assert_array_equal(batch.x, want.x)
            np.testing.assert_array_equal(batch.info.keys, want.info.keys)
            seen_batches.append(batch.info.index)
            seen_keys.extend(batch.info.keys.tolist())
    assert sorted(seen_batches) == list(range(len(pipeline)))
    assert sorted(seen_keys) == list(range(len(pipeline.index)))


def test_a_shard_is_stable_and_moves_on_per_epoch(pipeline):
    part = pipeline.shard(1, 3)
    first = [b.info.keys.tolist() for b in part.iter_epoch(0)]
    assert first == [b.info.keys.tolist() for b in pipeline.shard(1, 3).iter_epoch(0)]
    epochs = [[b.info.keys.tolist() for b in part] for _ in range(2)]
    assert epochs[0] == [b.info.keys.tolist() for b in part.iter_epoch(pipeline.epoch)]
    assert epochs[0] != epochs[1]
    assert part.report.samples == sum(len(k) for k in epochs[1])


def test_a_shard_round_trips_through_its_spec_and_repr(pipeline):
    part = pipeline.shard(2, 3)
    assert genlab.Pipeline.from_spec(part.to_spec()) == part
    assert repr(part).endswith(".shard(2, 3)")
    assert len(part) == len(range(2, len(pipeline), 3))


@pytest.mark.parametrize(
    "index, count, match",
    [
        (0, 0, "shard_count"),
        (2, 2, "shard_index"),
        (-1, 2, "shard_index"),
        (0.5, 2, "shard_index"),
        (0, True, "shard_count"),
    ],
)
def test_bad_shard_arguments_name_the_parameter(pipeline, index, count, match):
    with pytest.raises(ValueError, match=match):
        pipeline.shard(index, count)
